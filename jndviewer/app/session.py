"""The work behind one explorer window: the image, its ladder, its JND map and every background job.

:class:`Session` listens to a :class:`~jndviewer.app.state.ViewState` and keeps the pictures the views need up to
date. All heavy work runs in :class:`~jndviewer.app.workers.JobRunner` jobs (:mod:`jndviewer.app.jobs`) on two thread
pools, so the GUI thread only swaps arrays:

* *interactive* pool: loading a file, preparing a codec's ladder, encoding the level the user asked for, rendering
  derived pictures (difference, visibility, JND layer), a patch network's (SG-JND's or VP-JNDnet's) patch weights
  of the level shown;
* *background* pool: the JND map, the rate/visibility curve (one point per level, streamed), the PW-JND predictions
  of every registered predictor (:class:`~jndviewer.app.predictions.PredictionQueue`), probing devices and codecs.

Images over :data:`~jndviewer.core.preview.PREVIEW_MAX_PIXELS` are shown at once and encoded at full resolution
level by level (:attr:`Session.ladder`, which then keeps two full-size rungs and prefetches none). The JND map, the
curve and the predictions judge those encodes on a preview at 1/k scale, at ppd / k (:attr:`Session.analysed_ladder`
holds them reduced; :mod:`jndviewer.core.preview`); :mod:`jndviewer.app.full_resolution` computes the maps of the
region in view at full resolution on demand.

Level changes are throttled on the leading edge: a cached rung (``Ladder.peek``) is shown at once; otherwise the
first change starts an encode immediately and changes that arrive while it runs collapse into the latest one, which
is encoded next. The ladder prefetches the neighbours of every level shown (after the shown level's own encode, so
they never compete with it). Results of superseded jobs are dropped. Background jobs run at a lower OS priority
than the interface (see :mod:`jndviewer.app.workers`).

A change of the viewing condition makes every prediction out of date at once (their readouts say so) and predicts
again after a short delay; a change of the prediction controls does the same for the predictor they tune.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from jndviewer.app import jobs
from jndviewer.app.jobs import (
    Derived,
    DerivedKey,
    DifferenceKey,
    Frame,
    JndLayerKey,
    LadderInfo,
    LoadedImage,
    PatchKey,
    VisibilityKey,
)
from jndviewer.app.modes import CompareMode
from jndviewer.app.predictions import TUNED_PREDICTOR, PredictionQueue
from jndviewer.app.session_parts import SessionScaleAndPatches
from jndviewer.app.state import ViewState
from jndviewer.app.workers import JobRunner, Notifier
from jndviewer.core import preview, views
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.viewing import ViewingCondition

#: How many derived pictures (difference, visibility, JND layers) are kept.
DERIVED_CACHE_ENTRIES = 12
#: The codec used when the chosen one cannot run and no other was working.
FALLBACK_CODEC = "jpeg"
#: How much nicer (Linux thread priority) background jobs run than the interface and the encodes it waits for.
BACKGROUND_NICE = 10
#: Delay before parameter changes (ppd, model, threshold) restart the JND map and the prediction, in ms.
RECOMPUTE_DELAY_MS = 250


class Session(QObject, SessionScaleAndPatches):
    """Image, ladder, JND map and jobs behind one window (see the module docstring)."""

    image_loaded = Signal(object)  # LoadedImage
    load_failed = Signal(str, str)  # path, one sentence
    ladder_changed = Signal(object)  # LadderInfo
    frame_pending = Signal(int)  # level being encoded
    frame_ready = Signal(object)  # Frame
    jnd_started = Signal()  # a new JND map is scheduled or submitted (jnd_outdated is true)
    jnd_ready = Signal(object)  # views.JndResult
    derived_ready = Signal(object)  # Derived
    curve_reset = Signal(object)  # LadderInfo
    curve_point = Signal(object)  # dict(level, nbytes, bpp, psnr, score)
    prediction_started = Signal(str)  # predictor name
    prediction_ready = Signal(str, object)  # predictor name, PWJND
    prediction_failed = Signal(str, str, bool)  # predictor name, one sentence, whether it merely cannot run here
    patches_ready = Signal(object)  # PatchReport of the level shown
    patches_unavailable = Signal(str)  # the reason
    devices_ready = Signal(object)  # (list of device names, description of the chosen one)
    codecs_ready = Signal(object)  # list of core.codecs.CodecInfo

    def __init__(self, state: ViewState, parent: QObject | None = None, notifier: Notifier | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.notifier = notifier or Notifier(self)
        self.interactive_pool = QThreadPool(self)
        self.interactive_pool.setMaxThreadCount(2)
        self.background_pool = QThreadPool(self)
        self.background_pool.setMaxThreadCount(2)
        interactive, background = self.interactive_pool, self.background_pool
        self.load_runner = JobRunner("load", interactive, None, self)
        self.codec_runner = JobRunner("codec", interactive, self.notifier, self)
        self.rung_runner = JobRunner("encode", interactive, self.notifier, self)
        self.derived_runner = JobRunner("render", interactive, self.notifier, self)
        low = BACKGROUND_NICE
        self.jnd_runner = JobRunner("JND map", background, self.notifier, self, nice=low)
        self.curve_runner = JobRunner("rate curve", background, self.notifier, self, nice=low)
        self.predictions = PredictionQueue(background, self._prediction_job, self, nice=low)
        self.patch_runner = JobRunner("patch weights", interactive, self.notifier, self)
        self.probe_runner = JobRunner("devices", background, self.notifier, self, nice=low)
        self.runners = (
            self.load_runner, self.codec_runner, self.rung_runner, self.derived_runner, self.jnd_runner,
            self.curve_runner, *self.predictions.runners.values(), self.patch_runner, self.probe_runner,
        )  # fmt: skip

        self.loaded: LoadedImage | None = None
        self.ladder: Any = None  # core.ladder.Ladder of the image shown
        self.analysed_ladder: Any = None  # the curve's and the predictions': ``ladder``, or its encodes reduced
        self.patch_ladder: Any = None  # full-resolution predictors' (PredictorInfo.full_resolution) on a preview
        self.ladder_info: LadderInfo | None = None
        self.jnd: views.JndResult | None = None
        self.curve: dict[int, dict[str, Any]] = {}
        self.frame: Frame | None = None
        self._jnd_serial = 0
        self._derived: OrderedDict[DerivedKey, Derived] = OrderedDict()
        self._rung_wanted: int | None = None
        self._derived_wanted: DerivedKey | None = None
        self._patches: OrderedDict[PatchKey, Any] = OrderedDict()
        self._patches_wanted: PatchKey | None = None
        self._image_serial = 0
        self._loading_path = ""
        self._closed = False
        self._stale: list[str] = []  # predictors to predict again when the recompute delay ends

        self._jnd_timer = QTimer(self, singleShot=True, interval=RECOMPUTE_DELAY_MS)
        self._jnd_timer.timeout.connect(self.compute_jnd)
        self._predict_timer = QTimer(self, singleShot=True, interval=RECOMPUTE_DELAY_MS)
        self._predict_timer.timeout.connect(self._predict_stale)

        self.load_runner.finished.connect(self._on_loaded)
        self.load_runner.failed.connect(self._on_load_failed)
        self.codec_runner.finished.connect(self._on_ladder)
        self.codec_runner.failed.connect(self._on_codec_failed)
        self.rung_runner.finished.connect(self._on_rung)
        self.rung_runner.failed.connect(lambda _: self._next_rung())
        self.derived_runner.finished.connect(self._on_derived)
        self.derived_runner.failed.connect(lambda _: self._next_derived())
        self.jnd_runner.finished.connect(self._on_jnd)
        self.curve_runner.partial.connect(self._on_curve_point)
        self.predictions.started.connect(self.prediction_started)
        self.predictions.ready.connect(self.prediction_ready)
        self.predictions.failed.connect(self.prediction_failed)
        self.patch_runner.finished.connect(self._on_patches)
        self.patch_runner.failed.connect(lambda _: self._next_patches())
        self.probe_runner.finished.connect(self._on_probe)

        state.image_path_changed.connect(self._on_path_changed)
        state.codec_changed.connect(self._on_codec_changed)
        state.level_changed.connect(self._on_level_changed)
        state.mode_changed.connect(lambda _: self.refresh_derived())
        state.component_changed.connect(lambda _: self.refresh_derived())
        state.difference_gain_changed.connect(lambda _: self.refresh_derived())
        state.visibility_over_luma_changed.connect(lambda _: self.refresh_derived())
        state.patch_overlay_changed.connect(lambda _: self.refresh_patches())
        state.patch_predictor_changed.connect(lambda _: self.refresh_patches())
        for signal in (state.jnd_model_changed, state.model_params_changed, state.ppd_changed, state.device_changed,
                       state.visibility_model_changed):
            signal.connect(self._schedule_jnd)
        state.pooling_changed.connect(self._schedule_jnd)  # the scorer's pooling draws the curve
        state.task_changed.connect(self._schedule_jnd)  # so does the task's (its calibrated pooling)
        for signal in (state.jnd_model_changed, state.device_changed, state.threshold_changed, state.pooling_changed,
                       state.strategy_changed, state.visibility_model_changed):
            signal.connect(lambda *_: self._schedule_predict((TUNED_PREDICTOR,)))
        for signal in (state.ppd_changed, state.task_changed):  # the viewing condition: every prediction
            signal.connect(lambda *_: self._schedule_predict(self.predictions.names))
            signal.connect(lambda *_: self.refresh_patches())

    # ------------------------------------------------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------------------------------------------------

    def open(self, path: str | Path) -> None:
        """Load an image file in the background; on success it replaces the current one, on failure it stays."""
        path = str(path)
        self._loading_path = path
        self.load_runner.submit(jobs.load_job, path, description=f"Loading {Path(path).name}")

    def probe(self) -> None:
        """Find the compute devices and codecs of this machine (imports torch, in the background)."""
        self.probe_runner.submit(jobs.probe_job, self.state.device, description="Checking devices and codecs")

    def condition(self) -> ViewingCondition:
        """The viewing condition the state describes (of the image at full resolution)."""
        return ViewingCondition(ppd=self.state.ppd, task=self.state.task)

    @property
    def jnd_outdated(self) -> bool:
        """Whether the JND map in use is being replaced (new settings wait for the recompute delay or are computing):
        the views derived from it still describe the previous settings."""
        return self._jnd_timer.isActive() or self.jnd_runner.busy

    @property
    def jnd_serial(self) -> int:
        """The number of the JND map now in use (it grows with each new map and each new image)."""
        return self._jnd_serial

    def adopt(self, runner: JobRunner) -> None:
        """Count another runner's jobs among the session's (``busy``, ``cancel_all``, the status bar)."""
        self.runners = (*self.runners, runner)

    def compute_jnd(self) -> None:
        """(Re)compute the JND map of the current image with the state's model, parameters and viewing condition."""
        self._jnd_timer.stop()
        if self.loaded is None:
            return
        where = f" ({preview.scale_words(self.scale)})" if self.scale > 1 else ""
        self.jnd_runner.submit(
            jobs.jnd_job, self.loaded.analysed, self.predictor_params(), self.condition(),
            dict(self.state.model_params), self.state.device, self.state.jnd_model, self.scale,
            description=f"Computing the {self.state.jnd_model} JND map{where}",
        )  # fmt: skip
        self.jnd_started.emit()  # after submitting: its listeners read jnd_outdated

    def predict(self, names: tuple[str, ...] | None = None) -> None:
        """Predict the PW-JND of the current image through the current ladder with every registered predictor (or
        ``names``), one after another in the background."""
        self._predict_timer.stop()
        self._stale = []
        if self.loaded is None or self.ladder is None:
            return
        self.predictions.request(names)

    def _prediction_job(self, name: str) -> tuple[Any, tuple[Any, ...], str] | None:
        if self.loaded is None or self.ladder is None:
            return None
        info = PREDICTORS[name]
        full = self.judged_at_full_resolution(name)
        ladder, scale = (self.patch_ladder, 1) if full else (self.analysed_ladder, self.scale)
        args = (name, info.short, self.loaded, ladder, self.predictor_options(name), self.condition(),
                self.state.device, scale)
        return jobs.predict_job, args, f"Predicting the PW-JND with {info.short}"

    def judged_at_full_resolution(self, name: str) -> bool:
        """Whether a predictor's result is the full-resolution one: always without a preview; with one, for the
        predictors that judge patches (``PredictorInfo.full_resolution``)."""
        info = PREDICTORS.get(name)
        return self.scale <= 1 or (info is not None and info.full_resolution)

    def predictor_options(self, name: str) -> dict[str, Any]:
        """The options the explorer gives a predictor: the prediction controls for :data:`TUNED_PREDICTOR`, none
        (its defaults) for the others."""
        if name != TUNED_PREDICTOR:
            return {}
        s = self.state
        offered = {"jnd_model": "subband" if s.visibility_model == "subband" else s.jnd_model, "pooling": s.pooling,
                   "threshold": s.threshold, "strategy": s.strategy}
        return {k: v for k, v in offered.items() if k in PREDICTORS[name].options}

    @property
    def chosen_prediction(self) -> Any:
        """The prediction "Go to JND" and the exports use (the state's ``go_predictor``); None until it is there."""
        return self.predictions.results.get(self.state.go_predictor)

    def patches(self, level: int | None) -> Any:
        """The patch network's report of ``level`` of the current image and codec, if computed (never blocks)."""
        if self.loaded is None or self.ladder_info is None or level is None:
            return None
        return self._patches.get(PatchKey(self._image_serial, self.ladder_info.codec, level, self.condition(),
                                          self.state.patch_predictor))

    def predictor_params(self) -> Any:
        """The training-free predictor's map, pooling and threshold as the controls set them."""
        s = self.state
        return views.predictor_params(
            jnd_model="subband" if s.visibility_model == "subband" else s.jnd_model, pooling=s.pooling,
            threshold=s.threshold, task=s.task,
        )  # fmt: skip

    def cached_frame(self, level: int) -> Frame | None:
        """The frame of ``level`` if its rung is cached (never blocks)."""
        if self.ladder is None:
            return None
        rung = self.ladder.peek(level)
        return None if rung is None else jobs.frame_of(rung, cached=True)

    def visibility(self, level: int) -> views.VisibilityView | None:
        """The visibility view of ``level`` if it has been computed for the current JND map."""
        derived = self._derived.get(VisibilityKey(level, self._jnd_serial, self.state.visibility_over_luma))
        return None if derived is None else derived.value

    def step_level(self, steps: int) -> None:
        """Move ``steps`` levels towards the better end (negative: towards the worse end), clamped."""
        if self.ladder_info is None or self.state.level is None:
            return
        ordered = self.ladder_info.ordered
        position = ordered.index(self.state.level) if self.state.level in ordered else 0
        self.state.level = ordered[min(len(ordered) - 1, max(0, position + steps))]

    def jump_level(self, end: str) -> None:
        """Go to the ``"worst"`` or ``"best"`` level."""
        if self.ladder_info is not None:
            ordered = self.ladder_info.ordered
            self.state.level = ordered[0] if end == "worst" else ordered[-1]

    @property
    def busy(self) -> bool:
        """Whether any job is still to answer (or a recompute is scheduled)."""
        return (
            any(r.busy for r in self.runners)
            or self._jnd_timer.isActive()
            or self._predict_timer.isActive()
            or self._rung_wanted is not None
            or self._derived_wanted is not None
            or self._patches_wanted is not None
            or self.predictions.busy
        )

    def cancel_all(self) -> None:
        """Cancel every job (the status bar's stop button)."""
        self._jnd_timer.stop()
        self._predict_timer.stop()
        self._rung_wanted = None
        self._derived_wanted = None
        self._patches_wanted = None
        self._stale = []
        self.predictions.cancel()
        for runner in self.runners:
            runner.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything, stop the ladder's prefetch thread and wait for the pools; True when all stopped."""
        self._closed = True
        self.cancel_all()
        ladders = (self.ladder, self.analysed_ladder, self.patch_ladder)
        for ladder in {id(x): x for x in ladders if x is not None}.values():
            ladder.close()
        done = self.interactive_pool.waitForDone(timeout_ms)
        return self.background_pool.waitForDone(timeout_ms) and done

    # ------------------------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------------------------

    def _on_path_changed(self, path: str) -> None:
        loaded = self.loaded.path if self.loaded is not None else ""
        if path and path != loaded and path != self._loading_path:
            self.open(path)

    def _on_loaded(self, loaded: LoadedImage) -> None:
        self._loading_path = ""
        for runner in (self.codec_runner, self.rung_runner, self.derived_runner, self.jnd_runner, self.curve_runner,
                       self.patch_runner):
            runner.cancel()
        self.predictions.clear()
        self._close_ladder()
        self.loaded = loaded
        self._image_serial += 1
        self.jnd = None
        self._patches.clear()
        self._patches_wanted = None
        self.frame = None
        self.curve = {}
        self._derived.clear()
        self._jnd_serial += 1
        self.state.image_path = loaded.path
        self.image_loaded.emit(loaded)
        self.compute_jnd()
        self._prepare_codec(self.state.codec)

    def _on_load_failed(self, message: str) -> None:
        path, self._loading_path = self._loading_path, ""
        if self.loaded is not None:
            self.state.image_path = self.loaded.path  # the previous image stays
        self.load_failed.emit(path, message)

    # ------------------------------------------------------------------------------------------------------------
    # Codec and ladder
    # ------------------------------------------------------------------------------------------------------------

    def _on_codec_changed(self, spec: str) -> None:
        if self.loaded is not None and (self.ladder_info is None or self.ladder_info.codec != spec):
            self._prepare_codec(spec)

    def _prepare_codec(self, spec: str) -> None:
        assert self.loaded is not None
        self.codec_runner.submit(jobs.codec_job, self.loaded.rgb, spec, self.loaded.preview, self.loaded.scale,
                                 description=f"Preparing the {spec} codec")

    def _on_codec_failed(self, message: str) -> None:
        if self.ladder_info is not None and self.state.codec != self.ladder_info.codec:
            self.state.codec = self.ladder_info.codec  # keep the codec that works
        elif self.ladder_info is None and self.state.codec != FALLBACK_CODEC:
            self.state.codec = FALLBACK_CODEC  # e.g. a remembered codec that is not available any more

    def _on_ladder(self, result: tuple[Any, LadderInfo, Any, Any]) -> None:
        ladder, info, analysed, patches = result
        if self.loaded is None or ladder.reference.shape != self.loaded.rgb.shape:
            _close_in_background(ladder, analysed, patches)
            return
        for runner in (self.rung_runner, self.derived_runner, self.curve_runner, self.patch_runner):
            runner.cancel()
        self.predictions.clear()
        self._close_ladder()
        self.ladder = ladder
        self.analysed_ladder = analysed
        self.patch_ladder = patches
        self.ladder_info = info
        self._patches_wanted = None
        self.curve = {}
        self._rung_wanted = None
        self._derived = OrderedDict((k, v) for k, v in self._derived.items() if isinstance(k, JndLayerKey))
        self.ladder_changed.emit(info)
        level = (self.state.level if self.state.level in info.ordered
                 else views.default_level(info.ordered, info.curve_levels))
        if level == self.state.level:
            self._on_level_changed(level)
        else:
            self.state.level = level
        self._start_curve()
        self.predict()

    def _close_ladder(self) -> None:
        ladders = (self.ladder, self.analysed_ladder, self.patch_ladder)
        self.ladder = self.analysed_ladder = self.patch_ladder = None
        self.ladder_info = None
        _close_in_background(*ladders)

    # ------------------------------------------------------------------------------------------------------------
    # Levels
    # ------------------------------------------------------------------------------------------------------------

    def _on_level_changed(self, level: int | None) -> None:
        if level is None or self.ladder is None or level not in self.ladder_info.ordered:
            return
        frame = self.cached_frame(level)
        if frame is not None:
            self._show_frame(frame)
            self.ladder.prefetch(level)
            return
        # Encode the wanted level first; its neighbours are prefetched once it is shown (not competing with it).
        self.frame_pending.emit(level)
        if self.rung_runner.busy:
            self._rung_wanted = level
        else:
            self._rung_wanted = None
            self.rung_runner.submit(jobs.rung_job, self.ladder, level, description=f"Encoding level {level}")

    def _on_rung(self, frame: Frame) -> None:
        if frame.level == self.state.level:
            self._show_frame(frame)
        self._next_rung()
        if self._rung_wanted is None and self.ladder is not None and not self.rung_runner.busy:
            self.ladder.prefetch(frame.level)

    def _next_rung(self) -> None:
        wanted, self._rung_wanted = self._rung_wanted, None
        if wanted is not None and wanted == self.state.level:
            self._on_level_changed(wanted)

    def _show_frame(self, frame: Frame) -> None:
        self.frame = frame
        self.frame_ready.emit(frame)
        self.refresh_derived()
        self.refresh_patches()

    # ------------------------------------------------------------------------------------------------------------
    # Derived pictures
    # ------------------------------------------------------------------------------------------------------------

    def wanted_derived(self) -> DerivedKey | None:
        """The derived picture the current mode needs, as a cache key (None when it needs none)."""
        mode, level = self.state.mode, self.state.level
        if mode is CompareMode.DIFFERENCE and level is not None:
            return DifferenceKey(level, float(self.state.difference_gain))
        if mode is CompareMode.VISIBILITY and level is not None:
            return VisibilityKey(level, self._jnd_serial, self.state.visibility_over_luma)
        if mode is CompareMode.JND:
            return JndLayerKey(self.state.component, self._jnd_serial)
        return None

    def refresh_derived(self) -> None:
        """Make sure the picture the current mode needs is shown: from the cache, or rendered in the background."""
        key = self.wanted_derived()
        if key is None or self.loaded is None:
            return
        if isinstance(key, (VisibilityKey, JndLayerKey)) and self.jnd is None:
            return  # asked again when the map is ready
        if isinstance(key, (DifferenceKey, VisibilityKey)) and self.ladder is None:
            return
        cached = self._derived.get(key)
        if cached is not None:
            self._derived.move_to_end(key)
            self.derived_ready.emit(cached)
            return
        if self.derived_runner.busy:
            self._derived_wanted = key
            return
        self._derived_wanted = None
        self.derived_runner.submit(
            jobs.derived_job, key, self.loaded.rgb, self.ladder, self.jnd, self.analysed_ladder,
            description=f"Rendering the {_kind(key)}",
        )

    def _on_derived(self, derived: Derived) -> None:
        self._derived[derived.key] = derived
        while len(self._derived) > DERIVED_CACHE_ENTRIES:
            self._derived.popitem(last=False)
        if derived.key == self.wanted_derived():
            self.derived_ready.emit(derived)
        self._next_derived()

    def _next_derived(self) -> None:
        wanted, self._derived_wanted = self._derived_wanted, None
        if wanted is not None and wanted == self.wanted_derived():
            self.refresh_derived()

    # ------------------------------------------------------------------------------------------------------------
    # JND map, curve, prediction
    # ------------------------------------------------------------------------------------------------------------

    def _schedule_jnd(self, *_: Any) -> None:
        if self.loaded is not None:
            self._jnd_timer.start()
            self.jnd_started.emit()  # the readouts say now, not after the settle delay, that they read the old map
            if self.curve and self.ladder_info is not None:  # its scores are the replaced map's: no readout may
                self.curve = {}  # pair them with the new condition's threshold while the new map is computed
                self.curve_reset.emit(self.ladder_info)

    def _schedule_predict(self, names: tuple[str, ...]) -> None:
        """Mark these predictions out of date now (no readout keeps an old value) and predict after the delay."""
        if self.ladder is None:
            return
        self.predictions.invalidate(names)
        self._stale.extend(name for name in names if name not in self._stale)
        self._predict_timer.start()

    def _predict_stale(self) -> None:
        names, self._stale = tuple(self._stale), []
        self.predict(names)

    def _on_jnd(self, result: views.JndResult) -> None:
        self.jnd = result
        self._jnd_serial += 1
        self._derived = OrderedDict((k, v) for k, v in self._derived.items() if isinstance(k, DifferenceKey))
        self.jnd_ready.emit(result)
        if self.state.component != "threshold" and self.state.component not in result.components:
            self.state.component = "threshold"
        self.refresh_derived()
        if self.ladder is not None:
            self._start_curve()

    def _start_curve(self) -> None:
        if self.ladder is None or self.ladder_info is None:
            return
        self.curve = {}
        self.curve_reset.emit(self.ladder_info)
        scorer = self.jnd.scorer if self.jnd is not None else None
        where = f" ({preview.scale_words(self.scale)})" if self.scale > 1 else ""
        self.curve_runner.submit(
            jobs.curve_job, self.analysed_ladder, self.ladder_info.curve_levels, scorer,
            description=f"Sweeping the levels{where}",
        )

    def _on_curve_point(self, point: dict[str, Any]) -> None:
        self.curve[point["level"]] = point
        self.curve_point.emit(point)

    def _on_probe(self, result: tuple[list[str], str, list[Any]]) -> None:
        devices, description, codecs = result
        self.devices_ready.emit((devices, description))
        self.codecs_ready.emit(codecs)


def _close_in_background(*ladders: Any) -> None:
    """Close ladders on a thread of their own: waiting for a running prefetch encode must not block the GUI."""
    unique = {id(ladder): ladder for ladder in ladders if ladder is not None}.values()
    for ladder in unique:
        threading.Thread(target=ladder.close, name="jndviewer-ladder-close", daemon=True).start()


def _kind(key: DerivedKey) -> str:
    """What a derived picture is, for the status bar."""
    if isinstance(key, DifferenceKey):
        return "difference"
    return "visibility map" if isinstance(key, VisibilityKey) else "JND map"


__all__ = ["Session"]
