"""Every registered predictor's PW-JND of the explorer's image: one runner each, one at a time, results by name.

Predictions run one after another in registry order: on two cores, two at once beside the JND map and the rate curve
starved the interface thread (bench_gui measured 270-320 ms stalls while scrubbing when the visibility predictor and
SG-JND ran together). A predictor asked for again while it waits or runs is restarted; the others keep their place.

The explorer's prediction controls (visibility map, pooling, threshold, search) are the options of
:data:`TUNED_PREDICTOR`; the other predictors run with their own defaults. All of them get the viewing condition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from jndviewer.app.workers import JobRunner
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.views import Unavailable

#: The predictor whose options the explorer's "PW-JND prediction" controls set.
TUNED_PREDICTOR = "visibility"

#: ``make_job(name) -> (function, args, description)``, or None when there is nothing to predict.
JobFactory = Callable[[str], tuple[Callable[..., Any], tuple[Any, ...], str] | None]


class PredictionQueue(QObject):
    """The predictions of the current image, by predictor name (see the module docstring).

    Signals
    -------
    started(str)
        A predictor's result is out of date and a new one is on its way.
    ready(str, object)
        A predictor's PWJND.
    failed(str, str, bool)
        A predictor's name, why it has no result (one sentence), and whether it merely cannot run here (no weights)
        rather than having failed.
    """

    started = Signal(str)
    ready = Signal(str, object)
    failed = Signal(str, str, bool)

    def __init__(self, pool: QThreadPool, make_job: JobFactory, parent: QObject | None = None, *,
                 nice: int = 0) -> None:
        super().__init__(parent)
        self._make_job = make_job
        self.runners: dict[str, JobRunner] = {}
        for name, info in PREDICTORS.items():
            runner = JobRunner(f"{info.short} prediction", pool, None, self, nice=nice)
            runner.finished.connect(functools.partial(self._on_finished, name))
            runner.failed.connect(functools.partial(self._on_failed, name))
            self.runners[name] = runner
        self.results: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.missing: set[str] = set()
        self.waiting: list[str] = []

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.runners)

    @property
    def busy(self) -> bool:
        """Whether some prediction is running or waiting."""
        return bool(self.waiting) or any(runner.busy for runner in self.runners.values())

    def invalidate(self, names: Iterable[str]) -> None:
        """Drop these predictors' results now (their readouts say "predicting…"), stopping their jobs."""
        for name in names:
            runner = self.runners.get(name)
            if runner is None:
                continue
            runner.cancel(emit_idle=False)
            if name in self.waiting:
                self.waiting.remove(name)
            self.results.pop(name, None)
            self.errors.pop(name, None)
            self.missing.discard(name)
            self.started.emit(name)

    def request(self, names: Iterable[str] | None = None) -> None:
        """Predict again with these predictors (default: all), each after the ones already waiting."""
        names = self.names if names is None else tuple(n for n in names if n in self.runners)
        self.invalidate(names)
        self.waiting.extend(names)
        self._next()

    def cancel(self) -> None:
        """Stop every prediction; waiting ones are forgotten."""
        self.waiting.clear()
        for runner in self.runners.values():
            runner.cancel()

    def clear(self) -> None:
        """Cancel and forget every result (a new image or ladder)."""
        self.cancel()
        self.results.clear()
        self.errors.clear()
        self.missing.clear()

    def _next(self) -> None:
        if any(runner.busy for runner in self.runners.values()):
            return
        while self.waiting:
            name = self.waiting.pop(0)
            job = self._make_job(name)
            if job is not None:
                function, args, description = job
                self.runners[name].submit(function, *args, description=description)
                return

    def _on_finished(self, name: str, result: Any) -> None:
        if isinstance(result, Unavailable):
            self.missing.add(name)
            self.errors[name] = result.reason
            self.failed.emit(name, result.reason, True)
        else:
            self.results[name] = result
            self.ready.emit(name, result)
        self._next()

    def _on_failed(self, name: str, message: str) -> None:
        self.errors[name] = message
        self.failed.emit(name, message, False)
        self._next()


def threshold_in_use(session: Any) -> float | None:
    """The decision threshold :data:`TUNED_PREDICTOR` uses now: the state's, or the one calibrated for the codec (its
    family: a folder's files', JPEG 4:4:4 as JPEG), model, pooling and viewing condition; None where there is none."""
    from jndviewer.core.errors import JndViewerError
    from jndviewer.core.pwjnd.calibration import calibrated_threshold

    state = session.state
    if state.threshold is not None:
        return float(state.threshold)
    info, ladder = session.ladder_info, session.ladder
    family = ladder.codec.family if ladder is not None and info is not None and info.codec == state.codec else None
    try:  # the condition the predictions are for: ppd / k on a preview at 1/k scale
        return calibrated_threshold(session.predictor_params(), family or state.codec, session.analysis_condition())
    except JndViewerError:  # e.g. a pixel model that was never calibrated for this task, or a preview below 5 ppd
        return None


__all__ = ["TUNED_PREDICTOR", "PredictionQueue", "threshold_in_use"]
