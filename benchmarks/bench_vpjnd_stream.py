"""VP-JNDnet's feature extractor on 24 patches of 128 pixels: its forward (the channel gate applied after the 2x2
max-pool, ReLU in place) against the plain stage-by-stage definition (conv, ReLU, attention, pool), same weights,
same inputs, in one run; the outputs must be equal (torch.equal).

Usage: .venv/bin/python benchmarks/bench_vpjnd_stream.py [--weights vpjnd.pt] [--threads 2] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    import torch

    from jndviewer.core.pwjnd.vpjnd.predictor import load_network

    torch.set_num_threads(args.threads)
    stream = load_network(args.weights).nets[0].image_stream
    generator = torch.Generator().manual_seed(0)
    patches = torch.rand(24, 3, 128, 128, generator=generator) - 0.5

    def plain(x: torch.Tensor) -> torch.Tensor:
        return stream.stages(x.contiguous(memory_format=torch.channels_last))

    print("\n".join(machine_lines()))
    with torch.no_grad():
        same = torch.equal(plain(patches), stream(patches))
        times: dict[str, list[float]] = {"plain stages": [], "forward (pooled gate)": []}
        for _ in range(args.repeats):
            for name, run in zip(times, (plain, stream), strict=True):  # interleaved
                start = time.perf_counter()
                run(patches)
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["plain stages"])
    print(f"image stream, 24 patches of 128 px, CPU ({args.threads} threads), median of {args.repeats}; "
          f"outputs equal: {same}")
    for name, values in times.items():
        print(f"  {name:24s} {1000 * statistics.median(values):6.1f} ms  ({base / statistics.median(values):.2f}x)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(run_script(main))
