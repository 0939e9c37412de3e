"""A toy picture-wise JND predictor for the registry tests: registered only by the tests, it proves that the CLI, the
batch runner and the explorer show a new predictor with no change of theirs.

Its decision: a level is visible when its PSNR is below :data:`TOY_PSNR_DB`; its score is ``TOY_PSNR_DB - PSNR``
(visible above 0, like a logit). It takes no viewing condition into account, so a condition other than the default is
refused in one sentence.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jndviewer.core.metrics import psnr
from jndviewer.core.pwjnd.base import LadderPredictor, LevelDecision
from jndviewer.core.pwjnd.registry import PredictorInfo

#: The PSNR (dB) below which the toy calls a level visible.
TOY_PSNR_DB = 27.0


class ToyDecider:
    def __init__(self, reference_rgb: np.ndarray) -> None:
        self.reference = reference_rgb

    def decide(self, level: int, decoded_rgb: np.ndarray) -> LevelDecision:
        score = TOY_PSNR_DB - float(psnr(self.reference, decoded_rgb))
        return LevelDecision(score > 0.0, score)

    def result_params(self, level: int, decoded_rgb: np.ndarray) -> dict[str, Any]:
        return {"psnr_db": TOY_PSNR_DB}


class ToyPredictor(LadderPredictor):
    name = "toy"
    default_strategy = "bisection"

    def decider(self, reference_rgb: np.ndarray, codec: str) -> ToyDecider:
        return ToyDecider(reference_rgb)


def make_toy(*, condition: Any, device: Any = None, strategy: str | None = None) -> ToyPredictor:
    return ToyPredictor(condition=condition, strategy=strategy)


TOY_INFO = PredictorInfo(
    name="toy", label="toy (PSNR test)", short="toy", description=f"visible below {TOY_PSNR_DB:g} dB PSNR",
    factory=make_toy, options=("strategy",), honours=(), score="logit",
)


def noisy_rgb() -> np.ndarray:
    """A 128 x 96 gradient with a noisy patch whose JPEG PSNR crosses the toy's 27 dB between quality 10 and 20."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:96, 0:128]
    base = np.stack([x * 1.5 + 20, y * 2 + 30, 160 - x * 0.5], axis=-1)
    base[20:70, 30:100] += rng.normal(0, 18, (50, 70, 3))
    return np.clip(base, 0, 255).astype(np.uint8)
