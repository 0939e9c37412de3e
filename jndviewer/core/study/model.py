"""What a study is made of: the items shown, the viewing conditions, the sessions, the trials and their results.

Plain, Qt-free records shared by the protocols (:mod:`.protocols`), the store (:mod:`.store`), the results and the
exports. Conventions:

- A study **item** is one reference image with a ladder of distorted levels (a codec and its levels). The protocols
  walk the ladder by **position**: 0 is the best level, ``len(levels) - 1`` the worst (:meth:`StudyItem.ladder`).
- A run's **critical level** is the first level, going from the best towards the worst, at which the observer saw a
  difference: the *first-visible* JND point of MCL-JCI and KonJND-1k (:mod:`jndviewer.core.datasets.sample`). None
  means the observer saw no difference anywhere on the ladder. The observer's worst perceptually lossless level is
  one level better than the critical level.
- A **catch** run or trial checks the observer, not the image: ``catch-same`` shows the reference against itself (the
  right answer is "no difference"), ``catch-obvious`` an obviously distorted level (the right answer is "different").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import TASKS, ppd_from_pixel_size

#: The study protocols (:mod:`.protocols`): KonJND-1k's flicker adjustment, MCL-JCI's side-by-side binary search, and
#: a forced-choice confirmation around one level.
FLICKER_ADJUSTMENT = "flicker-adjustment"
BINARY_SEARCH = "binary-search"
FORCED_CHOICE = "forced-choice"
PROTOCOLS = (FLICKER_ADJUSTMENT, BINARY_SEARCH, FORCED_CHOICE)
#: Kinds of run and trial.
TEST = "test"
CATCH_SAME = "catch-same"
CATCH_OBVIOUS = "catch-obvious"
RUN_KINDS = (TEST, CATCH_SAME, CATCH_OBVIOUS)
#: A credit card's width (ISO/IEC 7810 ID-1), the on-screen ruler of the screen calibration.
CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98


@dataclass(frozen=True)
class StudyItem:
    """One reference image and its ladder.

    Attributes
    ----------
    item_id
        Unique within its study set (for example ``"kodim23-face"``).
    reference
        Path of the reference image as the study set gives it (absolute, or ``package:NAME`` for the shipped set).
    codec
        A codec of the codec registry (``jpeg``, ``webp``, ...), or ``folder:PATH`` for stored files.
    levels
        The ladder's levels in ascending numeric order.
    better
        ``"higher"`` or ``"lower"``: which end of ``levels`` is the better quality.
    source
        The source image id (splits by source never put one in two sets; Kodak sources are refused for training).
    crop
        ``(x, y, width, height)`` of the reference to show, or None for the whole image.
    """

    item_id: str
    reference: str
    codec: str
    levels: tuple[int, ...]
    better: str = "higher"
    source: str = ""
    crop: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(int(v) for v in self.levels))
        if self.crop is not None:
            object.__setattr__(self, "crop", tuple(int(v) for v in self.crop))
        if self.better not in ("higher", "lower"):
            raise JndViewerError(f"Study item {self.item_id!r}: better must be 'higher' or 'lower'.")
        if len(self.levels) < 2 or any(b <= a for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise JndViewerError(f"Study item {self.item_id!r} needs at least two levels in ascending order.")

    def ladder(self) -> tuple[int, ...]:
        """The levels from the best to the worst (position 0 is the best)."""
        return self.levels[::-1] if self.better == "higher" else self.levels

    def level_at(self, position: int) -> int:
        """The level at a ladder position (0: the best)."""
        return self.ladder()[position]

    def position_of(self, level: int) -> int:
        """The ladder position of a level."""
        return self.ladder().index(int(level))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["levels"] = list(self.levels)
        data["crop"] = list(self.crop) if self.crop is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyItem:
        crop = data.get("crop")
        return cls(str(data["item_id"]), str(data["reference"]), str(data["codec"]), tuple(data["levels"]),
                   str(data.get("better", "higher")), str(data.get("source", "")),
                   tuple(crop) if crop else None)


@dataclass(frozen=True)
class ScreenGeometry:
    """The screen the study runs on, as Qt reports it (logical pixels) and its device-pixel ratio."""

    name: str = ""
    width: int = 0
    height: int = 0
    device_pixel_ratio: float = 1.0
    refresh_hz: float = 60.0


@dataclass(frozen=True)
class StudyConditions:
    """How one session is viewed: recorded with every session; its ``ppd`` and ``task`` are what the predictors are
    asked about when people and predictors are compared.

    Attributes
    ----------
    task
        ``side-by-side`` or ``flicker``.
    distance_mm
        The viewing distance the observer entered.
    mm_per_pixel
        Millimetres per device pixel, from the on-screen card calibration (:func:`mm_per_pixel`).
    card_pixels
        The width in device pixels of the rectangle the observer matched to a credit card (0: not calibrated).
    screen
        The screen's geometry, device-pixel ratio and refresh rate.
    """

    task: str
    distance_mm: float
    mm_per_pixel: float
    card_pixels: float = 0.0
    screen: ScreenGeometry = field(default_factory=ScreenGeometry)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise JndViewerError(f"Unknown viewing task {self.task!r}; choose one of {', '.join(TASKS)}.")
        if not (math.isfinite(self.distance_mm) and 50 <= self.distance_mm <= 10000):
            raise JndViewerError(f"A viewing distance of {self.distance_mm:g} mm is not plausible; enter 50-10000 mm.")
        if not (math.isfinite(self.mm_per_pixel) and 0.01 <= self.mm_per_pixel <= 5):
            raise JndViewerError(f"{self.mm_per_pixel:g} mm per pixel is not plausible; calibrate the screen again.")

    @property
    def ppd(self) -> float:
        """Pixels per degree at the centre of the screen (:func:`pixels_per_degree`)."""
        return pixels_per_degree(self.distance_mm, self.mm_per_pixel)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ppd": self.ppd}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConditions:
        screen = ScreenGeometry(**data.get("screen", {}))
        return cls(str(data["task"]), float(data["distance_mm"]), float(data["mm_per_pixel"]),
                   float(data.get("card_pixels", 0.0)), screen)


def mm_per_pixel(card_pixels: float, card_mm: float = CARD_WIDTH_MM) -> float:
    """Millimetres per device pixel from a rectangle of ``card_pixels`` device pixels matched to a card ``card_mm``
    wide on screen."""
    if not (math.isfinite(card_pixels) and card_pixels > 0):
        raise JndViewerError("The card rectangle must be wider than 0 pixels.")
    return card_mm / card_pixels


def pixels_per_degree(distance_mm: float, pixel_mm: float) -> float:
    """Pixels per degree at the screen centre (:func:`jndviewer.core.viewing.ppd_from_pixel_size`, as the explorer's
    viewing-condition dialog computes it)."""
    return ppd_from_pixel_size(distance_mm, pixel_mm)


@dataclass(frozen=True)
class Trial:
    """One answered presentation.

    Attributes
    ----------
    run_index
        The run (one item under one protocol) it belongs to, in the session's order.
    trial_index
        Its order within the run.
    level
        The level shown (for a flicker adjustment: the level the observer stopped at; None when the reference was
        shown against itself).
    response
        The protocol's answer word: ``same`` / ``different`` (binary search), ``first`` / ``second`` (forced choice),
        ``visible`` / ``none`` (flicker adjustment: the observer saw flicker at ``level``, or nowhere).
    correct
        For forced-choice and catch trials, whether the answer was right; None where there is no right answer.
    presented_at, answered_at
        Seconds (monotonic clock of the session) when the stimulus appeared and when it was answered.
    trace
        The flicker adjustment's slider trace: ``[(seconds, position), ...]``.
    extra
        Protocol details (the forced choice's interval holding the distortion, the search bounds, ...).
    """

    run_index: int
    trial_index: int
    level: int | None
    response: str
    correct: bool | None = None
    presented_at: float = 0.0
    answered_at: float = 0.0
    trace: tuple[tuple[float, int], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    """One entry of a session's plan: an item under the session's protocol, and whether it is a catch run."""

    item: StudyItem
    kind: str = TEST
    #: The ladder position the run starts at (binary search; forced choice's level under test), randomised per run.
    start: int = 0


@dataclass(frozen=True)
class RunResult:
    """What a finished run measured: one observer's critical level for one item, at the session's conditions."""

    session_id: str
    observer: str
    run_index: int
    item: StudyItem
    kind: str
    protocol: str
    task: str
    ppd: float
    #: The first level seen as different (None: no difference anywhere on the ladder).
    critical_level: int | None
    #: Catch runs: whether the observer answered them right.
    correct: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionInfo:
    """A session as stored: who, how, under which conditions, with which seed and plan, and how far it got."""

    session_id: str
    observer: str
    protocol: str
    study_set: str
    seed: int
    conditions: StudyConditions
    plan: tuple[RunSpec, ...]
    started: str
    finished: str | None = None
    #: Runs finished so far (their results are stored as they finish).
    runs_done: int = 0
    options: dict[str, Any] = field(default_factory=dict)
