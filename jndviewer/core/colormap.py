"""Colour maps shared by the CLI's PNG output and the explorer (Qt-free).

Tables live in ``jndviewer/assets/colormaps`` (see LICENSES.md there): ``inferno`` and ``viridis`` for magnitudes
(JND maps, components), ``diverging`` (CET-D1A, blue - white - red) for the visibility ratio.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from jndviewer.core.assets import asset
from jndviewer.core.errors import JndViewerError

COLORMAPS = ("inferno", "viridis", "diverging")

#: The visibility ratio |distortion| / JND is shown on a fixed log2 scale from 1/4 to 4, centred (white) at 1.0.
VISIBILITY_RANGE = (0.25, 4.0)


@cache
def lookup_table(name: str) -> np.ndarray:
    """The 256 x 3 uint8 RGB table of a colour map."""
    if name not in COLORMAPS:
        raise JndViewerError(f"Unknown colour map {name!r}; choose one of {', '.join(COLORMAPS)}.")
    table = np.loadtxt(asset("colormaps", f"{name}.csv"), delimiter=",", comments="#")
    lut = np.clip(np.rint(table * 255.0), 0, 255).astype(np.uint8)
    lut.setflags(write=False)
    return lut


def apply_colormap(values: np.ndarray, vmin: float, vmax: float, name: str = "inferno") -> np.ndarray:
    """Map a 2-D float array linearly from [vmin, vmax] onto a colour map; returns H x W x 3 uint8.

    Values outside the range take the end colours; NaN takes the lowest colour.
    """
    if not vmax > vmin:
        vmax = vmin + 1.0
    scaled = (np.asarray(values, dtype=np.float64) - vmin) / (vmax - vmin)
    index = np.clip(np.nan_to_num(scaled, nan=0.0) * 255.0 + 0.5, 0, 255).astype(np.intp)
    return lookup_table(name)[index]


def visibility_position(visibility: np.ndarray) -> np.ndarray:
    """Position in [0, 1] of visibility ratios on the fixed log2 scale (1/4 -> 0, 1 -> 0.5, 4 -> 1)."""
    low, high = VISIBILITY_RANGE
    with np.errstate(divide="ignore"):
        logv = np.log2(np.maximum(np.asarray(visibility, dtype=np.float64), 1e-12))
    return np.clip((logv - math.log2(low)) / (math.log2(high) - math.log2(low)), 0.0, 1.0)


def visibility_colors(visibility: np.ndarray) -> np.ndarray:
    """Colour a visibility map on the fixed diverging scale: blue below 1 (invisible), white at 1, red above."""
    index = np.rint(visibility_position(visibility) * 255.0).astype(np.intp)
    return lookup_table("diverging")[index]
