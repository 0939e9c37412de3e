"""Small VP-JNDnet files for the tests (seeded random weights in the trainer's export format)."""

from __future__ import annotations

from pathlib import Path

import torch

from jndviewer.core.pwjnd.vpjnd import EXPORT_FORMAT, VPJNDConfig
from jndviewer.core.pwjnd.vpjnd.network import VPJNDNet

SMALL = VPJNDConfig(width=4, hidden=8, patch=64, patches=4, jnd_model="chou1995")


def small_network_file(path: Path, seed: int, calibration: dict[str, float], config: VPJNDConfig = SMALL) -> Path:
    """A single network's export (the trainer's format) with seeded weights and offsets of its own."""
    torch.manual_seed(seed)
    net = VPJNDNet(config)
    with torch.no_grad():
        net.codec_offsets += torch.randn_like(net.codec_offsets)
        net.task_offsets += torch.randn_like(net.task_offsets)
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(), "state": net.state_dict(),
                "calibration": calibration, "training": {"seed": seed}}, path)
    return path
