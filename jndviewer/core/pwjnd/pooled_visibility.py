"""The training-free picture-wise JND predictor: pooled visibility against a calibrated threshold.

For a ladder level, a visibility map of the distortion (:class:`~jndviewer.core.visibility.scorer.VisibilityScorer`:
band-limited contrast thresholds of the subband model by default, or ``|distortion| / JND`` of a pixel-wise JND
model) is pooled to one score; the level counts as *visible* when the score exceeds a threshold calibrated per codec
on reference labels (:mod:`jndviewer.core.pwjnd.calibration`). A search strategy of ``core.pwjnd.search`` (VP-JND's
binary block search by default) finds the PW-JND with few encodes. The viewing condition enters twice: its distance
through the scorer (the subband model's frequencies), its task and distance through the calibrated threshold
(README "Calibration").

Its registry name is ``visibility`` (results files and ``--predictor`` keep that name).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from jndviewer.core.catalog import POOLINGS
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.base import LadderPredictor, LevelDecision
from jndviewer.core.pwjnd.calibration import (
    CALIBRATION_PPD,
    ThresholdFit,
    calibrated_threshold,
    default_choice,
    threshold_fit,
    variant_key,
)
from jndviewer.core.viewing import SIDE_BY_SIDE, ViewingCondition
from jndviewer.core.visibility.scorer import VisibilityScorer


@dataclass(frozen=True)
class PooledVisibilityParams:
    """Parameters of the training-free predictor.

    Attributes
    ----------
    jnd_model
        ``subband`` (band-limited contrast thresholds) or a pixel-wise JND model (``core.jnd`` registry name).
    pooling
        ``minkowski`` (mean(v^beta)^(1/beta)), ``max_window`` (largest mean of v over a window) or ``fraction``
        (share of pixels with v > 1).
    minkowski_exponent, window
        Pooling parameters.
    model_ppd
        Pixels per degree at which a pixel JND model applies at the image's own resolution; images are resampled
        by ``model_ppd / ppd``.
    threshold
        Score above which a level is visible; None takes the calibrated value for (model, pooling, parameters).
    """

    jnd_model: str = "wu2017"
    pooling: str = "minkowski"
    minkowski_exponent: float = 4.0
    window: int = 16
    model_ppd: float = CALIBRATION_PPD
    threshold: float | None = None

    def variant(self) -> str:
        """Calibration key: pooling and model ppd, e.g. ``minkowski:4@19``, ``max_window:8@38``, ``fraction@38``."""
        value = {"minkowski": self.minkowski_exponent, "max_window": self.window}.get(self.pooling, 0.0)
        return variant_key(self.pooling, value, self.model_ppd)


def default_params(jnd_model: str | None = None, task: str = SIDE_BY_SIDE) -> PooledVisibilityParams:
    """The calibration's recommended model and its best pooling for ``task``; with ``jnd_model``, that model's best
    calibrated pooling and analysis scale (the plain defaults with that model when it has none)."""
    known = {f.name for f in fields(PooledVisibilityParams)}
    return PooledVisibilityParams(**{k: v for k, v in default_choice(jnd_model, task).items() if k in known})


class PooledVisibilityDecider:
    """One image's scorer and the codec's threshold: a level is visible when its pooled score exceeds it.

    ``fit``: where a calibrated threshold came from (None for one given by the user), recorded in the result.
    """

    def __init__(self, scorer: VisibilityScorer, threshold: float, fit: ThresholdFit | None = None) -> None:
        self.scorer = scorer
        self.threshold = threshold
        self.fit = fit

    def decide(self, level: int, decoded_rgb: np.ndarray) -> LevelDecision:
        score = self.scorer.score(decoded_rgb)
        return LevelDecision(score > self.threshold, score)

    def result_params(self, level: int, decoded_rgb: np.ndarray) -> dict[str, Any]:
        params = asdict(self.scorer.params)
        return {**params, "threshold": self.threshold, "calibration": self.fit.to_dict() if self.fit else None}


class PooledVisibilityPredictor(LadderPredictor):
    """Training-free PW-JND predictor (see the module docstring).

    Parameters
    ----------
    params
        The map, pooling and threshold (default: the calibration's recommended ones).
    condition, strategy
        As for every :class:`~jndviewer.core.pwjnd.base.LadderPredictor`.
    device
        Torch device of the visibility maps.
    **overrides
        Fields of ``params`` to replace.
    """

    name = "visibility"
    default_strategy = "block"

    def __init__(
        self,
        params: PooledVisibilityParams | None = None,
        *,
        condition: ViewingCondition | None = None,
        strategy: str | None = None,
        device: Any = None,
        **overrides: Any,
    ) -> None:
        super().__init__(condition=condition, strategy=strategy)
        params = params or default_params(None, self.condition.task)
        self.params = replace(params, **overrides) if overrides else params
        if self.params.pooling not in POOLINGS:
            raise JndViewerError(f"Unknown pooling {self.params.pooling!r}; use one of {', '.join(POOLINGS)}.")
        if self.params.threshold is not None and not 0 < _as_float(self.params.threshold) < math.inf:
            raise JndViewerError(
                f"The decision threshold must be a positive finite number, not {self.params.threshold!r}."
            )
        self.threshold = (
            self.params.threshold if self.params.threshold is not None
            else calibrated_threshold(self.params, None, self.condition)
        )
        self.device = device

    def threshold_for(self, codec: str) -> float:
        """The decision threshold for a codec: the explicit one, or the one calibrated for the codec (JPEG's if it
        has none) and the viewing condition (its task; its distance)."""
        fit = self.threshold_fit(codec)
        return fit.threshold if fit is not None else self.params.threshold

    def threshold_fit(self, codec: str) -> ThresholdFit | None:
        """Where the codec's threshold comes from (:class:`~jndviewer.core.pwjnd.calibration.ThresholdFit`); None
        when the user gave one."""
        return None if self.params.threshold is not None else threshold_fit(self.params, codec, self.condition)

    def caveats(self, codec: str) -> list[str]:
        """One sentence for each way the threshold for ``codec`` (a family) at this condition is weak: borrowed from
        JPEG, used outside the distances it was fitted at, or no better than a constant on its training images."""
        fit = self.threshold_fit(codec)
        return fit.caveats(self.condition.ppd) if fit is not None else []

    def scorer(self, reference_rgb: np.ndarray, model: Any = None) -> VisibilityScorer:
        """The visibility scorer of one reference image under this predictor's condition (``model``: a pixel JND
        model with other parameters, for the explorer's map)."""
        return VisibilityScorer(reference_rgb, self.params, self.condition, self.device, model=model)

    def decider(self, reference_rgb: np.ndarray, codec: str) -> PooledVisibilityDecider:
        fit = self.threshold_fit(codec)
        threshold = fit.threshold if fit is not None else self.params.threshold
        return PooledVisibilityDecider(self.scorer(reference_rgb), threshold, fit)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


__all__ = ["PooledVisibilityDecider", "PooledVisibilityParams", "PooledVisibilityPredictor", "default_params"]
