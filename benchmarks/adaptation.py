"""The JND-based adaptation experiment of the CNN-oriented JND work (Shen et al., IEEE TMM 2025), on these CPUs.

Claim under test: a restoration network fine-tuned toward JND images (its own kind of distortion, CNN-autoencoder
distortion, held at the visibility threshold) instead of pristine images gains perceptual quality without a change
of network or loss. One command runs every step, each resumable (run it again after an interruption):

1. **JND targets**: each training image (BSDS500 val and McMaster; Kodak is held out) exported at its predicted
   PW-JND on jndviewer's ``autoencoder`` ladder, side by side at 38 ppd, exactly as ``jndviewer export --codec
   autoencoder --decoded`` writes them (the training-free visibility predictor, calibrated for the autoencoder).
2. **A common start**: the ESPCN-sized x2 restorer (benchmarks/adaptation_restorer.py) trained toward the pristine
   images.
3. **Two arms from that start**, the same batches and steps: fine-tuned toward the pristine images, and toward the
   JND images (the input is always the downscaled pristine image).
4. **Kodak evaluation**: PSNR and MS-SSIM (distortion) of bicubic upsampling, the start and both arms against the
   pristine image; ColorVideoVDP JOD (standard_fhd, 38 ppd) and the BRISQUE no-reference index through
   tools/cvvdp/score_folders.py (its own environment, set up here when absent).
5. **Report**: the table (printed, and RUN/table.md) and the perception-distortion plot (``--plot``).

Usage: .venv/bin/python benchmarks/adaptation.py [--run runs/adaptation] [--pretrain-steps 3000]
       [--finetune-steps 2000] [--train-images 118] [--eval-images 24] [--plot docs/screenshots/adaptation.png]
       [--no-perceptual] [--threads 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.adaptation_restorer import (  # noqa: E402
    TrainingPair,
    TrainingPlan,
    downscale,
    load_restorer,
    restore,
    train,
)

SHARED_IMAGES = REPO.parent / "shared" / "data" / "images"
CVVDP = REPO / "tools" / "cvvdp"
CONDITION = {"ppd": 38.0, "task": "side-by-side"}
ARMS = ("bicubic", "start", "pristine", "jnd")
ARM_TITLES = {"bicubic": "bicubic upsampling", "start": "common start (toward pristine)",
              "pristine": "fine-tuned toward pristine", "jnd": "fine-tuned toward JND images"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def training_images(root: Path, count: int) -> list[Path]:
    """BSDS500 val then McMaster, sorted (the BSDS500 test images labelled the autoencoder's calibration)."""
    from jndviewer.core.batch import collect_images

    images = collect_images([root / "bsds500" / "val", root / "mcmaster"])
    return images[:count]


def jnd_targets(images: list[Path], root: Path, run: Path) -> list[Path]:
    """Step 1: each image at its predicted autoencoder PW-JND (decoded PNG and sidecar), skipping finished ones."""
    from jndviewer.core.batch import write_image_at_level
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load
    from jndviewer.core.pwjnd.registry import create_predictor
    from jndviewer.core.viewing import ViewingCondition

    codec = create_codec("autoencoder")
    predictor = create_predictor("visibility", condition=ViewingCondition(**CONDITION))
    targets = [(run / "jnd_targets" / path.relative_to(root)).with_suffix(".png") for path in images]
    todo = [(p, t) for p, t in zip(images, targets, strict=True) if not t.with_name(t.name + ".json").exists()]
    started = time.perf_counter()
    for index, (path, target) in enumerate(todo, 1):
        image = load(path)
        result = predictor.predict(image, codec, name=str(path))
        write_image_at_level(image, codec, result, target, path, decoded=True)
        log(f"JND target {index}/{len(todo)}: {path.name} at degradation level {result.level} "
            f"({(time.perf_counter() - started) / index:.1f} s per image)")
    return targets


def target_levels(targets: list[Path]) -> list[int]:
    return [json.loads(t.with_name(t.name + ".json").read_text())["pwjnd"]["level"] for t in targets]


def pairs(images: list[Path], targets: list[Path] | None) -> list[TrainingPair]:
    from jndviewer.core.image import load

    made = []
    for index, path in enumerate(images):
        pristine = load(path).rgb8()
        target = pristine if targets is None else load(targets[index]).rgb8()
        made.append(TrainingPair.make(pristine, target))
    return made


def msssim(reference: np.ndarray, restored: np.ndarray) -> float:
    import torch
    from pytorch_msssim import ms_ssim

    as_tensor = lambda rgb: torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None]  # noqa: E731
    return float(ms_ssim(as_tensor(reference), as_tensor(restored), data_range=255.0))


