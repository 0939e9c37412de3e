"""Import CompressAI (1.2.8, installed with ``--no-deps``) without torchvision.

``compressai/registry/transforms.py`` imports ``torchvision.transforms`` only to fill a name registry, and PyPI's
torchvision cannot load beside the local CPU torch. When torchvision is unusable, an empty stand-in module is placed
in ``sys.modules`` before the import. Nothing of torchvision is used by jndviewer.
"""

from __future__ import annotations

import sys
import types
from functools import cache
from typing import Any

from jndviewer.core.errors import JndViewerError


@cache
def import_compressai() -> Any:
    """Return the ``compressai`` module, installing the torchvision stand-in first when needed."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # not installed, or the CUDA-built PyPI wheel that cannot load beside the CPU torch
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        stand_in = types.ModuleType("torchvision")
        stand_in.__path__ = []  # type: ignore[attr-defined]
        transforms = types.ModuleType("torchvision.transforms")
        stand_in.transforms = transforms  # type: ignore[attr-defined]
        sys.modules["torchvision"] = stand_in
        sys.modules["torchvision.transforms"] = transforms
    try:
        import compressai
    except ImportError as err:
        raise JndViewerError(
            f"The learned codecs need CompressAI 1.2.8 (pip install --no-deps compressai==1.2.8): {err}."
        ) from err
    return compressai
