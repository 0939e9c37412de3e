"""The study's flicker timing on a real window: how long each image stays on screen.

Run under Xvfb (or on a desktop)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_study_flicker.py --seconds 20

Opens the study window full screen on the shipped set's first image (flicker adjustment, the slider a third of the
way down the ladder), lets it flicker for ``--seconds`` and prints the intervals between switches as the window
repainted them (``StimulusView.switch_times``), next to a straightforward reference in the same run: a plain
``QTimer`` with a 125 ms interval toggling the same view. ``--log FILE`` writes every switch time (CSV). Target
(issue 17): median 125 ms, 95 % of the switches within 125 +- 17 ms (one 60 Hz frame).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def summary(name: str, switch_times: list[float]) -> str:
    intervals = np.diff(np.asarray(switch_times)) * 1000.0
    if len(intervals) == 0:
        return f"{name:40s} no switches"
    within = np.mean(np.abs(intervals - 125.0) <= 17.0)
    return (f"{name:40s} {len(intervals):6d} {np.median(intervals):8.1f} {intervals.mean():8.1f} "
            f"{np.percentile(intervals, 2.5):8.1f} {np.percentile(intervals, 97.5):8.1f} {within:10.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--log", type=Path, help="CSV of every switch time (seconds)")
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QTimer

    from jndviewer.app.main import create_app
    from jndviewer.app.study.window import StudyWindow
    from jndviewer.core.study.model import FLICKER_ADJUSTMENT, StudyConditions
    from jndviewer.core.study.session import StudyOptions, StudyRunner
    from jndviewer.core.study.sets import ItemImages, default_study_set
    from jndviewer.core.study.store import StudyStore

    app = create_app()
    screen = app.primaryScreen()
    refresh = float(screen.refreshRate() or 60.0)
    folder = Path(tempfile.mkdtemp(prefix="jndviewer-flicker-"))
    store = StudyStore(folder / "bench.sqlite")
    study_set = default_study_set()
    conditions = StudyConditions("flicker", 600.0, 0.27)
    runner = StudyRunner.start(store, "bench", FLICKER_ADJUSTMENT, study_set.name, list(study_set.items[:1]),
                               conditions, seed=1, options=StudyOptions(catch_same=0, catch_obvious=0))
    window = StudyWindow(runner, ItemImages)
    window.showFullScreen()
    for _ in range(30):
        window.step(1)

    def wait(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    wait(0.5)
    window.stimulus.switch_times.clear()
    wait(args.seconds)
    counted = list(window.stimulus.switch_times)

    # the reference: a plain 125 ms QTimer toggling the same view (default coarse timer, no frame counting)
    window.stimulus.stop()
    reference: list[float] = []
    toggle = QTimer()
    toggle.setInterval(125)
    view = window.stimulus

    def flip() -> None:
        view._distorted_phase = not view._distorted_phase
        view.repaint()
        reference.append(time.perf_counter())

    toggle.timeout.connect(flip)
    toggle.start()
    wait(args.seconds)
    toggle.stop()
    window.close()
    store.close()

    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"platform: {platform.platform()}, Qt platform {app.platformName()}, "
          f"DISPLAY={os.environ.get('DISPLAY', '')}, {os.cpu_count()} cores")
    print(f"screen: {screen.name()} {screen.geometry().width()}x{screen.geometry().height()}, "
          f"reported refresh {refresh:g} Hz, device-pixel ratio {screen.devicePixelRatio():g}")
    print(f"seconds per method: {args.seconds:g}; target: median 125 ms, 95 % within 125 +- 17 ms\n")
    print(f"{'method':40s} {'n':>6s} {'median':>8s} {'mean':>8s} {'p2.5':>8s} {'p97.5':>8s} {'within17':>10s}")
    print(summary("counted frames (the study window)", counted))
    print(summary("reference: QTimer(125 ms) toggling", reference))
    intervals = np.diff(counted) * 1000.0
    ok = len(intervals) and abs(np.median(intervals) - 125) <= 17 / 2 and np.mean(np.abs(intervals - 125) <= 17) >= .95
    print(f"\ntarget met: {'yes' if ok else 'no'}")
    if args.log:
        with args.log.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["method", "switch_seconds"])
            writer.writerows(("counted", f"{t:.6f}") for t in counted)
            writer.writerows(("reference", f"{t:.6f}") for t in reference)
        print(f"wrote {args.log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