def evaluate(run: Path, eval_images: list[Path]) -> dict[str, dict[str, float]]:
    """Step 4a: every arm's Kodak outputs (PNG, for the perceptual scores) and their PSNR and MS-SSIM."""
    import torch.nn.functional as F
    from PIL import Image

    from benchmarks.adaptation_restorer import to_rgb, to_tensor
    from jndviewer.core.image import load
    from jndviewer.core.metrics import psnr

    models = {arm: load_restorer(run / f"{arm}.pt")[0] for arm in ("start", "pristine", "jnd")}
    rows: dict[str, dict[str, list[float]]] = {arm: {"psnr": [], "msssim": []} for arm in ARMS}
    for path in eval_images:
        pristine = load(path).rgb8()
        low = downscale(pristine)
        reference = pristine[:low.shape[0] * 2, :low.shape[1] * 2]
        outputs = {"bicubic": to_rgb(F.interpolate(to_tensor(low), scale_factor=2, mode="bicubic",
                                                   align_corners=False))}
        outputs |= {arm: restore(model, low) for arm, model in models.items()}
        for arm, restored in outputs.items():
            folder = run / "kodak" / arm
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(restored).save(folder / f"{path.stem}.png")
            rows[arm]["psnr"].append(psnr(reference, restored))
            rows[arm]["msssim"].append(msssim(reference, restored))
    return {arm: {k: float(np.mean(v)) for k, v in values.items()} for arm, values in rows.items()}


