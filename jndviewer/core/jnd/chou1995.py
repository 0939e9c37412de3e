"""Chou & Li (1995) full-band JND profile.

C.-H. Chou and Y.-C. Li, "A perceptually tuned subband image coder based on the measure of just-noticeable-distortion
profile," IEEE TCSVT 5(6):467-476, 1995. ``JND = max(f1(bg, mg), f2(bg))`` (docs/jnd_models.md §2); the constants
of f1 and f2 are in :mod:`jndviewer.core.jnd.definitions`, cited there; :mod:`jndviewer.core.jnd.ops` computes them.
"""

from __future__ import annotations

import torch

from jndviewer.core.catalog import JND_MODEL_TITLES
from jndviewer.core.jnd import ops
from jndviewer.core.jnd.base import JNDModel


class Chou1995(JNDModel):
    """Chou & Li 1995: the larger of luminance adaptation and contrast masking."""

    name = "chou1995"
    title = JND_MODEL_TITLES[name]
    citation = "C.-H. Chou, Y.-C. Li, IEEE TCSVT 5(6):467-476, 1995"
    component_names = ("luminance_adaptation", "contrast_masking")
    #: The 5x5 background and gradient operators reach 2 rows.
    local_radius = 2

    def compute(self, luma: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        border = self.params.border
        padded = ops.extend(luma, 2, 2, 2, 2, border)
        bg = ops.background_luminance(luma, border, padded)
        mg = ops.max_weighted_gradient(luma, border, padded)
        luminance_adaptation = ops.luminance_adaptation_curve(bg)
        contrast_masking = ops.contrast_masking_line(bg, mg)
        threshold = torch.maximum(luminance_adaptation, contrast_masking)
        return threshold, {"luminance_adaptation": luminance_adaptation, "contrast_masking": contrast_masking}
