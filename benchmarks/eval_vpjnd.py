"""VP-JNDnet on Kodak: per-level lossless/lossy accuracy and PW-JND error against the held-out reference labels, for
every codec, viewing task and distance; and the 1080p prediction time.

Every level of each Kodak ladder is judged once: the network's pooled logit does not depend on the viewing
condition, whose offsets are then added per condition (as the predictor does). Accuracy counts all levels of each
ladder (a level is lossy when it is worse than the label). The PW-JND is VP-JND's binary block search (the
predictor's default) run over those decisions, the same levels the predictor would visit.

The weights (default: the shipped file) may be an ensemble (``jndviewer train vpjnd-ensemble``), or several files
given comma-separated: the decision is then the members' average logit, each member's own condition offsets and
calibration added first, as the predictor of an ensemble file decides (and the timing is that predictor's).

Usage: .venv/bin/python benchmarks/eval_vpjnd.py [--weights runs/x/vpjnd.pt[,runs/y/vpjnd.pt...]]
       [--codecs jpeg,webp,avif] [--displays standard_fhd,standard_4k] [--tasks side-by-side,flicker] [--images 24]
       [--validation-of-seed SEED] [--no-timing | --timing-only]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS  # noqa: E402
from jndviewer.core.assets import sample_image  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.datasets.sample import is_worse  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.pwjnd.calibrate import to_label_grid  # noqa: E402
from jndviewer.core.pwjnd.labels import DISPLAY_PPD, read_labels  # noqa: E402
from jndviewer.core.pwjnd.search import search  # noqa: E402
from jndviewer.core.train.vpjnd_judged_calibration import member_level_logits  # noqa: E402
from jndviewer.core.viewing import TASKS, ViewingCondition  # noqa: E402


def validation_labels(shared: Path, seed: int) -> list:
    """The default training labels of the sources that ``jndviewer train vpjnd --seed SEED`` holds out for validation
    (the same split: :func:`jndviewer.core.datasets.split_by_source` of the same samples and share)."""
    from benchmarks.vpjnd_ablation import default_data
    from jndviewer.core.datasets import read_dataset, split_by_source
    from jndviewer.core.train.vpjnd_trainer import VPJNDTrainingConfig

    samples = [s for spec in default_data(shared) for s in read_dataset(spec) if s.reference is not None]
    _, validation, _ = split_by_source(samples, 0.0, VPJNDTrainingConfig.validation_share, seed)
    sources = {sample.source for sample in validation}
    return [label for label in read_labels(REPO / TRAINING_LABELS) if label.image in sources]


def first_network_file(path: str, output: Path) -> Path:
    """A single network's file of the first member of ``path`` (for timing it beside the ensemble)."""
    import torch

    from jndviewer.core.pwjnd.vpjnd.config import EXPORT_FORMAT
    from jndviewer.core.train.vpjnd_ensemble import export_members

    torch.save({"format": EXPORT_FORMAT, "version": 1, **export_members(path)[0]}, output)
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--codecs", default="jpeg,webp,avif")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--displays", default="standard_fhd,standard_4k")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_kodak.csv"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--validation-of-seed", type=int, default=None, metavar="SEED",
                        help="instead of Kodak: the training labels of the sources `train vpjnd --seed SEED` held out "
                        "for validation (judged as the predictor judges them, every one)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--no-timing", action="store_true")
    which.add_argument("--timing-only", action="store_true", help="only the 1080p prediction time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        return evaluate(args, Path(folder))


def evaluate(args: argparse.Namespace, folder: Path) -> int:
    """The tables and the timing; ``folder``: where the ensemble and single-network files timed are written."""
    import torch

    from jndviewer.core.pwjnd.vpjnd.predictor import DEFAULT_WEIGHTS, VPJNDPredictor, load_network
    from jndviewer.core.train.vpjnd_ensemble import write_ensemble

    torch.set_num_threads(args.threads)
    paths = args.weights.split(",") if args.weights else [str(DEFAULT_WEIGHTS)]
    # several files: their ensemble, as 'train vpjnd-ensemble' writes it (checked before any work)
    weights = str(write_ensemble(paths, folder / "ensemble.pt")) if len(paths) > 1 else paths[0]
    network = load_network(weights)
    print("\n".join(machine_lines()))
    print(f"VP-JNDnet: {network.config}\n")
    if len(network) > 1:
        print(f"the average calibrated logit of {len(network)} networks ({', '.join(paths)})\n")
    most_images: int | None = args.images
    if args.timing_only:
        labels = []
    elif args.validation_of_seed is not None:  # every held-out source, not the first --images
        labels, most_images = validation_labels(Path(args.shared), args.validation_of_seed), None
        print(f"the validation sources of seed {args.validation_of_seed}'s split: {len({lb.image for lb in labels})} "
              f"images, {len(labels)} labels\n")
    else:
        labels = read_labels(args.labels)
    root = Path(args.shared) / "data" / "images"
    conditions = [(task, display) for task in args.tasks.split(",") for display in args.displays.split(",")]
    header = (f"{'codec':6s} {'task':12s} {'ppd':>4s} {'images':>6s} {'accuracy':>8s} {'MAE':>6s} {'bias':>6s} "
              f"{'grid':>5s} {'enc':>5s}")
    print("grid: the MAE with each prediction read on the labels' level grid (to_label_grid; for labels read at every "
          "level, the MAE itself)")
    lines = []
    for codec_name in [] if args.timing_only else args.codecs.split(","):
        codec = create_codec(codec_name)
        wanted = {(lb.image, lb.task, lb.display): lb for lb in labels if lb.codec == codec_name}
        images = sorted({image for image, _, _ in wanted})[:most_images]
        rows: dict[tuple[str, str], dict[str, list[float]]] = {
            c: {"acc": [], "err": [], "grid": [], "enc": []} for c in conditions}
        for image_name in images:
            rgb = load(root / image_name).rgb8()
            ordered = list(codec.ordered_worst_to_best())
            logits = member_level_logits(network, rgb, codec, ordered)
            for task, display in conditions:
                label = wanted.get((image_name, task, display))
                if label is None:
                    continue
                condition = ViewingCondition(DISPLAY_PPD[display], task)
                offsets = np.array(network.member_offsets(codec_name, condition))
                mean = (logits + offsets[:, None]).mean(axis=0)
                visible = [bool(logit > 0) for logit in mean]
                truth = [is_worse(lv, label.pwjnd_level, codec.better) for lv in ordered]
                found = search(len(ordered), lambda p, v=visible: v[p], "block")
                level = ordered[found.position]
                rows[task, display]["acc"].append(float(np.mean([a == b for a, b in zip(visible, truth, strict=True)])))
                rows[task, display]["err"].append(level - label.pwjnd_level)
                on_grid = to_label_grid(level, codec_name, label.levels)
                rows[task, display]["grid"].append(abs(on_grid - label.pwjnd_level))
                rows[task, display]["enc"].append(len(found.visited))
        for task, display in conditions:
            r = rows[task, display]
            if r["err"]:
                lines.append(f"{codec_name:6s} {task:12s} {DISPLAY_PPD[display]:4.0f} {len(r['err']):6d} "
                             f"{100 * np.mean(r['acc']):7.1f}% {np.mean(np.abs(r['err'])):6.2f} "
                             f"{np.mean(r['err']):+6.2f} {np.mean(r['grid']):5.2f} {np.mean(r['enc']):5.1f}")
                print(lines[-1] if len(lines) > 1 else header + "\n" + "-" * len(header) + "\n" + lines[-1], flush=True)
    if args.no_timing:
        return 0
    from PIL import Image

    path = root / "kodak" / "kodim23.png"
    if not path.exists():
        path = sample_image()
    rgb = np.asarray(Image.open(path).convert("RGB").resize((1920, 1080), Image.Resampling.BICUBIC))
    # the predictor of the ensemble, and of its first network alone
    timed = {"VP-JNDnet": weights} if len(network) == 1 else {
        "first network alone": str(first_network_file(weights, folder / "first.pt")),
        f"mean of {len(network)} networks": weights}
    predictors = {name: VPJNDPredictor(path) for name, path in timed.items()}
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(3):
        for name, predictor in predictors.items():  # interleaved, so a busy moment does not fall on one
            predictor.network.forget()  # a new image each time: the reference streams and JND map run again
            start = time.perf_counter()
            result = predictor.predict(rgb, create_codec("jpeg"))
            times[name].append(time.perf_counter() - start)
    print(f"\nwhole block-search prediction, 1920x1080 JPEG, CPU ({args.threads} threads), median of 3 "
          f"({result.encodes} levels evaluated, {len(result.params['patch_positions'])} patches, JND map "
          f"{network.config.jnd_model}):")
    for name, values in times.items():
        ratio = statistics.median(values) / statistics.median(next(iter(times.values())))
        print(f"  {name:24s} {statistics.median(values):5.2f} s  ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
