"""The work behind one explorer window: the image, its ladder, its JND map and every background job.

:class:`Session` listens to a :class:`~jndviewer.app.state.ViewState` and keeps the pictures the views need up to
date. All heavy work runs in :class:`~jndviewer.app.workers.JobRunner` jobs on two thread pools, so the GUI thread
only swaps arrays:

* *interactive* pool: loading a file, preparing a codec's ladder, encoding the level the user asked for, rendering
  derived pictures (difference, visibility, JND layer);
* *background* pool: the JND map, the rate/visibility curve (one point per level, streamed), the PW-JND predictions
  (the training-free visibility predictor and, when its weights exist, SG-JND), probing devices and codecs.

SG-JND's patch weights of the level shown (the canvas overlay) are computed on the interactive pool, like the other
pictures of the current level, and cached per (image, codec, level).

Level changes are throttled on the leading edge: a cached rung (``Ladder.peek``) is shown at once; otherwise the
first change starts an encode immediately and changes that arrive while it runs collapse into the latest one, which
is encoded next. The ladder prefetches the neighbours of every level shown (after the shown level's own encode, so
they never compete with it). Results of superseded jobs are dropped. Background jobs run at a lower OS priority
than the interface (see :mod:`jndviewer.app.workers`).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from jndviewer.app import compute
from jndviewer.app.modes import CompareMode
from jndviewer.app.state import ViewState
from jndviewer.app.workers import JobContext, JobRunner, Notifier
from jndviewer.core.errors import JndViewerError

#: Rung cache of a ladder in MiB (about 60 decoded 1080p levels).
LADDER_CACHE_MB = 384
#: How many derived pictures (difference, visibility, JND layers) are kept.
DERIVED_CACHE_ENTRIES = 12
#: How many SG-JND patch reports (one per image, codec and level) are kept.
PATCH_CACHE_ENTRIES = 64
#: The codec used when the chosen one cannot run and no other was working.
FALLBACK_CODEC = "jpeg"
#: How much nicer (Linux thread priority) background jobs run than the interface and the encodes it waits for.
BACKGROUND_NICE = 10
#: Delay before parameter changes (ppd, model, threshold) restart the JND map and the prediction, in ms.
RECOMPUTE_DELAY_MS = 250


@dataclass
class LoadedImage:
    path: str
    image: Any  # jndviewer.core.image.Image
    rgb: np.ndarray  # read-only H x W x 3 uint8
    seconds: float


@dataclass
class LadderInfo:
    """What the level controls need to know about the current codec."""

    codec: str
    title: str
    level_name: str
    better: str
    ordered: tuple[int, ...]  # worst to best
    best: int
    curve_levels: tuple[int, ...]


@dataclass
class Frame:
    """The decoded image at one level."""

    level: int
    rgb: np.ndarray
    nbytes: int
    bpp: float
    encode_ms: float
    cached: bool


@dataclass
class JndLayer:
    """A JND map or component coloured for display."""

    component: str
    values: np.ndarray
    colors: np.ndarray
    vmin: float
    vmax: float
    label: str


@dataclass
class Derived:
    """A picture derived from the reference, a level and/or the JND map. ``key[0]`` is its kind."""

    key: tuple[Any, ...]
    value: Any  # numpy array (difference), compute.VisibilityView or JndLayer


class Session(QObject):
    """Image, ladder, JND map and jobs behind one window (see the module docstring)."""

    image_loaded = Signal(object)  # LoadedImage
    load_failed = Signal(str, str)  # path, one sentence
    ladder_changed = Signal(object)  # LadderInfo
    frame_pending = Signal(int)  # level being encoded
    frame_ready = Signal(object)  # Frame
    jnd_started = Signal()
    jnd_ready = Signal(object)  # compute.JndResult
    derived_ready = Signal(object)  # Derived
    curve_reset = Signal(object)  # LadderInfo
    curve_point = Signal(object)  # dict(level, nbytes, bpp, psnr, score)
    prediction_started = Signal()
    prediction_ready = Signal(object)  # PWJND
    prediction_failed = Signal(str)
    sgjnd_started = Signal()
    sgjnd_ready = Signal(object)  # PWJND from SG-JND
    sgjnd_failed = Signal(str)  # SG-JND ran and failed (e.g. an unreadable checkpoint)
    sgjnd_unavailable = Signal(str)  # SG-JND cannot run here (no weights): the reason
    patches_ready = Signal(object)  # compute.PatchReport of the level shown
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
        self.predict_runner = JobRunner("PW-JND prediction", background, None, self, nice=low)
        self.sgjnd_runner = JobRunner("SG-JND prediction", background, None, self, nice=low)
        self.patch_runner = JobRunner("patch weights", interactive, self.notifier, self)
        self.probe_runner = JobRunner("devices", background, self.notifier, self, nice=low)
        self.runners = (
            self.load_runner, self.codec_runner, self.rung_runner, self.derived_runner, self.jnd_runner,
            self.curve_runner, self.predict_runner, self.sgjnd_runner, self.patch_runner, self.probe_runner,
        )  # fmt: skip

        self.loaded: LoadedImage | None = None
        self.ladder: Any = None  # core.ladder.Ladder
        self.ladder_info: LadderInfo | None = None
        self.jnd: compute.JndResult | None = None
        self.prediction: Any = None  # core.pwjnd.result.PWJND
        self.prediction_error = ""
        self.sgjnd_prediction: Any = None  # core.pwjnd.result.PWJND from SG-JND
        self.sgjnd_error = ""  # why SG-JND failed or cannot run (one sentence)
        self.sgjnd_missing = False  # sgjnd_error says SG-JND cannot run here (no weights), not that it failed
        self.curve: dict[int, dict[str, Any]] = {}
        self.frame: Frame | None = None
        self._jnd_serial = 0
        self._derived: OrderedDict[tuple[Any, ...], Derived] = OrderedDict()
        self._rung_wanted: int | None = None
        self._derived_wanted: tuple[Any, ...] | None = None
        self._patches: OrderedDict[tuple[Any, ...], compute.PatchReport] = OrderedDict()
        self._patches_wanted: tuple[Any, ...] | None = None
        self._sgjnd_deferred = False  # SG-JND waits for the visibility prediction (see predict)
        self._image_serial = 0
        self._loading_path = ""
        self._closed = False

        self._jnd_timer = QTimer(self, singleShot=True, interval=RECOMPUTE_DELAY_MS)
        self._jnd_timer.timeout.connect(self.compute_jnd)
        self._predict_timer = QTimer(self, singleShot=True, interval=RECOMPUTE_DELAY_MS)
        self._predict_timer.timeout.connect(self.predict_visibility)

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
        self.predict_runner.finished.connect(self._on_prediction)
        self.predict_runner.failed.connect(self._on_prediction_failed)
        self.sgjnd_runner.finished.connect(self._on_sgjnd)
        self.sgjnd_runner.failed.connect(self._on_sgjnd_failed)
        self.patch_runner.finished.connect(self._on_patches)
        self.patch_runner.failed.connect(lambda _: self._next_patches())
        self.probe_runner.finished.connect(self._on_probe)

        state.image_path_changed.connect(self._on_path_changed)
        state.codec_changed.connect(self._on_codec_changed)
        state.level_changed.connect(self._on_level_changed)
        state.mode_changed.connect(lambda _: self.refresh_derived())
        state.component_changed.connect(lambda _: self.refresh_derived())
        state.difference_gain_changed.connect(lambda _: self.refresh_derived())
        state.patch_overlay_changed.connect(lambda _: self.refresh_patches())
        for signal in (state.jnd_model_changed, state.model_params_changed, state.ppd_changed, state.device_changed,
                       state.visibility_model_changed):
            signal.connect(self._schedule_jnd)
        for signal in (state.jnd_model_changed, state.ppd_changed, state.device_changed, state.threshold_changed,
                       state.pooling_changed, state.strategy_changed, state.visibility_model_changed):
            signal.connect(self._schedule_predict)
        state.pooling_changed.connect(self._schedule_jnd)  # the scorer's pooling draws the curve

    # ------------------------------------------------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------------------------------------------------

    def open(self, path: str | Path) -> None:
        """Load an image file in the background; on success it replaces the current one, on failure it stays."""
        path = str(path)
        self._loading_path = path
        self.load_runner.submit(_load_job, path, description=f"Loading {Path(path).name}")

    def probe(self) -> None:
        """Find the compute devices and codecs of this machine (imports torch, in the background)."""
        self.probe_runner.submit(_probe_job, self.state.device, description="Checking devices and codecs")

    def compute_jnd(self) -> None:
        """(Re)compute the JND map of the current image with the state's model, parameters and viewing condition."""
        self._jnd_timer.stop()
        if self.loaded is None:
            return
        params = self.predictor_params()
        self.jnd_started.emit()
        self.jnd_runner.submit(
            _jnd_job, self.loaded.rgb, params, dict(self.state.model_params), self.state.device, self.state.jnd_model,
            description=f"Computing the {self.state.jnd_model} JND map",
        )  # fmt: skip

    def predict(self) -> None:
        """Predict the PW-JND of the current image through the current ladder with both predictors (background).

        SG-JND does not depend on the JND model, viewing condition, threshold or pooling, so changes of those rerun
        only the visibility predictor (:meth:`predict_visibility`).

        SG-JND starts when the visibility prediction has finished: on two cores, both at once beside the JND map and
        the rate curve starved the interface thread (bench_gui measured 270-320 ms stalls while scrubbing).
        """
        self.predict_visibility()
        self.predict_sgjnd(after_visibility=True)

    def predict_visibility(self) -> None:
        """Predict the PW-JND with the training-free visibility predictor (in the background)."""
        self._predict_timer.stop()
        if self.loaded is None or self.ladder is None:
            return
        self.prediction = None
        self.prediction_error = ""
        self.prediction_started.emit()
        self.predict_runner.submit(
            _predict_job, self.loaded, self.ladder, self.predictor_params(), self.state.device,
            description="Predicting the PW-JND",
        )  # fmt: skip

    def predict_sgjnd(self, *, after_visibility: bool = False) -> None:
        """Predict the PW-JND with SG-JND (in the background); answers ``sgjnd_unavailable`` without its weights.

        With ``after_visibility`` and a visibility prediction running, the job is submitted when that one ends.
        """
        if self.loaded is None or self.ladder is None:
            return
        self.sgjnd_prediction = None
        self.sgjnd_error = ""
        self.sgjnd_missing = False
        self.sgjnd_started.emit()
        self.sgjnd_runner.cancel(emit_idle=False)
        self._sgjnd_deferred = after_visibility and self.predict_runner.busy
        if not self._sgjnd_deferred:
            self._submit_sgjnd()

    def _submit_sgjnd(self) -> None:
        self._sgjnd_deferred = False
        self.sgjnd_runner.submit(_sgjnd_job, self.loaded, self.ladder, description="Predicting the PW-JND with SG-JND")

    @property
    def chosen_prediction(self) -> Any:
        """The prediction "Go to JND" and the exports use (the state's ``go_predictor``); None until it is there."""
        return self.sgjnd_prediction if self.state.go_predictor == "sgjnd" else self.prediction

    def patches(self, level: int | None) -> compute.PatchReport | None:
        """SG-JND's patch report of ``level`` of the current image and codec, if computed (never blocks)."""
        if self.loaded is None or self.ladder_info is None or level is None:
            return None
        return self._patches.get((self._image_serial, self.ladder_info.codec, level))

    def predictor_params(self) -> Any:
        s = self.state
        return compute.predictor_params(
            jnd_model="subband" if s.visibility_model == "subband" else s.jnd_model,
            ppd=s.ppd, pooling=s.pooling, strategy=s.strategy, threshold=s.threshold,
        )  # fmt: skip

    def cached_frame(self, level: int) -> Frame | None:
        """The frame of ``level`` if its rung is cached (never blocks)."""
        if self.ladder is None:
            return None
        rung = self.ladder.peek(level)
        return None if rung is None else _frame(rung, cached=True)

    def visibility(self, level: int) -> compute.VisibilityView | None:
        """The visibility view of ``level`` if it has been computed for the current JND map."""
        derived = self._derived.get(("visibility", level, self._jnd_serial))
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
            or self._sgjnd_deferred
        )

    def cancel_all(self) -> None:
        """Cancel every job (the status bar's stop button)."""
        self._jnd_timer.stop()
        self._predict_timer.stop()
        self._rung_wanted = None
        self._derived_wanted = None
        self._patches_wanted = None
        self._sgjnd_deferred = False
        for runner in self.runners:
            runner.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything, stop the ladder's prefetch thread and wait for the pools; True when all stopped."""
        self._closed = True
        self.cancel_all()
        if self.ladder is not None:
            self.ladder.close()
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
                       self.predict_runner, self.sgjnd_runner, self.patch_runner):
            runner.cancel()
        self._close_ladder()
        self.loaded = loaded
        self._image_serial += 1
        self.jnd = None
        self.prediction = None
        self.prediction_error = ""
        self.sgjnd_prediction = None
        self.sgjnd_error = ""
        self.sgjnd_missing = False
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
        self.codec_runner.submit(_codec_job, self.loaded.rgb, spec, description=f"Preparing the {spec} codec")

    def _on_codec_failed(self, message: str) -> None:
        if self.ladder_info is not None and self.state.codec != self.ladder_info.codec:
            self.state.codec = self.ladder_info.codec  # keep the codec that works
        elif self.ladder_info is None and self.state.codec != FALLBACK_CODEC:
            self.state.codec = FALLBACK_CODEC  # e.g. a remembered codec that is not available any more

    def _on_ladder(self, result: tuple[Any, LadderInfo]) -> None:
        ladder, info = result
        if self.loaded is None or ladder.reference.shape != self.loaded.rgb.shape:
            ladder.close()
            return
        for runner in (self.rung_runner, self.derived_runner, self.curve_runner, self.predict_runner,
                       self.sgjnd_runner, self.patch_runner):
            runner.cancel()
        self._close_ladder()
        self.ladder = ladder
        self.ladder_info = info
        self.prediction = None
        self.sgjnd_prediction = None
        self._patches_wanted = None
        self.curve = {}
        self._rung_wanted = None
        self._derived = OrderedDict((k, v) for k, v in self._derived.items() if k[0] == "jnd")
        self.ladder_changed.emit(info)
        level = self.state.level if self.state.level in info.ordered else compute.default_level(info.ordered)
        if level == self.state.level:
            self._on_level_changed(level)
        else:
            self.state.level = level
        self._start_curve()
        self.predict()

    def _close_ladder(self) -> None:
        ladder, self.ladder = self.ladder, None
        self.ladder_info = None
        if ladder is not None:  # waiting for a running prefetch encode must not block the GUI thread
            threading.Thread(target=ladder.close, name="jndviewer-ladder-close", daemon=True).start()

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
            self.rung_runner.submit(_rung_job, self.ladder, level, description=f"Encoding level {level}")

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

    def wanted_derived(self) -> tuple[Any, ...] | None:
        """The derived picture the current mode needs, as a cache key (None when it needs none)."""
        mode, level = self.state.mode, self.state.level
        if mode is CompareMode.DIFFERENCE and level is not None:
            return ("difference", level, float(self.state.difference_gain))
        if mode is CompareMode.VISIBILITY and level is not None:
            return ("visibility", level, self._jnd_serial)
        if mode is CompareMode.JND:
            return ("jnd", self.state.component, self._jnd_serial)
        return None

    def refresh_derived(self) -> None:
        """Make sure the picture the current mode needs is shown: from the cache, or rendered in the background."""
        key = self.wanted_derived()
        if key is None or self.loaded is None:
            return
        if key[0] in ("visibility", "jnd") and self.jnd is None:
            return  # asked again when the map is ready
        if key[0] in ("difference", "visibility") and self.ladder is None:
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
            _derived_job, key, self.loaded.rgb, self.ladder, self.jnd, description=f"Rendering {key[0]}"
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
    # SG-JND patch weights of the level shown
    # ------------------------------------------------------------------------------------------------------------

    def wanted_patches(self) -> tuple[Any, ...] | None:
        """The cache key (image, codec, level) of the patch report the overlay needs now, or None."""
        frame = self.frame
        if not self.state.patch_overlay or self.loaded is None or self.ladder_info is None or frame is None:
            return None
        if frame.level != self.state.level:
            return None  # asked again when the level's frame is shown
        return (self._image_serial, self.ladder_info.codec, frame.level)

    def refresh_patches(self) -> None:
        """Give the overlay the current level's patch report: from the cache, or computed in the background."""
        key = self.wanted_patches()
        if key is None:
            return
        cached = self._patches.get(key)
        if cached is not None:
            self._patches.move_to_end(key)
            self.patches_ready.emit(cached)
            return
        if self.patch_runner.busy:
            self._patches_wanted = key
            return
        self._patches_wanted = None
        assert self.loaded is not None and self.frame is not None
        self.patch_runner.submit(
            _patch_job, key, self.frame.level, self.loaded.rgb, self.frame.rgb,
            description=f"SG-JND patch weights at level {self.frame.level}",
        )  # fmt: skip

    def _on_patches(self, result: Any) -> None:
        if isinstance(result, compute.Unavailable):
            self._patches_wanted = None  # no weights: asking again for another level would say the same
            self.patches_unavailable.emit(result.reason)
            return
        if result.key[0] == self._image_serial:
            self._patches[result.key] = result
            while len(self._patches) > PATCH_CACHE_ENTRIES:
                self._patches.popitem(last=False)
        if result.key == self.wanted_patches():
            self.patches_ready.emit(result)
        self._next_patches()

    def _next_patches(self) -> None:
        wanted, self._patches_wanted = self._patches_wanted, None
        if wanted is not None and wanted == self.wanted_patches():
            self.refresh_patches()

    # ------------------------------------------------------------------------------------------------------------
    # JND map, curve, prediction
    # ------------------------------------------------------------------------------------------------------------

    def _schedule_jnd(self, *_: Any) -> None:
        if self.loaded is not None:
            self._jnd_timer.start()

    def _schedule_predict(self, *_: Any) -> None:
        if self.ladder is not None:
            self._predict_timer.start()

    def _on_jnd(self, result: compute.JndResult) -> None:
        self.jnd = result
        self._jnd_serial += 1
        self._derived = OrderedDict((k, v) for k, v in self._derived.items() if k[0] == "difference")
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
        self.curve_runner.submit(
            _curve_job, self.ladder, self.ladder_info.curve_levels, scorer, description="Sweeping the levels"
        )

    def _on_curve_point(self, point: dict[str, Any]) -> None:
        self.curve[point["level"]] = point
        self.curve_point.emit(point)

    def _on_prediction(self, result: Any) -> None:
        self.prediction = result
        self.prediction_error = ""
        self.prediction_ready.emit(result)
        if self._sgjnd_deferred:
            self._submit_sgjnd()

    def _on_prediction_failed(self, message: str) -> None:
        self.prediction = None
        self.prediction_error = message
        self.prediction_failed.emit(message)
        if self._sgjnd_deferred:
            self._submit_sgjnd()

    def _on_sgjnd(self, result: Any) -> None:
        if isinstance(result, compute.Unavailable):
            self.sgjnd_prediction = None
            self.sgjnd_error = result.reason
            self.sgjnd_missing = True
            self.sgjnd_unavailable.emit(result.reason)
            return
        self.sgjnd_prediction = result
        self.sgjnd_error = ""
        self.sgjnd_missing = False
        self.sgjnd_ready.emit(result)

    def _on_sgjnd_failed(self, message: str) -> None:
        self.sgjnd_prediction = None
        self.sgjnd_error = message
        self.sgjnd_missing = False
        self.sgjnd_failed.emit(message)

    def _on_probe(self, result: tuple[list[str], str, list[Any]]) -> None:
        devices, description, codecs = result
        self.devices_ready.emit((devices, description))
        self.codecs_ready.emit(codecs)


