"""A lesson's :class:`~jndviewer.core.lessons.model.LessonFigure` drawn live with pyqtgraph.

Plots become ``PlotItem``s (curves, points with their step numbers, bars, labelled lines; a logarithmic x axis is
drawn on log10 data with the axis labelled in powers of ten, so that lines and bars sit where they belong); pictures
become ``ImageItem``s with their boxes, flickering at the flicker task's rate when they carry an alternate image.
Moving the pointer over a panel reports the data coordinates (``hovered``), so that a page can follow the cursor.
"""

from __future__ import annotations

import html
import math
import textwrap
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from jndviewer.core.lessons.model import LessonFigure, Picture, Plot
from jndviewer.core.viewing import FLICKER_SWITCHES_PER_SECOND


class FigureView(QWidget):
    """Draws one figure at a time; ``scale`` enlarges every font (the presenter view)."""

    #: (panel index, x, y) in the panel's data coordinates (a log axis reports the value, not its logarithm).
    hovered = Signal(int, float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = 1.0
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.figure: LessonFigure | None = None
        self.items: list[Any] = []  # one PlotItem per panel
        self.curves: list[dict[str, Any]] = []  # per panel: series label -> its data item (tests read them)
        self._flicker: list[tuple[pg.ImageItem, np.ndarray, np.ndarray]] = []
        self._shown_alternate = False
        self.timer = QTimer(self)
        self.timer.setInterval(round(1000.0 / FLICKER_SWITCHES_PER_SECOND))
        self.timer.timeout.connect(self._switch)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

    def show_figure(self, figure: LessonFigure) -> None:
        """Replace what is drawn by ``figure``."""
        self.timer.stop()
        self.graphics.clear()
        self.figure, self.items, self.curves, self._flicker = figure, [], [], []
        for index, panel in enumerate(figure.panels):
            item = self.graphics.addPlot(row=0, col=index)
            if isinstance(panel, Picture):
                self.curves.append({})
                self._draw_picture(item, panel)
            else:
                self.curves.append(self._draw_plot(item, panel))
            self.items.append(item)
            self.graphics.ci.layout.setColumnStretchFactor(index, _stretch(panel))
            self.graphics.ci.layout.setColumnPreferredWidth(index, 10.0)
        if self._flicker:
            self._shown_alternate = False
            self.timer.start()

    # ----------------------------------------------------------------------------------------------------------------

    def _font(self, points: float) -> QFont:
        font = QFont()
        font.setPointSizeF(points * self.scale)
        return font

    def _title(self, item: Any, text: str, width: int = 34) -> None:
        wrapped = "<br>".join(html.escape(line) for line in textwrap.wrap(text, width)) or " "  # titles are rich text
        item.setTitle(wrapped, size=f"{10.5 * self.scale:.1f}pt", color="#222")

    def _draw_picture(self, item: Any, picture: Picture) -> None:
        image = pg.ImageItem(picture.pixels)
        item.addItem(image)
        item.invertY(True)
        item.setAspectLocked(True)
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        height, width = picture.pixels.shape[:2]
        item.setRange(QRectF(0, 0, width, height), padding=0.01)
        title = picture.title + (f" ({picture.scale})" if picture.scale else "")
        self._title(item, title)
        for box in picture.boxes:
            rect = QGraphicsRectItem(box.x, box.y, box.width, box.height)
            pen = QPen(QColor(box.colour))
            pen.setWidthF(2.5)
            pen.setCosmetic(True)
            rect.setPen(pen)
            item.addItem(rect)
            if box.label:
                label = pg.TextItem(box.label, color="#000", fill=pg.mkBrush(QColor(box.colour)), anchor=(0, 0))
                label.setFont(self._font(8.5))
                label.setPos(box.x, box.y)
                item.addItem(label)
        if picture.alternate is not None:
            self._flicker.append((image, picture.pixels, picture.alternate))

    def _draw_plot(self, item: Any, plot: Plot) -> dict[str, Any]:
        transform = np.log10 if plot.log_x else (lambda v: np.asarray(v, dtype=np.float64))
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setMenuEnabled(False)
        item.hideButtons()
        self._title(item, plot.title)
        label_style = {"color": "#222", "font-size": f"{9.5 * self.scale:.1f}pt"}
        item.setLabel("bottom", plot.x_label, **label_style)
        item.setLabel("left", plot.y_label, **label_style)
        for side in ("bottom", "left"):
            item.getAxis(side).setTickFont(self._font(8.5))
            item.getAxis(side).setTextPen("#222")
        if plot.log_x:
            item.getAxis("bottom").setLogMode(True)
        if any(s.label for s in plot.series if s.kind != "bars"):
            legend = item.addLegend(offset=(-8, -8), labelTextSize=f"{8.5 * self.scale:.1f}pt",
                                    labelTextColor="#222")
            legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        drawn: dict[str, Any] = {}
        for series in plot.series:
            x = transform(series.x)
            if series.kind == "bars":
                drawn[series.label] = self._bars(item, x, series)
                continue
            if series.kind == "points":
                brushes = [pg.mkBrush(c) for c in series.point_colours] or pg.mkBrush(series.colour)
                curve = pg.ScatterPlotItem(x, series.y, size=11 * self.scale, brush=brushes, pen=pg.mkPen("#000"),
                                           name=series.label or None)  # fmt: skip
            else:
                style = Qt.PenStyle.DashLine if series.dashed else Qt.PenStyle.SolidLine
                pen = pg.mkPen(series.colour, width=series.width * self.scale, style=style)
                curve = pg.PlotDataItem(x, series.y, pen=pen, name=series.label or None)
            item.addItem(curve)
            drawn[series.label] = curve
            for px, py, text in zip(x, series.y, series.point_labels, strict=False):
                label = pg.TextItem(text, color="#222", anchor=(-0.2, 1.1))
                label.setFont(self._font(8.5))
                label.setPos(float(px), float(py))
                item.addItem(label)
        vertical_labels = 0
        for mark in plot.marks:
            position = float(transform(np.asarray([mark.value]))[0])
            height = 0.95 - 0.09 * (vertical_labels % 4)  # labels of neighbouring lines at different heights
            vertical_labels += bool(mark.vertical and mark.label)
            style = Qt.PenStyle.DashLine if mark.dashed else Qt.PenStyle.SolidLine
            line = pg.InfiniteLine(
                position, angle=90 if mark.vertical else 0, pen=pg.mkPen(mark.colour, width=1.5, style=style),
                label=mark.label or None,
                labelOpts={"position": height if mark.vertical else 0.75, "color": mark.colour,
                           "fill": pg.mkBrush(255, 255, 255, 210)},
            )  # fmt: skip
            if getattr(line, "label", None) is not None:
                line.label.setFont(self._font(8.0))
            item.addItem(line)
        if plot.x_range is not None:
            low, high = transform(np.asarray(plot.x_range, dtype=np.float64))
            item.setXRange(float(low), float(high), padding=0.02)
        if plot.y_range is not None:
            item.setYRange(*plot.y_range, padding=0.0)
        return drawn

    def _bars(self, item: Any, x: np.ndarray, series: Any) -> list[Any]:
        """Bars as thick vertical segments (they stay in place on a log10 axis, which a BarGraphItem would not)."""
        bars = []
        for index, (px, py) in enumerate(zip(x, series.y, strict=True)):
            colour = series.point_colours[index] if series.point_colours else series.colour
            pen = pg.mkPen(colour, width=16 * self.scale)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            bar = pg.PlotDataItem([px, px], [0.0, py], pen=pen)
            item.addItem(bar)
            bars.append(bar)
            if index < len(series.point_labels):
                label = pg.TextItem(series.point_labels[index], color="#222", anchor=(0.5, 1.0))
                label.setFont(self._font(8.5))
                label.setPos(float(px), float(py))
                item.addItem(label)
        return bars

    def _switch(self) -> None:
        self._shown_alternate = not self._shown_alternate
        for image, pixels, alternate in self._flicker:
            image.setImage(alternate if self._shown_alternate else pixels, autoLevels=False)

    def _mouse_moved(self, position: Any) -> None:
        if self.figure is None:
            return
        for index, item in enumerate(self.items):
            if item.sceneBoundingRect().contains(position):
                point = item.vb.mapSceneToView(position)
                x = point.x()
                panel = self.figure.panels[index]
                if isinstance(panel, Plot) and panel.log_x:
                    x = math.pow(10.0, x)
                self.hovered.emit(index, float(x), float(point.y()))
                return


def _stretch(panel: Any) -> int:
    """Column share of a panel: a picture by its aspect ratio, a plot a little more than a square."""
    if isinstance(panel, Picture):
        height, width = panel.pixels.shape[:2]
        return max(6, min(22, round(10 * width / height)))
    return 11


__all__ = ["FigureView"]
