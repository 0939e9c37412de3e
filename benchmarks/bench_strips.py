"""Strip-by-strip against whole-image computation of the local JND models on the CPU, interleaved in one process.

The local models (chou1995, yang2005, wu2017) are computed in horizontal strips of ``STRIP_ROWS`` rows on the CPU
(``jndviewer/core/jnd/base.py``); the result is bit for bit the whole-image one (tests/core/test_jnd_models.py).
The same for wu2017's edge-height peak, the only whole-image quantity its Canny threshold needs. This times both
ways alternately, run after run, so that the drift of a shared machine hits both alike, and prints
the medians and their ratio. Run from the repository root::

    .venv/bin/python benchmarks/bench_strips.py [--size 1920x1080] [--repeats 20] [--strip-rows 180]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.assets import sample_image  # noqa: E402
from jndviewer.core.jnd import MODELS, base, create_model  # noqa: E402


def timing_arguments(description: str, repeats: int) -> argparse.ArgumentParser:
    """The options these interleaved timings share: image size, repeats, threads and the source image."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--image", default=str(REPO.parent / "shared/data/images/kodak/kodim23.png"))
    return parser


def timing_input(args: argparse.Namespace) -> tuple[Path, int, int, torch.Tensor]:
    """Set the thread count; the source (kodim23, or the bundled sample without ../shared) resized to ``--size``
    as a 1 x 1 x H x W float32 luma tensor."""
    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    source = Path(args.image) if Path(args.image).exists() else sample_image()
    luma = Image.open(source).convert("L").resize((width, height), Image.Resampling.BICUBIC)
    return source, width, height, torch.from_numpy(np.asarray(luma, dtype=np.float32).copy())[None, None]


def main() -> int:
    parser = timing_arguments(__doc__.split("\n\n")[0], repeats=20)
    parser.add_argument("--strip-rows", type=int, default=base.STRIP_ROWS)
    args = parser.parse_args()
    source, width, height, x = timing_input(args)
    print(f"input: {source.name} at {width}x{height}, {args.threads} threads, strips of {args.strip_rows} rows, "
          f"median of {args.repeats} interleaved runs each")
    print(f"{'model':10s} {'whole ms':>9s} {'strips ms':>10s} {'ratio':>6s}")
    for name in (n for n in MODELS if MODELS[n].local_radius > 0):
        model = create_model(name)
        times: dict[int, list[float]] = {0: [], args.strip_rows: []}
        for rows in times:  # warm-up
            base.STRIP_ROWS = rows
            model(x)
        for _ in range(args.repeats):
            for rows in times:
                base.STRIP_ROWS = rows
                started = time.perf_counter()
                model(x)
                times[rows].append(1000 * (time.perf_counter() - started))
        whole, strips = statistics.median(times[0]), statistics.median(times[args.strip_rows])
        print(f"{name:10s} {whole:9.1f} {strips:10.1f} {whole / strips:5.2f}x", flush=True)
    # wu2017's Canny threshold needs the image's largest edge height: its whole map against strips' maxima
    from jndviewer.core.jnd.wu2017 import edge_height, edge_height_peak

    peak_times: dict[str, list[float]] = {"whole": [], "strips": []}
    ways = {"whole": lambda: edge_height(x, "replicate").amax(dim=(-1, -2, -3)),
            "strips": lambda: edge_height_peak(x, "replicate", args.strip_rows)}
    for _ in range(args.repeats):
        for way, run in ways.items():
            started = time.perf_counter()
            run()
            peak_times[way].append(1000 * (time.perf_counter() - started))
    whole, strips = statistics.median(peak_times["whole"]), statistics.median(peak_times["strips"])
    print(f"{'wu2017 peak':10s} {whole:9.1f} {strips:10.1f} {whole / strips:5.2f}x  (edge-height peak only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
