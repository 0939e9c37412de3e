"""Three of the pixel JND models in NumPy, without torch: the one-shot ``jndviewer map``'s path.

A process that computes one map spends most of its time importing torch (about 0.8 s of a 1.1 s ``jndviewer map``
of a 768x512 image on a 2-core machine; ``benchmarks/bench_map_startup.py``), while the map itself takes tens of
milliseconds. Chou & Li 1995, Yang et al. 2005 and Wu et al. 2017 are written here again for ``H x W`` float32
NumPy arrays, step for step as the torch models' CPU path computes them (:mod:`~jndviewer.core.jnd.ops`,
:mod:`~jndviewer.core.jnd.canny` and the model modules), from the same constants and parameters
(:mod:`~jndviewer.core.jnd.definitions`), with every multiply-add that torch fuses rounded once here too
(:func:`fused_multiply_add`): on plateaus Canny's choice between equal gradients depends on that last bit.
``tests/core/test_jnd_numpy_models.py`` holds each map and component to the torch model's (photographs, ramps,
blocks) and, in float64, to the reference in ``tests/reference/numpy_jnd.py``. One difference remains by nature:
NumPy's and torch's float32 ``atan2`` can differ in the last bit, which moves a gradient whose angle rounds at a
half degree into the next orientation bin of Wu et al. 2017 (a pixel in some photographs). Wu et al. 2013's
autoregressive prediction has no form here: single-threaded NumPy would take longer than importing torch.

The union-find of Canny's hysteresis (:func:`connected_to_seeds`) lives here and serves the torch Canny too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jndviewer.core.catalog import JND_MODEL_TITLES
from jndviewer.core.errors import ModelError
from jndviewer.core.jnd.definitions import (
    BACKGROUND_KERNEL_SUM,
    CANNY_LOW_RATIO,
    CANNY_MIN_MAGNITUDE,
    CANNY_SECTORS,
    CANNY_SIGMA,
    CM_ALPHA_INTERCEPT,
    CM_ALPHA_SLOPE,
    CM_BETA_SLOPE,
    CM_LAMBDA,
    COMPLEXITY_BLUR,
    CONTRAST_WINDOW,
    DARK_REMAP_MIN_LUMINANCE,
    EDGE_DILATION_RADIUS,
    EDGE_PROTECTION_BLUR,
    EDGE_WEIGHT_BLUR,
    GRADIENT_KERNEL_SCALE,
    LA_GAMMA,
    LA_KNEE,
    LA_T0,
    MIN_IMAGE_SIDE,
    ORIENTATION_BIN_DEGREES,
    ORIENTATION_MIN_GRADIENT,
    PLAIN_BIN,
    BorderParams,
    Wu2017Params,
    Yang2005Params,
    canny_taps,
    check_border,
    disk_row_half_widths,
    gaussian_taps,
)

Array = np.ndarray
_PAD_MODES = {"zero": "constant", "replicate": "edge", "symmetric": "symmetric"}

# ---------------------------------------------------------------------------------------------------------------
# Padding, correlation, window statistics (ops.py's operators on one H x W plane)
# ---------------------------------------------------------------------------------------------------------------


def extend(x: Array, top: int, bottom: int, left: int, right: int, mode: str) -> Array:
    """``x`` extended beyond its border; ``symmetric`` is MATLAB's edge-inclusive mirror (NumPy's ``symmetric``)."""
    if mode not in _PAD_MODES:
        raise ModelError(f"Unknown extension mode {mode!r}.")
    if mode == "symmetric" and (max(top, bottom) > x.shape[0] or max(left, right) > x.shape[1]):
        raise ModelError("The image is too small for the symmetric extension this model needs.")
    return np.pad(x, ((top, bottom), (left, right)), mode=_PAD_MODES[mode])  # type: ignore[call-overload]


def fused_multiply_add(a: Array, b: Array | float, c: Array) -> Array:
    """``a * b + c`` rounded once, as torch's CPU kernels compute ``c.add_(a, alpha=b)`` and ``addcmul(c, a, b)``
    (vectorised fused multiply-adds). NumPy rounds the product and the sum apart; where that last bit decides a tie
    (Canny's non-maximum suppression on plateaus, ramps and blocks) the edges and so the maps would differ by gray
    levels. For float32 the product and sum are formed in float64 (the product of two float32 numbers is exact
    there) and rounded once; float64 arrays take NumPy's two roundings (they serve the checks against the reference).
    """
    if c.dtype != np.float32:
        return a * b + c
    if not isinstance(b, np.ndarray):
        b = float(np.float32(b))  # torch holds a scalar factor in the tensor's precision
    return (a.astype(np.float64) * b + c).astype(np.float32)


def correlate_padded(padded: Array, kernel: Sequence[Sequence[float]] | Array, scale: float = 1.0) -> Array:
    """'valid' correlation of an extended plane with a small 2-D kernel, as shift-and-add (ops.correlate_padded):
    the first tap's product, then one fused multiply-add per tap (formed in float64 in one scratch buffer)."""
    weights = np.asarray(kernel, dtype=np.float64) * scale
    kh, kw = weights.shape
    out_h, out_w = padded.shape[0] - kh + 1, padded.shape[1] - kw + 1
    taps = [(i, j, weights[i, j].item()) for i in range(kh) for j in range(kw) if weights[i, j] != 0.0]
    if not taps:
        return np.zeros((out_h, out_w), dtype=padded.dtype)
    (i, j, w), rest = taps[0], taps[1:]
    acc = padded[i : i + out_h, j : j + out_w] * w
    if padded.dtype != np.float32:
        for i, j, w in rest:
            acc += padded[i : i + out_h, j : j + out_w] * w
        return acc
    wide = padded.astype(np.float64)
    scratch = np.empty((out_h, out_w), dtype=np.float64)
    for i, j, w in rest:
        np.multiply(wide[i : i + out_h, j : j + out_w], float(np.float32(w)), out=scratch)
        scratch += acc
        acc[...] = scratch  # rounded once to float32, as torch's add_(view, alpha=w)
    return acc


def correlate_separable(x: Array, column_taps: Sequence[float], row_taps: Sequence[float], border: str) -> Array:
    """'same' correlation with ``outer(column_taps, row_taps)``: down the columns, then along the rows."""
    rh, rw = len(column_taps) // 2, len(row_taps) // 2
    padded = extend(x, rh, rh, rw, rw, border)
    along_y = correlate_padded(padded, np.asarray(column_taps, dtype=np.float64)[:, None])
    return correlate_padded(along_y, np.asarray(row_taps, dtype=np.float64)[None, :])


def gaussian_blur(x: Array, size: int, sigma: float, border: str) -> Array:
    """``imfilter(x, fspecial('gaussian', size, sigma))`` with the given extension."""
    taps = gaussian_taps(size, sigma)
    return correlate_separable(x, taps, taps, border)


def _narrow(x: Array, axis: int, start: int, length: int) -> Array:
    """The view of ``length`` entries of a plane from ``start`` along ``axis`` (0: rows, 1: columns)."""
    return x[start : start + length] if axis == 0 else x[:, start : start + length]


def _sum_along(x: Array, size: int, axis: int) -> Array:
    """'valid' running sum of ``size`` entries along ``axis`` by doubling, in ops._sum_along's order (the local
    standard deviation's E[x^2] - E[x]^2 cancels in flat areas, so the order of the sums shows there)."""
    length = x.shape[axis] - size + 1
    partial: dict[int, Array] = {1: x}
    span = 1
    while span * 2 <= size:
        previous = partial[span]
        n = previous.shape[axis] - span
        partial[span * 2] = _narrow(previous, axis, 0, n) + _narrow(previous, axis, span, n)
        span *= 2
    total: Array | None = None
    start = 0
    for span in sorted(partial, reverse=True):
        if size - start >= span:
            piece = _narrow(partial[span], axis, start, length)
            total = piece.copy() if total is None else np.add(total, piece, out=total)
            start += span
    assert total is not None
    return total


def window_sum_valid(padded: Array, size: int) -> Array:
    """'valid' sum over ``size x size`` windows of an extended plane."""
    return _sum_along(_sum_along(padded, size, 0), size, 1)


def local_std(padded: Array, size: int) -> Array:
    """Population standard deviation over ``size x size`` windows of a plane extended by ``size // 2``."""
    scale = 1.0 / (size * size)
    mean = window_sum_valid(padded, size) * scale
    mean_of_squares = window_sum_valid(padded * padded, size) * scale
    return np.sqrt(np.maximum(mean_of_squares - mean * mean, 0.0))


def background_luminance(padded: Array) -> Array:
    """Mean background luminance ``filt(x, B) / 32`` of a plane extended by 2 (Chou & Li 1995, Eq. 9).

    Summed in the order of ops.background_luminance's CPU path (B = ones(5x5) + ones(3x3) - 2 delta), so that the
    floored background of Wu et al. falls on the same integer where a sum lands next to one.
    """
    height, width = padded.shape[0] - 4, padded.shape[1] - 4
    rows3 = padded[1 : 1 + height] + padded[2 : 2 + height]
    rows3 += padded[3 : 3 + height]
    rows5 = rows3 + padded[0:height]
    rows5 += padded[4 : 4 + height]
    total = rows3[:, 1 : 1 + width] + rows3[:, 2 : 2 + width]
    total += rows3[:, 3 : 3 + width]
    inner_and_outer = rows5[:, 0:width] + rows5[:, 4 : 4 + width]
    for j in (1, 2, 3):
        inner_and_outer += rows5[:, j : j + width]
    total += inner_and_outer
    total -= padded[2 : 2 + height, 2 : 2 + width] * 2.0
    return total * (1.0 / BACKGROUND_KERNEL_SUM)


def max_weighted_gradient(padded: Array) -> Array:
    """``mg = max_k |filt(x, G_k)| / 16`` of a plane extended by 2 (Chou & Li 1995, Eq. 7-8), with the shared work
    of ops.max_weighted_gradient's CPU path: G1 and G4 separable, max(|G2 x|, |G3 x|) from their sum and difference.
    """
    height, width = padded.shape[0] - 4, padded.shape[1] - 4
    fma = fused_multiply_add
    row_difference = padded[1 : 1 + height, :] - padded[3 : 3 + height, :]
    outer = row_difference[:, 0:width] + row_difference[:, 4 : 4 + width]
    inner = row_difference[:, 1 : 1 + width] + row_difference[:, 3 : 3 + width]
    centre = row_difference[:, 2 : 2 + width]
    g1 = fma(centre, 8.0, fma(inner, 3.0, outer))  # 16 G1
    half_sum = padded[0:height, 2 : 2 + width] - padded[4 : 4 + height, 2 : 2 + width]
    half_sum = fma(centre, 3.0, fma(inner, 4.0, half_sum))  # 16 (G2 + G3) / 2
    column_difference = padded[:, 1 : 1 + width] - padded[:, 3 : 3 + width]
    outer = column_difference[0:height] + column_difference[4 : 4 + height]
    inner = column_difference[1 : 1 + height] + column_difference[3 : 3 + height]
    centre = column_difference[2 : 2 + height]
    g4 = fma(centre, 8.0, fma(inner, 3.0, outer))  # 16 G4
    half_difference = padded[2 : 2 + height, 0:width] - padded[2 : 2 + height, 4 : 4 + width]
    half_difference = fma(centre, 3.0, fma(inner, 4.0, half_difference))  # 16 (G2 - G3) / 2
    result = np.maximum(np.abs(g1), np.abs(g4))
    np.maximum(result, np.abs(half_sum) + np.abs(half_difference), out=result)
    return result * GRADIENT_KERNEL_SCALE


def luminance_adaptation_curve(bg: Array) -> Array:
    """f2 of Chou & Li 1995 (Eq. 5-6): the clamped dark part plus the clamped bright part, as ops computes it."""
    dark = np.sqrt(np.clip(bg, 0.0, LA_KNEE) * (1.0 / LA_KNEE)) * -LA_T0 + (LA_T0 + 3.0)
    return fused_multiply_add(np.maximum(bg - LA_KNEE, 0.0), LA_GAMMA, dark)


def contrast_masking_line(bg: Array, mg: Array) -> Array:
    """Chou & Li's spatial-masking line f1(bg, mg) = mg alpha(bg) + beta(bg) (Eq. 2-4)."""
    alpha = bg * CM_ALPHA_SLOPE + CM_ALPHA_INTERCEPT
    beta = bg * -CM_BETA_SLOPE + CM_LAMBDA
    return fused_multiply_add(mg, alpha, beta)


def namm(a: Array, b: Array, overlap: float) -> Array:
    """Nonlinear additivity model for masking: a + b - C min(a, b) (Yang et al. 2005)."""
    return fused_multiply_add(np.minimum(a, b), -overlap, a + b)


def power(x: Array, exponent: float) -> Array:
    """``x ** exponent`` for x >= 0 as exp(exponent log x), 0 at x = 0 (ops.power)."""
    with np.errstate(divide="ignore"):
        return np.exp(np.log(x) * exponent)


def remapped_luminance_adaptation(padded: Array) -> Array:
    """f2 of the floored background after Wu et al.'s dark-region remap (``func_bg_adjust``, ``func_bg_lum_jnd``)."""
    bg = np.floor(background_luminance(padded))
    scale = (LA_KNEE - DARK_REMAP_MIN_LUMINANCE) / LA_KNEE
    remapped = np.floor(np.minimum(bg, LA_KNEE) * scale + (DARK_REMAP_MIN_LUMINANCE + 0.5))
    return luminance_adaptation_curve(np.maximum(bg, remapped))


def dilate_disk(mask: Array, radius: int) -> Array:
    """Binary dilation of a bool plane by ``disk(radius)``; outside the image is background (ops.dilate_disk)."""
    widths = disk_row_half_widths(radius)
    padded = np.pad(mask, radius)
    height, width = mask.shape
    horizontal: dict[int, Array] = {}
    for half in sorted(set(widths)):
        run = padded[:, radius : radius + width].copy()
        for dx in range(1, half + 1):
            run |= padded[:, radius - dx : radius - dx + width]
            run |= padded[:, radius + dx : radius + dx + width]
        horizontal[half] = run
    out = np.zeros_like(mask)
    for row, half in enumerate(widths):
        out |= horizontal[half][row : row + height, :]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Canny (canny.py's CPU path: candidates, then exact non-maximum suppression on them, then hysteresis)
# ---------------------------------------------------------------------------------------------------------------


def component_roots(count: int, source: Array, target: Array) -> Array:
    """The connected components of the undirected graph on nodes ``0 .. count-1`` with edges ``source[i] --
    target[i]``: each node's smallest node of its component.

    Vectorised union-find in NumPy (as fast as scipy's ``connected_components`` up to 1080p, about 2x slower at 4K,
    and without importing ``scipy.sparse``, which took about 0.25 s of a one-shot ``jndviewer map``): each round
    hooks every component's root onto the smallest root across its edges, then flattens the trees by pointer
    jumping. Every component with a neighbour merges each round, so there are O(log count) rounds.
    """
    parent = np.arange(count)
    while source.size:
        source_root, target_root = parent[source], parent[target]
        apart = source_root != target_root
        if not apart.any():
            break
        source, target = source[apart], target[apart]  # edges inside one component are done with
        source_root, target_root = source_root[apart], target_root[apart]
        np.minimum.at(parent, np.maximum(source_root, target_root), np.minimum(source_root, target_root))
        while True:  # parent[i] <= i throughout, so this ends with each node pointing to its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def connected_to_seeds(index: Array, seeds: Array, shape: Sequence[int]) -> Array:
    """Which of the pixels at sorted flat ``index`` (of maps of ``shape``, ``... x H x W``) lie in an 8-connected
    component of those pixels that contains a seed; ``seeds`` flags the seed pixels. Returns a bool per pixel.

    The components are found on the graph of the listed pixels alone (:func:`component_roots`), so the cost follows
    the number of edge pixels, not the image size.
    """
    count = index.size
    if count == 0 or not seeds.any():
        return np.zeros(count, dtype=bool)
    height, width = int(shape[-2]), int(shape[-1])
    row = (index // width) % height
    column = index % width
    sources, targets = [], []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each 8-neighbour pair once
        inside = np.flatnonzero((row + dy < height) & (column + dx >= 0) & (column + dx < width))
        wanted = index[inside] + (dy * width + dx)
        position = np.minimum(np.searchsorted(index, wanted), count - 1)
        hit = index[position] == wanted
        sources.append(inside[hit])
        targets.append(position[hit])
    roots = component_roots(count, np.concatenate(sources), np.concatenate(targets))
    keep = np.zeros(count, dtype=bool)
    keep[roots[seeds]] = True
    return keep[roots]


def _below(value: float, like: Array) -> np.floating:
    """The largest number of ``like``'s dtype below ``value`` (``x > _below(t)`` means ``x >= t``), as
    ops.just_below."""
    number = like.dtype.type
    return np.nextafter(number(value), number(0.0))


def canny_matlab(x: Array, threshold: float, sigma: float = CANNY_SIGMA) -> Array:
    """MATLAB ``edge(I, 'canny', T)`` of one plane (canny.canny_matlab): a bool edge map."""
    gauss, deriv = canny_taps(sigma)
    radius = len(gauss) // 2
    padded = extend(x, radius, radius, radius, radius, "replicate")
    grad_x = correlate_padded(correlate_padded(padded, gauss[:, None]), deriv[None, :])
    grad_y = correlate_padded(correlate_padded(padded, gauss[None, :]), deriv[:, None])
    magnitude = np.sqrt(fused_multiply_add(grad_y, grad_y, grad_x * grad_x))
    number = x.dtype.type  # the thresholds in the map's precision, as the torch Canny holds them in tensors
    residue = _below(CANNY_MIN_MAGNITUDE, magnitude)
    peak = magnitude.max()
    peak = peak if peak > residue else number(1.0)
    high = number(threshold)
    low = high * number(CANNY_LOW_RATIO)
    width = x.shape[1]

    def normalised(values: Array) -> Array:
        return np.where(values > residue, values, 0.0) / peak

    candidates = magnitude > low * peak * number(1.0 - 1e-5)  # a superset; the exact test follows on the few kept
    candidates[0, :] = candidates[-1, :] = False
    candidates[:, 0] = candidates[:, -1] = False
    index = np.flatnonzero(candidates)
    flat_magnitude = magnitude.reshape(-1)
    value = normalised(flat_magnitude[index])
    kept = value > low
    index, value = index[kept], value[kept]
    ix, iy = grad_x.reshape(-1)[index], grad_y.reshape(-1)[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = {"y/x": np.abs(iy / ix), "x/y": np.abs(ix / iy)}
    complements = {key: 1.0 - ratio for key, ratio in ratios.items()}
    sector_masks = (
        ((iy <= 0) & (ix > -iy)) | ((iy >= 0) & (ix < -iy)),
        ((ix > 0) & (-iy >= ix)) | ((ix < 0) & (-iy <= ix)),
        ((ix <= 0) & (ix > iy)) | ((ix >= 0) & (ix < iy)),
        ((iy < 0) & (ix <= iy)) | ((iy > 0) & (ix >= iy)),
    )
    neighbours: dict[tuple[int, int], Array] = {}

    def neighbour(offset: tuple[int, int]) -> Array:
        if offset not in neighbours:
            neighbours[offset] = normalised(flat_magnitude[index + (offset[0] * width + offset[1])])
        return neighbours[offset]

    is_max = np.zeros(index.shape, dtype=bool)
    with np.errstate(invalid="ignore"):  # inf ratios of axis-aligned gradients lie outside their sector
        for condition, (ratio_key, side1, side2) in zip(sector_masks, CANNY_SECTORS, strict=True):
            ratio, complement = ratios[ratio_key], complements[ratio_key]
            in_sector = condition
            for first, second in (side1, side2):
                interpolated = fused_multiply_add(neighbour(second), ratio, neighbour(first) * complement)
                in_sector = in_sector & (value >= interpolated)
            is_max |= in_sector
    index, value = index[is_max], value[is_max]
    edges = np.zeros(x.size, dtype=bool)
    edges[index[connected_to_seeds(index, value > high, x.shape)]] = True
    return edges.reshape(x.shape)


# ---------------------------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------------------------

ModelResult = tuple[Array, dict[str, Array]]


def chou1995(luma: Array, params: BorderParams) -> ModelResult:
    """Chou & Li 1995: max(f2(bg), f1(bg, mg)) (chou1995.Chou1995)."""
    padded = extend(luma, 2, 2, 2, 2, params.border)
    bg = background_luminance(padded)
    luminance_adaptation = luminance_adaptation_curve(bg)
    contrast_masking = contrast_masking_line(bg, max_weighted_gradient(padded))
    threshold = np.maximum(luminance_adaptation, contrast_masking)
    return threshold, {"luminance_adaptation": luminance_adaptation, "contrast_masking": contrast_masking}


def yang2005(luma: Array, params: Yang2005Params) -> ModelResult:
    """Yang et al. 2005: NAMM of f2 and edge-protected texture masking (yang2005.Yang2005)."""
    edges = canny_matlab(luma, params.canny_threshold)
    padded = extend(luma, 2, 2, 2, 2, params.border)
    raw_weight = edges.astype(luma.dtype) * (params.edge_weight - 1.0) + 1.0
    edge_weight = gaussian_blur(raw_weight, *EDGE_WEIGHT_BLUR, params.border)
    luminance_adaptation = luminance_adaptation_curve(background_luminance(padded))
    texture_masking = max_weighted_gradient(padded) * edge_weight * params.texture_gain
    threshold = namm(luminance_adaptation, texture_masking, params.overlap)
    return threshold, {
        "luminance_adaptation": luminance_adaptation,
        "texture_masking": texture_masking,
        "edge_weight": edge_weight,
    }


def zero_frame(x: Any, width: int, value: float = 0.0) -> Any:
    """Set the outer ``width``-pixel frame of ``x`` to ``value`` in place (a NumPy array or a torch tensor alike:
    the torch model uses it too)."""
    x[..., :width, :] = value
    x[..., -width:, :] = value
    x[..., :, :width] = value
    x[..., :, -width:] = value
    return x


def orientation_complexity(luma: Array, zero_mode: bool) -> Array:
    """Distinct orientation bins among each pixel and its 8 neighbours (wu2017.orientation_bits, then
    wu2017.orientation_complexity): 12-degree bins of gradients of 5 gray levels or more, plain pixels one bin."""
    padded = extend(luma, 1, 1, 1, 1, "replicate")
    height, width = luma.shape
    horizontal = padded[:, 2 : 2 + width] - padded[:, 0:width]
    vertical = padded[2 : 2 + height, :] - padded[0:height, :]
    sum_x = horizontal[0:height] + horizontal[1 : 1 + height] + horizontal[2 : 2 + height]
    sum_y = vertical[:, 0:width] + vertical[:, 1 : 1 + width] + vertical[:, 2 : 2 + width]
    squared_magnitude = fused_multiply_add(sum_y, sum_y, sum_x * sum_x)
    textured = squared_magnitude > _below((3.0 * ORIENTATION_MIN_GRADIENT) ** 2, sum_x)
    radians = np.arctan2(sum_y, sum_x) * (180.0 / math.pi)
    degrees = np.sign(radians) * np.floor(np.abs(radians) + 0.5)  # MATLAB round: halves away from zero
    folded = degrees - np.clip(degrees - 90.0, 0.0, 1.0) * 180.0
    folded += np.clip(-90.0 - degrees, 0.0, 1.0) * 180.0
    half_bin = ORIENTATION_BIN_DEGREES / 2.0
    bins = np.floor((folded + (90.0 + half_bin + 0.5)) / ORIENTATION_BIN_DEGREES).astype(np.int32)
    bits = np.left_shift(np.int32(1), np.where(textured, bins, PLAIN_BIN)).astype(np.int32)
    bits = np.pad(bits, 1, mode="edge")
    union = bits[1 : 1 + height, 1 : 1 + width].copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                union |= bits[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
    count = np.where(textured, popcount(union).astype(luma.dtype), 1.0)
    return zero_frame(count, 1, 1.0) if zero_mode else count


def popcount(bits: Any) -> Any:
    """Number of set bits of non-negative int32 values below 2**24 (SWAR bit counting), of a NumPy array or a torch
    tensor alike (the torch model uses it too)."""
    bits = bits - ((bits >> 1) & 0x555555)
    bits = (bits & 0x333333) + ((bits >> 2) & 0x333333)
    bits = (bits + (bits >> 4)) & 0x0F0F0F
    return (bits & 0xFF) + ((bits >> 8) & 0xFF) + ((bits >> 16) & 0xFF)


def wu2017(luma: Array, params: Wu2017Params) -> ModelResult:
    """Wu et al. 2017: NAMM of the scaled, remapped f2 and the larger of contrast and pattern masking
    (wu2017.Wu2017)."""
    zero_mode = params.border == "zero"
    padded = extend(luma, 2, 2, 2, 2, params.border)
    gradient = max_weighted_gradient(padded)  # Chou's edge height: the Canny threshold is relative to its peak
    peak = float(gradient[2:-2, 2:-2].max() if zero_mode else gradient.max())
    canny_threshold = params.max_canny_threshold  # 60 / 0 is inf, clamped to the bound as the torch model does
    if peak > 0:
        canny_threshold = min(params.edge_height / peak, canny_threshold)
    edges = canny_matlab(luma, canny_threshold)

    luminance_adaptation = remapped_luminance_adaptation(padded) * params.luminance_scale
    luminance_contrast = local_std(padded, CONTRAST_WINDOW)
    if zero_mode:
        zero_frame(luminance_contrast, CONTRAST_WINDOW // 2)
    contrast_masking = power(luminance_contrast, 2.4) * params.contrast_gain
    contrast_masking /= luminance_contrast * luminance_contrast + params.contrast_knee**2

    pattern_complexity = gaussian_blur(orientation_complexity(luma, zero_mode), *COMPLEXITY_BLUR, params.border)
    transducer = power(pattern_complexity, params.complexity_exponent) * params.complexity_gain
    transducer /= pattern_complexity * pattern_complexity + params.complexity_offset**2
    pattern_masking = luminance_contrast * transducer
    dilated = dilate_disk(edges, EDGE_DILATION_RADIUS)
    edge_protection = gaussian_blur(1.0 - dilated.astype(luma.dtype), *EDGE_PROTECTION_BLUR, params.border)
    pattern_masking *= edge_protection

    visual_masking = np.maximum(contrast_masking, pattern_masking)
    threshold = namm(luminance_adaptation, visual_masking, params.overlap)
    return threshold, {
        "luminance_adaptation": luminance_adaptation,
        "contrast_masking": contrast_masking,
        "pattern_complexity": pattern_complexity,
        "pattern_masking": pattern_masking,
        "edge_protection": edge_protection,
        "visual_masking": visual_masking,
    }


#: Up to this many pixels, a process that computes one map on the CPU is done sooner by the NumPy form than by
#: importing torch and running the torch model on its threads. Measured (``benchmarks/bench_map_startup.py
#: --crossover``, 2 cores, median (min) of 3, ms from before the imports to the map, NumPy / torch): wu2017 475 (468) /
#: 906 (903) at 2.1 MP, 1210 (907) / 997 (972) at 3.7 MP, 1608 / 1148 at 5.8 MP; yang2005 351 / 881 at 2.1 MP,
#: 1173 (675) / 939 (935) at 3.7 MP, 1346 / 1006 at 5.8 MP; chou1995 625 / 886 at 8.3 MP, 1568 / 940 at 11.3 MP.
#: The NumPy form has no strips and one thread: its whole-image passes leave the cache.
ONE_SHOT_NUMPY_UP_TO: dict[str, int] = {"chou1995": 9_000_000, "yang2005": 4_000_000, "wu2017": 3_000_000}

#: The models with a NumPy form, by registry name, with their parameter type.
NUMPY_MODELS: dict[str, tuple[Callable[[Array, Any], ModelResult], type[BorderParams]]] = {
    "chou1995": (chou1995, BorderParams),
    "yang2005": (yang2005, Yang2005Params),
    "wu2017": (wu2017, Wu2017Params),
}


#: Their titles (the torch models' ``title``).
TITLES: dict[str, str] = {name: JND_MODEL_TITLES[name] for name in NUMPY_MODELS}


def compute_map(name: str, luma: Array, border: str = "replicate", dtype: type = np.float32) -> ModelResult:
    """The JND threshold and components of the registered model ``name`` for one ``H x W`` luma plane in [0, 255],
    with the model's default parameters, in ``dtype`` (float32 as the torch models compute a map; float64 for
    checks)."""
    if name not in NUMPY_MODELS:
        raise ModelError(f"{name} has no NumPy form; choose one of {', '.join(NUMPY_MODELS)} or the torch model.")
    check_border(border)
    luma = np.ascontiguousarray(luma, dtype=dtype)
    if luma.ndim != 2:
        raise ModelError(f"{name} takes one H x W luma plane, not an array shaped {luma.shape}.")
    if min(luma.shape) < MIN_IMAGE_SIDE:
        raise ModelError(f"{name} needs images of at least {MIN_IMAGE_SIDE} x {MIN_IMAGE_SIDE} pixels.")
    function, params_type = NUMPY_MODELS[name]
    return function(luma, params_type(border=border))
