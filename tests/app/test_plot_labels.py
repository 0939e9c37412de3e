"""The numbers of the training-free search trace in the visibility plot: on alternate sides, readable over the
other predictors' markers and the current-level line, clear of their own marker."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PySide6.QtCore import QPointF, QRectF, Qt

from jndviewer.app.plot_layout import MARKER_RADIUS
from jndviewer.app.plots import PlotsPanel
from jndviewer.core.pwjnd.result import LevelRecord
from tests.app.test_polish import sample_ladder, sample_results, shown_sample_plots


def test_search_order_numbers_of_neighbouring_levels_sit_on_alternate_sides(qtbot) -> None:
    """The training-free trace is numbered in search order; neighbouring levels (often visited late, one after the
    other's neighbour) put their numbers above and below in turn, so that they do not overlap."""
    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.reset(sample_ladder())

    visits = (50, 30, 40, 35, 33, 34, 32, 31)  # a block search: neighbouring levels visited out of order
    records = [LevelRecord(level, level <= 32, 1.6 - level / 50, 20_000, 0.4) for level in visits]
    result = replace(sample_results()["visibility"], level=33, records=records, trace=list(visits))
    plots.set_prediction("visibility", result)
    labels = plots.marks["visibility"].labels
    assert [label.toPlainText() for label in labels] == [str(i) for i in range(1, len(result.records) + 1)]
    side = {record.level: label.anchor.y() < 0 for record, label in zip(result.records, labels, strict=True)}
    levels = sorted(side)
    assert all(side[a] != side[b] for a, b in itertools.pairwise(levels))  # 30 31 32 ...: above, below, ...


def test_search_order_numbers_are_readable_over_the_logit_markers_and_clear_their_own(qtbot) -> None:
    """The numbers of the training-free trace lie above the SG-JND/VP-JNDnet markers (which used to show through
    them, making them unreadable) and the current-level line on a nearly opaque background, and clear their own
    marker as drawn (its pen included)."""
    plots = shown_sample_plots(qtbot)
    results = sample_results()
    plots.set_prediction("visibility", results["visibility"])
    plots.set_prediction("sgjnd", results["sgjnd"])
    qtbot.wait(50)  # the views take their geometry
    trace = plots.marks["sgjnd"].trace
    view = plots.vis.getViewBox()
    labels = plots.marks["visibility"].labels
    for label, record in zip(labels, results["visibility"].records, strict=True):
        assert label.fill.style() != Qt.BrushStyle.NoBrush and label.fill.color().alpha() >= 200, label.toPlainText()
        assert label.zValue() > plots.current_lines[1].zValue()  # the current-level line does not cross it
        centre = view.mapViewToScene(QPointF(record.level, record.score))
        marker = QRectF(centre.x() - MARKER_RADIUS, centre.y() - MARKER_RADIUS, 2 * MARKER_RADIUS, 2 * MARKER_RADIUS)
        assert not label.sceneBoundingRect().intersects(marker), label.toPlainText()
        # an SG-JND marker right under this number (its logit at the number's height): the number is on top
        middle = label.sceneBoundingRect().center()
        logit = plots.logit_view.mapSceneToView(middle).y()
        plots.set_prediction("sgjnd", replace(results["sgjnd"], records=[LevelRecord(record.level, True, logit,
                                                                                     20_000, 0.4)]))
        stack = plots.scene().items(middle)  # topmost first
        owners = [item for item in stack if item is label or label.isAncestorOf(item)]
        assert trace in stack and owners and stack.index(owners[0]) < stack.index(trace), label.toPlainText()