# --------------------------------------------------------------------------------------------------------------------
# Jobs (run on pool threads; they touch no Qt object)
# --------------------------------------------------------------------------------------------------------------------


def _frame(rung: Any, *, cached: bool) -> Frame:
    return Frame(rung.level, rung.decoded, rung.nbytes, rung.bpp, 1000.0 * rung.encode_seconds, cached)


def _load_job(context: JobContext, path: str) -> LoadedImage:
    import time

    from jndviewer.core.image import load

    started = time.perf_counter()
    image = load(path)
    rgb = np.ascontiguousarray(image.rgb8())
    rgb.setflags(write=False)
    return LoadedImage(path, image, rgb, time.perf_counter() - started)


def _codec_job(context: JobContext, rgb: np.ndarray, spec: str) -> tuple[Any, LadderInfo]:
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.ladder import Ladder

    codec = create_codec(spec)
    ordered = tuple(int(v) for v in codec.ordered_worst_to_best())
    context.check()
    ladder = Ladder(rgb, codec, cache_megabytes=LADDER_CACHE_MB, prefetch_radius=2)
    info = LadderInfo(
        codec=spec,
        title=codec.title or spec,
        level_name=codec.level_name,
        better=codec.better,
        ordered=ordered,
        best=int(codec.best_level()),
        curve_levels=tuple(compute.curve_levels(codec)),
    )
    return ladder, info


