"""Responsiveness of the explorer: start-up time, level switches at 1080p, event-loop latency while scrubbing.

Run from the repository root (offscreen unless ``QT_QPA_PLATFORM`` says otherwise)::

    .venv/bin/python benchmarks/bench_gui.py
    .venv/bin/python benchmarks/bench_gui.py --startup-runs 3 --switches 20

* **Start-up**: wall time from launching ``python -m jndviewer`` (the bundled sample) to the main window's first
  paint (the app prints the time when ``JNDVIEWER_EXIT_AFTER_SHOW=1``); median of ``--startup-runs``. Target 2.5 s.
* **Level switch** at 1920x1080 (kodim23 resized, Pillow bicubic), side-by-side mode: from moving the level slider
  to the new frame being set on the ImageItem *and painted* (the pane is repainted synchronously), for a rung already
  in the ladder (target 16 ms) and for an uncached JPEG rung (cache cleared, prefetch and background jobs idle;
  target 60 ms). Median and maximum over ``--switches`` levels.
* **Event-loop latency** while the slider steps through all 100 JPEG levels of the 1080p image at about 30 Hz with
  the cache cleared: a 10 ms QTimer records how late each tick is; max and 99th percentile (target < 100 ms). Run
  twice: with the app idle, and right after opening the image (JND map, rate curve and prediction still running).

Timings are not asserted; they print as a table with the machine above it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.assets import sample_image  # noqa: E402

SAMPLE = sample_image()
STARTUP_TARGET_S = 2.5
CACHED_TARGET_MS = 16.0
UNCACHED_TARGET_MS = 60.0
LATENCY_TARGET_MS = 100.0


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


# --------------------------------------------------------------------------------------------------------------------
# Start-up
# --------------------------------------------------------------------------------------------------------------------


def startup_seconds(runs: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "JNDVIEWER_EXIT_AFTER_SHOW": "1", "XDG_CONFIG_HOME": config}
        for _ in range(runs):
            started = time.time()
            result = subprocess.run([sys.executable, "-m", "jndviewer", str(SAMPLE)], cwd=REPO, env=env,
                                    capture_output=True, text=True, timeout=120)  # fmt: skip
            shown = [line for line in result.stdout.splitlines() if line.startswith("jndviewer-shown ")]
            if result.returncode != 0 or not shown:
                raise SystemExit(f"start-up run failed:\n{result.stdout}\n{result.stderr}")
            times.append(float(shown[0].split()[1]) - started)
    return times


# --------------------------------------------------------------------------------------------------------------------
# In-process measurements
# --------------------------------------------------------------------------------------------------------------------


def wait_until(app, condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out waiting for the app")
        app.processEvents()
        time.sleep(0.001)


def image_1080p(folder: Path) -> Path:
    path = folder / "kodim23_1920x1080.png"
    Image.open(SAMPLE).convert("RGB").resize((1920, 1080), Image.Resampling.BICUBIC).save(path)
    return path


def open_window(app, path: Path, settings_file: Path):
    from PySide6.QtCore import QSettings

    from jndviewer.app.main_window import MainWindow
    from jndviewer.app.modes import CompareMode

    window = MainWindow(None, settings=QSettings(str(settings_file), QSettings.Format.IniFormat), restore=False)
    window.state.mode = CompareMode.SIDE_BY_SIDE
    window.state.threshold = 1.5  # no calibration needed
    window.resize(1600, 1000)
    window.show()
    window.open_path(path)
    wait_until(app, lambda: window.session.frame is not None)
    return window


def settle(app, window) -> None:
    """Cancel the background jobs (JND map, curve, prediction), wait until they stopped and the prefetch drained."""
    session = window.session
    session.cancel_all()
    wait_until(app, lambda: all(r.in_flight == 0 for r in session.runners), timeout=600)
    session.ladder.wait_for_prefetch(30)
    app.processEvents()


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def switch_ms(app, window, level: int) -> float:
    """Slider to ``level`` -> the frame set on pane B's ImageItem and painted."""
    from PySide6.QtCore import QEventLoop, QTimer

    session, controls, canvas = window.session, window.controls, window.canvas
    index = session.ladder_info.ordered.index(level)
    started = time.perf_counter()
    controls.level_slider.setValue(index)

    def shown() -> bool:  # ImageItem keeps a view of the array it was given
        frame, image = session.frame, canvas.item_b.image
        return frame is not None and frame.level == level and image is not None and _same_buffer(image, frame.rgb)

    if not shown():  # wait in an event loop (no busy polling that would compete with the worker for the GIL)
        loop = QEventLoop()
        session.frame_ready.connect(loop.quit)
        timer = QTimer.singleShot(30_000, loop.quit)
        while not shown():
            loop.exec()
        session.frame_ready.disconnect(loop.quit)
        del timer
    canvas.pane_b.graphics.viewport().repaint()
    return 1000.0 * (time.perf_counter() - started)


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def level_switches(app, window, count: int) -> tuple[list[float], list[float], list[float]]:
    session = window.session
    ladder = session.ladder
    levels = [int(v) for v in np.linspace(10, 95, count).round()]
    settle(app, window)
    for level in levels:  # cached: every rung in the ladder already
        ladder.rung(level)
    cached = [switch_ms(app, window, level) for level in levels]
    uncached, encode = [], []
    for level in levels:
        ladder.wait_for_prefetch(30)
        ladder.clear_cache()
        uncached.append(switch_ms(app, window, level))
        encode.append(session.frame.encode_ms)
    return cached, uncached, encode


