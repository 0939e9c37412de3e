"""Building blocks shared by the pixel-wise JND models.

Everything here works on ``N x 1 x H x W`` float tensors on any device. The definitions (and which reference code
each one reproduces) are in ``docs/jnd_models.md`` §1; constants are cited where they are defined. The
MATLAB-compatible Canny edge detector built on these operators is in :mod:`jndviewer.core.jnd.canny`.

Speed note: on the CPU, PyTorch's ``conv2d`` with a single input channel is about ten times slower than adding
shifted views of a padded tensor (measured at 1920x1080 with 2 threads: 5x5 kernel 54 ms vs 5 ms), so small
kernels are applied as shift-and-add on the CPU and as ``conv2d`` (cuDNN) on CUDA. Both paths compute the same
correlation; ``tests/core/test_jnd_ops.py`` checks them against each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from jndviewer.core.errors import ModelError
from jndviewer.core.jnd import compiled
from jndviewer.core.jnd.definitions import (
    BACKGROUND_KERNEL,
    BACKGROUND_KERNEL_SUM,
    CM_ALPHA_INTERCEPT,
    CM_ALPHA_SLOPE,
    CM_BETA_SLOPE,
    CM_LAMBDA,
    DARK_REMAP_MIN_LUMINANCE,
    GRADIENT_KERNEL_SCALE,
    GRADIENT_KERNELS,
    LA_GAMMA,
    LA_KNEE,
    LA_T0,
    NAMM_OVERLAP,
    disk_row_half_widths,
    gaussian_taps,
)

Tensor = torch.Tensor
BorderMode = Literal["replicate", "zero"]
Extension = Literal["replicate", "zero", "symmetric"]

# ---------------------------------------------------------------------------------------------------------------
# Padding and correlation
# ---------------------------------------------------------------------------------------------------------------


def extend(x: Tensor, top: int, bottom: int, left: int, right: int, mode: Extension) -> Tensor:
    """Extend ``x`` (N x C x H x W) beyond its border.

    ``symmetric`` is MATLAB's ``padarray(..., 'symmetric')``: an edge-inclusive mirror (... b a | a b ...), which is
    *not* ``F.pad(mode='reflect')``.
    """
    if top == bottom == left == right == 0:
        return x
    if mode == "zero":
        return F.pad(x, (left, right, top, bottom))
    if mode == "replicate":
        return F.pad(x, (left, right, top, bottom), mode="replicate")
    if mode == "symmetric":
        height, width = x.shape[-2:]
        if max(top, bottom) > height or max(left, right) > width:
            raise ModelError("The image is too small for the symmetric extension this model needs.")
        parts = [x[..., :, :left].flip(-1), x, x[..., :, width - right :].flip(-1)]
        x = torch.cat([p for p in parts if p.shape[-1]], dim=-1)
        parts = [x[..., :top, :].flip(-2), x, x[..., height - bottom :, :].flip(-2)]
        return torch.cat([p for p in parts if p.shape[-2]], dim=-2)
    raise ModelError(f"Unknown extension mode {mode!r}.")


def _as_kernel(kernel: Sequence[Sequence[float]] | np.ndarray | Tensor) -> np.ndarray:
    if isinstance(kernel, Tensor):
        return kernel.detach().cpu().double().numpy()
    return np.asarray(kernel, dtype=np.float64)


def _use_conv(x: Tensor) -> bool:
    return x.device.type != "cpu"


def correlate_padded(padded: Tensor, kernel: Sequence[Sequence[float]] | np.ndarray, scale: float = 1.0) -> Tensor:
    """'valid' correlation of an already extended tensor with a small 2-D kernel, times ``scale``.

    The output has shape ``H_p - kh + 1`` by ``W_p - kw + 1``.
    """
    weights = _as_kernel(kernel) * scale
    kh, kw = weights.shape
    out_h, out_w = padded.shape[-2] - kh + 1, padded.shape[-1] - kw + 1
    if _use_conv(padded):
        weight = torch.as_tensor(weights, dtype=padded.dtype, device=padded.device)
        return F.conv2d(padded, weight.view(1, 1, kh, kw))
    acc: Tensor | None = None
    for i in range(kh):
        for j in range(kw):
            w = float(weights[i, j])
            if w == 0.0:
                continue
            view = padded[..., i : i + out_h, j : j + out_w]
            if acc is None:
                acc = view * w
            else:
                acc.add_(view, alpha=w)
    if acc is None:
        return padded.new_zeros((*padded.shape[:-2], out_h, out_w))
    return acc


def correlate(
    x: Tensor, kernel: Sequence[Sequence[float]] | np.ndarray, border: Extension, scale: float = 1.0
) -> Tensor:
    """'same' correlation of ``x`` with an odd-sized 2-D kernel (MATLAB ``filter2``/``imfilter`` for ``zero``)."""
    weights = _as_kernel(kernel)
    rh, rw = weights.shape[0] // 2, weights.shape[1] // 2
    return correlate_padded(extend(x, rh, rh, rw, rw, border), weights, scale)


def correlate_rows(padded: Tensor, taps: Sequence[float]) -> Tensor:
    """'valid' 1-D correlation along the last axis (x) with ``taps``."""
    return correlate_padded(padded, np.asarray(taps, dtype=np.float64)[None, :])


def correlate_cols(padded: Tensor, taps: Sequence[float]) -> Tensor:
    """'valid' 1-D correlation along the second-to-last axis (y) with ``taps``."""
    return correlate_padded(padded, np.asarray(taps, dtype=np.float64)[:, None])


def correlate_separable(
    x: Tensor, column_taps: Sequence[float], row_taps: Sequence[float], border: Extension
) -> Tensor:
    """'same' correlation with the separable kernel ``outer(column_taps, row_taps)`` (both of odd length)."""
    rh, rw = len(column_taps) // 2, len(row_taps) // 2
    padded = extend(x, rh, rh, rw, rw, border)
    if compiled.use_kernels(padded):
        from jndviewer.core.jnd import kernels

        return kernels.separable_correlation(padded, column_taps, row_taps)
    return correlate_rows(correlate_cols(padded, column_taps), row_taps)


def _sum_along(t: Tensor, size: int, dim: int) -> Tensor:
    """'valid' running sum of ``size`` consecutive entries along ``dim``, by doubling (about log2(size) + 1 adds)."""
    length = t.shape[dim] - size + 1
    partial: dict[int, Tensor] = {1: t}
    span = 1
    while span * 2 <= size:
        previous = partial[span]
        n = previous.shape[dim] - span
        partial[span * 2] = previous.narrow(dim, 0, n) + previous.narrow(dim, span, n)
        span *= 2
    total: Tensor | None = None
    start = 0
    for span in sorted(partial, reverse=True):
        if size - start >= span:
            piece = partial[span].narrow(dim, start, length)
            total = piece.clone() if total is None else total.add_(piece)
            start += span
    assert total is not None
    return total


def window_sum_valid(padded: Tensor, size: int) -> Tensor:
    """'valid' sum over ``size x size`` windows of an already extended tensor."""
    if _use_conv(padded):
        ones = torch.ones(1, 1, size, size, dtype=padded.dtype, device=padded.device)
        return F.conv2d(padded, ones)
    return _sum_along(_sum_along(padded, size, -2), size, -1)


def window_sum(x: Tensor, size: int, border: Extension) -> Tensor:
    """Sum over the ``size x size`` window centred on each pixel."""
    radius = size // 2
    return window_sum_valid(extend(x, radius, radius, radius, radius, border), size)


def window_mean(x: Tensor, size: int, border: Extension) -> Tensor:
    """Mean over the ``size x size`` window (MATLAB ``imfilter(x, ones(n)/n^2)`` for ``zero``)."""
    return window_sum(x, size, border).mul_(1.0 / (size * size))


def local_std(x: Tensor, size: int, border: Extension, padded: Tensor | None = None) -> Tensor:
    """Population standard deviation over the ``size x size`` window: sqrt(max(E[x^2] - E[x]^2, 0)).

    ``padded`` may be ``x`` already extended by at least ``size // 2`` on every side (the centre part is used).
    """
    radius = size // 2
    if padded is None:
        padded = extend(x, radius, radius, radius, radius, border)
    else:
        excess = (padded.shape[-1] - x.shape[-1]) // 2 - radius
        if excess:
            padded = padded[..., excess:-excess, excess:-excess]
    scale = 1.0 / (size * size)
    mean = window_sum_valid(padded, size).mul_(scale)
    mean_of_squares = window_sum_valid(padded * padded, size).mul_(scale)
    return nearest_sqrt_(mean_of_squares.sub_(mean.square_()).clamp_(min=0.0))


def gaussian_blur(x: Tensor, size: int, sigma: float, border: Extension) -> Tensor:
    """``imfilter(x, fspecial('gaussian', size, sigma))`` with the given extension."""
    taps = gaussian_taps(size, sigma)
    return correlate_separable(x, taps, taps, border)


# ---------------------------------------------------------------------------------------------------------------
# Chou & Li 1995 quantities
# ---------------------------------------------------------------------------------------------------------------


def background_luminance(x: Tensor, border: Extension, padded: Tensor | None = None) -> Tensor:
    """Mean background luminance ``filt(x, B) / 32`` (Chou & Li 1995, Eq. 9).

    Uses B = ones(5x5) + ones(3x3) - 2 delta: two separable window sums replace the 25-tap kernel. ``padded`` may be
    ``x`` already extended by 2 pixels (shared with :func:`max_weighted_gradient`).
    """
    if padded is None:
        padded = extend(x, 2, 2, 2, 2, border)
    if _use_conv(padded):
        weight = torch.tensor(BACKGROUND_KERNEL, dtype=padded.dtype, device=padded.device)
        return F.conv2d(padded, weight.view(1, 1, 5, 5)) / BACKGROUND_KERNEL_SUM
    if compiled.use_kernels(padded):
        from jndviewer.core.jnd import kernels

        return kernels.chou_field(padded, kernels.BACKGROUND)
    height, width = x.shape[-2:]
    rows3 = padded[..., 1 : 1 + height, :] + padded[..., 2 : 2 + height, :]
    rows3.add_(padded[..., 3 : 3 + height, :])
    rows5 = rows3 + padded[..., 0:height, :]
    rows5.add_(padded[..., 4 : 4 + height, :])
    total = rows3[..., 1 : 1 + width] + rows3[..., 2 : 2 + width]
    total.add_(rows3[..., 3 : 3 + width])
    inner_and_outer = rows5[..., 0:width] + rows5[..., 4 : 4 + width]
    for j in (1, 2, 3):
        inner_and_outer.add_(rows5[..., j : j + width])
    return total.add_(inner_and_outer).sub_(x, alpha=2.0).mul_(1.0 / BACKGROUND_KERNEL_SUM)


def max_weighted_gradient(x: Tensor, border: Extension, padded: Tensor | None = None) -> Tensor:
    """``mg = max_k |filt(x, G_k)| / 16`` (Chou & Li 1995, Eq. 7-8).

    On the CPU the four operators share work: G1 and G4 are separable (``[0,1,0,-1,0]`` times ``[1,3,8,3,1]``), and
    ``max(|G2 x|, |G3 x|) = (|(G2+G3) x| + |(G2-G3) x|) / 2`` where G2+G3 and G2-G3 reuse G1's row difference and
    G4's column difference.
    """
    if padded is None:
        padded = extend(x, 2, 2, 2, 2, border)
    if _use_conv(padded):
        weight = torch.tensor(GRADIENT_KERNELS, dtype=padded.dtype, device=padded.device).unsqueeze(1)
        grads = F.conv2d(padded, weight * GRADIENT_KERNEL_SCALE)
        return grads.abs().amax(dim=1, keepdim=True)
    if compiled.use_kernels(padded):
        from jndviewer.core.jnd import kernels

        return kernels.chou_field(padded, kernels.GRADIENT)
    height, width = x.shape[-2:]
    # Row difference V(y, x') = P(y+1, x') - P(y+3, x'), over the padded width.
    row_difference = padded[..., 1 : 1 + height, :] - padded[..., 3 : 3 + height, :]
    outer = row_difference[..., 0:width] + row_difference[..., 4 : 4 + width]
    inner = row_difference[..., 1 : 1 + width] + row_difference[..., 3 : 3 + width]
    centre = row_difference[..., 2 : 2 + width]
    g1 = torch.add(outer, inner, alpha=3.0).add_(centre, alpha=8.0)  # 16 G1
    half_sum = padded[..., 0:height, 2 : 2 + width] - padded[..., 4 : 4 + height, 2 : 2 + width]
    half_sum.add_(inner, alpha=4.0).add_(centre, alpha=3.0)  # 16 (G2 + G3) / 2
    # Column difference C(y', x) = P(y', x+1) - P(y', x+3), over the padded height.
    column_difference = padded[..., :, 1 : 1 + width] - padded[..., :, 3 : 3 + width]
    outer = column_difference[..., 0:height, :] + column_difference[..., 4 : 4 + height, :]
    inner = column_difference[..., 1 : 1 + height, :] + column_difference[..., 3 : 3 + height, :]
    centre = column_difference[..., 2 : 2 + height, :]
    g4 = torch.add(outer, inner, alpha=3.0).add_(centre, alpha=8.0)  # 16 G4
    half_difference = padded[..., 2 : 2 + height, 0:width] - padded[..., 2 : 2 + height, 4 : 4 + width]
    half_difference.add_(inner, alpha=4.0).add_(centre, alpha=3.0)  # 16 (G2 - G3) / 2
    result = torch.maximum(g1.abs_(), g4.abs_())
    torch.maximum(result, half_sum.abs_().add_(half_difference.abs_()), out=result)
    return result.mul_(GRADIENT_KERNEL_SCALE)


def luminance_adaptation_curve(bg: Tensor) -> Tensor:
    """Visibility threshold due to background luminance, f2 (Chou & Li 1995, Eq. 5-6).

    ``17 (1 - sqrt(bg/127)) + 3`` for bg <= 127, ``3/128 (bg - 127) + 3`` above. Both branches equal 3 at the knee,
    so the curve is evaluated as the sum of a clamped dark part and a clamped bright part (no ``where``).
    """
    dark = nearest_sqrt_(bg.clamp(min=0.0, max=LA_KNEE).mul_(1.0 / LA_KNEE)).mul_(-LA_T0).add_(LA_T0 + 3.0)
    return dark.add_((bg - LA_KNEE).clamp_(min=0.0), alpha=LA_GAMMA)


def contrast_masking_line(bg: Tensor, mg: Tensor) -> Tensor:
    """Chou & Li's spatial-masking line f1(bg, mg) = mg alpha(bg) + beta(bg) (Eq. 2-4)."""
    alpha = bg * CM_ALPHA_SLOPE + CM_ALPHA_INTERCEPT
    beta = bg * (-CM_BETA_SLOPE) + CM_LAMBDA
    return torch.addcmul(beta, mg, alpha)


