"""Yang et al. (2005) NAMM pixel-domain JND, in the paper's form.

X. Yang, W. Lin, Z. Lu, E. Ong, S. Yao, "Motion-compensated residue preprocessing in video coding based on
just-noticeable-distortion profile," IEEE TCSVT 15(6):742-752, 2005 (and Signal Processing: Image Communication
20(7):662-680, 2005). ``JND = T_l + T_t - 0.3 min(T_l, T_t)`` with ``T_t = eta G W_e`` (docs/jnd_models.md §3).
"""

from __future__ import annotations

import torch

from jndviewer.core.catalog import JND_MODEL_TITLES
from jndviewer.core.jnd import canny, compiled, ops
from jndviewer.core.jnd.base import JNDModel
from jndviewer.core.jnd.definitions import EDGE_WEIGHT_BLUR, Yang2005Params


class Yang2005(JNDModel):
    """Yang et al. 2005: luminance adaptation and edge-protected texture masking combined by NAMM."""

    name = "yang2005"
    title = JND_MODEL_TITLES[name]
    citation = "X. Yang, W. Lin, Z. Lu, E. Ong, S. Yao, IEEE TCSVT 15(6):742-752, 2005"
    params_type = Yang2005Params
    component_names = ("luminance_adaptation", "texture_masking", "edge_weight")
    #: The 5x5 operators reach 2 rows, the edge-weight blur 3.
    local_radius = EDGE_WEIGHT_BLUR[0] // 2

    def uses_strips(self, luma: torch.Tensor) -> bool:
        """Not with the compiled local pass, which keeps its intermediates in the cache by itself: at 1080p the
        whole image took 44.9 ms against 48.3 ms in strips (``benchmarks/bench_strips.py``, interleaved)."""
        return not compiled.use_kernels(luma) and super().uses_strips(luma)

    def prepare(self, luma: torch.Tensor) -> dict[str, torch.Tensor]:
        """Canny edges need the whole image (their threshold is relative to its largest gradient)."""
        return {"edges": canny.canny_matlab(luma, self.params.canny_threshold)}

    def compute(self, luma: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        p: Yang2005Params = self.params
        padded = ops.extend(luma, 2, 2, 2, 2, p.border)
        raw_weight = edges.to(luma.dtype).mul_(p.edge_weight - 1.0).add_(1.0)
        edge_weight = ops.gaussian_blur(raw_weight, *EDGE_WEIGHT_BLUR, p.border)
        if compiled.use_kernels(luma):  # the rest in one compiled pass
            from jndviewer.core.jnd import kernels

            constants = (ops.LA_KNEE, ops.LA_T0, ops.LA_GAMMA, p.texture_gain, p.overlap)
            threshold, luminance_adaptation, texture_masking = kernels.yang2005_local(padded, edge_weight, constants)
        else:
            bg = ops.background_luminance(luma, p.border, padded)
            mg = ops.max_weighted_gradient(luma, p.border, padded)
            luminance_adaptation = ops.luminance_adaptation_curve(bg)
            texture_masking = mg.mul_(edge_weight).mul_(p.texture_gain)
            threshold = ops.namm(luminance_adaptation, texture_masking, p.overlap)
        return threshold, {
            "luminance_adaptation": luminance_adaptation,
            "texture_masking": texture_masking,
            "edge_weight": edge_weight,
        }
