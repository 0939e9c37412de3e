"""Option values of the command line: argparse types that refuse nonsense in one line, and the worker count.

The types raise :class:`argparse.ArgumentTypeError`, so argparse reports ``argument --NAME: ...`` and exits with
status 2, like every other user error of ``jndviewer``. This module imports neither torch nor numpy.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from jndviewer.core.errors import JndViewerError

__all__ = ["TRAINING_LABELS", "TRAINING_LABELS_EVERY_LEVEL", "distance_experts", "level_spec", "pixel_count",
           "positive_float", "positive_int", "shared_images_folder", "training_labels"]

#: The reference labels read on the JOD curves' grid (in a source checkout): the default of ``calibrate`` (the
#: training-free predictor's thresholds are fitted at the grid levels) and of ``train vpjnd`` (the shipped networks
#: learned them).
TRAINING_LABELS = "resources/labels/pwjnd_reference_train.csv"
#: The same labels read at every level where they lie (tools/cvvdp/README.md, "Training curves at every level"): the
#: default of ``train sgjnd`` (the shipped heads learned them; models/MODEL_CARD.md).
TRAINING_LABELS_EVERY_LEVEL = "resources/labels/pwjnd_reference_train_every_level.csv"


def positive_float(text: str) -> float:
    """A finite number above 0 (``nan``, ``inf``, 0 and negative numbers are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, not {text!r}")
    return value


def pixel_count(text: str) -> int:
    """A positive whole number of pixels, also written as ``2e8`` or ``200_000_000``."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number.is_integer()):
            raise argparse.ArgumentTypeError(f"must be a whole number of pixels such as 120000000 or 1.2e8, not "
                                             f"{text!r}") from None
        value = int(number)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of pixels, not {text!r}")
    return value


def level_spec(text: str) -> str:
    """``LOW:HIGH[:STEP]`` with LOW <= HIGH and STEP >= 1, or a comma-separated list of whole numbers.

    The text is returned unchanged; which levels a codec has is checked when the codec is known.
    """
    usage = "must be LOW:HIGH[:STEP] (LOW up to HIGH, STEP at least 1) or a comma-separated list such as 10,50,90"
    try:
        if ":" in text:
            parts = [int(part) for part in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            low, high, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
            if step < 1:
                raise argparse.ArgumentTypeError(f"the step of {text!r} must be at least 1")
            if low > high:
                swapped = ":".join(str(part) for part in (high, low, *parts[2:]))
                raise argparse.ArgumentTypeError(f"{text!r} names no level: LOW must not be above HIGH (did you mean "
                                                 f"{swapped}?)")
        else:
            for part in text.split(","):
                int(part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{usage}, not {text!r}") from None
    return text


def distance_experts(text: str) -> tuple[float, ...]:
    """Increasing pixels per degree, two or more (``38,75``), or ``none`` (the empty tuple)."""
    if text.strip().lower() == "none":
        return ()
    try:
        values = tuple(positive_float(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        values = ()
    if len(values) < 2 or list(values) != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"must be two or more increasing pixels per degree such as 38,75, or none, "
                                         f"not {text!r}")
    return values


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def shared_images_folder(option: str) -> Path:
    """../shared's image folder, the default of training and calibration; one sentence when it is not there."""
    from jndviewer.core.assets import shared_images

    folder = shared_images()
    if folder is None:
        raise JndViewerError(f"The project's images (../shared/data/images beside a source checkout) are not here; "
                             f"pass {option}.")
    return folder


def training_labels(option: str, name: str = TRAINING_LABELS) -> Path:
    """The reference labels ``name`` of a source checkout (:data:`TRAINING_LABELS` or
    :data:`TRAINING_LABELS_EVERY_LEVEL`), the default of training and calibration."""
    from jndviewer.core.assets import checkout_file

    labels = checkout_file(name)
    if labels is None or not labels.is_file():
        raise JndViewerError(f"The reference labels ({name}) come with a source checkout only; pass {option}.")
    return labels
