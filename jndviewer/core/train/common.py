"""Pieces shared by the training loops: image sets split by source, crops, resumable checkpoints."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from jndviewer.core.checkpoints import load_torch_file
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import IMAGE_SUFFIXES, load

#: Kodak is the held-out evaluation set everywhere in this project: training refuses it.
HELD_OUT_MARKERS = ("kodak", "kodim")


def list_images(roots: Iterable[str | Path]) -> list[Path]:
    """Every image file below the given folders (sorted), refusing held-out Kodak images."""
    files: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise JndViewerError(f"Training data folder {root} does not exist.")
        found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        files.extend(found)
    held_out = [p for p in files if any(marker in str(p).lower() for marker in HELD_OUT_MARKERS)]
    if held_out:
        raise JndViewerError(f"Kodak is the held-out evaluation set and cannot be used for training ({held_out[0]}).")
    if not files:
        raise JndViewerError("No training images were found in the given folders.")
    return files


def split_by_source(files: list[Path], validation_share: float, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Deterministic split by file (= source image): a stable hash decides, so adding files never moves others."""

    def bucket(path: Path) -> float:
        digest = hashlib.sha256(f"{seed}:{path.name}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    validation = [p for p in files if bucket(p) < validation_share]
    training = [p for p in files if bucket(p) >= validation_share]
    return training, validation


def load_rgb8(files: list[Path]) -> list[np.ndarray]:
    """All images as H x W x 3 uint8 arrays (kept in memory: the shared training sets are ~150 MB)."""
    return [np.ascontiguousarray(load(path).rgb8()) for path in files]


class CropSampler:
    """Random square crops with random horizontal flips, as float tensors in [0, 1]."""

    def __init__(self, images: list[np.ndarray], size: int, seed: int) -> None:
        self.images = [im for im in images if min(im.shape[:2]) >= size]
        if not self.images:
            raise JndViewerError(f"No training image is at least {size} x {size} pixels.")
        self.size = size
        self.rng = np.random.default_rng(seed)

    def batch(self, count: int) -> torch.Tensor:
        crops = []
        for _ in range(count):
            image = self.images[int(self.rng.integers(len(self.images)))]
            top = int(self.rng.integers(image.shape[0] - self.size + 1))
            left = int(self.rng.integers(image.shape[1] - self.size + 1))
            crop = image[top : top + self.size, left : left + self.size]
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            crops.append(crop)
        array = np.stack(crops).astype(np.float32) / 255.0
        return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def restore(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write atomically (temporary file + rename), so an interrupted save never corrupts the last checkpoint; a
    file that cannot be written (a folder in its place, no space, no permission) is one sentence, and its temporary
    file is removed."""
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, temporary)
        os.replace(temporary, path)
    except (OSError, RuntimeError) as err:  # torch's writer reports a failed write (a full disk) as RuntimeError
        temporary.unlink(missing_ok=True)
        if path.is_dir():
            reason = "a folder is in its place"
        elif isinstance(err, OSError) and err.strerror:
            reason = err.strerror.lower()
        else:
            reason = "the write failed (is the disk full?)"
        raise JndViewerError(f"Could not write {path}: {reason}.") from err


def load_checkpoint(path: Path, what: str = "checkpoint") -> dict:
    """Load a checkpoint (``what``: or a feature cache, ...) with ``weights_only=True``; a wrong, damaged or
    hostile file, or one that holds no dictionary, is one sentence."""
    state = load_torch_file(path, what)
    if not isinstance(state, dict):
        raise JndViewerError(f"{Path(path).name} is not a jndviewer {what}: it holds a {type(state).__name__}, not a "
                             "dictionary.")
    return state


@dataclass
class TrainingLog:
    """Append-only JSON-lines log next to the checkpoint (one record per evaluation)."""

    path: Path

    def write(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
