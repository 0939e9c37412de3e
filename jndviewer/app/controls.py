"""The controls panel: codec and level, JND model, viewing condition, prediction and display, bound to the view
state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jndviewer.app.jobs import LadderInfo
from jndviewer.app.predictions import TUNED_PREDICTOR
from jndviewer.app.state import VISIBILITY_MODEL_LABELS, ViewState
from jndviewer.app.wheel_guard import guard_wheel
from jndviewer.core import views
from jndviewer.core.catalog import JND_MODEL_NAMES, POOLINGS
from jndviewer.core.codecs import CODECS
from jndviewer.core.pwjnd.registry import PREDICTORS, patch_predictor_names
from jndviewer.core.pwjnd.search import STRATEGIES
from jndviewer.core.viewing import PPD_RANGE, TASK_WORDS, TASKS

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


def _blocked(widget: QWidget) -> QSignalBlocker:
    return QSignalBlocker(widget)


# --------------------------------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------------------------------


def _model_title(info: views.ModelInfo) -> str:
    """The line under the model box: the model's title and its citation."""
    return f"{info.title}: {info.citation}" if info.citation else info.title


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
        self._model_info: views.ModelInfo | None = None
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
        guard_wheel(self)

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
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setCheckable(True)
        self._show_playing(False)
        self.play_button.setToolTip("Play through the levels from worst to best (Space)")
        self.go_button = QPushButton("Go to PW-JND")
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
        self.ppd_spin.setToolTip("Pixels per degree of visual angle: a 24-inch 1080p monitor at 60 cm is about 38 "
                                 "(37.8)")
        screen = QPushButton("Screen…")
        screen.setToolTip("Compute ppd from the screen size, resolution and viewing distance")
        screen.clicked.connect(self.viewing_dialog_requested)
        row = QHBoxLayout()
        row.addWidget(self.ppd_spin, 1)
        row.addWidget(screen)
        form.addRow("Viewing", row)
        self.task_combo = QComboBox()
        self.task_combo.setObjectName("task")
        for name in TASKS:
            self.task_combo.addItem(TASK_WORDS[name], name)
        self.task_combo.setToolTip(
            "The viewing task the predictions are for: side by side (the images next to each other, MCL-JCI's "
            "protocol) or flicker (the images alternating in place 8 times a second, KonJND-1k's): people see "
            "distortion at much better quality when it flickers"
        )
        form.addRow("Task", self.task_combo)
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
        self.threshold_spin.setToolTip(
            "The pooled visibility above which a level counts as visible; greyed while \"calibrated\" is ticked, it "
            "shows the calibrated threshold in use for the codec, model, pooling and viewing condition"
        )
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
        for name in POOLINGS:
            self.pooling_combo.addItem(name, name)
        form.addRow("Pooling", self.pooling_combo)
        self.strategy_combo = QComboBox()
        for name in STRATEGIES:
            self.strategy_combo.addItem(name, name)
        tuned = PREDICTORS[TUNED_PREDICTOR].short
        self.strategy_combo.setToolTip(f"Search strategy of the {tuned} predictor (the others use their own)")
        form.addRow("Search", self.strategy_combo)
        self.go_predictor_combo = QComboBox()
        self.go_predictor_combo.setObjectName("go_predictor")
        for name, info in PREDICTORS.items():
            self.go_predictor_combo.addItem(info.label, name)
            self.go_predictor_combo.setItemData(self.go_predictor_combo.count() - 1, info.description,
                                                Qt.ItemDataRole.ToolTipRole)
        self.go_predictor_combo.setToolTip("Whose predicted PW-JND 'Go to JND' (G) and File > Export use")
        form.addRow("Go/Export", self.go_predictor_combo)
        self.predict_button = QPushButton("Predict PW-JND")
        names = ", ".join(info.short for info in PREDICTORS.values())
        self.predict_button.setToolTip(f"Search the levels for the picture-wise JND with every predictor ({names}) (P)")
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
        self.gain_spin.setToolTip(
            "Amplification of the signed difference B − A in difference mode: full colour at ±128 / gain gray levels"
        )
        form.addRow("Difference", self.gain_spin)
        self.over_luma_check = QCheckBox("over the reference's luma")  # bound by app/visibility_overlay.py
        self.over_luma_check.setObjectName("visibility_over_luma")
        form.addRow("Visibility", self.over_luma_check)
        self.patch_check = QCheckBox("Patch weights of")
        self.patch_check.setObjectName("patch_overlay")
        self.patch_check.setToolTip(
            "Draw the chosen network's patches of the current level over the image (Shift+W): fill by weight, "
            "outline red where the distortion is predicted visible; hover a patch for its numbers"
        )
        self.patch_combo = QComboBox()
        self.patch_combo.setObjectName("patch_predictor")
        self.patch_combo.setToolTip("Whose patches the overlay draws: the trained networks that judge patches")
        for name in patch_predictor_names():
            self.patch_combo.addItem(PREDICTORS[name].short, name)
        patch_row = QHBoxLayout()
        patch_row.setContentsMargins(0, 0, 0, 0)
        patch_row.addWidget(self.patch_check)
        patch_row.addWidget(self.patch_combo, 1)
        form.addRow("Overlay", patch_row)
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
        self.task_combo.currentIndexChanged.connect(lambda _: setattr(s, "task", self.task_combo.currentData()))
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
        self.patch_combo.currentIndexChanged.connect(
            lambda _: setattr(s, "patch_predictor", self.patch_combo.currentData()))

        s.codec_changed.connect(lambda _: self.sync_from_state())
        s.level_changed.connect(self._sync_level)
        s.jnd_model_changed.connect(lambda _: self.sync_from_state())
        s.component_changed.connect(lambda _: self.sync_from_state())
        s.component_changed.connect(lambda _: self._sync_component_note())
        s.overlay_opacity_changed.connect(lambda _: self.sync_from_state())
        s.ppd_changed.connect(lambda _: self.sync_from_state())
        s.task_changed.connect(lambda _: self.sync_from_state())
        s.device_changed.connect(lambda _: self.sync_from_state())
        s.threshold_changed.connect(lambda _: self.sync_from_state())
        s.pooling_changed.connect(lambda _: self.sync_from_state())
        s.visibility_model_changed.connect(lambda _: self.sync_from_state())
        s.strategy_changed.connect(lambda _: self.sync_from_state())
        s.flicker_hz_changed.connect(lambda _: self.sync_from_state())
        s.difference_gain_changed.connect(lambda _: self.sync_from_state())
        s.go_predictor_changed.connect(lambda _: self.sync_from_state())
        s.patch_overlay_changed.connect(lambda _: self.sync_from_state())
        s.patch_predictor_changed.connect(lambda _: self.sync_from_state())
        s.model_params_changed.connect(lambda _: self._sync_params())

    def sync_from_state(self) -> None:
        """Show the state's values in every control (without writing back)."""
        s = self.state
        for combo, value in (
            (self.codec_combo, s.codec), (self.model_combo, s.jnd_model), (self.component_combo, s.component),
            (self.device_combo, s.device), (self.pooling_combo, s.pooling), (self.strategy_combo, s.strategy),
            (self.go_predictor_combo, s.go_predictor), (self.visibility_model_combo, s.visibility_model),
            (self.task_combo, s.task),
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
        index = self.patch_combo.findData(s.patch_predictor)
        if index >= 0 and index != self.patch_combo.currentIndex():
            with _blocked(self.patch_combo):
                self.patch_combo.setCurrentIndex(index)
        with _blocked(self.calibrated_check), _blocked(self.threshold_spin):
            self.calibrated_check.setChecked(s.threshold is None)
            self.threshold_spin.setEnabled(s.threshold is not None)
            if s.threshold is not None:
                self.threshold_spin.setValue(s.threshold)
        self._sync_level(s.level)

    def show_threshold_in_use(self, value: float | None) -> None:
        """Show the calibrated threshold the prediction uses in the greyed field (None: unknown, left as it is)."""
        if self.state.threshold is None and value is not None:
            with _blocked(self.threshold_spin):
                self.threshold_spin.setValue(value)

    def _set_model(self, name: str) -> None:
        if name != self.state.jnd_model:
            self.state.model_params = {}
            self.state.jnd_model = name

    def _on_threshold_edit(self) -> None:
        calibrated = self.calibrated_check.isChecked()
        self.threshold_spin.setEnabled(not calibrated)
        self.state.threshold = None if calibrated else self.threshold_spin.value()

    def _on_play_toggled(self, playing: bool) -> None:
        self._show_playing(playing)
        self.play_toggled.emit(playing)

    def set_playing(self, playing: bool) -> None:
        with _blocked(self.play_button):
            self.play_button.setChecked(playing)
        self._show_playing(playing)

    def _show_playing(self, playing: bool) -> None:
        """The style's own play and pause icons (fonts may lack the media glyphs) beside "Play" or "Pause"."""
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

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

    def note_map_pending(self, model: str | None) -> None:
        """The title names the model whose map is shown; while another model's map is computed (``model``) it says
        so, not silently naming a model other than the one chosen; ``None``: nothing is being computed now."""
        info = self._model_info
        if info is None:
            return
        pending = f" (the map shown until {model}'s is computed)" if model is not None and model != info.name else ""
        self.model_title.setText(_model_title(info) + pending)

    def set_model_info(self, info: views.ModelInfo) -> None:
        """Fill the component list and the parameter editor of the model whose map was just computed."""
        self.model_title.setText(_model_title(info))
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
        guard_wheel(self)

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

    def set_predictor_available(self, name: str, available: bool, reason: str = "") -> None:
        """Grey out a predictor in the Go/Export chooser when it cannot run (the reason becomes the tooltip)."""
        index = self.go_predictor_combo.findData(name)
        if index < 0:
            return
        item = self.go_predictor_combo.model().item(index)
        item.setEnabled(available)
        item.setToolTip(PREDICTORS[name].description if available else reason)

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
