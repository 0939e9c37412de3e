"""The study's HTML report: per item its satisfied-user-ratio curve against the predictors, per observer their checks.

One self-contained file (plots are base64 PNG data URIs; nothing is fetched from the network), drawn with matplotlib
on its Agg backend (no display needed). Per (item, codec, task, ppd): the SUR points per level, the fitted normal, the
95 % bootstrap band and a vertical line at each predictor's first-visible level for that task and ppd, the title
naming the task ("side by side" or "flicker") and the ppd. Per observer: sessions, runs, catch-run reliability and the
mean bias against each predictor (:class:`~jndviewer.core.study.results.Bias`).
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study import results as study_results
from jndviewer.core.study.model import StudyItem
from jndviewer.core.study.results import GroupKey, PredictorLevel, SURCurve

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.9em; }
"""
#: Colours and dashes of the predictors' lines, in registry order.
_LINE_STYLES = (("#d62728", "--"), ("#2ca02c", "-."), ("#9467bd", ":"), ("#8c564b", (0, (5, 1, 1, 1, 1, 1))))


def _axis_label(item: StudyItem) -> str:
    """The x axis: the codec's level name (``JPEG 4:2:0 quality``), the codec spec when it cannot be created."""
    try:
        from jndviewer.core.codecs import create_codec

        codec = create_codec(item.codec)
        return f"{codec.title} {codec.level_name}"
    except JndViewerError:  # a folder ladder that moved: the plot still says what the numbers are
        return f"{item.codec} level"


def condition_title(key: GroupKey) -> str:
    """``kodim23-face: jpeg, flicker, 38.2 ppd`` (the task always in words)."""
    from jndviewer.core.viewing import TASK_WORDS

    return f"{key[0]}: {key[1]}, {TASK_WORDS.get(key[2], key[2])}, {key[3]:g} ppd"


