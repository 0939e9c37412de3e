"""SG-JND's patches: where they lie in an image, how they are cropped and shown to the backbone, and each patch's
subband visibility (the heads' calibrated low-level evidence)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from jndviewer.core.image import LUMA_WEIGHTS
from jndviewer.core.pwjnd.sgjnd.config import (
    PATCH_VISIBILITY_FLOOR,
    PATCH_VISIBILITY_INPUTS,
    RGB_TO_YCBCR,
    SGJNDConfig,
)
from jndviewer.core.viewing import ViewingCondition

Tensor = torch.Tensor


def patch_positions(height: int, width: int, config: SGJNDConfig) -> list[tuple[int, int]]:
    """The ``(top, left)`` of each patch of a ``height x width`` image in the configured ``patch_layout``."""
    if config.patch_layout == "tiles":
        return tile_positions(height, width, config.patch, config.patches)
    return covering_positions(height, width, config.patch, config.patches)


def covering_positions(height: int, width: int, patch: int, count: int) -> list[tuple[int, int]]:
    """A rows x columns grid of patches from edge to edge, row by row; at most ``count`` patches.

    The grid that covers the image needs ``ceil(height / patch) x ceil(width / patch)`` patches, spaced evenly so
    that the first and the last touch the edges (neighbours overlap by less than a patch). When that is more than
    ``count``, a coarser grid with about the image's aspect is spread the same way, with gaps between patches.
    """
    rows, cols = max(1, math.ceil(height / patch)), max(1, math.ceil(width / patch))
    if rows * cols > count:
        fewer_rows = min(rows, max(1, round(math.sqrt(count * rows / cols))))
        rows, cols = fewer_rows, max(1, min(cols, count // fewer_rows))
    tops = np.linspace(0, max(0, height - patch), rows).round().astype(int)
    lefts = np.linspace(0, max(0, width - patch), cols).round().astype(int)
    return [(int(top), int(left)) for top in tops for left in lefts]


def tile_positions(height: int, width: int, patch: int, count: int) -> list[tuple[int, int]]:
    """``count`` non-overlapping patch positions spread evenly over the image (all tiles if there are fewer)."""
    rows, cols = max(1, height // patch), max(1, width // patch)
    top0, left0 = max(0, (height - rows * patch) // 2), max(0, (width - cols * patch) // 2)  # small: padded
    tiles = [(top0 + r * patch, left0 + c * patch) for r in range(rows) for c in range(cols)]
    if len(tiles) <= count:
        return tiles
    picks = np.linspace(0, len(tiles) - 1, count).round().astype(int)
    return [tiles[i] for i in picks]


def crop_patches(rgb: np.ndarray, positions: list[tuple[int, int]], patch: int) -> Tensor:
    """N x 3 x P x P float patches in [0, 1] (images smaller than a patch are padded by edge replication)."""
    height, width = rgb.shape[:2]
    if height < patch or width < patch:
        rgb = np.pad(rgb, ((0, max(0, patch - height)), (0, max(0, patch - width)), (0, 0)), mode="edge")
    crops = np.stack([rgb[t : t + patch, s : s + patch] for t, s in positions])
    return torch.from_numpy(crops.astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def subsample_chroma_420(patches: Tensor) -> Tensor:
    """Reduce the chroma of N x 3 x P x P RGB patches in [0, 1] to 4:2:0 resolution, as a JPEG/JFIF codec does.

    Cb and Cr (full-range BT.601) are averaged over 2x2 blocks and brought back by bilinear interpolation, which is
    libjpeg's "fancy" triangle upsampling (3/4 of the nearer and 1/4 of the farther sample, edges repeated); luma is
    untouched. Odd sides repeat their last row or column.
    """
    matrix = torch.tensor(RGB_TO_YCBCR, dtype=patches.dtype)
    ycbcr = torch.einsum("ij,njhw->nihw", matrix, patches)
    height, width = patches.shape[-2:]
    chroma = ycbcr[:, 1:]
    if height % 2 or width % 2:
        chroma = F.pad(chroma, (0, width % 2, 0, height % 2), mode="replicate")
    chroma = F.avg_pool2d(chroma, 2)
    chroma = F.interpolate(chroma, scale_factor=2, mode="bilinear", align_corners=False)[..., :height, :width]
    rgb = torch.einsum("ij,njhw->nihw", torch.linalg.inv(matrix), torch.cat([ycbcr[:, :1], chroma], dim=1))
    return rgb.clamp_(0.0, 1.0)


def reference_patches(rgb: np.ndarray, positions: list[tuple[int, int]], config: SGJNDConfig) -> Tensor:
    """The reference's patches as the backbone sees them (:func:`crop_patches`, then :func:`backbone_reference`)."""
    return backbone_reference(crop_patches(rgb, positions, config.patch), config)


