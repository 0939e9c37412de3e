"""The picture-wise JND result every predictor returns, and its plain-dict form (the schema of ``core.report``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LevelRecord:
    """What a predictor found at one visited level."""

    level: int
    visible: bool
    score: float
    nbytes: int
    bpp: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PWJND:
    """A picture-wise JND prediction.

    Attributes
    ----------
    level
        The predicted PW-JND: the worst level at which the distortion is still not visible.
    nbytes, bpp
        Size of the image at that level.
    best_level, best_nbytes
        The best level of the ladder and its size; ``bitrate_saving = 1 - nbytes / best_nbytes``.
    psnr
        PSNR (dB, RGB) of the image at the PW-JND.
    all_visible
        Even the best level is visible (the prediction is then the best level).
    trace
        Levels visited by the search, in the order they were evaluated.
    records
        Per visited level: the decision, the score it was made on, the size.
    params
        The predictor's own parameters (strategy, threshold or network configuration, ...).
    condition
        The viewing condition the prediction is for (:class:`~jndviewer.core.viewing.ViewingCondition` as a dict).
    request
        What a batch asked for, so that it resumes only what matches (:mod:`jndviewer.core.outputs`): the resolved
        image ``path``, the ``codec`` as given (a folder ladder's path resolved) and the predictor ``options`` given
        (empty: not recorded, as in the explorer's results).
    """

    image: str
    codec: str
    predictor: str
    level: int
    nbytes: int
    bpp: float
    best_level: int
    best_nbytes: int
    bitrate_saving: float
    psnr: float
    all_visible: bool
    trace: list[int] = field(default_factory=list)
    records: list[LevelRecord] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    condition: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def encodes(self) -> int:
        """Number of levels the prediction had to encode."""
        return len(self.trace)

    @property
    def decisions(self) -> dict[int, bool]:
        return {r.level: r.visible for r in self.records}

    @property
    def scores(self) -> dict[int, float]:
        return {r.level: r.score for r in self.records}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["records"] = [r.to_dict() for r in self.records]
        data["encodes"] = self.encodes
        if math.isinf(data["psnr"]):
            data["psnr"] = None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PWJND:
        fields = dict(data)
        fields.pop("encodes", None)
        fields["records"] = [LevelRecord(**r) for r in fields.get("records", [])]
        if fields.get("psnr") is None:
            fields["psnr"] = math.inf
        if "condition" not in fields:  # written before results recorded their viewing condition
            ppd = fields.get("params", {}).get("ppd")
            fields["condition"] = {"ppd": float(ppd)} if ppd not in (None, "") else {}
        return cls(**fields)
