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
   JND images (the input is always the downscaled pristine image); each arm once per batch seed (``--seeds``), so
   the spread that training alone makes is measured beside the difference the targets make.
4. **Kodak evaluation**: PSNR and MS-SSIM (distortion) of bicubic upsampling, the start and both arms against the
   pristine image; ColorVideoVDP JOD (standard_fhd, 38 ppd) and the BRISQUE no-reference index through
   tools/cvvdp/score_folders.py (its own environment, set up here when absent).
5. **Report**: the table (printed, and RUN/table.md): each arm's Kodak means (over seeds, with their spread), and
   the paired per-image difference JND minus pristine (seed-averaged; on how many images the JND arm is better,
   and the Wilcoxon signed-rank p-value); and the perception-distortion plot (``--plot``).

Usage: .venv/bin/python benchmarks/adaptation.py [--run runs/adaptation] [--pretrain-steps 3000]
       [--finetune-steps 2000] [--seeds 3] [--train-images 118] [--eval-images 24]
       [--plot docs/screenshots/adaptation.png] [--no-perceptual] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import subprocess
import sys
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
from benchmarks.entry import run_script  # noqa: E402

SHARED_IMAGES = REPO.parent / "shared" / "data" / "images"
CVVDP = REPO / "tools" / "cvvdp"
CONDITION = {"ppd": 38.0, "task": "side-by-side"}
ARMS = ("bicubic", "start", "pristine", "jnd")
ARM_TITLES = {"bicubic": "bicubic upsampling", "start": "common start (toward pristine)",
              "pristine": "fine-tuned toward pristine", "jnd": "fine-tuned toward JND images"}
METRICS = ("psnr", "msssim", "jod", "brisque")
HIGHER_IS_BETTER = {"psnr": True, "msssim": True, "jod": True, "brisque": False}


def run_name(arm: str, seed: int) -> str:
    """A trained restorer's name: its arm, and its batch seed after the first (``pristine``, ``pristine_s2``)."""
    return arm if arm in ("bicubic", "start") or seed == 1 else f"{arm}_s{seed}"


def run_names(seeds: int) -> list[str]:
    return ["bicubic", "start", *(run_name(arm, seed) for seed in range(1, seeds + 1) for arm in ("pristine", "jnd"))]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def training_images(root: Path, count: int) -> list[Path]:
    """BSDS500 val then McMaster, sorted (the BSDS500 test images labelled the autoencoder's calibration)."""
    from jndviewer.core.batch import collect_images

    images = collect_images([root / "bsds500" / "val", root / "mcmaster"])
    return images[:count]


def jnd_targets(images: list[Path], root: Path, run: Path) -> list[Path]:
    """Step 1: each image at its predicted autoencoder PW-JND, by ``jndviewer export --decoded``'s own code (decoded
    PNG and sidecar; its lines go to stderr), skipping images whose sidecar is written."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.outputs import export_images
    from jndviewer.core.pwjnd.registry import create_predictor
    from jndviewer.core.viewing import ViewingCondition

    targets = [(run / "jnd_targets" / path.relative_to(root)).with_suffix(".png") for path in images]
    todo = [(p, t) for p, t in zip(images, targets, strict=True) if not t.with_name(t.name + ".json").exists()]
    if todo:
        codec = create_codec("autoencoder")
        predictor = create_predictor("visibility", condition=ViewingCondition(**CONDITION))
        with contextlib.redirect_stdout(sys.stderr):
            status = export_images([p for p, _ in todo], [t for _, t in todo], codec, predictor, batch=True,
                                   decoded=True)
        if status:
            raise SystemExit(f"exporting the JND targets failed (exit status {status}); see above")
    return targets


def target_levels(targets: list[Path]) -> list[int]:
    return [json.loads(t.with_name(t.name + ".json").read_text())["pwjnd"]["level"] for t in targets]


def training_pairs(images: list[Path], targets: list[Path]) -> tuple[list[TrainingPair], list[TrainingPair]]:
    """Each image's pairs for the two arms (one low-resolution input, two targets): pristine, and its JND image."""
    from jndviewer.core.image import load

    pristine_pairs, jnd_pairs = [], []
    for path, target in zip(images, targets, strict=True):
        pristine = load(path).rgb8()
        pristine_pairs.append(TrainingPair.make(pristine, pristine))
        jnd_pairs.append(TrainingPair.make(pristine, load(target).rgb8(), low=pristine_pairs[-1].low))
    return pristine_pairs, jnd_pairs


def msssim(reference: np.ndarray, restored: np.ndarray) -> float:
    import torch
    from pytorch_msssim import ms_ssim

    as_tensor = lambda rgb: torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None]  # noqa: E731
    return float(ms_ssim(as_tensor(reference), as_tensor(restored), data_range=255.0))


