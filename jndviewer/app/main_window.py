"""The explorer's main window: canvas, mode toolbar, control/plot/readout docks, menus, status bar, settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jndviewer.app.canvas import CompareCanvas
from jndviewer.app.controls import ControlsPanel
from jndviewer.app.dialogs import ViewingConditionDialog
from jndviewer.app.exports import ExportActions
from jndviewer.app.full_resolution import FullResolution
from jndviewer.app.jobs import Derived, DifferenceKey, Frame, JndLayer, LadderInfo, LoadedImage, VisibilityKey
from jndviewer.app.level_readouts import LevelReadouts
from jndviewer.app.line_profile import ProfileTool
from jndviewer.app.menus import MenuActions
from jndviewer.app.modes import CompareMode, WipeStop
from jndviewer.app.plots import PlotsPanel
from jndviewer.app.predictions import threshold_in_use
from jndviewer.app.readouts import ReadoutsPanel, format_bytes, format_ms, short_name
from jndviewer.app.session import Session
from jndviewer.app.state import ViewState, open_settings, recent_files, remember_file
from jndviewer.app.status_bar import READY, StatusBarMixin
from jndviewer.app.task_bar import TaskBar
from jndviewer.app.visibility_overlay import VisibilityLook
from jndviewer.app.workers import JobRunner, Notifier
from jndviewer.app.zoom_ppd import ZoomPrediction
from jndviewer.core import views
from jndviewer.core.image import IMAGE_SUFFIXES
from jndviewer.core.preview import scale_words

#: Play-through speed: one level every this many milliseconds (it also waits for each frame).
PLAY_INTERVAL_MS = 125
#: What the status bar says between messages: idle, or while background jobs run (they are named beside it).


class MainWindow(MenuActions, LevelReadouts, ExportActions, StatusBarMixin, QMainWindow):
    """The explorer window. ``path`` (optional) is opened once the window is up.

    Parameters
    ----------
    path : str or Path, optional
        Image to open.
    settings : QSettings, optional
        Where geometry, recent files and the view state are kept (default: :func:`open_settings`).
    restore : bool
        Read the view state and geometry from ``settings``.

    Signals
    -------
    export_done(str)
        An export finished (the path written).
    """

    export_done = Signal(str)

    def __init__(self, path: str | Path | None = None, *, settings: QSettings | None = None, restore: bool = True):
        super().__init__()
        self.setObjectName("jndviewer_main")
        self.setWindowTitle("jndviewer")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else open_settings()
        self.state = ViewState(self)
        if restore:
            self.state.restore(self.settings)
        self.notifier = Notifier(self)
        self.session = Session(self.state, self, self.notifier)
        self.export_runner = JobRunner("export", self.session.background_pool, self.notifier, self)
        self.export_runner.finished.connect(self._on_exported)

        self.canvas = CompareCanvas()
        self.cursor_label = QLabel("Point at the image for pixel values, the JND threshold and the visibility there.")
        self.cursor_label.setObjectName("cursor_readout")
        self.cursor_label.setStyleSheet("font-family: monospace; padding: 2px 6px;")
        self.cursor_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long readout (e.g. with the patch under the cursor) must not widen the window or shrink the canvas, which
        # would refit the image under the cursor while it moves.
        self.cursor_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.cursor_label.setWordWrap(True)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.task_bar = TaskBar(self.state)
        layout.addWidget(self.task_bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.cursor_label)
        self.setCentralWidget(central)

        self.controls = ControlsPanel(self.state)
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(360)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls_dock")
        self.controls_dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)

        self.plots = PlotsPanel()
        self.readouts = ReadoutsPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plots)
        readouts_scroll = QScrollArea()  # one row per predictor: more than the dock's height must not be clipped
        readouts_scroll.setWidget(self.readouts)
        readouts_scroll.setWidgetResizable(True)
        readouts_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        readouts_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        splitter.addWidget(readouts_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])  # in proportion: the readouts get room for about one line a row
        readouts_scroll.setMinimumWidth(360)
        self.analysis_dock = QDockWidget("Rate, quality and visibility", self)
        self.analysis_dock.setObjectName("analysis_dock")
        self.analysis_dock.setWidget(splitter)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.analysis_dock)

        self.zoom_prediction = ZoomPrediction(self.state, self.canvas, self.readouts, "zoom", self)
        self.full_resolution = FullResolution(self.state, self.session, self.canvas, self)
        self._build_status_bar()
        self._build_actions()
        self.visibility_look, self.profile = VisibilityLook(self), ProfileTool(self)
        self._connect()
        self._play_timer = QTimer(self, interval=PLAY_INTERVAL_MS)
        self._play_timer.timeout.connect(self._play_step)
        self._last_hover: tuple[int, int] | None = None

        self.resize(1440, 920)
        self.resizeDocks([self.analysis_dock], [330], Qt.Orientation.Vertical)
        if restore:
            geometry = self.settings.value("window/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            window_state = self.settings.value("window/state")
            if isinstance(window_state, QByteArray):
                self.restoreState(window_state)
        self._apply_state_to_canvas()
        self._refresh_recent_menu()
        if path is not None:
            QTimer.singleShot(0, lambda: self.open_path(path))
        QTimer.singleShot(0, self._probe_after_loading)

    # ------------------------------------------------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_label = QLabel(READY)
        self.status_label.setObjectName("status_message")
        self.jobs_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(18)
        self.progress.setFormat("%p %")  # a percentage once a job reports numbers; a busy bar until then
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.stop_button = QToolButton()
        self.stop_button.setText("■")
        self.stop_button.setToolTip("Cancel the background jobs (Esc)")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.cancel_jobs)
        self.zoom_label = QLabel("")
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.jobs_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.stop_button)
        bar.addPermanentWidget(self.zoom_label)
        self._message_timer = QTimer(self, singleShot=True, interval=8000)
        self._message_timer.timeout.connect(self._rest_status)

    def _connect(self) -> None:
        s, session = self.state, self.session
        s.mode_changed.connect(self._on_mode)
        s.wipe_changed.connect(self.canvas.set_wipe)
        s.flicker_hz_changed.connect(self.canvas.set_flicker_rate)
        s.overlay_opacity_changed.connect(self.canvas.set_opacity)
        s.level_changed.connect(self._on_level)
        s.image_path_changed.connect(self._update_title)
        s.patch_overlay_changed.connect(self._on_patch_overlay)
        s.go_predictor_changed.connect(self._on_go_predictor)
        s.ppd_changed.connect(self._show_scale)
        session.ladder_changed.connect(self._show_scale)
        for signal in (s.ppd_changed, s.task_changed):  # the plots' and the Go button's PW-JNDs name their condition
            signal.connect(self._show_condition)
        self._show_condition()
        self.full_resolution.ready.connect(self._on_full_resolution)
        self.full_resolution.drawn.connect(self._show_map_scale)
        self.canvas.wipe_moved.connect(lambda value: setattr(s, "wipe", value))
        self.canvas.hovered.connect(self._on_hover)
        self.canvas.zoom_changed.connect(self._show_zoom)

        session.image_loaded.connect(self._on_image)
        session.load_failed.connect(self._on_load_failed)
        session.ladder_changed.connect(self._on_ladder)
        session.frame_ready.connect(self._on_frame)
        session.frame_pending.connect(self._on_frame_pending)
        session.derived_ready.connect(self._on_derived)
        session.jnd_started.connect(lambda: self.readouts.set_time("JND", "computing…"))
        session.jnd_started.connect(self._refresh_map_readouts)  # they read the previous map until the new one's
        session.jnd_runner.idle.connect(self._refresh_map_readouts)  # after its result, failure or the stop button
        session.jnd_ready.connect(self._on_jnd)
        session.curve_reset.connect(self.plots.reset)
        session.curve_reset.connect(lambda _: self._show_current_readout())  # no score of a replaced curve
        session.curve_point.connect(self._on_curve_point)
        session.prediction_started.connect(self._on_prediction_started)
        session.prediction_ready.connect(self._on_prediction)
        session.prediction_failed.connect(self._on_prediction_failed)
        session.patches_ready.connect(self._on_patches)
        session.patches_unavailable.connect(self._on_patches_unavailable)
        session.devices_ready.connect(lambda value: self.controls.set_devices(*value))
        session.codecs_ready.connect(self.controls.set_codecs)
        self.notifier.message.connect(self._on_message)
        for runner in (*session.runners, self.export_runner):
            runner.started.connect(self._update_jobs)
            runner.idle.connect(self._update_jobs)
            runner.progress.connect(self._on_progress)

        self.controls.predict_requested.connect(lambda: session.predict())
        self.controls.go_to_jnd_requested.connect(self.go_to_jnd)
        self.controls.play_toggled.connect(self.set_playing)
        self.controls.viewing_dialog_requested.connect(self.open_viewing_dialog)
        self.plots.level_picked.connect(lambda level: setattr(s, "level", level))
        for signal in (s.codec_changed, s.ppd_changed, s.task_changed, s.jnd_model_changed, s.visibility_model_changed,
                       s.pooling_changed, s.threshold_changed, session.ladder_changed):  # fmt: skip
            signal.connect(self._show_threshold_in_use)
        self._show_threshold_in_use()

    def _show_zoom(self, percent: float) -> None:
        """The zoom in the status bar; nothing without an image (the empty view's scale means nothing)."""
        self.zoom_label.setText(f"Zoom {percent:.0f} %" if self.canvas.reference is not None else "")

    def _show_threshold_in_use(self, *_: Any) -> None:
        self.controls.show_threshold_in_use(threshold_in_use(self.session))

    def _apply_state_to_canvas(self) -> None:
        s = self.state
        self.canvas.set_wipe(s.wipe)
        self.canvas.set_flicker_rate(s.flicker_hz)
        self.canvas.set_opacity(s.overlay_opacity)
        self._on_mode(s.mode)
        self._on_patch_overlay(s.patch_overlay)
        self._on_go_predictor(s.go_predictor)

    def _probe_after_loading(self) -> None:
        """Probe the devices and codecs (it imports torch) once the image being opened is shown: on two cores the
        probe beside the decoding of a very large image delayed its first frame by seconds."""
        runner = self.session.load_runner
        if runner.busy:
            runner.idle.connect(self._probe_after_loading, Qt.ConnectionType.SingleShotConnection)
            return
        self.session.probe()

    # ------------------------------------------------------------------------------------------------------------
    # Opening files
    # ------------------------------------------------------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        """Open an image (in the background); a bad file shows a warning and keeps the current image."""
        self.session.open(str(path))

    def open_dialog(self) -> None:
        start = str(Path(self.state.image_path).parent) if self.state.image_path else str(Path.home())
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", start, f"Images ({patterns});;All files (*)")
        if path:
            self.open_path(path)

    def _on_image(self, loaded: LoadedImage) -> None:
        self._last_hover = None  # the previous image's pixel may lie outside this one
        self.canvas.set_reference(loaded.rgb)
        height, width = loaded.rgb.shape[:2]
        self._image_title = f"A · original · {Path(loaded.path).name} {width}×{height}"
        self.canvas.set_titles(self._image_title, "B · encoding…")
        remember_file(self.settings, str(Path(loaded.path).resolve()))
        self._refresh_recent_menu()
        for name in self.readouts.predictors:
            self.readouts.show_prediction(name, None)
        self.readouts.set_time("load", format_ms(loaded.seconds))
        self._show_scale()
        note = self.session.scale_note()
        self._set_status(f"Opened {Path(loaded.path).name} ({width}×{height})" + (f": {note}" if note else ""))
        self._update_title()

    def _show_scale(self, *_: Any) -> None:
        """Say, wherever a number shows, at which scale it is computed (a preview of an image over the budget)."""
        scale = self.session.scale
        words = scale_words(scale) if scale > 1 else ""
        full = tuple(n for n in self.readouts.predictors if self.session.judged_at_full_resolution(n))
        self.readouts.set_scale(self.session.scale_note(), words, full if words else ())
        self.plots.set_scale_note(f"PSNR and visibility: {words}" if words else "")
        self.full_resolution_action.setEnabled(scale > 1)
        self._show_map_scale()

    def _show_map_scale(self, *_: Any) -> None:
        """The maps' headers: at which scale the maps are, and where they are at full resolution."""
        scale = self.session.scale
        note = f" · {scale_words(scale)}" if scale > 1 else ""
        if note and self.full_resolution.shown_region() is not None:
            note += ", full resolution inside the dashed outline"
        self.canvas.set_map_note(note)

    def _on_load_failed(self, path: str, message: str) -> None:
        self._set_status(message, error=True)
        QMessageBox.warning(self, "Cannot open the image", message)

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self.settings)
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    def _update_title(self, *_: Any) -> None:
        name = Path(self.state.image_path).name if self.state.image_path else ""
        self.setWindowTitle(f"{name} — jndviewer" if name else "jndviewer")

    # ------------------------------------------------------------------------------------------------------------
    # Levels, frames and modes
    # ------------------------------------------------------------------------------------------------------------

    def _on_ladder(self, info: LadderInfo) -> None:
        self.canvas.set_patches(None)  # another codec's patches would mislead until this one's arrive
        self.controls.set_ladder(info)
        self.plots.reset(info)
        self.plots.set_current(self.state.level)

    def _on_level(self, level: int | None) -> None:
        self.plots.set_current(level)

    def _on_frame_pending(self, level: int) -> None:
        info = self.session.ladder_info
        name = info.level_name if info else "level"
        self.canvas.set_titles(getattr(self, "_image_title", "A"), f"B · {name} {level} · encoding…")

    def _on_frame(self, frame: Frame) -> None:
        self.canvas.set_distorted(frame.rgb)
        info = self.session.ladder_info
        name = info.level_name if info else "level"
        codec = info.codec if info else ""
        full = " · full resolution" if self.session.scale > 1 else ""
        self.canvas.set_titles(
            getattr(self, "_image_title", "A"),
            f"B · {codec} {name} {frame.level} · {format_bytes(frame.nbytes)} · {frame.bpp:.3f} bpp{full}",
        )
        self._show_current_readout()
        if not frame.cached:
            self.readouts.set_time("encode", f"{frame.encode_ms:.0f} ms")
        if self._last_hover is not None:
            self._on_hover(self._last_hover)

    def _on_mode(self, mode: CompareMode) -> None:
        self.mode_actions[mode].setChecked(True)
        self.canvas.set_mode(mode)
        if mode is CompareMode.JND and self.session.jnd is None and self.session.loaded is not None:
            self._set_status("The JND map is being computed…")
        # (the session renders what the mode needs: it listens to the same state signal)

    def _on_derived(self, derived: Derived) -> None:
        if isinstance(derived.key, DifferenceKey):
            self.canvas.set_difference(derived.value, derived.key.gain)
        elif isinstance(derived.key, VisibilityKey):
            view: views.VisibilityView = derived.value
            self.canvas.set_visibility(view.colors, view.over_luma)
            self.readouts.set_time("visibility map", format_ms(view.seconds))  # "visibility" is the predictor's
            self._show_current_readout()
            if self._last_hover is not None:  # the cursor's value now reads the map
                self._on_hover(self._last_hover)
        else:
            layer: JndLayer = derived.value
            name = layer.component.replace("_", " ")
            self.canvas.set_jnd_layer(layer.colors, layer.vmin, layer.vmax, f"{name} ({layer.label})")

    def set_wipe_stop(self, stop: WipeStop) -> None:
        """Keys 1/2/3: the divider to all A, half, all B (switching to wipe mode)."""
        self.state.mode = CompareMode.WIPE
        self.state.wipe = stop.position

    def set_playing(self, playing: bool) -> None:
        """Start or stop the play-through (one level every 125 ms, waiting for each frame)."""
        self.controls.set_playing(playing)
        if playing:
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def toggle_play(self) -> None:
        self.set_playing(not self._play_timer.isActive())

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def _play_step(self) -> None:
        session = self.session
        info = session.ladder_info
        if info is None or self.state.level is None:
            return
        if session.frame is None or session.frame.level != self.state.level:
            return  # wait for the frame
        ordered = info.ordered
        position = ordered.index(self.state.level) if self.state.level in ordered else 0
        self.state.level = ordered[(position + 1) % len(ordered)]

    def go_to_jnd(self) -> None:
        """Go to the PW-JND of the predictor chosen for Go/Export."""
        result = self.session.chosen_prediction
        if result is not None:
            self.state.level = result.level

    # ------------------------------------------------------------------------------------------------------------
    # JND map, curve, prediction
    # ------------------------------------------------------------------------------------------------------------

    def _on_jnd(self, result: views.JndResult) -> None:
        self.controls.set_model_info(result.info)
        scale = self.session.scale
        where = f", {scale_words(scale)}" if scale > 1 else ""
        self.readouts.set_time("JND", f"{format_ms(result.seconds)} ({result.model}{where})")
        self.readouts.labels["times"].setToolTip(f"The JND map ran on {result.device}.")
        # (the visibility header's model, ppd and task: app/visibility_overlay.py listens to the same signal)
        self._refresh_map_readouts()  # the previous map's visibility is gone; the new one's follows when rendered
        if abs(result.scale - 1.0) > 1e-6:
            self._set_status(
                f"JND map at {result.scale:.2f}× the image size: the predictor's view at {self.state.ppd:g} ppd"
            )

    def _on_curve_point(self, point: dict[str, Any]) -> None:
        self.plots.add_point(point)
        if self.session.frame is not None and point["level"] == self.session.frame.level:
            self._show_current_readout()

    def _on_full_resolution(self, maps: Any) -> None:
        _, _, width, height = maps.region
        self.readouts.set_time("full-resolution region", f"{format_ms(maps.seconds)} ({width}×{height})")
        if self._last_hover is not None:
            self._on_hover(self._last_hover)

    def full_resolution_here(self) -> None:
        """View > Full resolution here: the maps of the region in view at full resolution (an image with a preview)."""
        if not self.full_resolution.request():
            self._set_status("The maps are at full resolution already." if self.session.scale <= 1
                             else "No part of the image is in view.")  # fmt: skip

    def cancel_jobs(self) -> None:
        """Cancel every background job (Esc); a prediction that was running says so instead of "predicting…"."""
        self.session.cancel_all()
        for name in self.readouts.predictors:
            self.readouts.cancel_pending(name)
        self._update_go_button()

    def _on_prediction_started(self, name: str) -> None:
        self.readouts.set_pending(name)
        self.plots.set_prediction(name, None)
        self._update_go_button()

    def _on_prediction(self, name: str, result: Any) -> None:
        info = self.session.ladder_info
        self.readouts.show_prediction(name, result, info.level_name if info else "level")
        self.readouts.set_time(short_name(name), format_ms(result.seconds))
        self.plots.set_prediction(name, result)
        self.controls.set_predictor_available(name, True)
        self._update_go_button()
        self._show_current_readout()

    def _on_prediction_failed(self, name: str, message: str, missing: bool) -> None:
        self.readouts.show_prediction_error(name, message, missing=missing)
        if missing:
            self.controls.set_predictor_available(name, False, message)
        self._update_go_button()
        self._show_current_readout()

    def _on_go_predictor(self, name: str) -> None:
        self.readouts.set_chosen(name)
        self._update_go_button()

    def _update_go_button(self) -> None:
        self.controls.go_button.setEnabled(self.session.chosen_prediction is not None)
        self.controls.go_button.setToolTip(f"Jump to the PW-JND predicted by {short_name(self.state.go_predictor)} "
                                           f"for {self.session.condition().describe()} (G)")

    def _show_condition(self, *_: Any) -> None:
        self.plots.set_condition_note(self.session.condition().describe())  # as the PW-JND rows say it
        self._update_go_button()

    # ------------------------------------------------------------------------------------------------------------
    # The patch overlay (SG-JND's or VP-JNDnet's)
    # ------------------------------------------------------------------------------------------------------------

    def _on_patch_overlay(self, on: bool) -> None:
        self.size_cursor_readout(2 if on else 1)  # the patch under the cursor gets a line of its own
        self.patch_action.setChecked(on)
        self.canvas.set_patches_visible(on)
        if not on and self._last_hover is not None:
            self._on_hover(self._last_hover)

    def _on_patches(self, report: Any) -> None:
        info = self.session.ladder_info
        name = info.level_name if info else "level"
        weights = report.weights
        members = ", ".join(f"{logit:+.2f}" for logit in report.member_logits)
        each = f" (mean of {len(report.member_logits)} networks: {members})" if len(report.member_logits) > 1 else ""
        note = (
            f"{short_name(report.key.predictor)} patches at {name} {report.level}: "
            f"weight {min(weights):.3f}–{max(weights):.3f} (fill), "
            f"red = visible, logit {report.logit:+.2f}{each}"
        )
        self.canvas.set_patches(report, note)
        self.readouts.set_time("patches", format_ms(report.seconds))
        self._show_current_readout()
        if self._last_hover is not None:
            self._on_hover(self._last_hover)

    def _on_patches_unavailable(self, reason: str) -> None:
        self.canvas.set_patches(None, reason)
        self._set_status(reason)

    # ------------------------------------------------------------------------------------------------------------
    # Dialogs, status
    # ------------------------------------------------------------------------------------------------------------

    def open_viewing_dialog(self) -> None:
        dialog = ViewingConditionDialog(self)
        if dialog.exec():
            self.state.ppd = round(dialog.ppd(), 1)

    def _about(self) -> None:
        from jndviewer import __version__

        QMessageBox.about(
            self, "About jndviewer",
            f"jndviewer {__version__}: a desktop explorer for just-noticeable distortion in images.",
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------------------------
    # Closing
    # ------------------------------------------------------------------------------------------------------------

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.state.save(self.settings)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._play_timer.stop()
        self.canvas.flicker_timer.stop()
        self.save_settings()
        self.export_runner.cancel()
        self.session.shutdown()
        super().closeEvent(event)


def _dropped_file(mime: Any) -> str | None:
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and os.path.isfile(url.toLocalFile()):
            return url.toLocalFile()
    return None


__all__ = ["MainWindow"]
