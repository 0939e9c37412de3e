"""Wu et al. (2017) enhanced JND with pattern complexity.

J. Wu, L. Li, W. Dong, G. Shi, W. Lin, C.-C. J. Kuo, "Enhanced just noticeable difference model for images with
pattern complexity," IEEE TIP 26(6):2682-2693, 2017. Follows the authors' released MATLAB
(``func_JND_modeling_pattern_complexity.m``); the step-by-step definition is docs/jnd_models.md §5.
"""

from __future__ import annotations

import math

import torch

from jndviewer.core.catalog import JND_MODEL_TITLES
from jndviewer.core.jnd import canny, compiled, ops
from jndviewer.core.jnd.base import JNDModel
from jndviewer.core.jnd.definitions import (
    COMPLEXITY_BLUR,
    CONTRAST_WINDOW,
    EDGE_DILATION_RADIUS,
    EDGE_PROTECTION_BLUR,
    ORIENTATION_BIN_DEGREES,
    ORIENTATION_MIN_GRADIENT,
    PLAIN_BIN,
    Wu2017Params,
)
from jndviewer.core.jnd.numpy_models import popcount, zero_frame

Tensor = torch.Tensor


def orientation_bits(luma: Tensor) -> tuple[Tensor, Tensor]:
    """Quantised gradient orientation of each pixel as one set bit, and where the image is not plain.

    Returns ``(bits, textured)``: ``bits`` (int32) is ``1 << q`` with q = round(theta / 12) in 0..15 for pixels whose
    gradient reaches 5 gray levels and q = 16 for plain pixels; ``textured`` is 1.0 / 0.0 for the two cases.
    theta is the gradient angle in whole degrees folded into [0, 180] as the reference code folds it.
    """
    padded = ops.extend(luma, 1, 1, 1, 1, "replicate")  # symmetric by one pixel is the same as replicate
    height, width = luma.shape[-2:]
    # Unscaled sums of differences, 3 Gx and 3 Gy of the kernels [-1 0 1; -1 0 1; -1 0 1] / 3 and its transpose:
    # |G| >= 5 is tested exactly as Sx^2 + Sy^2 >= 225 (integer images often sit exactly on 5).
    ones = [1.0] * 3
    horizontal_difference = padded[..., :, 2 : 2 + width] - padded[..., :, 0:width]
    vertical_difference = padded[..., 2 : 2 + height, :] - padded[..., 0:height, :]
    sum_x = ops.correlate_cols(horizontal_difference, ones)
    sum_y = ops.correlate_rows(vertical_difference, ones)
    squared_magnitude = torch.addcmul(sum_x * sum_x, sum_y, sum_y)
    textured = ops.indicator_at_least(squared_magnitude, (3.0 * ORIENTATION_MIN_GRADIENT) ** 2)
    degrees = ops.round_half_away(torch.atan2(sum_y, sum_x).mul_(180.0 / math.pi))  # whole degrees, -180..180
    # theta > 90 -> theta - 180 and theta < -90 -> theta + 180; for whole degrees clamp(theta - 90, 0, 1) is 1
    # exactly when theta > 90, so no comparison is needed.
    folded = degrees - (degrees - 90.0).clamp_(0.0, 1.0).mul_(180.0)
    folded.add_((-90.0 - degrees).clamp_(0.0, 1.0), alpha=180.0)
    # q = round((folded + 90) / 12) with halves up = floor((folded + 96) / 12); + 0.5 keeps multiples of 12 clear of
    # the floor's edge whatever the division rounds to.
    half_bin = ORIENTATION_BIN_DEGREES / 2.0
    bins = folded.add_(90.0 + half_bin + 0.5).div_(float(ORIENTATION_BIN_DEGREES)).floor_()
    bins = bins.sub_(PLAIN_BIN).mul_(textured).add_(PLAIN_BIN)
    return torch.exp2(bins).to(torch.int32), textured