def cvvdp_python() -> Path:
    """tools/cvvdp's environment, set up from its requirements when absent (package registries only)."""
    python = CVVDP / ".venv" / "bin" / "python"
    if not python.exists():
        log("setting up tools/cvvdp/.venv (cvvdp, BRISQUE) for the perceptual scores")
        subprocess.run([sys.executable, "-m", "venv", str(CVVDP / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(CVVDP / "requirements.txt")], check=True)
    return python


def perceptual(run: Path, reference: Path, threads: int) -> dict[str, dict[str, float]]:
    """Step 4b: mean JOD (38 ppd) and BRISQUE of every arm's Kodak outputs."""
    scores = run / "perceptual.csv"
    folders = [str(run / "kodak" / arm) for arm in ARMS]
    subprocess.run([str(cvvdp_python()), str(CVVDP / "score_folders.py"), "--reference", str(reference),
                    "-o", str(scores), "--threads", str(threads), *folders], check=True)
    table: dict[str, dict[str, list[float]]] = {arm: {"jod": [], "brisque": []} for arm in ARMS}
    with scores.open(newline="") as handle:
        for row in csv.DictReader(handle):
            table[row["folder"]]["jod"].append(float(row["jod"]))
            table[row["folder"]]["brisque"].append(float(row["brisque"]))
    return {arm: {k: float(np.mean(v)) for k, v in values.items() if v} for arm, values in table.items()}


def report(results: dict[str, dict[str, float]], run: Path, levels: list[int], args: argparse.Namespace) -> str:
    counts = {level: levels.count(level) for level in sorted(set(levels))}
    lines = [
        f"x2 super-resolution, Kodak ({args.eval_images} images); trained on {len(levels)} BSDS500-val/McMaster "
        f"images: {args.pretrain_steps} steps toward pristine (the common start), then {args.finetune_steps} steps "
        "per arm from it.",
        "JND targets: autoencoder degradation level at the predicted PW-JND, side by side at 38 ppd (training-free "
        f"visibility predictor); levels used: {', '.join(f'{k}: {v}' for k, v in counts.items())}.",
        "",
        "| restorer | PSNR dB ↑ | MS-SSIM ↑ | JOD (38 ppd) ↑ | BRISQUE ↓ |",
        "|---|---|---|---|---|",
    ]
    for arm in ARMS:
        r = results[arm]
        lines.append(f"| {ARM_TITLES[arm]} | {r['psnr']:.2f} | {r['msssim']:.4f} | "
                     f"{r.get('jod', float('nan')):.3f} | {r.get('brisque', float('nan')):.2f} |")
    text = "\n".join(lines)
    (run / "table.md").write_text(text + "\n")
    (run / "results.json").write_text(json.dumps(results, indent=1))
    return text


def plot(results: dict[str, dict[str, float]], path: Path) -> None:
    """The perception-distortion plane (Blau and Michaeli, CVPR 2018): distortion on x, perception on y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4.2), dpi=110)
    for axis, (key, label) in zip(axes, (("jod", "ColorVideoVDP JOD at 38 ppd (higher: less visible)"),
                                         ("brisque", "BRISQUE (lower: more natural)")), strict=True):
        for arm in ARMS:
            r = results[arm]
            if key not in r:
                continue
            axis.scatter(r["psnr"], r[key], s=60)
            axis.annotate(ARM_TITLES[arm], (r["psnr"], r[key]), textcoords="offset points", xytext=(6, 4),
                          fontsize=8)
        axis.set_xlabel("PSNR against pristine, dB (distortion: right is better)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.margins(x=0.35, y=0.2)
    axes[1].invert_yaxis()  # up is better in both panels
    figure.suptitle("Kodak x2 super-resolution: fine-tuning toward pristine vs JND images", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=REPO / "runs" / "adaptation")
    parser.add_argument("--images", type=Path, default=SHARED_IMAGES, help="the shared image root")
    parser.add_argument("--pretrain-steps", type=int, default=3000)
    parser.add_argument("--finetune-steps", type=int, default=2000)
    parser.add_argument("--train-images", type=int, default=118)
    parser.add_argument("--eval-images", type=int, default=24)
    parser.add_argument("--plot", type=Path, help="write the perception-distortion plot here (PNG)")
    parser.add_argument("--no-perceptual", action="store_true", help="PSNR and MS-SSIM only (no tools/cvvdp)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if not (args.images / "kodak").is_dir():
        parser.error(f"{args.images} holds no kodak folder: give the shared image root with --images")
    args.run.mkdir(parents=True, exist_ok=True)
    images = training_images(args.images, args.train_images)
    targets = jnd_targets(images, args.images, args.run)
    levels = target_levels(targets)
    pristine_pairs = pairs(images, None)
    start_plan = TrainingPlan(steps=args.pretrain_steps, learning_rate=1e-3, seed=0)
    train(pristine_pairs, start_plan, args.run / "start.pt", log=log)
    tune = TrainingPlan(steps=args.finetune_steps, learning_rate=2e-4, seed=1)
    train(pristine_pairs, tune, args.run / "pristine.pt", start=args.run / "start.pt", log=log)
    train(pairs(images, targets), tune, args.run / "jnd.pt", start=args.run / "start.pt", log=log)
    from jndviewer.core.batch import collect_images

    kodak = collect_images([args.images / "kodak"])[:args.eval_images]
    results = evaluate(args.run, kodak)
    if not args.no_perceptual:
        for arm, scores in perceptual(args.run, args.images / "kodak", args.threads).items():
            results[arm] |= scores
    print(report(results, args.run, levels, args))
    if args.plot:
        plot(results, args.plot)
        log(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