def sur_plot_png(curve: SURCurve, key: GroupKey, predictors: Mapping[str, PredictorLevel] | None = None) -> bytes:
    """The PNG of one item's SUR curve (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.6), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)  # Agg, whatever backend pyplot may use elsewhere in the process
    axes = figure.add_subplot()
    levels = np.asarray(curve.levels, dtype=np.float64)
    axes.fill_between(levels, curve.band_low, curve.band_high, step="mid", color="#1f77b4", alpha=0.18,
                      label="95 % bootstrap band")  # fmt: skip
    axes.plot(levels, curve.sur, "o", color="#1f77b4", markersize=5, label="observed SUR")
    dense = np.linspace(levels[0], levels[-1], 400)
    fitted = curve.fitted(dense)
    if fitted is not None:
        axes.plot(dense, fitted, "-", color="#1f77b4", linewidth=1.5,
                  label=f"normal fit (mean {curve.mean:.1f}, sd {curve.sd:.1f})")  # fmt: skip
    for index, (name, level) in enumerate((predictors or {}).items()):
        if isinstance(level, str):
            continue
        colour, dash = _LINE_STYLES[index % len(_LINE_STYLES)]
        worst = levels[0] if curve.item.better == "higher" else levels[-1]
        where = worst if level is None else level  # nothing visible: at the worst level, the ladder's end
        text = f"{name}: first visible at {level}" if level is not None else f"{name}: nothing visible"
        axes.axvline(where, color=colour, linestyle=dash, linewidth=1.5, label=text)
    axes.set_ylim(-0.03, 1.03)
    axes.set_xlim(levels[0] - 0.02 * np.ptp(levels), levels[-1] + 0.02 * np.ptp(levels))
    axes.set_xlabel(_axis_label(curve.item))
    axes.set_ylabel("satisfied user ratio\n(share seeing no difference)")
    title = f"{condition_title(key)} ({curve.observers} observer{'s' * (curve.observers != 1)}, {curve.runs} runs)"
    axes.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=11)
    axes.grid(alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def build_report(
    store_or_path: Any, predictors: Sequence[str] | None = None,
    predictor_levels: Mapping[GroupKey, Mapping[str, PredictorLevel]] | None = None,
) -> str:
    """The report's HTML text (:func:`write_report`); ``predictor_levels`` skips running the predictors."""
    from jndviewer.core.viewing import TASK_WORDS

    with study_results.opened_store(store_or_path) as store:
        runs = store.run_results()
        sessions = store.sessions()
        name = Path(store.path).name
    groups = study_results.critical_levels(runs)
    items = study_results.items_by_key(runs)
    if predictor_levels is None:
        predictor_levels = {} if predictors is not None and not predictors else \
            study_results.all_predictor_levels(runs, predictors)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>JND study report: {html.escape(name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>JND study report: {html.escape(name)}</h1>",
        f"<p class='note'>{len(sessions)} sessions, {len(groups)} item conditions. The critical level of a run is the "
        "first level, from the best towards the worst, at which the observer saw a difference; the satisfied user "
        "ratio at a level is the share of runs that saw no difference there. Predictors' lines are at their "
        "first-visible level (one level worse than their PW-JND). Catch runs are left out of the curves.</p>",
    ]
    if not groups:
        parts.append("<p>No finished runs yet.</p>")
    for key, entries in groups.items():
        item = items[key]
        curve = study_results.sur_curve(item, entries)
        levels_here = dict(predictor_levels.get(key, {}))
        parts.append(f"<h2>{html.escape(condition_title(key))}</h2>")
        parts.append(f"<img alt='SUR curve of {html.escape(key[0])}, {html.escape(TASK_WORDS.get(key[2], key[2]))}, "
                     f"{key[3]:g} ppd' src='{_data_uri(sur_plot_png(curve, key, levels_here))}'>")  # fmt: skip
        fit = (f"normal fit: mean {_number(curve.mean, 1)}, sd {_number(curve.sd, 1)}"
               + (f"; {curve.censored} runs saw no difference anywhere (censored)" if curve.censored else ""))
        parts.append(f"<p class='note'>{html.escape(fit)}. Reference {html.escape(item.reference)}"
                     f"{html.escape(f', crop {item.crop}') if item.crop else ''}.</p>")  # fmt: skip
        fitted = curve.fitted(curve.levels)
        rows = [(level, f"{s:.2f}", f"{lo:.2f}-{hi:.2f}", "n/a" if fitted is None else f"{fitted[i]:.2f}")
                for i, (level, s, lo, hi) in enumerate(zip(curve.levels, curve.sur, curve.band_low, curve.band_high,
                                                           strict=True))]  # fmt: skip
        parts.append("<details><summary>SUR per level</summary>"
                     + _table(("level", "SUR", "95 % band", "fitted"), rows) + "</details>")  # fmt: skip
        reasons = [(n, v) for n, v in levels_here.items() if isinstance(v, str)]
        if reasons:
            parts.append("<p class='note'>" + "<br>".join(html.escape(f"{n}: {v}") for n, v in reasons) + "</p>")
    parts.append("<h2>Observers</h2>")
    bias = study_results.observer_bias(runs, predictor_levels)
    names = sorted({n for levels in predictor_levels.values() for n, v in levels.items() if not isinstance(v, str)})
    rows = []
    for observer in sorted({s.observer for s in sessions}):
        own = [r for r in runs if r.observer == observer]
        reliability = study_results.observer_reliability(runs, observer)
        row: list[Any] = [observer, sum(s.observer == observer for s in sessions),
                          len(study_results.measured_runs(own)),
                          "no catch runs" if reliability is None else f"{100 * reliability:.0f} %"]  # fmt: skip
        for predictor in names:
            entry = bias.get(observer, {}).get(predictor)
            row.append("n/a" if entry is None else f"{entry.positions:+.2f} steps ({entry.levels:+.1f})")
        rows.append(row)
    header = ["observer", "sessions", "runs", "catch runs right", *(f"bias vs {n}" for n in names)]
    parts.append(_table(header, rows))
    parts.append("<p class='note'>Bias: the mean of (observer's critical level - predictor's), in ladder steps and in "
                 "levels towards the worse end; positive means the observer saw the distortion only at worse quality "
                 "than predicted. A run that saw nothing counts one step beyond the worst level.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(store_or_path: Any, output_html: str | Path, predictors: Sequence[str] | None = None) -> Path:
    """Write the study's self-contained HTML report (module docstring) and return its path.

    Parameters
    ----------
    store_or_path
        A :class:`~jndviewer.core.study.store.StudyStore` or the path of its database.
    output_html
        The file to write (atomically).
    predictors
        Registry names to compare with; None: every registered predictor; empty: none. A predictor that cannot run
        is named with its reason.
    """
    from jndviewer.core.study.exports import write_atomic

    return write_atomic(output_html, build_report(store_or_path, predictors))


__all__ = ["build_report", "condition_title", "sur_plot_png", "write_report"]
