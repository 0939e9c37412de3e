"""The line profile: drag a line on the image and read A, B, the JND map and the visibility along it.

View > Line profile (L) turns the tool on: a press-drag on the image (pane A) draws a line instead of panning, and its
two handles (or the line itself) can be dragged afterwards. The "Line profile" dock plots, against the distance along
the line in image pixels, the luma of A and B (gray levels), the JND threshold (gray levels) and the visibility
(1 = threshold), sampled bilinearly (:mod:`jndviewer.core.line_profile`) from the very arrays the views show: the
reference and the decoded level at full resolution, the JND map and the visibility map at the predictor's analysis
scale, stretched over the image as the canvas stretches them. When the visibility of the level shown has not been
rendered yet (it is, in the V mode), the tool renders it in the background. Turning the tool off gives panning back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from jndviewer.app import jobs
from jndviewer.app.jobs import VisibilityKey
from jndviewer.app.visibility_overlay import insert_in_view_menu
from jndviewer.app.workers import JobRunner
from jndviewer.core.line_profile import LineProfile, line_profile

PROFILE_TEXT = "Line profile"
PROFILE_SHORTCUT = "L"
PROFILE_TIP = (
    "Drag a line on the image (instead of panning) and plot A, B, the JND threshold and the visibility along it in the "
    "Line profile dock; press L again to pan"
)
#: Curve colours: A, B, the JND threshold, the visibility; the line on the image.
COLORS = {"A": "#e0e0e0", "B": "#ff9f40", "JND": "#4fc3f7", "visibility": "#ff5a5a"}
LINE_COLOR = QColor(255, 220, 0)
#: The dock's height when the tool is turned on (pixels; at least).
PROFILE_HEIGHT = 380
BACKGROUND = "#1e1e1e"
HINT = "Drag on the image to draw a line; its ends and the line itself can be moved afterwards."
#: The first line over the plots: what each curve is, in its colour.
LEGEND = (
    f"<span style='color:{COLORS['A']}'>■</span> luma of A, <span style='color:{COLORS['B']}'>■</span> luma of B "
    f"(gray levels) · <span style='color:{COLORS['JND']}'>■</span> JND threshold (gray levels) · "
    f"<span style='color:{COLORS['visibility']}'>■</span> visibility (dashed: 1 = threshold)"
)


class LineDrawer(pg.GraphicsObject):
    """An invisible item over the whole view that turns a left-button drag into a line while the tool is on (hidden
    otherwise, so that the view pans)."""

    def __init__(self, on_drag: Any) -> None:
        super().__init__()
        self.on_drag = on_drag
        self._rect = QRectF(-1e7, -1e7, 2e7, 2e7)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, *args: Any) -> None:
        pass

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        start, end = ev.buttonDownPos(), ev.pos()
        self.on_drag((start.x(), start.y()), (end.x(), end.y()), ev.isFinish())


class ProfilePlot(QWidget):
    """Three stacked plots sharing the distance axis: luma of A and B, the JND threshold, the visibility."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(f"{LEGEND}<br>{HINT}")
        self.summary.setObjectName("profile_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"QLabel {{ padding: 3px 6px; color: #dddddd; background: {BACKGROUND}; }}")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.graphics, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        labels = {"luma": "luma A, B", "JND": "JND", "visibility": "visibility"}
        for row, (name, label) in enumerate(labels.items()):
            plot = self.graphics.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setLabel("left", label)
            plot.getAxis("left").setWidth(58)
            if row:
                plot.setXLink(self.plots["luma"])
            if row < len(labels) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            self.plots[name] = plot
        self.plots["visibility"].setLabel("bottom", "distance along the line (image pixels)")
        self.curves = {
            "A": self.plots["luma"].plot(pen=pg.mkPen(COLORS["A"], width=2.5)),
            "B": self.plots["luma"].plot(pen=pg.mkPen(COLORS["B"], width=1.2)),
            "JND": self.plots["JND"].plot(pen=pg.mkPen(COLORS["JND"], width=1.5)),
            "visibility": self.plots["visibility"].plot(pen=pg.mkPen(COLORS["visibility"], width=1.5)),
        }
        self.threshold_line = pg.InfiniteLine(pos=1.0, angle=0, pen=pg.mkPen("#aaaaaa", style=Qt.PenStyle.DashLine))
        self.plots["visibility"].addItem(self.threshold_line, ignoreBounds=False)

    def show_profile(self, profile: LineProfile | None, summary: str) -> None:
        """Plot ``profile`` (None: clear the curves) and write ``summary`` over the plots."""
        for name, curve in self.curves.items():
            values = None if profile is None else profile.values.get(name)
            if values is None:
                curve.setData([], [])
            else:
                curve.setData(profile.distance, values)
        self.summary.setText(f"{LEGEND}<br>{summary}")


def describe(profile: LineProfile, level_text: str) -> str:
    """The line above the plots: where the line is, its length, the level and what the visibility says along it."""
    (x0, y0), (x1, y1) = profile.start, profile.end
    text = f"Line ({x0:.0f}, {y0:.0f}) → ({x1:.0f}, {y1:.0f}), {profile.length:.0f} px · {level_text} · bilinear"
    vis = profile.values.get("visibility")
    if vis is None:
        return text + " · visibility: rendering…"
    peak = int(np.argmax(vis))
    above = float(np.mean(vis > 1.0))
    return (f"{text} · visibility max {vis[peak]:.2f} at {profile.distance[peak]:.0f} px, above 1 along "
            f"{above:.0%} of the line")  # fmt: skip


class ProfileTool(QObject):
    """The line-profile tool of a main window: its action, the line on pane A, the dock and the background render of
    a visibility map the profile needs."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window, self.canvas, self.session = window, window.canvas, window.session
        self.action = window._action(PROFILE_TEXT, PROFILE_SHORTCUT, self.set_active, PROFILE_TIP)
        self.action.setCheckable(True)
        insert_in_view_menu(window, self.action)
        self.plot = ProfilePlot()
        self.dock = QDockWidget(PROFILE_TEXT, window)
        self.dock.setObjectName("profile_dock")
        self.dock.setWidget(self.plot)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.tabifyDockWidget(window.analysis_dock, self.dock)
        self.dock.hide()
        view = self.canvas.pane_a.view
        self.drawer = LineDrawer(self._on_drag)
        self.drawer.setZValue(25)
        self.drawer.setVisible(False)
        view.addItem(self.drawer, ignoreBounds=True)
        self.roi: pg.LineSegmentROI | None = None
        self.profile: LineProfile | None = None
        self._visibility: tuple[tuple[int, int], np.ndarray] | None = None  # ((level, jnd serial), values)
        self.runner = JobRunner("profile visibility", self.session.interactive_pool, self.session.notifier, self)
        self.session.adopt(self.runner)
        self.runner.finished.connect(self._on_visibility)
        for signal in (self.session.frame_ready, self.session.jnd_ready, self.session.derived_ready):
            signal.connect(lambda *_: self.update())
        self.session.image_loaded.connect(lambda _: self.clear())

    # -- public --------------------------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.action.isChecked()

    def set_active(self, on: bool) -> None:
        """Turn the tool on (drag draws a line; the dock is shown) or off (drag pans again; the line is hidden)."""
        on = bool(on)
        if self.action.isChecked() != on:
            self.action.setChecked(on)
        self.drawer.setVisible(on)
        if self.roi is not None:
            self.roi.setVisible(on)
        self.dock.setVisible(on)
        if on:
            self.dock.raise_()
            if self.dock.height() < PROFILE_HEIGHT:
                self.window.resizeDocks([self.dock], [PROFILE_HEIGHT], Qt.Orientation.Vertical)
            self.update()

    def set_line(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Put the line from ``start`` to ``end`` (image coordinates) and plot the profile along it."""
        if self.roi is None:
            pen = pg.mkPen(LINE_COLOR, width=2)
            self.roi = pg.LineSegmentROI([start, end], pen=pen, hoverPen=pg.mkPen(255, 255, 255, width=3))
            self.roi.setZValue(30)
            self.roi.sigRegionChanged.connect(lambda *_: self.update())
            self.canvas.pane_a.view.addItem(self.roi, ignoreBounds=True)
        else:
            first, second = self.roi.getHandles()
            self.roi.movePoint(first, QPointF(*start), finish=False)
            self.roi.movePoint(second, QPointF(*end))
        self.roi.setVisible(self.active)
        self.update()

    def line(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The line's ends in image coordinates, or None before one is drawn."""
        if self.roi is None:
            return None
        start, end = (self.roi.mapToParent(handle.pos()) for handle in self.roi.getHandles())
        return (start.x(), start.y()), (end.x(), end.y())

    def arrays(self) -> dict[str, np.ndarray | None]:
        """What the profile samples: the RGB of A and B (their luma is taken), the JND threshold and the visibility of
        the level shown (None where not there yet)."""
        jnd = self.session.jnd
        return {"A": self.canvas.reference, "B": self.canvas.distorted,
                "JND": None if jnd is None else jnd.threshold, "visibility": self._visibility_values()}  # fmt: skip

    def update(self) -> None:
        """Sample and plot the profile of the current line (when the tool is on)."""
        line, reference = self.line(), self.canvas.reference
        if not self.active or line is None or reference is None:
            return
        height, width = reference.shape[:2]
        self.profile = line_profile(line[0], line[1], self.arrays(), (width, height))
        frame = self.session.frame
        level_text = "B: encoding…" if frame is None else f"B: level {frame.level}"
        self.plot.show_profile(self.profile, describe(self.profile, level_text))

    def clear(self) -> None:
        """A new image: the line and the plots go."""
        if self.roi is not None:
            self.canvas.pane_a.view.removeItem(self.roi)
            self.roi = None
        self.profile, self._visibility = None, None
        self.plot.show_profile(None, HINT)

    # -- internals -----------------------------------------------------------------------------------------------

    def _on_drag(self, start: tuple[float, float], end: tuple[float, float], finished: bool) -> None:
        self.set_line(start, end)

    def _visibility_values(self) -> np.ndarray | None:
        session, frame = self.session, self.session.frame
        if frame is None or session.jnd is None:
            return None
        view = session.visibility(frame.level)
        if view is not None:
            return view.values
        key = (frame.level, session.jnd_serial)
        if self._visibility is not None and self._visibility[0] == key:
            return self._visibility[1]
        if session.ladder is not None and session.loaded is not None and not self.runner.busy:
            self.runner.submit(
                jobs.derived_job, VisibilityKey(frame.level, session.jnd_serial), session.loaded.rgb, session.ladder,
                session.jnd, session.analysed_ladder, description=f"Rendering the visibility of level {frame.level}",
            )  # fmt: skip
        return None

    def _on_visibility(self, derived: Any) -> None:
        key = derived.key
        self._visibility = ((key.level, key.jnd_serial), derived.value.values)
        self.update()


__all__ = ["PROFILE_SHORTCUT", "PROFILE_TEXT", "LineDrawer", "ProfilePlot", "ProfileTool", "describe"]
