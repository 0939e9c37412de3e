"""How finely do the proxy labels resolve a PW-JND? For each (codec, task, display), the mean and largest number of
levels by which an image's label moves when the task's JOD threshold moves by +-DELTA (ColorVideoVDP's own
uncertainty is larger than a few hundredths of a JOD), and the JOD curve's mean slope at the label.

Near the flicker threshold (9.68 JOD) the curves are nearly flat, so a flicker label is decided by hundredths of a
JOD: this is the resolution against which an MAE target in levels should be read. Kodak's curves by default (the
evaluation set, every level 1-100 of JPEG, WebP and AVIF: the grid curves and those between their levels, read as
one; reading them fits nothing), or any CSVs of the shared curves' format.

Usage: .venv/bin/python benchmarks/label_sensitivity.py [--curves A.csv,B.csv] [--delta 0.05]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.core.pwjnd.labels import (  # noqa: E402
    DISPLAY_PPD,
    TASK_JOD_THRESHOLD,
    codec_better,
    pwjnd_from_scores,
    read_curve_rows,
)


def label_moves(levels: list[float], jods: list[float], threshold: float, delta: float, better: str
                ) -> tuple[float, float, float]:
    """(label, levels moved at threshold - delta, levels moved at threshold + delta) of one curve."""
    label, _ = pwjnd_from_scores(levels, jods, threshold, better)
    lower, _ = pwjnd_from_scores(levels, jods, threshold - delta, better)
    upper, _ = pwjnd_from_scores(levels, jods, threshold + delta, better)
    return label, abs(lower - label), abs(upper - label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    kodak = [REPO / "tools" / "cvvdp" / f"kodak_{part}jod_curves.csv" for part in ("", "between_levels_")]
    parser.add_argument("--curves", default=",".join(str(path) for path in kodak if path.exists()),
                        help="JOD-curve CSV files, comma-separated, read as one")
    parser.add_argument("--delta", type=float, default=0.05, help="JOD by which the threshold moves (default 0.05)")
    args = parser.parse_args(argv)
    curves: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for row in read_curve_rows(args.curves.split(",")):
        curves[row["codec"], row["display"], row["image"]].append((float(row["level"]), float(row["jod"])))
    print(f"curves: {args.curves}; threshold moved by +-{args.delta:g} JOD")
    header = (f"{'codec':6s} {'task':12s} {'ppd':>4s} {'images':>6s} {'JOD':>5s} {'moves down':>10s} {'moves up':>8s} "
              f"{'largest':>7s} {'slope JOD/level':>15s}")
    print(header)
    print("-" * len(header))
    codecs = list(dict.fromkeys(c for c, _, _ in curves))  # the file's order; the nearer distance first
    for codec, display in sorted({(c, d) for c, d, _ in curves},
                                 key=lambda cd: (codecs.index(cd[0]), DISPLAY_PPD.get(cd[1], 0.0))):
        better = codec_better(codec)
        for task, threshold in TASK_JOD_THRESHOLD.items():
            down, up, slopes = [], [], []
            for (c, d, _), points in curves.items():
                if (c, d) != (codec, display):
                    continue
                points.sort()
                levels, jods = [p[0] for p in points], [p[1] for p in points]
                label, moved_down, moved_up = label_moves(levels, jods, threshold, args.delta, better)
                down.append(moved_down)
                up.append(moved_up)
                i = levels.index(label)
                neighbour = i - 1 if better == "higher" else i + 1  # the next worse level
                if 0 <= neighbour < len(levels):
                    slopes.append(abs(jods[i] - jods[neighbour]) / abs(levels[i] - levels[neighbour]))
            print(f"{codec:6s} {task:12s} {DISPLAY_PPD.get(display, float('nan')):4.0f} {len(down):6d} "
                  f"{threshold:5.2f} {np.mean(down):10.2f} {np.mean(up):8.2f} {max(max(down), max(up)):7.0f} "
                  f"{np.median(slopes) if slopes else float('nan'):15.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
