"""The study protocols as small state machines: no window, no clock of their own, every answer a :class:`Trial`.

Each protocol works on one item's ladder by position (0 = the best level, see :mod:`.model`), asks for one
presentation at a time (:meth:`Protocol.presentation`) and takes the observer's answer (:meth:`Protocol.answer`),
which returns the :class:`Trial` to store. When :attr:`Protocol.done`, :meth:`Protocol.result` gives the run's
critical level (the first level seen as different). Given the same item, run spec, seed and answers, a protocol
passes through the same states, so a run interrupted by a crash is resumed by replaying its stored trials
(:func:`replay`).

- :class:`FlickerAdjustment`: KonJND-1k (Lin et al., IEEE TCSVT 32(9), 2022): the reference and the distorted image
  alternate in place (125 ms each, :class:`FlickerClock`); a slider starts at the reference and the observer moves it
  towards worse levels until the image first flickers. The whole slider trace is kept with its timestamps.
- :class:`BinarySearch`: MCL-JCI's side-by-side comparisons (Jin et al., 2016: "same" or "different" against the
  reference), as a relaxed binary search: after an answer only half of the discarded part is dropped (the bound
  moves to the quartile between the old bound and the tested level), so a single slip costs steps instead of the
  threshold; the search ends when the bounds are one level apart.
- :class:`ForcedChoice`: two presentations, one holding the distortion; "which one?". QUEST+ (Watson, J. Vision
  17(3):10, 2017; the PyPI package ``questplus``) places each trial and estimates the 75 %-correct position of a
  cumulative-normal psychometric function with a 50 % guess rate. It answers whether a given level (for example a
  predicted PW-JND) is visible to this observer: visible when it lies at or beyond the estimated threshold.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    CATCH_OBVIOUS,
    CATCH_SAME,
    FLICKER_ADJUSTMENT,
    FORCED_CHOICE,
    TEST,
    RunSpec,
    Trial,
)

#: KonJND-1k shows each image for 125 ms: 8 switches per second.
FLICKER_SWITCH_MS = 125.0
#: Forced choice: trials per run (the issue's check: QUEST+ within 2 levels after 30 trials) and the lapse rate
#: assumed by the psychometric function.
FORCED_CHOICE_TRIALS = 30
FORCED_CHOICE_LAPSE = 0.02
#: The psychometric function's spread (the standard deviation of its cumulative normal) as a share of the ladder's
#: length, at least one level: 2 levels of a 100-level JPEG ladder. Held fixed, so that 30 trials go to the threshold
#: alone (QUEST's classic use; with the spread free too, 30 trials left the threshold 2-7 levels off in simulation).
FORCED_CHOICE_SPREAD = 0.02
#: A flicker catch run showing an obvious level counts as answered right when flicker is reported within this many
#: slider steps of the reference.
OBVIOUS_STEPS = 3


@dataclass(frozen=True)
class Presentation:
    """What to show next.

    ``levels`` holds one entry per image beside the reference: the level shown, or None for the reference itself
    (a catch trial or the undistorted interval of a forced choice). Binary search and flicker adjustment show one;
    a forced choice shows two, of which ``target`` (0 or 1) holds the distortion.
    """

    levels: tuple[int | None, ...]
    target: int | None = None


class FlickerClock:
    """Which image a flicker presentation shows at each display frame: frames are counted, not slept.

    Switch k falls on the first frame at or after k x 125 ms, so the images stay on screen a whole number of refresh
    periods and, where 125 ms is not one (60 Hz: 7.5 frames), alternate between the two nearest counts (7 and 8
    frames: 117 and 133 ms) with a mean of exactly 125 ms. At 120 Hz every image stays 15 frames. The driver counts
    the frames since the presentation started and asks :meth:`distorted_at`.
    """

    def __init__(self, refresh_hz: float, switch_ms: float = FLICKER_SWITCH_MS) -> None:
        if not (math.isfinite(refresh_hz) and refresh_hz > 0):
            raise JndViewerError(f"A refresh rate of {refresh_hz!r} Hz cannot time a flicker.")
        self.refresh_hz = float(refresh_hz)
        #: Frames per image on average (7.5 at 60 Hz); at least one.
        self.frames_per_switch = max(1.0, switch_ms / 1000.0 * refresh_hz)

    @property
    def switch_ms(self) -> float:
        """The mean time each image stays on screen."""
        return self.frames_per_switch * 1000.0 / self.refresh_hz

    def frame_at(self, seconds: float) -> int:
        """The display frame showing at ``seconds`` after the start (frames counted from the refresh clock)."""
        return math.floor(seconds * self.refresh_hz + 1e-9)

    def distorted_at(self, frame: int) -> bool:
        """Whether frame ``frame`` shows the distorted image (frame 0 starts with the reference)."""
        return math.floor(frame / self.frames_per_switch + 1e-9) % 2 == 1


class Protocol(ABC):
    """One run: an item's ladder under one protocol (see the module docstring)."""

    name = ""

    def __init__(self, spec: RunSpec, run_index: int, seed: int) -> None:
        self.spec = spec
        self.item = spec.item
        self.run_index = run_index
        self.seed = seed
        self.trials: list[Trial] = []
        self.ladder = spec.item.ladder()

    @property
    @abstractmethod
    def done(self) -> bool: ...

    @abstractmethod
    def presentation(self) -> Presentation:
        """What to show now (only while not :attr:`done`)."""

    @abstractmethod
    def result(self) -> tuple[int | None, bool | None, dict[str, Any]]:
        """The critical level (None: no difference seen on the whole ladder), whether a catch run was answered
        right (None for a test run), and details to keep."""

    def _shown(self, position: int | None) -> int | None:
        """The level shown at a ladder position: catch runs show the reference itself or the worst level."""
        if position is None or self.spec.kind == CATCH_SAME:
            return None
        if self.spec.kind == CATCH_OBVIOUS:
            return self.ladder[-1]
        return self.ladder[position]

    def _keep(self, trial: Trial) -> Trial:
        if self.done:
            raise JndViewerError("This run is finished; it takes no more answers.")
        self.trials.append(trial)
        return trial


