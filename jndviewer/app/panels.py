"""The side panels: controls bound to the view state, the rate/visibility plots, and the readouts."""

from __future__ import annotations

import math
from typing import Any, ClassVar

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
from jndviewer.app.state import PPD_RANGE, VISIBILITY_MODEL_LABELS, ViewState
from jndviewer.core.catalog import JND_MODEL_NAMES
from jndviewer.core.codecs import CODECS

VISIBLE_COLOR = QColor(214, 39, 40)
INVISIBLE_COLOR = QColor(31, 119, 180)
JND_COLOR = QColor(44, 160, 44)
CURRENT_COLOR = QColor(255, 170, 0)
SGJND_COLOR = QColor(148, 103, 189)
#: The predictors the "Go/Export" chooser offers: (state value, label).
PREDICTOR_LABELS = (("visibility", "visibility (training-free)"), ("sgjnd", "SG-JND (trained)"))
#: Short names of the predictors in readouts and plot labels.
PREDICTOR_NAMES = {"visibility": "visibility", "sgjnd": "SG-JND"}
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
        self.visibility_model_combo = QComboBox()
        self.visibility_model_combo.setObjectName("visibility_model")
        for name, label in VISIBILITY_MODEL_LABELS:
            self.visibility_model_combo.addItem(label, name)
        self.visibility_model_combo.setToolTip(
            "What the training-free predictor's visibility is relative to: band-limited contrast thresholds (CSF, "
            "luminance and contrast masking; the calibrated default) or the JND map of the chosen pixel model"
        )
        form.addRow("Visibility", self.visibility_model_combo)
        self.pooling_combo = QComboBox()
        for name in ("minkowski", "max_window", "fraction"):
            self.pooling_combo.addItem(name, name)
        form.addRow("Pooling", self.pooling_combo)
        self.strategy_combo = QComboBox()
        for name in ("block", "bisection", "sliding", "exhaustive"):
            self.strategy_combo.addItem(name, name)
        self.strategy_combo.setToolTip("Search strategy of the visibility predictor (SG-JND uses its sliding window)")
        form.addRow("Search", self.strategy_combo)
        self.go_predictor_combo = QComboBox()
        self.go_predictor_combo.setObjectName("go_predictor")
        for name, label in PREDICTOR_LABELS:
            self.go_predictor_combo.addItem(label, name)
        self.go_predictor_combo.setToolTip("Whose predicted PW-JND 'Go to JND' (G) and File > Export use")
        form.addRow("Go/Export", self.go_predictor_combo)
        self.predict_button = QPushButton("Predict PW-JND")
        self.predict_button.setToolTip(
            "Search the levels for the picture-wise JND with the visibility predictor and SG-JND (P)"
        )
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
        self.patch_check = QCheckBox("SG-JND patch weights")
        self.patch_check.setObjectName("patch_overlay")
        self.patch_check.setToolTip(
            "Draw SG-JND's patches of the current level over the image (Shift+W): fill by weight, outline red where "
            "the distortion is predicted visible; hover a patch for its numbers"
        )
        form.addRow("Overlay", self.patch_check)
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
        self.visibility_model_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "visibility_model", self.visibility_model_combo.currentData())
        )
        self.strategy_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "strategy", self.strategy_combo.currentData())
        )
        self.flicker_spin.valueChanged.connect(lambda v: setattr(s, "flicker_hz", v))
        self.gain_spin.valueChanged.connect(lambda v: setattr(s, "difference_gain", float(v)))
        self.go_predictor_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "go_predictor", self.go_predictor_combo.currentData())
        )
        self.patch_check.toggled.connect(lambda on: setattr(s, "patch_overlay", on))

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
        s.visibility_model_changed.connect(lambda _: self.sync_from_state())
        s.strategy_changed.connect(lambda _: self.sync_from_state())
        s.flicker_hz_changed.connect(lambda _: self.sync_from_state())
        s.difference_gain_changed.connect(lambda _: self.sync_from_state())
        s.go_predictor_changed.connect(lambda _: self.sync_from_state())
        s.patch_overlay_changed.connect(lambda _: self.sync_from_state())
        s.model_params_changed.connect(lambda _: self._sync_params())

    def sync_from_state(self) -> None:
        """Show the state's values in every control (without writing back)."""
        s = self.state
        for combo, value in (
            (self.codec_combo, s.codec), (self.model_combo, s.jnd_model), (self.component_combo, s.component),
            (self.device_combo, s.device), (self.pooling_combo, s.pooling), (self.strategy_combo, s.strategy),
            (self.go_predictor_combo, s.go_predictor), (self.visibility_model_combo, s.visibility_model),
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
        if self.patch_check.isChecked() != s.patch_overlay:
            with _blocked(self.patch_check):
                self.patch_check.setChecked(s.patch_overlay)
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

    def set_sgjnd_available(self, available: bool, reason: str = "") -> None:
        """Grey out SG-JND in the Go/Export chooser when it cannot run (the reason becomes the tooltip)."""
        item = self.go_predictor_combo.model().item(self.go_predictor_combo.findData("sgjnd"))
        item.setEnabled(available)
        item.setToolTip("" if available else reason)

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

    SG-JND's prediction is drawn beside it: its PW-JND as a purple line on both plots and the levels its search
    visited as diamonds at their image logit, on the visibility plot's right axis. The two scores are different
    quantities, so each keeps its own axis, but the logit axis is placed so that its decision (logit 0) is at the
    height of the visibility threshold: for both predictors, points above the dashed line are "visible".

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
        self.sgjnd: Any = None
        self._vis_top = 1.0

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

        self.logit_view = pg.ViewBox()  # SG-JND's logits, on the right axis of the visibility plot
        self.logit_view.setMouseEnabled(x=False, y=False)
        self.vis.showAxis("right")
        self.vis.scene().addItem(self.logit_view)
        self.vis.getAxis("right").linkToView(self.logit_view)
        self.vis.getAxis("right").setLabel("SG-JND logit", color=SGJND_COLOR.name())
        self.vis.getAxis("right").enableAutoSIPrefix(False)
        self.logit_view.setXLink(self.vis)
        self.logit_view.setYRange(-1.0, 1.0, padding=0.0)
        self.logit_zero = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(SGJND_COLOR, style=Qt.PenStyle.DotLine))
        self.logit_zero.setVisible(False)
        self.logit_view.addItem(self.logit_zero)
        self.sg_trace = pg.ScatterPlotItem(size=11, symbol="d", pen=pg.mkPen(SGJND_COLOR, width=1.5), hoverable=True)
        self.sg_trace.setZValue(30)
        self.logit_view.addItem(self.sg_trace)
        self.vis.getViewBox().sigResized.connect(self._sync_logit_view)

        legend = self.vis.addLegend(offset=(-8, 4), labelTextSize="8pt", brush="#ffffffd0", colCount=4,
                                    labelTextColor="#333333")
        legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush(VISIBLE_COLOR), pen="k", size=9), "searched: visible")
        legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush(INVISIBLE_COLOR), pen="k", size=9), "searched: not visible")
        legend.addItem(pg.PlotDataItem(pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)),
                       "decision (threshold; SG-JND logit 0)")  # fmt: skip
        legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush("#ffffff"), pen=pg.mkPen(SGJND_COLOR, width=1.5),
                                          symbol="d", size=9), "SG-JND searched (logit →)")  # fmt: skip

        self.current_lines = []
        self.jnd_lines = []
        self.sg_jnd_lines = []
        for plot in (self.rate, self.vis):
            line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(CURRENT_COLOR, width=2),
                                   hoverPen=pg.mkPen(CURRENT_COLOR, width=4))  # fmt: skip
            line.setZValue(20)
            line.sigPositionChangeFinished.connect(self._on_line_dragged)
            plot.addItem(line)
            self.current_lines.append(line)
            # In the visibility plot the legend covers the top: the label sits lower there.
            label_at = 0.9 if plot is self.rate else 0.62
            jnd = pg.InfiniteLine(angle=90, pen=pg.mkPen(JND_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                  label="PW-JND",
                                  labelOpts={"position": label_at, "color": JND_COLOR, "fill": "#ffffffc0"})
            jnd.setVisible(False)
            plot.addItem(jnd)
            self.jnd_lines.append(jnd)
            sg = pg.InfiniteLine(angle=90, pen=pg.mkPen(SGJND_COLOR, width=2, style=Qt.PenStyle.DashDotLine),
                                 label="SG-JND",
                                 labelOpts={"position": 0.3, "color": SGJND_COLOR, "fill": "#ffffffc0"})
            sg.setVisible(False)
            plot.addItem(sg)
            self.sg_jnd_lines.append(sg)
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

    def _sync_logit_view(self) -> None:
        self.logit_view.setGeometry(self.vis.getViewBox().sceneBoundingRect())
        self.logit_view.linkedViewChanged(self.vis.getViewBox(), self.logit_view.XAxis)

    # -- data ------------------------------------------------------------------------------------------------------

    def reset(self, info: LadderInfo) -> None:
        self._redraw_timer.stop()
        self.ladder = info
        self.points = {}
        self.prediction = None
        self.sgjnd = None
        self.vis.setLabel("bottom", info.level_name)
        self.rate.setTitle(info.title, size="9pt")
        low, high = min(info.ordered), max(info.ordered)
        self.rate.setXRange(low, high, padding=0.02)
        for line in self.current_lines:
            line.setBounds((low, high))
        self.set_prediction(None)
        self.set_sgjnd(None)
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
        self._vis_top = max(top, 1e-6) * 1.08
        self.vis.setYRange(0.0, self._vis_top, padding=0.0)
        self._fit_logit_range()

    def _fit_logit_range(self) -> None:
        """Show every SG-JND logit, with logit 0 at the height of the visibility threshold (the middle without one)."""
        fraction = 0.5
        if self.threshold_line.isVisible() and self._vis_top > 0:
            fraction = min(0.85, max(0.15, self.threshold_line.value() / self._vis_top))
        logits = [r.score for r in self.sgjnd.records] if self.sgjnd is not None else []
        # 0 at ``fraction`` of the height: low = -fraction / (1 - fraction) * high, with every logit inside
        ratio = fraction / (1.0 - fraction)
        high = 1.1 * max([1e-3, *(v for v in logits if v > 0), *(-v / ratio for v in logits if v < 0)])
        self.logit_view.setYRange(-ratio * high, high, padding=0.0)

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
            line.label.setFormat(f"visibility {result.level}")
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

    def set_sgjnd(self, result: Any) -> None:
        """Mark SG-JND's PW-JND and the levels its search visited, at their logits (right axis); None clears."""
        self.sgjnd = result
        if result is None:
            for line in self.sg_jnd_lines:
                line.setVisible(False)
            self.sg_trace.setData([], [])
            self.logit_zero.setVisible(False)
            return
        for line in self.sg_jnd_lines:
            line.setValue(result.level)
            line.setVisible(True)
            line.label.setFormat(f"SG-JND {result.level}")
        spots = [
            {"pos": (r.level, r.score), "brush": pg.mkBrush(VISIBLE_COLOR if r.visible else INVISIBLE_COLOR),
             "data": r.level, "symbol": "d"}
            for r in result.records
        ]  # fmt: skip
        self.sg_trace.setData(spots)
        self.logit_zero.setVisible(True)
        self._fit_logit_range()

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
        if self.sgjnd is not None and level in self.sgjnd.scores:
            text += f", SG-JND logit {self.sgjnd.scores[level]:+.2f}"
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
    """The numbers: both predicted PW-JNDs, details of the one Go/Export uses, the current level, compute times.

    The first two rows give each predictor's PW-JND in one line (level, bpp, saving; or why there is none). The
    detail rows (size, saving, PSNR, search) describe the predictor chosen for Go/Export, named in their labels.
    """

    FIELDS = (
        ("jnd", "PW-JND (visibility)"),
        ("sgjnd", "PW-JND (SG-JND)"),
        ("size", "Size at JND"),
        ("saving", "Saving"),
        ("psnr", "PSNR at JND"),
        ("search", "Search"),
        ("current", "Current level"),
        ("visibility", "Visibility here"),
        ("sgjnd_here", "SG-JND here"),
        ("times", "Compute"),
    )
    #: The row of each predictor's one-line summary.
    SUMMARY_KEYS: ClassVar[dict[str, str]] = {"visibility": "jnd", "sgjnd": "sgjnd"}
    DETAIL_KEYS = ("size", "saving", "psnr", "search")
    STYLES: ClassVar[dict[str, str]] = {
        "chosen": "font-weight: bold;", "plain": "", "error": "color: #c62828;", "missing": "color: gray;",
        "pending": "",
    }
    PENDING: ClassVar[str] = "predicting…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        self.form = form
        self.labels: dict[str, QLabel] = {}
        self.titles: dict[str, QLabel] = {}
        for key, title in self.FIELDS:
            label = QLabel("–")
            label.setObjectName(f"readout_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = label
            form.addRow(f"{title}:", label)
            self.titles[key] = form.labelForField(label)
        self.times: dict[str, str] = {}
        self.results: dict[str, Any] = {"visibility": None, "sgjnd": None}
        self.states: dict[str, str] = {"visibility": "plain", "sgjnd": "plain"}  # plain, pending, error or missing
        self.level_name = "level"
        self.chosen = "visibility"
        self._restyle()

    def text(self, key: str) -> str:
        return self.labels[key].text()

    def title(self, key: str) -> str:
        """The label of a row, without its colon."""
        return self.titles[key].text().rstrip(":")

    def set_text(self, key: str, text: str) -> None:
        self.labels[key].setText(text)

    def show_prediction(self, result: Any, level_name: str, predictor: str = "visibility") -> None:
        """A predictor's result in its summary row (None: a dash), and in the detail rows if it is the chosen one."""
        if level_name:
            self.level_name = level_name
        self.results[predictor] = result
        self.states[predictor] = "plain"
        self.set_text(self.SUMMARY_KEYS[predictor], "–" if result is None else self.summary(result, self.level_name))
        self._restyle()
        if predictor == self.chosen:
            self._show_details()

    def show_prediction_error(self, message: str, predictor: str = "visibility", *, missing: bool = False) -> None:
        """Why a predictor has no result, in one line (red; grey when it is only ``missing``, e.g. no weights)."""
        self.show_prediction(None, "", predictor)
        self.set_text(self.SUMMARY_KEYS[predictor], message)
        self.states[predictor] = "missing" if missing else "error"
        self._restyle()

    def set_pending(self, predictor: str) -> None:
        self.show_prediction(None, "", predictor)
        self.set_text(self.SUMMARY_KEYS[predictor], self.PENDING)
        self.states[predictor] = "pending"

    def cancel_pending(self, predictor: str) -> None:
        """A pending prediction was cancelled: say so (grey) rather than "predicting…" forever."""
        if self.states.get(predictor) == "pending":
            self.show_prediction_error("cancelled (P predicts again)", predictor, missing=True)

    def set_chosen(self, predictor: str) -> None:
        """The predictor whose details are shown (the one Go/Export uses); its summary row is bold."""
        self.chosen = predictor
        self._restyle()
        self._show_details()

    @staticmethod
    def summary(result: Any, level_name: str) -> str:
        """``quality 31 · 0.620 bpp · 38.0 % saved`` (with a note when even the best level is visible)."""
        note = " (even the best level is visible)" if result.all_visible else ""
        return (
            f"{level_name} {result.level}{note} · {result.bpp:.3f} bpp · {100 * result.bitrate_saving:.1f} % saved"
        )

    def _restyle(self) -> None:
        for predictor, key in self.SUMMARY_KEYS.items():
            state = self.states[predictor]
            if state == "plain" and predictor == self.chosen:
                state = "chosen"
            self.labels[key].setStyleSheet(self.STYLES[state])

    def _show_details(self) -> None:
        name = PREDICTOR_NAMES.get(self.chosen, self.chosen)
        for key, title in self.FIELDS:
            if key in self.DETAIL_KEYS:
                self.titles[key].setText(f"{title} ({name}):")
        result, level_name = self.results.get(self.chosen), self.level_name
        if result is None:
            for key in self.DETAIL_KEYS:
                self.set_text(key, "–")
            return
        self.set_text("size", f"{format_bytes(result.nbytes)}, {result.bpp:.3f} bpp")
        self.set_text(
            "saving",
            f"{100 * result.bitrate_saving:.1f} % fewer bytes than {level_name} {result.best_level} "
            f"({format_bytes(result.best_nbytes)})",
        )
        self.set_text("psnr", "lossless" if math.isinf(result.psnr) else f"{result.psnr:.2f} dB")
        params = result.params
        strategy = params.get("strategy", "")
        searched = f"{result.encodes} encodes in {format_ms(result.seconds)}"
        if result.predictor == "sgjnd":
            patches = len(params.get("patch_positions", []))
            detail = f"{strategy}, {patches} patches of {params.get('patch', 0)} px, {params.get('backbone', '')}"
        else:
            threshold = params.get("threshold")
            detail = (
                f"{strategy}, threshold {threshold:.3g}, {params.get('jnd_model', '')} at {params.get('ppd', 0):g} ppd"
            )
        self.set_text("search", f"{searched} ({detail})")

    def set_time(self, name: str, text: str) -> None:
        self.times[name] = text
        self.set_text("times", "; ".join(f"{k} {v}" for k, v in self.times.items()))