def orientation_complexity(bits: Tensor, textured: Tensor, zero_mode: bool) -> Tensor:
    """Number of distinct orientation bins among each pixel and its 8 neighbours (1..9), Eq. 6, as floats.

    Plain pixels count as one extra bin for their neighbours and have complexity 1 themselves; neighbours beyond the
    border repeat the border (``zero`` mode: the 1-px frame is 1, as in the reference). The 3x3 neighbourhood's bits
    are OR-ed together and counted.
    """
    padded = torch.cat([bits[..., :1, :], bits, bits[..., -1:, :]], dim=-2)
    padded = torch.cat([padded[..., :, :1], padded, padded[..., :, -1:]], dim=-1)
    height, width = bits.shape[-2:]
    if compiled.use_kernels(textured):  # the same in one compiled pass
        from jndviewer.core.jnd import kernels

        count = torch.empty_like(textured)
        kernels.set_threads()
        for image in range(bits.shape[0]):
            kernels.orientation_count_rows(
                padded[image, 0].contiguous().numpy(), textured[image, 0].contiguous().numpy(),
                count[image, 0].numpy(), kernels.TILE_ROWS,
            )  # fmt: skip
        return zero_frame(count, 1, 1.0) if zero_mode else count
    union = padded[..., 1 : 1 + height, 1 : 1 + width].clone()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                union |= padded[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
    count = popcount(union).to(textured.dtype)
    count = count.sub_(1.0).mul_(textured).add_(1.0)
    if zero_mode:
        zero_frame(count, 1, 1.0)
    return count


def edge_height(luma: Tensor, border: str, padded: Tensor | None = None) -> Tensor:
    """Chou's maximal weighted gradient used as edge height; ``zero`` mode mirrors its interior over the 2-px frame."""
    mg = ops.max_weighted_gradient(luma, border, padded)
    if border == "zero":
        mg = ops.extend(mg[..., 2:-2, 2:-2], 2, 2, 2, 2, "symmetric")
    return mg


def edge_height_peak(luma: Tensor, border: str, rows: int = 180) -> Tensor:
    """Each image's largest :func:`edge_height` (an ``N`` vector), computed ``rows`` rows at a time.

    The map itself is never needed whole, and on strips it stays in the cache: at 1920x1080 (2 threads) 8.8 ms
    against 22.5 ms for the whole map's maximum (interleaved runs, median of 20). In ``zero`` mode the 2-px frame
    only mirrors the interior, so the peak is the interior's.
    """
    height, width = luma.shape[-2:]
    frame = 2 if border == "zero" else 0
    padded = ops.extend(luma, 2, 2, 2, 2, border)
    peak: Tensor | None = None
    for y0 in range(frame, height - frame, rows):
        y1 = min(height - frame, y0 + rows)
        strip = ops.max_weighted_gradient(luma[..., y0:y1, :], border, padded[..., y0 : y1 + 4, :])
        strip_peak = strip[..., frame : width - frame].amax(dim=(-1, -2, -3))
        peak = strip_peak if peak is None else torch.maximum(peak, strip_peak)
    assert peak is not None
    return peak


class Wu2017(JNDModel):
    """Wu et al. 2017: luminance adaptation and visual masking (contrast and pattern masking) combined by NAMM."""

    name = "wu2017"
    title = JND_MODEL_TITLES[name]
    citation = "J. Wu, L. Li, W. Dong, G. Shi, W. Lin, C.-C. J. Kuo, IEEE TIP 26(6):2682-2693, 2017"
    params_type = Wu2017Params
    component_names = (
        "luminance_adaptation",
        "contrast_masking",
        "pattern_complexity",
        "pattern_masking",
        "edge_protection",
        "visual_masking",
    )
    #: Edge protection reaches furthest: the dilation by disk(3), then the 5x5 blur.
    local_radius = EDGE_DILATION_RADIUS + EDGE_PROTECTION_BLUR[0] // 2

    def prepare(self, luma: Tensor) -> dict[str, Tensor]:
        """Canny edges need the whole image: their threshold is relative to the image's largest edge height."""
        p: Wu2017Params = self.params
        peak = edge_height_peak(luma, p.border)
        canny_threshold = (p.edge_height / peak).clamp_(max=p.max_canny_threshold)  # 60 / 0 = inf -> 0.8
        return {"edges": canny.canny_matlab(luma, canny_threshold)}

    def compute(self, luma: Tensor, edges: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        p: Wu2017Params = self.params
        zero_mode = p.border == "zero"
        padded = ops.extend(luma, 2, 2, 2, 2, p.border)
        luminance_adaptation = ops.remapped_luminance_adaptation(luma, p.border, padded).mul_(p.luminance_scale)

        luminance_contrast = ops.local_std(luma, CONTRAST_WINDOW, p.border, padded)
        if zero_mode:
            zero_frame(luminance_contrast, CONTRAST_WINDOW // 2)
        contrast_masking = ops.power(luminance_contrast, 2.4).mul_(p.contrast_gain)
        contrast_masking.div_(luminance_contrast.square().add_(p.contrast_knee**2))

        count = orientation_complexity(*orientation_bits(luma), zero_mode)
        pattern_complexity = ops.gaussian_blur(count, *COMPLEXITY_BLUR, p.border)
        complexity_transducer = ops.power(pattern_complexity, p.complexity_exponent).mul_(p.complexity_gain)
        complexity_transducer.div_(pattern_complexity.square().add_(p.complexity_offset**2))
        pattern_masking = luminance_contrast * complexity_transducer

        dilated = ops.dilate_disk(edges, EDGE_DILATION_RADIUS)
        edge_protection = ops.gaussian_blur(1.0 - dilated.to(luma.dtype), *EDGE_PROTECTION_BLUR, p.border)
        pattern_masking.mul_(edge_protection)

        visual_masking = torch.maximum(contrast_masking, pattern_masking)
        threshold = ops.namm(luminance_adaptation, visual_masking, p.overlap)
        return threshold, {
            "luminance_adaptation": luminance_adaptation,
            "contrast_masking": contrast_masking,
            "pattern_complexity": pattern_complexity,
            "pattern_masking": pattern_masking,
            "edge_protection": edge_protection,
            "visual_masking": visual_masking,
        }
