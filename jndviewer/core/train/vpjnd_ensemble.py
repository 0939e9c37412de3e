"""One VP-JNDnet file from several trained networks (``jndviewer train vpjnd-ensemble A.pt B.pt ... --export E.pt``).

Networks of one configuration trained with different ``--seed`` disagree by about half a level per viewing condition
on Kodak (the model card's seed paragraph); the predictor of an ensemble file averages their calibrated logits
(:class:`jndviewer.core.pwjnd.vpjnd.network.VPJNDNetwork`). Each member keeps its own weights, offsets, calibration
and training record; the file is checked as the predictor will read it before it is written, atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jndviewer.core.checkpoints import load_torch_file
from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.vpjnd.config import ENSEMBLE_VERSION, EXPORT_FORMAT
from jndviewer.core.pwjnd.vpjnd.predictor import check_members, read_members
from jndviewer.core.train.common import save_checkpoint

#: What a member keeps of a single network's export (``source``: the file it came from).
MEMBER_KEYS = ("config", "state", "calibration", "training", "source")


def export_members(path: str | Path) -> list[dict[str, Any]]:
    """The networks of one VP-JNDnet export (one for a single network's file, all of an ensemble's)."""
    name = Path(path).name
    members = read_members(load_torch_file(path, "VP-JNDnet weights", ModelError), name)
    return [{"source": name} | {key: member[key] for key in MEMBER_KEYS if key in member}
            if isinstance(member, dict) else member for member in members]


def write_ensemble(sources: Sequence[str | Path], export: str | Path) -> Path:
    """Write the networks of ``sources`` (single networks or ensembles, in this order) as one ensemble file."""
    if len(sources) < 2:
        raise ModelError("An ensemble needs at least two VP-JNDnet files.")
    members = [member for source in sources for member in export_members(source)]
    check_members(members, Path(export).name)  # the predictor's reading: weights, shapes, calibration, one config
    path = Path(export)
    save_checkpoint(path, {"format": EXPORT_FORMAT, "version": ENSEMBLE_VERSION, "members": members})
    return path


__all__ = ["MEMBER_KEYS", "export_members", "write_ensemble"]
