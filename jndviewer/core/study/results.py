"""What a study measured: critical levels per item and condition, satisfied-user-ratio curves, observer checks, and
the comparison with the picture-wise JND predictors.

Conventions (those of :mod:`.model`):

- A run's **critical level** is the *first-visible* level: the first level, from the best towards the worst, at which
  the observer saw a difference; None means no difference anywhere on the ladder.
- Results are grouped by :data:`GroupKey` ``(item_id, codec, task, ppd rounded to 0.1)``: the same image and ladder
  seen the same way. Catch runs check the observer, never the image, and are left out of every image statistic.
- Every run counts once: an observer who did an item twice under one condition contributes two points (the
  bootstrap resamples observers, with all their runs).
- **Ladder positions** count from the best level (0) towards the worst; a critical level of None sits at position
  ``len(ladder)``, one step beyond the worst level.
- A predictor's PW-JND is the *worst level still invisible*; to compare it with people it is converted to the
  first-visible convention: the next worse level on the item's ladder (:func:`predictor_levels`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import CATCH_OBVIOUS, CATCH_SAME, TEST, RunResult, StudyItem

#: ``(item_id, codec, task, ppd rounded to 0.1)``: one image and ladder seen one way.
GroupKey = tuple[str, str, str, float]
#: Bootstrap resamples of the confidence band, its seed and its coverage.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
BAND_COVERAGE = 0.95
#: A predictor's answer for one item: its first-visible level, None (nothing visible on the ladder) or the one sentence
#: saying why it cannot run.
PredictorLevel = int | None | str


# --------------------------------------------------------------------------------------------------------------------
# Stores and pixels
# --------------------------------------------------------------------------------------------------------------------


@contextmanager
def opened_store(store_or_path: Any) -> Iterator[Any]:
    """A :class:`~jndviewer.core.study.store.StudyStore` from a store (left open) or a database path (opened and
    closed here; a missing file is one sentence instead of a new, empty database)."""
    from jndviewer.core.study.store import StudyStore

    if isinstance(store_or_path, StudyStore):
        yield store_or_path
        return
    path = Path(store_or_path).expanduser()
    if not path.is_file():
        raise JndViewerError(f"The study database {path} does not exist.")
    store = StudyStore(path)
    try:
        yield store
    finally:
        store.close()


def item_rgb(item: StudyItem) -> np.ndarray:
    """The pixels an observer saw as the item's reference (cropped; ``package:`` references resolved)."""
    from jndviewer.core.study.sets import reference_rgb

    return reference_rgb(item)


def ppd_key(ppd: float) -> float:
    """The ppd of a :data:`GroupKey` (rounded to 0.1: two sessions a few millimetres apart share a condition)."""
    return round(float(ppd), 1)


def group_key(result: RunResult) -> GroupKey:
    return (result.item.item_id, result.item.codec, result.task, ppd_key(result.ppd))


def measured_runs(results: Iterable[RunResult]) -> list[RunResult]:
    """The runs that measure an image (no catch runs)."""
    return [r for r in results if r.kind == TEST]


# --------------------------------------------------------------------------------------------------------------------
# Critical levels and SUR curves
# --------------------------------------------------------------------------------------------------------------------


def critical_levels(results: Iterable[RunResult]) -> dict[GroupKey, list[tuple[str, int | None]]]:
    """Per :data:`GroupKey`, every non-catch run's ``(observer, critical level)`` in the order given (keys sorted)."""
    groups: dict[GroupKey, list[tuple[str, int | None]]] = defaultdict(list)
    for result in measured_runs(results):
        groups[group_key(result)].append((result.observer, result.critical_level))
    return dict(sorted(groups.items()))


