"""The training samples' helpers shared by the predictor trainers (SG-JND, VP-JNDnet): which levels of a sample are
worth caching, its viewing condition, its reference pixels and a level's decoded pixels, and the per-level label."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from jndviewer.core.datasets.sample import is_worse
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import SIDE_BY_SIDE, ViewingCondition

#: The viewing condition of the reference labels' fitted display (cvvdp ``standard_fhd``, 38 pixels per degree).
LABEL_PPD = 38.0


def cached_levels(sample: Any, window: int) -> list[int]:
    """Levels whose features are cached for one sample: every second level near the label and a few far ones."""
    levels = list(sample.levels)
    label = sample.jnd_level
    near = [lv for lv in levels if abs(lv - label) <= window]
    chosen = set(near[::2]) | {levels[0], levels[-1], levels[len(levels) // 2]}
    chosen.add(min(levels, key=lambda lv: abs(lv - label)))
    return sorted(chosen)


def sample_task(sample: Any) -> str:
    """The viewing task a sample's label is for (side by side unless its reader says otherwise)."""
    return str(sample.meta.get("task", SIDE_BY_SIDE))


def sample_condition(sample: Any) -> ViewingCondition:
    """The viewing condition a sample's label is for: its task, and its display's pixels per degree (38, the labels'
    fitted display, unless its reader says otherwise). The patch visibility of its levels is computed at it."""
    ppd = sample.meta.get("ppd")
    return ViewingCondition(float(ppd) if ppd else LABEL_PPD, sample_task(sample))


def sample_reference(sample: Any) -> Any:
    """A sample's reference pixels as its observers saw them: cropped to ``meta["crop"]`` (x, y, width, height) when
    the reader gives one (a study's image crops), else whole."""
    from jndviewer.core.image import load

    rgb = load(sample.reference).rgb8()
    crop = sample.meta.get("crop")
    if crop:
        x, y, w, h = (int(v) for v in crop)
        if x < 0 or y < 0 or x + w > rgb.shape[1] or y + h > rgb.shape[0]:
            raise JndViewerError(f"The crop {crop} of {sample.source} lies outside its reference image.")
        rgb = np.ascontiguousarray(rgb[y : y + h, x : x + w])
    return rgb


def is_visible(sample: Any, level: int) -> bool:
    """The per-level training label: worse than the PW-JND is visible."""
    return is_worse(level, sample.jnd_level, sample.better)


def decoded_level(sample: Any, level: int, rgb: np.ndarray, codec: Any) -> np.ndarray:
    if level in sample.distorted:
        from jndviewer.core.image import load

        return load(sample.distorted[level]).rgb8()
    return codec.encode(rgb, level).decoded




def pwjnd_from_decisions(levels: list[int], visible: list[bool], better: str) -> int:
    """The exhaustive PW-JND over ``levels`` (ascending) from per-level decisions: from the best level towards the
    worst, the last level before the first visible one (the best level when even that is visible)."""
    ordered = list(range(len(levels))) if better == "higher" else list(reversed(range(len(levels))))
    predicted = levels[ordered[-1]]
    for position in reversed(ordered):  # from the best level down to the first visible one
        if visible[position]:
            break
        predicted = levels[position]
    return predicted


#: The per-condition calibration's search: logit deltas from -CALIBRATION_RANGE to +CALIBRATION_RANGE.
CALIBRATION_RANGE = 8.0
CALIBRATION_STEP = 0.05


def fit_condition_deltas(rows: Iterable[tuple[str, Sequence[int], np.ndarray, str, float]]) -> dict[str, float]:
    """Per condition key (:func:`jndviewer.core.pwjnd.patch_pooling.calibration_key`): the logit delta minimising the
    mean absolute error of the exhaustive PW-JND, the smallest such delta in size.

    ``rows``: ``(key, levels, logits at those levels, better, label)`` per labelled ladder. Cross-entropy training
    makes each level's decision as right as it can, which is not the same as putting the first visible level at the
    label; this fit does the latter, as the training-free predictor's threshold fit does.
    """
    deltas = np.round(np.arange(-CALIBRATION_RANGE, CALIBRATION_RANGE + 1e-9, CALIBRATION_STEP), 4)
    errors: dict[str, np.ndarray] = {}
    for key, levels, logits, better, label in rows:
        row = np.array([abs(pwjnd_from_decisions(list(levels), list(logits + d > 0), better) - label)
                        for d in deltas])
        errors[key] = errors.get(key, 0) + row
    fitted = {}
    for key, total in errors.items():
        best = np.flatnonzero(total == total.min())
        fitted[key] = float(deltas[best[np.argmin(np.abs(deltas[best]))]]) + 0.0  # + 0.0: no -0.0 (np.round)
    return fitted


__all__ = ["CALIBRATION_RANGE", "CALIBRATION_STEP", "LABEL_PPD", "cached_levels", "decoded_level",
           "fit_condition_deltas", "is_visible", "pwjnd_from_decisions", "sample_condition",
           "sample_reference", "sample_task"]
