"""Answer-to-disk latency of the study database: how long :meth:`StudyStore.record_trial` takes per answered trial.

Each trial is written as the study writes it: its own transaction in WAL mode with ``synchronous=FULL`` (the answer
is on disk when the call returns). Every third trial carries a flicker adjustment's slider trace of 200
``(seconds, position)`` pairs, and every tenth ends a run (its result goes in the same transaction). The target is a
p99 under 50 ms per trial, well inside the pause between two answers.

The plain reference in the same run writes the same rows through the same code into a second database with
``synchronous=OFF`` and no per-trial transaction (one ``BEGIN`` before the first trial, one ``COMMIT`` after the
last): what the writes cost without the durability. The ratio is the price of never losing an answer.

The database lies on the disk the timing is about: by default a temporary folder under the current directory
(``/tmp`` is often a RAM disk, where an fsync costs nothing); ``--db-dir`` picks another. The folder's file system is
printed with the results.

Usage: .venv/bin/python benchmarks/bench_study_store.py [--trials 500] [--db-dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from benchmarks.machine import cpu_model  # noqa: E402
from jndviewer.core.study.model import (  # noqa: E402
    FLICKER_ADJUSTMENT,
    RunResult,
    RunSpec,
    StudyConditions,
    StudyItem,
    Trial,
)
from jndviewer.core.study.store import StudyStore  # noqa: E402

TARGET_P99_MS = 50.0
RUN_LENGTH = 10
ITEM = StudyItem("kodim04-face", "package:kodim04-face.png", "jpeg", tuple(range(1, 101)), "higher", "kodim04")
CONDITIONS = StudyConditions("flicker", 600.0, 0.25, 342.4)




def file_system(path: Path) -> str:
    """The mount holding ``path``: mount point, type and device (Linux ``/proc/mounts``)."""
    path = path.resolve()
    best = None
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            mount = mount.replace("\\040", " ")
            if path.is_relative_to(mount) and (best is None or len(mount) > len(best[1])):
                best = (device, mount, kind)
    except OSError:
        pass
    return f"{best[1]} ({best[2]}, {best[0]})" if best else "unknown"


def make_trials(count: int, seed: int) -> list[tuple[Trial, RunResult | None]]:
    """Trials of a flicker-adjustment session: runs of ten, a 200-point slider trace on every third trial."""
    rng = random.Random(seed)
    trials = []
    clock = 0.0
    for index in range(count):
        run, step = divmod(index, RUN_LENGTH)
        trace: tuple[tuple[float, int], ...] = ()
        if index % 3 == 0:
            position, points = rng.randrange(100), []
            for i in range(200):
                position = min(99, max(0, position + rng.choice((-2, -1, 0, 1, 2))))
                points.append((round(clock + 0.016 * i, 3), position))
            trace = tuple(points)
        level = rng.randrange(1, 101)
        trial = Trial(run, step, level, rng.choice(("visible", "none")), None, clock, clock + rng.uniform(1, 8), trace,
                      {"start": rng.randrange(100), "direction": rng.choice((-1, 1))})
        result = None
        if step == RUN_LENGTH - 1:
            result = RunResult("", "bench", run, ITEM, "test", FLICKER_ADJUSTMENT, "flicker", CONDITIONS.ppd, level,
                               None, {"adjustments": step + 1})
        trials.append((trial, result))
        clock += 10.0
    return trials


def start(store: StudyStore, runs: int) -> str:
    return store.start_session("bench", FLICKER_ADJUSTMENT, "bench", 1, CONDITIONS, [RunSpec(ITEM)] * runs)


def timed_writes(store: StudyStore, session: str, trials: list[tuple[Trial, RunResult | None]]) -> list[float]:
    times = []
    for trial, result in trials:
        began = time.perf_counter()
        store.record_trial(session, trial, result)
        times.append(time.perf_counter() - began)
    return times


def durable(path: Path, trials: list[tuple[Trial, RunResult | None]], warmup: int) -> tuple[list[float], float]:
    with StudyStore(path) as store:
        session = start(store, len(trials) // RUN_LENGTH + 2)
        timed_writes(store, start(store, warmup // RUN_LENGTH + 2), trials[:warmup])
        began = time.perf_counter()
        times = timed_writes(store, session, trials)
        return times, time.perf_counter() - began


def plain(path: Path, trials: list[tuple[Trial, RunResult | None]], warmup: int) -> tuple[list[float], float]:
    """The same rows through the same code, with ``synchronous=OFF`` and one transaction around all of them."""
    with StudyStore(path) as store:
        session = start(store, len(trials) // RUN_LENGTH + 2)
        timed_writes(store, start(store, warmup // RUN_LENGTH + 2), trials[:warmup])
        db: sqlite3.Connection = store._db
        db.execute("PRAGMA synchronous=OFF")

        @contextmanager
        def no_transaction() -> Iterator[sqlite3.Connection]:
            yield db

        store._transaction = no_transaction  # type: ignore[method-assign]
        began = time.perf_counter()
        db.execute("BEGIN")
        times = timed_writes(store, session, trials)
        db.execute("COMMIT")
        return times, time.perf_counter() - began


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def row(name: str, times: list[float], total: float) -> tuple[str, float, float, float, float, float]:
    ms = [1000 * t for t in times]
    return name, statistics.median(ms), percentile(ms, 0.95), percentile(ms, 0.99), max(ms), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=10, help="untimed trials first, in a session of their own")
    parser.add_argument("--db-dir", type=Path, default=None,
                        help="folder for the databases (default: a temporary folder under the current directory)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.trials < RUN_LENGTH:
        parser.error(f"--trials must be at least {RUN_LENGTH}")
    if args.db_dir is not None:
        args.db_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".bench_study_store-", dir=args.db_dir or Path.cwd()))
    trials = make_trials(args.trials, args.seed)
    traced = sum(1 for trial, _ in trials if trial.trace)

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"cpu: {cpu_model()}, {os.cpu_count()} logical cores, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"software: python {platform.python_version()}, sqlite {sqlite3.sqlite_version}")
    print(f"databases: {folder}")
    print(f"file system: {file_system(folder)}")
    print(f"trials: {len(trials)} ({traced} with a 200-point slider trace, a run result every {RUN_LENGTH}), "
          f"{args.warmup} warm-up trials first")
    print()

    try:
        rows = [
            row("record_trial: WAL, synchronous=FULL, one transaction per trial", *durable(
                folder / "durable.sqlite", trials, args.warmup)),
            row("reference: synchronous=OFF, one commit at the end", *plain(folder / "plain.sqlite", trials,
                                                                            args.warmup)),
        ]
    finally:
        if not args.keep:
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()

    width = max(len(r[0]) for r in rows)
    print(f"{'writer':<{width}}  {'median ms':>9}  {'p95 ms':>8}  {'p99 ms':>8}  {'max ms':>8}  {'total s':>8}")
    for name, median, p95, p99, worst, total in rows:
        print(f"{name:<{width}}  {median:9.3f}  {p95:8.3f}  {p99:8.3f}  {worst:8.3f}  {total:8.3f}")
    (_, median, _, p99, _, total), (_, ref_median, _, ref_p99, _, ref_total) = rows
    print(f"ratio durable / reference: median {ratio(median, ref_median)}, p99 {ratio(p99, ref_p99)}, "
          f"total {ratio(total, ref_total)}")
    verdict = "PASS" if p99 < TARGET_P99_MS else "MISS"
    print(f"target p99 < {TARGET_P99_MS:.0f} ms per trial: {verdict} ({p99:.2f} ms)")


if __name__ == "__main__":
    raise SystemExit(run_script(main))
