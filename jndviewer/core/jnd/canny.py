"""MATLAB-compatible Canny edge detector, ``edge(I, 'canny', T)``, for the pixel-wise JND models.

Everything here works on ``N x 1 x H x W`` float tensors on any device and reproduces MATLAB's edge maps bit for bit
(smoothed gradients, non-maximum suppression, hysteresis); the definition is in ``docs/jnd_models.md`` §1. The
shared padding and correlation operators come from :mod:`jndviewer.core.jnd.ops`, the compiled CPU passes from
:mod:`jndviewer.core.jnd.kernels`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from jndviewer.core.jnd import compiled
from jndviewer.core.jnd.definitions import (
    CANNY_LOW_RATIO,
    CANNY_MIN_MAGNITUDE,
    CANNY_SECTOR_RATIO_KINDS,
    CANNY_SECTOR_SIDES,
    CANNY_SECTORS,
    CANNY_SIGMA,
    canny_taps,
)
from jndviewer.core.jnd.numpy_models import connected_to_seeds
from jndviewer.core.jnd.ops import correlate_cols, correlate_rows, extend, just_below, nearest_sqrt_

Tensor = torch.Tensor


def canny_gradients(x: Tensor, sigma: float = CANNY_SIGMA) -> tuple[Tensor, Tensor]:
    """Smoothed gradients (GX along columns, GY along rows) with replicate extension, as MATLAB computes them.

    On the CPU (float32) each runs as one compiled separable correlation
    (:func:`jndviewer.core.jnd.kernels.separable_correlation`).
    """
    gauss, deriv = canny_taps(sigma)
    radius = len(gauss) // 2
    padded = extend(x, radius, radius, radius, radius, "replicate")
    if compiled.use_kernels(padded):  # grad_y sums down the columns last here; equal to float32 rounding
        from jndviewer.core.jnd import kernels

        return kernels.separable_correlation(padded, gauss, deriv), kernels.separable_correlation(padded, deriv, gauss)
    smoothed_along_y = correlate_cols(padded, gauss)
    grad_x = correlate_rows(smoothed_along_y, deriv)
    smoothed_along_x = correlate_rows(padded, gauss)
    grad_y = correlate_cols(smoothed_along_x, deriv)
    return grad_x, grad_y


def canny_sector_masks(ix: Tensor, iy: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Which of the four NMS sectors each gradient (ix, iy) falls in (MATLAB's exact conditions)."""
    return (
        ((iy <= 0) & (ix > -iy)) | ((iy >= 0) & (ix < -iy)),
        ((ix > 0) & (-iy >= ix)) | ((ix < 0) & (-iy <= ix)),
        ((ix <= 0) & (ix > iy)) | ((ix >= 0) & (ix < iy)),
        ((iy < 0) & (ix <= iy)) | ((iy > 0) & (ix >= iy)),
    )


