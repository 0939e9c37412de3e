"""Whole-process time of ``jndviewer map`` on the bundled sample (768x512), and where it goes.

Part 1 runs ``jndviewer map jndviewer/assets/sample.png --model M -o TMP`` as a fresh process ``--repeats`` times per
model and way: ``auto`` (what a user gets), ``numpy`` (``--engine numpy``: the model's NumPy form, torch never
imported), ``kernels`` (``--engine torch`` with ``JNDVIEWER_KERNELS=1``: numba imported and the compiled kernels
loaded from its cache) and ``torch`` (``--engine torch``, ``JNDVIEWER_KERNELS=0``), next to the floors ``python -c
pass`` and ``python -c "import torch"`` (also ended by ``os._exit``: interpreter shutdown after importing torch takes
about 0.25 s, which ``jndviewer map`` mostly skips by freezing the heap at exit). The rows are interleaved run by run,
so that the drift of a shared machine hits all alike; the table shows the median and the minimum wall time. A way a
model does not have (wu2013 has no NumPy form) is left out.

``--before DIR`` adds a row per model for another checkout (``python -m jndviewer map`` run inside DIR, whose
``jndviewer`` package then comes first on the path), e.g. the code before a change: ``git archive HEAD jndviewer |
tar -x -C DIR``, then warm its kernels' cache once (``cd DIR && python -c "from jndviewer.core.jnd import warm_up;
warm_up()"``).

Part 2 repeats the map's steps in a fresh process with a clock between them: python start (launch to the first
line), ``import torch`` (not for ``numpy``), importing the models (``jndviewer.core.jnd`` or its ``numpy_models``),
importing the numba kernels (``kernels`` only), loading the image, the first model call (for ``kernels``: numba's
on-disk cache loaded here), a second call, render + save, and the process exit. Medians over the repeats.

``--crossover`` instead times, per model and image size, one map in a fresh process each way, from before the
model's imports (torch's included) to the map, which sets ``ONE_SHOT_NUMPY_UP_TO`` in
``jndviewer/core/jnd/numpy_models.py`` (numpy against torch) and ``ONE_SHOT_TORCH_BELOW`` in
``jndviewer/core/jnd/compiled.py`` (torch against kernels).

Run from the repository root (the machine load is printed with the results; timings on a busy machine drift)::

    .venv/bin/python benchmarks/bench_map_startup.py [--models wu2017,chou1995] [--repeats 7]
    .venv/bin/python benchmarks/bench_map_startup.py --crossover [--sizes 768x512,1920x1080] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jndviewer.core.jnd.numpy_models import NUMPY_MODELS

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "jndviewer" / "assets" / "sample.png"
DEFAULT_MODELS = ("wu2017", "chou1995", "yang2005", "wu2013")
#: Each way: the ``map`` options and the JNDVIEWER_KERNELS setting (None: unset).
WAYS: dict[str, tuple[list[str], str | None]] = {
    "auto": ([], None),
    "numpy": (["--engine", "numpy"], None),
    "kernels": (["--engine", "torch"], "1"),
    "torch": (["--engine", "torch"], "0"),
}


#: The child of part 2: the steps of ``jndviewer.cli.run_map`` with a clock between them. argv: launch time
#: (``time.time()`` in the parent), model, way, output path, image path.
PHASES_CHILD = r"""
import time
t = [time.time()]
import sys
launched, model_name, way, output, image_path = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
from pathlib import Path
if way == "numpy":
    t.append(time.time())
    from jndviewer.core.jnd.numpy_models import compute_map
    t.append(time.time())
    t.append(time.time())
    from jndviewer.core.image import load
    luma = load(image_path).luma()
    t.append(time.time())
    compute_map(model_name, luma)
    t.append(time.time())
    threshold = compute_map(model_name, luma)[0]
    t.append(time.time())
