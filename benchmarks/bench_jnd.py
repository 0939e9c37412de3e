"""Speed of the torch JND models on the CPU (and CUDA when present) against the NumPy/SciPy float64 reference.

Run from the repository root::

    .venv/bin/python benchmarks/bench_jnd.py
    .venv/bin/python benchmarks/bench_jnd.py --models wu2017 --sizes 512x512,1920x1080 --repeats 5

For every model and size it prints the median milliseconds per map of the torch model on the CPU (with
``--threads`` torch threads, 2 by default), of the reference ``tests/reference/numpy_jnd.py`` on the same input,
their ratio, the largest absolute difference of the two thresholds, and a CUDA column when torch sees a GPU.
Cells that have a target are marked PASS or MISS. Benchmarks are never part of the test run.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image as PilImage

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: the benchmarks package imports from the repository root
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.entry import run_script  # noqa: E402
from benchmarks.machine import cpu_model  # noqa: E402

DEFAULT_SHARED = REPO_ROOT.parent / "shared"
KODAK_SUBDIR = Path("data") / "images" / "kodak"
BENCH_IMAGE = "kodim23.png"

DEFAULT_SIZES = "512x512,1920x1080,3840x2160"
UHD_PIXELS = 3840 * 2160
#: Seconds of timed repeats aimed at per cell when --repeats is not given (at least MIN_REPEATS runs are made).
CELL_BUDGET_S = 2.0
MIN_REPEATS = 3
MAX_REPEATS = 50
#: A reference run slower than this is timed once (its first run is the measurement).
SLOW_REFERENCE_S = 1.0

#: Targets in ms at 1920x1080 on the CPU, and the smallest reference / torch ratio there.
CPU_TARGETS_MS = {"chou1995": 40.0, "yang2005": 40.0, "wu2017": 150.0, "wu2013": 1500.0}
CPU_TARGET_SIZE = (1920, 1080)
MIN_SPEEDUP = 5.0
#: GPU targets in ms at 3840x2160 (wu2013 has none).
GPU_TARGETS_MS = {"chou1995": 5.0, "yang2005": 5.0, "wu2017": 5.0}
GPU_TARGET_SIZE = (3840, 2160)


# ----------------------------------------------------------------------------------------------------------------
# Shared helpers (also used by noise_injection.py)
# ----------------------------------------------------------------------------------------------------------------


def ensure_repo_on_path() -> None:
    """Put the repository root first on ``sys.path`` so ``jndviewer`` and ``tests.reference`` import from it."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def kodak_dir(shared: Path | None) -> Path:
    """The Kodak folder under ``shared`` (``../shared`` beside the checkout when ``shared`` is None)."""
    return (shared if shared is not None else DEFAULT_SHARED) / KODAK_SUBDIR


def git_revision() -> str:
    """Short commit of the checkout, with ``+dirty`` when it has local changes; ``unknown`` without git."""
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def machine_lines() -> list[str]:
    """A few lines describing the command, the machine and the software versions."""
    import scipy

    cuda = "not available on this machine"
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        cuda = f"{', '.join(names)} (CUDA {torch.version.cuda})"
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return [
        f"command: {shlex.join([sys.executable, *sys.argv])}",
        f"date: {now}, jndviewer {git_revision()}",
        f"cpu: {cpu_model()}, {os.cpu_count()} logical cores",
        f"cuda: {cuda}",
        f"software: python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"numpy {np.__version__}, scipy {scipy.__version__}",
    ]


# ----------------------------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------------------------


def print_caveats(caveats: set[str]) -> None:
    """Under an evaluation table: once each, what the predictions said of themselves (``params.caveats``), to which
    the rows marked ⚠ refer."""
    if caveats:
        print("\n⚠ what those predictions said of themselves (params.caveats):\n"
              + "\n".join(f"  - {sentence}" for sentence in sorted(caveats)))