def _rung_job(context: JobContext, ladder: Any, level: int) -> Frame:
    return _frame(ladder.rung(level, cancel=context.cancel), cached=False)


def _derived_job(context: JobContext, key: tuple[Any, ...], reference: np.ndarray, ladder: Any, jnd: Any) -> Derived:
    kind = key[0]
    if kind == "difference":
        rung = ladder.rung(key[1], cancel=context.cancel)
        return Derived(key, compute.difference_image(reference, rung.decoded, key[2]))
    if kind == "visibility":
        rung = ladder.rung(key[1], cancel=context.cancel)
        return Derived(key, compute.visibility_view(key[1], rung.decoded, jnd))
    values = jnd.layer(key[1])
    colors, low, high = compute.colorize(values)
    return Derived(key, JndLayer(key[1], values, colors, low, high, jnd.layer_label(key[1])))


def _jnd_job(
    context: JobContext, rgb: np.ndarray, params: Any, model_params: dict[str, Any], device: str, pixel_model: str
) -> Any:
    return compute.compute_jnd(rgb, params, model_params, device, pixel_model)


def _curve_job(context: JobContext, ladder: Any, levels: tuple[int, ...], scorer: Any) -> Any:
    total = len(levels)
    for done, level in enumerate(levels, start=1):
        rung = ladder.rung(level, cancel=context.cancel)
        psnr = rung.psnr
        point = {
            "level": level,
            "nbytes": rung.nbytes,
            "bpp": rung.bpp,
            "psnr": None if not np.isfinite(psnr) else float(psnr),
            "score": None if scorer is None else float(scorer.score(rung.decoded)),
        }
        context.progress(done, total, f"level {level}")
        yield point


