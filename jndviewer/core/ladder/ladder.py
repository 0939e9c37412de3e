"""One image through one codec at every level: an ordered "ladder" of real encodes, computed on demand and cached.

A :class:`Ladder` turns ``codec.encode(image, level)`` into :class:`Rung` objects (the encode, its size, bits per
pixel, encode time, and PSNR/SSIM computed lazily on first access). The GUI scrubs through levels with
:meth:`Ladder.rung` and :meth:`Ladder.prefetch`; the CLI prints :meth:`Ladder.table`.

Threading model
---------------
* **Who encodes.** A rung is encoded on the thread that first asks for it: the caller of :meth:`Ladder.rung` (or of
  :meth:`Ladder.rungs` / :meth:`Ladder.table`), or the single prefetch worker. The encode itself runs without any
  lock held, so different levels encode in parallel on different threads.
* **One encode per level.** A lock guards the cache and a table of in-flight encodes (one
  :class:`concurrent.futures.Future` per level being encoded). A request for a level that is cached returns the cached
  rung; one for a level being encoded waits for that encode's future instead of starting another, so concurrent
  requests for a level encode once and all receive the same :class:`Rung` object.
* **Cancellation.** ``rung(level, cancel=event)`` raises :class:`Cancelled` when ``event`` is set before the request
  starts, or while it waits for another thread's encode (checked every 20 ms). An encode that is already running
  cannot be interrupted (codecs have no cancel hook): when the requesting thread's own encode finishes after its
  event was set, the finished rung is still cached (it is complete, and other requests may be waiting for it) and the
  request raises :class:`Cancelled`. Nothing partial is ever cached, and a cancelled request leaves no in-flight entry
  behind.
* **Prefetch.** :meth:`Ladder.prefetch` queues the neighbours of a level (nearest first, both sides) on one background
  thread (a ``ThreadPoolExecutor(max_workers=1)`` created on first use). Each call drops the jobs of the previous call
  that have not started yet; a job that is running finishes. Prefetch never raises into its caller: an encode error is
  kept and raised by the next direct request for that level (once; a later request tries the encode again).
* **Metrics.** PSNR and SSIM are not computed by the encode (they would slow scrubbing down). They are computed on the
  thread that first reads ``rung.psnr`` / ``rung.ssim`` and stored on the rung; two threads reading at once may both
  compute, but the first stored value is the one every reader gets.
* **Shutdown.** :meth:`Ladder.close` (or leaving a ``with`` block) cancels queued prefetch jobs, waits for a running one
  to finish, and joins the worker thread. Direct requests still work afterwards (on the caller's thread); further
  prefetch calls do nothing.

The cache is an LRU bounded in bytes (decoded pixels plus compressed data per rung); it never exceeds its bound, and a
rung larger than the whole bound is returned but not cached.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from typing import Any

import numpy as np

from jndviewer.core.codecs.base import Codec, CodecError, Level, check_rgb
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import Image
from jndviewer.core.ladder.cancellation import CancelEvent, raise_if_cancelled
from jndviewer.core.ladder.prefetch import PrefetchWorker
from jndviewer.core.ladder.rung import Rung, rung_from_encode
from jndviewer.core.ladder.rung_cache import CacheInfo, RungCache
from jndviewer.core.metrics import SSIM_WINDOW

__all__ = ["Ladder", "ProgressCallback"]

_MEBIBYTE = 1 << 20
_WAIT_POLL_SECONDS = 0.02

ProgressCallback = Callable[[int, int], None]


class Ladder:
    """One image and one codec: rungs for the codec's levels, encoded on demand, cached, prefetched in the background.

    Parameters
    ----------
    image : Image or numpy.ndarray
        The original: an :class:`~jndviewer.core.image.Image` (16-bit images are rounded to 8 bits with
        :meth:`~jndviewer.core.image.Image.rgb8`) or an ``H x W x 3`` uint8 array (copied).
    codec : Codec
        The codec to run.
    cache_megabytes : float, optional
        Bound of the rung cache in MiB (2**20 bytes); 0 caches nothing. Default 256.
    prefetch_radius : int, optional
        How many levels on each side of the current one :meth:`prefetch` queues; 0 disables prefetching. Default 2.

    Raises
    ------
    CodecError
        If ``image`` is not an ``Image`` or an ``H x W x 3`` uint8 array.
    ValueError
        If ``cache_megabytes`` is negative or ``prefetch_radius`` is not a non-negative integer.

    Notes
    -----
    See the module docstring for the threading model. Use as a context manager, or call :meth:`close`, to stop the
    prefetch worker.
    """

    def __init__(
        self, image: Image | np.ndarray, codec: Codec, *, cache_megabytes: float = 256, prefetch_radius: int = 2
    ) -> None:
        rgb = image.rgb8() if isinstance(image, Image) else check_rgb(image).copy()
        if rgb.flags.writeable:
            rgb = rgb.view()
            rgb.setflags(write=False)
        if isinstance(cache_megabytes, bool) or not cache_megabytes >= 0:
            raise ValueError(f"cache_megabytes must be zero or more, not {cache_megabytes!r}.")
        if isinstance(prefetch_radius, bool) or not isinstance(prefetch_radius, int) or prefetch_radius < 0:
            raise ValueError(f"prefetch_radius must be a non-negative integer, not {prefetch_radius!r}.")
        self._rgb = rgb
        self._codec = codec
        self._levels: tuple[Level, ...] = tuple(codec.levels())
        self._index = {level: position for position, level in enumerate(self._levels)}
        self._radius = prefetch_radius

        # One lock guards the cache, the in-flight encodes, the kept errors and the prefetch worker's state.
        self._lock = threading.Lock()
        self._cache = RungCache(int(cache_megabytes * _MEBIBYTE))
        self._inflight: dict[Level, Future[Rung]] = {}
        self._errors: dict[Level, Exception] = {}

        self._prefetch_worker = PrefetchWorker()
        self._last_prefetch_index: int | None = None

    # ----------------------------------------------------------------------------------------------------------------
    # Properties
    # ----------------------------------------------------------------------------------------------------------------

    @property
    def codec(self) -> Codec:
        """The codec."""
        return self._codec

    @property
    def reference(self) -> np.ndarray:
        """The original image as read-only ``H x W x 3`` uint8 RGB."""
        return self._rgb

    @property
    def levels(self) -> tuple[Level, ...]:
        """The codec's levels, in ascending numerical order."""
        return self._levels

    @property
    def cache_bytes(self) -> int:
        """Bytes the cache holds now."""
        with self._lock:
            return self._cache.nbytes

    @property
    def cache_limit(self) -> int:
        """The cache bound in bytes."""
        return self._cache.limit

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._prefetch_worker.closed

    def cache_info(self) -> CacheInfo:
        """Hits, misses, evictions, bytes held and the bound (see :class:`CacheInfo`)."""
        with self._lock:
            return self._cache.info()

    def cached_levels(self) -> tuple[Level, ...]:
        """The cached levels, least recently used first."""
        with self._lock:
            return self._cache.levels()

    def peek(self, level: Level) -> Rung | None:
        """The cached rung of ``level``, or ``None``; never encodes and does not change the LRU order or the stats."""
        with self._lock:
            return self._cache.peek(level)

    def __len__(self) -> int:
        return len(self._levels)

    def __repr__(self) -> str:
        height, width = self._rgb.shape[:2]
        return (
            f"Ladder({self._codec.name or type(self._codec).__name__}, {width}x{height}, {len(self._levels)} levels, "
            f"cache {self.cache_bytes}/{self._cache.limit} bytes)"
        )

    # ----------------------------------------------------------------------------------------------------------------
    # Requests
    # ----------------------------------------------------------------------------------------------------------------

    def rung(self, level: Level, *, cancel: CancelEvent | None = None) -> Rung:
        """The rung of ``level``: from the cache, from an encode under way, or encoded now on this thread.

        Parameters
        ----------
        level : int
            One of :attr:`levels`.
        cancel : threading.Event, optional
            When set before the call or while it waits, the call raises :class:`Cancelled`.

        Returns
        -------
        Rung
            The same object for every request of a level while it stays cached.

        Raises
        ------
        Cancelled
            If ``cancel`` was set.
        CodecError
            If the codec has no such level, or the encode failed (also a failure kept from a prefetch). Other
            exceptions a codec raises pass through unchanged.
        """
        self._check_level(level)
        raise_if_cancelled(cancel, level)
        with self._lock:
            cached = self._cache.use(level)
            if cached is not None:
                return cached
            error = self._errors.pop(level, None)
            if error is None:
                future = self._inflight.get(level)
                owner = future is None
                if future is None:
                    future = self._start_encode(level)
                else:
                    self._cache.hits += 1
        if error is not None:
            raise error
        if owner:
            result = self._encode(level, future, keep_error=False)
            raise_if_cancelled(cancel, level)
            return result
        return self._wait(level, future, cancel)

    def rungs(
        self,
        levels: Iterable[Level] | None = None,
        *,
        cancel: CancelEvent | None = None,
        progress: ProgressCallback | None = None,
    ) -> Iterator[Rung]:
        """Yield rungs one by one, encoding each when it is reached.

        Parameters
        ----------
        levels : iterable of int, optional
            The levels, in the order to yield them; all of :attr:`levels` (ascending) by default. They are checked
            before anything is encoded.
        cancel : threading.Event, optional
            Passed to every :meth:`rung` request: once set, the iteration raises :class:`Cancelled`.
        progress : callable, optional
            Called as ``progress(done, total)`` after each rung is ready (``done`` runs from 1 to ``total``).

        Yields
        ------
        Rung
        """
        chosen = self._chosen_levels(levels)
        return self._iterate(chosen, cancel, progress)

    def __iter__(self) -> Iterator[Rung]:
        return self.rungs()

    def table(
        self,
        levels: Iterable[Level] | None = None,
        *,
        cancel: CancelEvent | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """The rate-distortion table: one row per level with its size, bit rate, quality and encode time.

        Parameters
        ----------
        levels, cancel
            As for :meth:`rungs`.
        progress : callable, optional
            Called as ``progress(done, total)`` after each row is complete (metrics included).

        Returns
        -------
        list of dict
            Rows with the keys ``level``, ``nbytes``, ``bpp``, ``psnr`` (dB), ``ssim`` and ``encode_ms``, in the
            order of ``levels``.

        Raises
        ------
        Cancelled
            If ``cancel`` is set (checked before each encode and after each row).
        JndViewerError
            If the image is smaller than SSIM's 11 x 11 window (before anything is encoded).
        """
        height, width = self._rgb.shape[:2]
        if min(height, width) < SSIM_WINDOW:
            raise JndViewerError(f"A {width}×{height}-pixel image is too small for a rate-distortion table: its SSIM "
                                 f"needs at least {SSIM_WINDOW}×{SSIM_WINDOW} pixels.")
        chosen = self._chosen_levels(levels)
        rows: list[dict[str, Any]] = []
        for done, rung in enumerate(self._iterate(chosen, cancel, None), start=1):
            rows.append(
                {
                    "level": rung.level,
                    "nbytes": rung.nbytes,
                    "bpp": rung.bpp,
                    "psnr": rung.psnr,
                    "ssim": rung.ssim,
                    "encode_ms": 1000.0 * rung.encode_seconds,
                }
            )
            raise_if_cancelled(cancel, rung.level)
            if progress is not None:
                progress(done, len(chosen))
        return rows

    # ----------------------------------------------------------------------------------------------------------------
    # Prefetch and shutdown
    # ----------------------------------------------------------------------------------------------------------------

    def prefetch(self, level: Level) -> tuple[Level, ...]:
        """Queue the neighbours of ``level`` for background encoding, dropping the previous call's queued jobs.

        The neighbours are the levels up to ``prefetch_radius`` positions away in :attr:`levels`, nearest first; at
        equal distance the side in the direction of travel (from the previous prefetch level) comes first, the higher
        side when there is none. Levels cached, being encoded, or holding a kept error are skipped. Encode errors are
        never raised here: they are kept for the next direct request of that level.

        Parameters
        ----------
        level : int
            The level being shown (it is not queued itself).

        Returns
        -------
        tuple of int
            The levels queued, in queue order (empty after :meth:`close` or with ``prefetch_radius=0``).

        Raises
        ------
        CodecError
            If the codec has no such level (a caller error, not an encode error).
        """
        index = self._check_level(level)
        with self._lock:
            if self._prefetch_worker.closed:
                return ()
            generation = self._prefetch_worker.new_generation()
            direction = 1
            if self._last_prefetch_index is not None and index < self._last_prefetch_index:
                direction = -1
            self._last_prefetch_index = index
            queued: list[Level] = []
            for distance in range(1, self._radius + 1):
                for side in (direction, -direction):
                    position = index + side * distance
                    if 0 <= position < len(self._levels):
                        neighbour = self._levels[position]
                        if not self._known(neighbour):
                            queued.append(neighbour)
            if not queued:
                return ()
            self._prefetch_worker.submit(self._prefetch_job, queued, generation)
        return tuple(queued)

    def wait_for_prefetch(self, timeout: float | None = None) -> bool:
        """Wait until the jobs of the latest :meth:`prefetch` call are done or dropped.

        The worker runs one job at a time in queue order, so a job of an earlier call that was already running has
        finished too unless the latest call queued nothing (then this returns at once).

        Returns
        -------
        bool
            ``True`` when they are, ``False`` if ``timeout`` seconds passed first.
        """
        with self._lock:
            jobs = self._prefetch_worker.jobs()
        _, not_done = wait(jobs, timeout=timeout)
        return not not_done

    def clear_cache(self) -> None:
        """Drop every cached rung and kept error (statistics are kept; encodes under way still finish)."""
        with self._lock:
            self._cache.clear()
            self._errors.clear()

    def close(self) -> None:
        """Drop queued prefetch jobs, wait for a running one, and stop the worker thread. Safe to call twice."""
        with self._lock:
            executor = self._prefetch_worker.close()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Ladder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------------------------------

    def _check_level(self, level: Level) -> int:
        index = self._index.get(level)
        if index is None:
            self._codec.check_level(level)  # raises CodecError with the codec's own wording
            raise CodecError(f"{self._codec.title or self._codec.name} has no level {level!r}.")
        return index

    def _chosen_levels(self, levels: Iterable[Level] | None) -> list[Level]:
        chosen = list(self._levels if levels is None else levels)
        for level in chosen:
            self._check_level(level)
        return chosen

    def _iterate(
        self, chosen: list[Level], cancel: CancelEvent | None, progress: ProgressCallback | None
    ) -> Iterator[Rung]:
        total = len(chosen)
        for done, level in enumerate(chosen, start=1):
            rung = self.rung(level, cancel=cancel)
            if progress is not None:
                progress(done, total)
            yield rung

    def _known(self, level: Level) -> bool:
        """Whether ``level`` is cached, being encoded, or holds a kept error (call with the lock held)."""
        return level in self._cache or level in self._inflight or level in self._errors

    def _start_encode(self, level: Level) -> Future[Rung]:
        """Register an encode of ``level`` as in flight (call with the lock held)."""
        future: Future[Rung] = Future()
        self._inflight[level] = future
        self._cache.misses += 1
        return future

    def _encode(self, level: Level, future: Future[Rung], *, keep_error: bool) -> Rung:
        """Encode ``level`` on this thread, publish the result (cache and future), and return it or raise."""
        try:
            start = time.perf_counter()
            encoded = self._codec.encode(self._rgb, level)
            seconds = time.perf_counter() - start
            result = rung_from_encode(self._codec, level, encoded, seconds, self._rgb)
        except BaseException as err:
            with self._lock:
                self._inflight.pop(level, None)
                if keep_error and isinstance(err, Exception):
                    self._errors[level] = err
            future.set_exception(err)
            raise
        with self._lock:
            self._inflight.pop(level, None)
            self._cache.store(level, result)
        future.set_result(result)
        return result

    def _wait(self, level: Level, future: Future[Rung], cancel: CancelEvent | None) -> Rung:
        """Wait for another thread's encode of ``level``, giving up with Cancelled when ``cancel`` is set."""
        while True:
            raise_if_cancelled(cancel, level)
            try:
                return future.result(timeout=None if cancel is None else _WAIT_POLL_SECONDS)
            except TimeoutError:
                continue
            except Exception as err:
                with self._lock:
                    if self._errors.get(level) is err:
                        del self._errors[level]  # delivered to this request; do not raise it again
                raise

    def _prefetch_job(self, level: Level, generation: int) -> None:
        """Body of one prefetch job on the worker thread; never raises (errors are kept for direct requests)."""
        with self._lock:
            if not self._prefetch_worker.is_current(generation) or self._known(level):
                return
            future = self._start_encode(level)
        with contextlib.suppress(Exception):  # kept in self._errors by _encode
            self._encode(level, future, keep_error=True)
