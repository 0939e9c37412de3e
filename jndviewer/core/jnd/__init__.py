"""Pixel-wise JND models, by registry name.

>>> from jndviewer.core.jnd import create_model
>>> model = create_model("wu2017")            # doctest: +SKIP
>>> jnd = model(luma)                          # luma: N x 1 x H x W in [0, 255]  # doctest: +SKIP
>>> jnd.threshold, jnd.components["pattern_complexity"]  # doctest: +SKIP

Definitions: docs/jnd_models.md. The models are torch modules; this package imports torch only when one of them is
asked for (``MODELS``, ``create_model``, ...), so that :mod:`~jndviewer.core.jnd.definitions` and the NumPy forms of
:mod:`~jndviewer.core.jnd.numpy_models` (the one-shot ``jndviewer map``) load without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jndviewer.core.catalog import DEFAULT_JND_MODEL as DEFAULT_MODEL

if TYPE_CHECKING:
    from jndviewer.core.jnd.base import JNDMap, JNDModel
    from jndviewer.core.jnd.registry import MODELS, create_model, warm_up

#: Where each name that needs torch is defined (imported on first use, PEP 562).
_TORCH_NAMES = {
    "JNDMap": "base",
    "JNDModel": "base",
    "MODELS": "registry",
    "create_model": "registry",
    "warm_up": "registry",
    "Chou1995": "chou1995",
    "Yang2005": "yang2005",
    "Wu2013": "wu2013",
    "Wu2017": "wu2017",
}


def __getattr__(name: str) -> Any:
    if name not in _TORCH_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_TORCH_NAMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_TORCH_NAMES})


__all__ = ["DEFAULT_MODEL", "MODELS", "JNDMap", "JNDModel", "create_model", "warm_up"]
