"""VP-JNDnet ablation: does the JND-map stream help on our data? Trains the same network without the stream and with
each pixel JND model, on the same patch cache, steps and seed, and prints the validation table.

Every variant trains from the same start (seed) on the same (source, codec) pairs and levels, so the rows differ
only in what the third stream reads. Runs are resumable (RUN/checkpoint.pt); a finished run is only evaluated.

Usage: .venv/bin/python benchmarks/vpjnd_ablation.py [--steps 300] [--groups 4] [--cache runs/vpjnd_cache]
       [--runs runs/vpjnd_ablation] [--models none,wu2017,chou1995,yang2005,wu2013]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from jndviewer.core.pwjnd.vpjnd import VPJNDConfig  # noqa: E402
from jndviewer.core.train.vpjnd_trainer import VPJNDTrainingConfig, train_vpjnd  # noqa: E402


def default_data(shared: Path) -> list[str]:
    labels = REPO / "resources" / "labels" / "pwjnd_reference_train.csv"
    images = shared / "data" / "images"
    return [f"reference:{labels},images={images},codec={codec},task={task},display={display}"
            for codec in ("jpeg", "webp", "avif") for task in ("side-by-side", "flicker")
            for display in ("standard_fhd", "standard_4k")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="none,wu2017,chou1995,yang2005,wu2013")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--groups", type=int, default=4, help="(source, codec) pairs per step")
    parser.add_argument("--calibration-groups", type=int, default=100,
                        help="training (source, codec) pairs the per-condition calibration is fitted on")
    parser.add_argument("--cache", default="runs/vpjnd_cache")
    parser.add_argument("--runs", default="runs/vpjnd_ablation")
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print("\n".join(machine_lines()))
    rows = []
    for model in args.models.split(","):
        run = Path(args.runs) / model
        config = VPJNDTrainingConfig(
            data=default_data(Path(args.shared)), run_dir=str(run), export=str(run / "vpjnd.pt"), cache_dir=args.cache,
            steps=args.steps, groups=args.groups, threads=args.threads, config=VPJNDConfig(jnd_model=model).to_dict(),
            calibration_groups=args.calibration_groups, validate_every=args.steps,
        )
        if not (run / "export.json").exists():
            train_vpjnd(config, progress=False)
        exported = json.loads((run / "export.json").read_text())
        metrics, raw = exported["validation"], exported["validation_uncalibrated"]
        rows.append((model, metrics, raw))
        print(f"trained {model}: validation MAE {metrics['mae']:.2f} (uncalibrated {raw['mae']:.2f})", flush=True)
    conditions = sorted({c for _, m, _ in rows for c in m.get("by_condition", {})})
    header = (f"{'JND-map stream':15s} {'raw MAE':>7s} {'raw acc':>7s} {'MAE':>6s} {'accuracy':>8s} "
              + " ".join(f"{c:>22s}" for c in conditions))
    print(f"\nValidation (BSDS500/McMaster sources held out of training), {args.steps} steps x {args.groups} pairs:")
    print(header)
    print("-" * len(header))
    for model, metrics, raw in rows:
        cells = " ".join(f"{metrics['by_condition'].get(c, float('nan')):22.2f}" for c in conditions)
        print(f"{model:15s} {raw['mae']:7.2f} {100 * raw['accuracy']:6.1f}% {metrics['mae']:6.2f} "
              f"{100 * metrics['accuracy']:7.1f}% {cells}")
    print("raw: the network's own decisions; MAE, accuracy and per condition: after the per-condition calibration "
          "fitted on training images (levels of mean absolute error of the exhaustive PW-JND)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