class FlickerAdjustment(Protocol):
    """KonJND-1k's adjustment: slider value 0 shows the reference against itself, value k >= 1 ladder position
    k - 1. The observer moves the slider (:meth:`move`) and answers once: ``visible`` (flicker seen at the slider's
    level) or ``none`` (no flicker anywhere on the ladder)."""

    name = FLICKER_ADJUSTMENT

    def __init__(self, spec: RunSpec, run_index: int, seed: int) -> None:
        super().__init__(spec, run_index, seed)
        self.slider = 0
        self.trace: list[tuple[float, int]] = []
        self.started_at: float | None = None

    @property
    def slider_max(self) -> int:
        return len(self.ladder)

    @property
    def done(self) -> bool:
        return bool(self.trials)

    def start(self, at: float) -> None:
        """The presentation appeared at ``at`` seconds (the trace starts there, at the reference)."""
        if self.started_at is None:
            self.started_at = at
            self.trace.append((at, self.slider))

    def move(self, slider: int, at: float) -> None:
        """The observer moved the slider to ``slider`` at ``at`` seconds (kept in the trace)."""
        self.start(at)
        self.slider = int(min(max(slider, 0), self.slider_max))
        if self.trace[-1][1] != self.slider:
            self.trace.append((at, self.slider))

    def presentation(self) -> Presentation:
        return Presentation((self._shown(self.slider - 1 if self.slider else None),))

    def answer(self, response: str, at: float) -> Trial:
        """``visible``: flicker first seen at the slider's level; ``none``: no flicker on the whole ladder."""
        if response not in ("visible", "none"):
            raise JndViewerError(f"A flicker adjustment is answered 'visible' or 'none', not {response!r}.")
        self.start(at)
        level = self.ladder[self.slider - 1] if response == "visible" and self.slider else None
        correct = None
        if self.spec.kind == CATCH_SAME:
            correct = response == "none"
        elif self.spec.kind == CATCH_OBVIOUS:
            correct = response == "visible" and 1 <= self.slider <= OBVIOUS_STEPS
        return self._keep(Trial(self.run_index, 0, level, response, correct, self.started_at or at, at,
                                tuple(self.trace), {"slider": self.slider}))

    def result(self) -> tuple[int | None, bool | None, dict[str, Any]]:
        trial = self.trials[-1]
        return trial.level, trial.correct, {"slider": trial.extra.get("slider"), "moves": len(trial.trace) - 1}


