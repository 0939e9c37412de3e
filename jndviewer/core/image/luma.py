"""BT.601 luma of RGB pixels, as numpy arrays or torch tensors.

This module does not import torch when it is imported: :func:`luma_tensor` and the torch branch of
:func:`rgb_to_luma` import it when called.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Protocol, overload

import numpy as np

if TYPE_CHECKING:
    import torch


class HasLuma(Protocol):
    """Anything with a luma plane, such as an :class:`~jndviewer.core.image.model.Image` (whose module imports this
    one, so this one names it only by what it offers)."""

    def luma(self) -> np.ndarray: ...

__all__ = ["LUMA_WEIGHTS", "luma_tensor", "rgb_to_luma"]

LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)
"""BT.601 luma weights of R, G and B."""


@overload
def rgb_to_luma(rgb: np.ndarray) -> np.ndarray: ...


@overload
def rgb_to_luma(rgb: torch.Tensor) -> torch.Tensor: ...


def rgb_to_luma(rgb: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, on the scale of the input.

    Parameters
    ----------
    rgb : numpy.ndarray or torch.Tensor
        A numpy array with channels last (``H x W x 3``, or any ``(..., 3)``), or a torch tensor with channels at
        dim -3 (``3 x H x W``, ``N x 3 x H x W``, ...). Integer inputs are converted to float32; floating-point
        inputs keep their dtype.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The same type as ``rgb``: a numpy array with the channel axis removed (``H x W``), or a tensor with the
        channel dim kept as size 1 (``N x 1 x H x W``), on the input's device.

    Raises
    ------
    ValueError
        If the channel axis does not have size 3.
    """
    r_weight, g_weight, b_weight = LUMA_WEIGHTS
    if _is_torch_tensor(rgb):
        tensor: torch.Tensor = rgb  # type: ignore[assignment]
        if tensor.dim() < 3 or tensor.shape[-3] != 3:
            raise ValueError(f"Expected a tensor shaped (..., 3, H, W), not {tuple(tensor.shape)}.")
        if not tensor.is_floating_point():
            tensor = tensor.float()
        red, green, blue = tensor.unbind(dim=-3)
        return (red * r_weight + green * g_weight + blue * b_weight).unsqueeze(-3)

    values = np.asarray(rgb)
    if values.ndim < 1 or values.shape[-1] != 3:
        raise ValueError(f"Expected an array shaped (..., 3) with channels last, not {values.shape}.")
    return _channels_to_luma(values)


def _channels_to_luma(values: np.ndarray, *, divisor: float | None = None) -> np.ndarray:
    """BT.601 luma of a ``(..., 3)`` array, converting one channel at a time.

    Integer channels become float32 (then divided by ``divisor`` when given); float channels keep their dtype.
    """

    def channel(index: int) -> np.ndarray:
        plane = values[..., index]
        if plane.dtype.kind == "f":
            return plane
        plane = plane.astype(np.float32)
        if divisor is not None:
            plane /= np.float32(divisor)
        return plane

    r_weight, g_weight, b_weight = LUMA_WEIGHTS
    luma = channel(0) * r_weight
    luma += channel(1) * g_weight
    luma += channel(2) * b_weight
    return luma


def _is_torch_tensor(value: object) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(value, torch_module.Tensor)


def luma_tensor(
    image: HasLuma | np.ndarray,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """BT.601 luma as a ``1 x 1 x H x W`` torch tensor on the 8-bit scale [0, 255].

    Parameters
    ----------
    image : Image or numpy.ndarray
        An :class:`Image`, or an array: ``H x W`` (taken as luma already) or ``H x W x 3`` RGB, on the 8-bit scale
        (``uint16`` arrays are divided by 257, like :meth:`Image.rgb_float`).
    device : str or torch.device, optional
        Where the tensor goes; ``None`` means the CPU.
    dtype : torch.dtype, optional
        Floating-point dtype of the result; ``None`` means ``torch.float32``. Luma is computed in float32.

    Returns
    -------
    torch.Tensor
        Shape ``(1, 1, H, W)``.

    Raises
    ------
    ValueError
        If an array is neither ``H x W`` nor ``H x W x 3``.
    """
    import torch

    image_luma = getattr(image, "luma", None)  # an Image, or anything else with a luma plane (HasLuma)
    if callable(image_luma):
        luma = image_luma()
    else:
        values = np.asarray(image)
        divisor = 257.0 if values.dtype == np.uint16 else None
        if values.ndim == 2:
            luma = values.astype(np.float32)
            if divisor is not None:
                luma /= np.float32(divisor)
        elif values.ndim == 3 and values.shape[2] == 3:
            luma = _channels_to_luma(values, divisor=divisor)
        else:
            raise ValueError(f"Expected an H x W or H x W x 3 array, not shape {values.shape}.")
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    tensor = torch.from_numpy(luma).to(device=torch.device(device) if device is not None else "cpu")
    return tensor.to(dtype=dtype if dtype is not None else torch.float32).reshape(1, 1, *luma.shape)
