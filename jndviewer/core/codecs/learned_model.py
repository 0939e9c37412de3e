"""A variable-rate bmshj2018-factorized image codec: one network, several real rate points.

Architecture: the factorized-prior model of Ballé, Laparra, Simoncelli, "Variational image compression with a scale
hyperprior" (ICLR 2018), i.e. CompressAI's ``bmshj2018-factorized`` (4 strided 5x5 convolutions with GDN, a
non-parametric factorized entropy bottleneck), with fewer channels (N = 64, M = 96 by default) so that it trains on
a CPU in hours. Variable rate: each rate point r has per-channel gains applied to the latent before quantisation and
inverse gains after it (Cui et al., "Asymmetric gained deep image compression with continuous rate adaptation",
CVPR 2021), and its own entropy bottleneck, trained with its own Lagrangian ``lambda_r 255^2 MSE + bpp``.

Bitstreams are real: the latent of each rate point is entropy-coded by CompressAI's rANS coder. Format::

    b"JNDV" | version u8 | rate index u8 | height u16 | width u16 | latent height u16 | latent width u16 | payload
"""

from __future__ import annotations

import math
import struct
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from jndviewer.core.codecs.base import CodecError
from jndviewer.core.compressai_import import import_compressai

Tensor = torch.Tensor

#: Lagrange multipliers of CompressAI's bmshj2018 quality 1..8 (MSE, images in [0, 1], rate in bpp).
BMSHJ2018_LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800)
MAGIC = b"JNDV"
FORMAT_VERSION = 1
HEADER = struct.Struct(">4sBBHHHH")
#: The transform downsamples by 2 four times, so inputs are padded to a multiple of 16.
STRIDE = 16


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a :class:`GainedFactorizedPrior` (stored in every checkpoint)."""

    channels: int = 64  # N
    latent_channels: int = 96  # M
    lambdas: tuple[float, ...] = field(default=BMSHJ2018_LAMBDAS)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lambdas"] = list(self.lambdas)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        try:
            return cls(int(data["channels"]), int(data["latent_channels"]), tuple(float(v) for v in data["lambdas"]))
        except (KeyError, TypeError, ValueError) as err:
            raise CodecError(f"The checkpoint's model configuration is not readable ({err}).") from err


def _build(config: ModelConfig) -> tuple[nn.Module, nn.Module, list]:
    compressai = import_compressai()
    from compressai.entropy_models import EntropyBottleneck
    from compressai.layers import GDN
    from compressai.models.utils import conv, deconv

    del compressai
    n, m = config.channels, config.latent_channels
    analysis = nn.Sequential(conv(3, n), GDN(n), conv(n, n), GDN(n), conv(n, n), GDN(n), conv(n, m))
    synthesis = nn.Sequential(
        deconv(m, n), GDN(n, inverse=True), deconv(n, n), GDN(n, inverse=True), deconv(n, n), GDN(n, inverse=True),
        deconv(n, 3),
    )
    bottlenecks = [EntropyBottleneck(m) for _ in config.lambdas]
    return analysis, synthesis, bottlenecks


class GainedFactorizedPrior(nn.Module):
    """Variable-rate factorized-prior codec. ``rate`` indexes :attr:`ModelConfig.lambdas` (0 = lowest rate)."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        self.g_a, self.g_s, bottlenecks = _build(self.config)
        self.entropy_bottlenecks = nn.ModuleList(bottlenecks)
        # Quantisation step ~ 1/sqrt(lambda) for MSE: start the gains there, around the geometric middle.
        lambdas = torch.tensor(self.config.lambdas, dtype=torch.float64)
        middle = lambdas.log().mean().exp()
        start = (lambdas / middle).sqrt().float()[:, None].repeat(1, self.config.latent_channels)
        self.gain = nn.Parameter(start.clone())
        self.inverse_gain = nn.Parameter(start.reciprocal())

    @property
    def rate_count(self) -> int:
        return len(self.config.lambdas)

    def _check_rate(self, rate: int) -> None:
        if not 0 <= rate < self.rate_count:
            raise CodecError(f"Rate index {rate} is out of range; this model has {self.rate_count} rates.")

    def forward(self, x: Tensor, rate: int) -> dict[str, Tensor]:
        """Training / evaluation pass with additive-noise (train) or rounding (eval) quantisation."""
        self._check_rate(rate)
        y = self.g_a(x) * self.gain[rate][None, :, None, None]
        y_hat, likelihoods = self.entropy_bottlenecks[rate](y)
        x_hat = self.g_s(y_hat * self.inverse_gain[rate][None, :, None, None])
        return {"x_hat": x_hat, "likelihoods": likelihoods}

    def aux_loss(self) -> Tensor:
        """Sum of the entropy bottlenecks' quantile losses (trained with their own optimiser)."""
        return sum(bottleneck.loss() for bottleneck in self.entropy_bottlenecks)

    def update(self, force: bool = True) -> None:
        """Build the entropy coder's CDF tables (needed after training or loading, before :meth:`compress`)."""
        for bottleneck in self.entropy_bottlenecks:
            bottleneck.update(force=force)

    @torch.no_grad()
    def compress(self, x: Tensor, rate: int) -> bytes:
        """Encode one image (1 x 3 x H x W in [0, 1]) at a rate point into a self-describing bitstream."""
        self._check_rate(rate)
        height, width = x.shape[-2:]
        padded = _pad(x)
        y = self.g_a(padded) * self.gain[rate][None, :, None, None]
        strings = self.entropy_bottlenecks[rate].compress(y)
        header = HEADER.pack(MAGIC, FORMAT_VERSION, rate, height, width, y.shape[-2], y.shape[-1])
        return header + strings[0]

    @torch.no_grad()
    def decompress(self, data: bytes) -> Tensor:
        """Decode a bitstream made by :meth:`compress`; returns 1 x 3 x H x W in [0, 1]."""
        if len(data) < HEADER.size or data[:4] != MAGIC:
            raise CodecError("This is not a jndviewer learned-codec bitstream.")
        _, version, rate, height, width, latent_h, latent_w = HEADER.unpack_from(data)
        if version != FORMAT_VERSION:
            raise CodecError(f"Learned-codec bitstream version {version} is not supported.")
        self._check_rate(rate)
        y_hat = self.entropy_bottlenecks[rate].decompress([data[HEADER.size :]], (latent_h, latent_w))
        x_hat = self.g_s(y_hat * self.inverse_gain[rate][None, :, None, None])
        return x_hat[..., :height, :width].clamp(0.0, 1.0)

    def load_weights(self, state: dict[str, Tensor]) -> None:
        """Load a state dict, resizing the entropy coder's CDF buffers to the stored ones."""
        for index, bottleneck in enumerate(self.entropy_bottlenecks):
            prefix = f"entropy_bottlenecks.{index}."
            for name in ("_quantized_cdf", "_offset", "_cdf_length"):
                key = prefix + name
                if key in state:
                    getattr(bottleneck, name).resize_(state[key].shape)
        self.load_state_dict(state)


def _pad(x: Tensor) -> Tensor:
    height, width = x.shape[-2:]
    pad_h, pad_w = (-height) % STRIDE, (-width) % STRIDE
    if pad_h or pad_w:
        x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return x


def bits_per_pixel(likelihoods: Tensor, pixels: int) -> Tensor:
    """Estimated rate of a forward pass in bits per pixel."""
    return torch.log(likelihoods).sum() / (-math.log(2) * pixels)
