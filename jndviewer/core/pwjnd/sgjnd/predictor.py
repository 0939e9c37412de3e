"""SG-JND as a picture-wise JND predictor: its shipped weights, the network's decision per level, the patch report."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.assets import SGJND_WEIGHTS, model_file
from jndviewer.core.checkpoints import load_matching, load_torch_file
from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.base import LadderPredictor
from jndviewer.core.pwjnd.patch_pooling import (
    PatchNetworkDecider,
    checked_calibration,
    distance_caveats,
    family_caveats,
)
from jndviewer.core.pwjnd.sgjnd.config import EXPORT_FORMAT, SGJNDConfig
from jndviewer.core.pwjnd.sgjnd.network import ReferenceFeatures, SGJNDDistanceExperts, SGJNDNetwork
from jndviewer.core.viewing import ViewingCondition

#: The shipped weights (``jndviewer train sgjnd`` writes them; the model card says how they were made).
DEFAULT_WEIGHTS = model_file(SGJND_WEIGHTS)

_LOAD_LOCK = threading.Lock()


@cache
def _load_network(path: str) -> SGJNDNetwork:
    if not Path(path).exists():
        raise ModelError(f"SG-JND weights {path} do not exist; train them with 'jndviewer train sgjnd'.")
    state = load_torch_file(path, "SG-JND checkpoint", ModelError)
    if not isinstance(state, dict) or state.get("format") != EXPORT_FORMAT:
        raise ModelError(f"{Path(path).name} is not a jndviewer SG-JND file (wrong format tag).")
    try:
        config = SGJNDConfig.from_dict(state.get("config") or {})
    except ModelError as err:
        raise ModelError(f"{Path(path).name}: {err}") from err
    if config.distance_experts:  # version 3: a set of heads per distance expert
        experts = state.get("experts")
        if not isinstance(experts, list) or len(experts) != len(config.distance_experts):
            raise ModelError(f"{Path(path).name} does not hold one set of heads per distance expert.")
        expert_states = [_head_states(expert.get("heads") if isinstance(expert, dict) else None, path)
                         for expert in experts]
    else:
        expert_states = [_head_states(state["heads"] if "heads" in state else [state.get("head")], path)]
    if len({len(states) for states in expert_states}) != 1:
        raise ModelError(f"{Path(path).name}: its distance experts hold different numbers of heads.")
    network = SGJNDNetwork(config, heads=len(expert_states[0]))
    ensembles = network.head.experts if isinstance(network.head, SGJNDDistanceExperts) else [network.head]
    for ensemble, head_states in zip(ensembles, expert_states, strict=True):
        for head, head_state in zip(ensemble.heads, head_states, strict=True):
            load_matching(head, head_state, name=Path(path).name, what="SG-JND", error=ModelError)
    network.calibration = checked_calibration(state.get("calibration"), Path(path).name)
    return network.eval()


def _head_states(head_states: Any, path: str) -> list[dict]:
    """The state dicts of one ensemble's heads (version 1 held a single ``head``), or one sentence."""
    if not isinstance(head_states, list) or not head_states or not all(isinstance(h, dict) for h in head_states):
        raise ModelError(f"{Path(path).name} holds no SG-JND head.")
    return head_states


def load_network(weights: str | Path | None = None) -> SGJNDNetwork:
    with _LOAD_LOCK:
        return _load_network(str(Path(weights) if weights is not None else DEFAULT_WEIGHTS))


class SGJNDPredictor(LadderPredictor):
    """PW-JND from the SG-JND network: a decision per level, refined by the sliding window over levels.

    The viewing condition's pixels per degree reach the network through each patch's subband visibility, computed at
    that distance, and through its distance experts (heads trained on labels at 38 and at 75 ppd, interpolated in
    log ppd between them); its task through a learned logit offset per task.
    """

    name = "sgjnd"
    default_strategy = "sliding"

    def __init__(
        self, weights: str | Path | None = None, strategy: str | None = None, *,
        condition: ViewingCondition | None = None,
    ) -> None:
        super().__init__(condition=condition, strategy=strategy)
        self.network = load_network(weights)
        self.network.config.task_index(self.condition.task)  # one sentence for a task it was not trained for

    def caveats(self, codec: str) -> list[str]:
        config = self.network.config
        # the distances its heads learnt: each expert's, both label sets for a distance slope, else the labels' 38 ppd
        trained = config.distance_experts or ((38.0, 75.0) if config.distance_offset else (38.0,))
        return [*family_caveats("SG-JND", codec, config.codec_families),
                *distance_caveats("SG-JND", self.condition.ppd, tuple(trained))]

    def decider(self, reference_rgb: np.ndarray, codec: str) -> PatchNetworkDecider:
        positions, state = self.network.reference_state(reference_rgb, self.condition)
        return PatchNetworkDecider(self.network.config.to_dict(), positions,
                                   lambda decoded: self.network.evaluate(state, positions, decoded, codec))

    def patch_report(self, image: Any, distorted_rgb: np.ndarray, codec: str | None = None) -> dict:
        """Patch positions, logits and weights for one distorted version (for the explorer's overlay)."""
        reference = image.rgb8() if hasattr(image, "rgb8") else np.asarray(image)
        positions, state = self.network.reference_state(reference, self.condition)
        report = self.network.evaluate(state, positions, distorted_rgb, codec)
        report["positions"] = positions
        report["patch"] = self.network.config.patch
        return report


__all__ = ["DEFAULT_WEIGHTS", "ReferenceFeatures", "SGJNDPredictor", "load_network"]
