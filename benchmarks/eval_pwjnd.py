"""Evaluate the training-free PW-JND predictor on Kodak against the fitted reference (cvvdp proxy) labels.

Per codec (JPEG, WebP, AVIF): mean absolute error in levels against the held-out Kodak labels
(resources/labels/pwjnd_reference_kodak.csv, display standard_fhd = 38 ppd), the bias, the rank correlation
(Spearman rho) with the labels, the error of the best constant prediction (the training labels' median) for
comparison, the bit-rate saving at the predicted and at the reference level, and encodes per image. For JPEG also
the predicted distribution next to the human statistics
(MCL-JCI mean first-JND QF 28.1, sd 7.8, range 16.9-52.1) and, as a check of the viewing-condition input, the error at
75 ppd against the standard_4k labels with the same thresholds. Finally the wall time per 1080p image of the predictor
and of the same block search driven by cvvdp (tools/cvvdp/cvvdp_search.py, run in its own environment), in the
same run.

Usage: .venv/bin/python benchmarks/eval_pwjnd.py [--codecs jpeg,webp,avif] [--images 24] [--no-cvvdp]
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

from benchmarks.bench_jnd import machine_lines  # noqa: E402
from jndviewer.core.codecs import create_codec  # noqa: E402
from jndviewer.core.image import load  # noqa: E402
from jndviewer.core.pwjnd.labels import read_labels  # noqa: E402
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor, default_params  # noqa: E402
from jndviewer.core.viewing import ViewingCondition  # noqa: E402

HUMAN = {"mean": 28.1, "sd": 7.8, "min": 16.9, "max": 52.1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", default="jpeg,webp,avif", help="codecs to evaluate ('none': only the speed)")
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--shared", default=str(REPO.parent / "shared"))
    parser.add_argument("--labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_kodak.csv"))
    parser.add_argument("--train-labels", default=str(REPO / "resources" / "labels" / "pwjnd_reference_train.csv"))
    parser.add_argument("--no-cvvdp", action="store_true", help="skip the cvvdp timing comparison")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the per-image results here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    images_root = Path(args.shared) / "data" / "images"
    labels = read_labels(args.labels)
    train = read_labels(args.train_labels)
    base = default_params()
    print("\n".join(machine_lines()))
    print(f"predictor: {base}")
    print(f"labels: {Path(args.labels).name} (cvvdp proxy, 9.0 JOD); Kodak is never used for calibration\n")
    header = (f"{'codec':6s} {'ppd':>4s} {'images':>6s} {'MAE':>6s} {'bias':>6s} {'rho':>5s} {'const MAE':>9s} "
              f"{'saving pred':>11s} {'saving ref':>10s} {'encodes':>8s} {'s/image':>8s}")
    print(header)
    print("-" * len(header))
    per_image: list[dict] = []
    jpeg_predictions: list[int] = []
    for codec_name in [name for name in args.codecs.split(",") if name not in ("", "none")]:
        codec = create_codec(codec_name)
        for display, ppd in (("standard_fhd", 38.0), ("standard_4k", 75.0)):
            if display == "standard_4k" and codec_name != "jpeg":
                continue
            chosen = sorted(
                (lb for lb in labels if lb.codec == codec_name and lb.display == display), key=lambda lb: lb.image
            )[: args.images]
            if not chosen:
                print(f"{codec_name:6s} no labels for {display}")
                continue
            constant = float(np.median([lb.pwjnd_level for lb in train if lb.codec == codec_name
                                        and lb.display == display]))
            predictor = PooledVisibilityPredictor(base, condition=ViewingCondition(ppd))
            errors, biases, constant_errors, saving_pred, saving_ref, encodes, seconds = [], [], [], [], [], [], []
            predicted, truth = [], []
            for label in chosen:
                image = load(images_root / label.image)
                result = predictor.predict(image, codec, name=label.image)
                reference_bytes = codec.encode(image.rgb8(), label.pwjnd_level).nbytes
                best_bytes = result.best_nbytes
                errors.append(abs(result.level - label.pwjnd_level))
                biases.append(result.level - label.pwjnd_level)
                predicted.append(result.level)
                truth.append(label.pwjnd_level)
                constant_errors.append(abs(constant - label.pwjnd_level))
                saving_pred.append(result.bitrate_saving)
                saving_ref.append(1.0 - reference_bytes / best_bytes)
                encodes.append(result.encodes)
                seconds.append(result.seconds)
                per_image.append({"image": label.image, "codec": codec_name, "ppd": ppd, "predicted": result.level,
                                  "reference": label.pwjnd_level, "encodes": result.encodes})
                if codec_name == "jpeg" and display == "standard_fhd":
                    jpeg_predictions.append(result.level)
            rho = spearmanr(predicted, truth)[0] if len(chosen) > 2 else float("nan")
            print(f"{codec_name:6s} {ppd:4.0f} {len(chosen):6d} {np.mean(errors):6.2f} {np.mean(biases):+6.2f} "
                  f"{rho:5.2f} {np.mean(constant_errors):9.2f} {100 * np.mean(saving_pred):10.1f}% "
                  f"{100 * np.mean(saving_ref):9.1f}% "
                  f"{np.mean(encodes):8.1f} {np.mean(seconds):8.2f}", flush=True)
    if jpeg_predictions:
        values = np.asarray(jpeg_predictions, dtype=float)
        print(f"\npredicted JPEG PW-JND on Kodak (38 ppd): mean {values.mean():.1f}, sd {values.std():.1f}, "
              f"range {values.min():.0f}-{values.max():.0f}; human MCL-JCI first JND: mean {HUMAN['mean']}, "
              f"sd {HUMAN['sd']}, range {HUMAN['min']}-{HUMAN['max']}")
    if not args.no_cvvdp:
        compare_speed(images_root / "kodak" / "kodim23.png", base)
    if args.json:
        Path(args.json).write_text(json.dumps(per_image, indent=1))
    return 0


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
    raise SystemExit(main())
