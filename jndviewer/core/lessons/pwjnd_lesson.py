"""The picture-wise JND lesson: the rate curve, the training-free predictor's block search replayed step by step,
and (when a study database holds answers) the satisfied-user-ratio curve of real observers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.lessons.model import (
    INVISIBLE_COLOUR,
    SERIES_COLOURS,
    VISIBLE_COLOUR,
    Control,
    Lesson,
    LessonContext,
    LessonFigure,
    Mark,
    Plot,
    Series,
)
from jndviewer.core.lessons.viewing_lessons import CURVE_LEVELS, jpeg, predicted_level, visibility_ratio
from jndviewer.core.viewing import DEFAULT_PPD, TASK_WORDS, TASKS

#: Every this many JPEG levels the rate curve is sampled (1, 3, 5, ..., 99 and 100).
RATE_STEP = 2


def rate_curve(context: LessonContext) -> tuple[np.ndarray, np.ndarray]:
    """(JPEG quality, bits per pixel) of the lesson image, from real encodes."""
    levels = [*range(1, 100, RATE_STEP), 100]
    rates = [jpeg(context, level).bpp for level in levels]
    return np.asarray(levels, dtype=np.float64), np.asarray(rates)


def study_curve(database: Path | None, task: str) -> tuple[Any, tuple[Any, ...]] | None:
    """The satisfied-user-ratio curve of the study condition with the most runs for ``task`` (any image and codec),
    and its group key; None when there is no database or no answered run."""
    from jndviewer.core.study import results
    from jndviewer.core.study.store import default_database

    path = database if database is not None else default_database()
    if not Path(path).is_file():
        return None
    with results.opened_store(path) as store:
        runs = store.run_results()
    groups = {key: levels for key, levels in results.critical_levels(runs).items() if key[2] == task}
    if not groups:
        return None
    key = max(groups, key=lambda k: (len(groups[k]), k))
    item = results.items_by_key(runs)[key]
    return results.sur_curve(item, groups[key]), key


def _pwjnd(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    task, ppd = values["task"], DEFAULT_PPD
    result = predicted_level(context, task, ppd)
    levels, rates = rate_curve(context)
    best_rate = rates[-1]
    saved = result.bitrate_saving * 100.0
    rate_plot = Plot(
        "Rate: bits per pixel at each JPEG 4:2:0 quality", "JPEG quality", "bits per pixel",
        [Series(levels, rates, "", colour=SERIES_COLOURS[0])],
        [Mark(result.level, f"PW-JND {result.level}: {result.bpp:.3f} bpp, {saved:.1f} % saved",
              colour=INVISIBLE_COLOUR)],
        x_range=(1.0, 100.0),
    )  # fmt: skip
    total = len(result.records)
    steps = total if values["step"] is None else min(total, round(float(values["step"])))
    shown = result.records[:steps]
    ratios = [visibility_ratio(context, task, ppd, level) for level in CURVE_LEVELS]
    trace = Series(
        [r.level for r in shown], [r.score / _threshold(result) for r in shown], "search steps", kind="points",
        colour=SERIES_COLOURS[4], point_colours=tuple(VISIBLE_COLOUR if r.visible else INVISIBLE_COLOUR for r in shown),
        point_labels=tuple(str(i + 1) for i in range(len(shown))),
    )  # fmt: skip
    marks = [Mark(1.0, "threshold", vertical=False)]
    if steps == total:
        marks.append(Mark(result.level, f"PW-JND {result.level}", colour=INVISIBLE_COLOUR))
    search_plot = Plot(
        f"The block search, step {steps} of {total} ({TASK_WORDS[task]}, {ppd:g} ppd)", "JPEG quality",
        "visibility / threshold",
        [Series(np.asarray(CURVE_LEVELS, float), [s / t for s, t in ratios], "every 5th level", colour="#999999",
                width=1.5), trace],
        marks, x_range=(1.0, 100.0),
    )  # fmt: skip
    panels: list[Any] = [rate_plot, search_plot]
    numbers: dict[str, Any] = {
        "level": result.level, "step": steps, "trace": list(result.trace),
        "decisions": [r.visible for r in result.records],
        "bpp": result.bpp, "saving": result.bitrate_saving, "best_bpp": float(best_rate),
    }  # fmt: skip
    readout = [
        f"Predicted PW-JND ({TASK_WORDS[task]}, {ppd:g} ppd): quality {result.level}, {result.bpp:.3f} bpp against "
        f"{best_rate:.3f} at quality 100: {saved:.1f} % of the bits saved.",
        "Steps: " + "; ".join(f"{i + 1}: q{r.level} {'visible' if r.visible else 'not visible'}"
                              for i, r in enumerate(shown)) if shown else "Steps: none yet (move the step slider).",
    ]  # fmt: skip
    study = study_curve(context.study_database, task)
    if study is None:
        readout.append("No study results yet: Study > Run a study measures real observers, and their satisfied-user "
                       "ratio curve appears here.")  # fmt: skip
    else:
        curve, key = study
        series = [Series(curve.levels, curve.sur, "observed", kind="points", colour=SERIES_COLOURS[0])]
        dense = np.linspace(curve.levels[0], curve.levels[-1], 200)
        fitted = curve.fitted(dense)
        if fitted is not None:
            series.append(Series(dense, fitted, f"normal fit (mean {curve.mean:.1f}, sd {curve.sd:.1f})"))
        panels.append(Plot(
            f"Satisfied-user ratio: {key[0]}, {curve.observers} observers", f"{key[1]} level", "share seeing no "
            "difference", series, y_range=(-0.03, 1.03),
        ))  # fmt: skip
        numbers["sur"] = {"key": key, "levels": list(curve.levels), "sur": list(curve.sur), "mean": curve.mean}
        readout.append(f"Study: {curve.runs} runs by {curve.observers} observers on {key[0]} ({key[1]}, "
                       f"{TASK_WORDS[key[2]]}, {key[3]:g} ppd); half of them first saw a difference at "
                       f"{'n/a' if curve.mean is None else f'{curve.mean:.1f}'}.")  # fmt: skip
    return LessonFigure(panels, readout, numbers)


def _threshold(result: Any) -> float:
    return float(result.params["threshold"])


PWJND_LESSON = Lesson(
    name="pwjnd",
    title="Picture-wise JND and the satisfied-user ratio",
    sentences=(
        "The picture-wise JND is the worst compression level at which a viewer still sees no difference: every bit "
        "above it is wasted on that viewer.",
        "The rate curve shows what is at stake: the bits per pixel fall steeply as the quality goes down.",
        "Deciding a level costs an encode and a model evaluation, so the predictor searches: VP-JND's binary block "
        "search checks blocks of five neighbouring levels and needs about 8 of 100 levels.",
        "People differ: the satisfied-user ratio at a level is the share of observers who see no difference there, "
        "and a study measures it.",
    ),
    formula=(
        "PW-JND = the worst level from which every better level scores pooled visibility <= threshold. Block search: "
        "probe the middle; a block of 5 levels with at least 4 agreeing decisions moves the bounds (tolerates an "
        "isolated wrong decision). SUR(level) = share of runs whose first visible level is worse than the level."
    ),
    citation=(
        "Y. Zhang, S. Zhang, N. Li, C. Fan, R. Hamzaoui, VP-JND, IEEE TCSVT early access 2025 (binary block search: "
        "block 5, threshold 4; jndviewer/core/pwjnd/search.py); SUR as 1 - the empirical CDF of the observers' JNDs: "
        "H. Lin et al., KonJND-1k, IEEE TCSVT 32(9):5859-5873, 2022; jndviewer/core/study/results.py."
    ),
    try_this=(
        "Move the step slider from 0: after which step could you already guess the answer?",
        "Switch the task to flicker: how many more bits does a flicker viewer need?",
    ),
    compute=_pwjnd,
    controls=(
        Control("step", "Search step", "slider", None, 0, 15, 1),
        Control("task", "Viewing task", "choice", TASKS[0], choices=TASKS),
    ),
)

__all__ = ["PWJND_LESSON", "rate_curve", "study_curve"]