def items_by_key(results: Iterable[RunResult]) -> dict[GroupKey, StudyItem]:
    """The item of each :data:`GroupKey` of the non-catch runs; one sentence when one key has two ladders."""
    items: dict[GroupKey, StudyItem] = {}
    for result in measured_runs(results):
        key = group_key(result)
        known = items.setdefault(key, result.item)
        if known.ladder() != result.item.ladder():
            raise JndViewerError(f"Study item {key[0]!r} ({key[1]}) appears with two different ladders in the study "
                                 "database; give the changed item a new id.")
    return dict(sorted(items.items()))


def position(item: StudyItem, critical: int | None) -> int:
    """The ladder position of a critical level (0: the best level; None: ``len(ladder)``, beyond the worst)."""
    return len(item.levels) if critical is None else item.position_of(critical)


def last_invisible_level(item: StudyItem, critical: int | None) -> float:
    """The worst level still seen as no different: one ladder level better than the critical level; the worst level
    when none was seen (a bound: worse levels were not shown), and one step beyond the best when even the best level
    was seen (the beyond-the-ladder convention of :mod:`jndviewer.core.datasets.sample`)."""
    ladder = item.ladder()
    at = position(item, critical)
    if at > 0:
        return float(ladder[at - 1])
    return float(ladder[0] + (ladder[0] - ladder[1]))


def _observations(entries: Sequence[tuple[str, int | None]] | Sequence[int | None]) -> list[tuple[str, int | None]]:
    return [(str(e[0]), e[1]) if isinstance(e, tuple) else (f"#{i}", e) for i, e in enumerate(entries)]


@dataclass(frozen=True)
class SURCurve:
    """One item's satisfied-user-ratio curve: per level, the share of runs whose observer saw no difference.

    Attributes
    ----------
    item
        The item (its ``levels`` ascending, ``better`` its better end).
    levels
        The levels, ascending (``item.levels``); ``sur``, ``band_low`` and ``band_high`` follow them.
    sur
        The share of runs in which the level is strictly better than the run's critical level.
    band_low, band_high
        The 95 % percentile-bootstrap band (:data:`BOOTSTRAP_RESAMPLES` resamples of the observers, seed
        :data:`BOOTSTRAP_SEED`); with one observer it collapses onto ``sur``.
    mean, sd
        The normal distribution of the first-visible level (level units) fitted by maximum likelihood, runs with no
        difference anywhere being right-censored beyond the worst level. ``mean`` is None when every run is
        censored; ``sd`` is None with fewer than two runs (one observer has no spread), and never below
        :attr:`sd_floor` (half the smallest ladder step, what the ladder can resolve), so observers who agree
        exactly still give a curve.
    observers, runs, censored
        Distinct observers, runs, and runs that saw no difference anywhere.
    """

    item: StudyItem
    levels: tuple[int, ...]
    sur: tuple[float, ...]
    band_low: tuple[float, ...]
    band_high: tuple[float, ...]
    mean: float | None
    sd: float | None
    observers: int
    runs: int
    censored: int

    @property
    def sd_floor(self) -> float:
        return 0.5 * float(np.min(np.diff(self.levels)))

    def fitted(self, levels: Any) -> np.ndarray | None:
        """The fitted normal's SUR at (possibly fractional) levels: the probability that an observer's first-visible
        level is worse than the level; None without a fit."""
        if self.mean is None or self.sd is None:
            return None
        from scipy.stats import norm

        x = np.asarray(levels, dtype=np.float64)
        if self.item.better == "higher":  # worse = lower: P(X < level)
            return norm.cdf(x, self.mean, self.sd)
        return norm.sf(x, self.mean, self.sd)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item.item_id, "codec": self.item.codec, "levels": list(self.levels),
            "sur": list(self.sur), "band_low": list(self.band_low), "band_high": list(self.band_high),
            "mean": self.mean, "sd": self.sd, "observers": self.observers, "runs": self.runs,
            "censored": self.censored,
        }  # fmt: skip


