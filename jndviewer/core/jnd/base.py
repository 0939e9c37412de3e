"""The pixel-wise JND model interface: ``JNDModel(luma) -> JNDMap``."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from jndviewer.core.errors import ModelError
from jndviewer.core.jnd.definitions import MIN_IMAGE_SIDE, BorderParams, check_border

Tensor = torch.Tensor

#: Rows per strip when a model's local part runs strip by strip on the CPU. Every step of these models is a
#: memory-bound pass over the whole map; on strips the intermediate maps stay in the cache. At 1920x1080 (2 threads)
#: yang2005's local part took 24.4 ms whole and 17.4 / 16.9 / 17.4 / 20.5 ms in strips of 270 / 180 / 135 / 90
#: rows (``benchmarks/bench_jnd.py --strip-rows``).
STRIP_ROWS = 180


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


class JNDModel(torch.nn.Module):
    """Base class of the pixel-wise JND models.

    Subclasses set the class attributes and implement :meth:`compute`, which receives a validated floating-point
    ``N x 1 x H x W`` luma batch in [0, 255] and returns the threshold and its components.

    A model whose output at a pixel depends only on the ``local_radius`` rows around it, given the whole-image maps
    of :meth:`prepare` (edge maps, thresholds from image-wide maxima), is computed in horizontal strips of
    :data:`STRIP_ROWS` rows on the CPU: each strip is computed with ``local_radius`` rows of real context above and
    below, which are then dropped, so the result is bit for bit the whole-image result.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    params_type: ClassVar[type] = BorderParams
    component_names: ClassVar[tuple[str, ...]] = ()
    #: Rows of context :meth:`compute` needs on each side of an output row; 0 computes the whole image at once.
    local_radius: ClassVar[int] = 0

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
            whole_image = self.prepare(luma)
            if self.uses_strips(luma):
                threshold, components = self._compute_in_strips(luma, whole_image)
            else:
                threshold, components = self.compute(luma, **whole_image)
        return JNDMap(threshold, components, self.name, dataclasses.asdict(self.params))

    def prepare(self, luma: Tensor) -> dict[str, Tensor]:
        """Maps that need the whole image (keyword arguments of :meth:`compute`), each ``N x C x H x W``."""
        return {}

    def compute(self, luma: Tensor, **whole_image: Tensor) -> tuple[Tensor, dict[str, Tensor]]:  # pragma: no cover
        raise NotImplementedError

    def uses_strips(self, luma: Tensor) -> bool:
        """Whether :meth:`forward` computes ``luma`` strip by strip (CPU, a local model, more than 1.5 strips;
        ``STRIP_ROWS = 0`` turns strips off)."""
        on_cpu = luma.device.type == "cpu"
        return on_cpu and self.local_radius > 0 and STRIP_ROWS > 0 and luma.shape[-2] > 1.5 * STRIP_ROWS

    def _compute_in_strips(
        self, luma: Tensor, whole_image: dict[str, Tensor], strip_rows: int | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        strip_rows = strip_rows or STRIP_ROWS
        height = luma.shape[-2]
        count = round(height / strip_rows)
        bounds = [round(i * height / count) for i in range(count + 1)]
        threshold: Tensor | None = None
        components: dict[str, Tensor] = {}
        for y0, y1 in itertools.pairwise(bounds):
            top, bottom = max(0, y0 - self.local_radius), min(height, y1 + self.local_radius)
            rows = slice(top, bottom)
            part, part_components = self.compute(
                luma[..., rows, :], **{name: value[..., rows, :] for name, value in whole_image.items()}
            )
            keep = slice(y0 - top, y1 - top)
            if threshold is None:
                threshold = part.new_empty((*part.shape[:-2], height, part.shape[-1]))
                components = {
                    name: value.new_empty((*value.shape[:-2], height, value.shape[-1]))
                    for name, value in part_components.items()
                }
            threshold[..., y0:y1, :] = part[..., keep, :]
            for name, value in part_components.items():
                components[name][..., y0:y1, :] = value[..., keep, :]
        assert threshold is not None
        return threshold, components

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self.params).items())
