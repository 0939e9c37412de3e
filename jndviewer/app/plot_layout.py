"""Helpers that keep the plots legible: an axis that ticks whole levels only, and label placement along a line that
stays clear of the curves, markers and other labels."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

#: Where a line's label may sit (fractions of the plot's height, bottom to top).
LABEL_CANDIDATES = tuple(np.round(np.arange(0.06, 0.95, 0.02), 3))
#: Clearance (px) beyond which a label position counts as free: then the right of the line, and the position nearest
#: the preferred one, win.
ENOUGH_CLEARANCE = 4.0
#: Obstacle radii (px): a curve drawn 2 px wide, a search marker 11 px across.
CURVE_RADIUS, MARKER_RADIUS = 1.5, 6.5
#: The text anchors of a vertical line's label: beside the line on its right, or on its left.
SIDES = ((-0.06, 0.5), (1.06, 0.5))


class IntegerAxis(pg.AxisItem):
    """An axis of levels, which are whole numbers: ticks at integers only (no 1.5, 2.5), and no SI prefix."""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        levels = super().tickValues(minVal, maxVal, size)
        whole = [(spacing, [v for v in values if float(v).is_integer()]) for spacing, values in levels
                 if spacing >= 1.0 - 1e-9]  # fmt: skip
        if not any(values for _, values in whole):
            whole = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return whole

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{round(v * scale):d}" for v in values]


def scene_points(view: Any, x: np.ndarray, y: np.ndarray, step: float = 3.0) -> np.ndarray:
    """``(n, 2)`` scene coordinates of a polyline given in ``view`` 's coordinates, with points added every ``step``
    pixels along it (a curve between two data points is in the way as much as the points are)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if not x.size:
        return np.zeros((0, 2))
    t = view.childGroup.sceneTransform()
    sx, sy = t.m11() * x + t.m21() * y + t.dx(), t.m12() * x + t.m22() * y + t.dy()
    if x.size == 1:
        return np.column_stack([sx, sy])
    counts = np.maximum(1, np.ceil(np.hypot(np.diff(sx), np.diff(sy)) / step)).astype(int)  # points per segment
    segment = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    f = (np.arange(int(counts.sum())) - starts + 1) / counts[segment]
    px = np.concatenate([sx[:1], sx[segment] + f * (sx[segment + 1] - sx[segment])])
    py = np.concatenate([sy[:1], sy[segment] + f * (sy[segment + 1] - sy[segment])])
    return np.column_stack([px, py])


def rect_points(rect: QRectF) -> np.ndarray:
    """Corners, edge midpoints and centre of a rectangle (an obstacle of text)."""
    xs = (rect.left(), rect.center().x(), rect.right())
    ys = (rect.top(), rect.center().y(), rect.bottom())
    return np.array([(x, y) for x in xs for y in ys], dtype=float)


def clearance(rect: QRectF, points: np.ndarray, radii: np.ndarray) -> float:
    """The smallest distance (px) from ``rect`` to any obstacle (a point with a radius); negative inside one."""
    if not len(points):
        return math.inf
    dx = np.maximum(np.maximum(rect.left() - points[:, 0], points[:, 0] - rect.right()), 0.0)
    dy = np.maximum(np.maximum(rect.top() - points[:, 1], points[:, 1] - rect.bottom()), 0.0)
    return float(np.min(np.hypot(dx, dy) - radii))


def _stack(obstacles: Iterable[tuple[np.ndarray, float]]) -> tuple[np.ndarray, np.ndarray]:
    chunks = [(np.asarray(p, dtype=float).reshape(-1, 2), r) for p, r in obstacles]
    points = np.concatenate([p for p, _ in chunks]) if chunks else np.zeros((0, 2))
    radii = np.concatenate([np.full(len(p), r) for p, r in chunks]) if chunks else np.zeros(0)
    return points, radii


def place_labels(
    labels: Sequence[tuple[Any, float, list[tuple[np.ndarray, float]]]],
    bounds: QRectF,
    obstacles: Iterable[tuple[np.ndarray, float]],
) -> None:
    """Move each line label (an ``InfLineLabel`` with its preferred position and obstacles of its own, e.g. the other
    lines) to the position along its line that is clearest of ``obstacles`` (point arrays with their radius) and of
    the labels placed before it, inside ``bounds`` (the plot area, in scene coordinates).

    A label's position is a fraction of the view's height along its line, so its rectangle at every candidate is the
    one at 0 moved up: two placements a label (one a side), and the clearances of every candidate at once.
    """
    shared = list(obstacles)
    placed: list[QRectF] = []
    candidates = np.asarray(LABEL_CANDIDATES, dtype=float)
    for label, preferred, own in labels:
        points, radii = _stack([*shared, *own])
        best: tuple[float, float, float, float] | None = None
        for side, anchor in enumerate(SIDES):  # right of the line first, then left of it
            label.anchors = [anchor, anchor]
            base = _try(label, 0.0)
            tops = base.top() - candidates * bounds.height()
            bottoms = tops + base.height()
            inside = (tops >= bounds.top()) & (bottoms <= bounds.bottom())
            if len(points):
                dx = np.maximum(np.maximum(base.left() - points[:, 0], points[:, 0] - base.right()), 0.0)
                y = points[None, :, 1]
                dy = np.maximum(np.maximum(tops[:, None] - y, y - bottoms[:, None]), 0.0)
                scores = np.min(np.hypot(dx[None, :], dy) - radii[None, :], axis=1)
            else:
                scores = np.full(len(candidates), np.inf)
            for k, position in enumerate(candidates):
                if not inside[k]:
                    continue
                rect = QRectF(base.left(), tops[k], base.width(), base.height())
                if any(rect.adjusted(-2, -2, 2, 2).intersects(other) for other in placed):
                    continue
                key = (min(float(scores[k]), ENOUGH_CLEARANCE), -side, -abs(position - preferred), float(position))
                if best is None or key > best:
                    best = key
        side, position = (0, preferred) if best is None else (int(-best[1]), best[3])
        label.anchors = [SIDES[side], SIDES[side]]
        placed.append(_try(label, position))


def _try(label: Any, position: float) -> QRectF:
    label.setPosition(float(position))
    label.updateTransform(force=True)
    return label.sceneBoundingRect()


__all__ = ["IntegerAxis", "clearance", "place_labels", "rect_points", "scene_points"]
