"""The study protocols and the session runner, without a window: scripted observers with known thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    CATCH_OBVIOUS,
    CATCH_SAME,
    FLICKER_ADJUSTMENT,
    FORCED_CHOICE,
    TEST,
    RunSpec,
    StudyConditions,
    StudyItem,
    mm_per_pixel,
    pixels_per_degree,
)
from jndviewer.core.study.protocols import (
    BinarySearch,
    FlickerAdjustment,
    FlickerClock,
    ForcedChoice,
    create_protocol,
    replay,
)
from jndviewer.core.study.session import StudyOptions, StudyRunner, make_plan
from jndviewer.core.study.store import StudyStore

ITEM = StudyItem("img", "/nowhere/img.png", "jpeg", tuple(range(1, 101)))


class ScriptedObserver:
    """Sees a difference at ladder positions >= ``threshold`` (0 = best); with probability ``lapse`` an answer is a
    coin toss instead. For the forced choice: a cumulative normal of spread ``spread`` positions, 75 % correct at
    the threshold."""

    def __init__(self, threshold: int, lapse: float = 0.0, seed: int = 0, spread: float = 2.0) -> None:
        self.threshold, self.lapse, self.spread = threshold, lapse, spread
        self.rng = np.random.default_rng(seed)

    def sees(self, position: int) -> bool:
        if self.rng.random() < self.lapse:
            return bool(self.rng.random() < 0.5)
        return position >= self.threshold

    def right_in_forced_choice(self, position: int) -> bool:
        if self.rng.random() < self.lapse:
            return bool(self.rng.random() < 0.5)
        return bool(self.rng.random() < 0.5 + 0.5 * norm.cdf((position - self.threshold) / self.spread))


def run_binary_search(observer: ScriptedObserver, start: int, kind: str = TEST) -> BinarySearch:
    search = BinarySearch(RunSpec(ITEM, kind, start), 0, 0)
    while not search.done:
        search.answer("different" if observer.sees(search.position) else "same", 0.0, 0.1)
    return search


def test_screen_geometry_gives_pixels_per_degree() -> None:
    # a 24-inch 1920x1080 monitor (0.2767 mm pixels) at 60 cm: about 38 ppd, as cvvdp's standard_fhd
    assert pixels_per_degree(600, 0.2767) == pytest.approx(37.85, abs=0.05)
    assert mm_per_pixel(309.4) == pytest.approx(0.2767, abs=1e-4)
    conditions = StudyConditions("flicker", 600.0, mm_per_pixel(309.4), 309.4)
    assert conditions.ppd == pytest.approx(37.85, abs=0.05)
    with pytest.raises(JndViewerError, match="distance"):
        StudyConditions("flicker", 5.0, 0.27)
    with pytest.raises(JndViewerError, match="task"):
        StudyConditions("wipe", 600.0, 0.27)


def test_flicker_clock_counts_frames() -> None:
    clock = FlickerClock(60.0)
    assert clock.frames_per_switch == 7.5 and clock.switch_ms == pytest.approx(125.0)
    # 60 Hz: the images stay 8 and 7 frames in turn (133 and 117 ms), 125 ms on average
    phases = [clock.distorted_at(f) for f in range(61)]
    starts = [f for f in range(1, 61) if phases[f] != phases[f - 1]]
    assert starts == [8, 15, 23, 30, 38, 45, 53, 60]
    assert set(np.diff([0, *starts])) == {7, 8}
    fast = FlickerClock(120.0)
    assert fast.frames_per_switch == 15 and [fast.distorted_at(f) for f in (14, 15, 29, 30)] == [0, 1, 1, 0]
    assert clock.frame_at(0.0) == 0 and clock.frame_at(1.0) == 60
    with pytest.raises(JndViewerError):
        FlickerClock(0.0)


@pytest.mark.parametrize("threshold", [5, 30, 71, 99])
def test_flicker_adjustment_recovers_the_threshold_and_keeps_the_trace(threshold: int) -> None:
    adjustment = FlickerAdjustment(RunSpec(ITEM), 0, 0)
    adjustment.start(0.0)
    assert adjustment.presentation().levels == (None,)  # starts at the reference
    t = 0.0
    while adjustment.slider - 1 < threshold:
        t += 0.2
        adjustment.move(adjustment.slider + 1, t)
    trial = adjustment.answer("visible", t + 0.5)
    critical, correct, details = adjustment.result()
    assert critical == ITEM.level_at(threshold) and correct is None
    assert len(trial.trace) == threshold + 2 and trial.trace[0] == (0.0, 0)
    assert [p for _, p in trial.trace] == list(range(threshold + 2))
    assert details["moves"] == threshold + 1
    with pytest.raises(JndViewerError):
        adjustment.answer("visible", 9.0)


def test_flicker_adjustment_catch_runs() -> None:
    same = FlickerAdjustment(RunSpec(ITEM, CATCH_SAME), 0, 0)
    same.move(40, 1.0)
    assert same.presentation().levels == (None,)  # the reference against itself, wherever the slider is
    assert same.answer("none", 2.0).correct is True
    obvious = FlickerAdjustment(RunSpec(ITEM, CATCH_OBVIOUS), 0, 0)
    obvious.move(1, 0.5)
    assert obvious.presentation().levels == (ITEM.ladder()[-1],)
    assert obvious.answer("visible", 1.0).correct is True
    late = FlickerAdjustment(RunSpec(ITEM, CATCH_OBVIOUS), 0, 0)
    late.move(10, 0.5)
    assert late.answer("visible", 1.0).correct is False


@pytest.mark.parametrize("threshold", [0, 1, 17, 50, 98, 99])
def test_binary_search_finds_the_threshold_of_a_faultless_observer(threshold: int) -> None:
    search = run_binary_search(ScriptedObserver(threshold), start=40)
    critical, _, details = search.result()
    assert critical == ITEM.level_at(threshold)
    assert details["trials"] <= 18


def test_binary_search_observer_who_sees_nothing() -> None:
    search = run_binary_search(ScriptedObserver(1000), start=60)
    assert search.result()[0] is None


def test_binary_search_within_two_levels_despite_lapses() -> None:
    errors = []
    for seed, threshold in enumerate(np.random.default_rng(1).integers(10, 90, 100)):
        observer = ScriptedObserver(int(threshold), lapse=0.05, seed=seed)
        critical = run_binary_search(observer, start=int(np.random.default_rng(seed).integers(25, 75))).result()[0]
        errors.append(abs(ITEM.position_of(critical) - threshold) if critical is not None else 99)
    within = np.mean(np.asarray(errors) <= 2)
    assert within >= 0.95, f"only {within:.0%} within 2 levels"


def test_binary_search_catch_runs_are_one_trial() -> None:
    same = BinarySearch(RunSpec(ITEM, CATCH_SAME), 0, 0)
    assert same.presentation().levels == (None,)
    assert same.answer("same", 0.0, 1.0).correct is True and same.done
    obvious = BinarySearch(RunSpec(ITEM, CATCH_OBVIOUS), 0, 0)
    assert obvious.presentation().levels == (ITEM.ladder()[-1],)
    assert obvious.answer("same", 0.0, 1.0).correct is False


def run_forced_choice(observer: ScriptedObserver, seed: int, tested: int = 50) -> ForcedChoice:
    choice = ForcedChoice(RunSpec(ITEM, TEST, tested), 0, seed)
    while not choice.done:
        presentation = choice.presentation()
        assert presentation.levels.count(None) == 1  # one interval holds the reference itself
        right = observer.right_in_forced_choice(choice.position)
        first = (presentation.target == 0) == right
        choice.answer("first" if first else "second", 0.0, 1.0)
    return choice


def test_quest_plus_within_two_levels_after_thirty_trials() -> None:
    errors = []
    for seed, threshold in enumerate(np.random.default_rng(2).integers(10, 90, 12)):
        choice = run_forced_choice(ScriptedObserver(int(threshold), lapse=0.02, seed=100 + seed), seed)
        assert len(choice.trials) == 30
        errors.append(choice.threshold_position() - threshold)
    errors = np.abs(errors)
    # a 2AFC observer guesses right half the time below threshold, so a run of lucky guesses can pull a 30-trial
    # estimate off; most runs land within 2 levels
    assert np.median(errors) <= 1.5 and np.mean(errors <= 2) >= 0.75, np.round(errors, 1)


def test_forced_choice_answers_whether_the_tested_level_is_visible() -> None:
    observer = ScriptedObserver(40, seed=5, spread=1.0)
    visible = run_forced_choice(observer, 5, tested=70).result()[2]
    assert visible["visible"] is True and visible["tested_level"] == ITEM.level_at(70)
    hidden = run_forced_choice(ScriptedObserver(40, seed=6, spread=1.0), 6, tested=10).result()[2]
    assert hidden["visible"] is False


def test_replay_rebuilds_the_same_state() -> None:
    observer = ScriptedObserver(33, lapse=0.1, seed=3)
    for name in (BINARY_SEARCH, FORCED_CHOICE):
        original = create_protocol(name, RunSpec(ITEM, TEST, 45), 2, 9)
        for _ in range(6):
            position = original.position
            if name == BINARY_SEARCH:
                original.answer("different" if observer.sees(position) else "same", 0.0, 0.1)
            else:
                original.answer("first" if observer.sees(position) else "second", 0.0, 0.1)
        again = replay(create_protocol(name, RunSpec(ITEM, TEST, 45), 2, 9), original.trials)
        assert again.trials == original.trials
        assert again.position == original.position
        assert again.presentation() == original.presentation()


def test_plan_is_seeded_random_with_catch_runs() -> None:
    items = [StudyItem(f"i{k}", f"/x/{k}.png", "jpeg", tuple(range(1, 101))) for k in range(8)]
    plan = make_plan(items, BINARY_SEARCH, seed=7)
    assert plan == make_plan(items, BINARY_SEARCH, seed=7)
    assert plan != make_plan(items, BINARY_SEARCH, seed=8)
    tests = [r for r in plan if r.kind == TEST]
    assert sorted(r.item.item_id for r in tests) == sorted(i.item_id for i in items)
    assert [r.item.item_id for r in tests] != [i.item_id for i in items]  # shuffled (seed 7)
    assert {r.kind for r in plan} == {TEST, CATCH_SAME, CATCH_OBVIOUS} and plan[0].kind == TEST
    assert all(25 <= r.start < 75 for r in tests)
    with pytest.raises(JndViewerError, match="protocol"):
        make_plan(items, "staircase", 1)


def test_runner_stores_every_answer_and_resumes(tmp_path) -> None:
    items = [StudyItem(f"i{k}", f"/x/{k}.png", "jpeg", tuple(range(1, 101))) for k in range(3)]
    conditions = StudyConditions("side-by-side", 600.0, 0.27)
    store = StudyStore(tmp_path / "study.sqlite")
    runner = StudyRunner.start(store, "obs-1", BINARY_SEARCH, "test", items, conditions, seed=3,
                               options=StudyOptions(catch_same=1, catch_obvious=0))
    observer = ScriptedObserver(30)
    answered = 0
    while runner.run_index < 2:  # two runs, then "crash"
        protocol = runner.protocol
        runner.record(protocol.answer("different" if observer.sees(protocol.position) else "same", 0.0, 0.1))
        answered += 1
    protocol = runner.protocol
    runner.record(protocol.answer("same", 0.0, 0.1))  # one trial into the third run
    answered += 1
    store.close()
    store = StudyStore(tmp_path / "study.sqlite")
    resumed = StudyRunner(store, runner.session_id)
    assert resumed.run_index == 2 and len(resumed.protocol.trials) == 1
    assert resumed.protocol.position == protocol.position
    while not resumed.done:
        p = resumed.protocol
        resumed.record(p.answer("different" if observer.sees(p.position) else "same", 0.0, 0.1))
        answered += 1
    assert len(store.trials(runner.session_id)) == answered
    assert store.session(runner.session_id).finished is not None
    results = store.run_results(runner.session_id)
    assert len(results) == 4
    assert {r.critical_level for r in results if r.kind == TEST} == {ITEM.level_at(30)}
    assert [kind for _, kind, _ in store.events(runner.session_id)] == ["resumed"]


def test_runner_reminds_to_rest(tmp_path) -> None:
    items = [StudyItem(f"i{k}", f"/x/{k}.png", "jpeg", (10, 20, 30)) for k in range(4)]
    now = [0.0]
    runner = StudyRunner.start(StudyStore(tmp_path / "s.sqlite"), "obs-2", FLICKER_ADJUSTMENT, "t", items,
                               StudyConditions("flicker", 600.0, 0.27), 1,
                               StudyOptions(catch_same=0, catch_obvious=0, rest_every_runs=2,
                                            rest_every_seconds=100.0), clock=lambda: now[0])
    for _ in range(2):
        assert not runner.rest_due()
        runner.record(runner.flicker().answer("none", 1.0))
    assert runner.rest_due()
    runner.rested()
    assert not runner.rest_due()
    now[0] = 150.0
    assert runner.rest_due()
