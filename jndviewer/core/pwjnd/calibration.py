"""The training-free predictor's calibration file: its thresholds, its default variant and how variants are named.

``jndviewer calibrate`` (:mod:`jndviewer.core.pwjnd.calibrate`) fits a decision threshold for every visibility map
and pooling ("variant") on reference labels and writes them, with the variant of smallest error as the default, to
the packaged ``pwjnd_calibration.json`` (:func:`jndviewer.core.assets.calibration_file`). This module reads it.

Thresholds are fitted per codec, viewing task and viewing distance: the file's root holds the side-by-side fit at
38 ppd (``thresholds`` for JPEG, ``codec_thresholds`` for codecs with their own labels), and ``conditions`` holds the
other fits in the same layout, keyed like ``flicker@38`` or ``side-by-side@75``. A condition's threshold is its
task's fit at its ppd; between two calibrated distances it is interpolated geometrically in log ppd (outside them,
the nearest is used). A codec without a fit of its own takes JPEG's. :func:`threshold_fit` says which of these
happened, and how well the fit did on its training images (results record it; ``predict`` says when it is weak).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jndviewer.core.assets import calibration_file
from jndviewer.core.catalog import SUBBAND
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import SIDE_BY_SIDE, TASK_WORDS, ViewingCondition, beyond_distances

#: Pixels per degree at which the thresholds were calibrated (cvvdp ``standard_fhd``, README "Calibration").
CALIBRATION_PPD = 38.0


def condition_key(task: str, ppd: float) -> str:
    """The key of a (task, ppd) section under ``conditions``: ``flicker@38``."""
    return f"{task}@{ppd:g}"


class CalibratedParams(Protocol):
    """What a threshold lookup needs to know of the predictor's parameters."""

    jnd_model: str

    def variant(self) -> str: ...


def variant_key(pooling: str, value: float, model_ppd: float) -> str:
    """A calibration key: pooling and model ppd, e.g. ``minkowski:4@19``, ``max_window:8@38``, ``fraction@38``."""
    if pooling == "minkowski":
        name = f"minkowski:{value:g}"
    elif pooling == "max_window":
        name = f"max_window:{int(value)}"
    else:
        name = "fraction"
    return f"{name}@{model_ppd:g}"


def parse_variant_key(key: str) -> tuple[str, float, float]:
    """``(pooling, value, model_ppd)`` of a :func:`variant_key` (``fraction`` has value 0)."""
    name, model_ppd = key.split("@")
    pooling, _, value = name.partition(":")
    return pooling, float(value or 0.0), float(model_ppd)


def default_variant(thresholds: dict[str, dict[str, Any]], ppd: float) -> dict[str, Any]:
    """The predictor parameters of the (model, variant) with the smallest MAE among all fitted ones."""
    _, model, key = min((fit["mae"], model, key) for model, fits in thresholds.items() for key, fit in fits.items())
    pooling, value, model_ppd = parse_variant_key(key)
    default: dict[str, Any] = {"jnd_model": model, "pooling": pooling, "ppd": ppd, "model_ppd": model_ppd}
    if pooling == "minkowski":
        default["minkowski_exponent"] = value
    elif pooling == "max_window":
        default["window"] = int(value)
    return default


@cache
def load_calibration(path: Path | None = None) -> dict[str, Any]:
    """The calibrated thresholds (``{model: {variant: {"threshold": t, ...}}, "default": {...}}``).

    ``path`` defaults to the packaged calibration; a missing or unreadable file is one sentence.
    """
    path = Path(path) if path is not None else calibration_file()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise JndViewerError(
            f"The predictor calibration {path.name} is missing from the installed jndviewer; reinstall it or run "
            "'jndviewer calibrate'."
        ) from err
    except (OSError, json.JSONDecodeError) as err:
        raise JndViewerError(f"The predictor calibration {path.name} is not readable ({err}).") from err


def task_sections(calibration: dict[str, Any], task: str) -> list[tuple[float, dict[str, Any]]]:
    """Every (ppd, section) of the file fitted for ``task``, sorted by ppd (the root is side by side)."""
    sections = []
    fitted = "thresholds" in calibration or "codec_thresholds" in calibration
    if calibration.get("task", SIDE_BY_SIDE) == task and fitted:
        sections.append((float(calibration.get("ppd", CALIBRATION_PPD)), calibration))
    for section in calibration.get("conditions", {}).values():
        if section.get("task") == task:
            sections.append((float(section["ppd"]), section))
    return sorted(sections, key=lambda item: item[0])


