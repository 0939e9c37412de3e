"""A codec and a JND model whose outputs are known exactly, for pixel-exact GUI tests.

``StepCodec`` level ``L`` (1..5, higher is better) adds ``k = 5 - L`` times a band pattern to every channel: 1 in
the left third of the columns, 2 in the middle third, 4 in the right third. ``FlatJND`` has a threshold of 2 gray
levels everywhere, so on a flat gray image level 4 has visibility 0.5, 1 and 2 in the three thirds exactly.
"""

from __future__ import annotations

import numpy as np
import torch

from jndviewer.core.codecs.base import Codec, Encoded, check_rgb
from jndviewer.core.jnd.base import JNDModel

FLAT_JND = 2.0
BANDS = (1, 2, 4)


def band_pattern(width: int) -> np.ndarray:
    """1, 2 or 4 per column (thirds of the width)."""
    thirds = np.minimum(np.arange(width) * 3 // width, 2)
    return np.array(BANDS)[thirds]


class StepCodec(Codec):
    name = "steps"
    title = "Test steps"
    suffix = ".bin"
    level_name = "step"
    better = "higher"

    def levels(self) -> tuple[int, ...]:
        return (1, 2, 3, 4, 5)

    def encode(self, rgb: np.ndarray, level: int) -> Encoded:
        rgb = check_rgb(rgb)
        self.check_level(level)
        k = 5 - level
        offset = k * band_pattern(rgb.shape[1])[None, :, None]
        decoded = np.clip(rgb.astype(np.int16) + offset, 0, 255).astype(np.uint8)
        return Encoded(bytes(200 * level), decoded, level)


class UnavailableCodec(StepCodec):
    name = "never"
    title = "Never available"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        return False, "This codec is never available in tests."


class FlatJND(JNDModel):
    name = "flat"
    title = "Flat test model"
    citation = "tests/app/fakes.py"
    component_names = ("luminance_adaptation", "contrast_masking")

    def compute(self, luma: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        threshold = torch.full_like(luma, FLAT_JND)
        ramp = torch.linspace(0.0, 3.0, luma.shape[-1], dtype=luma.dtype).expand_as(luma).contiguous()
        return threshold, {"luminance_adaptation": torch.full_like(luma, FLAT_JND), "contrast_masking": ramp}


def encoded_at(rgb: np.ndarray, level: int) -> np.ndarray:
    return StepCodec().encode(rgb, level).decoded
