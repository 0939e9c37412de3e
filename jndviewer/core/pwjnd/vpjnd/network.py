"""VP-JNDnet: three convolutional streams over 128 x 128 patches and a weighted patch pooling (after Zhang et al.,
"VP-JND", IEEE TCSVT 2025; structure read from the released checkpoint's variable names, SYSU-Video/VP-JND).

- The reference and the distorted patch go through one shared feature extractor; the reference's pixel JND map
  (a :mod:`jndviewer.core.jnd` model, wu2017 by default) through a second one with its own weights.
- Each extractor: four stages of one 3x3 convolution + ReLU (``width`` x 1, 2, 4, 8 channels), CBAM channel
  attention (Woo et al., ECCV 2018) after stages 1-3, a non-local block (Wang et al., CVPR 2018, embedded Gaussian)
  after stage 4, a 2x2 max-pool after each stage.
- Quality head on [F_ref, F_dist, F_ref - F_dist], weight head on [F_ref, F_dist, F_dist * F_jnd], each feature the
  stage-4 map averaged over positions (the released heads flatten it instead: 100 M parameters). Patch weights are
  softplus (or, as the released head, ReLU: ``VPJNDConfig.weight_head``) + 1e-6, normalised over the image's
  patches; the image logit is sum(weight x quality), plus learned offsets per codec family, viewing task and octave
  of viewing distance (:mod:`jndviewer.core.pwjnd.patch_pooling`).
  A level is visible (perceptually lossy) when the logit is above 0.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.patch_pooling import add_condition_offsets, calibration_delta, pool_patch_logits
from jndviewer.core.pwjnd.sgjnd.patches import crop_patches, patch_positions
from jndviewer.core.pwjnd.vpjnd.config import (
    CBAM_REDUCTION,
    DIFFERENCES,
    JND_LOG_CENTRE,
    RMS_FLOOR,
    WEIGHT_FLOOR,
    VPJNDConfig,
)
from jndviewer.core.viewing import ViewingCondition

Tensor = torch.Tensor
#: The viewing condition of the reference labels' display (standard_fhd, 38 ppd): distances are octaves from it.
TRAINING_PPD = 38.0


class ChannelAttention(nn.Module):
    """CBAM's channel attention: a shared MLP over the average- and max-pooled channels, a sigmoid gate."""

    def __init__(self, channels: int, reduction: int = CBAM_REDUCTION) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1))

    def gate(self, x: Tensor, x_max: Tensor | None = None) -> Tensor:
        """The per-channel gate (N x C x 1 x 1, in [0, 1]); ``x_max``: ``x``'s per-channel maximum when known."""
        x_max = F.adaptive_max_pool2d(x, 1) if x_max is None else x_max
        return torch.sigmoid(self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(x_max))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class NonLocal(nn.Module):
    """An embedded-Gaussian non-local block with a residual; its output projection starts at zero (an identity)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 2)
        self.theta, self.phi, self.g = (nn.Conv2d(channels, inner, 1) for _ in range(3))
        self.out = nn.Conv2d(inner, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)  # N x HW x C'
        phi = self.phi(x).flatten(2)  # N x C' x HW
        g = self.g(x).flatten(2).transpose(1, 2)
        attention = torch.softmax(theta @ phi, dim=-1)
        y = (attention @ g).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.out(y)


class Extractor(nn.Module):
    """Four stages of conv 3x3 + ReLU + attention + 2x2 max-pool; returns the stage-4 map (N x C x P/16 x P/16)."""

    def __init__(self, in_channels: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        stages = []
        previous = in_channels
        for index, out in enumerate(channels):
            attention = NonLocal(out) if index == len(channels) - 1 else ChannelAttention(out)
            stages.append(nn.Sequential(nn.Conv2d(previous, out, 3, padding=1), nn.ReLU(), attention,
                                        nn.MaxPool2d(2)))
            previous = out
        self.stages = nn.Sequential(*stages)

    def forward(self, x: Tensor) -> Tensor:
        # channels-last: oneDNN's convolutions ran this stack 1.6x faster on the CPU (24 patches of 128 pixels)
        x = x.contiguous(memory_format=torch.channels_last)
        for conv, _, attention, pool in self.stages:
            x = F.relu(conv(x), inplace=True)
            if isinstance(attention, ChannelAttention) and x.shape[-2] % 2 == 0 and x.shape[-1] % 2 == 0:
                # the gate is a number >= 0 per channel, which commutes with the 2x2 max-pool exactly, and the
                # pooled map's maximum is the map's: gating the pooled map gives the same numbers with a quarter
                # of the multiplications (with the ReLU in place: 1.6x faster, benchmarks/bench_vpjnd_stream.py)
                pooled = pool(x)
                x = pooled * attention.gate(x, F.adaptive_max_pool2d(pooled, 1))
            else:
                x = pool(attention(x))
        return x


class VPJNDNet(nn.Module):
    """The three streams and the two heads; :meth:`forward` pools patches into image logits."""

    def __init__(self, config: VPJNDConfig) -> None:
        super().__init__()
        self.config = config
        channels = config.channels
        self.image_stream = Extractor(3, channels)
        self.jnd_stream = Extractor(1, channels) if config.reads_jnd_map else None
        size = 3 * channels[-1]
        self.quality = nn.Sequential(nn.Linear(size, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1))
        self.weight = nn.Sequential(nn.Linear(size, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1))
        tasks = len(config.tasks)
        self.codec_offsets = nn.Parameter(torch.zeros(len(config.codec_families))) if config.codec_families else None
        self.task_offsets = nn.Parameter(torch.zeros(max(0, tasks - 1))) if tasks else None
        self.distance_offsets = nn.Parameter(torch.zeros(max(1, tasks))) if config.distance_offset else None
        self.to(memory_format=torch.channels_last)  # the convolutions' weights, as the inputs (Extractor.forward)

    def reference_features(self, reference: Tensor, jnd_map: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """F_ref and F_jnd of reference patches (N x 3 x P x P in [0, 1]) and their JND maps (N x 1 x P x P): the
        reference's stage-4 map (N x C x P/16 x P/16) and the JND stream's, averaged over positions (N x C)."""
        f_ref = self.image_stream(reference - 0.5)
        f_jnd = (self.jnd_stream(jnd_input(jnd_map)).mean(dim=(2, 3))
                 if self.jnd_stream is not None and jnd_map is not None else None)
        return f_ref, f_jnd

    def patch_scores(self, f_ref_map: Tensor, f_jnd: Tensor | None, distorted: Tensor) -> tuple[Tensor, Tensor]:
        """Per patch: quality logit and positive (unnormalised) weight. ``f_ref_map``/``f_jnd`` rows (of
        :meth:`reference_features`) match ``distorted``'s."""
        f_dist_map = self.image_stream(distorted - 0.5)
        f_ref, f_dist = f_ref_map.mean(dim=(2, 3)), f_dist_map.mean(dim=(2, 3))
        difference = pooled_difference(f_ref_map, f_dist_map, self.config.difference)
        difference = self.config.difference_gain * difference  # (VPJNDConfig.difference_gain: why)
        quality = self.quality(torch.cat([f_ref, f_dist, difference], dim=1)).squeeze(-1)
        guide = f_dist * f_jnd if f_jnd is not None else f_dist
        weight = self.weight(torch.cat([f_ref, f_dist, guide], dim=1)).squeeze(-1)
        weight = (F.softplus(weight) if self.config.weight_head == "softplus" else F.relu(weight)) + WEIGHT_FLOOR
        return quality, weight


