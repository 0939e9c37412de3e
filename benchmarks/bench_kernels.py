"""The compiled CPU kernels (``jndviewer/core/jnd/kernels.py``) against the eager torch code they replace,
interleaved in one process.

Each model's whole map (and each kernel's operator alone) is timed with the kernels and with the torch path
(``kernels.use_kernels`` switched off), alternately, run after run, so that the drift of a shared machine hits both
alike; prints the medians, their ratio and the largest difference between the two maps. Run from the repository
root::

    .venv/bin/python benchmarks/bench_kernels.py [--size 1920x1080] [--repeats 10] [--threads 2]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_strips import timing_arguments, timing_input  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.jnd import canny, create_model, kernels, ops, wu2013  # noqa: E402

EAGER_ONLY = staticmethod(lambda x: False)


def interleaved(run: Callable[[], object], repeats: int) -> tuple[float, float, object, object]:
    """Median ms with the kernels and with the torch path, and the last result of each."""
    compiled = kernels.use_kernels
    times: dict[str, list[float]] = {"kernels": [], "torch": []}
    results: dict[str, object] = {}
    for way, switch in (("kernels", compiled), ("torch", EAGER_ONLY)):  # warm-up (and compile)
        kernels.use_kernels = switch
        results[way] = run()
    for _ in range(repeats):
        for way, switch in (("kernels", compiled), ("torch", EAGER_ONLY)):
            kernels.use_kernels = switch
            started = time.perf_counter()
            results[way] = run()
            times[way].append(1000 * (time.perf_counter() - started))
    kernels.use_kernels = compiled
    return statistics.median(times["kernels"]), statistics.median(times["torch"]), results["kernels"], results["torch"]


def largest_difference(a: object, b: object) -> float:
    pairs = zip(a, b, strict=True) if isinstance(a, tuple) else [(a, b)]
    return max(float((x - y).abs().max()) for x, y in pairs)  # type: ignore[operator, union-attr]


def main() -> int:
    args = timing_arguments(__doc__.split("\n\n")[0], repeats=10).parse_args()
    source, width, height, x = timing_input(args)
    print(f"input: {source.name} at {width}x{height}, {args.threads} threads, medians of interleaved runs")
    print(f"{'what':28s} {'kernels ms':>11s} {'torch ms':>9s} {'ratio':>6s} {'max |diff|':>11s}")
    params = wu2013.Wu2013Params()
    operators: dict[str, Callable[[], object]] = {
        "canny_gradients": lambda: canny.canny_gradients(x),
        "background_luminance": lambda: ops.background_luminance(x, "replicate"),
        "max_weighted_gradient": lambda: ops.max_weighted_gradient(x, "replicate"),
        "gaussian_blur 7x7": lambda: ops.gaussian_blur(x, 7, 0.8, "replicate"),
        "wu2013 AR prediction": lambda: wu2013.autoregressive_prediction(x, params),
    }
    for name in ("chou1995", "yang2005", "wu2017", "wu2013"):
        model = create_model(name)
        operators[f"{name} (whole map)"] = lambda model=model: model(x).threshold
    for what, run in operators.items():
        repeats = max(3, args.repeats // 3) if "wu2013" in what else args.repeats
        fast, eager, a, b = interleaved(run, repeats)
        print(f"{what:28s} {fast:11.1f} {eager:9.1f} {eager / fast:5.2f}x {largest_difference(a, b):11.2g}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
