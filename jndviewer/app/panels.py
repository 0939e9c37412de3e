"""The side panels: controls bound to the view state, the rate/visibility plots, and the readouts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGraphicsItem,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jndviewer.app import compute
from jndviewer.app.session import LadderInfo
from jndviewer.app.state import PPD_RANGE, ViewState
from jndviewer.core.catalog import JND_MODEL_NAMES
from jndviewer.core.codecs import CODECS

VISIBLE_COLOR = QColor(214, 39, 40)
INVISIBLE_COLOR = QColor(31, 119, 180)
JND_COLOR = QColor(44, 160, 44)
CURRENT_COLOR = QColor(255, 170, 0)
#: One line per JND component, shown under the component chooser (for teaching).
COMPONENT_NOTES = {
    "threshold": "The JND threshold: the smallest change of luma (gray levels) a viewer is predicted to notice here.",
    "luminance_adaptation": "Set by background brightness alone: higher in dark and in very bright areas.",
    "contrast_masking": "Raised by local contrast: edges and strong texture hide changes.",
    "texture_masking": "Masking by texture, weakened on edges (where distortion shows most).",
    "edge_weight": "Weight protecting edges from texture masking (low on edges).",
    "pattern_complexity": "How many orientations the local pattern mixes: disorderly patterns mask more.",
    "pattern_masking": "Masking by complex patterns, scaled by local contrast and kept off edges.",
    "edge_protection": "Weight that removes masking near edges (0 on edges, 1 away from them).",
    "visual_masking": "The stronger of contrast masking and pattern masking.",
    "prediction": "The image as predicted from each pixel's neighbours (the orderly part the brain expects).",
    "disorder": "What the prediction misses (the disorderly residual): uncertain content masks more.",
}
#: Streamed curve points are drawn in batches at most this often (ms).
REDRAW_INTERVAL_MS = 100


def _blocked(widget: QWidget) -> QSignalBlocker:
    return QSignalBlocker(widget)


def format_bytes(nbytes: float) -> str:
    if nbytes < 1000:
        return f"{nbytes:.0f} B"
    if nbytes < 1_000_000:
        return f"{nbytes / 1000:.1f} kB"
    return f"{nbytes / 1_000_000:.2f} MB"


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


# --------------------------------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------------------------------


class ControlsPanel(QWidget):
    """Codec and level, JND model and parameters, viewing condition, prediction settings, display and device.

    Every control writes to the :class:`ViewState` and follows it, so shortcuts, settings and tests that change
    the state move the controls too.

    Signals
    -------
    predict_requested, go_to_jnd_requested, play_toggled(bool), viewing_dialog_requested
    """

    predict_requested = Signal()
    go_to_jnd_requested = Signal()
    play_toggled = Signal(bool)
    viewing_dialog_requested = Signal()

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.ladder: LadderInfo | None = None
        self._param_widgets: dict[str, QWidget] = {}
        self._model_info: compute.ModelInfo | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._build_level_group())
        layout.addWidget(self._build_model_group())
        layout.addWidget(self._build_viewing_group())
        layout.addWidget(self._build_prediction_group())
        layout.addWidget(self._build_display_group())
        layout.addStretch(1)
        self._bind()
        self.sync_from_state()

    # -- construction ----------------------------------------------------------------------------------------------

    def _build_level_group(self) -> QGroupBox:
        box = QGroupBox("Codec and level")
        form = QFormLayout(box)
        self.codec_combo = QComboBox()
        self.codec_combo.setObjectName("codec")
        for name, cls in CODECS.items():
            self.codec_combo.addItem(cls.title or name, name)
        self.codec_combo.setToolTip("The codec whose levels the slider scrubs (availability is checked at start)")
        form.addRow("Codec", self.codec_combo)
        self.level_slider = QSlider(Qt.Orientation.Horizontal)
        self.level_slider.setObjectName("level")
        self.level_slider.setEnabled(False)
        self.level_slider.setToolTip("Scrub the levels, worst on the left, best on the right (Left/Right, PgUp/PgDn)")
        self.level_label = QLabel("–")
        self.level_label.setMinimumWidth(90)
        row = QHBoxLayout()
        row.addWidget(self.level_slider, 1)
        row.addWidget(self.level_label)
        form.addRow("Level", row)
        buttons = QHBoxLayout()
        self.play_button = QToolButton()
        self.play_button.setText("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play through the levels from worst to best (Space)")
        self.go_button = QPushButton("Go to JND")
        self.go_button.setEnabled(False)
        self.go_button.setToolTip("Jump to the predicted PW-JND level (G)")
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.go_button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        return box

    def _build_model_group(self) -> QGroupBox:
        box = QGroupBox("JND model")
        form = QFormLayout(box)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("jnd_model")
        for name in JND_MODEL_NAMES:
            self.model_combo.addItem(name, name)
        form.addRow("Model", self.model_combo)
        self.component_combo = QComboBox()
        self.component_combo.setObjectName("component")
        self.component_combo.addItem("threshold", "threshold")
        self.component_combo.setToolTip("The whole JND threshold or one of the terms it is built from (JND mode)")
        form.addRow("Show", self.component_combo)
        self.component_note = QLabel(COMPONENT_NOTES["threshold"])
        self.component_note.setObjectName("component_note")
        self.component_note.setWordWrap(True)
        self.component_note.setStyleSheet("color: gray;")
        form.addRow(self.component_note)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setToolTip("Opacity of the JND map over the image in JND mode")
        form.addRow("Opacity", self.opacity_slider)
        self.model_title = QLabel("")
        self.model_title.setWordWrap(True)
        self.model_title.setStyleSheet("color: gray;")
        form.addRow(self.model_title)
        self.params_button = QToolButton()
        self.params_button.setText("Parameters")
        self.params_button.setCheckable(True)
        self.params_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.params_button.setArrowType(Qt.ArrowType.RightArrow)
        self.params_button.setAutoRaise(True)
        self.params_button.setToolTip("Edit the model's parameters (the map is recomputed as you change them)")
        self.params_box = QWidget()
        self.params_box.setVisible(False)
        self.params_form = QFormLayout(self.params_box)
        self.params_form.setContentsMargins(12, 0, 0, 0)
        self.params_note = QLabel("Known once the first map is computed.")
        self.params_note.setWordWrap(True)
        self.params_form.addRow(self.params_note)
        self.params_button.toggled.connect(self._show_params)
        form.addRow(self.params_button)
        form.addRow(self.params_box)
        return box

    def _build_viewing_group(self) -> QGroupBox:
        box = QGroupBox("Viewing condition")
        form = QFormLayout(box)
        self.ppd_spin = QDoubleSpinBox()
        self.ppd_spin.setObjectName("ppd")
        self.ppd_spin.setRange(*PPD_RANGE)
        self.ppd_spin.setDecimals(1)
        self.ppd_spin.setSuffix(" ppd")
        self.ppd_spin.setKeyboardTracking(False)
        self.ppd_spin.setToolTip("Pixels per degree of visual angle: 38 is a 24-inch 1080p monitor at 60 cm")
        screen = QPushButton("Screen…")
        screen.setToolTip("Compute ppd from the screen size, resolution and viewing distance")
        screen.clicked.connect(self.viewing_dialog_requested)
        row = QHBoxLayout()
        row.addWidget(self.ppd_spin, 1)
        row.addWidget(screen)
        form.addRow("Viewing", row)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("device")
        self.device_combo.addItem("auto", "auto")
        self.device_combo.setToolTip("Where the JND models run (auto: CUDA when present)")
        self.device_label = QLabel("checking…")
        self.device_label.setWordWrap(True)
        self.device_label.setStyleSheet("color: gray;")
        form.addRow("Device", self.device_combo)
        form.addRow("", self.device_label)
        return box

    def _build_prediction_group(self) -> QGroupBox:
        box = QGroupBox("PW-JND prediction")
        form = QFormLayout(box)
        self.calibrated_check = QCheckBox("calibrated")
        self.calibrated_check.setToolTip("Use the calibrated decision threshold of the model and pooling")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setObjectName("threshold")
        self.threshold_spin.setRange(0.001, 100.0)
        self.threshold_spin.setDecimals(3)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_spin.setValue(1.0)
        row = QHBoxLayout()
        row.addWidget(self.calibrated_check)
        row.addWidget(self.threshold_spin, 1)
        form.addRow("Threshold", row)
        self.pooling_combo = QComboBox()
        for name in ("minkowski", "max_window", "fraction"):
            self.pooling_combo.addItem(name, name)
        form.addRow("Pooling", self.pooling_combo)
        self.strategy_combo = QComboBox()
        for name in ("block", "bisection", "sliding", "exhaustive"):
            self.strategy_combo.addItem(name, name)
        form.addRow("Search", self.strategy_combo)
        self.predict_button = QPushButton("Predict PW-JND")
        self.predict_button.setToolTip("Search the levels for the picture-wise JND (P)")
        self.predict_button.clicked.connect(self.predict_requested)
        form.addRow(self.predict_button)
        return box

    def _build_display_group(self) -> QGroupBox:
        box = QGroupBox("Display")
        form = QFormLayout(box)
        self.flicker_spin = QDoubleSpinBox()
        self.flicker_spin.setRange(0.5, 30.0)
        self.flicker_spin.setDecimals(1)
        self.flicker_spin.setSuffix(" Hz")
        self.flicker_spin.setToolTip("Full A-B cycles per second in flicker mode")
        form.addRow("Flicker", self.flicker_spin)
        self.gain_spin = QSpinBox()
        self.gain_spin.setRange(1, 64)
        self.gain_spin.setPrefix("× ")
        self.gain_spin.setToolTip("Amplification of |B - A| in difference mode")
        form.addRow("Difference", self.gain_spin)
        return box

    # -- binding ---------------------------------------------------------------------------------------------------

    def _bind(self) -> None:
        s = self.state
        self.codec_combo.currentIndexChanged.connect(lambda _: setattr(s, "codec", self.codec_combo.currentData()))
        self.level_slider.valueChanged.connect(self._on_slider)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.go_button.clicked.connect(self.go_to_jnd_requested)
        self.model_combo.currentIndexChanged.connect(
            lambda _: self._set_model(self.model_combo.currentData())
        )
        self.component_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "component", self.component_combo.currentData() or "threshold")
        )
        self.opacity_slider.valueChanged.connect(lambda v: setattr(s, "overlay_opacity", v / 100.0))
        self.ppd_spin.valueChanged.connect(lambda v: setattr(s, "ppd", v))
        self.device_combo.currentIndexChanged.connect(lambda _: setattr(s, "device", self.device_combo.currentData()))
        self.calibrated_check.toggled.connect(self._on_threshold_edit)
        self.threshold_spin.valueChanged.connect(lambda _: self._on_threshold_edit())
        self.pooling_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "pooling", self.pooling_combo.currentData())
        )
        self.strategy_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "strategy", self.strategy_combo.currentData())
        )
        self.flicker_spin.valueChanged.connect(lambda v: setattr(s, "flicker_hz", v))
        self.gain_spin.valueChanged.connect(lambda v: setattr(s, "difference_gain", float(v)))

        s.codec_changed.connect(lambda _: self.sync_from_state())
        s.level_changed.connect(self._sync_level)
        s.jnd_model_changed.connect(lambda _: self.sync_from_state())
        s.component_changed.connect(lambda _: self.sync_from_state())
        s.component_changed.connect(lambda _: self._sync_component_note())
        s.overlay_opacity_changed.connect(lambda _: self.sync_from_state())
        s.ppd_changed.connect(lambda _: self.sync_from_state())
        s.device_changed.connect(lambda _: self.sync_from_state())
        s.threshold_changed.connect(lambda _: self.sync_from_state())
        s.pooling_changed.connect(lambda _: self.sync_from_state())
        s.strategy_changed.connect(lambda _: self.sync_from_state())
        s.flicker_hz_changed.connect(lambda _: self.sync_from_state())
        s.difference_gain_changed.connect(lambda _: self.sync_from_state())
        s.model_params_changed.connect(lambda _: self._sync_params())

    def sync_from_state(self) -> None:
        """Show the state's values in every control (without writing back)."""
        s = self.state
        for combo, value in (
            (self.codec_combo, s.codec), (self.model_combo, s.jnd_model), (self.component_combo, s.component),
            (self.device_combo, s.device), (self.pooling_combo, s.pooling), (self.strategy_combo, s.strategy),
        ):  # fmt: skip
            index = combo.findData(value)
            if index >= 0 and index != combo.currentIndex():
                with _blocked(combo):
                    combo.setCurrentIndex(index)
        for widget, value in (
            (self.opacity_slider, round(s.overlay_opacity * 100)), (self.ppd_spin, s.ppd),
            (self.flicker_spin, s.flicker_hz), (self.gain_spin, round(s.difference_gain)),
        ):  # fmt: skip
            if widget.value() != value:
                with _blocked(widget):
                    widget.setValue(value)
        with _blocked(self.calibrated_check), _blocked(self.threshold_spin):
            self.calibrated_check.setChecked(s.threshold is None)
            self.threshold_spin.setEnabled(s.threshold is not None)
            if s.threshold is not None:
                self.threshold_spin.setValue(s.threshold)
        self._sync_level(s.level)

    def _set_model(self, name: str) -> None:
        if name != self.state.jnd_model:
            self.state.model_params = {}
            self.state.jnd_model = name

    def _on_threshold_edit(self) -> None:
        calibrated = self.calibrated_check.isChecked()
        self.threshold_spin.setEnabled(not calibrated)
        self.state.threshold = None if calibrated else self.threshold_spin.value()

    def _on_play_toggled(self, playing: bool) -> None:
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")
        self.play_toggled.emit(playing)

    def set_playing(self, playing: bool) -> None:
        with _blocked(self.play_button):
            self.play_button.setChecked(playing)
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")

    # -- level -----------------------------------------------------------------------------------------------------

    def set_ladder(self, info: LadderInfo) -> None:
        self.ladder = info
        with _blocked(self.level_slider):
            self.level_slider.setRange(0, len(info.ordered) - 1)
            self.level_slider.setPageStep(10)
        self.level_slider.setEnabled(True)
        self._sync_level(self.state.level)

    def _on_slider(self, index: int) -> None:
        if self.ladder is not None:
            self.state.level = self.ladder.ordered[index]

    def _sync_level(self, level: int | None) -> None:
        if self.ladder is None or level not in self.ladder.ordered:
            self.level_label.setText("–")
            return
        index = self.ladder.ordered.index(level)
        if self.level_slider.value() != index:
            with _blocked(self.level_slider):
                self.level_slider.setValue(index)
        self.level_label.setText(f"{self.ladder.level_name} {level}")

    def _sync_component_note(self) -> None:
        self.component_note.setText(COMPONENT_NOTES.get(self.state.component, ""))

    # -- model info, parameters, devices, codecs --------------------------------------------------------------------

    def set_model_info(self, info: compute.ModelInfo) -> None:
        """Fill the component list and the parameter editor of the model whose map was just computed."""
        self.model_title.setText(f"{info.title}: {info.citation}" if info.citation else info.title)
        with _blocked(self.component_combo):
            self.component_combo.clear()
            self.component_combo.addItem("threshold", "threshold")
            for name in info.component_names:
                self.component_combo.addItem(name.replace("_", " "), name)
            index = self.component_combo.findData(self.state.component)
            self.component_combo.setCurrentIndex(max(0, index))
        if self._model_info is not None and self._model_info.name == info.name:
            return
        self._model_info = info
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self._param_widgets = {}
        for item in info.fields:
            widget: QWidget
            if item.kind == "choice":
                widget = QComboBox()
                for choice in item.choices:
                    widget.addItem(choice, choice)
                widget.currentIndexChanged.connect(
                    lambda _, n=item.name, w=widget: self._param_edited(n, w.currentData())
                )
            elif item.kind == "int":
                widget = QSpinBox()
                widget.setRange(1, 10_000)
                widget.setKeyboardTracking(False)
                widget.valueChanged.connect(lambda v, n=item.name: self._param_edited(n, int(v)))
            else:
                widget = QDoubleSpinBox()
                widget.setDecimals(4)
                widget.setRange(-1000.0, 1000.0)
                widget.setSingleStep(max(0.001, abs(float(item.default)) / 10.0))
                widget.setKeyboardTracking(False)
                widget.valueChanged.connect(lambda v, n=item.name: self._param_edited(n, float(v)))
            widget.setToolTip(f"default {item.default}")
            self._param_widgets[item.name] = widget
            self.params_form.addRow(item.name.replace("_", " "), widget)
        reset = QPushButton("Published values")
        reset.setToolTip("Reset every parameter to the paper's value")
        reset.clicked.connect(lambda: setattr(self.state, "model_params", {}))
        self.params_form.addRow(reset)
        note = QLabel("The PW-JND prediction uses the published values.")
        note.setWordWrap(True)
        note.setStyleSheet("color: gray;")
        self.params_form.addRow(note)
        self._sync_params()

    def _show_params(self, shown: bool) -> None:
        self.params_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.params_box.setVisible(shown)

    def _param_edited(self, name: str, value: Any) -> None:
        if self._model_info is None:
            return
        defaults = {f.name: f.default for f in self._model_info.fields}
        params = dict(self.state.model_params)
        if value == defaults.get(name):
            params.pop(name, None)
        else:
            params[name] = value
        self.state.model_params = params

    def _sync_params(self) -> None:
        if self._model_info is None:
            return
        values = {f.name: f.default for f in self._model_info.fields} | dict(self.state.model_params)
        for name, widget in self._param_widgets.items():
            with _blocked(widget):
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(0, widget.findData(values[name])))
                else:
                    widget.setValue(values[name])

    def set_devices(self, devices: list[str], description: str) -> None:
        with _blocked(self.device_combo):
            self.device_combo.clear()
            for name in ["auto", *devices]:
                self.device_combo.addItem(name, name)
            self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(self.state.device)))
        uses_cuda = "cuda" in description
        self.device_label.setText(f"{description}; CUDA {'in use' if uses_cuda else 'not in use'}")

    def set_codecs(self, catalog: list[Any]) -> None:
        """Disable the codecs that cannot run here (the reason becomes the tooltip)."""
        model = self.codec_combo.model()
        for info in catalog:
            index = self.codec_combo.findData(info.name)
            if index < 0:
                continue
            item = model.item(index)
            item.setEnabled(info.available)
            tip = f"{info.level_name} {info.levels}, {info.better} is better" if info.available else info.reason
            item.setToolTip(tip)