def canny_weak_edges(
    grad_x: Tensor, grad_y: Tensor, magnitude: Tensor, peak: Tensor, low: Tensor
) -> tuple[Tensor, Tensor]:
    """MATLAB's Canny non-maximum suppression restricted to pixels above the low threshold (the weak edges).

    ``magnitude`` is the raw gradient magnitude; MATLAB first sets residue below :data:`CANNY_MIN_MAGNITUDE` to 0
    and divides by each image's ``peak`` (``N x 1 x 1 x 1``, 1 where an image has no gradient). Only pixels whose
    normalised magnitude exceeds ``low`` can become weak edges, so the normalisation and the interpolation run on
    those candidates alone, gathered by flat index; normalising a gathered value gives the same float as gathering a
    normalised one, so the result is MATLAB's bit for bit. The outermost rows and columns are never maxima. The
    interpolation is MATLAB's exact ``mag(a).*(1-d) + mag(b).*d`` (its rounding decides ties on plateaus, so
    ``torch.lerp`` is not used).

    Returns the sorted flat indices of the weak edges and their normalised magnitudes.
    """
    height, width = magnitude.shape[-2:]
    residue = just_below(CANNY_MIN_MAGNITUDE, magnitude)
    flat_magnitude = magnitude.reshape(-1)

    def per_image(values: Tensor, at: Tensor) -> Tensor:
        return _per_candidate(values, at, height * width)

    def gathered(flat: Tensor, at: Tensor) -> Tensor:
        return flat.index_select(0, at)  # about 1.7x faster than flat[at] for these 1-D gathers

    def normalised(values: Tensor, image_peak: Tensor) -> Tensor:
        return F.threshold(values, residue, 0.0).div_(image_peak)

    if compiled.use_kernels(magnitude):  # the same per pixel in one compiled pass
        from jndviewer.core.jnd import kernels

        weak = torch.zeros(magnitude.shape, dtype=torch.bool)
        kernels.set_threads()
        for image in range(magnitude.shape[0]):
            kernels.canny_weak_edges_rows(
                grad_x[image, 0].contiguous().numpy(), grad_y[image, 0].contiguous().numpy(),
                magnitude[image, 0].contiguous().numpy(), np.float32(peak.reshape(-1)[image]),
                np.float32(low.reshape(-1)[image]), np.float32(residue), CANNY_SECTOR_RATIO_KINDS, CANNY_SECTOR_SIDES,
                weak[image, 0].numpy(), kernels.TILE_ROWS,
            )  # fmt: skip
        index = _flat_nonzero(weak)
        return index, normalised(gathered(flat_magnitude, index), per_image(peak, index))
    # A superset of the candidates in one pass over the raw magnitudes; the exact test follows on the few kept.
    candidates = magnitude > low * peak * (1.0 - 1e-5)
    candidates[..., 0, :] = False
    candidates[..., -1, :] = False
    candidates[..., :, 0] = False
    candidates[..., :, -1] = False
    index = _flat_nonzero(candidates)
    value = normalised(gathered(flat_magnitude, index), per_image(peak, index))
    kept = _flat_nonzero(value > per_image(low, index))
    index, value = index.index_select(0, kept), value.index_select(0, kept)
    image_peak = per_image(peak, index)
    ix = gathered(grad_x.reshape(-1), index)
    iy = gathered(grad_y.reshape(-1), index)
    ratios = {"y/x": (iy / ix).abs_(), "x/y": (ix / iy).abs_()}
    complements = {key: 1.0 - ratio for key, ratio in ratios.items()}
    neighbour_cache: dict[tuple[int, int], Tensor] = {}

    def neighbour(offset: tuple[int, int]) -> Tensor:
        if offset not in neighbour_cache:
            at = index + (offset[0] * width + offset[1])
            neighbour_cache[offset] = normalised(gathered(flat_magnitude, at), image_peak)
        return neighbour_cache[offset]

    is_max = torch.zeros_like(value, dtype=torch.bool)
    for condition, (ratio_key, side1, side2) in zip(canny_sector_masks(ix, iy), CANNY_SECTORS, strict=True):
        ratio, complement = ratios[ratio_key], complements[ratio_key]
        in_sector = condition
        for first, second in (side1, side2):
            interpolated = torch.addcmul(neighbour(first) * complement, neighbour(second), ratio)
            in_sector = in_sector & (value >= interpolated)
        is_max |= in_sector
    kept = _flat_nonzero(is_max)
    return index.index_select(0, kept), value.index_select(0, kept)


