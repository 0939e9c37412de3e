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
    """The networks of one VP-JNDnet export (one for a single network's file, all of an ensemble's), each checked as
    the predictor reads it (one sentence naming ``path`` when it cannot be)."""
    name = Path(path).name
    members = read_members(load_torch_file(path, "VP-JNDnet file", ModelError), name)
    check_members(members, name)
    # the path as given (run folders all hold a vpjnd.pt); a member of an ensemble keeps the source it came from
    return [{"source": str(path)} | {key: member[key] for key in MEMBER_KEYS if key in member} for member in members]


def write_ensemble(sources: Sequence[str | Path], export: str | Path) -> Path:
    """Write the networks of ``sources`` (single networks or ensembles, in this order) as one ensemble file.

    Refused in one sentence, before anything is written: fewer than two networks, an export that is one of the
    sources, a source that cannot be read, networks of another configuration or the same network twice."""
    path = Path(export)
    for source in sources:
        if Path(source).resolve() == path.resolve():
            raise ModelError(f"The ensemble would overwrite its source {Path(source).name}; export to another file.")
    members = [member for source in sources for member in export_members(source)]
    if len(members) < 2:
        raise ModelError("An ensemble needs at least two VP-JNDnet networks.")
    check_members(members, path.name, [member["source"] for member in members])
    save_checkpoint(path, {"format": EXPORT_FORMAT, "version": ENSEMBLE_VERSION, "members": members})
    return path


__all__ = ["MEMBER_KEYS", "export_members", "write_ensemble"]
