"""Derive per-image reference PW-JND labels from JOD curves (the fitted cvvdp proxy) and write them as CSV.

One label per image, codec, display and viewing task: side by side at 9.0 JOD (fitted to MCL-JCI) and flicker at
9.68 JOD (JPEG AIC-3's 1 JND); see jndviewer/core/pwjnd/labels.py.

Runs in the project's environment (only reads CSVs). Inputs: the shared BSDS500/McMaster curves
(../shared/data/labels/cvvdp/jod_curves.csv) and the Kodak curves made by tools/cvvdp/jod_curves.py.
Usage (from the repository root):
  .venv/bin/python tools/make_reference_labels.py ../shared/data/labels/cvvdp/jod_curves.csv \
      -o resources/labels/pwjnd_reference_train.csv
  .venv/bin/python tools/make_reference_labels.py tools/cvvdp/kodak_jod_curves.csv \
      tools/cvvdp/kodak_between_levels_jod_curves.csv -o resources/labels/pwjnd_reference_kodak.csv

Several curve files are read as one (the rows of one image, codec and display may come from any of them); a level
given twice is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import TASK_JOD_THRESHOLD, labels_from_curves, read_curve_rows, write_labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("curves", type=Path, nargs="+", help="JOD-curve CSV files, read as one")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--tasks", default=",".join(TASK_JOD_THRESHOLD),
                        help="viewing tasks to label, each at its JOD threshold (default: all)")
    args = parser.parse_args()
    try:
        rows = read_curve_rows(args.curves)
        labels = [label for task in args.tasks.split(",") for label in labels_from_curves(rows, task=task)]
    except JndViewerError as err:  # a file that is not curves, or a level given twice
        parser.error(str(err))
    write_labels(labels, args.output)
    print(f"wrote {len(labels)} labels to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
