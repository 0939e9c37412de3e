"""The restorer of the JND-based adaptation experiment (benchmarks/adaptation.py): x2 super-resolution of ESPCN's size.

ESPCN (Shi et al., CVPR 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network"): 5x5 conv to 64 channels, 3x3 conv to 32, 3x3 conv to 3 r^2 channels and a pixel
shuffle, all on the low-resolution grid (Section 2.1, f1 = 5, f2 = f3 = 3, n1 = 64, n2 = 32). Two choices of ours,
for training in minutes on two CPU cores: ReLU instead of tanh, and the network predicts a residual over the
bicubic upsampling. The low-resolution input is the pristine image downscaled with Pillow's bicubic filter; the
target is either the pristine image or its JND image (the experiment's two arms).

Training is resumable and deterministic: batch ``k`` is drawn from ``numpy.random.default_rng((seed, k))``, so a run
resumed from a checkpoint sees the batches it would have seen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

SCALE = 2
FORMAT = "jndviewer.adaptation_restorer"


class Restorer(nn.Module):
    """ESPCN-sized x2 super-resolution on RGB in [0, 1], a residual over bicubic upsampling."""

    def __init__(self, scale: int = SCALE) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 3 * scale * scale, 3, padding=1),
        )
        nn.init.zeros_(self.body[-1].weight)  # start as bicubic upsampling
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, low: torch.Tensor) -> torch.Tensor:
        upsampled = F.interpolate(low, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return upsampled + F.pixel_shuffle(self.body(low), self.scale)


def downscale(rgb: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """The low-resolution input: Pillow's bicubic (antialiased) downscaling of an image cropped to whole blocks."""
    height, width = (rgb.shape[0] // scale) * scale, (rgb.shape[1] // scale) * scale
    image = Image.fromarray(np.ascontiguousarray(rgb[:height, :width]))
    return np.asarray(image.resize((width // scale, height // scale), Image.Resampling.BICUBIC))


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def to_rgb(x: torch.Tensor) -> np.ndarray:
    return (x[0].permute(1, 2, 0).clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()


@torch.no_grad()
def restore(model: Restorer, low: np.ndarray) -> np.ndarray:
    """The restorer's x2 output (uint8 RGB) of a low-resolution image."""
    model.eval()
    return to_rgb(model(to_tensor(low)))


@dataclass
class TrainingPair:
    """One training image: its low-resolution input and the target of the arm being trained."""

    low: np.ndarray
    target: np.ndarray

    @classmethod
    def make(cls, pristine: np.ndarray, target: np.ndarray, scale: int = SCALE,
             low: np.ndarray | None = None) -> TrainingPair:
        """The pair of ``pristine``'s downscaled input (``low`` when already made) and ``target``."""
        if pristine.shape != target.shape:
            raise ValueError(f"target {target.shape} and pristine {pristine.shape} differ in size")
        height, width = (pristine.shape[0] // scale) * scale, (pristine.shape[1] // scale) * scale
        return cls(downscale(pristine, scale) if low is None else low, np.ascontiguousarray(target[:height, :width]))


@dataclass(frozen=True)
class TrainingPlan:
    steps: int
    learning_rate: float
    batch: int = 16
    patch: int = 48  # low-resolution side; the target patch is SCALE times larger
    seed: int = 0
    checkpoint_every: int = 100


def batch_at(pairs: Sequence[TrainingPair], plan: TrainingPlan, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch ``step`` (the same for every run with this seed): random patches, flips and transposes; patches are
    ``plan.patch`` pixels square at low resolution, or the smallest image's side when that is smaller."""
    rng = np.random.default_rng((plan.seed, step))
    lows, targets = [], []
    side = min(plan.patch, *(min(pair.low.shape[:2]) for pair in pairs))
    for _ in range(plan.batch):
        pair = pairs[int(rng.integers(len(pairs)))]
        y = int(rng.integers(pair.low.shape[0] - side + 1))
        x = int(rng.integers(pair.low.shape[1] - side + 1))
        low = pair.low[y:y + side, x:x + side]
        target = pair.target[SCALE * y:SCALE * (y + side), SCALE * x:SCALE * (x + side)]
        flip, mirror, transpose = rng.integers(2, size=3)
        if flip:
            low, target = low[::-1], target[::-1]
        if mirror:
            low, target = low[:, ::-1], target[:, ::-1]
        if transpose:
            low, target = low.transpose(1, 0, 2), target.transpose(1, 0, 2)
        lows.append(low)
        targets.append(target)
    as_tensor = lambda images: torch.from_numpy(np.stack(images).astype(np.float32) / 255.0).permute(0, 3, 1, 2)  # noqa: E731
    return as_tensor(lows), as_tensor(targets)


def save_checkpoint(path: Path, model: Restorer, optimizer: torch.optim.Optimizer, step: int, plan: TrainingPlan,
                    losses: list[float]) -> None:
    """Atomically: a reader (or a resumed run after kill -9) sees the old or the new file, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "plan": plan.__dict__, "losses": losses}, temporary)
    os.replace(temporary, path)


def load_restorer(path: Path) -> tuple[Restorer, dict]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a restorer checkpoint of this experiment")
    model = Restorer()
    model.load_state_dict(state["model"])
    return model, state


def train(
    pairs: Sequence[TrainingPair],
    plan: TrainingPlan,
    checkpoint: Path,
    start: Path | None = None,
    log: Callable[[str], None] = print,
) -> Restorer:
    """Train (or resume) toward the pairs' targets with an L1 loss and Adam, from ``start``'s weights when given
    (a fine-tuning arm) or from a seeded initialisation; the final state stays in ``checkpoint``."""
    torch.manual_seed(plan.seed)
    model = Restorer()
    if start is not None:
        model.load_state_dict(load_restorer(start)[0].state_dict())
    optimizer = torch.optim.Adam(model.parameters(), lr=plan.learning_rate)
    step, losses = 0, []
    if checkpoint.exists():
        model, state = load_restorer(checkpoint)
        optimizer = torch.optim.Adam(model.parameters(), lr=plan.learning_rate)
        optimizer.load_state_dict(state["optimizer"])
        step, losses = int(state["step"]), list(state["losses"])
        if step >= plan.steps:
            return model
        log(f"{checkpoint.name}: resuming at step {step}")
    model.train()
    started, first = time.perf_counter(), step
    while step < plan.steps:
        low, target = batch_at(pairs, plan, step)
        loss = F.l1_loss(model(low), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % plan.checkpoint_every == 0 or step == plan.steps:
            save_checkpoint(checkpoint, model, optimizer, step, plan, losses)
            rate = (time.perf_counter() - started) / (step - first)
            log(f"{checkpoint.name}: step {step}/{plan.steps}, L1 {np.mean(losses[-plan.checkpoint_every:]):.4f} "
                f"({rate:.2f} s/step)")
    return model
