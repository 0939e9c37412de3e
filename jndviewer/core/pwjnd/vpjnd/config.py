"""VP-JNDnet's stored configuration (architecture and patching) and its constants."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from jndviewer.core.errors import ModelError
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASKS

EXPORT_FORMAT = "jndviewer.vpjnd"
#: An export's version: 1 holds one network (its ``config``, ``state``, ``calibration``), ``ENSEMBLE_VERSION`` a list
#: of such ``members`` of one configuration, whose calibrated logits the predictor averages.
ENSEMBLE_VERSION = 2
#: The JND-map streams the network can read: a pixel JND model of :mod:`jndviewer.core.jnd`, or "none" (the
#: ablation without the JND-map stream: the weight head then reads the distorted features in its place).
NO_JND_MAP = "none"
#: A JND threshold map enters its stream as ``log(threshold) - JND_LOG_CENTRE``: thresholds run from about 1 to
#: 40 grey levels (docs/jnd_models.md), whose logarithms centred near 0 suit a ReLU network without normalisation.
JND_LOG_CENTRE = 2.0
#: The published network's channels per stage (32/64/128/256, Zhang et al., IEEE TCSVT 2025, from the released
#: checkpoint's variable names) are ``width`` x (1, 2, 4, 8) with width 32.
STAGE_MULTIPLIERS = (1, 2, 4, 8)
#: CBAM's channel-attention MLP reduction (Woo et al., ECCV 2018, Sec. 3.1: r = 16), as in the released network.
CBAM_REDUCTION = 16
#: How the quality head can read the distortion (VPJNDConfig.difference): |F_ref - F_dist| per stage-4 position
#: pooled over the positions by their mean ("absolute"), root mean square ("rms") or maximum ("max"), or F_ref - F_dist
#: of the position-averaged features ("mean", the first form).
DIFFERENCES = ("absolute", "rms", "max", "mean")
#: Added under the root of the "rms" difference (VPJNDConfig.difference): its gradient at an undistorted patch
#: stays finite; sqrt(1e-12) = 1e-6, far below the features' differences near a threshold (~1e-2 of the features).
RMS_FLOOR = 1e-12
#: VPJNDConfig.difference_gain of new networks (chosen on the validation images, models/MODEL_CARD.md).
DIFFERENCE_GAIN = 100.0
#: The weight head's positive floor: weights are softplus(w) or ReLU(w) (VPJNDConfig.weight_head), + 1e-6, before
#: normalisation over an image's patches (WaDIQaM's pooling, Bosse et al., IEEE TIP 27(1), 2018, Eq. 7, ReLU as
#: VP-JND's released head).
WEIGHT_FLOOR = 1e-6
#: How the weight head's output is made positive (VPJNDConfig.weight_head).
WEIGHT_HEADS = ("softplus", "relu")

#: Training augmentations (``jndviewer train vpjnd --augment``): "dihedral" shows each training group under one of
#: the eight turns and mirrors of the square, the same for its reference, JND-map and distorted patches.
AUGMENTS = ("none", "dihedral")


@dataclass(frozen=True)
class VPJNDConfig:
    """Architecture and patching of the network (stored with its weights)."""

    #: Channels of the first stage; stages have width x (1, 2, 4, 8). The published 32 costs 4x the arithmetic of
    #: the shipped 16 per patch; trained once (seed 0) it did no better on the validation images (model card:
    #: "more capacity"), and one such network is a little slower at 1080p than the shipped three of width 16.
    width: int = 16
    #: Hidden units of the quality and weight heads. The published heads flatten the stage-4 maps
    #: (98304 -> 512 -> 1, about 100 M parameters); here each stream's stage-4 map is averaged over positions first.
    #: 512 units on the averaged maps did no better on the validation images (seed 0 -0.07 levels, seed 1 +0.45).
    hidden: int = 64
    patch: int = 128
    #: The most patches per image, laid out as SG-JND's ("cover": a grid over the whole image, spread evenly above
    #: this many; :func:`jndviewer.core.pwjnd.sgjnd.patches.covering_positions`).
    patches: int = 24
    patch_layout: str = "cover"
    #: The pixel JND model whose map of the reference feeds the third stream, or "none".
    jnd_model: str = "wu2017"
    #: Codec families with a learned offset on the image logit (other codecs: the offsets' mean).
    codec_families: tuple[str, ...] = ("jpeg", "webp", "avif")
    #: Viewing tasks with a learned logit offset (the first task's held at 0).
    tasks: tuple[str, ...] = (SIDE_BY_SIDE, FLICKER)
    #: A learned logit offset per octave of viewing distance from the labels' 38 ppd, one per task.
    distance_offset: bool = True
    #: What the quality head reads as the distortion: "absolute", the mean over the stage-4 positions of
    #: |F_ref - F_dist| (a distortion confined to a few positions stays in it); "rms" and "max", their root mean
    #: square and maximum (a distortion at a few positions counts more; the maximum gained in 300-step runs and lost
    #: 0.37 levels at full length over three seeds); or "mean", F_ref - F_dist of the position-averaged features (the
    #: first form). Chosen on the validation images (models/MODEL_CARD.md).
    difference: str = "absolute"
    #: The quality head reads ``difference_gain`` x the difference. Near a threshold the difference of the
    #: position-averaged features is about 1 % of the features (0.5-1.4 % at JPEG QF 50-95 on kodim01, measured on the
    #: first shipped weights), and AdamW moves a weight by about the learning rate per step, so in a run of 1,200
    #: steps the head's weights on it could not grow to the scale it needs. A fixed gain sets that scale: 100 brings
    #: it to the features' own; on the validation images (300-step runs, models/MODEL_CARD.md) 10, 30, 100 and 300
    #: gave 7.85, 7.24, 4.91 and 4.70 levels of MAE (seed 0), 100 over three seeds 5.85 against 10.79 without.
    difference_gain: float = DIFFERENCE_GAIN
    #: "relu": ReLU(w) + 1e-6 as the released head; "softplus": softplus(w) + 1e-6. With ReLU the head died in
    #: short runs here (every patch's weight the floor, so the JND-map stream had no say); softplus cannot die
    #: (models/MODEL_CARD.md, ablation). Chosen on the validation images.
    weight_head: str = "softplus"

    def __post_init__(self) -> None:
        from jndviewer.core.jnd import MODELS

        object.__setattr__(self, "codec_families", tuple(self.codec_families))
        object.__setattr__(self, "tasks", tuple(self.tasks))
        if self.jnd_model != NO_JND_MAP and self.jnd_model not in MODELS:
            raise ModelError(f"jnd_model must be one of {', '.join((*MODELS, NO_JND_MAP))}, not {self.jnd_model!r}.")
        unknown = [task for task in self.tasks if task not in TASKS]
        if unknown:
            raise ModelError(f"tasks must be among {', '.join(TASKS)}, not {unknown[0]!r}.")
        if self.patch_layout not in ("cover", "tiles"):
            raise ModelError(f"patch_layout must be cover or tiles, not {self.patch_layout!r}.")
        if self.difference not in DIFFERENCES:
            raise ModelError(f"difference must be one of {', '.join(DIFFERENCES)}, not {self.difference!r}.")
        if self.weight_head not in WEIGHT_HEADS:
            raise ModelError(f"weight_head must be one of {', '.join(WEIGHT_HEADS)}, not {self.weight_head!r}.")
        if not self.difference_gain > 0:
            raise ModelError(f"difference_gain must be positive, not {self.difference_gain!r}.")
        if self.width < 1 or self.hidden < 1 or self.patch < 16 or self.patches < 1:
            raise ModelError("width, hidden, patches must be positive and patch at least 16 pixels.")

    @property
    def reads_jnd_map(self) -> bool:
        return self.jnd_model != NO_JND_MAP

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * m for m in STAGE_MULTIPLIERS)

    def task_index(self, task: str) -> int:
        """Index of a viewing task among :attr:`tasks`; one sentence for a task the network was not trained for."""
        if task not in self.tasks:
            raise ModelError(f"These VP-JNDnet weights were trained for {', '.join(self.tasks)}, not {task}.")
        return self.tasks.index(task)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VPJNDConfig:
        try:
            known = {f.name for f in fields(cls)}
            # stored before these fields existed: the first form, trained without a gain, with the ReLU weight head
            stored = {"difference": "mean", "difference_gain": 1.0, "weight_head": "relu", **data}
            return cls(**{k: v for k, v in stored.items() if k in known})
        except (TypeError, ValueError) as err:
            raise ModelError(f"The VP-JNDnet configuration is not readable ({err}).") from err
