"""Where jndviewer's shipped files are: the one place that knows.

Shipped files are package data under ``jndviewer/assets/`` and are found through the package
(:func:`importlib.resources.files`), so a wheel installed without ``-e`` finds them as a source checkout does:

- ``sample.png``: the bundled sample image (Kodak ``kodim23``);
- ``pwjnd_calibration.json``: the training-free predictor's calibrated thresholds;
- ``colormaps/``: the colour-map tables;
- ``models/``: the weights this project trained (``sgjnd.pt``, ``learned_codec.pt``) with ``MODEL_CARD.md``.

Files that only a source checkout has (the reference labels in ``resources/labels/``, the project's data folder
``../shared`` beside the checkout) are the defaults of the training and calibration commands; outside a checkout
they are None, and the commands say in one sentence what to pass instead.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from jndviewer.core.errors import JndViewerError

#: The bundled sample image, the calibration and the shipped weights, by file name.
SAMPLE_IMAGE = "sample.png"
CALIBRATION = "pwjnd_calibration.json"
SGJND_WEIGHTS = "sgjnd.pt"
VPJND_WEIGHTS = "vpjnd.pt"
SGJND_REFERENCE = "sgjnd.reference.json"
LEARNED_CODEC_WEIGHTS = "learned_codec.pt"
LEARNED_CODEC_RD = "learned_codec.rd.json"
MODEL_CARD = "MODEL_CARD.md"


def assets_dir() -> Path:
    """The folder of the shipped files inside the installed package."""
    root = files("jndviewer") / "assets"
    if not isinstance(root, Path):  # a zipped install: jndviewer needs its files on disk (torch, numpy read paths)
        raise JndViewerError("jndviewer is installed as a zip archive; install it as files (pip install) to use it.")
    return root


def asset(*parts: str) -> Path:
    """A shipped file by its path below ``assets/``, e.g. ``asset("colormaps", "inferno.csv")`` (it may not exist)."""
    return assets_dir().joinpath(*parts)


def sample_image() -> Path:
    """The bundled sample image."""
    return asset(SAMPLE_IMAGE)


#: An environment variable naming another calibration file to use instead of the packaged one (for example one fitted
#: to a person's study answers by ``jndviewer calibrate --labels study:DB``).
CALIBRATION_ENV = "JNDVIEWER_CALIBRATION"


def calibration_file() -> Path:
    """The training-free predictor's calibration (``jndviewer calibrate`` writes it): the packaged one, or the file
    named by the environment variable ``JNDVIEWER_CALIBRATION``."""
    override = os.environ.get(CALIBRATION_ENV)
    return Path(override).expanduser() if override else asset(CALIBRATION)


def model_file(name: str) -> Path:
    """Shipped weights (or their card and records) by file name, e.g. ``model_file("sgjnd.pt")``."""
    return asset("models", name)


def source_checkout() -> Path | None:
    """The repository root when jndviewer runs from a source checkout (None for an installed wheel)."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "resources").is_dir() else None


def checkout_file(relative: str) -> Path | None:
    """A file of the source checkout, such as ``resources/labels/pwjnd_reference_train.csv``; None outside one."""
    root = source_checkout()
    return None if root is None else root / relative


def shared_images() -> Path | None:
    """The project's image folder ``../shared/data/images`` beside a source checkout, when it is there."""
    root = source_checkout()
    folder = None if root is None else root.parent / "shared" / "data" / "images"
    return folder if folder is not None and folder.is_dir() else None


__all__ = [
    "CALIBRATION", "LEARNED_CODEC_RD", "LEARNED_CODEC_WEIGHTS", "MODEL_CARD", "SAMPLE_IMAGE", "SGJND_REFERENCE",
    "SGJND_WEIGHTS", "VPJND_WEIGHTS", "asset", "assets_dir", "calibration_file", "checkout_file", "model_file",
    "sample_image", "shared_images", "source_checkout",
]