def _predict_job(context: JobContext, loaded: LoadedImage, ladder: Any, params: Any, device: str) -> Any:
    from jndviewer.core.device import select_device
    from jndviewer.core.pwjnd.visibility import VisibilityPredictor

    predictor = VisibilityPredictor(params, device=select_device(device))

    def progress(done: int, level: int) -> None:
        context.progress(done, 0, f"{done} encodes, now level {level}")

    return predictor.predict(loaded.image, ladder, name=loaded.path, progress=progress, cancel=context.cancel)


def _sgjnd_job(context: JobContext, loaded: LoadedImage, ladder: Any) -> Any:
    def progress(done: int, level: int) -> None:
        context.progress(done, 0, f"SG-JND: {done} levels, now level {level}")

    return compute.predict_sgjnd(loaded.image, ladder, name=loaded.path, progress=progress, cancel=context.cancel)


def _patch_job(context: JobContext, key: tuple[Any, ...], level: int, reference: np.ndarray,
               decoded: np.ndarray) -> Any:
    context.check()
    return compute.patch_report(key, level, reference, decoded)


def _probe_job(context: JobContext, preference: str) -> tuple[list[str], str, list[Any]]:
    from jndviewer.core.device import describe_device, select_device

    devices, codecs = _machine_catalog()
    try:
        description = describe_device(select_device(preference))
    except JndViewerError as err:
        description = str(err)
    return devices, description, codecs


@functools.cache
def _machine_catalog() -> tuple[list[str], list[Any]]:
    """The devices and codecs of this machine (they do not change while the process runs)."""
    from jndviewer.core.codecs import codec_catalog
    from jndviewer.core.device import available_devices

    return available_devices(), codec_catalog()