class BinarySearch(Protocol):
    """MCL-JCI's side-by-side "same / different", as a relaxed binary search over ladder positions.

    Bounds: ``low`` is the worst position judged the same (-1: only the reference), ``high`` the best judged
    different (``len(ladder)``: beyond the ladder). The first test is at the run's start position; then the middle.
    "different" at ``m`` sets ``high = m + (high - m) // 2``; "same" sets ``low = m - (m - low) // 2``. For an
    observer who answers without slips the true threshold stays inside (low, high], and the search ends with
    ``high`` on it after about log(n) / log(4/3) trials (16 for 100 levels). Catch runs are a single trial.
    """

    name = BINARY_SEARCH

    def __init__(self, spec: RunSpec, run_index: int, seed: int) -> None:
        super().__init__(spec, run_index, seed)
        self.low, self.high = -1, len(self.ladder)
        self.position = min(max(spec.start, 0), len(self.ladder) - 1) if spec.kind == TEST else len(self.ladder) - 1

    @property
    def done(self) -> bool:
        if self.spec.kind != TEST:
            return bool(self.trials)
        return self.high - self.low <= 1

    def presentation(self) -> Presentation:
        return Presentation((self._shown(self.position),))

    def answer(self, response: str, presented_at: float, answered_at: float) -> Trial:
        """``same`` or ``different``."""
        if response not in ("same", "different"):
            raise JndViewerError(f"A side-by-side comparison is answered 'same' or 'different', not {response!r}.")
        m = self.position
        correct = None
        if self.spec.kind == CATCH_SAME:
            correct = response == "same"
        elif self.spec.kind == CATCH_OBVIOUS:
            correct = response == "different"
        trial = self._keep(Trial(self.run_index, len(self.trials), self._shown(m), response, correct, presented_at,
                                 answered_at, (), {"position": m, "low": self.low, "high": self.high}))
        if self.spec.kind == TEST:
            if response == "different":
                self.high = m + (self.high - m) // 2
            else:
                self.low = m - (m - self.low) // 2
            self.position = (self.low + self.high + 1) // 2
        return trial

    def result(self) -> tuple[int | None, bool | None, dict[str, Any]]:
        if self.spec.kind != TEST:
            return None, self.trials[-1].correct, {}
        critical = self.ladder[self.high] if self.high < len(self.ladder) else None
        return critical, None, {"trials": len(self.trials), "position": self.high}


