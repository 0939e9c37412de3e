"""VP-JNDnet files compared network by network on one training seed's validation sources.

Networks trained with different ``--seed`` hold out different source images, so an ensemble has no common validation
split; but network N of two files trained with the same seed N does. This prints, per seed, the validation MAE
(exhaustive PW-JND over the cached levels, as ``jndviewer train vpjnd`` reports it) of each file's network of that
seed on the same labels and cached patches, with each network's own calibration, and with a calibration refitted
on those labels (the trainer's fit, on the same 200 training pairs): the second separates what the labels changed in
the network from what they changed in its calibration.

Usage: .venv/bin/python benchmarks/vpjnd_validation.py A.pt B.pt [--labels every-level|grid|PATH]
       [--cache runs/vpjnd_cache] [--seeds 0,1,2] [--refit]

A file's networks are taken in seed order (an ensemble's members, as ``train vpjnd-ensemble`` joined seeds 0, 1, 2);
a single network's file is taken as the network of the one seed given. The cache must
hold the sources (the cache ``jndviewer train vpjnd --cache`` built for those labels); a network whose file recorded
another training seed than the one asked for is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS, TRAINING_LABELS_EVERY_LEVEL  # noqa: E402
from jndviewer.core.datasets import read_dataset, split_by_source  # noqa: E402
from jndviewer.core.datasets.reference_labels import reference_training_specs  # noqa: E402
from jndviewer.core.pwjnd.vpjnd.predictor import load_network  # noqa: E402
from jndviewer.core.train.vpjnd_ensemble import export_members  # noqa: E402
from jndviewer.core.train.vpjnd_trainer import (  # noqa: E402
    VPJNDTrainingConfig,
    build_patch_cache,
    cache_file,
    calibration_groups,
    evaluate_groups,
    fit_calibration,
    make_groups,
)
from jndviewer.core.viewing import TASKS  # noqa: E402

LABELS = {"every-level": TRAINING_LABELS_EVERY_LEVEL, "grid": TRAINING_LABELS}


def _member_seeds(path: str) -> list[int | None]:
    """The training seed each network of ``path`` recorded (None where its export predates the record)."""
    return [member.get("training", {}).get("seed") for member in export_members(path)]


def _member(network: Any, seed: int) -> int:
    """Which of ``network``'s networks is that of ``seed``: an ensemble's members in seed order, a single network's
    file the seed asked for."""
    return 0 if len(network) == 1 else seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="+", help="VP-JNDnet files (ensembles: their networks in seed order)")
    parser.add_argument("--labels", default="every-level", help="every-level, grid or a label file")
    parser.add_argument("--cache", default="runs/vpjnd_cache", help="the patch cache (relative to the checkout)")
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--refit", action="store_true", help="also refit each network's calibration on the labels")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    labels = Path(LABELS.get(args.labels, args.labels))
    specs = reference_training_specs(labels if labels.is_absolute() else REPO / labels,
                                     Path(args.shared) / "data" / "images", TASKS)
    samples = [s for spec in specs for s in read_dataset(spec) if s.reference is not None]
    networks = {path: load_network(path) for path in args.weights}
    seeds = [int(seed) for seed in args.seeds.split(",")]
    if len(seeds) > 1 and any(len(network) == 1 for network in networks.values()):
        parser.error("a single network's file is taken as the network of the seed given: give one --seeds")
    if len({network.config.patch for network in networks.values()}) > 1:
        parser.error("the files' networks read patches of different sizes; one patch cache cannot serve them")
    for path, network in networks.items():
        recorded = _member_seeds(path)
        for seed in seeds:
            member = _member(network, seed)
            if member >= len(network):
                parser.error(f"{path} holds {len(network)} networks; it has none for seed {seed}")
            if recorded[member] not in (None, seed):
                parser.error(f"{path}'s network {member + 1} was trained with --seed {recorded[member]}, not {seed}")
    defaults = VPJNDTrainingConfig(data=[])
    cache = Path(args.cache) if Path(args.cache).is_absolute() else REPO / args.cache
    train, validation, _ = split_by_source(samples, 0.0, defaults.validation_share, seeds[0])
    missing = [s.source for s in train + validation if not cache_file(cache, s.source).exists()]
    if missing:
        parser.error(f"the patch cache {cache} lacks {len(set(missing))} of these sources (e.g. {missing[0]}); "
                     "build it with `jndviewer train vpjnd --cache` on these labels")
    # the trainer's cache of these sources (levels the labels need and the cache lacks are added, as it would)
    config = next(iter(networks.values())).config
    entries = build_patch_cache(train + validation, config, cache, defaults.cache_patches, defaults.window)
    rows = []
    device = torch.device("cpu")
    for seed in seeds:
        train, validation, _ = split_by_source(samples, 0.0, defaults.validation_share, seed)
        for path, network in networks.items():
            member = _member(network, seed)
            net, calibration = network.nets[member], network.calibrations[member]
            val_groups = make_groups(validation, entries, net.config)
            if not val_groups:
                parser.error(f"seed {seed} holds out no source with these labels")
            raw = evaluate_groups(net, val_groups, device)
            own = evaluate_groups(net, val_groups, device, calibration)
            row = [seed, path, raw["labels"], raw["mae"], own["mae"], own["accuracy"]]
            if args.refit:
                pairs = calibration_groups(make_groups(train, entries, net.config), seed, defaults.calibration_groups)
                refit = fit_calibration(net, pairs, device)
                row.append(evaluate_groups(net, val_groups, device, refit)["mae"])
            rows.append(row)
            print(" | ".join(str(round(v, 3)) if isinstance(v, float) else str(v) for v in row), flush=True)
    print(f"\nlabels: {labels}; MAE in levels over each seed's validation labels (cached patches and levels)\n")
    names = ["MAE raw", "MAE, own calibration", "accuracy"] + (["MAE, refitted"] if args.refit else [])
    head = "| seed | file | labels | " + " | ".join(names) + " |"
    print(head)
    print("|" + "---|" * (3 + len(names)))
    for row in rows:
        cells = [f"{row[3]:.2f}", f"{row[4]:.2f}", f"{100 * row[5]:.1f} %"] + ([f"{row[6]:.2f}"] if args.refit else [])
        print(f"| {row[0]} | {row[1]} | {row[2]} | " + " | ".join(cells) + " |")
    for path in networks:
        mine = [row for row in rows if row[1] == path]
        means = {name: np.mean([row[3 + i] for row in mine]) for i, name in enumerate(names) if name != "accuracy"}
        print(f"mean of {path} over seeds {[row[0] for row in mine]}: "
              + ", ".join(f"{name} {value:.2f}" for name, value in means.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