# --------------------------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------------------------


class PlotsPanel(pg.GraphicsLayoutWidget):
    """Bytes per pixel and PSNR against level, and the pooled visibility against level.

    Marks the current level (draggable), the predicted PW-JND and the prediction's search trace (the visited rungs,
    red visible, blue invisible); clicking a plot jumps to the nearest level.

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
        self.prediction: Any = None

        self.rate = self.addPlot(row=0, col=0)
        self.rate.setLabel("left", "bits per pixel", color="#1f77b4")
        self.rate.showGrid(x=True, y=True, alpha=0.25)
        self.rate.setMenuEnabled(False)
        self.rate.getViewBox().setMouseEnabled(x=False, y=False)
        self.rate.hideButtons()
        self.rate_curve = self.rate.plot(pen=pg.mkPen("#1f77b4", width=2), name="bpp")
        self.psnr_view = pg.ViewBox()
        self.psnr_view.setMouseEnabled(x=False, y=False)
        self.rate.showAxis("right")
        self.rate.scene().addItem(self.psnr_view)
        self.rate.getAxis("right").linkToView(self.psnr_view)
        self.rate.getAxis("right").setLabel("PSNR (dB)", color="#ff7f0e")
        self.psnr_view.setXLink(self.rate)
        self.psnr_curve = pg.PlotCurveItem(pen=pg.mkPen("#ff7f0e", width=2))
        self.psnr_view.addItem(self.psnr_curve)
        self.rate.getViewBox().sigResized.connect(self._sync_psnr_view)

        self.vis = self.addPlot(row=1, col=0)
        self.vis.setLabel("left", "pooled visibility")
        self.vis.showGrid(x=True, y=True, alpha=0.25)
        self.vis.setMenuEnabled(False)
        self.vis.getViewBox().setMouseEnabled(x=False, y=False)
        self.vis.hideButtons()
        self.vis.setXLink(self.rate)
        self.vis_curve = self.vis.plot(pen=pg.mkPen("#555555", width=2))
        self.threshold_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self.threshold_line.setVisible(False)
        self.vis.addItem(self.threshold_line)
        self.trace = pg.ScatterPlotItem(size=11, pen=pg.mkPen("k", width=1), hoverable=True)
        self.trace.setZValue(30)
        self.vis.addItem(self.trace)
        self.trace_labels: list[pg.TextItem] = []
        legend = self.vis.addLegend(offset=(-8, 4), labelTextSize="8pt", brush="#ffffffd0", colCount=3,
                                    labelTextColor="#333333")
        legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush(VISIBLE_COLOR), pen="k", size=9), "searched: visible")
        legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush(INVISIBLE_COLOR), pen="k", size=9), "searched: not visible")
        legend.addItem(pg.PlotDataItem(pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)), "decision threshold")

        self.current_lines = []
        self.jnd_lines = []
        for plot in (self.rate, self.vis):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(CURRENT_COLOR, width=2),
                                   hoverPen=pg.mkPen(CURRENT_COLOR, width=4))  # fmt: skip
            line.setZValue(20)
            line.sigPositionChangeFinished.connect(self._on_line_dragged)
            plot.addItem(line)
            self.current_lines.append(line)
            jnd = pg.InfiniteLine(angle=90, pen=pg.mkPen(JND_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                  label="PW-JND", labelOpts={"position": 0.9, "color": JND_COLOR, "fill": "#ffffffc0"})
            jnd.setVisible(False)
            plot.addItem(jnd)
            self.jnd_lines.append(jnd)
        self.vis.setLabel("bottom", "level")
        self.scene().sigMouseClicked.connect(self._on_click)
        self.scene().sigMouseMoved.connect(self._on_hover)
        # Axes draw the grid over the whole plot: cache them, or every move of the current-level line repaints all
        # tick labels and grid lines (15 ms -> 2 ms a frame here).
        for plot in (self.rate, self.vis):
            for name in ("left", "bottom", "right", "top"):
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self._redraw)

    def _sync_psnr_view(self) -> None:
        self.psnr_view.setGeometry(self.rate.getViewBox().sceneBoundingRect())
        self.psnr_view.linkedViewChanged(self.rate.getViewBox(), self.psnr_view.XAxis)

    # -- data ------------------------------------------------------------------------------------------------------

    def reset(self, info: LadderInfo) -> None:
        self._redraw_timer.stop()
        self.ladder = info
        self.points = {}
        self.prediction = None
        self.vis.setLabel("bottom", info.level_name)
        self.rate.setTitle(info.title, size="9pt")
        low, high = min(info.ordered), max(info.ordered)
        self.rate.setXRange(low, high, padding=0.02)
        for line in self.current_lines:
            line.setBounds((low, high))
        self.set_prediction(None)
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

    def _fit_visibility_range(self) -> None:
        """Show the scores up to three times the threshold: the decision happens around it, not at the worst levels."""
        _, scores = self.vis_curve.getData()
        values = [] if scores is None else list(scores)
        if self.prediction is not None:
            values += [r.score for r in self.prediction.records]
        if not values:
            return
        top = max(values)
        if self.threshold_line.isVisible():
            top = min(top, 3.0 * self.threshold_line.value())
        self.vis.setYRange(0.0, max(top, 1e-6) * 1.08, padding=0.0)

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

    def set_prediction(self, result: Any) -> None:
        """Mark the predicted PW-JND and draw the search trace (order numbers next to the visited rungs)."""
        self.prediction = result
        for label in self.trace_labels:
            self.vis.removeItem(label)
        self.trace_labels = []
        if result is None:
            for line in self.jnd_lines:
                line.setVisible(False)
            self.trace.setData([], [])
            return
        for line in self.jnd_lines:
            line.setValue(result.level)
            line.setVisible(True)
            line.label.setFormat(f"PW-JND {result.level}")
        spots = []
        for order, record in enumerate(result.records, start=1):
            color = VISIBLE_COLOR if record.visible else INVISIBLE_COLOR
            spots.append({"pos": (record.level, record.score), "brush": pg.mkBrush(color),
                          "data": record.level, "symbol": "o"})
            label = pg.TextItem(str(order), color="#333333", anchor=(0.5, 1.25) if order % 2 else (0.5, -0.25))
            font = label.textItem.font()
            font.setPointSizeF(font.pointSizeF() * 0.85)
            label.setFont(font)
            label.setPos(record.level, record.score)
            self.vis.addItem(label)
            self.trace_labels.append(label)
        self.trace.setData(spots)
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
        """One line about a level of the curve (bytes, bpp, PSNR, pooled visibility)."""
        point = self.points.get(level)
        name = self.ladder.level_name if self.ladder is not None else "level"
        if point is None:
            return f"{name} {level}"
        text = f"{name} {level}: {format_bytes(point['nbytes'])}, {point['bpp']:.3f} bpp"
        if point["psnr"] is not None:
            text += f", {point['psnr']:.2f} dB"
        if point.get("score") is not None:
            text += f", pooled visibility {point['score']:.3f}"
        return text

    def _on_hover(self, position: Any) -> None:
        for plot in (self.rate, self.vis):
            view = plot.getViewBox()
            if view.sceneBoundingRect().contains(position):
                level = self._nearest_level(view.mapSceneToView(position).x())
                if level is not None:
                    self.rate.setTitle(self.describe_level(level), size="9pt")
                return
        if self.ladder is not None:
            self.rate.setTitle(self.ladder.title, size="9pt")

    def _on_click(self, event: Any) -> None:
        for plot in (self.rate, self.vis):
            view = plot.getViewBox()
            if view.sceneBoundingRect().contains(event.scenePos()):
                level = self._nearest_level(view.mapSceneToView(event.scenePos()).x())
                if level is not None:
                    self.level_picked.emit(level)
                return


# --------------------------------------------------------------------------------------------------------------------
# Readouts
# --------------------------------------------------------------------------------------------------------------------


class ReadoutsPanel(QWidget):
    """The numbers: predicted PW-JND and what it saves, the current level, visibility there, compute times."""

    FIELDS = (
        ("jnd", "Predicted PW-JND"),
        ("size", "Size at JND"),
        ("saving", "Saving"),
        ("psnr", "PSNR at JND"),
        ("search", "Search"),
        ("current", "Current level"),
        ("visibility", "Visibility here"),
        ("times", "Compute"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        self.labels: dict[str, QLabel] = {}
        for key, title in self.FIELDS:
            label = QLabel("–")
            label.setObjectName(f"readout_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = label
            form.addRow(f"{title}:", label)
        self.labels["jnd"].setStyleSheet("font-weight: bold;")
        self.times: dict[str, str] = {}

    def text(self, key: str) -> str:
        return self.labels[key].text()

    def set_text(self, key: str, text: str) -> None:
        self.labels[key].setText(text)

    def show_prediction(self, result: Any, level_name: str) -> None:
        self.labels["jnd"].setStyleSheet("font-weight: bold;")
        if result is None:
            for key in ("jnd", "size", "saving", "psnr", "search"):
                self.set_text(key, "–")
            return
        note = " (even the best level is visible)" if result.all_visible else ""
        self.set_text("jnd", f"{level_name} {result.level}{note}")
        self.set_text("size", f"{format_bytes(result.nbytes)}, {result.bpp:.3f} bpp")
        self.set_text(
            "saving",
            f"{100 * result.bitrate_saving:.1f} % fewer bytes than {level_name} {result.best_level} "
            f"({format_bytes(result.best_nbytes)})",
        )
        self.set_text("psnr", "lossless" if math.isinf(result.psnr) else f"{result.psnr:.2f} dB")
        strategy = result.params.get("strategy", "")
        threshold = result.params.get("threshold")
        self.set_text(
            "search",
            f"{result.encodes} encodes in {format_ms(result.seconds)} ({strategy}, threshold {threshold:.3g}, "
            f"{result.params.get('jnd_model', '')} at {result.params.get('ppd', 0):g} ppd)",
        )

    def show_prediction_error(self, message: str) -> None:
        self.show_prediction(None, "")
        self.set_text("jnd", message)
        self.labels["jnd"].setStyleSheet("color: #c62828;")

    def set_time(self, name: str, text: str) -> None:
        self.times[name] = text
        self.set_text("times", "; ".join(f"{k} {v}" for k, v in self.times.items()))