def backbone_reference(patches: Tensor, config: SGJNDConfig) -> Tensor:
    """Cropped reference patches with the configured chroma (``reference_chroma``)."""
    return subsample_chroma_420(patches) if config.reference_chroma == "420" else patches


def patch_luma(patches: Tensor) -> Tensor:
    """N x 1 x P x P luma in gray levels (0-255, BT.601 weights) of N x 3 x P x P RGB patches in [0, 1]."""
    weights = torch.tensor(LUMA_WEIGHTS, dtype=patches.dtype, device=patches.device).view(1, 3, 1, 1)
    return (patches * weights).sum(dim=1, keepdim=True).mul_(255.0)


class PatchVisibility:
    """Each patch's subband visibility: the training-free predictor's low-level evidence, pooled per patch.

    The subband model (:mod:`jndviewer.core.visibility.subband`: band-limited contrast, CSF, luminance and contrast
    masking) runs on every reference patch at the viewing condition (its pixels per degree set the bands'
    frequencies, so a farther viewer sees less of the distortion, as the training-free predictor does); a distorted
    patch's map ``V`` is pooled as that predictor pools a whole image (Minkowski, exponent 2), and the heads read
    ``log(floor + score)``. The semantic features alone carried a shift from the training images to Kodak (JPEG bias
    +3.5 levels, while the subband predictor's was +0.1); this gives the heads evidence that is calibrated in
    threshold units. Training computes it at the labels' condition (``TRAINING_CONDITION``, 38 ppd).
    """

    inputs = PATCH_VISIBILITY_INPUTS

    def __init__(self, reference_patches: Tensor, condition: ViewingCondition) -> None:
        from jndviewer.core.visibility.subband import SubbandVisibility

        self.condition = condition
        self.model = SubbandVisibility(patch_luma(reference_patches.float()), condition)

    def __call__(self, distorted_patches: Tensor) -> Tensor:
        """Rows x 1: ``log(floor + sqrt(mean V^2))`` per patch."""
        visibility = self.model.visibility(patch_luma(distorted_patches.float()))
        score = visibility.square().mean(dim=(1, 2, 3)).sqrt()
        return torch.log(score + PATCH_VISIBILITY_FLOOR)[:, None]


@dataclass
class PatchReport:
    """SG-JND's patches of one distorted version: where they are, their weights and their quality logits.

    ``positions`` are ``(top, left)`` in image pixels, each patch ``patch`` pixels square; ``weights`` are normalised
    (they sum to 1); ``quality[i] > 0`` means the distortion is predicted visible in patch ``i``; ``logit`` is the
    weighted image logit (> 0: visible at this level). A predictor of several networks (a VP-JNDnet ensemble) reports
    the mean of their weights, of their quality logits and of their image logits (which is not the mean weights
    times the mean qualities) and, in ``member_logits``, each network's image logit.
    """

    key: tuple[Any, ...]
    level: int
    positions: list[tuple[int, int]]
    patch: int
    weights: list[float]
    quality: list[float]
    logit: float
    seconds: float = 0.0
    member_logits: list[float] = field(default_factory=list)

    def cells(self) -> list[tuple[float, float, float, float]]:
        """Each patch's cell on screen, ``(top, left, height, width)``: the patch itself, except that where two
        neighbouring patches of the grid overlap, the overlap is split at its middle, so the cells tile the covered
        image and every point belongs to one patch."""
        rows = _axis_cells([top for top, _ in self.positions], self.patch)
        cols = _axis_cells([left for _, left in self.positions], self.patch)
        cells = []
        for top, left in self.positions:
            (row_start, row_end), (col_start, col_end) = rows[top], cols[left]
            cells.append((row_start, col_start, row_end - row_start, col_end - col_start))
        return cells

    def index_at(self, x: float, y: float) -> int | None:
        """The patch whose cell holds image point (x, y), or None."""
        for index, (top, left, height, width) in enumerate(self.cells()):
            if left <= x < left + width and top <= y < top + height:
                return index
        return None

    def describe(self, index: int) -> str:
        """One line about a patch, numbered from 1: ``patch 5: weight 0.143, quality +1.20 (visible)``."""
        quality = self.quality[index]
        verdict = "visible" if quality > 0 else "not visible"
        return f"patch {index + 1}: weight {self.weights[index]:.3f}, quality {quality:+.2f} ({verdict})"


def _axis_cells(starts: list[int], patch: int) -> dict[int, tuple[float, float]]:
    """Start and end of each distinct patch start along one axis, overlaps with the neighbours split in the middle."""
    ordered = sorted(set(starts))
    cells = {}
    for index, start in enumerate(ordered):
        low, high = float(start), float(start + patch)
        if index > 0 and ordered[index - 1] + patch > start:
            low = (start + ordered[index - 1] + patch) / 2
        if index + 1 < len(ordered) and ordered[index + 1] < start + patch:
            high = (ordered[index + 1] + start + patch) / 2
        cells[start] = (low, high)
    return cells
