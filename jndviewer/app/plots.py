"""The rate and visibility plots: bpp and PSNR against level, pooled visibility against level, every prediction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QSizePolicy, QWidget

from jndviewer.app.jobs import LadderInfo
from jndviewer.app.plot_layout import CURVE_RADIUS, MARKER_RADIUS, IntegerAxis, place_labels, rect_points, scene_points
from jndviewer.app.readouts import format_bytes, short_name
from jndviewer.core.pwjnd.registry import PREDICTORS

VISIBLE_COLOR = QColor(214, 39, 40)
INVISIBLE_COLOR = QColor(31, 119, 180)
CURRENT_COLOR = QColor(255, 170, 0)
#: Each predictor's colour and trace symbol; predictors registered later take the next of :data:`EXTRA_STYLES`.
PREDICTOR_STYLES: dict[str, tuple[QColor, str]] = {
    "visibility": (QColor(44, 160, 44), "o"),
    "sgjnd": (QColor(148, 103, 189), "d"),
}
EXTRA_STYLES: tuple[tuple[QColor, str], ...] = (
    (QColor(23, 190, 207), "t"), (QColor(140, 86, 75), "s"), (QColor(227, 119, 194), "p"), (QColor(127, 127, 127), "h"),
)
#: Where each predictor's JND label prefers to sit on its line (fraction of the plot's height); it moves along the
#: line to stay clear of the curves, the markers and the other labels (:func:`~jndviewer.app.plot_layout.place_labels`).
LABEL_POSITIONS = (0.9, 0.7, 0.5, 0.3, 0.8)
VISIBILITY_LABEL_POSITIONS = LABEL_POSITIONS
#: Point size of the predictors' JND labels (as the legend's): the plots are short in a 1440 x 920 window.
LABEL_POINT_SIZE = 8.0
#: Behind the search-order numbers: nearly opaque white, or a number lying on an SG-JND/VP-JNDnet marker (the logit
#: view is drawn below the plot, so the number is on top) could not be read against the marker's colours.
ORDER_LABEL_FILL = QColor(255, 255, 255, 216)
#: The widest tick text the side axes keep room for. Their widths are fixed from it, the same for both plots: left
#: to themselves, they followed their tick texts (30-53 px during a sweep), so the two plots' level axes drifted
#: apart (level 20 drawn 15 px apart in the two plots) and the plots jumped sideways as the curve came in.
WIDEST_TICK_TEXT = "0.000"
#: Streamed curve points are drawn in batches at most this often (ms).
REDRAW_INTERVAL_MS = 100


def predictor_style(name: str) -> tuple[QColor, str]:
    """The colour and symbol of a predictor in plots and on the canvas."""
    if name in PREDICTOR_STYLES:
        return PREDICTOR_STYLES[name]
    others = [n for n in PREDICTORS if n not in PREDICTOR_STYLES]
    index = others.index(name) if name in others else len(others)
    return EXTRA_STYLES[index % len(EXTRA_STYLES)]


def on_logit_axis(name: str) -> bool:
    """Whether a predictor's scores are logits (drawn on the right axis, decided at 0), not pooled visibility."""
    info = PREDICTORS.get(name)
    return info is None or info.score != "pooled visibility"


@dataclass
class PredictionMarks:
    """What the plots show of one predictor: its PW-JND line on each plot, its search trace and the trace's numbers."""

    lines: list[pg.InfiniteLine]
    trace: pg.ScatterPlotItem
    labels: list[pg.TextItem] = field(default_factory=list)
    result: Any = None


