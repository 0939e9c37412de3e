"""Codecs backed by the project's own trained network (``jndviewer/assets/models/learned_codec.pt``,
see its MODEL_CARD.md).

- ``learned``: the variable-rate factorized-prior codec at its trained rate points (level 1 = lowest rate),
  entropy-coded to real bitstreams.
- ``autoencoder``: the same analysis/synthesis transforms as a 9-level degradation ladder in the spirit of the
  CNN-oriented JND dataset (distortion made by a CNN autoencoder, not by block quantisation): level 1 is the
  highest-rate operating point, level 9 the lowest, and the levels in between interpolate the per-channel gains
  log-linearly between trained points (the continuous rate adaptation of Cui et al., CVPR 2021). Each level is
  entropy-coded with the nearest trained rate point's entropy model, so its size is real too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.assets import LEARNED_CODEC_WEIGHTS, model_file
from jndviewer.core.codecs.base import Codec, CodecError, Encoded, Level, check_rgb
from jndviewer.core.errors import JndViewerError

DEFAULT_WEIGHTS = model_file(LEARNED_CODEC_WEIGHTS)
EXPORT_FORMAT = "jndviewer.learned_codec"
AUTOENCODER_LEVELS = 9

_MODEL_CACHE: dict[tuple[str, str], Any] = {}
_MODEL_LOCK = threading.Lock()


def load_learned_model(weights: str | Path | None = None, device: str = "cpu") -> Any:
    """Load (once per path and device) the trained :class:`GainedFactorizedPrior`; errors are one sentence."""
    from jndviewer.core.checkpoints import load_matching, load_torch_file
    from jndviewer.core.codecs.learned_model import GainedFactorizedPrior, ModelConfig

    path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
    key = (str(path.resolve()), device)
    with _MODEL_LOCK:
        if key in _MODEL_CACHE:
            return _MODEL_CACHE[key]
        if not path.exists():
            raise CodecError(
                f"The learned codec's weights {path} do not exist; train them with 'jndviewer train codec'."
            )
        state = load_torch_file(path, "learned-codec checkpoint", CodecError)
        if not isinstance(state, dict) or state.get("format") != EXPORT_FORMAT:
            raise CodecError(f"{path.name} is not a jndviewer learned-codec file (wrong format tag).")
        model = GainedFactorizedPrior(ModelConfig.from_dict(state.get("model_config") or {}))
        load_matching(model, state.get("state_dict"), name=path.name, what="learned codec", error=CodecError,
                      load=model.load_weights)
        model = model.to(device).eval()
        model.update(force=True)
        _MODEL_CACHE[key] = model
        return model


class LearnedCodec(Codec):
    """The project's variable-rate bmshj2018-factorized codec (CompressAI layers, rANS entropy coding)."""

    name = "learned"
    title = "Learned (bmshj2018-factorized, variable rate)"
    suffix = ".jndv"
    level_name = "rate point"
    size_monotone = True

    def __init__(self, weights: str | Path | None = None, device: str = "cpu") -> None:
        self.weights = Path(weights) if weights is not None else DEFAULT_WEIGHTS
        self.device = device
        self._rate_count: int | None = None

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        if not DEFAULT_WEIGHTS.exists():
            return False, f"The learned codec's weights ({DEFAULT_WEIGHTS.name}) have not been trained yet."
        try:
            from jndviewer.core.compressai_import import import_compressai

            import_compressai()
        except JndViewerError as err:
            return False, str(err)
        return True, ""

    def model(self) -> Any:
        model = load_learned_model(self.weights, self.device)
        self._rate_count = model.rate_count
        return model

    def levels(self) -> tuple[Level, ...]:
        if self._rate_count is None:
            self.model()
        assert self._rate_count is not None
        return tuple(range(1, self._rate_count + 1))

    def _to_tensor(self, rgb: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.array(rgb, dtype=np.float32)).permute(2, 0, 1)[None].to(self.device) / 255.0

    @staticmethod
    def _to_rgb(x: Any) -> np.ndarray:
        import torch

        return (x[0].permute(1, 2, 0).clamp(0, 1) * 255.0).round().to(dtype=torch.uint8).cpu().numpy()

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        rgb = check_rgb(rgb)
        model = self.model()
        self.check_level(level)
        data = model.compress(self._to_tensor(rgb), level - 1)
        decoded = self._to_rgb(model.decompress(data))
        return Encoded(data, np.ascontiguousarray(decoded), level)


class AutoencoderCodec(LearnedCodec):
    """Nine levels of CNN-autoencoder degradation (1 = least, 9 = most), from the learned codec's transforms."""

    name = "autoencoder"
    title = "Autoencoder degradation (9 levels)"
    suffix = ".jndv"
    level_name = "degradation level"
    better = "lower"

    def levels(self) -> tuple[Level, ...]:
        return tuple(range(1, AUTOENCODER_LEVELS + 1))

    def operating_point(self, level: Level) -> tuple[int, int, float]:
        """(lower rate index, upper rate index, weight of the lower one) for a degradation level."""
        rates = self.model().rate_count
        position = (AUTOENCODER_LEVELS - level) / (AUTOENCODER_LEVELS - 1) * (rates - 1)  # level 1 -> top rate
        lower = min(int(np.floor(position)), rates - 2)
        return lower, lower + 1, 1.0 - (position - lower)

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        import torch

        rgb = check_rgb(rgb)
        self.check_level(level)
        model = self.model()
        lower, upper, weight = self.operating_point(level)
        gain = model.gain[lower].log() * weight + model.gain[upper].log() * (1.0 - weight)
        inverse = model.inverse_gain[lower].log() * weight + model.inverse_gain[upper].log() * (1.0 - weight)
        coder = lower if weight >= 0.5 else upper
        with torch.no_grad():
            from jndviewer.core.codecs.learned_model import HEADER, MAGIC, _pad

            x = self._to_tensor(rgb)
            height, width = x.shape[-2:]
            y = model.g_a(_pad(x)) * gain.exp()[None, :, None, None]
            strings = model.entropy_bottlenecks[coder].compress(y)
            y_hat = model.entropy_bottlenecks[coder].decompress(strings, y.shape[-2:])
            x_hat = model.g_s(y_hat * inverse.exp()[None, :, None, None])[..., :height, :width]
        header = HEADER.pack(MAGIC, 2, coder, height, width, y.shape[-2], y.shape[-1])
        return Encoded(header + strings[0], np.ascontiguousarray(self._to_rgb(x_hat)), level)
