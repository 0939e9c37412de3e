"""What the two patch networks (SG-JND and VP-JNDnet) share: the weighted pooling of patch logits into an image
logit, the learned offsets of that logit per codec family, viewing task and viewing distance, and the logit deltas
per (codec family, task, ppd) fitted after training (:func:`jndviewer.core.train.samples.fit_condition_deltas`).

The pooling is WaDIQaM's (Bosse et al., IEEE TIP 27(1), 2018, Eq. 7): the image score is the weighted mean of the
patch scores, ``sum(w_i q_i) / sum(w_i)`` with positive weights, as in SG-JND (Cao et al., ICIP 2024) and VP-JND's
released network (Zhang et al., IEEE TCSVT 2025).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from jndviewer.core.pwjnd.base import LevelDecision

Tensor = torch.Tensor


def pool_patch_logits(quality: Tensor, weight: Tensor, counts: list[int]) -> tuple[Tensor, Tensor]:
    """Image logits and normalised weights from patch rows that are consecutive runs of ``counts`` (one per image).

    ``weight`` must be positive; it is divided by its image's sum.
    """
    image_of_row = torch.repeat_interleave(
        torch.arange(len(counts), device=quality.device), torch.as_tensor(counts, device=quality.device)
    )
    totals = torch.zeros(len(counts), dtype=weight.dtype, device=weight.device).index_add(0, image_of_row, weight)
    weight = weight / totals[image_of_row]
    logits = torch.zeros_like(totals).index_add(0, image_of_row, weight * quality)
    return logits, weight


def add_condition_offsets(
    logits: Tensor,
    codec_offsets: Tensor | None,
    task_offsets: Tensor | None,
    distance_offsets: Tensor | None,
    codecs: Tensor | None = None,
    tasks: Tensor | None = None,
    distances: Tensor | None = None,
) -> Tensor:
    """``logits`` plus each image's learned offsets.

    - ``codec_offsets`` (one per codec family): ``codecs`` holds each image's family index, -1 (or None) meaning
      the offsets' mean (a codec of no trained family);
    - ``task_offsets`` (one per viewing task after the first, whose offset is 0): ``tasks`` holds each image's task
      index, -1 (or None) meaning no offset;
    - ``distance_offsets`` (a logit slope per task): ``distances`` holds each image's log2(ppd / 38).
    """
    count = logits.shape[0]
    if codec_offsets is not None:
        families = codecs if codecs is not None else torch.full((count,), -1, device=logits.device)
        known = torch.cat([codec_offsets, codec_offsets.mean()[None]])  # index -1: the mean
        logits = logits + known[families.to(logits.device)]
    if task_offsets is not None and tasks is not None:
        offsets = torch.cat([task_offsets.new_zeros(1), task_offsets, task_offsets.new_zeros(1)])
        logits = logits + offsets[tasks.to(logits.device)]  # index 0: the first task; -1 (unknown): none
    if distance_offsets is not None and distances is not None:
        task_rows = tasks.clamp(min=0) if tasks is not None else torch.zeros(count, dtype=torch.long)
        slopes = distance_offsets[task_rows.to(logits.device).clamp(max=len(distance_offsets) - 1)]
        logits = logits + slopes * distances.to(logits.device, logits.dtype)
    return logits


def calibration_key(family: str, task: str, ppd: float) -> str:
    """The per-condition calibration's key: codec family ("" for a codec of no trained family), task, ppd."""
    return f"{family}|{task}|{float(ppd):g}"


def parse_calibration_key(key: str) -> tuple[str, str, float]:
    """``(family, task, ppd)`` of a :func:`calibration_key`."""
    parts = key.split("|")
    return parts[0], parts[1], float(parts[2])


def calibration_distances(calibration: dict[str, float]) -> tuple[float, ...]:
    """The distances (ppd) a per-condition calibration was fitted at, increasing."""
    return tuple(sorted({parse_calibration_key(key)[2] for key in calibration}))


def calibration_delta(calibration: dict[str, float], family: str, task: str, ppd: float) -> float:
    """The calibrated logit delta for a codec family and viewing condition: the fitted deltas of that family and
    task, interpolated linearly in log2 ppd between the fitted distances (the nearest one outside them); 0 when
    none was fitted."""
    parsed = [(parse_calibration_key(key), delta) for key, delta in calibration.items()]
    fitted = sorted((at, delta) for (of, on, at), delta in parsed if (of, on) == (family, task))
    if not fitted:
        return 0.0
    x = math.log2(ppd)
    points = [(math.log2(p), d) for p, d in fitted]
    if x <= points[0][0]:
        return points[0][1]
    for (x0, d0), (x1, d1) in itertools.pairwise(points):
        if x <= x1:
            return d0 + (d1 - d0) * (x - x0) / (x1 - x0)
    return points[-1][1]


class PatchNetworkDecider:
    """One reference image's decision per level for either patch network: a level is visible when the image logit of
    ``evaluate(decoded_rgb)`` (the network's report: logit, per-patch quality and weight) is above 0. The reports
    of decided levels are kept, so the result's patch parameters do not run the network again."""

    def __init__(self, config: dict[str, Any], positions: list[tuple[int, int]],
                 evaluate: Callable[[np.ndarray], dict]) -> None:
        self.config = config
        self.positions = positions
        self.evaluate = evaluate
        self.reports: dict[int, dict] = {}

    def decide(self, level: int, decoded_rgb: np.ndarray) -> LevelDecision:
        report = self.reports[level] = self.evaluate(decoded_rgb)
        return LevelDecision(report["logit"] > 0.0, report["logit"])

    def result_params(self, level: int, decoded_rgb: np.ndarray) -> dict[str, Any]:
        report = self.reports.get(level) or self.evaluate(decoded_rgb)
        return {**self.config, "patch_positions": [list(p) for p in self.positions],
                "patch_weights": report["weight"], "patch_quality": report["quality"]}


def family_caveats(network: str, codec: str, families: tuple[str, ...]) -> list[str]:
    """One sentence when ``codec`` (a family) is none of those the network's codec offsets were trained on."""
    if not families or codec in families:
        return []
    known = ", ".join(families[:-1]) + f" and {families[-1]}" if len(families) > 1 else families[0]
    return [f"The {network} network was trained on {known} ladders only; {codec} levels get the mean of their "
            "offsets, and its PW-JND for them is untested."]


def distance_caveats(network: str, ppd: float, trained: tuple[float, ...]) -> list[str]:
    """One sentence when ``ppd`` lies beyond the distances the network was trained at (the training-free predictor's
    rule for its fits, :func:`~jndviewer.core.viewing.beyond_distances`): there its PW-JND is an extrapolation."""
    from jndviewer.core.viewing import beyond_distances

    if not beyond_distances(ppd, trained):
        return []
    at = " and ".join(f"{value:g}" for value in sorted(trained))
    return [f"The {network} network was trained on labels at {at} ppd; at {ppd:g} ppd its PW-JND is an extrapolation, "
            "untested."]


def checked_calibration(raw: object, name: str) -> dict[str, float]:
    """A weights file's per-condition calibration (absent: none), or one sentence naming the file when malformed."""
    from jndviewer.core.errors import ModelError

    raw = raw or {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and k.count("|") == 2 and isinstance(v, int | float) for k, v in raw.items()
    ):
        raise ModelError(f"{name} holds an unreadable per-condition calibration.")
    return {k: float(v) for k, v in raw.items()}


__all__ = ["PatchNetworkDecider", "add_condition_offsets", "calibration_delta", "calibration_distances",
           "calibration_key", "checked_calibration", "family_caveats", "parse_calibration_key", "pool_patch_logits"]
