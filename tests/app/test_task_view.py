"""The viewing task in the explorer: a selector next to the viewing distance, every readout saying which task a
prediction is for, and the Flicker mode's bar that offers the flicker prediction in one click."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PySide6.QtCore import QSettings

from jndviewer.app.modes import DEFAULT_FLICKER_HZ, CompareMode
from jndviewer.app.state import ViewState
from jndviewer.core.codecs import create_codec
from jndviewer.core.image import load
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition


def test_the_flicker_bar_offers_the_flicker_prediction(make_window, qtbot, idle, photo, sgjnd_weights,
                                                       settings_path) -> None:  # fmt: skip
    window = make_window(photo, threshold=None)
    session, readouts, bar = window.session, window.readouts, window.task_bar
    assert window.controls.task_combo.currentData() == SIDE_BY_SIDE and not bar.isVisible()
    qtbot.waitUntil(lambda: {"visibility", "sgjnd"} <= set(session.predictions.results), timeout=90_000)
    idle(window)
    side = session.predictions.results["visibility"]
    assert side.condition == {"ppd": 38.0, "task": SIDE_BY_SIDE}
    assert readouts.text("pwjnd:visibility").endswith("· 38 ppd, side by side")

    window.state.mode = CompareMode.FLICKER  # flickering: the bar says the predictions shown are side by side
    assert bar.isVisible() and bar.button.isVisible()
    assert bar.label.text().startswith("The PW-JNDs shown are for the side by side task at 38 ppd.")
    assert DEFAULT_FLICKER_HZ == 4.0  # each image 125 ms: KonJND-1k's 8 switches per second
    bar.button.click()  # one click: the flicker prediction
    assert window.state.task == FLICKER and window.controls.task_combo.currentData() == FLICKER
    assert readouts.text("pwjnd:visibility") == "predicting…"  # no old value meanwhile
    assert not bar.button.isVisible() and "for the flicker task at 38 ppd: what this view shows" in bar.label.text()
    qtbot.waitUntil(lambda: "visibility" in session.predictions.results and "sgjnd" in session.predictions.errors,
                    timeout=90_000)  # fmt: skip
    idle(window)
    flicker = session.predictions.results["visibility"]
    expected = PooledVisibilityPredictor(session.predictor_params(), condition=ViewingCondition(38.0, FLICKER))
    assert flicker.level == expected.predict(load(photo), create_codec("jpeg")).level
    assert flicker.condition == {"ppd": 38.0, "task": FLICKER} and flicker.level > side.level
    assert readouts.text("pwjnd:visibility").endswith("· 38 ppd, flicker")
    # a plot or a button seen on its own names the condition of the PW-JNDs it shows or jumps to
    assert "38 ppd, flicker" in window.plots.rate.titleLabel.text  # in the PW-JND rows' words
    assert window.controls.go_button.toolTip().endswith("for 38 ppd, flicker (G)")
    # the tiny test network was trained for side by side only: it says so instead of answering for flicker
    assert readouts.text("pwjnd:sgjnd") == (
        "These SG-JND weights were trained for the side-by-side task only, not flicker; retrain them with "
        "'jndviewer train sgjnd' (both tasks by default)."
    )
    window.state.flicker_hz = 8.0  # flickering faster than the calibrated rate: the bar says so
    assert "calibrated with each image shown 125 ms" in bar.label.text() and "62 ms" in bar.label.text()
    window.state.mode = CompareMode.SIDE_BY_SIDE  # side by side at flicker PW-JNDs: the bar offers the other task
    assert bar.isVisible() and bar.button.text() == "Predict for the side by side task"
    assert bar.label.text().startswith("The PW-JNDs shown are for the flicker task at 38 ppd. Side by side,")
    window.state.mode = CompareMode.WIPE  # an analysis view is no task's: no bar
    assert not bar.isVisible()
    window.state.mode = CompareMode.SIDE_BY_SIDE
    bar.button.click()
    assert window.state.task == SIDE_BY_SIDE and not bar.isVisible()
    window.state.task = FLICKER

    window.save_settings()  # the task is remembered
    restored = ViewState()
    restored.restore(QSettings(str(settings_path), QSettings.Format.IniFormat))
    assert restored.task == FLICKER


def test_a_distance_change_drops_the_replaced_curves_scores(make_window, qtbot, idle, photo) -> None:
    """The pooled score of the level shown belongs to the map of one viewing condition: after a change of distance
    it is not judged against the new condition's threshold while the new map is computed."""
    window = make_window(photo, threshold=None)
    session = window.session
    qtbot.waitUntil(lambda: session.frame is not None and session.frame.level in session.curve
                    and "visibility" in session.predictions.results, timeout=90_000)  # fmt: skip
    idle(window)
    assert window.readouts.text("visibility").startswith("pooled ")
    window.state.ppd = 60.0
    assert session.curve == {} and "pooled" not in window.readouts.text("visibility")
    qtbot.waitUntil(lambda: session.frame.level in session.curve, timeout=90_000)
    idle(window)
    assert window.readouts.text("visibility").startswith("pooled ")  # the new map's score, judged anew
