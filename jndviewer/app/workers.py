"""Cancellable background jobs on a QThreadPool, one "latest wins" runner per view.

A :class:`JobRunner` runs one kind of job (encode the current level, compute the JND map, stream the rate curve,
predict the PW-JND, ...). :meth:`JobRunner.submit` bumps a generation counter and sets the cancel event of the job
before it, so a new request supersedes the old one; whatever the old job still reports (progress, partial results,
its result or its error) is dropped when it reaches the GUI thread. Results come back only through queued signals, so
the slots run on the GUI thread; errors of the current job go to one :class:`Notifier`, as napari's workers and
Orange's ``ConcurrentMixin`` do.

A job is a function ``fn(context, *args)``. It may return a value (delivered by ``finished``) or be a generator: each
value it yields is delivered by ``partial`` (e.g. one rate-curve point per level) and ``finished`` follows with
``None``. Jobs check ``context.cancelled`` (or call ``context.check()``) between steps; a running encode or model call
cannot be interrupted, so cancellation takes effect at the next check, and its late results are dropped anyway.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from jndviewer.core.errors import JndViewerError
from jndviewer.core.ladder import Cancelled

log = logging.getLogger(__name__)


class Notifier(QObject):
    """The one sink of user-facing messages from jobs (the window shows them in the status bar)."""

    message = Signal(str, str)  # level ("info", "warning", "error"), one sentence

    def notify(self, text: str, level: str = "error") -> None:
        self.message.emit(level, text)


class JobContext:
    """What a job receives: its cancel event and callbacks for progress and partial results (thread-safe)."""

    def __init__(self, runner: JobRunner, generation: int) -> None:
        self._runner = runner
        self.generation = generation
        self.cancel = threading.Event()
        self.started = time.perf_counter()

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def check(self) -> None:
        """Raise :class:`~jndviewer.core.ladder.Cancelled` when the job was superseded or cancelled."""
        if self.cancel.is_set():
            raise Cancelled("The job was cancelled.")

    def progress(self, done: int, total: int, text: str = "") -> None:
        if not self.cancel.is_set():
            self._runner._bridge.emit(self.generation, "progress", (int(done), int(total), text))

    def partial(self, value: Any) -> None:
        if not self.cancel.is_set():
            self._runner._bridge.emit(self.generation, "partial", value)


class JobRunner(QObject):
    """Runs one job at a time for one view on a thread pool; the newest request wins.

    Parameters
    ----------
    name : str
        What the status bar calls the job ("encode", "JND map", ...).
    pool : QThreadPool
        Where jobs run.
    notifier : Notifier, optional
        Receives the error sentence of a failed current job.
    nice : int, optional
        Run the jobs at this much lower OS priority (see :func:`lower_thread_priority`); for pools that only run
        background work, so that the interface thread wins the CPU when the machine is busy.

    Signals
    -------
    started(str)
        A job started (its description).
    progress(int, int, str)
        Done, total and a short text, from the current job.
    partial(object)
        A value yielded by the current (generator) job.
    finished(object)
        The current job's result.
    failed(str)
        The current job's error, one sentence.
    idle()
        No job of this runner is running any more (also after a cancel).
    """

    started = Signal(str)
    progress = Signal(int, int, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    idle = Signal()

    _bridge = Signal(int, str, object)

    def __init__(
        self,
        name: str,
        pool: QThreadPool,
        notifier: Notifier | None = None,
        parent: QObject | None = None,
        *,
        nice: int = 0,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.nice = nice
        self._pool = pool
        self._notifier = notifier
        self._generation = 0
        self._context: JobContext | None = None
        self._in_flight = 0  # jobs started and not yet reported back (any generation)
        self._lock = threading.Lock()
        self.description = ""
        self.last_seconds = 0.0
        self._bridge.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def busy(self) -> bool:
        """Whether the current request has not been answered yet."""
        return self._context is not None

    @property
    def in_flight(self) -> int:
        """Jobs still running on the pool (current and superseded ones)."""
        return self._in_flight

    def submit(self, fn: Callable[..., Any], *args: Any, description: str = "") -> int:
        """Cancel the current job (if any) and start ``fn(context, *args)``; returns the new generation."""
        self.cancel(emit_idle=False)
        self._generation += 1
        context = JobContext(self, self._generation)
        self._context = context
        self.description = description or self.name
        self._in_flight += 1
        self.started.emit(self.description)
        self._pool.start(lambda: self._run(fn, context, args))
        return context.generation

    def cancel(self, *, emit_idle: bool = True) -> None:
        """Cancel the current job; its late reports are dropped."""
        context, self._context = self._context, None
        if context is not None:
            context.cancel.set()
            self._generation += 1
            if emit_idle:
                self.idle.emit()

    # -- worker thread --------------------------------------------------------------------------------------------

    def _run(self, fn: Callable[..., Any], context: JobContext, args: tuple[Any, ...]) -> None:
        if self.nice:
            lower_thread_priority(self.nice)
        try:
            context.check()
            result = fn(context, *args)
            if hasattr(result, "__next__"):
                for value in result:
                    context.check()
                    context.partial(value)
                result = None
            context.check()
            self._bridge.emit(context.generation, "finished", result)
        except Cancelled:
            self._bridge.emit(context.generation, "cancelled", None)
        except JndViewerError as err:
            self._bridge.emit(context.generation, "failed", str(err))
        except Exception as err:  # a bug, not a user error: keep the app alive and say what happened
            log.error("job %s failed:\n%s", self.name, traceback.format_exc())
            message = f"{self.name} failed unexpectedly ({type(err).__name__}: {err})."
            self._bridge.emit(context.generation, "failed", message)

    # -- GUI thread -----------------------------------------------------------------------------------------------

    def _deliver(self, generation: int, kind: str, payload: Any) -> None:
        final = kind in ("finished", "failed", "cancelled")
        if final:
            self._in_flight -= 1
        current = self._context is not None and generation == self._context.generation
        if not current:
            return
        if kind == "progress":
            self.progress.emit(*payload)
        elif kind == "partial":
            self.partial.emit(payload)
        elif final:
            self.last_seconds = time.perf_counter() - self._context.started
            self._context = None
            if kind == "finished":
                self.finished.emit(payload)
            elif kind == "failed":
                if self._notifier is not None:
                    self._notifier.notify(payload)
                self.failed.emit(payload)
            self.idle.emit()


_niced = threading.local()


def lower_thread_priority(nice: int) -> None:
    """Raise the nice value of the calling pool thread by ``nice`` (once per thread; Linux only, else nothing).

    On Linux the nice value is per thread, so this leaves the interface thread alone; threads the job starts (torch's
    intra-op pool, when it is created here) inherit it. Elsewhere ``setpriority`` would apply to the whole process,
    so nothing is done.
    """
    if sys.platform != "linux" or getattr(_niced, "done", False):
        return
    _niced.done = True
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:  # pragma: no cover - not permitted: run at normal priority
        pass