def pooled_difference(f_ref_map: Tensor, f_dist_map: Tensor, form: str) -> Tensor:
    """What the quality head reads as the distortion of N x C x H x W stage-4 maps (N x C; VPJNDConfig.difference):
    |F_ref - F_dist| per position pooled over the positions, or the difference of the position-averaged maps."""
    if form == "mean":
        return f_ref_map.mean(dim=(2, 3)) - f_dist_map.mean(dim=(2, 3))
    difference = f_ref_map - f_dist_map
    if form == "absolute":
        return difference.abs().mean(dim=(2, 3))
    if form == "rms":
        return (difference.square().mean(dim=(2, 3)) + RMS_FLOOR).sqrt()  # the floor keeps the gradient finite at 0
    if form == "max":
        return difference.abs().amax(dim=(2, 3))
    raise ModelError(f"difference must be one of {', '.join(DIFFERENCES)}, not {form!r}.")


def jnd_input(jnd_map: Tensor) -> Tensor:
    """The JND stream's input: ``log(threshold) - JND_LOG_CENTRE`` (thresholds floored at 0.1 grey levels)."""
    return torch.log(jnd_map.clamp(min=0.1)) - JND_LOG_CENTRE


def crop_map(values: np.ndarray, positions: list[tuple[int, int]], patch: int) -> Tensor:
    """N x 1 x P x P patches of a single-channel H x W map, in its own units (cropped and padded as the image
    patches are, by :func:`~jndviewer.core.pwjnd.sgjnd.patches.crop_patches`)."""
    return crop_patches(values[..., None] * 255.0, positions, patch)  # crop_patches divides by 255


