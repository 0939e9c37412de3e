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
from jndviewer.core.pwjnd.patch_pooling import PatchNetworkDecider, checked_calibration
from jndviewer.core.pwjnd.sgjnd.config import EXPORT_FORMAT, SGJNDConfig
from jndviewer.core.pwjnd.sgjnd.network import ReferenceFeatures, SGJNDNetwork
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
    head_states = state["heads"] if "heads" in state else [state.get("head")]  # version 2 holds an ensemble
    if not isinstance(head_states, list) or not head_states or not all(isinstance(h, dict) for h in head_states):
        raise ModelError(f"{Path(path).name} holds no SG-JND head.")
    try:
        config = SGJNDConfig.from_dict(state.get("config") or {})
    except ModelError as err:
        raise ModelError(f"{Path(path).name}: {err}") from err
    network = SGJNDNetwork(config, heads=len(head_states))
    for head, head_state in zip(network.head.heads, head_states, strict=True):
        load_matching(head, head_state, name=Path(path).name, what="SG-JND", error=ModelError)
    network.calibration = checked_calibration(state.get("calibration"), Path(path).name)
    return network.eval()


def load_network(weights: str | Path | None = None) -> SGJNDNetwork:
    with _LOAD_LOCK:
        return _load_network(str(Path(weights) if weights is not None else DEFAULT_WEIGHTS))


class SGJNDPredictor(LadderPredictor):
    """PW-JND from the SG-JND network: a decision per level, refined by the sliding window over levels.

    The viewing condition's pixels per degree reach the network through each patch's subband visibility (the
    weights were trained at 38 ppd, the labels' condition), its task through a learned logit offset per task.
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