def mean_interval(values: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0
                  ) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (images resampled with replacement; fixed seed, so a
    table prints the same interval twice). With 24 Kodak images an MAE is uncertain by about a level: the interval
    says whether a figure is clearly on one side of a target."""
    data = np.asarray(values, dtype=np.float64)
    if data.size < 2:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, data.size, (resamples, data.size))
    means = data[draws].mean(axis=1)
    tail = 50.0 * (1.0 - level)
    return float(np.percentile(means, tail)), float(np.percentile(means, 100.0 - tail))


def fmt_interval(values: Sequence[float]) -> str:
    """``[low, high]`` of :func:`mean_interval`, 11 characters."""
    low, high = mean_interval(values)
    return f"[{low:4.1f},{high:4.1f}]"


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"512x512,1920x1080"`` -> ``[(512, 512), (1920, 1080)]`` as (width, height)."""
    sizes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or min(int(p) for p in parts) < 16:
            raise argparse.ArgumentTypeError(f"bad size {item!r}: use WIDTHxHEIGHT, e.g. 1920x1080 (sides >= 16)")
        sizes.append((int(parts[0]), int(parts[1])))
    return sizes


def parse_models(text: str) -> list[str]:
    """Comma-separated model names, checked against the registry."""
    ensure_repo_on_path()
    from jndviewer.core.jnd import MODELS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    return names


def synthetic_image(width: int = 768, height: int = 512, seed: int = 23) -> np.ndarray:
    """A natural-looking uint8 gray image: 1/f noise (random phase) plus a few hard-edged shapes."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    radius[0, 0] = 1.0
    spectrum = (rng.standard_normal(radius.shape) + 1j * rng.standard_normal(radius.shape)) / radius**1.3
    spectrum[0, 0] = 0.0
    field = np.fft.irfft2(spectrum, s=(height, width))
    image = 120.0 + 45.0 * field / field.std()
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(12):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        r = rng.uniform(0.03, 0.15) * min(height, width)
        level = rng.uniform(10, 245)
        if rng.random() < 0.5:
            shape = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        else:
            shape = (abs(yy - cy) < r) & (abs(xx - cx) < r)
        image = np.where(shape, 0.6 * level + 0.4 * image, image)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def base_image(shared: Path | None) -> tuple[np.ndarray, str]:
    """kodim23 as uint8 RGB, or a synthetic gray image when the shared data is absent (with a description)."""
    ensure_repo_on_path()
    from jndviewer.core.image import load

    path = kodak_dir(shared) / BENCH_IMAGE
    if path.is_file():
        return load(path).rgb8(), f"{path} (Pillow bicubic resize, BT.601 luma)"
    if shared is not None:
        sys.exit(f"bench_jnd: {path} not found; check --shared (the project's shared data folder).")
    return synthetic_image(), f"synthetic 1/f image ({path} not found; pass --shared PATH to use kodim23)"


def luma_at(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image resized with Pillow bicubic to (width, height), as float32 BT.601 luma in [0, 255]."""
    from jndviewer.core.image import rgb_to_luma

    resized = np.asarray(PilImage.fromarray(image).resize(size, PilImage.Resampling.BICUBIC))
    if resized.ndim == 2:
        return resized.astype(np.float32)
    return rgb_to_luma(resized).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Median seconds of ``runs`` timed calls; ``result`` is the last call's output."""

    median_s: float
    runs: int
    result: object = None

    @property
    def ms(self) -> float:
        """Median milliseconds."""
        return self.median_s * 1000.0


def timed_runs(fn: Callable[[], object], repeats: int | None, budget_s: float, sync: Callable[[], None]) -> Timing:
    """Median of timed calls: exactly ``repeats`` of them, else MIN_REPEATS to MAX_REPEATS within ``budget_s``."""
    times: list[float] = []
    result: object = None
    while True:
        sync()
        start = time.perf_counter()
        result = fn()
        sync()
        times.append(time.perf_counter() - start)
        if repeats is not None:
            if len(times) >= repeats:
                break
        elif len(times) >= MAX_REPEATS or (len(times) >= MIN_REPEATS and sum(times) >= budget_s):
            break
    return Timing(statistics.median(times), len(times), result)


def time_calls(
    fn: Callable[[], object], repeats: int | None, budget_s: float, sync: Callable[[], None], warmups: int = 1
) -> Timing:
    """``warmups`` untimed calls, then the median of the timed calls (``sync`` runs before and after each)."""
    for _ in range(warmups):
        sync()
        fn()
        sync()
    return timed_runs(fn, repeats, budget_s, sync)