def _per_candidate(values: Tensor, index: Tensor, plane: int) -> Tensor:
    """Each flat ``index``'s image's entry of an N-vector (images of ``plane`` pixels; a broadcast for one image)."""
    values = values.reshape(-1)
    return values.expand(index.shape[0]) if values.shape[0] == 1 else values[index // plane]


def _flat_nonzero(mask: Tensor) -> Tensor:
    """Flat int64 indices of the true entries of a bool tensor, ascending (NumPy's on the CPU: about 2x faster)."""
    if mask.device.type == "cpu":
        return torch.from_numpy(np.flatnonzero(mask.reshape(-1).numpy()))
    return mask.reshape(-1).nonzero().squeeze(1)


def seeded_components_map(index: Tensor, seeds: Tensor, shape: Sequence[int]) -> Tensor:
    """Bool maps of ``shape`` with the pixels at sorted flat ``index`` that :func:`connected_to_seeds` keeps."""
    kept = connected_to_seeds(index.cpu().numpy(), seeds.cpu().numpy(), shape)
    out = torch.zeros(math.prod(shape), dtype=torch.bool, device=index.device)
    out[index[torch.from_numpy(kept).to(index.device)]] = True
    return out.reshape(tuple(shape))


def hysteresis(weak: Tensor, strong: Tensor, method: Literal["auto", "sparse", "iterate"] = "auto") -> Tensor:
    """Keep the 8-connected components of ``weak`` that contain a ``strong`` pixel (MATLAB ``bwselect(...,8)``).

    ``sparse`` labels the components of the weak pixels with :func:`connected_to_seeds` on the CPU; ``iterate``
    grows the strong set inside the weak set by 3x3 max-pooling until it stops changing (device-resident, used on
    GPUs). Both are exact.
    """
    if method == "auto":
        method = "iterate" if weak.device.type != "cpu" else "sparse"
    if method == "sparse":
        index = _flat_nonzero(weak)
        return seeded_components_map(index, strong.reshape(-1)[index], weak.shape)
    grown = (strong & weak).to(torch.float16 if weak.device.type != "cpu" else torch.float32)
    weak_f = weak.to(grown.dtype)
    while True:
        previous = grown
        for _ in range(16):
            grown = F.max_pool2d(grown, 3, stride=1, padding=1) * weak_f
        if torch.equal(grown, previous):
            return grown.bool()


def canny_matlab(
    x: Tensor,
    threshold: Tensor | float,
    sigma: float = CANNY_SIGMA,
    method: Literal["auto", "sparse", "iterate"] = "auto",
) -> Tensor:
    """MATLAB ``edge(I, 'canny', T)`` on each image of the batch; returns a bool edge map.

    ``threshold`` is the high threshold relative to the largest gradient magnitude of each image (a float or an
    ``N``-vector); the low threshold is 0.4 of it (MATLAB's ``ThresholdRatio``). Flat areas leave floating-point
    residue (~1e-5 in float32) that the max-normalisation would turn into edges; it counts as 0. ``method`` is the
    hysteresis's (:func:`hysteresis`; ``auto``: sparse labelling on the CPU, iteration on other devices).
    """
    grad_x, grad_y = canny_gradients(x, sigma)
    magnitude = nearest_sqrt_(torch.addcmul(grad_x * grad_x, grad_y, grad_y))
    peak = magnitude.amax(dim=(-1, -2, -3), keepdim=True)
    peak = torch.where(peak > just_below(CANNY_MIN_MAGNITUDE, peak), peak, torch.ones_like(peak))
    high = torch.as_tensor(threshold, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1).expand_as(peak)
    index, value = canny_weak_edges(grad_x, grad_y, magnitude, peak, high * CANNY_LOW_RATIO)
    strong = value > _per_candidate(high, index, x.shape[-1] * x.shape[-2])
    if method == "auto":
        method = "sparse" if x.device.type == "cpu" else "iterate"
    if method == "sparse":
        return seeded_components_map(index, strong, x.shape)
    weak_map = torch.zeros(x.numel(), dtype=torch.bool, device=x.device)
    weak_map[index] = True
    seed_map = torch.zeros_like(weak_map)
    seed_map[index[strong]] = True
    return hysteresis(weak_map.reshape(x.shape), seed_map.reshape(x.shape), method="iterate")
