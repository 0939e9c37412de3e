"""The registry of the pixel-wise JND models (torch modules), by name."""

from __future__ import annotations

from typing import Any

from jndviewer.core.errors import ModelError
from jndviewer.core.jnd.base import JNDModel
from jndviewer.core.jnd.chou1995 import Chou1995
from jndviewer.core.jnd.wu2013 import Wu2013
from jndviewer.core.jnd.wu2017 import Wu2017
from jndviewer.core.jnd.yang2005 import Yang2005

#: Registry of the pixel-wise JND models by name.
MODELS: dict[str, type[JNDModel]] = {cls.name: cls for cls in (Chou1995, Yang2005, Wu2013, Wu2017)}


def create_model(name: str, **params: Any) -> JNDModel:
    """Instantiate a registered model, e.g. ``create_model("wu2017", border="zero")``."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ModelError(f"Unknown JND model {name!r}; choose one of {', '.join(MODELS)}.") from None
    return cls(**params)


def warm_up() -> None:
    """Compile (or load from numba's cache) every compiled kernel once, on a tiny image; ``./dev`` runs this after
    setup so that the first map in the explorer does not wait for the compiler (about half a minute in all)."""
    import torch

    luma = torch.linspace(0.0, 255.0, 48 * 64).reshape(1, 1, 48, 64)
    for name in MODELS:
        create_model(name)(luma)
