"""VP-JNDnet ablation: does the JND-map stream help on our data? Trains the same network without the stream and with
each pixel JND model, on the same patch cache, steps and seed, and prints the validation table.

Every variant trains from the same start (seed) on the same (source, codec) pairs and levels, so the rows differ
only in what the third stream reads. Runs are resumable (RUN/checkpoint.pt); a finished run is only evaluated.

Usage: .venv/bin/python benchmarks/vpjnd_ablation.py [--steps 300] [--groups 4] [--cache runs/vpjnd_cache]
       [--runs runs/vpjnd_ablation] [--models none,wu2017,chou1995,yang2005,wu2013] [--seeds 0,1,2]
       [--difference absolute|mean] [--difference-gain 100] [--weight-head softplus|relu] [--augment none|dihedral]

``--difference`` and ``--difference-gain`` choose how the quality head reads the distortion (VPJNDConfig; default:
the shipped form): ``--models wu2017 --difference mean --difference-gain 1`` trains the first form, as the model
card's table of forms and gains was made (give each form its own ``--runs``); ``--weight-head relu`` trains the
published (and earlier shipped) weight head; ``--augment dihedral`` trains every variant with the turns and mirrors
of ``jndviewer train vpjnd --augment``.

With several ``--seeds`` each seed is a run of every variant (its own start and its own validation split, in
``RUNS/seedN``; seed 0 in ``RUNS`` itself, as before), and a last table gives each variant's MAE minus the
no-stream network's of the same seed, per seed and on average: the paired difference is what says whether the map
helps, since the seeds' validation images differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS  # noqa: E402
from jndviewer.core.datasets.reference_labels import reference_training_specs  # noqa: E402
from jndviewer.core.pwjnd.vpjnd import VPJNDConfig  # noqa: E402
from jndviewer.core.pwjnd.vpjnd.config import AUGMENTS, DIFFERENCES, WEIGHT_HEADS  # noqa: E402
from jndviewer.core.train.vpjnd_trainer import VPJNDTrainingConfig, train_vpjnd  # noqa: E402
from jndviewer.core.viewing import TASKS  # noqa: E402


def default_data(shared: Path) -> list[str]:
    """``jndviewer train vpjnd``'s default training sets (its labels, read on the curve grid), with ``shared``'s
    images."""
    return reference_training_specs(REPO / TRAINING_LABELS, shared / "data" / "images", TASKS)


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
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds (default 0)")
    parser.add_argument("--difference", choices=DIFFERENCES, default=VPJNDConfig.difference)
    parser.add_argument("--difference-gain", type=float, default=VPJNDConfig.difference_gain)
    parser.add_argument("--weight-head", choices=WEIGHT_HEADS, default=VPJNDConfig.weight_head)
    parser.add_argument("--augment", choices=AUGMENTS, default=VPJNDTrainingConfig.augment)
    args = parser.parse_args()
    print("\n".join(machine_lines()))
    seeds = [int(seed) for seed in args.seeds.split(",")]
    by_seed: dict[int, list[tuple[str, dict, dict]]] = {}
    for seed in seeds:
        by_seed[seed] = rows = []
        for model in args.models.split(","):
            run = Path(args.runs) / ("" if seed == 0 else f"seed{seed}") / model
            config = VPJNDTrainingConfig(
                data=default_data(Path(args.shared)), run_dir=str(run), export=str(run / "vpjnd.pt"),
                cache_dir=args.cache, steps=args.steps, groups=args.groups, threads=args.threads,
                config=VPJNDConfig(jnd_model=model, difference=args.difference,
                                   difference_gain=args.difference_gain, weight_head=args.weight_head).to_dict(),
                calibration_groups=args.calibration_groups,
                validate_every=args.steps, seed=seed, augment=args.augment,
            )
            if not (run / "export.json").exists():
                train_vpjnd(config, progress=False)
            exported = json.loads((run / "export.json").read_text())
            stored = exported.get("config")  # runs exported before it was written there: not checkable
            if (stored is not None and VPJNDConfig.from_dict(stored) != VPJNDConfig.from_dict(config.config)) or (
                exported.get("augment", "none") != args.augment
            ):
                raise SystemExit(f"{run} holds a run of another configuration (weight head, difference, "
                                 "augmentation, ...): give this one its own --runs folder.")
            metrics, raw = exported["validation"], exported["validation_uncalibrated"]
            rows.append((model, metrics, raw))
            print(f"trained {model} (seed {seed}): validation MAE {metrics['mae']:.2f} "
                  f"(uncalibrated {raw['mae']:.2f})", flush=True)
        print_table(rows, args.steps, args.groups, seed, args.augment)
    if len(seeds) > 1:
        print_paired(by_seed)
    return 0


def print_table(rows: list[tuple[str, dict, dict]], steps: int, groups: int, seed: int, augment: str) -> None:
    conditions = sorted({c for _, m, _ in rows for c in m.get("by_condition", {})})
    header = (f"{'JND-map stream':15s} {'raw MAE':>7s} {'raw acc':>7s} {'MAE':>6s} {'accuracy':>8s} "
              + " ".join(f"{c:>22s}" for c in conditions))
    print(f"\nValidation (BSDS500/McMaster sources held out of training), {steps} steps x {groups} pairs, "
          f"seed {seed}, augmentation {augment}:")
    print(header)
    print("-" * len(header))
    for model, metrics, raw in rows:
        cells = " ".join(f"{metrics['by_condition'].get(c, float('nan')):22.2f}" for c in conditions)
        print(f"{model:15s} {raw['mae']:7.2f} {100 * raw['accuracy']:6.1f}% {metrics['mae']:6.2f} "
              f"{100 * metrics['accuracy']:7.1f}% {cells}")
    print("raw: the network's own decisions; MAE, accuracy and per condition: after the per-condition calibration "
          "fitted on training images (levels of mean absolute error of the exhaustive PW-JND)")


def print_paired(by_seed: dict[int, list[tuple[str, dict, dict]]]) -> None:
    """Each variant's MAE minus the no-stream network's of the same seed (negative: the map helped)."""
    seeds = sorted(by_seed)
    models = [model for model, _, _ in by_seed[seeds[0]] if model != "none"]
    print("\nPaired: validation MAE minus the no-stream network's of the same seed (calibrated; raw in brackets)")
    print(f"{'JND-map stream':15s} " + " ".join(f"{'seed ' + str(s):>14s}" for s in seeds) + f" {'mean':>14s}")
    for model in models:
        cells, calibrated, raw = [], [], []
        for seed in seeds:
            found = {name: (m["mae"], r["mae"]) for name, m, r in by_seed[seed]}
            if "none" not in found or model not in found:
                raise SystemExit("--seeds with a paired table needs 'none' among --models")
            calibrated.append(found[model][0] - found["none"][0])
            raw.append(found[model][1] - found["none"][1])
            cells.append(f"{calibrated[-1]:+6.2f} ({raw[-1]:+5.2f})")
        mean = f"{sum(calibrated) / len(seeds):+6.2f} ({sum(raw) / len(seeds):+5.2f})"
        print(f"{model:15s} " + " ".join(f"{c:>14s}" for c in cells) + f" {mean:>14s}")


if __name__ == "__main__":
    raise SystemExit(run_script(main))
