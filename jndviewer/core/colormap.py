"""Colour maps shared by the CLI's PNG output and the explorer (Qt-free).

Tables live in ``jndviewer/assets/colormaps`` (see LICENSES.md there): ``inferno`` and ``viridis`` for magnitudes
(JND maps, components), ``diverging`` (CET-D1A, blue - white - red) for the visibility ratio.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from jndviewer.core.assets import asset
from jndviewer.core.errors import JndViewerError

COLORMAPS = ("inferno", "viridis", "diverging")

#: The visibility ratio (1 = the threshold) is shown on a fixed scale that keeps most of the colour bar near 1:
#: piecewise linear in log2 between these (ratio, position) knots, so the octave either side of the threshold
#: (1/2 to 2) takes 60 % of the bar (30 % each), the next octaves 12 % and 8 % each side; 1/8 and 8 are its ends
#: (beyond them the end colours), 1 its centre (white). On a linear scale from 1/8 to 8, 1/2 to 2 would take 19 %.
VISIBILITY_KNOTS = ((0.125, 0.0), (0.25, 0.08), (0.5, 0.2), (1.0, 0.5), (2.0, 0.8), (4.0, 0.92), (8.0, 1.0))
VISIBILITY_RANGE = (VISIBILITY_KNOTS[0][0], VISIBILITY_KNOTS[-1][0])


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
    """Position in [0, 1] of visibility ratios on the fixed scale of :data:`VISIBILITY_KNOTS` (1/8 -> 0, 1/2 -> 0.2,
    1 -> 0.5, 2 -> 0.8, 8 -> 1; piecewise linear in log2 between the knots, clipped at the ends; 0 and NaN -> 0)."""
    ratios, positions = (np.array(column, dtype=np.float64) for column in zip(*VISIBILITY_KNOTS, strict=True))
    values = np.nan_to_num(np.asarray(visibility, dtype=np.float64), nan=0.0)
    with np.errstate(divide="ignore"):
        logv = np.log2(np.maximum(values, 1e-12))
    return np.interp(logv, np.log2(ratios), positions)


def visibility_colors(visibility: np.ndarray) -> np.ndarray:
    """Colour a visibility map on the fixed diverging scale (:func:`visibility_position`): blue below 1 (invisible),
    white at 1, red above."""
    index = np.rint(visibility_position(visibility) * 255.0).astype(np.intp)
    return lookup_table("diverging")[index]
