"""The one place that picks the torch compute device.

``"auto"`` (or ``None``) prefers CUDA, then Apple MPS, then the CPU. An explicit device that this machine does not
have raises :class:`~jndviewer.core.errors.DeviceError` with a one-sentence message, instead of falling back
silently. torch is imported inside the functions, so importing this module stays cheap for the GUI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jndviewer.core.errors import DeviceError

if TYPE_CHECKING:
    import torch

__all__ = ["AUTO", "available_devices", "describe_device", "select_device"]

AUTO = "auto"
"""The preference that lets :func:`select_device` choose: CUDA, else MPS, else CPU."""

_SUPPORTED_TYPES = ("cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """List the device types usable on this machine.

    Returns
    -------
    list of str
        Always starts with ``"cpu"``; then ``"cuda"`` when a CUDA device is available, and ``"mps"`` when Apple's
        Metal backend is, e.g. ``["cpu"]`` or ``["cpu", "cuda"]``.
    """
    devices = ["cpu"]
    if _cuda_available():
        devices.append("cuda")
    if _mps_available():
        devices.append("mps")
    return devices


def select_device(preference: str | torch.device | None = None) -> torch.device:
    """Turn a device preference into a usable :class:`torch.device`.

    Parameters
    ----------
    preference : str or torch.device, optional
        ``None`` or ``"auto"``: CUDA if available, else MPS if available, else the CPU. Otherwise an explicit
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (case and surrounding spaces are ignored).

    Returns
    -------
    torch.device
        The device to compute on.

    Raises
    ------
    DeviceError
        If the preference is not a device jndviewer knows, or names a device this machine does not have.
    """
    import torch

    if preference is None:
        text = AUTO
    elif isinstance(preference, torch.device):
        text = str(preference)
    elif isinstance(preference, str):
        text = preference.strip().lower()
    else:
        raise DeviceError(f"The device must be given as text such as 'cpu' or 'cuda', not {type(preference).__name__}.")

    if text in ("", AUTO):
        if _cuda_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError) as err:
        raise DeviceError(f"'{text}' is not a device jndviewer knows; use auto, cpu, cuda, cuda:N or mps.") from err
    if device.type not in _SUPPORTED_TYPES:
        raise DeviceError(
            f"The {device.type} device type is not supported by jndviewer; use auto, cpu, cuda, cuda:N or mps."
        )

    if device.type == "cpu":
        return torch.device("cpu")
    if device.type == "cuda":
        if not _cuda_available():
            raise DeviceError(
                f"CUDA was requested but this machine has no CUDA device (torch {torch.__version__}); use --device cpu."
            )
        device_count = torch.cuda.device_count()
        if device.index is not None and device.index >= device_count:
            plural = "device" if device_count == 1 else "devices"
            raise DeviceError(
                f"{device} was requested but this machine has only {device_count} CUDA {plural} "
                f"(cuda:0 to cuda:{device_count - 1}); use --device cuda:0."
            )
        return device
    if not _mps_available():
        raise DeviceError(
            f"MPS was requested but this machine has no Apple MPS device (torch {torch.__version__}); use --device cpu."
        )
    return device


def describe_device(device: str | torch.device) -> str:
    """Describe a device in a few words for status bars and logs.

    Parameters
    ----------
    device : str or torch.device
        A device such as returned by :func:`select_device`.

    Returns
    -------
    str
        e.g. ``"cpu (2 threads)"``, ``"cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB)"`` or ``"mps"``;
        ``"cuda:0 (not available)"`` for a CUDA device this machine does not have.
    """
    import torch

    torch_device = device if isinstance(device, torch.device) else torch.device(str(device).strip().lower())
    if torch_device.type == "cpu":
        thread_count = torch.get_num_threads()
        return f"cpu ({thread_count} thread{'' if thread_count == 1 else 's'})"
    if torch_device.type == "cuda":
        if not _cuda_available():
            return f"{torch_device} (not available)"
        index = torch_device.index if torch_device.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            return f"cuda:{index} (not available)"
        properties = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({properties.name}, {properties.total_memory / 2**30:.1f} GiB)"
    return str(torch_device)


def _cuda_available() -> bool:
    """Whether torch sees at least one CUDA device."""
    import torch

    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    """Whether torch's Apple Metal (MPS) backend is usable."""
    import torch

    mps_backend = getattr(torch.backends, "mps", None)
    return bool(mps_backend is not None and mps_backend.is_available())
