"""One reference image at one viewing condition, scoring any decoded version of it.

The training-free PW-JND predictor, its calibration and the explorer's visibility view all score levels the same
way, through :class:`VisibilityScorer`:

- with the subband model (``jnd_model == "subband"``), band-limited contrast thresholds at the condition's pixels per
  degree (:mod:`jndviewer.core.visibility.subband`);
- with a pixel-wise JND model, ``|distortion| / JND`` (:mod:`jndviewer.core.visibility.pixel`) after both images are
  resampled by ``model_ppd / ppd``: the pixel models carry no viewing distance, so the scorer simulates one, where
  ``model_ppd`` is the condition at which the model's thresholds hold at the image's own resolution (a calibrated
  parameter). At more pixels per degree each pixel covers a smaller angle: the image is shrunk and fine distortions
  fade; closer viewing enlarges it.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np

from jndviewer.core.catalog import SUBBAND
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import PPD_RANGE, ViewingCondition


class ScoringParams(Protocol):
    """What a scorer needs of the predictor's parameters (``PooledVisibilityParams`` has them)."""

    jnd_model: str
    pooling: str
    minkowski_exponent: float
    window: int
    model_ppd: float


class VisibilityScorer:
    """Reference-side state for one image: its (resampled) luma and JND map; scores any decoded version.

    Parameters
    ----------
    reference_rgb
        H x W x 3 uint8 reference.
    params
        The map (``jnd_model``: ``subband`` or a pixel model), the pooling and, for pixel models, ``model_ppd``.
    condition
        The viewing condition.
    device
        Torch device of the maps (CPU by default).
    model
        The pixel JND model to use (e.g. one with non-default parameters); by default ``params.jnd_model``'s. Its
        whole map (with components) is kept as :attr:`jnd_map`.
    """

    def __init__(
        self,
        reference_rgb: np.ndarray,
        params: ScoringParams,
        condition: ViewingCondition,
        device: Any = None,
        model: Any = None,
    ) -> None:
        import torch

        from jndviewer.core.jnd import create_model
        from jndviewer.core.visibility.subband import SubbandVisibility

        self.params = params
        self.condition = condition
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        subband = params.jnd_model == SUBBAND
        # The subband model takes the viewing condition in its contrast sensitivity: no resampling.
        self.scale = 1.0 if subband else float(params.model_ppd) / condition.ppd
        low, high = PPD_RANGE  # the range the explorer and the command line offer
        in_range = low <= condition.ppd <= high if subband else 0.05 <= self.scale <= 8.0
        if not in_range:
            raise JndViewerError(
                f"A viewing condition of {condition.ppd:g} pixels per degree is out of range ({low:g}-{high:g})."
            )
        self.reference = self._luma(reference_rgb)
        self.subband = SubbandVisibility(self.reference, condition) if subband else None
        self.jnd_map = None if subband else (model or create_model(params.jnd_model))(self.reference)
        self.jnd = None if self.jnd_map is None else self.jnd_map.threshold
        self._lock = threading.Lock()

    def _luma(self, rgb: np.ndarray) -> Any:
        import torch
        import torch.nn.functional as F

        from jndviewer.core.image import rgb_to_luma

        luma = torch.from_numpy(rgb_to_luma(np.asarray(rgb)).astype(np.float32))[None, None].to(self.device)
        if abs(self.scale - 1.0) < 1e-6:
            return luma
        height, width = luma.shape[-2:]
        size = (max(8, round(height * self.scale)), max(8, round(width * self.scale)))
        mode = "bilinear" if self.scale < 1.0 else "bicubic"
        return F.interpolate(luma, size=size, mode=mode, antialias=self.scale < 1.0, align_corners=False)

    def visibility(self, decoded_rgb: np.ndarray) -> Any:
        """The visibility map of a decoded image (1 x 1 x h x w, at the simulated viewing condition)."""
        from jndviewer.core.visibility.pixel import visibility_map

        if self.subband is not None:
            return self.subband.visibility(self._luma(decoded_rgb))
        return visibility_map(self.reference, self._luma(decoded_rgb), self.jnd)

    def score(self, decoded_rgb: np.ndarray) -> float:
        """The pooled visibility score the decision is made on."""
        from jndviewer.core.visibility.pixel import pooled_score

        return pooled_score(
            self.visibility(decoded_rgb),
            self.params.pooling,
            minkowski_exponent=self.params.minkowski_exponent,
            window=self.params.window,
        )


__all__ = ["ScoringParams", "VisibilityScorer"]
