"""A study session from plan to last answer, Qt-free: the explorer's study window only shows and forwards.

:func:`make_plan` orders a study set's items at random (seeded; the seed is stored with the session), gives each run
a random start and mixes in catch runs. :class:`StudyRunner` walks the plan: the current run's protocol, each answer
stored in its own transaction before the next presentation (:mod:`.store`), the rest reminder, and resuming a
session after a crash by replaying its stored trials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    CATCH_OBVIOUS,
    CATCH_SAME,
    FORCED_CHOICE,
    PROTOCOLS,
    TEST,
    RunResult,
    RunSpec,
    SessionInfo,
    StudyConditions,
    Trial,
)
from jndviewer.core.study.protocols import FlickerAdjustment, Protocol, create_protocol, replay
from jndviewer.core.study.store import StudyStore

#: The rest reminder: after this many answered runs, or this many seconds since the last rest.
REST_EVERY_RUNS = 20
REST_EVERY_SECONDS = 10 * 60.0


@dataclass(frozen=True)
class StudyOptions:
    """How a session is built and paced (stored with the session)."""

    catch_same: int = 1
    catch_obvious: int = 1
    rest_every_runs: int = REST_EVERY_RUNS
    rest_every_seconds: float = REST_EVERY_SECONDS
    #: Forced choice: the ladder position under test for each item id (for example its predicted PW-JND).
    tested_levels: tuple[tuple[str, int], ...] = ()


def make_plan(items: list[Any] | tuple[Any, ...], protocol: str, seed: int,
              options: StudyOptions | None = None) -> list[RunSpec]:
    """The runs of a session: every item once in a seeded random order, each with a random start, and the catch
    runs (the reference against itself; the worst level) at random places after the first run."""
    if protocol not in PROTOCOLS:
        raise JndViewerError(f"Unknown study protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}.")
    if not items:
        raise JndViewerError("The study set has no images.")
    options = options or StudyOptions()
    rng = np.random.default_rng(seed)
    tested = dict(options.tested_levels)
    runs = []
    for index in rng.permutation(len(items)):
        item = items[int(index)]
        n = len(item.levels)
        if protocol == FORCED_CHOICE:
            start = item.position_of(tested[item.item_id]) if item.item_id in tested else n // 2
        else:  # a random start in the middle half of the ladder (the binary search's first comparison)
            start = int(rng.integers(n // 4, max(n // 4 + 1, (3 * n) // 4)))
        runs.append(RunSpec(item, TEST, start))
    catches = [CATCH_SAME] * options.catch_same + [CATCH_OBVIOUS] * options.catch_obvious
    for kind in catches:
        item = items[int(rng.integers(0, len(items)))]
        runs.insert(int(rng.integers(1, len(runs) + 1)), RunSpec(item, kind, 0))
    return runs


class StudyRunner:
    """Drives one stored session: the protocol of the current run, answers to the store, rests, resume.

    Times are seconds of ``clock`` (monotonic by default) from the runner's start; the Qt driver passes the times it
    measured for each presentation and answer.
    """

    def __init__(self, store: StudyStore, session_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.session: SessionInfo = store.session(session_id)
        self.options = StudyOptions(**{k: (tuple(map(tuple, v)) if k == "tested_levels" else v)
                                       for k, v in self.session.options.items() if k in StudyOptions.__annotations__})
        self._clock = clock
        self._origin = clock()
        self._last_rest = self._origin
        self._runs_since_rest = 0
        self.run_index = self.session.runs_done
        self.protocol: Protocol | None = None
        if self.session.runs_done:
            store.add_event(session_id, "resumed", {"runs_done": self.session.runs_done})
        self._open_run()

    @classmethod
    def start(cls, store: StudyStore, observer: str, protocol: str, study_set: str, items: list[Any],
              conditions: StudyConditions, seed: int, options: StudyOptions | None = None,
              clock: Callable[[], float] = time.monotonic) -> StudyRunner:
        """Plan, store and open a new session."""
        options = options or StudyOptions()
        plan = make_plan(items, protocol, seed, options)
        stored = {k: v for k, v in options.__dict__.items()}
        session_id = store.start_session(observer, protocol, study_set, seed, conditions, plan, stored)
        return cls(store, session_id, clock)

    def now(self) -> float:
        return self._clock() - self._origin

    @property
    def session_id(self) -> str:
        return self.session.session_id

    @property
    def total_runs(self) -> int:
        return len(self.session.plan)

    @property
    def done(self) -> bool:
        return self.run_index >= self.total_runs

    def _open_run(self) -> None:
        if self.done:
            self.protocol = None
            return
        spec = self.session.plan[self.run_index]
        self.protocol = create_protocol(self.session.protocol, spec, self.run_index, self.session.seed)
        stored = self.store.trials(self.session_id, self.run_index)
        if stored:  # a crash in the middle of this run: replay what was answered
            replay(self.protocol, stored)
            if self.protocol.done:  # the last trial was stored but its run's result was not (cannot happen in one
                self._finish_run()  # transaction; kept for databases written by hand)

    def record(self, trial: Trial) -> None:
        """Store the protocol's answer (and the run's result when it ended the run), then move on."""
        protocol = self.protocol
        if protocol is None:
            raise JndViewerError("The session is finished.")
        run = None
        if protocol.done:
            critical, correct, details = protocol.result()
            spec = self.session.plan[self.run_index]
            conditions = self.session.conditions
            run = RunResult(self.session_id, self.session.observer, self.run_index, spec.item, spec.kind,
                            self.session.protocol, conditions.task, conditions.ppd, critical, correct, details)
        self.store.record_trial(self.session_id, trial, run)
        if run is not None:
            self._runs_since_rest += 1
            self.run_index += 1
            self._open_run()
            if self.done:
                self.store.finish_session(self.session_id)

    def _finish_run(self) -> None:
        self.run_index += 1
        self._open_run()

    def flicker(self) -> FlickerAdjustment:
        if not isinstance(self.protocol, FlickerAdjustment):
            raise JndViewerError("This session is not a flicker adjustment.")
        return self.protocol

    def rest_due(self) -> bool:
        """Whether to remind the observer to rest before the next run."""
        if self.done:
            return False
        return (self._runs_since_rest >= self.options.rest_every_runs
                or self._clock() - self._last_rest >= self.options.rest_every_seconds)

    def rested(self) -> None:
        """The observer took the rest (kept as an event)."""
        self.store.add_event(self.session_id, "rest", {"after_runs": self.run_index})
        self._runs_since_rest = 0
        self._last_rest = self._clock()