class PlotsPanel(pg.GraphicsLayoutWidget):
    """Bytes per pixel and PSNR against level, and the pooled visibility against level.

    Marks the current level (draggable), every predictor's PW-JND (a dashed line in its colour on both plots) and
    the levels its search visited (red visible, blue invisible); clicking a plot jumps to the nearest level.

    Predictors decide on different quantities, so each kind keeps its own axis: pooled visibility on the left (the
    training-free predictor, its trace numbered in search order), logits on the right (SG-JND, and any predictor
    whose score is a logit). The logit axis is placed so that its decision (logit 0) is at the height of the
    visibility threshold: for every predictor, points above the dashed line are "visible".

    Signals
    -------
    level_picked(int)
    """

    level_picked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.points: dict[int, dict[str, Any]] = {}
        self.ladder: LadderInfo | None = None
        self.marks: dict[str, PredictionMarks] = {}
        self._vis_top = 1.0

        self.rate = self.addPlot(row=0, col=0, axisItems={"bottom": IntegerAxis("bottom")})
        self.rate.setLabel("left", "bits per pixel", color="#1f77b4")
        self.rate_curve = self.rate.plot(pen=pg.mkPen("#1f77b4", width=2), name="bpp")
        self.psnr_view = pg.ViewBox()
        self.rate.showAxis("right")
        self.rate.scene().addItem(self.psnr_view)
        self.rate.getAxis("right").linkToView(self.psnr_view)
        self.rate.getAxis("right").setLabel("PSNR (dB)", color="#ff7f0e")
        self.psnr_view.setXLink(self.rate)
        self.psnr_curve = pg.PlotCurveItem(pen=pg.mkPen("#ff7f0e", width=2))
        self.psnr_view.addItem(self.psnr_curve)
        self.rate.getViewBox().sigResized.connect(self._sync_psnr_view)

        # the legend has a row of its own between the plots, where it covers neither curves nor markers
        self.legend_row = self.addLayout(row=1, col=0)
        self.vis = self.addPlot(row=2, col=0, axisItems={"bottom": IntegerAxis("bottom")})
        self.vis.setLabel("left", "pooled visibility")
        self.scale_note = ""
        self.condition_note = ""  # the viewing condition the predictions drawn are for
        self.vis.setXLink(self.rate)
        self.vis_curve = self.vis.plot(pen=pg.mkPen("#555555", width=2))
        self.threshold_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self.threshold_line.setVisible(False)
        self.vis.addItem(self.threshold_line)

        self.logit_view = pg.ViewBox()  # logits (SG-JND, ...), on the right axis of the visibility plot
        self.vis.showAxis("right")
        self.vis.scene().addItem(self.logit_view)
        self.vis.getAxis("right").linkToView(self.logit_view)
        self.logit_view.setXLink(self.vis)
        self.logit_view.setYRange(-1.0, 1.0, padding=0.0)
        self.logit_zero = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#888888", style=Qt.PenStyle.DotLine))
        self.logit_zero.setVisible(False)
        self.logit_view.addItem(self.logit_zero)
        self.vis.getViewBox().sigResized.connect(self._sync_logit_view)
        for plot, view in ((self.rate, self.psnr_view), (self.vis, self.logit_view)):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            view.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            for side in ("left", "right", "bottom"):  # bpp and levels are plain numbers: never "(x0.001)"
                plot.getAxis(side).enableAutoSIPrefix(False)
            for side in ("left", "right"):  # the same room in both plots, whatever the ticks (WIDEST_TICK_TEXT)
                axis = plot.getAxis(side)
                font = axis.style.get("tickFont") or axis.font()
                axis.setStyle(autoExpandTextSpace=False,
                              tickTextWidth=QFontMetrics(font).horizontalAdvance(WIDEST_TICK_TEXT))

        #: The legend's entries (a sample item and its text): the legend is built again from them when the panel's
        #: width calls for another number of columns (:meth:`_fit_legend`).
        self.legend_entries: list[tuple[Any, str]] = [
            (pg.ScatterPlotItem(brush=pg.mkBrush(VISIBLE_COLOR), pen="k", size=9), "searched: visible"),
            (pg.ScatterPlotItem(brush=pg.mkBrush(INVISIBLE_COLOR), pen="k", size=9), "searched: not visible"),
            (pg.PlotDataItem(pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)), "decision (threshold; logit 0)"),
        ]
        self.legend: pg.LegendItem | None = None
        self._legend_fitted: tuple[int, int] | None = None  # (room, entries) the legend was last fitted to

        self.current_lines = []
        for plot in (self.rate, self.vis):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(CURRENT_COLOR, width=2),
                                   hoverPen=pg.mkPen(CURRENT_COLOR, width=4))  # fmt: skip
            line.setZValue(20)
            line.sigPositionChangeFinished.connect(self._on_line_dragged)
            line.setVisible(False)  # no level until a ladder is there
            plot.addItem(line)
            self.current_lines.append(line)
        for name in PREDICTORS:
            self._marks(name)
        self.vis.setLabel("bottom", "level")
        self._fit_legend()
        self.ci.layout.setVerticalSpacing(0)
        self.scene().sigMouseClicked.connect(self._on_click)
        self.scene().sigMouseMoved.connect(self._on_hover)
        # Axes draw the grid over the whole plot: cache them, or every move of the current-level line repaints all
        # tick labels and grid lines (15 ms -> 2 ms a frame here).
        for plot in (self.rate, self.vis):
            for name in ("left", "bottom", "right", "top"):
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._legend_timer = QTimer(self, singleShot=True, interval=0)
        self._legend_timer.timeout.connect(self._fit_legend)
        self._label_timer = QTimer(self, singleShot=True, interval=0)  # after the views have their new geometry
        self._label_timer.timeout.connect(self.place_labels)
        for plot in (self.rate, self.vis):
            plot.getViewBox().sigResized.connect(self._label_timer.start)
            plot.getViewBox().sigRangeChanged.connect(self._label_timer.start)

    def _marks(self, name: str) -> PredictionMarks:
        """The marks of a predictor, made the first time it is drawn."""
        marks = self.marks.get(name)
        if marks is not None:
            return marks
        color, symbol = predictor_style(name)
        index = len(self.marks)
        lines = []
        for plot, positions in ((self.rate, LABEL_POSITIONS), (self.vis, VISIBILITY_LABEL_POSITIONS)):
            label_at = positions[index % len(positions)]
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                                   label=short_name(name),
                                   labelOpts={"position": label_at, "color": color, "fill": "#ffffffc0"})
            line.label.textItem.document().setDocumentMargin(1.0)  # a tight box: the plots are short
            font = line.label.textItem.font()
            font.setPointSizeF(LABEL_POINT_SIZE)
            line.label.setFont(font)
            line.setVisible(False)
            plot.addItem(line)
            lines.append(line)
        trace = pg.ScatterPlotItem(size=11, symbol=symbol, pen=pg.mkPen(color if on_logit_axis(name) else "k",
                                                                         width=1.5), hoverable=True)
        trace.setZValue(30)
        (self.logit_view if on_logit_axis(name) else self.vis).addItem(trace)
        if on_logit_axis(name):
            self.legend_entries.append((pg.ScatterPlotItem(brush=pg.mkBrush("#ffffff"), pen=pg.mkPen(color, width=1.5),
                                                           symbol=symbol, size=9), short_name(name)))
            if self.legend is not None:
                self._fit_legend()
        marks = self.marks[name] = PredictionMarks(lines, trace)
        self._label_logit_axis()
        return marks

    def _fit_legend(self) -> None:
        """As many legend entries on a row as the panel's width holds: a narrow dock wraps them instead of cutting
        off the first and the last."""
        room = self.width() - 8
        if self._legend_fitted == (room, len(self.legend_entries)):  # a change of height: nothing to rebuild
            return
        self._legend_fitted = (room, len(self.legend_entries))
        for columns in range(len(self.legend_entries), 0, -1):
            self._build_legend(columns)  # afresh: pyqtgraph's re-flow keeps the rows' old heights
            if self.legend.boundingRect().width() <= room:
                break
        self.ci.layout.setRowFixedHeight(1, self.legend.boundingRect().height())

    def _build_legend(self, columns: int) -> None:
        if self.legend is not None:
            if self.legend.columnCount == columns and len(self.legend.items) == len(self.legend_entries):
                return
            self.legend.setParentItem(None)
            self.scene().removeItem(self.legend)
        self.legend = pg.LegendItem(offset=None, labelTextSize="8pt", colCount=columns, labelTextColor="#333333",
                                    verSpacing=-4)
        self.legend.layout.setContentsMargins(2, 0, 2, 0)
        self.legend.setParentItem(self.legend_row)
        self.legend.anchor(itemPos=(0.5, 0.0), parentPos=(0.5, 0.0))
        for item, text in self.legend_entries:
            self.legend.addItem(item, text)
        self.legend.updateSize()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_legend_timer"):  # pyqtgraph resizes the view while it is being built
            self._legend_timer.start()  # once the new width has reached the layout

    def _label_logit_axis(self) -> None:
        names = [short_name(n) for n in self.marks if on_logit_axis(n)]
        color = predictor_style(next(n for n in self.marks if on_logit_axis(n)))[0] if names else QColor("#555555")
        self.vis.getAxis("right").setLabel(f"{' / '.join(names) or 'decision'} logit", color=color.name())

    def _sync_psnr_view(self) -> None:
        self.psnr_view.setGeometry(self.rate.getViewBox().sceneBoundingRect())
        self.psnr_view.linkedViewChanged(self.rate.getViewBox(), self.psnr_view.XAxis)

    def _sync_logit_view(self) -> None:
        self.logit_view.setGeometry(self.vis.getViewBox().sceneBoundingRect())
        self.logit_view.linkedViewChanged(self.vis.getViewBox(), self.logit_view.XAxis)

    # -- data ------------------------------------------------------------------------------------------------------

    def set_scale_note(self, note: str) -> None:
        """Name the scale the curves are computed at in the title (``preview at 1/3 scale``; empty: full size)."""
        self.scale_note = note
        self._set_title()

    def set_condition_note(self, note: str) -> None:
        """Name the viewing condition the PW-JNDs drawn are for in the title (``side by side, 38 ppd``): a plot seen
        on its own (a screenshot) must not show a PW-JND without its task and distance."""
        self.condition_note = note
        self._set_title()

    def _set_title(self) -> None:
        if self.ladder is not None:
            parts = (self.ladder.title, self.condition_note, self.scale_note)
            self.rate.setTitle(" · ".join(t for t in parts if t), size="9pt")

    def reset(self, info: LadderInfo) -> None:
        """Start the curves of ``info`` 's ladder again. The predictions stay when it is the same ladder (the curve
        restarts for a new JND map, e.g. after a change of task, and may come after the predictions): predictions
        that are out of date are cleared by their own restart (:meth:`set_prediction` with None)."""
        self._redraw_timer.stop()
        same = self.ladder is not None and (self.ladder.codec, self.ladder.ordered) == (info.codec, info.ordered)
        self.ladder = info
        self.points = {}
        self.vis.setLabel("bottom", info.level_name)
        self._set_title()
        low, high = min(info.ordered), max(info.ordered)
        self.rate.setXRange(low, high, padding=0.02)
        for line in self.current_lines:
            line.setBounds((low, high))
        if not same:
            for name in list(self.marks):
                self.set_prediction(name, None)
        self._redraw()

    def add_point(self, point: dict[str, Any]) -> None:
        """Add a streamed curve point; the curves are redrawn at most every 100 ms."""
        self.points[point["level"]] = point
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def flush(self) -> None:
        """Redraw the curves now (instead of at the next batch)."""
        self._redraw_timer.stop()
        self._redraw()

    def _redraw(self) -> None:
        levels = sorted(self.points)
        x = np.array(levels, dtype=float)
        bpp = np.array([self.points[v]["bpp"] for v in levels], dtype=float)
        psnr = np.array([self.points[v]["psnr"] if self.points[v]["psnr"] is not None else np.nan for v in levels])
        self.rate_curve.setData(x, bpp)
        finite = np.isfinite(psnr)
        self.psnr_curve.setData(x[finite], psnr[finite])
        if finite.any():
            self.psnr_view.setYRange(float(np.nanmin(psnr)), float(np.nanmax(psnr)), padding=0.05)
        scored = [v for v in levels if self.points[v].get("score") is not None]
        scores = np.array([self.points[v]["score"] for v in scored], dtype=float)
        self.vis_curve.setData(np.array(scored, dtype=float), scores)
        self._fit_visibility_range()

    def _results(self, *, logits: bool) -> list[Any]:
        return [m.result for n, m in self.marks.items() if m.result is not None and on_logit_axis(n) == logits]

    def _fit_visibility_range(self) -> None:
        """Show the scores up to three times the threshold: the decision happens around it, not at the worst levels."""
        _, scores = self.vis_curve.getData()
        values = [] if scores is None else list(scores)
        values += [r.score for result in self._results(logits=False) for r in result.records]
        if values:
            top = max(values)
            if self.threshold_line.isVisible():
                top = min(top, 3.0 * self.threshold_line.value())
            self._vis_top = max(top, 1e-6) * 1.08
            self.vis.setYRange(0.0, self._vis_top, padding=0.0)
        self._fit_logit_range()

    def _fit_logit_range(self) -> None:
        """Show every logit, with logit 0 at the height of the visibility threshold (the middle without one)."""
        fraction = 0.5
        if self.threshold_line.isVisible() and self._vis_top > 0:
            fraction = min(0.85, max(0.15, self.threshold_line.value() / self._vis_top))
        logits = [r.score for result in self._results(logits=True) for r in result.records]
        # 0 at ``fraction`` of the height: low = -fraction / (1 - fraction) * high, with every logit inside
        ratio = fraction / (1.0 - fraction)
        # before any logit: a range of a few logits (a collapsed one labelled its axis 0 / 0.0005 / 0.001)
        high = 1.1 * max([1e-3, *(v for v in logits if v > 0), *(-v / ratio for v in logits if v < 0)]) \
            if logits else 4.0
        self.logit_view.setYRange(-ratio * high, high, padding=0.0)
        self._label_timer.start()

    def place_labels(self) -> None:
        """Move each predictor's JND label along its line to where it covers no curve, marker or other label."""
        self._label_timer.stop()
        rate_view, vis_view = self.rate.getViewBox(), self.vis.getViewBox()
        curves = {self.rate: [(self.rate_curve, rate_view), (self.psnr_curve, self.psnr_view)],
                  self.vis: [(self.vis_curve, vis_view)]}  # fmt: skip
        markers = []
        for marks in self.marks.values():
            view = self.logit_view if marks.trace in self.logit_view.addedItems else vis_view
            spots = marks.trace.points()
            if len(spots):
                xy = np.array([(p.pos().x(), p.pos().y()) for p in spots], dtype=float)
                markers.append((scene_points(view, xy[:, 0], xy[:, 1], step=1e9), MARKER_RADIUS))
            markers += [(rect_points(label.sceneBoundingRect()), 0.0) for label in marks.labels]
        plots = ((self.rate, LABEL_POSITIONS), (self.vis, VISIBILITY_LABEL_POSITIONS))
        for index, (plot, positions) in enumerate(plots):
            obstacles = []
            for curve, view in curves[plot]:
                x, y = curve.getData()
                if x is not None and len(x):
                    obstacles.append((scene_points(view, x, y), CURVE_RADIUS))
            if plot is self.vis:
                obstacles += markers
            lines = [marks.lines[index] for marks in self.marks.values()]
            bounds = plot.getViewBox().sceneBoundingRect()
            drawn = {id(line): _line_points(line, bounds) for line in lines if line.isVisible()}
            labels = [(line.label, positions[order % len(positions)],
                       [(points, CURVE_RADIUS) for key, points in drawn.items() if key != id(line)])
                      for order, line in enumerate(lines) if line.isVisible()]  # fmt: skip
            if labels:
                place_labels(labels, bounds, obstacles)

    def set_current(self, level: int | None) -> None:
        for line in self.current_lines:
            line.setVisible(level is not None)
            if level is not None:
                line.blockSignals(True)
                line.setValue(level)
                line.blockSignals(False)

    def set_threshold(self, value: float | None) -> None:
        self.threshold_line.setVisible(value is not None)
        if value is not None:
            self.threshold_line.setValue(value)
        self._fit_visibility_range()

    def set_prediction(self, name: str, result: Any) -> None:
        """Mark a predictor's PW-JND and the levels its search visited (None clears them).

        Pooled-visibility predictors draw their trace at their scores on the left axis, numbered in search order, and
        set the threshold line; logit predictors draw theirs on the right axis.
        """
        marks = self._marks(name)
        marks.result = result
        for label in marks.labels:
            self.vis.removeItem(label)
        marks.labels = []
        logit = on_logit_axis(name)
        if result is None:
            for line in marks.lines:
                line.setVisible(False)
            marks.trace.setData([], [])
            self.logit_zero.setVisible(bool(self._results(logits=True)))
            self._fit_visibility_range()
            return
        for line in marks.lines:
            line.setValue(result.level)
            line.setVisible(True)
            line.label.setFormat(f"{short_name(name)} {result.level}")
        symbol = predictor_style(name)[1]
        spots = [{"pos": (r.level, r.score), "brush": pg.mkBrush(VISIBLE_COLOR if r.visible else INVISIBLE_COLOR),
                  "data": r.level, "symbol": symbol} for r in result.records]
        marks.trace.setData(spots)
        if logit:
            self.logit_zero.setVisible(True)
            self._fit_logit_range()
            return
        # above and below in turn by level, not by search order: the search often visits neighbouring levels late,
        # and two labels of neighbouring levels on the same side overlapped
        rank = {level: i for i, level in enumerate(sorted({r.level for r in result.records}))}
        for order, record in enumerate(result.records, start=1):
            above = rank[record.level] % 2 == 0
            label = pg.TextItem(str(order), color="#333333", fill=ORDER_LABEL_FILL)  # readable over the markers
            label.textItem.document().setDocumentMargin(0.5)
            font = label.textItem.font()
            font.setPointSizeF(font.pointSizeF() * 0.85)
            label.setFont(font)
            # the near edge one pixel beyond the marker's drawn radius, whatever the font's height
            clear = (MARKER_RADIUS + 1.0) / max(label.textItem.boundingRect().height(), 1.0)
            label.setAnchor((0.5, 1.0 + clear) if above else (0.5, -clear))
            label.setPos(record.level, record.score)
            label.setZValue(25)  # over the current-level line (20), which crossed numbers next to the current level
            self.vis.addItem(label)
            marks.labels.append(label)
        self.set_threshold(result.params.get("threshold"))

    # -- interaction -----------------------------------------------------------------------------------------------

    def _nearest_level(self, x: float) -> int | None:
        if self.ladder is None:
            return None
        ordered = np.array(self.ladder.ordered)
        return int(ordered[np.argmin(np.abs(ordered - x))])

    def _on_line_dragged(self, line: pg.InfiniteLine) -> None:
        level = self._nearest_level(line.value())
        if level is not None:
            self.level_picked.emit(level)

    def describe_level(self, level: int) -> str:
        """One line about a level of the curve (bytes, bpp, PSNR, pooled visibility, logits where searched)."""
        point = self.points.get(level)
        name = self.ladder.level_name if self.ladder is not None else "level"
        if point is None:
            return f"{name} {level}"
        text = f"{name} {level}: {format_bytes(point['nbytes'])}, {point['bpp']:.3f} bpp"
        if point["psnr"] is not None:
            text += f", {point['psnr']:.2f} dB"
        if point.get("score") is not None:
            text += f", pooled visibility {point['score']:.3f}"
        for predictor, marks in self.marks.items():
            if on_logit_axis(predictor) and marks.result is not None and level in marks.result.scores:
                text += f", {short_name(predictor)} logit {marks.result.scores[level]:+.2f}"
        return text

    def _on_hover(self, position: Any) -> None:
        for plot in (self.rate, self.vis):
            view = plot.getViewBox()
            if view.sceneBoundingRect().contains(position):
                level = self._nearest_level(view.mapSceneToView(position).x())
                if level is not None:
                    self.rate.setTitle(self.describe_level(level), size="9pt")
                return
        self._set_title()

    def _on_click(self, event: Any) -> None:
        for plot in (self.rate, self.vis):
            view = plot.getViewBox()
            if view.sceneBoundingRect().contains(event.scenePos()):
                level = self._nearest_level(view.mapSceneToView(event.scenePos()).x())
                if level is not None:
                    self.level_picked.emit(level)
                return


def _line_points(line: pg.InfiniteLine, bounds: Any) -> np.ndarray:
    """Scene points down a vertical line (every 3 px of the plot's height): another label should not cross it."""
    x = line.mapToScene(pg.Point(0, 0)).x()
    ys = np.arange(bounds.top(), bounds.bottom() + 1.0, 3.0)
    return np.column_stack([np.full(len(ys), x), ys])


__all__ = ["PlotsPanel", "PredictionMarks", "on_logit_axis", "predictor_style"]