def evaluate(run: Path, eval_images: list[Path], names: list[str]) -> dict[str, dict[str, list[float]]]:
    """Step 4a: every restorer's Kodak outputs (PNG, for the perceptual scores) and their per-image PSNR and
    MS-SSIM against the pristine image."""
    import torch.nn.functional as F
    from PIL import Image

    from benchmarks.adaptation_restorer import to_rgb, to_tensor
    from jndviewer.core.image import load
    from jndviewer.core.metrics import psnr

    models = {name: load_restorer(run / f"{name}.pt")[0] for name in names if name != "bicubic"}
    rows: dict[str, dict[str, list[float]]] = {name: {"psnr": [], "msssim": []} for name in names}
    for path in eval_images:
        pristine = load(path).rgb8()
        low = downscale(pristine)
        reference = pristine[:low.shape[0] * 2, :low.shape[1] * 2]
        outputs = {"bicubic": to_rgb(F.interpolate(to_tensor(low), scale_factor=2, mode="bicubic",
                                                   align_corners=False))}
        outputs |= {name: restore(model, low) for name, model in models.items()}
        for name, restored in outputs.items():
            folder = run / "kodak" / name
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(restored).save(folder / f"{path.stem}.png")
            rows[name]["psnr"].append(psnr(reference, restored))
            rows[name]["msssim"].append(msssim(reference, restored))
    return rows


