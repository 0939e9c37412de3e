"""SG-JND on Kodak: accuracy against the fitted reference labels next to the training-free predictor, and speed.

For each codec: the mean absolute error in levels of SG-JND and of the training-free visibility predictor against
the held-out Kodak proxy labels (resources/labels/pwjnd_reference_kodak.csv, 38 ppd), the best constant prediction
for scale, and encodes per image. Then the whole sliding-window prediction time per 1920x1080 image on the CPU (and
on CUDA when present). ``--reference-json`` writes the prediction on the bundled sample image, which the tests check
the shipped weights against.

Usage: .venv/bin/python benchmarks/eval_sgjnd.py [--codecs jpeg,webp]
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
from jndviewer.core.assets import sample_image  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.pwjnd.calibrate import to_label_grid  # noqa: E402
from jndviewer.core.pwjnd.labels import DISPLAY_PPD, read_labels  # noqa: E402
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor, default_params  # noqa: E402
from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor  # noqa: E402
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
    parser.add_argument("--train-labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_train.csv"))
    parser.add_argument("--reference-json", help="write the sample image's prediction here (for the tests)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    sgjnd = SGJNDPredictor(args.weights)
    visibility = PooledVisibilityPredictor(default_params())
    print("\n".join(machine_lines()))
    print(f"SG-JND: {sgjnd.network.config}; training-free: {visibility.params}\n")
    predictors = {}  # (task, ppd) -> (SG-JND, training-free) for that viewing condition
    for task in args.tasks.split(","):
        for display in args.displays.split(","):
            condition = ViewingCondition(DISPLAY_PPD[display], task)
            predictors[task, display] = (SGJNDPredictor(args.weights, condition=condition),
                                         PooledVisibilityPredictor(default_params(None, task), condition=condition))
    labels = read_labels(args.labels)
    train = read_labels(args.train_labels)
    root = Path(args.shared) / "data" / "images"
    header = (f"{'codec':6s} {'task':12s} {'ppd':>4s} {'images':>6s} {'SG-JND MAE':>10s} {'95% interval':>12s} "
              f"{'bias':>6s} {'grid':>5s} {'enc':>5s} {'free MAE':>9s} {'95% interval':>12s} {'bias':>6s} "
              f"{'grid':>5s} {'enc':>5s} {'const MAE':>9s}")
    print("grid: the MAE with each prediction read on the labels' level grid (to_label_grid); 95% interval: of the "
          "MAE, bootstrap over the images")
    print(header)
    print("-" * len(header))
    runs = [(codec, key, pair) for codec in args.codecs.split(",") for key, pair in predictors.items()]
    caveats: set[str] = set()
    for codec_name, (task, display), (sgjnd_here, visibility_here) in runs:
        chosen = sorted((lb for lb in labels if lb.codec == codec_name and lb.display == display and lb.task == task),
                        key=lambda lb: lb.image)[: args.images]
        if not chosen:
            continue
        codec = create_codec(codec_name)
        constant = float(np.median([lb.pwjnd_level for lb in train if lb.codec == codec_name
                                    and lb.display == display and lb.task == task]))
        rows: dict[str, list[float]] = {k: [] for k in ("sg", "sg_bias", "sg_grid", "sg_enc", "free", "free_bias",
                                                          "free_grid", "free_enc", "const")}
        said: set[str] = set()  # what the predictions said of themselves (params.caveats)
        for label in chosen:
            image = load(root / label.image)
            a = sgjnd_here.predict(image, codec)
            b = visibility_here.predict(image, codec)
            said.update(a.params.get("caveats", ()), b.params.get("caveats", ()))
            rows["sg"].append(abs(a.level - label.pwjnd_level))
            rows["sg_bias"].append(a.level - label.pwjnd_level)
            rows["sg_enc"].append(a.encodes)
            rows["sg_grid"].append(abs(to_label_grid(a.level, codec_name) - label.pwjnd_level))
            rows["free_grid"].append(abs(to_label_grid(b.level, codec_name) - label.pwjnd_level))
            rows["free"].append(abs(b.level - label.pwjnd_level))
            rows["free_bias"].append(b.level - label.pwjnd_level)
            rows["free_enc"].append(b.encodes)
            rows["const"].append(abs(constant - label.pwjnd_level))
        mean = {k: float(np.mean(v)) for k, v in rows.items()}
        print(f"{codec_name:6s} {task:12s} {DISPLAY_PPD[display]:4.0f} {len(chosen):6d} {mean['sg']:10.2f} "
              f"{fmt_interval(rows['sg']):>12s} {mean['sg_bias']:+6.2f} {mean['sg_grid']:5.2f} {mean['sg_enc']:5.1f} "
              f"{mean['free']:9.2f} {fmt_interval(rows['free']):>12s} {mean['free_bias']:+6.2f} "
              f"{mean['free_grid']:5.2f} {mean['free_enc']:5.1f} {mean['const']:9.2f}"
              f"{'  ⚠' if said else ''}", flush=True)
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
    raise SystemExit(main())
