"""Evaluate the training-free PW-JND predictor on Kodak against the fitted reference (cvvdp proxy) labels.

Per codec (JPEG, WebP, AVIF, and HEIF when its labels are given), viewing task (side by side, flicker) and viewing
distance (38 ppd: display standard_fhd; 75 ppd: standard_4k): mean absolute error in levels against the held-out Kodak
labels (resources/labels/pwjnd_reference_kodak.csv), the bias, the rank correlation (Spearman rho) with the labels,
the error of the best constant prediction (the training labels' median) for comparison, the mean predicted and
labelled level, the bit-rate saving at the predicted and at the reference level, and encodes per image. For JPEG also
the predicted side-by-side distribution next to the human statistics (MCL-JCI mean first-JND QF 28.1, sd 7.8, range
16.9-52.1), the flicker one next to its labels, and the ratio of the flicker to the side-by-side threshold. Finally
the wall time per 1080p image of the predictor and of the same block search driven by cvvdp
(tools/cvvdp/cvvdp_search.py, run in its own environment), in the same run.

Usage: .venv/bin/python benchmarks/eval_pwjnd.py [--codecs jpeg,webp,avif] [--tasks side-by-side,flicker]
       [--images 24] [--no-cvvdp] [--labels A.csv,B.csv] [--train-labels A.csv,B.csv]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_jnd import fmt_interval, machine_lines, print_caveats  # noqa: E402
from benchmarks.entry import run_script  # noqa: E402
from jndviewer.cli_options import TRAINING_LABELS_EVERY_LEVEL  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.pwjnd.calibrate import to_label_grid  # noqa: E402
from jndviewer.core.pwjnd.calibration import calibrated_threshold  # noqa: E402
from jndviewer.core.pwjnd.labels import DISPLAY_PPD, read_labels  # noqa: E402
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor, default_params  # noqa: E402
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASKS, ViewingCondition  # noqa: E402

HUMAN = {"mean": 28.1, "sd": 7.8, "min": 16.9, "max": 52.1}
LABELS = REPO / "resources" / "labels"
KODAK_LABELS = (LABELS / "pwjnd_reference_kodak.csv", LABELS / "pwjnd_reference_kodak_heif.csv")
#: The constant baseline's training labels, read at every level as the Kodak labels are (eval_sgjnd.py's default);
#: HEIF's training labels exist on the curves' grid only.
TRAIN_LABELS = (REPO / TRAINING_LABELS_EVERY_LEVEL, LABELS / "pwjnd_reference_train_heif.csv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", default="jpeg,webp,avif", help="codecs to evaluate ('none': only the speed)")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--tasks", default=",".join(TASKS), help="viewing tasks to evaluate")
    parser.add_argument("--displays", default="standard_fhd,standard_4k")
    parser.add_argument("--labels", default=",".join(str(p) for p in KODAK_LABELS if p.exists()),
                        help="Kodak label files (comma-separated)")
    parser.add_argument("--train-labels", default=",".join(str(p) for p in TRAIN_LABELS if p.exists()),
                        help="training label files, for the constant baseline")
    parser.add_argument("--no-cvvdp", action="store_true", help="skip the cvvdp timing comparison")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the per-image results here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    images_root = Path(args.shared) / "data" / "images"
    labels = [label for path in args.labels.split(",") for label in read_labels(path)]
    train = [label for path in args.train_labels.split(",") for label in read_labels(path)]
    base = default_params()
    print("\n".join(machine_lines()))
    for task in args.tasks.split(","):
        print(f"predictor, {task}: {default_params(None, task)}")
    names = ", ".join(Path(path).name for path in args.labels.split(","))
    print(f"labels: {names} (cvvdp proxy: side by side 9.0 JOD, flicker 9.68 JOD); Kodak is never used for "
          "calibration\n")
    print("grid: the MAE with each prediction read on the labels' level grid (to_label_grid; for labels read at every "
          "level, the MAE itself); 95% interval: of the "
          "MAE, bootstrap over the images")
    header = (f"{'codec':6s} {'task':12s} {'ppd':>4s} {'images':>6s} {'MAE':>6s} {'95% interval':>12s} {'bias':>6s} "
              f"{'grid':>5s} {'rho':>5s} "
              f"{'const MAE':>9s} {'mean pred':>9s} {'mean ref':>8s} {'saving pred':>11s} {'saving ref':>10s} "
              f"{'encodes':>8s} {'s/image':>8s}")
    print(header)
    print("-" * len(header))
    per_image: list[dict] = []
    caveats: set[str] = set()  # what the predictions said of themselves (borrowed or weak thresholds)
    jpeg_predictions: dict[str, list[int]] = {}
    jpeg_labels: dict[str, list[int]] = {}
    runs = [(codec, task, display) for codec in args.codecs.split(",") if codec not in ("", "none")
            for task in args.tasks.split(",") for display in args.displays.split(",")]
    for codec_name, task, display in runs:
        codec = create_codec(codec_name)
        ppd = DISPLAY_PPD[display]
        chosen = sorted(
            (lb for lb in labels if lb.codec == codec_name and lb.display == display and lb.task == task),
            key=lambda lb: lb.image,
        )[: args.images]
        if not chosen:
            print(f"{codec_name:6s} {task:12s} {ppd:4.0f} no labels")
            continue
        constant = float(np.median([lb.pwjnd_level for lb in train if lb.codec == codec_name
                                    and lb.display == display and lb.task == task] or [np.nan]))
        predictor = PooledVisibilityPredictor(default_params(None, task), condition=ViewingCondition(ppd, task))
        errors, biases, constant_errors, saving_pred, saving_ref, encodes, seconds = [], [], [], [], [], [], []
        grid_errors = []
        row_caveats: set[str] = set()
        predicted, truth = [], []
        for label in chosen:
            image = load(images_root / label.image)
            result = predictor.predict(image, codec, name=label.image)
            reference_bytes = codec.encode(image.rgb8(), label.pwjnd_level).nbytes
            best_bytes = result.best_nbytes
            errors.append(abs(result.level - label.pwjnd_level))
            grid_errors.append(abs(to_label_grid(result.level, codec_name, label.levels) - label.pwjnd_level))
            biases.append(result.level - label.pwjnd_level)
            predicted.append(result.level)
            truth.append(label.pwjnd_level)
            constant_errors.append(abs(constant - label.pwjnd_level))
            saving_pred.append(result.bitrate_saving)
            saving_ref.append(1.0 - reference_bytes / best_bytes)
            encodes.append(result.encodes)
            seconds.append(result.seconds)
            row_caveats.update(result.params.get("caveats", ()))
            per_image.append({"image": label.image, "codec": codec_name, "task": task, "ppd": ppd,
                              "predicted": result.level, "reference": label.pwjnd_level,
                              "encodes": result.encodes})
            if codec_name == "jpeg" and display == "standard_fhd":
                jpeg_predictions.setdefault(task, []).append(result.level)
                jpeg_labels.setdefault(task, []).append(label.pwjnd_level)
        rho = spearmanr(predicted, truth)[0] if len(chosen) > 2 else float("nan")
        print(f"{codec_name:6s} {task:12s} {ppd:4.0f} {len(chosen):6d} {np.mean(errors):6.2f} "
              f"{fmt_interval(errors):>12s} {np.mean(biases):+6.2f} {np.mean(grid_errors):5.2f} {rho:5.2f} "
              f"{np.mean(constant_errors):9.2f} {np.mean(predicted):9.1f} "
              f"{np.mean(truth):8.1f} {100 * np.mean(saving_pred):10.1f}% {100 * np.mean(saving_ref):9.1f}% "
              f"{np.mean(encodes):8.1f} {np.mean(seconds):8.2f}{'  ⚠' if row_caveats else ''}", flush=True)
        caveats.update(row_caveats)
    print_caveats(caveats)
    for task, levels in jpeg_predictions.items():
        values, truth = np.asarray(levels, dtype=float), np.asarray(jpeg_labels[task], dtype=float)
        against = (f"human MCL-JCI first JND: mean {HUMAN['mean']}, sd {HUMAN['sd']}, range {HUMAN['min']}-"
                   f"{HUMAN['max']}" if task == SIDE_BY_SIDE else
                   f"its labels: mean {truth.mean():.1f}, sd {truth.std():.1f}, "
                   f"range {truth.min():.0f}-{truth.max():.0f}")
        print(f"\npredicted JPEG PW-JND on Kodak, {task} at 38 ppd: mean {values.mean():.1f}, sd {values.std():.1f}, "
              f"range {values.min():.0f}-{values.max():.0f}; {against}")
    print_threshold_ratios(base, args.codecs.split(","), args.displays.split(","))
    if not args.no_cvvdp:
        compare_speed(images_root / "kodak" / "kodim23.png", base)
    if args.json:
        Path(args.json).write_text(json.dumps(per_image, indent=1))
    return 0


def print_threshold_ratios(base, codecs: list[str], displays: list[str]) -> None:
    """The calibrated thresholds of both tasks and their ratio (KonJND-1k: flicker about twice as sensitive)."""
    print("\ncalibrated thresholds (pooled visibility) side by side / flicker and their ratio:")
    for codec in [c for c in codecs if c not in ("", "none")]:
        for display in displays:
            ppd = DISPLAY_PPD[display]
            side = calibrated_threshold(base, codec, ViewingCondition(ppd, SIDE_BY_SIDE))
            flicker = calibrated_threshold(base, codec, ViewingCondition(ppd, FLICKER))
            print(f"  {codec:5s} {ppd:3.0f} ppd: {side:.3f} / {flicker:.3f} = {side / flicker:.2f}")


def compare_speed(path: Path, base) -> None:
    """Wall time of one 1080p PW-JND: the predictor vs the same block search decided by cvvdp."""
    from PIL import Image

    rgb = np.asarray(Image.open(path).convert("RGB").resize((1920, 1080), Image.Resampling.BICUBIC))
    codec = create_codec("jpeg")
    predictor = PooledVisibilityPredictor(base)
    times, encodes = [], []
    for _ in range(3):
        start = time.perf_counter()
        result = predictor.predict(rgb, codec)
        times.append(time.perf_counter() - start)
        encodes.append(result.encodes)
    ours = statistics.median(times)
    print(f"\n1080p ({path.name} resized), JPEG, block search: predictor {ours:.2f} s "
          f"({encodes[0]} encodes, level {result.level})")
    python = REPO / "tools" / "cvvdp" / ".venv" / "bin" / "python"
    if not python.exists():
        print("cvvdp environment not set up (tools/cvvdp/README.md): speed comparison skipped")
        return
    temporary = REPO / "runs" / "eval_1080p.png"
    temporary.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(temporary)
    run = subprocess.run([str(python), str(REPO / "tools" / "cvvdp" / "cvvdp_search.py"), str(temporary)],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        print(f"cvvdp search failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}")
        return
    other = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"cvvdp-decided block search: {other['seconds']:.2f} s ({other['encodes']} encodes, level "
          f"{other['level']}); speed-up {other['seconds'] / ours:.1f}x")


if __name__ == "__main__":
    raise SystemExit(run_script(main))