else:
    import torch
    t.append(time.time())
    from jndviewer.core.jnd import compiled, create_model
    t.append(time.time())
    if way == "kernels":
        import jndviewer.core.jnd.kernels
    t.append(time.time())
    from jndviewer.core.device import select_device
    from jndviewer.core.image import load, luma_tensor
    device = select_device("cpu")
    image = load(image_path)
    luma = luma_tensor(image, device=device)
    model = create_model(model_name)
    t.append(time.time())
    compiled.set_enabled(way == "kernels")
    model(luma)
    t.append(time.time())
    threshold = model(luma).threshold[0, 0].numpy()
    t.append(time.time())
    import atexit, gc
    atexit.register(gc.freeze)  # as run_map does
from jndviewer.core.render import save_map
save_map(threshold, Path(output), title="bench")
t.append(time.time())
print(" ".join(repr(v) for v in [launched, *t]), flush=True)
"""
PHASES = (
    "python start", "import torch", "import the models", "import numba kernels", "image load",
    "first call", "second call", "render+save", "exit",
)  # fmt: skip

#: The child of ``--crossover``: one map of the sample resized to W x H, timed from before the model's imports.
CROSSOVER_CHILD = r"""
import sys, time
import numpy as np
from PIL import Image
model_name, way, width, height, image_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
picture = Image.open(image_path).convert("L").resize((width, height), Image.Resampling.BICUBIC)
plane = np.asarray(picture, dtype=np.float32).copy()
start = time.perf_counter()
if way == "numpy":
    from jndviewer.core.jnd.numpy_models import compute_map
    compute_map(model_name, plane)
else:
    import torch
    from jndviewer.core.jnd import compiled, create_model
    compiled.set_enabled(way == "kernels")
    if way == "kernels":
        import jndviewer.core.jnd.kernels
    create_model(model_name)(torch.from_numpy(plane)[None, None])