class ForcedChoice(Protocol):
    """Two presentations, one distorted; QUEST+ picks the level of each trial (see the module docstring).

    The run's start position is the level under test (for example a predicted PW-JND); :meth:`result` says whether
    the observer's threshold lies at or before it (``details["visible"]``).
    """

    name = FORCED_CHOICE

    def __init__(self, spec: RunSpec, run_index: int, seed: int, trials: int = FORCED_CHOICE_TRIALS) -> None:
        super().__init__(spec, run_index, seed)
        from questplus import QuestPlus

        self.total = 1 if spec.kind != TEST else int(trials)
        positions = np.arange(len(self.ladder), dtype=float)
        spread = max(1.0, FORCED_CHOICE_SPREAD * len(self.ladder))
        self._quest = QuestPlus(
            stim_domain={"intensity": positions},
            param_domain={"mean": positions, "sd": np.array([spread]),
                          "lower_asymptote": 0.5, "lapse_rate": FORCED_CHOICE_LAPSE},
            outcome_domain={"response": ["Correct", "Incorrect"]},
            func="norm_cdf", stim_scale="linear", stim_selection_method="min_entropy",
            param_estimation_method="mean",
        )
        self._rng = np.random.default_rng([seed, run_index])
        self._next()

    def _next(self) -> None:
        if self.spec.kind == TEST:
            self.position = int(self._quest.next_stim["intensity"])
        else:
            self.position = len(self.ladder) - 1
        self.target = int(self._rng.integers(0, 2))

    @property
    def done(self) -> bool:
        return len(self.trials) >= self.total

    def presentation(self) -> Presentation:
        shown = self._shown(self.position)
        levels = (shown, None) if self.target == 0 else (None, shown)
        return Presentation(levels, self.target)

    def answer(self, response: str, presented_at: float, answered_at: float) -> Trial:
        """``first`` or ``second``: which presentation held the distortion."""
        if response not in ("first", "second"):
            raise JndViewerError(f"A forced choice is answered 'first' or 'second', not {response!r}.")
        correct = (response == "first") == (self.target == 0)
        if self.spec.kind == CATCH_SAME:
            correct = None  # nothing to find: any answer is a guess; kept, not scored
        trial = self._keep(Trial(self.run_index, len(self.trials), self._shown(self.position), response, correct,
                                 presented_at, answered_at, (), {"position": self.position, "target": self.target}))
        if self.spec.kind == TEST:
            self._quest.update(stim={"intensity": float(self.position)},
                               outcome={"response": "Correct" if correct else "Incorrect"})
        if not self.done:
            self._next()
        return trial

    def threshold_position(self) -> float:
        """The estimated 75 %-correct ladder position (the posterior mean of the psychometric function's mean)."""
        return float(self._quest.param_estimate["mean"])

    def result(self) -> tuple[int | None, bool | None, dict[str, Any]]:
        if self.spec.kind != TEST:
            return None, self.trials[-1].correct, {}
        threshold = self.threshold_position()
        position = min(max(round(threshold), 0), len(self.ladder) - 1)
        tested = min(max(self.spec.start, 0), len(self.ladder) - 1)
        return self.ladder[position], None, {
            "threshold_position": threshold, "tested_level": self.ladder[tested], "visible": tested >= threshold,
            "correct": sum(bool(t.correct) for t in self.trials), "trials": len(self.trials),
        }


#: Protocol name -> class.
PROTOCOL_CLASSES: dict[str, type[Protocol]] = {
    FLICKER_ADJUSTMENT: FlickerAdjustment, BINARY_SEARCH: BinarySearch, FORCED_CHOICE: ForcedChoice,
}


def create_protocol(name: str, spec: RunSpec, run_index: int, seed: int) -> Protocol:
    """A fresh protocol of a registered name for one run."""
    try:
        cls = PROTOCOL_CLASSES[name]
    except KeyError:
        raise JndViewerError(f"Unknown study protocol {name!r}; choose one of {', '.join(PROTOCOL_CLASSES)}.") from None
    return cls(spec, run_index, seed)


def replay(protocol: Protocol, trials: list[Trial]) -> Protocol:
    """Bring a fresh protocol to the state after its stored ``trials`` (resuming a run after a crash)."""
    for trial in trials:
        if isinstance(protocol, FlickerAdjustment):
            for at, slider in trial.trace:
                protocol.move(slider, at)
            protocol.move(int(trial.extra.get("slider", protocol.slider)), trial.answered_at)
            protocol.answer(trial.response, trial.answered_at)
        elif isinstance(protocol, BinarySearch | ForcedChoice):
            protocol.answer(trial.response, trial.presented_at, trial.answered_at)
    return protocol