@torch.no_grad()
def jnd_threshold(model: str, reference_rgb: np.ndarray) -> np.ndarray:
    """A pixel JND model's threshold map (grey levels) of a whole reference image."""
    from jndviewer.core.image import luma_tensor
    from jndviewer.core.jnd import create_model

    return create_model(model)(luma_tensor(reference_rgb)).threshold[0, 0].float().numpy()


def reference_jnd_patches(reference_rgb: np.ndarray, positions: list[tuple[int, int]], config: VPJNDConfig
                          ) -> Tensor | None:
    """The configured pixel JND model's threshold map of the whole reference, cropped like the patches."""
    if not config.reads_jnd_map:
        return None
    return crop_map(jnd_threshold(config.jnd_model, reference_rgb), positions, config.patch)


@dataclass
class VPJNDReference:
    """What the networks keep of one reference image: its patches' positions and, per member, F_ref and F_jnd."""

    positions: list[tuple[int, int]]
    f_ref: list[Tensor]
    f_jnd: list[Tensor | None]
    #: The viewing condition the levels are judged at (it adds offsets to the pooled logit, :meth:`member_offsets`).
    condition: ViewingCondition


class VPJNDNetwork:
    """Inference on whole images: the reference streams once per image, the distorted stream once per level.

    It holds one network or several (an ensemble export: networks of one configuration trained with different
    ``--seed``, each with its own offsets and calibration). With several, a level's image logit is the mean of the
    members' calibrated logits, and the patch report's quality and weights are the members' means (the weights of
    each member sum to 1 over the patches, so their mean does too). The pixel JND map and the patches are computed
    once for all members.
    """

    def __init__(self, nets: VPJNDNet | Sequence[VPJNDNet],
                 calibrations: Sequence[dict[str, float] | None] | None = None) -> None:
        self.nets = [net.eval() for net in ([nets] if isinstance(nets, VPJNDNet) else nets)]
        calibrations = [None] * len(self.nets) if calibrations is None else list(calibrations)
        if not self.nets or len(calibrations) != len(self.nets) or any(
                net.config != self.nets[0].config for net in self.nets):
            raise ModelError("A VP-JNDnet ensemble needs networks of one configuration, each with its calibration.")
        self.config = self.nets[0].config
        #: Per member: logit deltas per (codec family, task, ppd), fitted on the training images after training
        #: (:func:`jndviewer.core.train.vpjnd_trainer.fit_calibration`); empty: none.
        self.calibrations = [dict(calibration or {}) for calibration in calibrations]
        self._lock = threading.Lock()
        self._kept: tuple[np.ndarray, VPJNDReference] | None = None

    def __len__(self) -> int:
        """How many networks decide (1, or an ensemble's members)."""
        return len(self.nets)

    @torch.no_grad()
    def reference_state(self, reference_rgb: np.ndarray, condition: ViewingCondition) -> VPJNDReference:
        """The reference's patch features at ``condition`` (the last image's are kept: the explorer asks for a
        report at every level it shows)."""
        self.config.task_index(condition.task)  # one sentence for a task the networks were not trained for
        with self._lock:
            kept = self._kept
        # the streams depend on the whole reference (its JND map), not on the condition: compared exactly
        if kept is not None and np.array_equal(kept[0], reference_rgb):
            state = kept[1]
            return VPJNDReference(state.positions, state.f_ref, state.f_jnd, condition)
        positions = patch_positions(*reference_rgb.shape[:2], self.config)
        reference = crop_patches(reference_rgb, positions, self.config.patch)
        jnd = reference_jnd_patches(reference_rgb, positions, self.config)
        features = [net.reference_features(reference, jnd) for net in self.nets]
        state = VPJNDReference(positions, [f for f, _ in features], [f for _, f in features], condition)
        with self._lock:
            self._kept = (reference_rgb.copy(), state)
        return state

    def forget(self) -> None:
        """Drop the kept reference (the next image is computed afresh, as a benchmark of new images wants)."""
        with self._lock:
            self._kept = None

    @torch.no_grad()
    def member_scores(self, state: VPJNDReference, distorted_rgb: np.ndarray) -> list[tuple[Tensor, Tensor]]:
        """Each member's per-patch quality and raw weight of one distorted version (before pooling and offsets)."""
        distorted = crop_patches(distorted_rgb, state.positions, self.config.patch)
        return [net.patch_scores(f_ref, f_jnd, distorted)
                for net, f_ref, f_jnd in zip(self.nets, state.f_ref, state.f_jnd, strict=True)]

    @torch.no_grad()
    def member_offsets(self, codec: str | None, condition: ViewingCondition) -> list[float]:
        """Per member, what it adds to its pooled patch logit for levels made by ``codec`` at ``condition``: its
        learned offsets (codec family, viewing task, octaves of ppd from 38) and its per-condition calibration's
        delta. The one place they are summed: :meth:`evaluate` adds them, and so do the benchmark and the calibration
        that judge a ladder's levels in bulk (:mod:`jndviewer.core.train.vpjnd_judged_calibration`)."""
        from jndviewer.core.pwjnd.sgjnd.network import codec_family, codec_family_name

        family = torch.tensor([codec_family(codec, self.config.codec_families)])
        task = torch.tensor([self.config.task_index(condition.task)])
        distance = torch.tensor([math.log2(condition.ppd / TRAINING_PPD)])
        name = codec_family_name(codec, self.config.codec_families)
        return [float(add_condition_offsets(torch.zeros(1), net.codec_offsets, net.task_offsets, net.distance_offsets,
                                            family, task, distance)[0])
                + calibration_delta(calibration, name, condition.task, condition.ppd)
                for net, calibration in zip(self.nets, self.calibrations, strict=True)]

    @torch.no_grad()
    def evaluate(self, state: VPJNDReference, distorted_rgb: np.ndarray, codec: str | None = None) -> dict:
        """Image logit, per-patch logits and normalised weights of one distorted version made by ``codec`` (with
        several members: their means, and each member's logit under ``member_logits``)."""
        offsets = self.member_offsets(codec, state.condition)
        logits, qualities, weights = [], [], []
        scores = self.member_scores(state, distorted_rgb)
        for offset, (quality, weight) in zip(offsets, scores, strict=True):
            logit, weight = pool_patch_logits(quality, weight, [len(state.positions)])
            logits.append(float(logit[0]) + offset)
            qualities.append(quality)
            weights.append(weight)
        return {"logit": float(np.mean(logits)), "member_logits": logits,
                "quality": torch.stack(qualities).mean(0).tolist(), "weight": torch.stack(weights).mean(0).tolist()}


__all__ = [
    "TRAINING_PPD",
    "ChannelAttention",
    "Extractor",
    "NonLocal",
    "VPJNDNet",
    "VPJNDNetwork",
    "VPJNDReference",
    "crop_map",
    "jnd_input",
    "jnd_threshold",
    "pooled_difference",
    "reference_jnd_patches",
]
