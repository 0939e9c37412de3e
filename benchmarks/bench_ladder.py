"""Encode + decode time per level for every codec at 1920x1080, a full 100-level JPEG ladder, and the learned codecs.

The explorer's budget is 50 ms from slider to frame; the target for a JPEG rung at 1080p is <= 30 ms encode+decode
on the CPU. Timings are medians over repeats after one warm-up; the input is kodim23 resized (bicubic) to 1920x1080.

Usage: .venv/bin/python benchmarks/bench_ladder.py [--codecs jpeg,webp,...] [--repeats 5] [--size 1920x1080]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.assets import sample_image  # noqa: E402
from jndviewer.core.codecs import CODECS, create_codec  # noqa: E402
from jndviewer.core.errors import JndViewerError  # noqa: E402
from jndviewer.core.ladder import Ladder  # noqa: E402

JPEG_TARGET_MS = 30.0


def sample_levels(levels: tuple[int, ...], count: int) -> list[int]:
    if len(levels) <= count:
        return list(levels)
    picks = np.linspace(0, len(levels) - 1, count).round().astype(int)
    return [levels[i] for i in sorted(set(picks.tolist()))]


def time_call(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", default=",".join(CODECS))
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--levels", type=int, default=5, help="levels timed per codec (spread over its range)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.split("x"))
    source = Path(args.shared) / "data" / "images" / "kodak" / "kodim23.png"
    if not source.exists():
        source = sample_image()
    rgb = np.asarray(Image.open(source).convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
    print("\n".join(machine_lines()))
    print(f"input: {source.name} resized to {width}x{height}; median of {args.repeats} after 1 warm-up\n")
    print(f"{'codec':12s} {'level':>6s} {'bytes':>9s} {'bpp':>7s} {'enc+dec ms':>11s}")
    print("-" * 50)
    for name in args.codecs.split(","):
        try:
            codec = create_codec(name)
            levels = codec.levels()
        except JndViewerError as err:
            print(f"{name:12s} unavailable: {err}")
            continue
        slow = name in ("learned", "autoencoder", "heif", "avif", "jxl")
        repeats = max(2, args.repeats // 2) if slow else args.repeats
        for level in sample_levels(levels, args.levels):
            encoded = codec.encode(rgb, level)
            ms = time_call(lambda c=codec, lv=level: c.encode(rgb, lv), repeats)
            mark = ""
            if name == "jpeg":
                mark = "PASS" if ms <= JPEG_TARGET_MS else "MISS"
            print(f"{name:12s} {level:6d} {encoded.nbytes:9d} {encoded.bits_per_pixel():7.3f} {ms:11.1f} {mark}")
    if "jpeg" in args.codecs.split(","):
        print("\nfull JPEG 4:2:0 ladder, QF 1..100, through Ladder (encode, decode, bytes; metrics not computed):")
        with Ladder(rgb, create_codec("jpeg"), cache_megabytes=64) as ladder:
            start = time.perf_counter()
            rungs = list(ladder.rungs())
            total = time.perf_counter() - start
        print(f"  {len(rungs)} rungs in {total * 1000:.0f} ms ({total * 1000 / len(rungs):.1f} ms per rung); "
              f"sizes {rungs[0].nbytes}..{rungs[-1].nbytes} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
