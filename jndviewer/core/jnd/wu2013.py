"""Wu et al. (2013) JND with the free-energy principle (orderly and disorderly content).

J. Wu, G. Shi, W. Lin, A. Liu, F. Qi, "Just noticeable difference estimation for images with free-energy principle,"
IEEE TMM 15(7):1705-1710, 2013. Follows the authors' released MATLAB (demo script and ``func_*`` files): an
autoregressive (non-local) prediction splits the image into the predicted, orderly part and the unpredictable
residual; luminance adaptation and contrast masking act on the first, disorderly concealment on the second
(docs/jnd_models.md §4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from jndviewer.core.catalog import JND_MODEL_TITLES
from jndviewer.core.jnd import canny, compiled, ops
from jndviewer.core.jnd.base import JNDModel
from jndviewer.core.jnd.definitions import BorderParams

Tensor = torch.Tensor

#: Log-compression knee of the edge height in ``func_contrast_mask_jnd``: D' = 80 log10(1 + D/80) / log10(4).
LUMINANCE_DIFFERENCE_KNEE = 80.0
#: Local-std threshold under which the disorder is smoothed (``func_disorder_jnd``: ``vari_map < 10``).
SMOOTH_REGION_STD = 10.0
#: Disorder smoothing: Gaussian of size 2r+1 = 7 and sigma (2r+1)/3 (``func_disorder_jnd``).
DISORDER_BLUR = (7, 7.0 / 3.0)
#: Super-edge map: Canny threshold 0.7, dilation by disk(2), 1 - 0.8 edge, 5x5 Gaussian sigma 0.8 (``func_edge``).
EDGE_CANNY_THRESHOLD = 0.7
EDGE_DILATION_RADIUS = 2
EDGE_SUPPRESSION = 0.8
EDGE_BLUR = (5, 0.8)
#: The weights are computed as powers of two (``exp2`` is about 1.5x faster than ``exp`` in torch on the CPU), and
#: their exponents are clamped to this range after stabilisation (see :func:`autoregressive_prediction`):
#: 2^100 times 255 times 441 offsets stays below float32's 3.4e38, and 2^-100 is still a normal float.
EXP2_ARGUMENT_LIMIT = 100.0
LOG2_E = math.log2(math.e)


@dataclass(frozen=True)
class Wu2013Params(BorderParams):
    """Parameters of the free-energy model (defaults: the released demo's).

    Attributes
    ----------
    min_sigma
        Lower bound of the prediction's smoothing strength (8 in the demo script; the function default is 5).
    patch_radius
        r: patches are (2r+1)^2 = 7x7.
    search_radius
        R: offsets in [-R, R]^2 (440 of them for R = 10).
    rows_per_chunk
        Rows of output computed at a time by the prediction (bounds memory and keeps the working set in the cache;
        0 = all at once). At 1920x1080 on 2 threads the prediction took 2.24 / 1.86 / 2.29 / 3.27 s with chunks of
        256 / 128 / 64 / 32 rows.
    overlap
        NAMM overlap coefficient (0.3).
    """

    min_sigma: float = 8.0
    patch_radius: int = 3
    search_radius: int = 10
    rows_per_chunk: int = 128
    overlap: float = ops.NAMM_OVERLAP


def _sigma_terms(luma: Tensor, params: Wu2013Params) -> Tensor:
    """``1 / (49 h^2)``: the per-pixel scale of the window sums of squared patch differences (``func_ar_nl``).

    ``h^2 = S^2`` where the local std s <= S, else ``(S sqrt(S / s))^2 = S^3 / s``; both are ``S^3 / max(s, S)``,
    with S the luminance-adaptation threshold clamped from below at ``min_sigma``.
    """
    patch = 2 * params.patch_radius + 1
    strength = ops.remapped_luminance_adaptation(luma, params.border).clamp_(min=params.min_sigma)
    spread = ops.local_std(luma, patch, params.border)
    return torch.maximum(spread, strength).div_(strength.pow(3)).mul_(1.0 / (patch * patch))


def _offsets(search_radius: int) -> list[tuple[int, int]]:
    """One offset of each opposite pair in [-R, R]^2 without (0, 0): u > 0, or u == 0 and v > 0."""
    r = search_radius
    return [(u, v) for u in range(0, r + 1) for v in range(-r, r + 1) if u > 0 or v > 0]


class _Workspace:
    """Reusable scratch buffers: the prediction loop runs ~5000 tensor ops, and allocating their outputs costs
    about as much as computing them (page faults on fresh memory), so every step writes into views of these."""

    def __init__(self, like: Tensor, elements: int, count: int) -> None:
        self.buffers = [torch.empty(elements, dtype=like.dtype, device=like.device) for _ in range(count)]

    def view(self, index: int, shape: tuple[int, ...]) -> Tensor:
        return self.buffers[index][: math.prod(shape)].view(shape)


def _prediction_rows(
    extended: Tensor,
    centre: Tensor,
    inverse_h2: Tensor,
    params: Wu2013Params,
    y0: int,
    stabiliser: Tensor | None,
    shift: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Prediction for output rows ``y0 : y0 + rows``, each pixel's largest weight exponent, and the stabiliser.

    Weights are ``2^clamp(stabiliser - D inverse_h2, -100, 100)`` (``inverse_h2`` already in base 2, i.e. times
    log2 e); when ``stabiliser`` is None it is the smallest scaled D among the 8 nearest offsets. ``shift`` (the
    ``top`` of an earlier call with the same stabiliser) is subtracted from every exponent, so that the largest
    becomes exactly 0 and its weight exactly 1. Returns ``(prediction, top, stabiliser)``; ``top`` is the largest
    exponent before clamping: where it exceeds the limit the clamp changed the result and the caller recomputes.
    """
    r, big_r = params.patch_radius, params.search_radius
    if compiled.use_kernels(centre) and math.prod(centre.shape[:-2]) == 1:
        from jndviewer.core.jnd import kernels

        if r == kernels.WU2013_PATCH_RADIUS:
            prediction, top, stabiliser = kernels.wu2013_prediction(
                extended, centre, inverse_h2, y0, r, big_r, EXP2_ARGUMENT_LIMIT, stabiliser, shift
            )
            return ops.round_half_away(prediction), top, stabiliser
    margin, patch = r + big_r, 2 * r + 1
    batch = centre.shape[:-2]
    rows, width = centre.shape[-2:]
    largest = math.prod(batch) * (rows + big_r + 2 * r) * (width + big_r + 2 * r)
    work = _Workspace(centre, largest, 4)

    def pair_sums(u: int, v: int) -> tuple[Tensor, Tensor]:
        """Window sums of squared patch differences for offsets +(u, v) and -(u, v) at these rows' pixels.

        ``D_{-o}(x) = D_o(x - o)``, so one box filter over a slightly larger area serves both offsets.
        """
        top, left = min(0, -u) - r, min(0, -v) - r
        span_h, span_w = rows + abs(u) + 2 * r, width + abs(v) + 2 * r
        row0, col0 = margin + y0 + top, margin + left
        base = extended[..., row0 : row0 + span_h, col0 : col0 + span_w]
        moved = extended[..., row0 + u : row0 + u + span_h, col0 + v : col0 + v + span_w]
        squared = torch.sub(base, moved, out=work.view(0, (*batch, span_h, span_w)))
        squared.mul_(squared)
        sums = _window_sum_7(squared, work, patch)
        plus = sums[..., max(0, u) : max(0, u) + rows, max(0, v) : max(0, v) + width]
        minus = sums[..., max(0, -u) : max(0, -u) + rows, max(0, -v) : max(0, -v) + width]
        return plus, minus

    if stabiliser is None:
        nearest = torch.full_like(centre, torch.inf)
        for u, v in ((0, 1), (1, -1), (1, 0), (1, 1)):
            for sums in pair_sums(u, v):
                torch.minimum(nearest, sums, out=nearest)
        stabiliser = nearest.mul_(inverse_h2)

    numerator = torch.zeros_like(centre)
    denominator = torch.zeros_like(centre)
    top_exponent = torch.full_like(centre, -torch.inf)
    weight = torch.empty_like(centre)
    for u, v in _offsets(big_r):
        for sign, sums in zip((1, -1), pair_sums(u, v), strict=True):
            torch.addcmul(stabiliser, sums, inverse_h2, value=-1.0, out=weight)
            if shift is not None:
                weight.sub_(shift)
            torch.maximum(top_exponent, weight, out=top_exponent)
            torch.exp2(weight.clamp_(-EXP2_ARGUMENT_LIMIT, EXP2_ARGUMENT_LIMIT), out=weight)
            dy, dx = sign * u, sign * v
            neighbour = extended[..., margin + y0 + dy : margin + y0 + dy + rows, margin + dx : margin + dx + width]
            numerator.addcmul_(weight, neighbour)
            denominator.add_(weight)
    max_weight = torch.exp2(top_exponent.clamp(-EXP2_ARGUMENT_LIMIT, EXP2_ARGUMENT_LIMIT))
    numerator.addcmul_(max_weight, centre)
    denominator.add_(max_weight)
    return ops.round_half_away(numerator.div_(denominator)), top_exponent, stabiliser


def _window_sum_7(x: Tensor, work: _Workspace, size: int) -> Tensor:
    """'valid' sums over ``size x size`` windows written into workspace buffers 1-3 (doubling: 2, 4, then 4+2+1)."""
    if size != 7 or x.device.type != "cpu":
        return ops.window_sum_valid(x, size).clone()

    def along(t: Tensor, dim: int, out_index: int) -> Tensor:
        n = t.shape[dim]
        shape = list(t.shape)
        shape[dim] = n - 1
        pairs = torch.add(t.narrow(dim, 0, n - 1), t.narrow(dim, 1, n - 1), out=work.view(1, tuple(shape)))
        shape[dim] = n - 3
        quads = torch.add(pairs.narrow(dim, 0, n - 3), pairs.narrow(dim, 2, n - 3), out=work.view(2, tuple(shape)))
        shape[dim] = n - 6
        out = work.view(out_index, tuple(shape))
        total = torch.add(quads.narrow(dim, 0, n - 6), pairs.narrow(dim, 4, n - 6), out=out)
        return total.add_(t.narrow(dim, 6, n - 6))

    vertical = along(x, -2, 3)
    return along(vertical, -1, 0)


def _predict_pixels(extended: Tensor, inverse_h2: Tensor, index: Tensor, params: Wu2013Params) -> Tensor:
    """Exact prediction (float64, true maximum as stabiliser) at a few pixels given as (n, y, x) rows of ``index``."""
    r, big_r = params.patch_radius, params.search_radius
    margin, patch = r + big_r, 2 * r + 1
    side = 2 * margin + 1
    n, y, x = index.unbind(1)
    span = torch.arange(side, device=extended.device)
    rows = (y[:, None] + span)[:, :, None]
    cols = (x[:, None] + span)[:, None, :]
    neighbourhood = extended[n[:, None, None], 0, rows, cols].double()  # K x 27 x 27
    centre_patch = neighbourhood[:, big_r : big_r + patch, big_r : big_r + patch]
    exponents, values = [], []
    for u in range(-big_r, big_r + 1):
        for v in range(-big_r, big_r + 1):
            if u == 0 and v == 0:
                continue
            moved = neighbourhood[:, big_r + u : big_r + u + patch, big_r + v : big_r + v + patch]
            exponents.append(-(centre_patch - moved).square().sum(dim=(1, 2)))
            values.append(neighbourhood[:, margin + u, margin + v])
    scaled = torch.stack(exponents, 1) * inverse_h2[n, 0, y, x].double()[:, None]
    weights = (scaled - scaled.amax(1, keepdim=True)).exp()  # the largest weight is exactly 1
    numerator = (weights * torch.stack(values, 1)).sum(1) + neighbourhood[:, margin, margin]
    return ops.round_half_away(numerator / (weights.sum(1) + 1.0))


#: Below this share of clamped pixels in a row chunk they are recomputed one by one, above it the chunk is redone.
PER_PIXEL_RECOMPUTE_SHARE = 0.01


def autoregressive_prediction(luma: Tensor, params: Wu2013Params) -> Tensor:
    """The released code's non-local AR prediction (``func_ar_predict_decomp`` with ``func_ar_nl``).

    For every offset o in [-R, R]^2 without 0: ``w_o = exp(-D_o / h^2)`` with ``D_o`` the mean squared difference
    of the 7x7 patches at x and x + o; the prediction is ``(sum_o w_o Y(x+o) + max_o w_o Y(x)) /
    (sum_o w_o + max_o w_o)``, rounded half away from zero.

    The weighted mean does not change when all weights of a pixel are multiplied by one factor, so the weights are
    computed relative to the best of the 8 nearest offsets: the exponents stay near 0 in float32, where the literal
    form gives 0/0 on high-contrast texture (every weight underflows) and hits the slow denormal ``exp``. The weights
    are powers of two with exponents clamped to +-100; pixels where an offset beat that reference by more than 2^100
    (a few per mille of pixels on Kodak crops, most pixels of white noise) are recomputed exactly with their true
    maximum.
    """
    if luma.shape[0] > 1:  # one image at a time: the exact-recompute decisions must not depend on the batch
        return torch.cat([autoregressive_prediction(image[None], params) for image in luma])
    border = params.border
    r, big_r = params.patch_radius, params.search_radius
    height = luma.shape[-2]
    margin = big_r + r
    extension = "symmetric" if border == "zero" else "replicate"
    extended = ops.extend(luma, margin, margin, margin, margin, extension)
    inverse_h2 = _sigma_terms(luma, params)
    inverse_h2_base2 = inverse_h2 * LOG2_E

    chunk = params.rows_per_chunk if params.rows_per_chunk > 0 else height
    out = torch.empty_like(luma)
    for y0 in range(0, height, chunk):
        y1 = min(height, y0 + chunk)
        inverse = inverse_h2_base2[..., y0:y1, :]
        centre = luma[..., y0:y1, :]
        prediction, top, stabiliser = _prediction_rows(extended, centre, inverse, params, y0, None)
        clamped = top > EXP2_ARGUMENT_LIMIT
        count = int(clamped.sum())
        if count > PER_PIXEL_RECOMPUTE_SHARE * clamped.numel():
            # Redo the chunk with each pixel's true largest exponent as its stabiliser: nothing is clamped above.
            prediction, _, _ = _prediction_rows(extended, centre, inverse, params, y0, stabiliser, shift=top)
        elif count:
            index = clamped.nonzero()[:, [0, 2, 3]]
            index[:, 1] += y0
            prediction[clamped] = _predict_pixels(extended, inverse_h2, index, params).to(prediction.dtype)
        out[..., y0:y1, :] = prediction
    return out


def valid_mask_frame(x: Tensor, patch_radius: int) -> Tensor:
    """Zero what the reference's ``valid_mask(r:row-r, r:col-r)`` zeroes: the first r-1 and last r rows/columns."""
    r = patch_radius
    x[..., : r - 1, :] = 0
    x[..., x.shape[-2] - r :, :] = 0
    x[..., :, : r - 1] = 0
    x[..., :, x.shape[-1] - r :] = 0
    return x


class Wu2013(JNDModel):
    """Wu et al. 2013: orderly (LA + contrast masking on the prediction) and disorderly (residual) JND, by NAMM."""

    name = "wu2013"
    title = JND_MODEL_TITLES[name]
    citation = "J. Wu, G. Shi, W. Lin, A. Liu, F. Qi, IEEE TMM 15(7):1705-1710, 2013"
    params_type = Wu2013Params
    component_names = ("prediction", "luminance_adaptation", "contrast_masking", "disorder", "edge_protection")

    def compute(self, luma: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        p: Wu2013Params = self.params
        border = p.border
        prediction = autoregressive_prediction(luma, p)
        residual = (luma - prediction).abs_()

        luminance_adaptation = ops.remapped_luminance_adaptation(prediction, border)
        difference = ops.max_weighted_gradient(prediction, border)
        compressed = torch.log10(difference.div_(LUMINANCE_DIFFERENCE_KNEE).add_(1.0)).mul_(
            LUMINANCE_DIFFERENCE_KNEE / math.log10(4.0)
        )
        bg = torch.floor(ops.background_luminance(prediction, border))
        contrast_masking = ops.contrast_masking_line(bg, compressed).abs_()

        smoothed = ops.gaussian_blur(residual, *DISORDER_BLUR, border)
        smooth_region = ops.local_std(luma, 2 * p.patch_radius + 1, border) < SMOOTH_REGION_STD
        disorder = torch.where(smooth_region, torch.minimum(smoothed, residual), residual)
        edges = ops.dilate_disk(canny.canny_matlab(luma, EDGE_CANNY_THRESHOLD), EDGE_DILATION_RADIUS)
        edge_protection = ops.gaussian_blur(1.0 - EDGE_SUPPRESSION * edges.to(luma.dtype), *EDGE_BLUR, border)
        disorder = disorder.mul_(edge_protection)

        orderly = ops.namm(luminance_adaptation, contrast_masking, p.overlap)
        threshold = ops.namm(orderly, disorder, p.overlap)
        if border == "zero":
            valid_mask_frame(threshold, p.patch_radius)
        return threshold, {
            "prediction": prediction,
            "luminance_adaptation": luminance_adaptation,
            "contrast_masking": contrast_masking,
            "disorder": disorder,
            "edge_protection": edge_protection,
        }
