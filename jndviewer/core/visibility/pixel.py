"""How visible a distortion is, pixel by pixel, relative to a JND threshold map.

``v = |Y_distorted - Y_reference| / JND(reference)``: v < 1 is below the threshold (invisible by the model), v > 1
above it. Pooled scores summarise a map for a picture-wise decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from jndviewer.core.catalog import POOLINGS
from jndviewer.core.errors import JndViewerError
from jndviewer.core.jnd.ops import window_sum_valid

Tensor = torch.Tensor

#: Default Minkowski exponent (beta = 4 is the usual choice for pooling visibility / error maps since Watson 1979).
DEFAULT_MINKOWSKI_EXPONENT = 4.0
#: Default side of the local windows whose mean visibility is maximised (pixels).
DEFAULT_WINDOW = 16


def visibility_map(reference_luma: Tensor, distorted_luma: Tensor, threshold: Tensor) -> Tensor:
    """``|distorted - reference| / threshold`` for N x 1 x H x W (or H x W) tensors.

    Pixels whose threshold is 0 (only the zeroed frame of ``wu2013``'s reference border mode) get visibility 0 and
    are excluded from pooling by :func:`pool_visibility`.
    """
    if reference_luma.shape != distorted_luma.shape or reference_luma.shape != threshold.shape:
        raise JndViewerError(
            "The reference, the distorted image and the JND map must have the same size "
            f"({tuple(reference_luma.shape)}, {tuple(distorted_luma.shape)}, {tuple(threshold.shape)})."
        )
    difference = (distorted_luma - reference_luma).abs_()
    safe = torch.where(threshold > 0, threshold, torch.ones_like(threshold))
    return torch.where(threshold > 0, difference / safe, torch.zeros_like(difference))


@dataclass(frozen=True)
class VisibilityScores:
    """Pooled visibility of one image.

    Attributes
    ----------
    fraction_visible
        Share of pixels with v > 1.
    minkowski
        ``mean(v ** beta) ** (1 / beta)``.
    max_window_mean
        The largest mean of v over any ``window x window`` square (the whole image if it is smaller).
    mean
        Plain mean of v.
    minkowski_exponent, window
        The pooling parameters used.
    """

    fraction_visible: float
    minkowski: float
    max_window_mean: float
    mean: float
    minkowski_exponent: float
    window: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def pool_visibility(
    visibility: Tensor,
    *,
    minkowski_exponent: float = DEFAULT_MINKOWSKI_EXPONENT,
    window: int = DEFAULT_WINDOW,
    valid: Tensor | None = None,
) -> list[VisibilityScores]:
    """Pool each map of an N x 1 x H x W (or H x W) visibility batch; returns one :class:`VisibilityScores` each.

    ``valid`` (bool, same shape) restricts the fraction, Minkowski and mean to some pixels; by default pixels with
    v = 0 exactly *and* a zero threshold cannot be told apart, so callers pass the mask of positive thresholds when
    they have one.
    """
    if minkowski_exponent <= 0:
        raise JndViewerError("The Minkowski exponent must be positive.")
    if window < 1:
        raise JndViewerError("The pooling window must be at least one pixel.")
    if visibility.dim() == 2:
        visibility = visibility[None, None]
        valid = None if valid is None else valid[None, None]
    v = visibility.double()
    mask = torch.ones_like(v, dtype=torch.bool) if valid is None else valid.to(torch.bool)
    count = mask.sum(dim=(-1, -2, -3)).clamp(min=1).double()
    masked = torch.where(mask, v, torch.zeros_like(v))
    fraction = ((masked > 1.0) & mask).sum(dim=(-1, -2, -3)).double() / count
    mean = masked.sum(dim=(-1, -2, -3)) / count
    peak = masked.amax(dim=(-1, -2, -3), keepdim=True).clamp(min=1e-300)
    # Minkowski pooling with the peak factored out, so that large exponents cannot overflow.
    minkowski = peak.flatten() * ((masked / peak).pow(minkowski_exponent).sum(dim=(-1, -2, -3)) / count).pow(
        1.0 / minkowski_exponent
    )
    side = min(window, *v.shape[-2:])
    max_window = (window_sum_valid(masked, side) / (side * side)).amax(dim=(-1, -2, -3))
    return [
        VisibilityScores(
            fraction_visible=float(fraction[i]),
            minkowski=float(minkowski[i]),
            max_window_mean=float(max_window[i]),
            mean=float(mean[i]),
            minkowski_exponent=float(minkowski_exponent),
            window=int(side),
        )
        for i in range(v.shape[0])
    ]


def pooled_score(
    visibility: Tensor,
    pooling: str,
    *,
    minkowski_exponent: float = DEFAULT_MINKOWSKI_EXPONENT,
    window: int = DEFAULT_WINDOW,
) -> float:
    """One pooling (``minkowski``, ``max_window`` or ``fraction``) of one visibility map, as :func:`pool_visibility`
    computes it for a map without a mask, without computing the others (the predictor's decision per level)."""
    v = visibility.double()
    if pooling == "minkowski":
        if minkowski_exponent <= 0:
            raise JndViewerError("The Minkowski exponent must be positive.")
        peak = v.amax().clamp(min=1e-300)
        return float(peak * ((v / peak).pow(minkowski_exponent).sum() / v.numel()).pow(1.0 / minkowski_exponent))
    if pooling == "max_window":
        if window < 1:
            raise JndViewerError("The pooling window must be at least one pixel.")
        side = min(window, *v.shape[-2:])
        if v.dim() == 2:
            v = v[None, None]
        return float((window_sum_valid(v, side) / (side * side)).amax())
    if pooling == "fraction":
        return float((v > 1.0).sum().double() / v.numel())
    raise JndViewerError(f"Unknown pooling {pooling!r}; use one of {', '.join(POOLINGS)}.")