def sur_curve(
    item: StudyItem, critical_levels: Sequence[tuple[str, int | None]] | Sequence[int | None]
) -> SURCurve:
    """The SUR curve of one item from its runs' ``(observer, critical level)`` (or bare critical levels, each its own
    observer); see :class:`SURCurve` for what is computed and how."""
    runs = _observations(critical_levels)
    if not runs:
        raise JndViewerError(f"Study item {item.item_id!r} has no answered runs to draw a curve from.")
    levels = np.asarray(item.levels)
    positions_of_levels = np.asarray([item.position_of(int(level)) for level in levels])
    observers = sorted({observer for observer, _ in runs})
    index = {observer: i for i, observer in enumerate(observers)}
    # Per observer: how many of their runs see no difference at each level, and how many runs they have.
    satisfied = np.zeros((len(observers), len(levels)))
    counts = np.zeros(len(observers))
    for observer, critical in runs:
        satisfied[index[observer]] += positions_of_levels < position(item, critical)
        counts[index[observer]] += 1
    sur = satisfied.sum(axis=0) / counts.sum()
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, len(observers), size=(BOOTSTRAP_RESAMPLES, len(observers)))
    resampled = satisfied[draws].sum(axis=1) / counts[draws].sum(axis=1)[:, None]
    tail = 100.0 * (1.0 - BAND_COVERAGE) / 2.0
    low, high = np.percentile(resampled, [tail, 100.0 - tail], axis=0)
    mean, sd = _fit_normal(item, [critical for _, critical in runs])
    return SURCurve(
        item, tuple(int(v) for v in levels), tuple(float(v) for v in sur), tuple(float(v) for v in low),
        tuple(float(v) for v in high), mean, sd, len(observers), len(runs), sum(c is None for _, c in runs),
    )  # fmt: skip


def _fit_normal(item: StudyItem, criticals: Sequence[int | None]) -> tuple[float | None, float | None]:
    """Maximum-likelihood normal of the first-visible level, the None runs right-censored beyond the worst level."""
    from scipy.optimize import minimize
    from scipy.stats import norm

    seen = np.asarray([c for c in criticals if c is not None], dtype=np.float64)
    censored = sum(c is None for c in criticals)
    if seen.size == 0:
        return None, None
    if len(criticals) < 2:
        return float(seen.mean()), None
    floor = 0.5 * float(np.min(np.diff(item.levels)))
    span = float(item.levels[-1] - item.levels[0])
    # Work in "worseness" q (larger is worse), so that a censored run is P(Q > q_worst).
    sign = -1.0 if item.better == "higher" else 1.0
    q_seen = sign * seen
    q_worst = sign * item.ladder()[-1]

    def negative_log_likelihood(theta: np.ndarray) -> float:
        mu, sigma = float(theta[0]), float(theta[1])
        value = -norm.logpdf(q_seen, mu, sigma).sum()
        if censored:
            value -= censored * norm.logsf(q_worst, mu, sigma)
        return float(value)

    start = np.asarray([q_seen.mean(), max(float(q_seen.std()), floor)])  # the closed form without censoring
    if censored:  # mostly censored runs can push the mean off the ladder: it is kept within two ladder spans
        low_q, high_q = sorted((sign * item.levels[0], sign * item.levels[-1]))
        bounds = [(low_q - 2 * span, high_q + 2 * span), (floor, max(2 * span, 2 * floor))]
        fit = minimize(negative_log_likelihood, start, method="L-BFGS-B", bounds=bounds)
        if fit.success:
            start = fit.x
    return float(sign * start[0]), float(start[1])


# --------------------------------------------------------------------------------------------------------------------
# Observers
# --------------------------------------------------------------------------------------------------------------------


def observer_reliability(results: Iterable[RunResult], observer: str) -> float | None:
    """The share of an observer's scored catch runs answered right; None without any. A catch run with no right
    answer recorded (a forced choice against the reference itself is a guess, not scored) does not count."""
    scored = [r.correct for r in results if r.observer == observer and r.kind in (CATCH_SAME, CATCH_OBVIOUS)
              and r.correct is not None]  # fmt: skip
    return sum(bool(c) for c in scored) / len(scored) if scored else None


