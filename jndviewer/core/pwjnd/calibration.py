"""The training-free predictor's calibration file: its thresholds, its default variant and how variants are named.

``jndviewer calibrate`` (:mod:`jndviewer.core.pwjnd.calibrate`) fits a decision threshold for every visibility map
and pooling ("variant") on reference labels and writes them, with the variant of smallest error as the default, to
the packaged ``pwjnd_calibration.json`` (:func:`jndviewer.core.assets.calibration_file`). This module reads it.

Thresholds are fitted per codec, viewing task and viewing distance: the file's root holds the side-by-side fit at
38 ppd (``thresholds`` for JPEG, ``codec_thresholds`` for codecs with their own labels), and ``conditions`` holds the
other fits in the same layout, keyed like ``flicker@38`` or ``side-by-side@75``. A condition's threshold is its
task's fit at its ppd; between two calibrated distances it is interpolated geometrically in log ppd (outside them,
the nearest is used). A codec without a fit of its own takes JPEG's.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jndviewer.core.assets import calibration_file
from jndviewer.core.catalog import SUBBAND
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import SIDE_BY_SIDE, ViewingCondition

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


def interpolate_in_log_ppd(points: list[tuple[float, float]], ppd: float) -> float:
    """A threshold at ``ppd`` from (ppd, threshold) points: geometric interpolation in log ppd between the two
    around it, the nearest point outside them."""
    points = sorted(points)
    if ppd <= points[0][0]:
        return points[0][1]
    if ppd >= points[-1][0]:
        return points[-1][1]
    for (low_ppd, low), (high_ppd, high) in itertools.pairwise(points):
        if low_ppd <= ppd <= high_ppd:
            weight = math.log(ppd / low_ppd) / math.log(high_ppd / low_ppd)
            return math.exp((1.0 - weight) * math.log(low) + weight * math.log(high))
    raise AssertionError("unreachable: ppd lies within the points")


def calibrated_threshold(
    params: CalibratedParams, codec: str | None = None, condition: ViewingCondition | None = None
) -> float:
    """The threshold calibrated for this model and pooling, for ``codec`` (its own fits when it has them, JPEG's
    otherwise) and the viewing ``condition`` (its task's fits, interpolated in ppd; the default condition when None).

    One sentence when there is none.
    """
    condition = condition or ViewingCondition()
    variant = params.variant()
    sections = task_sections(load_calibration(), condition.task)
    own, jpeg = [], []
    for ppd, section in sections:
        if params.jnd_model == SUBBAND:  # no analysis scale: its fits are keyed by the distance they were made at
            variant = variant.rsplit("@", 1)[0] + f"@{ppd:g}"
        entry = section.get("codec_thresholds", {}).get(codec or "", {}).get(params.jnd_model, {}).get(variant)
        if entry is not None:
            own.append((ppd, float(entry["threshold"])))
        entry = section.get("thresholds", {}).get(params.jnd_model, {}).get(variant)
        if entry is not None:
            jpeg.append((ppd, float(entry["threshold"])))
    points = own or jpeg
    if not points:
        raise JndViewerError(
            f"No calibrated threshold for {params.jnd_model} with {variant} pooling for the {condition.task} task; "
            "pass --threshold or run 'jndviewer calibrate'."
        )
    return interpolate_in_log_ppd(points, condition.ppd)


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
    "CALIBRATION_PPD", "calibrated_threshold", "condition_key", "default_choice", "default_variant",
    "interpolate_in_log_ppd", "load_calibration", "parse_variant_key", "task_sections", "variant_key",
]