def scrub_latency(app, window, interval_ms: int = 33) -> dict[str, float]:
    """Step the slider through every level at ~30 Hz while a 10 ms timer measures how late the event loop is."""
    from PySide6.QtCore import Qt, QTimer

    session, slider = window.session, window.controls.level_slider
    ticks: list[float] = []
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    shown: set[int] = set()
    session.frame_ready.connect(lambda frame: shown.add(frame.level))
    stepper = QTimer()
    stepper.setTimerType(Qt.TimerType.PreciseTimer)
    stepper.setInterval(interval_ms)
    position = {"index": 0}
    last = len(session.ladder_info.ordered) - 1

    def step() -> None:
        slider.setValue(position["index"])
        position["index"] += 1
        if position["index"] > last:
            stepper.stop()

    stepper.timeout.connect(step)
    slider.setValue(last)
    wait_until(app, lambda: session.frame is not None and session.frame.level == session.ladder_info.ordered[last])
    shown.clear()
    started = time.perf_counter()
    probe.start()
    stepper.start()
    target = session.ladder_info.ordered[last]
    wait_until(app, lambda: not stepper.isActive() and session.frame is not None and session.frame.level == target
               and position["index"] > last, timeout=300)  # fmt: skip
    finished = time.perf_counter()
    probe.stop()
    lateness = np.diff(np.array(ticks)) * 1000.0 - 10.0
    return {
        "max": float(lateness.max()),
        "p99": float(np.percentile(lateness, 99)),
        "shown": float(len(shown)),
        "seconds": finished - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--switches", type=int, default=20)
    args = parser.parse_args()

    for line in machine_lines():
        print(line)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"load average: {load:.2f} ({os.cpu_count()} cores); Qt platform: {os.environ['QT_QPA_PLATFORM']}")
    print()
    rows: list[tuple[str, str, str, str]] = []

    progress("start-up runs")
    startup = startup_seconds(args.startup_runs)
    median = statistics.median(startup)
    rows.append(("start-up to first paint (sample.png)", f"{median:.2f} s (runs: "
                 f"{', '.join(f'{t:.2f}' for t in startup)})", f"≤ {STARTUP_TARGET_S} s",
                 verdict(median, STARTUP_TARGET_S)))  # fmt: skip

    from jndviewer.app.main import create_app

    app = create_app()
    with tempfile.TemporaryDirectory() as folder:
        path = image_1080p(Path(folder))
        progress("opening the 1080p image")
        window = open_window(app, path, Path(folder) / "settings.ini")
        progress("level switches")
        cached, uncached, encode = level_switches(app, window, args.switches)
        for name, values, target in (("cached", cached, CACHED_TARGET_MS), ("uncached JPEG", uncached,
                                                                            UNCACHED_TARGET_MS)):
            med = statistics.median(values)
            extra = f" (encode+decode {statistics.median(encode):.1f} ms)" if values is uncached else ""
            rows.append((f"level switch 1920x1080, {name}", f"{med:.1f} ms median, {max(values):.1f} ms max{extra}",
                         f"≤ {target:.0f} ms", verdict(med, target)))  # fmt: skip
        window.session.ladder.clear_cache()
        progress("scrubbing, idle app")
        idle = scrub_latency(app, window)
        rows.append(("event-loop latency, scrubbing 100 levels (idle app)",
                     f"max {idle['max']:.1f} ms, p99 {idle['p99']:.1f} ms; {idle['shown']:.0f} frames shown "
                     f"in {idle['seconds']:.1f} s", f"< {LATENCY_TARGET_MS:.0f} ms",
                     verdict(idle["max"], LATENCY_TARGET_MS)))  # fmt: skip
        window.close()

        progress("scrubbing right after opening")
        window = open_window(app, path, Path(folder) / "settings.ini")  # jobs of a fresh image still running
        busy = scrub_latency(app, window)
        progress("closing")
        rows.append(("event-loop latency, scrubbing right after opening",
                     f"max {busy['max']:.1f} ms, p99 {busy['p99']:.1f} ms; {busy['shown']:.0f} frames shown "
                     f"in {busy['seconds']:.1f} s", f"< {LATENCY_TARGET_MS:.0f} ms",
                     verdict(busy["max"], LATENCY_TARGET_MS)))  # fmt: skip
        window.close()

    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measurement", "result", "target", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
