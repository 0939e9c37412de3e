"""A line profile, Qt-free: the values of several arrays along a line drawn on the image.

Coordinates are the explorer's image coordinates: x to the right, y down, in image pixels, pixel (row i, column j)
covering ``[j, j + 1) x [i, i + 1)`` with its centre at ``(j + 0.5, i + 0.5)`` (as the canvas draws it). The line is
sampled at evenly spaced points, about one per image pixel of its length, both ends included. An array may have
another size than the image (the maps at the predictor's analysis scale): it is stretched over the image, as the
canvas stretches it, so a point lands on the array's own pixel grid at ``x * w / W - 0.5`` (columns) and
``y * h / H - 0.5`` (rows).

Sampling is **bilinear** between the four nearest pixel centres (clamped at the borders) by default, or **nearest**
(the pixel the point lies in). Either way a point at a pixel centre of an array of the image's size returns that
pixel exactly, so a horizontal line from ``(0.5, r + 0.5)`` to ``(W - 0.5, r + 0.5)`` returns row ``r``.

An ``H x W x 3`` RGB array gives its BT.601 luma (the weights of :mod:`jndviewer.core.image`, as the JND maps and the
cursor readout measure it), sampled channel by channel (the same as sampling the luma: the sum is linear).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from jndviewer.core.errors import JndViewerError

METHODS = ("bilinear", "nearest")


@dataclass(frozen=True)
class LineProfile:
    """Values along a line: ``distance`` (image pixels from the start), the points ``x``, ``y``, and per array name
    its ``values`` (arrays that were None are left out)."""

    start: tuple[float, float]
    end: tuple[float, float]
    distance: np.ndarray
    x: np.ndarray
    y: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def length(self) -> float:
        return float(math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))


def line_points(
    start: tuple[float, float], end: tuple[float, float], step: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x``, ``y`` and the distance from ``start`` of evenly spaced points on the line, about ``step`` image pixels
    apart (``round(length / step) + 1`` points, both ends included; at least 2)."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    count = max(2, round(length / step) + 1)
    t = np.linspace(0.0, 1.0, count)
    return x0 + t * (x1 - x0), y0 + t * (y1 - y0), t * length


def sample(
    array: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    image_size: tuple[int, int] | None = None,
    method: str = "bilinear",
) -> np.ndarray:
    """The values of a 2-D ``array`` (or the luma of an ``H x W x 3`` RGB one) at image points ``(x, y)``;
    ``image_size`` is the image's (width, height) when the array is stretched over an image of another size (default:
    the array's own size)."""
    if method not in METHODS:
        raise JndViewerError(f"Unknown sampling {method!r}; choose {' or '.join(METHODS)}.")
    values = np.asarray(array)
    if values.ndim == 3 and values.shape[2] == 3:
        from jndviewer.core.image import LUMA_WEIGHTS

        channels = [sample(values[..., c], x, y, image_size, method) for c in range(3)]
        return sum(w * channel for w, channel in zip(LUMA_WEIGHTS, channels, strict=True))
    if values.ndim != 2 or not values.size:
        raise JndViewerError(f"A profile samples 2-D arrays, not one of shape {values.shape}.")
    height, width = values.shape
    image_width, image_height = image_size if image_size is not None else (width, height)
    u = np.asarray(x, dtype=np.float64) * width / image_width
    v = np.asarray(y, dtype=np.float64) * height / image_height
    if method == "nearest":
        cols = np.clip(np.floor(u).astype(np.intp), 0, width - 1)
        rows = np.clip(np.floor(v).astype(np.intp), 0, height - 1)
        return values[rows, cols].astype(np.float64)
    u = np.clip(u - 0.5, 0.0, width - 1)
    v = np.clip(v - 0.5, 0.0, height - 1)
    c0, r0 = np.floor(u).astype(np.intp), np.floor(v).astype(np.intp)
    c1, r1 = np.minimum(c0 + 1, width - 1), np.minimum(r0 + 1, height - 1)
    fu, fv = u - c0, v - r0
    data = values.astype(np.float64, copy=False)
    top = data[r0, c0] * (1.0 - fu) + data[r0, c1] * fu
    bottom = data[r1, c0] * (1.0 - fu) + data[r1, c1] * fu
    return top * (1.0 - fv) + bottom * fv


def line_profile(
    start: tuple[float, float],
    end: tuple[float, float],
    arrays: dict[str, np.ndarray | None],
    image_size: tuple[int, int],
    *,
    method: str = "bilinear",
    step: float = 1.0,
) -> LineProfile:
    """Sample every array of ``arrays`` (None: left out) along the line from ``start`` to ``end`` on an image of
    ``image_size`` (width, height); each array is stretched over the image whatever its size."""
    x, y, distance = line_points(start, end, step)
    values = {name: sample(array, x, y, image_size, method) for name, array in arrays.items() if array is not None}
    return LineProfile((float(start[0]), float(start[1])), (float(end[0]), float(end[1])), distance, x, y, values)


__all__ = ["METHODS", "LineProfile", "line_points", "line_profile", "sample"]