@dataclass(frozen=True)
class Bias:
    """An observer's mean difference to a predictor: ``observer's critical - predictor's critical``.

    Positive means the observer saw the distortion only at worse quality than predicted (the predictor is
    conservative for that observer); negative, earlier than predicted. ``positions`` is in ladder steps (comparable
    between codecs), ``levels`` in the codec's level units with the same sign (positive: towards the worse end).
    A None critical level counts as one step beyond the worst level, which makes such differences lower bounds.
    """

    positions: float
    levels: float
    runs: int


def _level_at(item: StudyItem, at: int) -> float:
    """The level at a ladder position, one step beyond the worst level at ``len(ladder)``."""
    ladder = item.ladder()
    return float(ladder[at]) if at < len(ladder) else float(ladder[-1] + (ladder[-1] - ladder[-2]))


def observer_bias(
    results: Iterable[RunResult], predictor_levels: Mapping[GroupKey, Mapping[str, PredictorLevel]]
) -> dict[str, dict[str, Bias]]:
    """Per observer and predictor, the mean :class:`Bias` over the observer's non-catch runs of the items the
    predictor has a level for (``predictor_levels``: per :data:`GroupKey`, :func:`predictor_levels`' answer;
    predictors that could not run are left out)."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for result in measured_runs(results):
        item = result.item
        worse = 1.0 if item.better == "lower" else -1.0  # level units, positive towards the worse end
        observed = position(item, result.critical_level)
        for name, predicted in predictor_levels.get(group_key(result), {}).items():
            if isinstance(predicted, str):
                continue
            expected = position(item, predicted)
            entry = sums[(result.observer, name)]
            entry[0] += observed - expected
            entry[1] += worse * (_level_at(item, observed) - _level_at(item, expected))
            entry[2] += 1
    bias: dict[str, dict[str, Bias]] = {}
    for (observer, name), (positions, levels, runs) in sorted(sums.items()):
        bias.setdefault(observer, {})[name] = Bias(positions / runs, levels / runs, int(runs))
    return bias


# --------------------------------------------------------------------------------------------------------------------
# Predictors
# --------------------------------------------------------------------------------------------------------------------

_PREDICTIONS: dict[tuple[StudyItem, str, float, str], int | None] = {}


def clear_prediction_cache() -> None:
    """Forget the predictions kept in this process (:func:`predictor_levels`)."""
    _PREDICTIONS.clear()


def item_codec(item: StudyItem) -> Any:
    """The item's codec restricted to the item's levels, giving what the observers saw: a predictor searches that
    ladder. A standard codec encodes the image it is given (the cropped reference); a ``folder:`` ladder holds files
    of the whole source image, so its decoded files are cropped like the reference (as
    :class:`jndviewer.core.study.sets.ItemImages` does)."""
    from jndviewer.core.codecs import FOLDER_PREFIX, create_codec
    from jndviewer.core.codecs.base import Codec, Encoded

    base = create_codec(item.codec)
    missing = sorted(set(item.levels) - set(base.levels()))
    if missing:
        raise JndViewerError(f"The {item.codec} codec has no level {missing[0]} of study item {item.item_id!r}.")
    source = None
    if item.codec.startswith(FOLDER_PREFIX) and item.crop is not None:
        from jndviewer.core.image import load
        from jndviewer.core.study.sets import reference_path

        source = load(reference_path(item)).rgb8()

    class ItemLadder(Codec):
        name = base.name
        title = base.title
        suffix = base.suffix
        better = base.better
        level_name = base.level_name

        @property
        def family(self) -> str:
            return base.family

        def caveats(self) -> list[str]:
            return base.caveats()

        def levels(self) -> tuple[int, ...]:
            return item.levels

        def encode(self, rgb: np.ndarray, level: int) -> Encoded:
            if source is None or item.crop is None:
                return base.encode(rgb, level)
            encoded = base.encode(source, level)
            x, y, width, height = item.crop
            return Encoded(encoded.data, np.ascontiguousarray(encoded.decoded[y : y + height, x : x + width]), level)

    return ItemLadder()


def first_visible(item: StudyItem, pwjnd_level: int, all_visible: bool = False) -> int | None:
    """A predictor's PW-JND (the worst level still invisible) in the first-visible convention: the next worse level
    of the item's ladder (None when the PW-JND is the worst level: nothing visible), or the best level when the
    predictor saw even the best level."""
    ladder = item.ladder()
    if all_visible:
        return ladder[0]
    at = item.position_of(pwjnd_level)
    return ladder[at + 1] if at + 1 < len(ladder) else None


def predictor_levels(
    item: StudyItem, task: str, ppd: float, predictors: Sequence[str] | None = None, *,
    rgb: np.ndarray | None = None, device: Any = None,
) -> dict[str, PredictorLevel]:
    """Each predictor's first-visible level for the item at ``ViewingCondition(ppd rounded to 0.1, task)``.

    The predictor searches the item's own ladder (its codec restricted to the item's levels) on the reference the
    observers saw (``rgb``, or :func:`item_rgb`). Its PW-JND, the worst level still invisible, becomes the next worse
    level of the ladder (:func:`first_visible`), so that it compares with the observers' critical levels. A predictor
    that cannot run gives its one-sentence reason instead. Levels are kept in this process
    (:func:`clear_prediction_cache`); reasons are not, so a predictor trained meanwhile is picked up.

    Parameters
    ----------
    predictors
        Registry names; None: every registered predictor.
    """
    from jndviewer.core.ladder import Ladder
    from jndviewer.core.pwjnd.registry import PREDICTORS
    from jndviewer.core.viewing import ViewingCondition
    from jndviewer.core.views import Unavailable, run_prediction

    names = list(PREDICTORS) if predictors is None else list(predictors)
    condition = ViewingCondition(ppd_key(ppd), task)
    answers: dict[str, PredictorLevel] = {}
    ladder = None
    try:
        for name in names:
            key = (item, task, condition.ppd, name)
            if key in _PREDICTIONS:
                answers[name] = _PREDICTIONS[key]
                continue
            try:
                if ladder is None:
                    ladder = Ladder(item_rgb(item) if rgb is None else rgb, item_codec(item), prefetch_radius=0)
                result = run_prediction(name, ladder.reference, ladder, condition=condition, device=device,
                                        label=item.item_id)  # fmt: skip
            except JndViewerError as error:
                answers[name] = str(error)
                continue
            if isinstance(result, Unavailable):
                answers[name] = result.reason
                continue
            answers[name] = _PREDICTIONS[key] = first_visible(item, result.level, result.all_visible)
    finally:
        if ladder is not None:
            ladder.close()
    return answers


def all_predictor_levels(
    results: Iterable[RunResult], predictors: Sequence[str] | None = None, *, device: Any = None
) -> dict[GroupKey, dict[str, PredictorLevel]]:
    """:func:`predictor_levels` for every :data:`GroupKey` of the non-catch runs (each item at its task and ppd)."""
    return {key: predictor_levels(item, key[2], key[3], predictors, device=device)
            for key, item in items_by_key(results).items()}  # fmt: skip


__all__ = [
    "BAND_COVERAGE", "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "Bias", "GroupKey", "PredictorLevel", "SURCurve",
    "all_predictor_levels", "clear_prediction_cache", "critical_levels", "first_visible", "group_key", "item_codec",
    "item_rgb", "items_by_key", "last_invisible_level", "measured_runs", "observer_bias", "observer_reliability",
    "opened_store", "position", "ppd_key", "predictor_levels", "sur_curve",
]
