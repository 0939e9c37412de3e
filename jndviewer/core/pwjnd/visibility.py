"""A training-free picture-wise JND predictor: pooled visibility relative to a pixel-wise JND map.

For a ladder level, the distortion's visibility map ``v = |Y_level - Y_ref| / JND(Y_ref)`` (any model of
``core.jnd``) is pooled to one score; the level counts as *visible* when the score exceeds a threshold. A search
strategy of ``core.pwjnd.search`` (VP-JND's binary block search by default) finds the PW-JND with few encodes.

Viewing condition. The pixel models carry no viewing distance, so the predictor simulates one: both images are
resampled by ``model_ppd / ppd`` before the JND map and the visibility are computed, where ``ppd`` is the viewer's
pixels per degree and ``model_ppd`` the viewing condition at which the pixel model's thresholds hold at the image's
own resolution (a calibrated parameter). At more pixels per degree each pixel covers a smaller angle: the image is
shrunk and fine distortions fade; closer viewing enlarges it. The default ``ppd`` is 38, cvvdp's ``standard_fhd``
display (a 24-inch 1920x1080 monitor at about 60 cm), at which the thresholds were calibrated
(``core.pwjnd.calibrate``, README "Calibration").
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.assets import calibration_file
from jndviewer.core.codecs.base import Codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.result import PWJND, LevelRecord

CALIBRATION_FILE = calibration_file()
#: Pixels per degree at which the thresholds were calibrated (cvvdp ``standard_fhd``), and the default viewing.
CALIBRATION_PPD = 38.0
DEFAULT_PPD = CALIBRATION_PPD
POOLINGS = ("minkowski", "max_window", "fraction")


@dataclass(frozen=True)
class VisibilityPredictorParams:
    """Parameters of the training-free predictor.

    Attributes
    ----------
    jnd_model
        Pixel-wise JND model (``core.jnd`` registry name).
    ppd
        Viewing condition in pixels per degree of visual angle (38 for a 24-inch 1080p monitor at 60 cm).
    pooling
        ``minkowski`` (mean(v^beta)^(1/beta)), ``max_window`` (largest mean of v over a window) or ``fraction``
        (share of pixels with v > 1).
    minkowski_exponent, window
        Pooling parameters.
    model_ppd
        Pixels per degree at which the pixel JND model applies at the image's own resolution; images are resampled
        by ``model_ppd / ppd``.
    threshold
        Score above which a level is visible; None takes the calibrated value for (model, pooling, parameters).
    strategy
        Search strategy (``block``, ``bisection``, ``sliding``, ``exhaustive``).
    """

    jnd_model: str = "wu2017"
    ppd: float = DEFAULT_PPD
    pooling: str = "minkowski"
    minkowski_exponent: float = 4.0
    window: int = 16
    model_ppd: float = CALIBRATION_PPD
    threshold: float | None = None
    strategy: str = "block"

    def variant(self) -> str:
        """Calibration key: pooling and model ppd, e.g. ``minkowski:4@19``, ``max_window:8@38``, ``fraction@38``."""
        if self.pooling == "minkowski":
            pooling = f"minkowski:{self.minkowski_exponent:g}"
        elif self.pooling == "max_window":
            pooling = f"max_window:{self.window}"
        else:
            pooling = "fraction"
        return f"{pooling}@{self.model_ppd:g}"


@cache
def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The calibrated thresholds (``{model: {variant: {"threshold": t, ...}}, "default": {...}}``)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as err:
        raise JndViewerError(
            f"The predictor calibration {Path(path).name} is missing from the installed jndviewer; reinstall it or run "
            "'jndviewer calibrate'."
        ) from err
    except (OSError, json.JSONDecodeError) as err:
        raise JndViewerError(f"The predictor calibration {Path(path).name} is not readable ({err}).") from err


def calibrated_threshold(params: VisibilityPredictorParams, codec: str | None = None) -> float:
    """The threshold calibrated for this model and pooling (for ``codec`` when it has its own; JPEG's otherwise).

    One sentence when there is none.
    """
    calibration = load_calibration()
    per_codec = calibration.get("codec_thresholds", {}).get(codec or "", {})
    entry = per_codec.get(params.jnd_model, {}).get(params.variant())
    if entry is not None:
        return float(entry["threshold"])
    entry = calibration.get("thresholds", {}).get(params.jnd_model, {}).get(params.variant())
    if entry is None:
        raise JndViewerError(
            f"No calibrated threshold for {params.jnd_model} with {params.variant()} pooling; pass --threshold "
            "or run 'jndviewer calibrate'."
        )
    return float(entry["threshold"])


def default_params(jnd_model: str | None = None) -> VisibilityPredictorParams:
    """The calibration's recommended model and pooling (the plain defaults when no calibration is present).

    With ``jnd_model``, the best calibrated pooling and analysis scale of that model (the plain defaults with that
    model when it has none).
    """
    from jndviewer.core.pwjnd.calibrate import default_variant

    calibration = load_calibration()
    if jnd_model is None:
        chosen = calibration.get("default", {})
    elif calibration.get("thresholds", {}).get(jnd_model):
        chosen = default_variant({jnd_model: calibration["thresholds"][jnd_model]}, calibration.get("ppd", DEFAULT_PPD))
    else:
        chosen = {"jnd_model": jnd_model}
    known = VisibilityPredictorParams.__annotations__
    return VisibilityPredictorParams(**{k: v for k, v in chosen.items() if k in known})


class VisibilityScorer:
    """Reference-side state for one image: its (resampled) luma and JND map; scores any decoded version."""

    def __init__(
        self, reference_rgb: np.ndarray, params: VisibilityPredictorParams, device: Any = None, model: Any = None
    ) -> None:
        """``model``: the pixel JND model to use (e.g. one with non-default parameters); by default
        ``params.jnd_model``'s. Its whole map (with components) is kept as :attr:`jnd_map`."""
        import torch

        from jndviewer.core.jnd import create_model
        from jndviewer.core.pwjnd.subband import SUBBAND, SubbandVisibility

        self.params = params
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        subband = params.jnd_model == SUBBAND
        # The subband model takes the viewing condition in its contrast sensitivity: no resampling.
        self.scale = 1.0 if subband else float(params.model_ppd) / float(params.ppd)
        in_range = 5.0 <= params.ppd <= 760.0 if subband else 0.05 <= self.scale <= 8.0
        if not in_range:
            raise JndViewerError(f"A viewing condition of {params.ppd:g} pixels per degree is out of range (5-760).")
        self.reference = self._luma(reference_rgb)
        self.subband = SubbandVisibility(self.reference, params.ppd) if subband else None
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
        from jndviewer.core.visibility import visibility_map

        if self.subband is not None:
            return self.subband.visibility(self._luma(decoded_rgb))
        return visibility_map(self.reference, self._luma(decoded_rgb), self.jnd)

    def score(self, decoded_rgb: np.ndarray) -> float:
        """The pooled visibility score the decision is made on."""
        from jndviewer.core.visibility import pooled_score

        return pooled_score(
            self.visibility(decoded_rgb),
            self.params.pooling,
            minkowski_exponent=self.params.minkowski_exponent,
            window=self.params.window,
        )


class VisibilityPredictor:
    """Training-free PW-JND predictor (see the module docstring)."""

    name = "visibility"

    def __init__(self, params: VisibilityPredictorParams | None = None, device: Any = None, **overrides: Any) -> None:
        params = params or default_params()
        self.params = replace(params, **overrides) if overrides else params
        if self.params.pooling not in POOLINGS:
            raise JndViewerError(f"Unknown pooling {self.params.pooling!r}; use one of {', '.join(POOLINGS)}.")
        self.threshold = (
            self.params.threshold if self.params.threshold is not None else calibrated_threshold(self.params)
        )
        self.device = device

    def threshold_for(self, codec: str) -> float:
        """The decision threshold for a codec: the explicit one, or the codec's calibrated one (JPEG's if none)."""
        if self.params.threshold is not None:
            return self.params.threshold
        return calibrated_threshold(self.params, codec)

    def predict(
        self,
        image: Any,
        codec_or_ladder: Codec | Any,
        *,
        name: str = "",
        progress: Any = None,
        cancel: threading.Event | None = None,
    ) -> PWJND:
        """Predict the PW-JND of ``image`` (an Image or RGB array) over a codec's (or a Ladder's) levels."""
        from jndviewer.core.ladder import Ladder
        from jndviewer.core.metrics import psnr
        from jndviewer.core.pwjnd.search import search

        started = time.perf_counter()
        own_ladder = not isinstance(codec_or_ladder, Ladder)
        ladder = Ladder(image, codec_or_ladder) if own_ladder else codec_or_ladder
        try:
            codec = ladder.codec
            reference = ladder.reference
            scorer = VisibilityScorer(reference, self.params, self.device)
            ordered = codec.ordered_worst_to_best()
            records: dict[int, LevelRecord] = {}
            threshold = self.threshold_for(codec.name)

            def decide(position: int) -> bool:
                level = ordered[position]
                rung = ladder.rung(level, cancel=cancel)
                score = scorer.score(rung.decoded)
                visible = score > threshold
                records[level] = LevelRecord(level, visible, score, rung.nbytes, rung.bpp)
                if progress is not None:
                    progress(len(records), level)
                return visible

            found = search(len(ordered), decide, self.params.strategy)
            level = ordered[found.position]
            rung = ladder.rung(level, cancel=cancel)
            best = ladder.rung(codec.best_level(), cancel=cancel)
            trace = [ordered[p] for p in found.visited]
            height, width = reference.shape[:2]
            return PWJND(
                image=name,
                codec=codec.name,
                predictor=self.name,
                level=int(level),
                nbytes=rung.nbytes,
                bpp=rung.bpp,
                best_level=int(codec.best_level()),
                best_nbytes=best.nbytes,
                bitrate_saving=1.0 - rung.nbytes / best.nbytes,
                psnr=float(psnr(reference, rung.decoded)),
                all_visible=found.all_visible,
                trace=trace,
                records=[records[lv] for lv in trace],
                params={**asdict(self.params), "threshold": threshold, "calibration_ppd": CALIBRATION_PPD},
                width=int(width),
                height=int(height),
                seconds=time.perf_counter() - started,
            )
        finally:
            if own_ladder:
                ladder.close()
