"""The explorer on a very large image: time to the first frame, time until idle, and the peak memory.

Run from the repository root (offscreen unless ``QT_QPA_PLATFORM`` says otherwise)::

    .venv/bin/python benchmarks/bench_large_image.py                        # 12000x9000, 8 GB address-space cap
    .venv/bin/python benchmarks/bench_large_image.py --size 6000x4500 --timeout 1200

The parent generates a noise-and-gradient PNG of ``--size`` (kept in ``--folder`` for the next run) and opens the
explorer on it in a child process (``python bench_large_image.py --child IMAGE``) whose address space is capped
with ``RLIMIT_AS`` (``--mem-cap-gb``) and which is killed after ``--timeout`` seconds. The child starts a window
with fresh settings (the default codec, level, predictors and viewing condition) on the image and reports, from
the moment the window was made:

* **first frame**: the reference set on the canvas and painted (a synchronous repaint of pane A), counted from the
  window's construction with the image (as ``jndviewer IMAGE`` opens it);
* **level shown**: the current level's encode set on pane B and painted;
* each background job's end: the JND map, the last rate-curve point, every prediction (or its failure);
* **idle**: no job running or waiting any more (``Session.busy`` false for half a second);
* with ``--full-resolution`` (default on), after idle: the visibility mode at 100 % zoom and the time until the
  full-resolution maps of the visible region are shown (only where the explorer has them).

The peak memory is the child's ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, as the child prints it and as the
parent reads it from ``RUSAGE_CHILDREN`` (the same number unless the child was killed). Timings are not asserted;
they print with the date, ``uptime`` and the machine above them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks.entry import run_script  # noqa: E402

FIRST_FRAME_TARGET_S = 10.0
PEAK_TARGET_GB = 6.0
EVENT = "bench-event "


# --------------------------------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------------------------------


def make_image(path: Path, width: int, height: int) -> None:
    """A noise-and-gradient RGB PNG (fast zlib level), written strip by strip in a bounded amount of memory."""
    from PIL import Image

    rng = np.random.default_rng(1)
    image = np.empty((height, width, 3), np.uint8)
    x = np.arange(width, dtype=np.float32) / width
    for top in range(0, height, 512):
        rows = min(512, height - top)
        y = (np.arange(top, top + rows, dtype=np.float32) / height)[:, None]
        strip = np.empty((rows, width, 3), np.float32)
        strip[..., 0] = 40 + 180 * x[None, :]
        strip[..., 1] = 60 + 150 * y
        strip[..., 2] = 200 - 120 * x[None, :] + 40 * np.sin(25 * y)
        strip += rng.normal(0, 18, strip.shape).astype(np.float32)
        image[top : top + rows] = np.clip(strip, 0, 255).astype(np.uint8)
    Image.fromarray(image).save(path, compress_level=1)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "(uptime not available)"


def run_child(image: Path, cap_gb: float, timeout: float, full_resolution: bool) -> tuple[dict, int, str]:
    cap = int(cap_gb * 1024**3)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "XDG_CONFIG_HOME": config, "QT_QPA_PLATFORM": os.environ["QT_QPA_PLATFORM"]}
        command = [sys.executable, __file__, "--child", str(image), "--settings", str(Path(config) / "bench.ini")]
        if not full_resolution:
            command.append("--no-full-resolution")
        events: dict = {}
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, preexec_fn=limit)  # fmt: skip
        try:
            out, err = process.communicate(timeout=timeout)
            status = f"exit {process.returncode}"
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            status = f"killed after the {timeout:g} s timeout"
        for line in out.splitlines():
            if line.startswith(EVENT):
                name, _, value = line[len(EVENT) :].partition(" ")
                events[name] = json.loads(value)
        if process.returncode not in (0, None) and "killed" not in status:
            status += f"; stderr tail: {err.strip()[-600:]}"
        maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return events, maxrss_kb, status


def parent(args: argparse.Namespace) -> int:
    from benchmarks.bench_jnd import machine_lines

    width, height = (int(v) for v in args.size.lower().split("x"))
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / f"noise_gradient_{width}x{height}.png"
    if not image.exists():
        started = time.perf_counter()
        make_image(image, width, height)
        print(f"generated {image} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for line in machine_lines():
        print(line)
    print(f"uptime: {uptime()}")
    print(f"image: {image.name}, {width}x{height} = {width * height / 1e6:.1f} MP, {image.stat().st_size / 1e6:.0f} MB")
    print(f"child: address space capped at {args.mem_cap_gb:g} GB, timeout {args.timeout:g} s")
    events, maxrss_kb, status = run_child(image, args.mem_cap_gb, args.timeout, args.full_resolution)
    print(f"child: {status}")
    print(f"uptime after: {uptime()}")
    print()
    print(f"{'event':42s} {'s after the window':>18s}")
    for name, value in sorted(events.items(), key=lambda item: item[1].get("t", 1e9)):
        if "t" in value:
            extra = value.get("note", "")
            print(f"{name:42s} {value['t']:18.2f}   {extra}")
    first = events.get("first_frame", {}).get("t")
    idle = events.get("idle", {}).get("t")
    peak_gb = maxrss_kb / 1024**2
    child_peak = events.get("done", {}).get("maxrss_kb")
    print()
    print(f"time to first frame: {_s(first)}  (target {FIRST_FRAME_TARGET_S:g} s: "
          f"{'PASS' if first is not None and first <= FIRST_FRAME_TARGET_S else 'MISS'})")  # fmt: skip
    start = events.get("started", {}).get("since_launch")
    if first is not None and start is not None:
        print(f"  from the child's launch (with the imports and the QApplication): {start + first:.2f} s")
    print(f"time until idle: {_s(idle)}")
    print(f"peak RSS (child, ru_maxrss): {peak_gb:.2f} GB (target {PEAK_TARGET_GB:g} GB: "
          f"{'PASS' if peak_gb <= PEAK_TARGET_GB else 'MISS'})"
          + (f"; as the child printed it {child_peak / 1024**2:.2f} GB" if child_peak else ""))  # fmt: skip
    if "scale" in events:
        print(f"explorer: {events['scale'].get('note', '')}")
    return 0


def _s(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.2f} s"


# --------------------------------------------------------------------------------------------------------------------
# Child: the explorer
# --------------------------------------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    launched = time.time()
    from PySide6.QtCore import QSettings

    from jndviewer.app.main import create_app
    from jndviewer.app.main_window import MainWindow
    from jndviewer.app.modes import CompareMode

    app = create_app()
    t0 = time.perf_counter()  # as `jndviewer IMAGE`: the window is made with the image to open
    before_window = time.time() - launched  # imports and the QApplication
    window = MainWindow(args.child, settings=QSettings(args.settings, QSettings.Format.IniFormat), restore=False)
    window.resize(1440, 920)
    window.show()
    session, canvas = window.session, window.canvas
    seen: set[str] = set()

    def event(name: str, **extra: object) -> None:
        if name in seen:
            return
        seen.add(name)
        value = {"t": round(time.perf_counter() - t0, 3), "rss_mb": round(_rss_mb()), **extra}
        value["note"] = f"{extra.get('note', '')} (RSS {value['rss_mb']} MB)".strip()
        print(EVENT + name + " " + json.dumps(value), flush=True)

    def painted(pane: object) -> None:
        pane.graphics.viewport().repaint()  # type: ignore[attr-defined]

    def on_image(loaded: object) -> None:
        painted(canvas.pane_a)
        height, width = loaded.rgb.shape[:2]  # type: ignore[attr-defined]
        event("first_frame", note=f"{width}x{height}, load job {loaded.seconds:.2f} s")  # type: ignore[attr-defined]
        scale = getattr(session, "scale_note", None)
        if callable(scale):
            event("scale", note=scale())

    def on_frame(frame: object) -> None:
        painted(canvas.pane_b)
        event("level_shown", note=f"level {frame.level}, encode {frame.encode_ms:.0f} ms")  # type: ignore[attr-defined]

    def on_curve(point: dict) -> None:
        info = session.ladder_info
        if info is not None and len(session.curve) >= len(info.curve_levels):
            event("curve_done", note=f"{len(session.curve)} levels")

    session.image_loaded.connect(on_image)
    session.frame_ready.connect(on_frame)
    session.jnd_ready.connect(
        lambda r: event(
            "jnd_map",
            note=f"{r.model}, map {r.threshold.shape[1]}x{r.threshold.shape[0]} at {r.scorer.condition.ppd:.3g} ppd",
        )
    )
    session.curve_point.connect(on_curve)
    session.prediction_ready.connect(lambda name, r: event(f"prediction_{name}", note=f"level {r.level}"))
    session.prediction_failed.connect(lambda name, message, _: event(f"prediction_{name}", note=message[:80]))
    print(EVENT + "started " + json.dumps({"since_launch": round(before_window, 3)}), flush=True)
    quiet_since: float | None = None
    while True:
        app.processEvents()
        time.sleep(0.02)
        busy = session.loaded is None or session.ladder is None or session.busy
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since > 0.5:
            break
    event("idle")
    if args.full_resolution:
        window.state.mode = CompareMode.VISIBILITY
        canvas.one_to_one()
        full = getattr(window, "full_resolution", None)
        if full is not None:
            started = time.perf_counter()
            full.request()
            while full.busy or session.busy:
                app.processEvents()
                time.sleep(0.02)
            shown = full.shown_region()
            note = "no region" if shown is None else f"region {shown[2]}x{shown[3]} at ({shown[0]}, {shown[1]})"
            note += f", {time.perf_counter() - started:.2f} s after the request"
            event("full_resolution_region", note=note)
    window.close()
    app.processEvents()
    print(EVENT + "done " + json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
    return 0


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="12000x9000", help="WIDTHxHEIGHT of the generated image (12000x9000)")
    parser.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "jndviewer-bench-large"),
                        help="where the generated image is kept between runs")  # fmt: skip
    parser.add_argument("--mem-cap-gb", type=float, default=8.0, help="address-space cap of the child (8 GB)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before the child is killed (900)")
    parser.add_argument("--no-full-resolution", dest="full_resolution", action="store_false",
                        help="skip the full-resolution region at 100 %% zoom after idle")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    raise SystemExit(run_script(main))
