"""The prefetch worker of a ladder: one background thread that encodes the neighbours of the level being shown.

Its state (the queued jobs, the generation number, whether it is closed) is guarded by its owner's lock, the one that
also guards the ladder's cache and encodes under way: a job checks, under that single lock, that its generation is
still current and that its level is not known yet, and then registers its encode. So every method of
:class:`PrefetchWorker` is called with the owner's lock held; only shutting down the executor that :meth:`close`
returns happens without it, because that waits for a running job, which needs the lock to finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from jndviewer.core.codecs.base import Level

__all__ = ["PrefetchJob", "PrefetchWorker"]

#: The body of one prefetch job, called as ``job(level, generation)`` on the worker thread.
PrefetchJob = Callable[[Level, int], None]


class PrefetchWorker:
    """Runs prefetch jobs one at a time, in queue order, on one thread (a ``ThreadPoolExecutor(max_workers=1)``).

    The executor is created by the first :meth:`submit`. Each :meth:`new_generation` drops the queued jobs of the
    previous generation that have not started yet (a job that is running finishes); a job that starts anyway can ask
    :meth:`is_current` whether it is stale. Not thread-safe on its own: see the module docstring.
    """

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._jobs: list[Future[None]] = []
        self._generation = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def is_current(self, generation: int) -> bool:
        """Whether a job of ``generation`` should still run: the worker is open and no later generation began."""
        return not self._closed and generation == self._generation

    def new_generation(self) -> int:
        """Drop the queued jobs of the current generation and begin the next one; returns its number."""
        self._generation += 1
        for job in self._jobs:
            job.cancel()
        self._jobs = []
        return self._generation

    def submit(self, job: PrefetchJob, levels: Iterable[Level], generation: int) -> None:
        """Queue ``job(level, generation)`` for each of ``levels``, in order, as the jobs of ``generation``."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jndviewer-ladder-prefetch")
        self._jobs = [self._executor.submit(job, level, generation) for level in levels]

    def jobs(self) -> list[Future[None]]:
        """The jobs of the latest generation (a copy)."""
        return list(self._jobs)

    def close(self) -> ThreadPoolExecutor | None:
        """Stop for good: drop the queued jobs, make every generation stale, and hand over the executor (or ``None``).

        The caller shuts the returned executor down after releasing its lock (see the module docstring).
        """
        self._closed = True
        self.new_generation()
        executor, self._executor = self._executor, None
        return executor
