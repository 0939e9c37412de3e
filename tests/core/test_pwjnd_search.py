"""PW-JND search strategies: exactness on monotone decisions, robustness to isolated flips, costs, dispatch."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.search import (
    STRATEGIES,
    SearchResult,
    binary_block_search,
    bisection,
    exhaustive,
    search,
    sliding_window,
)

NAMES = ("exhaustive", "bisection", "block", "sliding")


class Oracle:
    """Decisions of a step at ``transition`` (visible below it) with some positions flipped; counts every call."""

    def __init__(self, n: int, transition: int, flips: Iterable[int] = ()) -> None:
        self.n = n
        self.transition = transition
        self.flips = frozenset(flips)
        self.calls: Counter[int] = Counter()

    def truth(self, position: int) -> bool:
        return (position < self.transition) != (position in self.flips)

    def __call__(self, position: int) -> int:
        assert 0 <= position < self.n, position
        self.calls[position] += 1
        return int(self.truth(position))  # not a bool on purpose: results must hold bools


def found(result: SearchResult, n: int) -> int:
    """The transition a result stands for: ``n`` when all levels are visible."""
    return n if result.all_visible else result.position


def check_bookkeeping(result: SearchResult, oracle: Oracle, name: str) -> None:
    visited = result.visited
    assert len(set(visited)) == len(visited), "visited has duplicates"
    assert all(0 <= k < oracle.n for k in visited)
    assert set(result.decisions) == set(visited)
    assert all(result.decisions[k] is oracle.truth(k) for k in visited)
    assert sum(oracle.calls.values()) == len(visited) == result.evaluations
    assert set(oracle.calls) == set(visited) and max(oracle.calls.values(), default=1) == 1
    assert result.strategy == name
    assert 0 <= result.position < oracle.n


def one_flip_cases(n: int, stride: int = 1, near: int = 0) -> Iterator[tuple[int, int]]:
    """(transition, flip): one wrong decision at least two positions away from the transition.

    With ``stride > 1`` only the flips whose distance is at most ``near`` or a multiple of ``stride`` are kept.
    """
    for transition in range(n + 1):
        for flip in range(n):
            distance = abs(flip - transition)
            if distance >= 2 and (stride == 1 or distance <= near or distance % stride == 0):
                yield transition, flip


@st.composite
def monotone_cases(draw: st.DrawFn, max_n: int = 120) -> tuple[int, int]:
    n = draw(st.integers(1, max_n))
    return n, draw(st.integers(0, n))


# -- monotone decisions: every strategy is exact --------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True)
@given(case=monotone_cases(), name=st.sampled_from(NAMES))
def test_every_strategy_is_exact_on_monotone_decisions(case: tuple[int, int], name: str) -> None:
    n, transition = case
    oracle = Oracle(n, transition)
    result = STRATEGIES[name](n, oracle)
    check_bookkeeping(result, oracle, name)
    assert found(result, n) == transition
    assert result.all_visible == (transition == n)
    assert result.position == min(transition, n - 1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 9])
def test_small_ladders_every_transition(name: str, n: int) -> None:
    for transition in range(n + 1):
        oracle = Oracle(n, transition)
        result = STRATEGIES[name](n, oracle)
        check_bookkeeping(result, oracle, name)
        assert found(result, n) == transition, (n, transition)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 100])
def test_all_visible_and_all_invisible(name: str, n: int) -> None:
    visible = STRATEGIES[name](n, Oracle(n, n))
    assert (visible.position, visible.all_visible) == (n - 1, True)
    invisible = STRATEGIES[name](n, Oracle(n, 0))
    assert (invisible.position, invisible.all_visible) == (0, False)


def test_best_level_alone_invisible_is_not_all_visible() -> None:
    for name in NAMES:
        result = STRATEGIES[name](10, Oracle(10, 9))
        assert (result.position, result.all_visible) == (9, False), name


@settings(max_examples=100, deadline=None, derandomize=True)
@given(case=monotone_cases(60), block=st.integers(1, 7), data=st.data())
def test_block_search_is_exact_on_monotone_decisions_for_any_vote(case: tuple[int, int], block: int, data) -> None:
    n, transition = case
    threshold = data.draw(st.integers(1, block))
    oracle = Oracle(n, transition)
    result = binary_block_search(n, oracle, block=block, threshold=threshold)
    check_bookkeeping(result, oracle, "block")
    assert found(result, n) == transition


@settings(max_examples=100, deadline=None, derandomize=True)
@given(case=monotone_cases(60), window=st.integers(1, 7), data=st.data())
def test_sliding_window_is_exact_on_monotone_decisions_for_any_start(case: tuple[int, int], window: int, data) -> None:
    n, transition = case
    threshold = data.draw(st.integers(1, window))
    start = data.draw(st.none() | st.integers(-3, n + 3))
    coarse_step = data.draw(st.none() | st.integers(1, 12))
    oracle = Oracle(n, transition)
    result = sliding_window(n, oracle, window=window, threshold=threshold, coarse_step=coarse_step, start=start)
    check_bookkeeping(result, oracle, "sliding")
    assert found(result, n) == transition


def test_exhaustive_visits_every_level_from_the_best_down() -> None:
    result = exhaustive(8, Oracle(8, 3))
    assert result.visited == (7, 6, 5, 4, 3, 2, 1, 0)
    assert result.position == 3


def test_bisection_costs_a_binary_search() -> None:
    for n in (1, 2, 5, 64, 100, 120):
        costs = [bisection(n, Oracle(n, t)).evaluations for t in range(n + 1)]
        assert max(costs) <= n.bit_length()  # = ceil(log2(n + 1))


# -- costs on n = 100 -------------------------------------------------------------------------------------------------


def test_block_search_visits_at_most_15_levels_on_monotone_decisions() -> None:
    visits = [binary_block_search(100, Oracle(100, t)).evaluations for t in range(101)]
    assert max(visits) <= 15  # the target
    assert max(visits) <= 8 and statistics.mean(visits) < 8.0  # measured: 7.8 / 8


# -- one isolated flip ----------------------------------------------------------------------------------------------


def test_block_and_sliding_survive_one_flip_on_100_levels() -> None:
    """Every transition; flips at distance 2..8 on both sides and every 6th level beyond (the full sweep is slow)."""
    for transition, flip in one_flip_cases(100, stride=6, near=8):
        oracle = Oracle(100, transition, [flip])
        block = binary_block_search(100, oracle)
        check_bookkeeping(block, oracle, "block")
        assert found(block, 100) == transition, (transition, flip)
        assert block.evaluations <= 15, (transition, flip)
        oracle = Oracle(100, transition, [flip])
        sliding = sliding_window(100, oracle)
        check_bookkeeping(sliding, oracle, "sliding")
        error = abs(found(sliding, 100) - transition)
        tips = flip - transition in (-3, -2, 2)  # the flip turns the vote of the window of J - 1 or of J
        assert error <= 1 and (error == 0 or tips), (transition, flip)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(case=monotone_cases(), data=st.data())
def test_one_flip_anywhere_in_any_ladder(case: tuple[int, int], data) -> None:
    n, transition = case
    far = [k for k in range(n) if abs(k - transition) >= 2]
    if not far:
        return
    flip = data.draw(st.sampled_from(far))
    for name in ("block", "sliding"):
        oracle = Oracle(n, transition, [flip])
        result = STRATEGIES[name](n, oracle)
        check_bookkeeping(result, oracle, name)
        error = abs(found(result, n) - transition)
        assert error == 0 if name == "block" else error <= 1


def test_sliding_window_stays_within_one_level_of_a_flip_next_to_the_transition() -> None:
    for transition in range(101):
        for flip in range(max(0, transition - 1), min(100, transition + 2)):
            result = sliding_window(100, Oracle(100, transition, [flip]))
            assert abs(found(result, 100) - transition) <= 1, (transition, flip)


def test_block_search_survives_two_isolated_flips() -> None:
    cases = [(30, (10, 60)), (50, (0, 99)), (0, (40, 44)), (100, (5, 90)), (73, (70, 80)), (12, (3, 99))]
    for transition, flips in cases:
        result = binary_block_search(100, Oracle(100, transition, flips))
        assert found(result, 100) == transition, (transition, flips)
        assert result.evaluations <= 17


def test_bisection_can_be_fooled_by_one_flip() -> None:
    # Its first probe is level 50; a visible flip there sends it into the upper half for good.
    oracle = Oracle(100, 20, [50])
    fooled = bisection(100, oracle)
    check_bookkeeping(fooled, oracle, "bisection")
    assert fooled.visited[0] == 50
    assert abs(found(fooled, 100) - 20) > 5  # it answers 51
    assert found(binary_block_search(100, Oracle(100, 20, [50])), 100) == 20
    assert found(sliding_window(100, Oracle(100, 20, [50])), 100) == 20
    assert found(exhaustive(100, Oracle(100, 20, [50])), 100) == 51  # literal reading: the flip ends the run


@pytest.mark.slow
def test_one_flip_full_sweep_statistics() -> None:
    """Every transition and every flip at least two levels away on n = 100 (9,801 sequences); numbers as documented."""
    visits: dict[str, list[int]] = {name: [] for name in NAMES}
    errors: dict[str, list[int]] = {name: [] for name in NAMES}
    for transition, flip in one_flip_cases(100):
        for name in NAMES:
            oracle = Oracle(100, transition, [flip])
            result = STRATEGIES[name](100, oracle)
            assert result.evaluations == sum(oracle.calls.values())
            visits[name].append(result.evaluations)
            errors[name].append(abs(found(result, 100) - transition))
    assert len(visits["block"]) == 9801
    assert max(visits["block"]) <= 15 and statistics.mean(visits["block"]) < 8.0  # measured 7.9 / 13
    assert max(errors["block"]) == 0
    assert max(errors["sliding"]) == 1
    assert sum(e == 0 for e in errors["sliding"]) / 9801 > 0.96  # measured 97.0 %
    assert max(errors["bisection"]) > 5


@settings(max_examples=150, deadline=None, derandomize=True)
@given(decisions=st.lists(st.booleans(), min_size=1, max_size=60), name=st.sampled_from(NAMES))
def test_arbitrary_decisions_terminate_with_consistent_bookkeeping(decisions: list[bool], name: str) -> None:
    n = len(decisions)
    calls: Counter[int] = Counter()

    def decide(position: int) -> bool:
        calls[position] += 1
        return decisions[position]

    result = STRATEGIES[name](n, decide)
    assert len(set(result.visited)) == len(result.visited) == sum(calls.values()) <= n
    assert all(result.decisions[k] == decisions[k] for k in result.visited)
    assert 0 <= result.position < n
    if result.all_visible:
        assert result.position == n - 1


# -- dispatch and errors --------------------------------------------------------------------------------------------


def test_search_dispatches_by_name() -> None:
    assert set(STRATEGIES) == set(NAMES)
    assert search(50, Oracle(50, 17)).strategy == "block"
    for name in NAMES:
        direct = STRATEGIES[name](50, Oracle(50, 17))
        named = search(50, Oracle(50, 17), name)
        assert named == direct and named.strategy == name and named.position == 17
    result = search(50, Oracle(50, 17), "block", block=3, threshold=2)
    assert result.position == 17
    assert search(50, Oracle(50, 17), "sliding", start=40, window=3, threshold=2).position == 17


def test_unknown_strategy_is_a_one_sentence_error() -> None:
    with pytest.raises(JndViewerError) as info:
        search(10, Oracle(10, 3), "golden")
    message = str(info.value)
    assert "'golden'" in message and all(name in message for name in NAMES)
    assert message.endswith(".") and message.count(". ") == 0


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(JndViewerError, match="no option 'block'"):
        search(10, Oracle(10, 3), "bisection", block=5)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: exhaustive(0, d),
        lambda d: bisection(-1, d),
        lambda d: binary_block_search(2.5, d),  # type: ignore[arg-type]
        lambda d: binary_block_search(10, d, block=0),
        lambda d: binary_block_search(10, d, block=5, threshold=6),
        lambda d: binary_block_search(10, d, block=5, threshold=0),
        lambda d: sliding_window(10, d, window=3, threshold=4),
        lambda d: sliding_window(10, d, coarse_step=0),
        lambda d: sliding_window(10, d, start="5"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_errors(call: Callable[[Oracle], SearchResult]) -> None:
    oracle = Oracle(10, 4)
    with pytest.raises(JndViewerError):
        call(oracle)
    assert not oracle.calls


def test_result_is_frozen() -> None:
    result = bisection(4, Oracle(4, 2))
    with pytest.raises(AttributeError):
        result.position = 3  # type: ignore[misc]
