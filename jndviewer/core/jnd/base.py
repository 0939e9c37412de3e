"""The pixel-wise JND model interface: ``JNDModel(luma) -> JNDMap``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from jndviewer.core.errors import ModelError
from jndviewer.core.jnd.ops import check_border

Tensor = torch.Tensor

#: The smallest image side the models accept (the 5x5 operators and Canny's 13-tap filters need some room).
MIN_IMAGE_SIDE = 8


@dataclass
class JNDMap:
    """A JND threshold map and the named parts it is made of.

    Attributes
    ----------
    threshold
        ``N x 1 x H x W`` visibility threshold in gray levels of luma (8-bit scale).
    components
        Named ``N x 1 x H x W`` maps (luminance adaptation, contrast masking, pattern complexity, ...), in the
        order the model defines them, so that a viewer can show each one.
    model
        Registry name of the model that made the map.
    params
        The model's parameters as a plain dict.
    """

    threshold: Tensor
    components: dict[str, Tensor] = field(default_factory=dict)
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> JNDMap:
        """The same map with every tensor moved to ``device``."""
        return JNDMap(
            self.threshold.to(device),
            {name: value.to(device) for name, value in self.components.items()},
            self.model,
            dict(self.params),
        )


@dataclass(frozen=True)
class BorderParams:
    """Parameters every model has.

    Attributes
    ----------
    border
        ``"replicate"`` (default: every pixel computed alike) or ``"zero"`` (the zero padding and border masks of
        the public reference implementations, for numeric cross-checks).
    """

    border: str = "replicate"


class JNDModel(torch.nn.Module):
    """Base class of the pixel-wise JND models.

    Subclasses set the class attributes and implement :meth:`compute`, which receives a validated floating-point
    ``N x 1 x H x W`` luma batch in [0, 255] and returns the threshold and its components.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    params_type: ClassVar[type] = BorderParams
    component_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Any | None = None, **overrides: Any) -> None:
        super().__init__()
        base = params if params is not None else self.params_type()
        if not isinstance(base, self.params_type):
            raise ModelError(f"{self.name} takes {self.params_type.__name__} parameters.")
        try:
            self.params = dataclasses.replace(base, **overrides)
        except TypeError as err:
            known = ", ".join(f.name for f in dataclasses.fields(self.params_type))
            raise ModelError(f"{self.name} has no such parameter ({known} exist).") from err
        check_border(self.params.border)

    def forward(self, luma: Tensor) -> JNDMap:
        """Compute the JND map of a luma batch (``N x 1 x H x W`` or ``H x W``, values in [0, 255])."""
        if luma.dim() == 2:
            luma = luma[None, None]
        if luma.dim() != 4 or luma.shape[1] != 1:
            raise ModelError(f"{self.name} takes luma shaped N x 1 x H x W, not {tuple(luma.shape)}.")
        if min(luma.shape[-2:]) < MIN_IMAGE_SIDE:
            raise ModelError(f"{self.name} needs images of at least {MIN_IMAGE_SIDE} x {MIN_IMAGE_SIDE} pixels.")
        if not luma.is_floating_point():
            luma = luma.float()
        with torch.no_grad():
            threshold, components = self.compute(luma)
        return JNDMap(threshold, components, self.name, dataclasses.asdict(self.params))

    def compute(self, luma: Tensor) -> tuple[Tensor, dict[str, Tensor]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self.params).items())
