"""The training-free predictor's calibration file: its thresholds, its default variant and how variants are named.

``jndviewer calibrate`` (:mod:`jndviewer.core.pwjnd.calibrate`) fits a decision threshold for every visibility map
and pooling ("variant") on reference labels and writes them, with the variant of smallest error as the default, to
the packaged ``pwjnd_calibration.json`` (:func:`jndviewer.core.assets.calibration_file`). This module reads it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jndviewer.core.assets import calibration_file
from jndviewer.core.errors import JndViewerError

#: Pixels per degree at which the thresholds were calibrated (cvvdp ``standard_fhd``, README "Calibration").
CALIBRATION_PPD = 38.0


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


def calibrated_threshold(params: CalibratedParams, codec: str | None = None) -> float:
    """The threshold calibrated for this model and pooling (for ``codec`` when it has its own; JPEG's otherwise).

    One sentence when there is none.
    """
    calibration = load_calibration()
    per_codec = calibration.get("codec_thresholds", {}).get(codec or "", {})
    entry = per_codec.get(params.jnd_model, {}).get(params.variant())
    if entry is not None:
        return float(entry["threshold"])
    entry = calibration.get("thresholds", {}).get(params.jnd_model, {}).get(params.variant())
    if entry is None:
        raise JndViewerError(
            f"No calibrated threshold for {params.jnd_model} with {params.variant()} pooling; pass --threshold "
            "or run 'jndviewer calibrate'."
        )
    return float(entry["threshold"])


def default_choice(jnd_model: str | None = None) -> dict[str, Any]:
    """The calibration's recommended parameters as a dict (model, pooling, its parameter, model ppd).

    With ``jnd_model``, the best calibrated pooling and analysis scale of that model (just the model when it has
    none).
    """
    calibration = load_calibration()
    if jnd_model is None:
        return dict(calibration.get("default", {}))
    if calibration.get("thresholds", {}).get(jnd_model):
        fits = {jnd_model: calibration["thresholds"][jnd_model]}
        return default_variant(fits, calibration.get("ppd", CALIBRATION_PPD))
    return {"jnd_model": jnd_model}


__all__ = [
    "CALIBRATION_PPD", "calibrated_threshold", "default_choice", "default_variant", "load_calibration",
    "parse_variant_key", "variant_key",
]