def cvvdp_python() -> Path:
    """tools/cvvdp's environment, set up from its requirements when absent (package registries only)."""
    python = CVVDP / ".venv" / "bin" / "python"
    if not python.exists():
        log("setting up tools/cvvdp/.venv (cvvdp, BRISQUE) for the perceptual scores")
        subprocess.run([sys.executable, "-m", "venv", str(CVVDP / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(CVVDP / "requirements.txt")], check=True)
    return python


def perceptual(run: Path, reference: Path, names: list[str], images: list[str],
               threads: int) -> dict[str, dict[str, list[float]]]:
    """Step 4b: per-image JOD (38 ppd) and BRISQUE of every restorer's Kodak outputs, in ``images`` order."""
    scores = run / "perceptual.csv"
    subprocess.run([str(cvvdp_python()), str(CVVDP / "score_folders.py"), "--reference", str(reference),
                    "-o", str(scores), "--threads", str(threads), *(str(run / "kodak" / n) for n in names)],
                   check=True)
    found: dict[tuple[str, str], dict[str, float]] = {}
    with scores.open(newline="") as handle:
        for row in csv.DictReader(handle):
            found[row["folder"], row["image"]] = {"jod": float(row["jod"]), "brisque": float(row["brisque"])}
    return {name: {key: [found[name, image][key] for image in images] for key in ("jod", "brisque")}
            for name in names}


def summarise(per_image: dict[str, dict[str, list[float]]], seeds: int) -> dict[str, dict[str, float]]:
    """Each arm's mean over images, averaged over its seeds, and the spread (sd) of that mean over the seeds."""
    summary: dict[str, dict[str, float]] = {}
    for arm in ARMS:
        names = [run_name(arm, seed) for seed in range(1, seeds + 1)] if arm in ("pristine", "jnd") else [arm]
        for metric in METRICS:
            means = [float(np.mean(per_image[name][metric])) for name in names if metric in per_image[name]]
            if means:
                summary.setdefault(arm, {})[metric] = float(np.mean(means))
                summary[arm][f"{metric}_sd"] = float(np.std(means, ddof=1)) if len(means) > 1 else 0.0
    return summary


def paired(per_image: dict[str, dict[str, list[float]]], seeds: int) -> dict[str, dict[str, float]]:
    """Per metric: the per-image difference JND minus pristine (each arm averaged over its seeds), its mean, on how
    many images the JND arm is better, and the Wilcoxon signed-rank test's two-sided p-value."""
    from scipy.stats import wilcoxon

    out = {}
    for metric in METRICS:
        if metric not in per_image["jnd"]:
            continue
        arms = {arm: np.mean([per_image[run_name(arm, seed)][metric] for seed in range(1, seeds + 1)], axis=0)
                for arm in ("pristine", "jnd")}
        difference = arms["jnd"] - arms["pristine"]
        better = difference > 0 if HIGHER_IS_BETTER[metric] else difference < 0
        p = float(wilcoxon(difference).pvalue) if np.any(difference != 0) else 1.0
        out[metric] = {"mean": float(difference.mean()), "jnd_better": int(better.sum()), "images": len(difference),
                       "p": p}
    return out


def report(summary: dict[str, dict[str, float]], pairs: dict[str, dict[str, float]], run: Path, levels: list[int],
           args: argparse.Namespace) -> str:
    counts = {level: levels.count(level) for level in sorted(set(levels))}
    spread = lambda arm, metric, digits: (  # noqa: E731
        f" ± {summary[arm][metric + '_sd']:.{digits}f}" if arm in ("pristine", "jnd") and args.seeds > 1 else "")
    lines = [
        f"x2 super-resolution, Kodak ({args.eval_images} images); trained on {len(levels)} BSDS500-val/McMaster "
        f"images: {args.pretrain_steps} steps toward pristine (the common start), then {args.finetune_steps} steps "
        f"per arm from it, {args.seeds} batch seed(s) per arm (± : sd over the seeds).",
        "JND targets: autoencoder degradation level at the predicted PW-JND, side by side at 38 ppd (training-free "
        f"visibility predictor); levels used: {', '.join(f'{k}: {v}' for k, v in counts.items())}.",
        "",
        "| restorer | PSNR dB ↑ | MS-SSIM ↑ | JOD (38 ppd) ↑ | BRISQUE ↓ |",
        "|---|---|---|---|---|",
    ]
    for arm in ARMS:
        r = summary[arm]
        cells = [f"{r['psnr']:.2f}{spread(arm, 'psnr', 2)}", f"{r['msssim']:.4f}{spread(arm, 'msssim', 4)}"]
        cells += [f"{r[m]:.{d}f}{spread(arm, m, d)}" if m in r else "n/a" for m, d in (("jod", 3), ("brisque", 2))]
        lines.append(f"| {ARM_TITLES[arm]} | {' | '.join(cells)} |")
    lines += ["", "Paired per image, JND arm minus pristine arm (each averaged over its seeds):", "",
              "| metric | mean difference | JND arm better on | Wilcoxon p |", "|---|---|---|---|"]
    for metric, values in pairs.items():
        lines.append(f"| {metric} | {values['mean']:+.4f} | {values['jnd_better']}/{values['images']} images | "
                     f"{values['p']:.3g} |")
    text = "\n".join(lines)
    (run / "table.md").write_text(text + "\n")
    return text


def plot(summary: dict[str, dict[str, float]], per_image: dict[str, dict[str, list[float]]], seeds: int,
         path: Path) -> None:
    """The perception-distortion plane (Blau and Michaeli, CVPR 2018): distortion on x, perception on y; each arm's
    seed-averaged mean (large marker) and each seed's (small markers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    markers = {"bicubic": "s", "start": "D", "pristine": "o", "jnd": "^"}
    for axis, (key, label) in zip(axes, (("jod", "ColorVideoVDP JOD at 38 ppd (higher: less visible)"),
                                         ("brisque", "BRISQUE (lower: more natural)")), strict=True):
        for index, arm in enumerate(ARMS):
            r = summary[arm]
            if key not in r:
                continue
            colour = f"C{index}"
            axis.scatter(r["psnr"], r[key], s=80, marker=markers[arm], color=colour, label=ARM_TITLES[arm])
            if arm in ("pristine", "jnd") and seeds > 1:
                for seed in range(1, seeds + 1):
                    name = run_name(arm, seed)
                    axis.scatter(np.mean(per_image[name]["psnr"]), np.mean(per_image[name][key]), s=18,
                                 marker=markers[arm], color=colour, alpha=0.45)
        axis.set_xlabel("PSNR against pristine, dB (distortion: right is better)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.margins(x=0.15, y=0.15)
    axes[1].invert_yaxis()  # up is better in both panels
    axes[0].legend(fontsize=8, loc="lower right")
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
    parser.add_argument("--seeds", type=int, default=3, help="batch seeds per fine-tuned arm")
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
    pristine_pairs, jnd_pairs = training_pairs(images, targets)
    start_plan = TrainingPlan(steps=args.pretrain_steps, learning_rate=1e-3, seed=0)
    train(pristine_pairs, start_plan, args.run / "start.pt", log=log)
    for seed in range(1, args.seeds + 1):
        tune = TrainingPlan(steps=args.finetune_steps, learning_rate=2e-4, seed=seed)
        train(pristine_pairs, tune, args.run / f"{run_name('pristine', seed)}.pt", start=args.run / "start.pt",
              log=log)
        train(jnd_pairs, tune, args.run / f"{run_name('jnd', seed)}.pt", start=args.run / "start.pt", log=log)
    from jndviewer.core.batch import collect_images

    kodak = collect_images([args.images / "kodak"])[:args.eval_images]
    names = run_names(args.seeds)
    per_image = evaluate(args.run, kodak, names)
    if not args.no_perceptual:
        scores = perceptual(args.run, args.images / "kodak", names, [p.stem for p in kodak], args.threads)
        for name in names:
            per_image[name] |= scores[name]
    summary = summarise(per_image, args.seeds)
    pairs_table = paired(per_image, args.seeds)
    (args.run / "results.json").write_text(json.dumps({"summary": summary, "paired": pairs_table,
                                                       "per_image": per_image}, indent=1))
    print(report(summary, pairs_table, args.run, levels, args))
    if args.plot:
        plot(summary, per_image, args.seeds, args.plot)
        log(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