print(time.perf_counter() - start, flush=True)
"""


def load_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        one, five, fifteen = os.getloadavg()
        return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def environment(kernels: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("JNDVIEWER_KERNELS", None)
    if kernels is not None:
        env["JNDVIEWER_KERNELS"] = kernels
    return env


def ways_of(model: str, ways: tuple[str, ...]) -> list[str]:
    """The ways ``model`` has (no ``numpy`` without a NumPy form)."""
    return [way for way in ways if way != "numpy" or model in NUMPY_MODELS]


def jndviewer_command() -> list[str]:
    script = Path(sys.executable).with_name("jndviewer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jndviewer"]


def timed(command: list[str], env: dict[str, str], cwd: Path = REPO) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def whole_process(models: list[str], repeats: int, scratch: Path, before: Path | None) -> None:
    floors = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "  same, exit skipped": [sys.executable, "-c", "import os, torch; os._exit(0)"],
    }
    runs: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeats):  # every row once per round, so that drift spreads over all of them
        for label, command in floors.items():
            runs.setdefault((label, ""), []).append(timed(command, environment(None)))
        for model in models:
            arguments = ["map", str(SAMPLE), "--model", model, "-o", str(scratch / "m.png")]
            if before is not None:  # python -m from inside that checkout imports its jndviewer, not this one
                command = [sys.executable, "-m", "jndviewer", *arguments]
                runs.setdefault((model, "before"), []).append(timed(command, environment(None), before))
            for way in ways_of(model, tuple(WAYS)):
                options, kernels = WAYS[way]
                command = [*jndviewer_command(), *arguments, *options]
                runs.setdefault((model, way), []).append(timed(command, environment(kernels)))
    print(f"\nWhole process, {repeats} fresh runs each, interleaved: `jndviewer map sample.png --model M -o m.png`")
    print(f"{'what':26s} {'way':8s} {'median s':>9s} {'min s':>7s}")
    for (what, way), seconds in runs.items():
        print(f"{what:26s} {way:8s} {statistics.median(seconds):9.2f} {min(seconds):7.2f}")


def phases(models: list[str], repeats: int, scratch: Path) -> None:
    rows: dict[tuple[str, str], list[list[float]]] = {}
    for _ in range(repeats):
        for model in models:
            for way in ways_of(model, ("numpy", "kernels", "torch")):
                launched = time.time()
                done = subprocess.run(
                    [sys.executable, "-c", PHASES_CHILD, repr(launched), model, way, str(scratch / "p.png"),
                     str(SAMPLE)],
                    env=environment(None), cwd=REPO, capture_output=True, text=True, check=False,
                )  # fmt: skip
                ended = time.time()
                if done.returncode != 0:
                    raise SystemExit(f"phase child failed:\n{done.stderr}")
                stamps = [float(v) for v in done.stdout.split()] + [ended]
                rows.setdefault((model, way), []).append([b - a for a, b in itertools.pairwise(stamps)])
    print(f"\nPhases in a fresh process (run_map's steps, CPU), median ms of {repeats}:")
    short = ("start", "torch", "models", "numba", "image", "1st", "2nd", "render", "exit", "total")
    print(f"{'model':9s} {'way':8s} " + " ".join(f"{s:>7s}" for s in short))
    for (model, way), samples in rows.items():
        medians = [statistics.median(column) for column in zip(*samples, strict=True)]
        total = statistics.median(sum(sample) for sample in samples)
        print(f"{model:9s} {way:8s} " + " ".join(f"{1000 * m:7.0f}" for m in [*medians, total]))
    print("columns: " + ", ".join(f"{s} = {p}" for s, p in zip(short, [*PHASES, "launch to exit"], strict=True)))


def crossover(models: list[str], sizes: list[tuple[int, int]], repeats: int) -> None:
    print(f"\nOne map in a fresh process, ms from before the model's imports to the map, median (min) of {repeats}:")
    print(f"{'model':9s} {'size':>10s} {'Mpixel':>7s} {'numpy':>15s} {'kernels':>15s} {'torch':>15s} {'fastest':>8s}")
    for model in models:
        for width, height in sizes:
            seconds: dict[str, list[float]] = {way: [] for way in ways_of(model, ("numpy", "kernels", "torch"))}
            for _ in range(repeats):
                for way in seconds:
                    done = subprocess.run(
                        [sys.executable, "-c", CROSSOVER_CHILD, model, way, str(width), str(height), str(SAMPLE)],
                        env=environment(None), cwd=REPO, capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    seconds[way].append(float(done.stdout.split()[-1]))
            cells = {way: f"{1000 * statistics.median(v):7.0f} ({1000 * min(v):5.0f})" for way, v in seconds.items()}
            fastest = min(seconds, key=lambda way: min(seconds[way]))
            row = " ".join(f"{cells.get(way, '-'):>15s}" for way in ("numpy", "kernels", "torch"))
            size = f"{width}x{height}"
            print(f"{model:9s} {size:>10s} {width * height / 1e6:7.2f} {row} {fastest:>8s}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated (default: all four)")
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per row (default 5)")
    parser.add_argument("--skip-phases", action="store_true", help="only the whole-process table")
    parser.add_argument("--crossover", action="store_true", help="the ways against each other per image size")
    parser.add_argument("--sizes", default="512x384,768x512,1280x720,1920x1080,2560x1440")
    parser.add_argument(
        "--before", type=Path, help="another checkout (e.g. `git archive HEAD | tar -x -C DIR`) run as row 'before'"
    )
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    import numba
    import torch

    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}; {platform.node()}, {os.cpu_count()} CPUs")
    no_bytecode = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    print(f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numba {numba.__version__}; PYTHONDONTWRITEBYTECODE={no_bytecode!r}")  # fmt: skip
    print(f"before: {load_line()}")
    if args.crossover:
        sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
        crossover(models, sizes, args.repeats)  # type: ignore[arg-type]
    else:
        scratch = Path(tempfile.mkdtemp(prefix="bench_map_"))
        try:
            whole_process(models, args.repeats, scratch, args.before)
            if not args.skip_phases:
                phases(models, args.repeats, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"after: {load_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
