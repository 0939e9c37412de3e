"""The visibility view over the luma (issue 20, item 3) and the line profile (item 4), driven through the window."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
from PySide6.QtCore import QPoint, QSettings, Qt

from jndviewer.app.modes import CompareMode
from jndviewer.app.state import ViewState
from jndviewer.core.colormap import visibility_colors
from jndviewer.core.image import load, rgb_to_luma
from jndviewer.core.visibility_picture import visibility_over_luma


@pytest.fixture
def steps_photo(make_window, qtbot, idle, photo, fakes, unit_ppd):
    """The photo through the exact test codec (level 4: B = A + 1, 2, 4 in the column thirds) and the flat JND of 2,
    analysed at its own size (scale 1)."""
    window = make_window(
        photo, codec="steps", jnd_model="flat", visibility_model="pixel", ppd=unit_ppd, threshold=1.2, level=4
    )
    qtbot.waitUntil(lambda: window.session.jnd is not None and window.session.frame is not None, timeout=30_000)
    idle(window)
    window.canvas.fit()
    return window


def test_visibility_over_the_luma_from_the_view_menu(steps_photo, qtbot, idle, photo, unit_ppd) -> None:
    window = steps_photo
    window.state.mode = CompareMode.VISIBILITY
    idle(window)
    view = window.session.visibility(4)
    np.testing.assert_array_equal(window.canvas.displayed()["base"], visibility_colors(view.values))
    header = window.canvas.pane_a.header.text()
    assert "flat JND model" in header and f"{unit_ppd:g} ppd" in header and "both tasks" in header
    assert "blue" in header
    window.visibility_look.action.trigger()  # View > Visibility over the luma
    assert window.state.visibility_over_luma and window.controls.over_luma_check.isChecked()
    idle(window)
    qtbot.waitUntil(lambda: window.canvas.visibility_over_luma, timeout=10_000)
    reference = load(str(photo)).rgb8()
    expected = visibility_over_luma(window.session.visibility(4).values, rgb_to_luma(reference))
    np.testing.assert_array_equal(window.canvas.displayed()["base"], expected)
    # where the distortion is 1 gray level over a JND of 2 (v = 0.5) the colour is faint, at 4 (v = 2) strong
    luma = rgb_to_luma(reference)
    shown = window.canvas.displayed()["base"].astype(float)
    assert np.abs(shown[5, 5] - luma[5, 5]).max() < np.abs(shown[5, 90] - luma[5, 90]).max()
    assert "luma" in window.canvas.pane_a.header.text() and "flat JND model" in window.canvas.pane_a.header.text()
    assert window.canvas.colorbar.levels() == pytest.approx((0.0, 1.0))
    assert "1 = threshold" in window.canvas.colorbar.getAxis("left").labelText
    window.controls.over_luma_check.setChecked(False)  # the Display checkbox turns it off again
    assert not window.state.visibility_over_luma and not window.visibility_look.action.isChecked()
    idle(window)
    qtbot.waitUntil(lambda: not window.canvas.visibility_over_luma, timeout=10_000)
    np.testing.assert_array_equal(window.canvas.displayed()["base"], visibility_colors(view.values))


def test_over_luma_persists(settings_path) -> None:
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    state = ViewState()
    state.visibility_over_luma = True
    state.save(settings)
    settings.sync()
    restored = ViewState()
    restored.restore(QSettings(str(settings_path), QSettings.Format.IniFormat))
    assert restored.visibility_over_luma is True
    assert ViewState().visibility_over_luma is False


def test_line_profile_samples_what_the_views_show(steps_photo, qtbot, idle, photo, fakes) -> None:
    window = steps_photo
    tool = window.profile
    assert dict((a, k) for k, a in window.shortcut_rows())["Line profile"] == "L"
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window.canvas, "l")
    assert tool.active and tool.drawer.isVisible() and window.profile.dock.isVisible()
    tool.set_line((0.5, 20.5), (95.5, 20.5))  # through the centres of row 20
    # the visibility is rendered for the profile although the mode (side by side) does not show it
    qtbot.waitUntil(lambda: tool.profile is not None and "visibility" in tool.profile.values, timeout=20_000)
    idle(window)
    reference = load(str(photo)).rgb8()
    distorted = fakes.encoded_at(reference, 4)
    values = tool.profile.values
    np.testing.assert_allclose(values["A"], rgb_to_luma(reference)[20], atol=1e-3)
    np.testing.assert_allclose(values["B"], rgb_to_luma(distorted)[20], atol=1e-3)
    np.testing.assert_allclose(values["JND"], 2.0)
    window.state.mode = CompareMode.VISIBILITY
    idle(window)
    np.testing.assert_allclose(values["visibility"], window.session.visibility(4).values[20], atol=1e-6)
    assert values["visibility"][[5, 90]] == pytest.approx([0.5, 2.0], abs=1e-4)
    x, y = tool.plot.curves["B"].getData()
    np.testing.assert_allclose(x, np.arange(96.0))
    np.testing.assert_allclose(y, values["B"])
    assert "above 1 along" in tool.plot.summary.text()
    # the next level: the profile follows B
    window.state.level = 5
    qtbot.waitUntil(lambda: window.session.frame is not None and window.session.frame.level == 5, timeout=20_000)
    idle(window)
    np.testing.assert_allclose(tool.profile.values["B"], rgb_to_luma(reference)[20], atol=1e-3)


def _drag(qtbot, window, start: tuple[float, float], end: tuple[float, float]) -> None:
    canvas = window.canvas
    viewport = canvas.pane_a.graphics.viewport()
    points = [QPoint(*(round(v) for v in canvas.image_to_widget(*p))) for p in (start, end)]
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=points[0])
    for step in range(1, 9):
        t = step / 8
        qtbot.mouseMove(viewport, QPoint(round(points[0].x() + t * (points[1].x() - points[0].x())),
                                         round(points[0].y() + t * (points[1].y() - points[0].y()))))  # fmt: skip
        qtbot.wait(5)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=points[1])


def test_dragging_draws_the_line_instead_of_panning(steps_photo, qtbot, idle) -> None:
    window = steps_photo
    tool = window.profile
    tool.set_active(True)  # (the dock takes its height: let the canvas settle before reading positions)
    qtbot.wait(100)
    before = window.canvas.pane_a.view.viewRect()
    _drag(qtbot, window, (10.0, 10.0), (80.0, 50.0))
    line = tool.line()
    assert line is not None
    (x0, y0), (x1, y1) = line
    scale = 100.0 / window.canvas.zoom_percent() + 0.5  # image pixels per screen pixel, rounding
    assert (x0, y0) == (pytest.approx(10.0, abs=scale), pytest.approx(10.0, abs=scale))
    assert (x1, y1) == (pytest.approx(80.0, abs=2 * scale), pytest.approx(50.0, abs=2 * scale))
    assert window.canvas.pane_a.view.viewRect() == before  # no pan
    assert tool.profile is not None and len(tool.profile.distance) == round(np.hypot(x1 - x0, y1 - y0)) + 1
    tool.set_active(False)  # the tool off: the line hides and a drag pans again
    assert not tool.roi.isVisible() and not tool.dock.isVisible()
    _drag(qtbot, window, (60.0, 30.0), (20.0, 30.0))
    assert window.canvas.pane_a.view.viewRect() != before
    assert tool.line() == line
    idle(window)
