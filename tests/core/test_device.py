"""Tests of jndviewer.core.device (they adapt to whether this machine has CUDA)."""

from __future__ import annotations

import pytest
import torch

from jndviewer.core.device import available_devices, describe_device, select_device
from jndviewer.core.errors import DeviceError

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = torch.backends.mps.is_available()


def test_available_devices_start_with_cpu_and_match_torch() -> None:
    devices = available_devices()

    assert devices[0] == "cpu"
    assert ("cuda" in devices) == HAS_CUDA
    assert ("mps" in devices) == HAS_MPS
    assert len(devices) == 1 + HAS_CUDA + HAS_MPS


@pytest.mark.parametrize("preference", [None, "auto", " AUTO "])
def test_automatic_choice(preference: str | None) -> None:
    expected = "cuda" if HAS_CUDA else "mps" if HAS_MPS else "cpu"
    assert select_device(preference).type == expected


@pytest.mark.parametrize("preference", ["cpu", "CPU", torch.device("cpu")])
def test_cpu_is_always_available(preference: str | torch.device) -> None:
    assert select_device(preference) == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("preference", ["cuda", "cuda:1"])
def test_cuda_without_cuda_raises_one_sentence(preference: str) -> None:
    with pytest.raises(DeviceError) as excinfo:
        select_device(preference)

    message = str(excinfo.value)
    assert message == (
        f"CUDA was requested but this machine has no CUDA device (torch {torch.__version__}); use --device cpu."
    )
    assert "\n" not in message


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_cuda_when_available() -> None:
    assert select_device("cuda").type == "cuda"
    assert select_device("cuda:0") == torch.device("cuda:0")
    beyond = torch.cuda.device_count()
    with pytest.raises(DeviceError, match=f"cuda:{beyond}"):
        select_device(f"cuda:{beyond}")


@pytest.mark.skipif(HAS_MPS, reason="this machine has MPS")
def test_mps_without_mps_raises() -> None:
    with pytest.raises(DeviceError, match=r"^MPS was requested .*use --device cpu\.$"):
        select_device("mps")


@pytest.mark.parametrize("preference", ["gpu", "cuda:x", "tpu", "meta", "xpu"])
def test_unknown_or_unsupported_devices_raise(preference: str) -> None:
    with pytest.raises(DeviceError) as excinfo:
        select_device(preference)

    message = str(excinfo.value)
    assert message.endswith("use auto, cpu, cuda, cuda:N or mps.")
    assert "\n" not in message


def test_non_text_preference_raises() -> None:
    with pytest.raises(DeviceError, match="int"):
        select_device(3)  # type: ignore[arg-type]


def test_describe_cpu_mentions_thread_count() -> None:
    thread_count = torch.get_num_threads()
    description = describe_device(torch.device("cpu"))

    plural = "thread" if thread_count == 1 else "threads"
    assert description == f"cpu ({thread_count} {plural})"
    assert describe_device("cpu") == description


def test_describe_cuda() -> None:
    description = describe_device("cuda")
    if HAS_CUDA:
        name = torch.cuda.get_device_properties(0).name
        assert description.startswith("cuda:") and name in description and description.endswith(" GiB)")
    else:
        assert description == "cuda (not available)"