def time_reference(fn: Callable[[], object], repeats: int | None, budget_s: float) -> Timing:
    """Time the NumPy reference: a slow one once; a fast one as warm-up plus repeats like the torch models."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    if first >= SLOW_REFERENCE_S:
        return Timing(first, 1, result)
    return timed_runs(fn, repeats, budget_s, no_sync)


def no_sync() -> None:
    """Nothing to wait for on the CPU."""


def device_sync(device: torch.device) -> Callable[[], None]:
    """A function that waits for the queued work of ``device``."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return torch.mps.synchronize
    return no_sync


# ----------------------------------------------------------------------------------------------------------------
# Table
# ----------------------------------------------------------------------------------------------------------------


def mark(ok: bool | None) -> str:
    """PASS / MISS / blank for a cell without target."""
    return "" if ok is None else ("PASS" if ok else "MISS")


def fmt_ms(timing: Timing | None, note: str = "-") -> str:
    """``"  12.34 (n=5)"`` or the note when the cell was not measured."""
    if timing is None:
        return note
    value = f"{timing.ms:.1f}" if timing.ms >= 100 else f"{timing.ms:.2f}"
    return f"{value} (n={timing.runs})"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--models", type=parse_models, default=None, help="comma-separated models (default: all)")
    parser.add_argument(
        "--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES), help=f"default {DEFAULT_SIZES}"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"timed runs per cell (default: {MIN_REPEATS} to {MAX_REPEATS}, as many as fit in --budget)",
    )
    parser.add_argument(
        "--budget", type=float, default=CELL_BUDGET_S, help=f"seconds of timed runs per cell (default {CELL_BUDGET_S})"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument(
        "--device", default="auto", help="GPU column: auto (CUDA/MPS if present), cpu (none), cuda, cuda:N or mps"
    )
    parser.add_argument("--shared", type=Path, default=None, help=f"shared data folder (default {DEFAULT_SHARED})")
    parser.add_argument("--reference-4k", action="store_true", help="also time the NumPy reference at >= 3840x2160")
    parser.add_argument("--wu2013-4k", action="store_true", help="also time wu2013 on the CPU at >= 3840x2160")
    parser.add_argument("--no-reference", action="store_true", help="skip the NumPy reference entirely")
    parser.add_argument(
        "--strip-rows",
        type=int,
        default=None,
        help="rows per strip of the local models on the CPU (default: the library's STRIP_ROWS; 0 = whole image)",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")

    ensure_repo_on_path()
    from jndviewer.core.device import describe_device, select_device
    from jndviewer.core.errors import DeviceError
    from jndviewer.core.jnd import MODELS, base, create_model
    from tests.reference import numpy_jnd

    torch.set_num_threads(args.threads)
    if args.strip_rows is not None:
        base.STRIP_ROWS = args.strip_rows
    models = args.models or list(MODELS)
    accel: torch.device | None = None
    accel_note = ""
    if args.device.strip().lower() == "cpu":
        accel_note = "gpu: not requested (--device cpu)"
    else:
        try:
            chosen = select_device(args.device)
        except DeviceError as err:
            sys.exit(f"bench_jnd: {err}")
        if chosen.type != "cpu":
            accel = chosen

    image, source = base_image(args.shared)
    for line in machine_lines():
        print(line)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5:
        print(f"WARNING: load average {load:.2f} before the run: other processes use the CPU, timings are unreliable")
    print(f"input: {source}")
    print(f"torch: CPU, {torch.get_num_threads()} threads, float32, border=replicate; median of n runs after 1 warm-up")
    print("reference: tests/reference/numpy_jnd.py, float64, single-threaded NumPy/SciPy; runs over 1 s timed once")
    if accel is not None:
        print(f"gpu: {describe_device(accel)}, float32; 3 warm-ups, synchronized before and after each run")
    elif accel_note:
        print(accel_note)
    print("targets: CPU at 1920x1080: chou1995, yang2005 <= 40 ms, wu2017 <= 150 ms, wu2013 <= 1.5 s, and each")
    print("         >= 5x faster than its NumPy reference; GPU at 3840x2160: all but wu2013 <= 5 ms")
    print()

    accel_name = accel.type if accel is not None else None
    header = f"{'model':<9} {'size':>9}  {'torch cpu ms':>16} {'':4}  {'numpy ref ms':>16}  {'ref/torch':>9} {'':4}"
    header += f"  {'max|Δ|':>8}"
    if accel_name:
        header += f"  {accel_name + ' ms':>16} {'':4}"
    print(header.rstrip())
    print("-" * len(header))

    misses = targeted = 0
    for width, height in args.sizes:
        luma = luma_at(image, (width, height))
        cpu_input = torch.from_numpy(luma)[None, None]
        ref_input = luma.astype(np.float64)
        accel_input = cpu_input.to(accel) if accel is not None else None
        is_uhd = width * height >= UHD_PIXELS
        for name in models:
            model = create_model(name, border="replicate")
            cpu_t: Timing | None = None
            cpu_note = "-"
            if name == "wu2013" and is_uhd and not args.wu2013_4k:
                cpu_note = "skipped"
            else:
                cpu_t = time_calls(functools.partial(model, cpu_input), args.repeats, args.budget, no_sync)

            ref_t: Timing | None = None
            ref_note = "-"
            if args.no_reference or (is_uhd and not args.reference_4k):
                ref_note = "skipped"
            else:
                fn = numpy_jnd.MODELS[name]
                ref_t = time_reference(functools.partial(fn, ref_input, border="replicate"), args.repeats, args.budget)

            ratio = ref_t.median_s / cpu_t.median_s if (ref_t and cpu_t) else None
            diff = None
            if ref_t and cpu_t:
                torch_thr = cpu_t.result.threshold[0, 0].double().numpy()  # type: ignore[attr-defined]
                diff = float(np.max(np.abs(torch_thr - ref_t.result["threshold"])))  # type: ignore[index]

            at_cpu_target = (width, height) == CPU_TARGET_SIZE and name in CPU_TARGETS_MS
            cpu_ok = cpu_t.ms <= CPU_TARGETS_MS[name] if (at_cpu_target and cpu_t) else None
            ratio_ok = ratio >= MIN_SPEEDUP if (at_cpu_target and ratio is not None) else None

            row = f"{name:<9} {f'{width}x{height}':>9}  {fmt_ms(cpu_t, cpu_note):>16} {mark(cpu_ok):4}"
            row += f"  {fmt_ms(ref_t, ref_note):>16}  {(f'{ratio:.1f}x' if ratio else '-'):>9} {mark(ratio_ok):4}"
            row += f"  {(f'{diff:.2g}' if diff is not None else '-'):>8}"
            gpu_ok = None
            if accel is not None:
                accel_model = create_model(name, border="replicate").to(accel)
                gpu_t: Timing | None = None
                try:
                    gpu_t = time_calls(
                        functools.partial(accel_model, accel_input), args.repeats, args.budget, device_sync(accel), 3
                    )
                except RuntimeError as err:  # out of memory, most likely: report it and go on
                    print(f"{name} {width}x{height} on {accel}: {str(err).splitlines()[0][:100]}", file=sys.stderr)
                if gpu_t is not None and (width, height) == GPU_TARGET_SIZE and name in GPU_TARGETS_MS:
                    gpu_ok = gpu_t.ms <= GPU_TARGETS_MS[name]
                row += f"  {fmt_ms(gpu_t, 'failed'):>16} {mark(gpu_ok):4}"
                del accel_model, gpu_t
            misses += sum(ok is False for ok in (cpu_ok, ratio_ok, gpu_ok))
            targeted += sum(ok is not None for ok in (cpu_ok, ratio_ok, gpu_ok))
            print(row.rstrip(), flush=True)
            del cpu_t, ref_t
        if accel is not None and accel.type == "cuda":
            torch.cuda.empty_cache()
    print()
    if not targeted:
        print("No measured cell has a target (they are at 1920x1080 on the CPU and 3840x2160 on a GPU).")
    else:
        print(f"{targeted - misses} of {targeted} measured targets PASS, {misses} MISS.")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
