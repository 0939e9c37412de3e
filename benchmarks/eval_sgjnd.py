"""SG-JND on Kodak: accuracy against the fitted reference labels next to the training-free predictor, and speed.

For each codec: the mean absolute error in levels of SG-JND and of the training-free visibility predictor against
the held-out Kodak proxy labels (resources/labels/pwjnd_reference_kodak.csv, 38 ppd), the best constant prediction
for scale, and encodes per image. Then the whole sliding-window prediction time per 1920x1080 image on the CPU (and
on CUDA when present). ``--reference-json`` writes the prediction on the bundled sample image, which the tests check
the shipped weights against. ``--vpjnd`` adds VP-JNDnet's columns (its predictor as the product runs it: the shipped
calibration and VP-JND's block search), so that the three predictors are measured on the same labels in one run.

Usage: .venv/bin/python benchmarks/eval_sgjnd.py [--codecs jpeg,webp] [--vpjnd [--vpjnd-weights runs/x/vpjnd.pt]]
       [--reference-json jndviewer/assets/models/sgjnd.reference.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import fmt_interval, machine_lines, print_caveats  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS_EVERY_LEVEL  # noqa: E402
from jndviewer.core.assets import sample_image  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.pwjnd.calibrate import to_label_grid  # noqa: E402
from jndviewer.core.pwjnd.labels import DISPLAY_PPD, read_labels  # noqa: E402
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor, default_params  # noqa: E402
from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor  # noqa: E402
from jndviewer.core.pwjnd.vpjnd.predictor import VPJNDPredictor  # noqa: E402
from jndviewer.core.viewing import TASKS, ViewingCondition  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", default="jpeg,webp,avif")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--displays", default="standard_fhd", help="standard_fhd (38 ppd) and/or standard_4k (75)")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_kodak.csv"))
    parser.add_argument("--train-labels", default=str(REPO / TRAINING_LABELS_EVERY_LEVEL),
                        help="labels whose median is the constant baseline (default: the training labels read at "
                        "every level, as the Kodak labels are)")
    parser.add_argument("--reference-json", help="write the sample image's prediction here (for the tests)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vpjnd", action="store_true", help="add VP-JNDnet's columns (same images and labels)")
    parser.add_argument("--vpjnd-weights", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    sgjnd = SGJNDPredictor(args.weights)
    visibility = PooledVisibilityPredictor(default_params())
    print("\n".join(machine_lines()))
    print(f"SG-JND: {sgjnd.network.config}; training-free: {visibility.params}\n")
    names = ["SG-JND", "free", *(["VP-JNDnet"] if args.vpjnd else [])]
    predictors = {}  # (task, ppd) -> the predictors for that viewing condition, in the order of ``names``
    for task in args.tasks.split(","):
        for display in args.displays.split(","):
            condition = ViewingCondition(DISPLAY_PPD[display], task)
            predictors[task, display] = [SGJNDPredictor(args.weights, condition=condition),
                                         PooledVisibilityPredictor(default_params(None, task), condition=condition)]
            if args.vpjnd:
                predictors[task, display].append(VPJNDPredictor(args.vpjnd_weights, condition=condition))
    labels = read_labels(args.labels)
    train = read_labels(args.train_labels)
    root = Path(args.shared) / "data" / "images"
    header = f"{'codec':6s} {'task':12s} {'ppd':>4s} {'images':>6s} " + " ".join(
        f"{name + ' MAE':>13s} {'95% interval':>12s} {'bias':>6s} {'grid':>5s} {'enc':>5s}" for name in names
    ) + f" {'const MAE':>9s}"
    print("free: the training-free predictor; grid: the MAE with each prediction read on the labels' level grid "
          "(to_label_grid; for labels read at every level, the MAE itself); 95% interval: of the MAE, bootstrap "
          "over the images")
    print(header)
    print("-" * len(header))
    runs = [(codec, key, here) for codec in args.codecs.split(",") for key, here in predictors.items()]
    caveats: set[str] = set()
    for codec_name, (task, display), here in runs:
        chosen = sorted((lb for lb in labels if lb.codec == codec_name and lb.display == display and lb.task == task),
                        key=lambda lb: lb.image)[: args.images]
        if not chosen:
            continue
        codec = create_codec(codec_name)
        constant = float(np.median([lb.pwjnd_level for lb in train if lb.codec == codec_name
                                    and lb.display == display and lb.task == task]))
        rows = [{k: [] for k in ("mae", "bias", "grid", "enc")} for _ in here]
        const: list[float] = []
        said: set[str] = set()  # what the predictions said of themselves (params.caveats)
        for label in chosen:
            image = load(root / label.image)
            for predictor, row in zip(here, rows, strict=True):
                result = predictor.predict(image, codec)
                said.update(result.params.get("caveats", ()))
                row["mae"].append(abs(result.level - label.pwjnd_level))
                row["bias"].append(result.level - label.pwjnd_level)
                row["grid"].append(abs(to_label_grid(result.level, codec_name, label.levels) - label.pwjnd_level))
                row["enc"].append(result.encodes)
            const.append(abs(constant - label.pwjnd_level))
        cells = " ".join(
            f"{np.mean(row['mae']):13.2f} {fmt_interval(row['mae']):>12s} {np.mean(row['bias']):+6.2f} "
            f"{np.mean(row['grid']):5.2f} {np.mean(row['enc']):5.1f}" for row in rows
        )
        print(f"{codec_name:6s} {task:12s} {DISPLAY_PPD[display]:4.0f} {len(chosen):6d} {cells} "
              f"{np.mean(const):9.2f}{'  ⚠' if said else ''}", flush=True)
        caveats.update(said)
    print_caveats(caveats)
    from PIL import Image

    path = root / "kodak" / "kodim23.png"
    if not path.exists():
        path = sample_image()
    rgb = np.asarray(Image.open(path).convert("RGB").resize((1920, 1080), Image.Resampling.BICUBIC))
    codec = create_codec("jpeg")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = sgjnd.predict(rgb, codec)
        times.append(time.perf_counter() - start)
    print(f"\nSG-JND whole sliding-window prediction, 1920x1080, CPU ({args.threads} threads): "
          f"{statistics.median(times):.2f} s median of 3 ({result.encodes} levels evaluated, "
          f"{len(result.params['patch_positions'])} patches)")
    if args.reference_json:
        sample = SGJNDPredictor(args.weights).predict(load(sample_image()), codec)
        Path(args.reference_json).write_text(json.dumps({"sample_image": {
            "level": sample.level, "trace": sample.trace, "patch_weights": sample.params["patch_weights"]}}, indent=1))
        print(f"wrote {args.reference_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
