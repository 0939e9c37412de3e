"""VP-JNDnet as a picture-wise JND predictor: its shipped weights, the network's decision per level (VP-JND's binary
block search over the levels, :func:`jndviewer.core.pwjnd.search.binary_block_search`), the patch report."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jndviewer.core.assets import VPJND_WEIGHTS, model_file
from jndviewer.core.checkpoints import load_matching, load_torch_file
from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.base import LadderPredictor
from jndviewer.core.pwjnd.patch_pooling import (
    PatchNetworkDecider,
    calibration_distances,
    checked_calibration,
    distance_caveats,
    family_caveats,
)
from jndviewer.core.pwjnd.vpjnd.config import ENSEMBLE_VERSION, EXPORT_FORMAT, VPJNDConfig
from jndviewer.core.pwjnd.vpjnd.network import VPJNDNet, VPJNDNetwork
from jndviewer.core.viewing import ViewingCondition

#: The shipped weights (``jndviewer train vpjnd`` writes them; the model card says how they were made).
DEFAULT_WEIGHTS = model_file(VPJND_WEIGHTS)

_LOAD_LOCK = threading.Lock()


def _load_member(member: object, name: str) -> tuple[VPJNDNet, dict[str, float]]:
    """One network of an export (the whole file of a single network, one entry of an ensemble's ``members``)."""
    if not isinstance(member, dict) or not isinstance(member.get("state"), dict):
        raise ModelError(f"{name} holds no VP-JNDnet weights.")
    try:
        config = VPJNDConfig.from_dict(member.get("config") or {})
    except ModelError as err:
        raise ModelError(f"{name}: {err}") from err
    net = VPJNDNet(config)
    load_matching(net, member["state"], name=name, what="VP-JNDnet", error=ModelError)
    return net, checked_calibration(member.get("calibration"), name)


def read_members(state: object, name: str) -> list[Any]:
    """The members of a loaded export (itself for a single network's file, ``members`` of an ensemble's), or one
    sentence naming the file ``name``."""
    if not isinstance(state, dict) or state.get("format") != EXPORT_FORMAT:
        raise ModelError(f"{name} is not a jndviewer VP-JNDnet file (wrong format tag).")
    version = state.get("version", 1)
    if version not in (1, ENSEMBLE_VERSION):
        raise ModelError(f"{name} is a VP-JNDnet file of version {version}, which this jndviewer cannot read "
                         f"(it reads 1 and {ENSEMBLE_VERSION}); a newer jndviewer wrote it.")
    members = state.get("members") if version == ENSEMBLE_VERSION else [state]
    if not isinstance(members, list) or not members:
        raise ModelError(f"{name} holds no VP-JNDnet weights.")
    return members


@lru_cache(maxsize=8)
def _load_network(path: str, stamp: tuple[int, int]) -> VPJNDNetwork:
    """``stamp`` (modification time, size) is part of the cache's key only: a rewritten file is read again."""
    name = Path(path).name
    return check_members(read_members(load_torch_file(path, "VP-JNDnet file", ModelError), name), name)


def check_members(members: list[Any], name: str, sources: list[str] | None = None) -> VPJNDNetwork:
    """The network of an export's members (one, or an ensemble's), or one sentence naming ``name`` (and, for the
    members, their ``sources`` when given: the files an ensemble is being made of): unreadable weights, another
    configuration, the same network twice."""
    def called(index: int) -> str:
        if sources is not None:
            return f"{sources[index]} (network {index + 1})"
        return name if len(members) == 1 else f"{name} (network {index + 1})"

    loaded = [_load_member(member, called(index)) for index, member in enumerate(members)]
    for index, (net, _) in enumerate(loaded):
        if net.config != loaded[0][0].config:
            raise ModelError(f"{name}: {called(index)} has another configuration than {called(0)}; the networks of "
                             "an ensemble must share one.")
        for other_index, (other, _) in enumerate(loaded[:index]):
            if all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), other.state_dict().values(),
                                                          strict=True)):
                raise ModelError(f"{name}: {called(index)} is the same network as {called(other_index)}.")
    return VPJNDNetwork([net for net, _ in loaded], [calibration for _, calibration in loaded])


def load_network(weights: str | Path | None = None) -> VPJNDNetwork:
    """The network(s) of a VP-JNDnet file (default: the shipped one), loaded once per version of the file."""
    path = Path(weights) if weights is not None else Path(DEFAULT_WEIGHTS)
    try:
        status = path.stat()
    except OSError as err:
        raise ModelError(f"VP-JNDnet weights {path} do not exist; train them with 'jndviewer train vpjnd'.") from err
    with _LOAD_LOCK:
        return _load_network(str(path), (status.st_mtime_ns, status.st_size))


class VPJNDPredictor(LadderPredictor):
    """PW-JND from VP-JNDnet's decision per level and VP-JND's binary block search.

    The viewing condition reaches the network as an input of its pooled logit: a learned offset per viewing task
    and a learned slope per octave of pixels per degree from the labels' 38 (trained on labels at 38 and 75 ppd),
    plus each member's logit deltas per (codec family, task, ppd) fitted after training on its cached patches (and,
    in a file made by ``jndviewer train vpjnd-calibrate``, on training ladders judged as this predictor judges them).
    """

    name = "vpjnd"
    default_strategy = "block"

    def __init__(self, weights: str | Path | None = None, strategy: str | None = None, *,
                 condition: ViewingCondition | None = None, device: Any = None) -> None:
        super().__init__(condition=condition, strategy=strategy)
        self.network = load_network(weights)
        self.network.config.task_index(self.condition.task)  # one sentence for a task it was not trained for

    def caveats(self, codec: str) -> list[str]:
        # the distances of its labels: its per-condition calibration's keys (family|task|ppd), else the labels' 38
        # (of an ensemble: the first member for which the condition is an extrapolation)
        beyond = [caveat for calibration in self.network.calibrations
                  for caveat in distance_caveats("VP-JNDnet", self.condition.ppd,
                                                 calibration_distances(calibration) or (38.0,))]
        return [*family_caveats("VP-JNDnet", codec, self.network.config.codec_families), *beyond[:1]]

    def decider(self, reference_rgb: np.ndarray, codec: str) -> PatchNetworkDecider:
        state = self.network.reference_state(reference_rgb, self.condition)
        config = {**self.network.config.to_dict(), "networks": len(self.network)}
        return PatchNetworkDecider(config, state.positions,
                                   lambda decoded: self.network.evaluate(state, decoded, codec))

    def patch_report(self, image: Any, distorted_rgb: np.ndarray, codec: str | None = None) -> dict:
        """Patch positions, logits and weights for one distorted version (for the explorer's overlay)."""
        reference = image.rgb8() if hasattr(image, "rgb8") else np.asarray(image)
        state = self.network.reference_state(reference, self.condition)
        report = self.network.evaluate(state, distorted_rgb, codec)
        report["positions"] = state.positions
        report["patch"] = self.network.config.patch
        return report


__all__ = ["DEFAULT_WEIGHTS", "VPJNDPredictor", "check_members", "load_network", "read_members"]
