"""Train the variable-rate learned codec (``jndviewer train codec``).

Resumable: a checkpoint (model, both optimisers, sampler and torch RNG state, step) is written atomically every
``checkpoint_every`` steps to the run folder; starting the same command again continues from it. The final weights
are exported (after building the entropy coder's tables) to a small file that is loaded with ``weights_only=True``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from jndviewer.core.checkpoints import load_matching
from jndviewer.core.codecs.learned_model import (
    GainedFactorizedPrior,
    ModelConfig,
    bits_per_pixel,
)
from jndviewer.core.errors import JndViewerError
from jndviewer.core.train.common import (
    CropSampler,
    TrainingLog,
    list_images,
    load_checkpoint,
    load_rgb8,
    save_checkpoint,
    split_by_source,
)

EXPORT_FORMAT = "jndviewer.learned_codec"


@dataclass
class CodecTrainingConfig:
    """Everything a codec training run depends on (recorded in the checkpoint and the exported file)."""

    data: list[str]
    run_dir: str = "runs/codec"
    export: str = "runs/codec/learned_codec.pt"
    steps: int = 30_000
    batch: int = 8
    crop: int = 128
    learning_rate: float = 1e-3  # cosine decay to final_learning_rate over the run
    final_learning_rate: float = 2e-5
    #: The entropy models' densities learn 10x faster (measured: 4x lower bpp after 300 steps).
    density_learning_rate_factor: float = 10.0
    aux_learning_rate: float = 1e-3
    clip_norm: float = 1.0
    channels: int = 64
    latent_channels: int = 96
    validation_share: float = 0.05
    validate_every: int = 1000
    checkpoint_every: int = 250
    threads: int = 1
    seed: int = 0
    device: str = "cpu"
    lambdas: list[float] = field(default_factory=lambda: list(ModelConfig().lambdas))

    def model_config(self) -> ModelConfig:
        return ModelConfig(self.channels, self.latent_channels, tuple(self.lambdas))


def _optimisers(model: GainedFactorizedPrior, config: CodecTrainingConfig) -> tuple[torch.optim.Optimizer, ...]:
    """Adam for the transforms and gains, Adam with a larger rate for the densities, Adam for the quantiles.

    With eight rate points each entropy model sees an eighth of the steps; at the transforms' rate its density barely
    moves in a few thousand steps (bpp 1.75 vs 0.42 after 300 single-rate steps in our A/B test).
    """
    named = list(model.named_parameters())
    density = [p for n, p in named if n.startswith("entropy_bottlenecks.") and not n.endswith(".quantiles")]
    transforms = [p for n, p in model.named_parameters() if not n.startswith("entropy_bottlenecks.")]
    aux = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    main = torch.optim.Adam([
        {"params": transforms, "lr": config.learning_rate, "scale": 1.0},
        {"params": density, "lr": config.learning_rate * config.density_learning_rate_factor,
         "scale": config.density_learning_rate_factor},
    ])
    return main, torch.optim.Adam(aux, lr=config.aux_learning_rate)


def learning_rate_at(config: CodecTrainingConfig, step: int) -> float:
    """Cosine decay from ``learning_rate`` to ``final_learning_rate`` over ``steps``."""
    progress = min(step / max(config.steps, 1), 1.0)
    return config.final_learning_rate + 0.5 * (config.learning_rate - config.final_learning_rate) * (
        1.0 + math.cos(math.pi * progress)
    )


def _validation_crops(images: list[np.ndarray], size: int = 256) -> list[torch.Tensor]:
    crops = []
    for image in images:
        height, width = image.shape[:2]
        side_h, side_w = min(size, height - height % 16), min(size, width - width % 16)
        top, left = (height - side_h) // 2, (width - side_w) // 2
        crop = image[top : top + side_h, left : left + side_w].astype(np.float32) / 255.0
        crops.append(torch.from_numpy(crop).permute(2, 0, 1)[None].contiguous())
    return crops


@torch.no_grad()
def evaluate(model: GainedFactorizedPrior, crops: list[torch.Tensor], device: torch.device) -> list[dict]:
    """Estimated bpp and PSNR per rate (rounding quantisation, rate from the learned densities)."""
    model.eval()
    rows = []
    for rate in range(model.rate_count):
        bpp, psnr = [], []
        for crop in crops:
            x = crop.to(device)
            out = model(x, rate)
            pixels = x.shape[-1] * x.shape[-2]
            bpp.append(float(bits_per_pixel(out["likelihoods"], pixels)))
            mse = float(((out["x_hat"].clamp(0, 1) - x) ** 2).mean())
            psnr.append(10 * math.log10(1.0 / max(mse, 1e-12)))
        rows.append({"rate": rate, "bpp": float(np.mean(bpp)), "psnr": float(np.mean(psnr))})
    model.train()
    return rows


def train_codec(config: CodecTrainingConfig, *, progress: bool = True) -> Path:
    """Run (or resume) training; returns the exported weights' path."""
    torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    run_dir = Path(config.run_dir)
    checkpoint_path = run_dir / "checkpoint.pt"
    log = TrainingLog(run_dir / "log.jsonl")

    files = list_images(config.data)
    training_files, validation_files = split_by_source(files, config.validation_share, config.seed)
    sampler = CropSampler(load_rgb8(training_files), config.crop, config.seed)
    validation = _validation_crops(load_rgb8(validation_files))

    torch.manual_seed(config.seed)
    model = GainedFactorizedPrior(config.model_config()).to(device)
    optimiser, aux_optimiser = _optimisers(model, config)
    step = 0
    if checkpoint_path.exists():
        state = _training_checkpoint(checkpoint_path, _RESUME_KEYS)
        if state.get("model_config") != config.model_config().to_dict():
            raise JndViewerError(f"{checkpoint_path} was made with another model configuration; use a new run folder.")
        load_matching(model, state["model"], name=checkpoint_path.name, what="learned codec", load=model.load_weights)
        try:
            optimiser.load_state_dict(state["optimiser"])
            aux_optimiser.load_state_dict(state["aux_optimiser"])
            sampler.restore(state["sampler"])
            torch.set_rng_state(state["torch_rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise JndViewerError(f"{checkpoint_path} holds optimiser or random states of another kind; use a new run "
                                 "folder.") from err
        step = state["step"]
        log.write({"event": "resumed", "step": step})
    else:
        log.write({"event": "started", "config": asdict(config), "train_images": len(training_files),
                   "validation_images": len(validation_files)})

    def save() -> None:
        save_checkpoint(checkpoint_path, {
            "model": model.state_dict(), "optimiser": optimiser.state_dict(),
            "aux_optimiser": aux_optimiser.state_dict(), "sampler": sampler.state(),
            "torch_rng": torch.get_rng_state(), "step": step, "model_config": config.model_config().to_dict(),
        })

    bar = tqdm(total=config.steps, initial=step, disable=not progress, mininterval=10, desc="train codec")
    started = time.perf_counter()
    model.train()
    lambdas = config.lambdas
    while step < config.steps:
        for group in optimiser.param_groups:
            group["lr"] = learning_rate_at(config, step) * group["scale"]
        rate = step % len(lambdas)
        x = sampler.batch(config.batch).to(device)
        out = model(x, rate)
        mse = torch.mean((out["x_hat"] - x) ** 2)
        bpp = bits_per_pixel(out["likelihoods"], x.shape[0] * x.shape[-1] * x.shape[-2])
        loss = lambdas[rate] * 255.0**2 * mse + bpp
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimiser.step()
        aux_optimiser.zero_grad(set_to_none=True)
        model.aux_loss().backward()
        aux_optimiser.step()
        step += 1
        bar.update(1)
        if step % 50 == 0:
            psnr = 10 * math.log10(1 / max(float(mse), 1e-12))
            bar.set_postfix(rate=rate, bpp=f"{float(bpp):.3f}", psnr=f"{psnr:.2f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save()
        if step % config.validate_every == 0 or step == config.steps:
            rows = evaluate(model, validation, device)
            log.write({"event": "validation", "step": step, "seconds": round(time.perf_counter() - started, 1),
                       "rates": rows})
    bar.close()
    return export_codec(model, config, step)


def export_codec(model: GainedFactorizedPrior, config: CodecTrainingConfig, step: int) -> Path:
    """Write the final weights with the entropy coder's tables and the training record."""
    model = model.cpu().eval()
    model.update(force=True)
    path = Path(config.export)
    save_checkpoint(path, {
        "format": EXPORT_FORMAT,
        "version": 1,
        "model_config": config.model_config().to_dict(),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "training": {"steps": step, "batch": config.batch, "crop": config.crop, "data": list(config.data),
                     "learning_rate": config.learning_rate, "final_learning_rate": config.final_learning_rate,
                     "seed": config.seed},
    })
    return path


def export_from_checkpoint(config: CodecTrainingConfig) -> Path:
    """Export the weights of the run's latest checkpoint (to ship an interrupted run)."""
    path = Path(config.run_dir) / "checkpoint.pt"
    state = _training_checkpoint(path, ("model_config", "model", "step"))
    model = GainedFactorizedPrior(ModelConfig.from_dict(state["model_config"]))
    load_matching(model, state["model"], name=path.name, what="learned codec", load=model.load_weights)
    return export_codec(model, config, state["step"])


#: What a checkpoint of ``train codec`` holds, all of it needed to resume.
_RESUME_KEYS = ("model_config", "model", "optimiser", "aux_optimiser", "sampler", "torch_rng", "step")


def _training_checkpoint(path: Path, keys: tuple[str, ...]) -> dict:
    """A ``train codec`` checkpoint with ``keys``; another program's or another trainer's file is one sentence."""
    state = load_checkpoint(path)
    missing = [key for key in keys if key not in state]
    if missing:
        raise JndViewerError(f"{path} is not a learned-codec training checkpoint (it has no {missing[0]!r}); use a "
                             "new run folder.")
    if isinstance(state["step"], bool) or not isinstance(state["step"], int) or state["step"] < 0:
        raise JndViewerError(f"{path} is not a learned-codec training checkpoint (its step is {state['step']!r}).")
    return state