def namm(a: Tensor, b: Tensor, overlap: float = NAMM_OVERLAP) -> Tensor:
    """Nonlinear additivity model for masking: a + b - C min(a, b) (Yang et al. 2005, C = 0.3)."""
    return (a + b).sub_(torch.minimum(a, b), alpha=overlap)


def power(x: Tensor, exponent: float) -> Tensor:
    """``x ** exponent`` for x >= 0 as exp(exponent log x): about twice as fast as ``pow`` on the CPU, 0 at x = 0."""
    return torch.log(x).mul_(exponent).exp_()


def nearest_sqrt_(x: Tensor) -> Tensor:
    """``x.sqrt_()``, each result the float32 nearest the true root on every CPU.

    torch's CPU ``sqrt`` of float32 goes through MKL's vector math, which does not always return the nearest float32:
    on an AMD EPYC (torch 2.13.0, AVX-512 or AVX2 dispatch alike) 80 % of a million random roots were nearest, and
    where gradients tie (Canny on a ramp) that last bit picks the edges. The root is taken in float64 there (whose
    rounding to float32 is the nearest), as NumPy's and the compiled kernels' float32 ``sqrt`` are; other devices and
    dtypes take ``sqrt_`` as it is."""
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return x.sqrt_()
    return x.copy_(x.double().sqrt_())