def _log_ppd_weights(ppds: list[float], ppd: float) -> list[tuple[int, float]]:
    """(index, weight) of the points that answer at ``ppd``: the two around it, weighted linearly in log ppd, or the
    nearest one outside them (``ppds`` sorted)."""
    if ppd <= ppds[0]:
        return [(0, 1.0)]
    if ppd >= ppds[-1]:
        return [(len(ppds) - 1, 1.0)]
    for index, (low, high) in enumerate(itertools.pairwise(ppds)):
        if low <= ppd <= high:
            weight = math.log(ppd / low) / math.log(high / low)
            return [(index, 1.0 - weight), (index + 1, weight)]
    raise AssertionError("unreachable: ppd lies within the points")


def interpolate_in_log_ppd(points: list[tuple[float, float]], ppd: float) -> float:
    """A threshold at ``ppd`` from (ppd, threshold) points: geometric interpolation in log ppd between the two
    around it, the nearest point outside them."""
    points = sorted(points)
    return _geometric_mix([v for _, v in points], _log_ppd_weights([p for p, _ in points], ppd))


def _geometric_mix(values: list[float], weights: list[tuple[int, float]]) -> float:
    """``prod(values[i] ** w)``; the value itself when one point answers (no rounding)."""
    if len(weights) == 1:
        return float(values[weights[0][0]])
    return math.exp(sum(w * math.log(values[i]) for i, w in weights))


@dataclass(frozen=True)
class ThresholdFit:
    """A calibrated decision threshold and where it came from: whose labels, which task, which distances, and how
    well the fit did on its own training images against the best constant level (both MAE in levels).

    ``fitted_codec`` differs from ``codec`` when the codec has no fit of its own and borrows JPEG's; ``ppds`` are the
    distances it was fitted at for this task (the value is interpolated between them in log ppd, and is the nearest
    one's outside them); the MAEs are interpolated like the threshold (None where the file does not hold them).
    """

    threshold: float
    codec: str
    fitted_codec: str
    task: str
    ppds: tuple[float, ...]
    training_mae: float | None = None
    constant_mae: float | None = None
    #: ``reference`` (the packaged proxy labels) or ``study:NAME`` (refitted to a person's answers, whose own error
    #: ``training_mae`` then is; no constant is claimed for it).
    labels: str = "reference"

    @property
    def borrowed(self) -> bool:
        """The codec has no fit of its own: its levels are judged with JPEG's threshold."""
        return self.fitted_codec != self.codec

    @property
    def no_better_than_constant(self) -> bool:
        """On its training images the fit erred more than predicting the median level for every image."""
        return (self.training_mae is not None and self.constant_mae is not None and self.constant_mae > 0
                and self.training_mae > self.constant_mae)

    def to_dict(self) -> dict[str, Any]:
        """What a result records (``params["calibration"]``)."""
        return {"codec": self.fitted_codec, "task": self.task, "ppds": list(self.ppds), "labels": self.labels,
                **({"training_mae": round(self.training_mae, 3)} if self.training_mae is not None else {}),
                **({"constant_mae": round(self.constant_mae, 3)} if self.constant_mae is not None else {})}

    def caveats(self, ppd: float) -> list[str]:
        """One sentence for each way this threshold is weaker than a fit for the codec at ``ppd`` would be."""
        notes = []
        task = TASK_WORDS.get(self.task, self.task)
        if self.borrowed:
            notes.append(f"{self.codec} has no calibration of its own: the training-free predictor judges its levels "
                         "with JPEG's thresholds, and its PW-JND is only as right as the two codecs' levels are alike.")
        nearest = min(self.ppds, key=lambda p: abs(math.log(ppd / p)))
        if beyond_distances(ppd, self.ppds):
            fitted = " and ".join(f"{p:g}" for p in self.ppds)
            notes.append(f"The training-free predictor's {self.fitted_codec} thresholds for the {task} task were "
                         f"fitted at {fitted} ppd; at {ppd:g} ppd the {nearest:g}-ppd ones are used as they are.")
        if self.no_better_than_constant:
            fitted_here = any(abs(math.log(ppd / p)) < 0.01 for p in self.ppds)
            interpolated = not fitted_here and min(self.ppds) < ppd < max(self.ppds)  # outside: the nearest fit's
            between = f" (interpolated between its fits at {' and '.join(f'{p:g}' for p in self.ppds)} ppd)" \
                if interpolated else ""
            notes.append(f"At {ppd:g} ppd ({task}) the training-free predictor's {self.fitted_codec} fit erred by "
                         f"{self.training_mae:.1f} levels on its training images{between}, more than guessing one "
                         f"level for every image would ({self.constant_mae:.1f}): treat its PW-JND here as a rough "
                         "guess.")
        return notes


