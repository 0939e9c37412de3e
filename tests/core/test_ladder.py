"""The encode ladder: rungs, lazy metrics, the LRU cache, thread safety, prefetch, cancellation and shutdown."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from jndviewer.core import metrics
from jndviewer.core.codecs.base import Codec, CodecError, Encoded, Level
from jndviewer.core.codecs.standard import JpegCodec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import Image
from jndviewer.core.ladder import CacheInfo, Cancelled, Ladder, Rung

HEIGHT, WIDTH = 64, 96
DECODED_BYTES = HEIGHT * WIDTH * 3
TIMEOUT = 10.0  # generous: only reached when something is broken


def make_image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = 128 + 70 * np.sin(cols / 8.0)[..., None] * np.cos(rows / 6.0)[..., None] + rng.normal(0, 8, (1, 1, 3))
    return np.clip(base + rng.normal(0, 10, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)


class FakeCodec(Codec):
    """Counts encodes per level; can block a level on a gate, and fail at chosen levels.

    Level ``L`` gives ``100 L`` bytes of data and the image quantised to steps of ``L + 1``.
    """

    name = "fake"
    title = "Fake"
    suffix = ".fake"

    def __init__(self, levels: range | tuple[int, ...] = range(1, 11), fail_levels: tuple[int, ...] = ()) -> None:
        self._levels = tuple(levels)
        self.fail_levels = set(fail_levels)
        self.gates: dict[Level, threading.Event] = {}
        self.calls: collections.Counter[Level] = collections.Counter()
        self.order: list[Level] = []
        self._lock = threading.Lock()
        self._started: dict[Level, threading.Event] = collections.defaultdict(threading.Event)

    def levels(self) -> tuple[Level, ...]:
        return self._levels

    def started(self, level: Level) -> threading.Event:
        with self._lock:
            return self._started[level]

    def gate(self, level: Level) -> threading.Event:
        self.gates[level] = threading.Event()
        return self.gates[level]

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        self.check_level(level)
        with self._lock:
            self.calls[level] += 1
            self.order.append(level)
            started = self._started[level]
        started.set()
        gate = self.gates.get(level)
        if gate is not None and not gate.wait(TIMEOUT):
            raise AssertionError(f"the gate of level {level} was never opened")
        if level in self.fail_levels:
            raise CodecError(f"Fake cannot encode level {level}.")
        step = level + 1
        decoded = ((rgb.astype(np.int32) // step) * step).astype(np.uint8)
        return Encoded(bytes(100 * level), decoded, level)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def run_in_thread(function: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["result"] = function()
        except BaseException as err:
            outcome["error"] = err

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@pytest.fixture
def rgb() -> np.ndarray:
    return make_image()


# --------------------------------------------------------------------------------------------------------------------
# Rungs
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", [5, 50, 95])
def test_rung_matches_a_direct_jpeg_encode(rgb: np.ndarray, quality: int) -> None:
    direct = JpegCodec().encode(rgb, quality)
    with Ladder(rgb, JpegCodec()) as ladder:
        rung = ladder.rung(quality)
    assert isinstance(rung, Rung) and rung.level == quality
    assert rung.encoded.data == direct.data and rung.data == direct.data
    np.testing.assert_array_equal(rung.decoded, direct.decoded)
    assert rung.nbytes == len(direct.data)
    assert rung.bpp == pytest.approx(8 * len(direct.data) / (HEIGHT * WIDTH))
    assert rung.encode_seconds > 0
    assert rung.psnr == metrics.psnr(rgb, direct.decoded)
    assert rung.ssim == metrics.ssim(rgb, direct.decoded)


def test_metrics_are_lazy_and_computed_once(rgb: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    counts: collections.Counter[str] = collections.Counter()
    real_psnr, real_ssim = metrics.psnr, metrics.ssim

    def counting(name: str, function: Callable[..., float]) -> Callable[..., float]:
        def wrapper(*args: object, **kwargs: object) -> float:
            counts[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(metrics, "psnr", counting("psnr", real_psnr))
    monkeypatch.setattr(metrics, "ssim", counting("ssim", real_ssim))
    with Ladder(rgb, JpegCodec()) as ladder:
        rung = ladder.rung(30)
        assert counts == {} and rung.metrics_computed() == frozenset()
        first = rung.psnr
        assert counts == {"psnr": 1} and rung.metrics_computed() == {"psnr"}
        assert rung.psnr == first and counts["psnr"] == 1
        assert first == real_psnr(rgb, rung.decoded)
        assert rung.ssim == rung.ssim == real_ssim(rgb, rung.decoded)
        assert counts == {"psnr": 1, "ssim": 1}


def test_metrics_read_from_many_threads_agree(rgb: np.ndarray) -> None:
    with Ladder(rgb, JpegCodec()) as ladder:
        rung = ladder.rung(40)
        barrier = threading.Barrier(4)

        def read() -> tuple[float, float]:
            barrier.wait(TIMEOUT)
            return rung.ssim, rung.psnr

        with ThreadPoolExecutor(4) as pool:
            values = list(pool.map(lambda _: read(), range(4)))
    assert len(set(values)) == 1
    assert values[0] == (metrics.ssim(rgb, rung.decoded), metrics.psnr(rgb, rung.decoded))


def test_rung_bpp_and_read_only_pixels(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec) as ladder:
        rung = ladder.rung(7)
    assert rung.nbytes == 700
    assert rung.bpp == pytest.approx(8 * 700 / (HEIGHT * WIDTH))
    assert not rung.decoded.flags.writeable
    assert not ladder.reference.flags.writeable
    assert rung.cache_bytes == DECODED_BYTES + 700


def test_ladder_takes_an_image_and_copies_arrays(rgb: np.ndarray) -> None:
    sixteen = Image(pixels=rgb.astype(np.uint16) * 257, bit_depth=16)
    with Ladder(sixteen, FakeCodec()) as ladder:
        np.testing.assert_array_equal(ladder.reference, rgb)
    original = rgb.copy()
    with Ladder(rgb, FakeCodec()) as ladder:
        rgb[:] = 0  # the caller's array changes; the ladder's copy must not
        np.testing.assert_array_equal(ladder.reference, original)
        assert ladder.rung(3).psnr == metrics.psnr(original, ladder.rung(3).decoded)


def test_constructor_and_level_errors(rgb: np.ndarray) -> None:
    with pytest.raises(CodecError):
        Ladder(rgb[..., 0], FakeCodec())
    with pytest.raises(ValueError):
        Ladder(rgb, FakeCodec(), cache_megabytes=-1)
    with pytest.raises(ValueError):
        Ladder(rgb, FakeCodec(), prefetch_radius=-1)
    with Ladder(rgb, FakeCodec()) as ladder:
        with pytest.raises(CodecError, match="no level 11"):
            ladder.rung(11)
        with pytest.raises(CodecError):
            ladder.prefetch(0)
        with pytest.raises(CodecError):
            list(ladder.rungs([3, 99]))
    assert issubclass(Cancelled, JndViewerError)


def test_decoded_of_the_wrong_shape_is_a_codec_error(rgb: np.ndarray) -> None:
    class Cropping(FakeCodec):
        def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
            encoded = super().encode(rgb, level)
            return Encoded(encoded.data, encoded.decoded[:-1], level)

    with Ladder(rgb, Cropping()) as ladder, pytest.raises(CodecError, match="decoded level 2"):
        ladder.rung(2)


# --------------------------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------------------------


def test_second_request_is_a_cache_hit(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec) as ladder:
        first = ladder.rung(4)
        assert ladder.cache_info() == CacheInfo(0, 1, 0, DECODED_BYTES + 400, 256 << 20)
        second = ladder.rung(4)
        assert second is first
        assert codec.calls[4] == 1
        assert ladder.cache_info().hits == 1 and ladder.cache_info().misses == 1
        assert ladder.peek(4) is first and ladder.peek(5) is None


def test_cache_never_exceeds_its_bound_and_evicts_lru(rgb: np.ndarray) -> None:
    codec = FakeCodec(levels=range(1, 21))
    limit_bytes = 3 * DECODED_BYTES + 3 * 2000  # room for 3 rungs, never 4
    with Ladder(rgb, codec, cache_megabytes=limit_bytes / 2**20) as ladder:
        assert ladder.cache_limit == limit_bytes
        for level in [1, 2, 3]:
            ladder.rung(level)
            assert ladder.cache_bytes <= limit_bytes
        assert ladder.cached_levels() == (1, 2, 3)
        ladder.rung(1)  # now most recently used
        ladder.rung(4)  # evicts 2, the least recently used
        assert ladder.cached_levels() == (3, 1, 4)
        assert ladder.cache_info().evictions == 1
        assert ladder.peek(2) is None
        for level in [*range(5, 21), 7, 2, 19, 1]:
            ladder.rung(level)
            info = ladder.cache_info()
            assert info.bytes <= limit_bytes
            assert info.bytes == sum(ladder.peek(cached).cache_bytes for cached in ladder.cached_levels())
            assert ladder.cached_levels()[-1] == level
        assert ladder.cached_levels() == (2, 19, 1)
        calls_before = codec.total_calls
        ladder.rung(2)
        assert codec.total_calls == calls_before


def test_a_rung_larger_than_the_bound_is_returned_but_not_cached(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec, cache_megabytes=DECODED_BYTES / 2 / 2**20) as ladder:
        rung = ladder.rung(5)
        assert rung.level == 5
        assert ladder.cache_bytes == 0 and ladder.cached_levels() == ()
        ladder.rung(5)
        assert codec.calls[5] == 2
    with Ladder(rgb, FakeCodec(), cache_megabytes=0) as ladder:
        ladder.rung(1)
        assert ladder.cache_bytes == 0


def test_clear_cache(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec) as ladder:
        ladder.rung(1)
        ladder.clear_cache()
        assert ladder.cache_bytes == 0 and ladder.peek(1) is None
        ladder.rung(1)
        assert codec.calls[1] == 2


# --------------------------------------------------------------------------------------------------------------------
# Concurrency and cancellation
# --------------------------------------------------------------------------------------------------------------------


def test_concurrent_requests_for_a_level_encode_once(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    gate = codec.gate(5)
    with Ladder(rgb, codec) as ladder:
        barrier = threading.Barrier(8)

        def request() -> Rung:
            barrier.wait(TIMEOUT)
            return ladder.rung(5)

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(request) for _ in range(8)]
            # All but the encoding thread join the encode under way (each counts as a hit) before the gate opens.
            joined = wait_until(lambda: ladder.cache_info().hits == 7)
            gate.set()
            results = [future.result(TIMEOUT) for future in futures]
    assert joined
    assert codec.calls[5] == 1
    assert all(result is results[0] for result in results)
    assert ladder.cache_info().misses == 1


def test_different_levels_encode_in_parallel(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    gate = codec.gate(2)
    with Ladder(rgb, codec) as ladder:
        thread, outcome = run_in_thread(lambda: ladder.rung(2))
        assert codec.started(2).wait(TIMEOUT)
        assert ladder.rung(3).level == 3  # not blocked by the encode of level 2
        gate.set()
        thread.join(TIMEOUT)
    assert outcome["result"].level == 2  # type: ignore[attr-defined]


def test_cancel_set_before_the_request(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    cancel = threading.Event()
    cancel.set()
    with Ladder(rgb, codec) as ladder:
        with pytest.raises(Cancelled, match="level 3"):
            ladder.rung(3, cancel=cancel)
        assert codec.calls[3] == 0
        assert ladder.peek(3) is None and ladder.cache_bytes == 0
        assert ladder.cache_info().misses == 0
        assert ladder.rung(3).level == 3  # nothing left behind


def test_cancel_while_waiting_for_another_threads_encode(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    gate = codec.gate(3)
    cancel = threading.Event()
    with Ladder(rgb, codec) as ladder:
        owner, owner_outcome = run_in_thread(lambda: ladder.rung(3))
        assert codec.started(3).wait(TIMEOUT)
        waiter, waiter_outcome = run_in_thread(lambda: ladder.rung(3, cancel=cancel))
        assert wait_until(lambda: ladder.cache_info().hits == 1)  # the waiter joined the encode
        cancel.set()
        waiter.join(TIMEOUT)
        assert not waiter.is_alive()
        assert isinstance(waiter_outcome.get("error"), Cancelled)
        assert ladder.peek(3) is None and ladder.cache_bytes == 0  # nothing partial
        gate.set()
        owner.join(TIMEOUT)
        rung = owner_outcome["result"]
        assert isinstance(rung, Rung)
        assert ladder.peek(3) is rung and ladder.rung(3) is rung
    assert codec.calls[3] == 1


def test_cancel_during_own_encode_raises_and_keeps_the_complete_rung(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    gate = codec.gate(6)
    cancel = threading.Event()
    with Ladder(rgb, codec) as ladder:
        thread, outcome = run_in_thread(lambda: ladder.rung(6, cancel=cancel))
        assert codec.started(6).wait(TIMEOUT)
        cancel.set()
        gate.set()
        thread.join(TIMEOUT)
        assert isinstance(outcome.get("error"), Cancelled)
        cached = ladder.peek(6)
        assert cached is not None and cached.nbytes == 600
        np.testing.assert_array_equal(cached.decoded, FakeCodec().encode(rgb, 6).decoded)
        assert ladder.rung(6) is cached
    assert codec.calls[6] == 1


def test_a_failed_encode_leaves_nothing_behind(rgb: np.ndarray) -> None:
    codec = FakeCodec(fail_levels=(4,))
    with Ladder(rgb, codec) as ladder:
        for attempt in (1, 2):
            with pytest.raises(CodecError, match="level 4"):
                ladder.rung(4)
            assert codec.calls[4] == attempt  # retried, not stuck on the failed encode
        assert ladder.peek(4) is None and ladder.cache_bytes == 0


# --------------------------------------------------------------------------------------------------------------------
# Prefetch and shutdown
# --------------------------------------------------------------------------------------------------------------------


def test_prefetch_encodes_the_neighbours(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec, prefetch_radius=2) as ladder:
        ladder.rung(5)
        assert ladder.prefetch(5) == (6, 4, 7, 3)
        assert ladder.wait_for_prefetch(TIMEOUT)
        assert {level: codec.calls[level] for level in (3, 4, 6, 7)} == {3: 1, 4: 1, 6: 1, 7: 1}
        assert codec.total_calls == 5
        before = ladder.cache_info()
        for level in (3, 4, 6, 7):
            ladder.rung(level)
        after = ladder.cache_info()
        assert after.hits == before.hits + 4 and after.misses == before.misses
        assert codec.total_calls == 5
        assert ladder.prefetch(5) == ()  # all neighbours known: nothing queued


def test_prefetch_order_follows_the_direction_of_travel_and_stops_at_the_ends(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec, prefetch_radius=2) as ladder:
        assert ladder.prefetch(8) == (9, 7, 10, 6)
        assert ladder.wait_for_prefetch(TIMEOUT)
        assert ladder.prefetch(3) == (2, 4, 1, 5)  # moving down: the lower side first
        assert ladder.wait_for_prefetch(TIMEOUT)
        assert codec.order == [9, 7, 10, 6, 2, 4, 1, 5]
    with Ladder(rgb, FakeCodec(levels=(10, 20, 30)), prefetch_radius=5) as ladder:
        assert ladder.prefetch(10) == (20, 30)
    with Ladder(rgb, FakeCodec(), prefetch_radius=0) as ladder:
        assert ladder.prefetch(5) == ()


def test_a_new_prefetch_drops_the_queued_jobs_of_the_previous_one(rgb: np.ndarray) -> None:
    codec = FakeCodec(levels=range(1, 21))
    gate = codec.gate(6)
    with Ladder(rgb, codec, prefetch_radius=2) as ladder:
        assert ladder.prefetch(5) == (6, 4, 7, 3)
        assert codec.started(6).wait(TIMEOUT)  # the worker is busy with 6; 4, 7, 3 are queued
        assert ladder.prefetch(15) == (16, 14, 17, 13)
        gate.set()
        assert ladder.wait_for_prefetch(TIMEOUT)
    assert codec.order == [6, 16, 14, 17, 13]
    assert codec.calls[4] == codec.calls[7] == codec.calls[3] == 0


def test_prefetch_errors_are_raised_on_direct_request(rgb: np.ndarray) -> None:
    codec = FakeCodec(fail_levels=(6,))
    with Ladder(rgb, codec, prefetch_radius=1) as ladder:
        assert ladder.prefetch(5) == (6, 4)  # does not raise
        assert ladder.wait_for_prefetch(TIMEOUT)
        assert codec.calls[6] == 1 and ladder.peek(4) is not None
        assert ladder.prefetch(5) == ()  # the kept error counts as known: not retried in the background
        with pytest.raises(CodecError, match="level 6"):
            ladder.rung(6)
        assert codec.calls[6] == 1  # the kept error, not a new encode
        with pytest.raises(CodecError, match="level 6"):
            ladder.rung(6)
        assert codec.calls[6] == 2  # raised once; the next request tries again


def test_a_request_joining_a_failing_prefetch_gets_the_error_once(rgb: np.ndarray) -> None:
    codec = FakeCodec(fail_levels=(6,))
    gate = codec.gate(6)
    with Ladder(rgb, codec, prefetch_radius=1) as ladder:
        ladder.prefetch(5)
        assert codec.started(6).wait(TIMEOUT)
        thread, outcome = run_in_thread(lambda: ladder.rung(6))
        assert wait_until(lambda: ladder.cache_info().hits == 1)
        gate.set()
        thread.join(TIMEOUT)
        assert isinstance(outcome.get("error"), CodecError)
        with pytest.raises(CodecError):
            ladder.rung(6)
        assert codec.calls[6] == 2  # the delivered error was not kept for a second raise


def test_close_stops_the_worker_and_leaves_no_threads(rgb: np.ndarray) -> None:
    before = threading.active_count()
    codec = FakeCodec()
    ladder = Ladder(rgb, codec)
    ladder.prefetch(5)
    assert ladder.wait_for_prefetch(TIMEOUT)
    assert threading.active_count() == before + 1  # the one prefetch worker
    ladder.close()
    assert threading.active_count() == before
    assert ladder.closed
    assert ladder.prefetch(2) == ()
    assert ladder.rung(9).level == 9  # direct requests still work, on this thread
    assert threading.active_count() == before
    ladder.close()  # twice is fine


def test_close_drops_queued_jobs_and_waits_for_the_running_one(rgb: np.ndarray) -> None:
    before = threading.active_count()
    codec = FakeCodec()
    gate = codec.gate(6)
    ladder = Ladder(rgb, codec)
    ladder.prefetch(5)
    assert codec.started(6).wait(TIMEOUT)
    closer, outcome = run_in_thread(ladder.close)
    assert wait_until(lambda: ladder.closed)
    assert closer.is_alive()  # waiting for the running encode of 6
    gate.set()
    closer.join(TIMEOUT)
    assert not closer.is_alive() and "error" not in outcome
    assert codec.order == [6]
    assert ladder.peek(6) is not None
    assert threading.active_count() == before


def test_context_manager_closes(rgb: np.ndarray) -> None:
    before = threading.active_count()
    with Ladder(rgb, FakeCodec()) as ladder:
        ladder.prefetch(3)
        ladder.wait_for_prefetch(TIMEOUT)
    assert ladder.closed
    assert threading.active_count() == before


# --------------------------------------------------------------------------------------------------------------------
# Iteration and the table
# --------------------------------------------------------------------------------------------------------------------


def test_iteration_is_lazy_and_in_level_order(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    with Ladder(rgb, codec) as ladder:
        assert len(ladder) == 10 and ladder.levels == tuple(range(1, 11))
        iterator = iter(ladder)
        assert codec.total_calls == 0
        assert next(iterator).level == 1
        assert codec.total_calls == 1
        assert [rung.level for rung in iterator] == list(range(2, 11))
        assert codec.order == list(range(1, 11))


def test_rungs_with_chosen_levels_and_progress(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    calls: list[tuple[int, int]] = []
    with Ladder(rgb, codec) as ladder:
        levels = [
            rung.level for rung in ladder.rungs([7, 3, 5], progress=lambda done, total: calls.append((done, total)))
        ]
    assert levels == [7, 3, 5]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    progress_all: list[tuple[int, int]] = []
    with Ladder(rgb, FakeCodec()) as ladder:
        list(ladder.rungs(progress=lambda done, total: progress_all.append((done, total))))
    assert progress_all == [(done, 10) for done in range(1, 11)]


def test_rungs_stop_when_cancelled(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 2:
            cancel.set()

    with Ladder(rgb, codec) as ladder:
        seen = []
        with pytest.raises(Cancelled):
            for rung in ladder.rungs(cancel=cancel, progress=progress):
                seen.append(rung.level)
    assert seen == [1, 2]
    assert codec.total_calls == 2


def test_table_rows(rgb: np.ndarray) -> None:
    progress: list[tuple[int, int]] = []
    with Ladder(rgb, JpegCodec()) as ladder:
        rows = ladder.table([20, 80], progress=lambda done, total: progress.append((done, total)))
        assert progress == [(1, 2), (2, 2)]
        assert [row["level"] for row in rows] == [20, 80]
        for row in rows:
            assert set(row) == {"level", "nbytes", "bpp", "psnr", "ssim", "encode_ms"}
            rung = ladder.rung(row["level"])
            assert row["nbytes"] == rung.nbytes
            assert row["bpp"] == pytest.approx(8 * rung.nbytes / (HEIGHT * WIDTH))
            assert row["psnr"] == metrics.psnr(rgb, rung.decoded)
            assert row["ssim"] == metrics.ssim(rgb, rung.decoded)
            assert row["encode_ms"] == pytest.approx(1000 * rung.encode_seconds)
        assert rows[0]["nbytes"] < rows[1]["nbytes"]
        assert rows[0]["psnr"] < rows[1]["psnr"] and rows[0]["ssim"] < rows[1]["ssim"]


def test_table_cancel(rgb: np.ndarray) -> None:
    codec = FakeCodec()
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 3:
            cancel.set()

    with Ladder(rgb, codec) as ladder, pytest.raises(Cancelled):
        ladder.table(cancel=cancel, progress=progress)
    assert codec.total_calls == 3
