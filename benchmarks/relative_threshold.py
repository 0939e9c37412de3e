"""Would a relative visibility rule predict the proxy PW-JND better than the calibrated absolute threshold?

Rule: a level is visible when ``score(L) / score(reference level) ** a > t`` (``a = 0`` is the shipped absolute
rule). Uses the per-image scores that ``jndviewer calibrate`` caches (``runs/calibration``; run the calibration
first) for one JND model, pooling and analysis scale, fits ``t`` on a random part of the training images (by the
calibration's own :func:`fit_threshold`) and reports the mean absolute error on the rest, next to the constant
prediction and the spread of the predictions. Training images only: Kodak is not touched.

Usage: .venv/bin/python benchmarks/relative_threshold.py [--model chou1995] [--variant max_window:32@13.3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS  # noqa: E402
from jndviewer.core.pwjnd.calibrate import (  # noqa: E402
    MODEL_PPDS,
    VARIANTS,
    evaluate_threshold,
    fit_threshold,
    level_grid,
    predicted_positions,
)
from jndviewer.core.pwjnd.calibration import variant_key  # noqa: E402
from jndviewer.core.pwjnd.labels import read_labels  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="chou1995")
    parser.add_argument("--variant", default="max_window:32@13.3")
    parser.add_argument("--reference-level", type=int, default=51)
    parser.add_argument("--cache", default=str(REPO / "runs" / "calibration"))
    parser.add_argument("--labels", default=str(REPO / TRAINING_LABELS))
    parser.add_argument("--test-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    levels = level_grid("jpeg")
    labels = [lb for lb in read_labels(args.labels) if lb.codec == "jpeg" and lb.display == "standard_fhd"]
    keys = [variant_key(p, v, m) for m in MODEL_PPDS for p, _, v in VARIANTS]
    ppd_index, variant_index = divmod(keys.index(args.variant), len(VARIANTS))
    tag = "-".join(f"{m:g}" for m in MODEL_PPDS)
    scores, positions = [], []
    for label in labels:
        path = Path(args.cache) / f"{args.model}_jpeg_38_m{tag}_{label.image.replace('/', '_')}.npy"
        if not path.exists():
            print(f"{path} is missing: run 'jndviewer calibrate --models {args.model}' first", file=sys.stderr)
            return 1
        scores.append(np.load(path)[:, ppd_index, variant_index])
        positions.append(levels.index(label.pwjnd_level))
    order = np.random.default_rng(args.seed).permutation(len(scores))
    test_count = round(args.test_share * len(scores))
    test, train = order[:test_count], order[test_count:]
    grid = np.asarray(levels, dtype=np.float64)
    truth = grid[positions]
    constant = float(np.median(truth[train]))
    reference = levels.index(args.reference_level)
    print(f"{args.model} {args.variant}, JPEG proxy labels: {len(train)} images to fit t, {len(test)} to test "
          f"(label sd {truth[test].std():.1f}); constant {constant:g}: test MAE "
          f"{np.abs(truth[test] - constant).mean():.2f}\n")
    print("| a | train MAE | test MAE | test bias | prediction sd |")
    print("|---|---|---|---|---|")
    for exponent in (0.0, 0.25, 0.5, 0.75, 1.0):
        relative = [s / (s[reference] + 1e-12) ** exponent for s in scores]
        fit = fit_threshold([relative[i] for i in train], [positions[i] for i in train], levels)
        result = evaluate_threshold([relative[i] for i in test], [positions[i] for i in test], levels, fit.threshold)
        predicted = [grid[min(int(predicted_positions(relative[i], np.asarray([fit.threshold]))[0]), len(grid) - 1)]
                     for i in test]  # fmt: skip
        print(f"| {exponent:g} | {fit.mae:.2f} | {result['mae']:.2f} | {result['bias']:+.2f} | "
              f"{np.std(predicted):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