def threshold_fit(
    params: CalibratedParams, codec: str | None = None, condition: ViewingCondition | None = None
) -> ThresholdFit:
    """The threshold calibrated for this model and pooling, for ``codec`` (its own fits when it has them, JPEG's
    otherwise) and the viewing ``condition`` (its task's fits, interpolated in log ppd; the default condition when
    None), with where it came from.

    One sentence when there is none.
    """
    condition = condition or ViewingCondition()
    codec = codec or "jpeg"
    variant = params.variant()
    sections = task_sections(load_calibration(), condition.task)
    own: list[tuple[float, dict[str, Any], float | None]] = []
    jpeg: list[tuple[float, dict[str, Any], float | None]] = []
    for ppd, section in sections:
        if params.jnd_model == SUBBAND:  # no analysis scale: its fits are keyed by the distance they were made at
            variant = variant.rsplit("@", 1)[0] + f"@{ppd:g}"
        entry = section.get("codec_thresholds", {}).get(codec, {}).get(params.jnd_model, {}).get(variant)
        if entry is not None:
            own.append((ppd, *_with_study(entry, section.get("codec_baseline_constant_mae", {}).get(codec))))
        entry = section.get("thresholds", {}).get(params.jnd_model, {}).get(variant)
        if entry is not None:
            jpeg.append((ppd, *_with_study(entry, section.get("baseline_constant_mae"))))
    points = own or jpeg
    if not points:
        pooling, value, model_ppd = parse_variant_key(variant)
        how = f"{pooling} {value:g}" if value else pooling
        raise JndViewerError(
            f"No calibrated threshold for {params.jnd_model} with {how} pooling at {model_ppd:g} ppd (the "
            f"calibration's key {variant}) for the {condition.task} task; pass --threshold or run 'jndviewer "
            "calibrate'."
        )
    weights = [(i, w) for i, w in _log_ppd_weights([p for p, _, _ in points], condition.ppd) if w > 0]

    def mixed(values: list[float | None]) -> float | None:
        total = 0.0
        for i, w in weights:
            value = values[i]
            if value is None:
                return None  # no claim where one of the fits it comes from holds none
            total += float(value) * w
        return total

    labels = [str(points[i][1].get("labels", "")) for i, _ in weights]
    study = [name for name in labels if name.startswith("study:")]
    return ThresholdFit(
        threshold=_geometric_mix([float(entry["threshold"]) for _, entry, _ in points], weights),
        codec=codec, fitted_codec=codec if own else "jpeg", task=condition.task,
        ppds=tuple(ppd for ppd, _, _ in points),
        training_mae=mixed([entry.get("mae") for _, entry, _ in points]),
        constant_mae=mixed([constant for _, _, constant in points]),
        labels=study[0] if study else "reference",
    )


def _with_study(entry: dict[str, Any], constant: float | None) -> tuple[dict[str, Any], float | None]:
    """A fit and its constant baseline; a fit refitted to a study's answers (``jndviewer calibrate --labels study:``)
    keeps the packaged fit's ``mae``, so its own error (``study_mae``) answers instead, with no constant claimed."""
    if str(entry.get("labels", "")).startswith("study:"):
        return {**entry, "mae": entry.get("study_mae")}, None
    return entry, constant


def calibrated_threshold(
    params: CalibratedParams, codec: str | None = None, condition: ViewingCondition | None = None
) -> float:
    """The value of :func:`threshold_fit`."""
    return threshold_fit(params, codec, condition).threshold


def default_choice(jnd_model: str | None = None, task: str = SIDE_BY_SIDE) -> dict[str, Any]:
    """The calibration's recommended parameters as a dict (model, pooling, its parameter, model ppd).

    The model is the file's default (side by side, the smallest JPEG error over every model) unless ``jnd_model``
    names one. The pooling and analysis scale are that model's best for ``task``: its smallest JPEG error among the
    task's fits at the calibration's distance (a flicker viewer sees small local distortions, which a pooling closer
    to the maximum reads; the numbers choose). Just the model when it has no fit.
    """
    calibration = load_calibration()
    root_ppd = float(calibration.get("ppd", CALIBRATION_PPD))
    model = jnd_model or calibration.get("default", {}).get("jnd_model")
    fits = None
    for ppd, section in task_sections(calibration, task):
        if abs(ppd - root_ppd) < 1e-6 and section.get("thresholds", {}).get(model):
            fits = {model: section["thresholds"][model]}
    if fits is None and task == SIDE_BY_SIDE and jnd_model is None:
        return dict(calibration.get("default", {}))
    if fits is None:
        fits = {model: calibration["thresholds"][model]} if calibration.get("thresholds", {}).get(model) else None
    return default_variant(fits, root_ppd) if fits else {"jnd_model": model}


__all__ = [
    "CALIBRATION_PPD", "ThresholdFit", "calibrated_threshold", "condition_key", "default_choice", "default_variant",
    "interpolate_in_log_ppd", "load_calibration", "parse_variant_key", "task_sections", "threshold_fit",
    "variant_key",
]