def just_below(threshold: float, like: Tensor) -> float:
    """The largest value of ``like``'s dtype below ``threshold`` (so ``x > just_below(t)`` means ``x >= t``)."""
    dtype = np.float64 if like.dtype == torch.float64 else np.float32
    return float(np.nextafter(dtype(threshold), dtype(0)))


def indicator_at_least(x: Tensor, threshold: float) -> Tensor:
    """1.0 where ``x >= threshold`` else 0.0, for ``threshold >= 1`` (cheaper than a comparison and a conversion)."""
    return F.threshold(x, just_below(threshold, x), 0.0).clamp_(max=1.0)


def round_half_away(x: Tensor) -> Tensor:
    """MATLAB ``round``: halves go away from zero (torch.round rounds half to even)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def dark_region_remap(bg_integer: Tensor) -> Tensor:
    """Wu et al.'s ``func_bg_adjust``: integer bg <= 127 becomes round(32 + bg (127 - 32) / 127), larger bg stays.

    The remapped value is never below bg for bg <= 127 and is 127 at the knee, so
    ``max(bg, floor(32.5 + min(bg, 127) 95 / 127))`` gives both branches without a ``where``.
    """
    scale = (LA_KNEE - DARK_REMAP_MIN_LUMINANCE) / LA_KNEE
    remapped = bg_integer.clamp(max=LA_KNEE).mul_(scale).add_(DARK_REMAP_MIN_LUMINANCE + 0.5).floor_()
    return torch.maximum(bg_integer, remapped)


def remapped_luminance_adaptation(x: Tensor, border: Extension, padded: Tensor | None = None) -> Tensor:
    """f2 of the floored, dark-remapped background (Wu et al. ``func_bg_lum_jnd``, before any scaling)."""
    bg = torch.floor(background_luminance(x, border, padded))
    return luminance_adaptation_curve(dark_region_remap(bg))


# ---------------------------------------------------------------------------------------------------------------
# Binary morphology
# ---------------------------------------------------------------------------------------------------------------


def dilate_disk(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation of a bool map by ``disk(radius)``; outside the image counts as background.

    The disk is taken row by row: each row of the footprint is a horizontal run, so the dilation is the OR of
    vertically shifted horizontal dilations.
    """
    if radius <= 0:
        return mask
    widths = disk_row_half_widths(radius)
    padded = F.pad(mask, (radius, radius, radius, radius))
    height, width = mask.shape[-2:]
    horizontal: dict[int, Tensor] = {}
    for half in sorted(set(widths)):
        run = padded[..., :, radius : radius + width].clone()
        for dx in range(1, half + 1):
            run |= padded[..., :, radius - dx : radius - dx + width]
            run |= padded[..., :, radius + dx : radius + dx + width]
        horizontal[half] = run
    out = torch.zeros_like(mask)
    for row, half in enumerate(widths):
        out |= horizontal[half][..., row : row + height, :]
    return out
