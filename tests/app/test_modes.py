"""Every comparison mode renders what it should, checked on the items' arrays and on rendered pixels."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
from PySide6.QtGui import QImage

from jndviewer.app.modes import CompareMode
from jndviewer.core.colormap import apply_colormap, lookup_table, visibility_colors
from jndviewer.core.image import load
from jndviewer.core.views import colorize, signed_difference_image


def rendered(window, x: float, y: float, pane=None) -> tuple[int, int, int]:
    """The colour drawn at image point (x, y) of a pane (A by default), from a real render of the widget."""
    canvas = window.canvas
    pane = pane or canvas.pane_a
    image: QImage = pane.graphics.grab().toImage()
    wx, wy = canvas.image_to_widget(x, y, pane)
    ratio = image.devicePixelRatio()
    color = image.pixelColor(int(wx * ratio), int(wy * ratio))
    return color.red(), color.green(), color.blue()


@pytest.fixture
def steps_window(make_window, qtbot, idle, gray, fakes, unit_ppd):
    """A flat gray image through the exact test codec and the flat JND model, at level 4 (v = 0.5, 1, 2)."""
    window = make_window(
        gray, codec="steps", jnd_model="flat", visibility_model="pixel", ppd=unit_ppd, threshold=1.2, level=4
    )
    qtbot.waitUntil(lambda: window.session.jnd is not None and window.session.frame is not None, timeout=30_000)
    idle(window)
    window.canvas.fit()
    return window


def show(window, qtbot, idle, mode: CompareMode) -> None:
    window.state.mode = mode
    idle(window)
    qtbot.wait(20)


def test_every_mode_renders_its_picture(steps_window, qtbot, idle, fakes) -> None:
    window = steps_window
    reference = load(window.state.image_path).rgb8()
    distorted = fakes.encoded_at(reference, 4)
    expected_base = {
        CompareMode.ORIGINAL: reference,
        CompareMode.DISTORTED: distorted,
        CompareMode.SIDE_BY_SIDE: reference,
        CompareMode.WIPE: reference,
        CompareMode.FLICKER: reference,
        CompareMode.DIFFERENCE: signed_difference_image(reference, distorted, window.state.difference_gain),
        CompareMode.VISIBILITY: visibility_colors(np.array([0.5, 1.0, 2.0]))[np.minimum(np.arange(96) * 3 // 96, 2)][
            None
        ].repeat(48, 0),
        CompareMode.JND: reference,
    }
    for mode in CompareMode:
        show(window, qtbot, idle, mode)
        if mode is CompareMode.FLICKER:
            window.canvas.flicker_timer.stop()
            window.canvas.set_flicker_phase(0)
        shown = window.canvas.displayed()
        np.testing.assert_array_equal(shown["base"], expected_base[mode], err_msg=mode.name)
        assert window.canvas.pane_b.isVisible() == (mode is CompareMode.SIDE_BY_SIDE)
        assert window.canvas.divider.isVisible() == (mode is CompareMode.WIPE)
        assert window.canvas.overlay.isVisible() == (mode is CompareMode.JND)
        assert window.canvas._colorbar_shown == mode.has_colorbar
        if mode is CompareMode.SIDE_BY_SIDE:
            np.testing.assert_array_equal(shown["b"], distorted)
            assert rendered(window, 10.5, 20.5) == (128, 128, 128)
            assert rendered(window, 10.5, 20.5, window.canvas.pane_b) == (129, 129, 129)  # 128 + (5 - 4) x 1
        elif mode is not CompareMode.JND:  # (the JND overlay's blend is checked on its own below)
            x = 10 if mode is CompareMode.WIPE else 90  # left of the wipe divider is A
            assert rendered(window, x + 0.5, 20.5) == tuple(int(c) for c in expected_base[mode][20, x]), mode.name


def test_difference_is_amplified(steps_window, qtbot, idle) -> None:
    window = steps_window
    window.state.level = 1  # k = 4: differences 4, 8, 16
    window.state.difference_gain = 8
    show(window, qtbot, idle, CompareMode.DIFFERENCE)
    base = window.canvas.displayed()["base"]
    # signed luma difference on the diverging scale, full colour (its red end) at 128 / 8 = 16 gray levels
    expected = [apply_colormap(np.array([[d]]), -16.0, 16.0, "diverging")[0, 0].tolist() for d in (4, 8, 16)]
    assert base[0, 5].tolist() == expected[0] and base[0, 45].tolist() == expected[1]
    assert base[0, 90].tolist() == expected[2] == lookup_table("diverging")[255].tolist()
    assert rendered(window, 45.5, 10.5) == tuple(expected[1])


def test_visibility_colours_at_half_one_and_two(steps_window, qtbot, idle) -> None:
    """Level 4 of the test codec over a flat JND of 2: |d| = 1, 2, 4 -> v = 0.5, 1, 2 in the three thirds."""
    window = steps_window
    assert window.session.visibility(4) is None  # before the map exists, the cursor's ratio names its own measure
    assert "|ΔY|/JND  1.000" in window.pixel_readout(48, 24) and " v " not in window.pixel_readout(48, 24)
    show(window, qtbot, idle, CompareMode.VISIBILITY)
    view = window.session.visibility(4)
    assert view is not None
    np.testing.assert_array_equal(np.unique(view.values), [0.5, 1.0, 2.0])
    expected = visibility_colors(np.array([0.5, 1.0, 2.0]))
    assert expected[1].tolist() == lookup_table("diverging")[128].tolist()  # white-ish centre at v = 1
    for column, colour in zip((16, 48, 80), expected, strict=True):
        assert window.canvas.displayed()["base"][24, column].tolist() == colour.tolist()
        assert rendered(window, column + 0.5, 24.5) == tuple(int(c) for c in colour)
    assert view.fraction_visible == pytest.approx(1 / 3, abs=0.02)
    assert "pixels above 1" in window.readouts.text("visibility")
    assert "v  1.000" in window.pixel_readout(48, 24) and "JND   2.00" in window.pixel_readout(48, 24)
    levels = window.canvas.colorbar.levels()
    assert levels == pytest.approx((0.0, 1.0))  # positions on the fixed scale (1/8 .. 8), whatever the level


def test_visibility_readout_says_when_its_map_is_being_replaced(steps_window, qtbot, idle, fakes,
                                                                 monkeypatch) -> None:
    """While a new JND map is computed, the share of pixels above 1 is the previous map's: the readout says so, then
    gives the new map's (a threshold of 4 instead of 2: v = 0.25, 0.5, 1, none above 1). So does the cursor's line,
    which then reads the new map without the cursor moving."""
    window = steps_window
    show(window, qtbot, idle, CompareMode.VISIBILITY)
    before = window.readouts.text("visibility")
    assert "33.33 % of pixels above 1" in before and "previous" not in before
    window._on_hover((48, 24))
    assert "JND   2.00" in window.cursor_label.text() and "previous" not in window.cursor_label.text()
    monkeypatch.setattr(fakes, "FLAT_JND", 4.0)
    window.session.compute_jnd()
    assert window.session.jnd_outdated
    assert "33.33 % of pixels above 1 (previous JND map; computing the new one)" in window.readouts.text("visibility")
    assert "v  1.000 (previous JND map; computing the new one)" in window.cursor_label.text()
    idle(window)
    after = window.readouts.text("visibility")
    assert not window.session.jnd_outdated
    assert "0.00 % of pixels above 1" in after and "previous" not in after
    assert "JND   4.00" in window.cursor_label.text() and "v  0.500" in window.cursor_label.text()
    assert "previous" not in window.cursor_label.text()


def test_the_model_title_says_so_while_another_models_map_is_computed(steps_window, qtbot, idle) -> None:
    """The title under the model box names the model whose map is shown: after choosing another model, until its map
    arrives, the title says it is the previous one's, then names the new model."""
    window = steps_window
    show(window, qtbot, idle, CompareMode.VISIBILITY)
    before = window.controls.model_title.text()
    assert before and "until" not in before
    seen: list[str] = []
    window.session.jnd_started.connect(lambda: seen.append(window.controls.model_title.text()))
    with qtbot.waitSignal(window.session.jnd_ready, timeout=60_000):
        window.state.jnd_model = "chou1995"
    assert seen and seen[-1] == f"{before} (the map shown until chou1995's is computed)"
    idle(window)
    after = window.controls.model_title.text()
    assert "Chou" in after and "until" not in after
    window.state.jnd_model = "yang2005"  # said already during the settle delay before the job is submitted
    assert window.controls.model_title.text() == f"{after} (the map shown until yang2005's is computed)"
    window.session.compute_jnd()  # at once, not after the settle delay
    assert window.controls.model_title.text() == f"{after} (the map shown until yang2005's is computed)"
    window.session.jnd_runner.cancel()  # the stop button: no map is coming, the note goes
    assert window.controls.model_title.text() == after
    idle(window)


def test_wipe_shows_a_left_and_b_right_of_the_divider(steps_window, qtbot, idle) -> None:
    window = steps_window
    window.state.level = 1  # B = 132, 136, 144 in the thirds; A = 128
    show(window, qtbot, idle, CompareMode.WIPE)
    window.state.wipe = 0.25  # divider at x = 24
    assert window.canvas.divider.value() == pytest.approx(24.0)
    for x in (2.5, 12.5, 22.5):
        assert rendered(window, x, 20.5) == (128, 128, 128), x
    for x, value in ((26.5, 132), (40.5, 136), (90.5, 144)):
        assert rendered(window, x, 20.5) == (value, value, value), x
    window.canvas.divider.setValue(72.0)  # dragging the divider moves the state
    assert window.state.wipe == pytest.approx(0.75)
    assert rendered(window, 60.5, 20.5) == (128, 128, 128)
    assert rendered(window, 80.5, 20.5) == (144, 144, 144)
    window.set_wipe_stop(next(s for s in __import__("jndviewer.app.modes").app.modes.WipeStop if s.key == "3"))
    assert rendered(window, 2.5, 20.5) == (132, 132, 132)  # all B


def test_flicker_alternates_at_the_configured_rate(steps_window, qtbot, idle) -> None:
    window = steps_window
    window.state.level = 1
    window.state.flicker_hz = 8.0
    show(window, qtbot, idle, CompareMode.FLICKER)
    canvas = window.canvas
    assert canvas.flicker_timer.interval() == 62  # 8 full cycles a second: each image 1/16 s
    canvas.flicker_timer.stop()
    canvas.set_flicker_phase(0)
    assert rendered(window, 40.5, 20.5) == (128, 128, 128)
    assert "showing A" in canvas.pane_a.header.text()
    canvas.toggle_flicker()
    assert canvas.flicker_phase == 1 and rendered(window, 40.5, 20.5) == (136, 136, 136)
    canvas.toggle_flicker()
    assert canvas.flicker_phase == 0 and rendered(window, 40.5, 20.5) == (128, 128, 128)
    window.state.flicker_hz = 4.0
    assert canvas.flicker_timer.interval() == 125
    canvas.flicker_timer.start()
    phases = []
    canvas.flicker_timer.timeout.connect(lambda: phases.append(canvas.flicker_phase))
    qtbot.waitUntil(lambda: len(phases) >= 3, timeout=5_000)
    assert phases[:3] in ([1, 0, 1], [0, 1, 0])


def test_jnd_overlay_blends_with_its_opacity(steps_window, qtbot, idle) -> None:
    window = steps_window
    window.state.overlay_opacity = 0.5
    show(window, qtbot, idle, CompareMode.JND)
    overlay = window.canvas.displayed()["overlay"]
    top = lookup_table("inferno")[255]  # the flat threshold is its own 99.9th percentile: the top colour
    assert overlay[10, 10].tolist() == top.tolist()
    blended = 0.5 * 128 + 0.5 * top.astype(float)
    assert np.abs(np.array(rendered(window, 40.5, 20.5)) - blended).max() <= 2
    window.state.overlay_opacity = 1.0
    assert np.abs(np.array(rendered(window, 40.5, 20.5)) - top).max() <= 1
    window.state.overlay_opacity = 0.0
    assert rendered(window, 40.5, 20.5) == (128, 128, 128)
    assert window.canvas.colorbar.levels() == pytest.approx((0.0, 2.0))


def test_each_component_can_be_shown(steps_window, qtbot, idle) -> None:
    window = steps_window
    window.state.overlay_opacity = 1.0
    show(window, qtbot, idle, CompareMode.JND)
    names = [window.controls.component_combo.itemData(i) for i in range(window.controls.component_combo.count())]
    assert names == ["threshold", "luminance_adaptation", "contrast_masking"]
    window.controls.component_combo.setCurrentIndex(2)
    assert window.state.component == "contrast_masking"
    assert "local contrast" in window.controls.component_note.text()
    idle(window)
    ramp = window.session.jnd.components["contrast_masking"]
    colors, low, high = colorize(ramp)
    np.testing.assert_array_equal(window.canvas.displayed()["overlay"], colors)
    np.testing.assert_array_equal(colors, apply_colormap(ramp, low, high))
    assert window.canvas.colorbar.levels() == pytest.approx((low, high))
    assert "contrast masking" in window.canvas.pane_a.header.text()
    left, right = rendered(window, 2.5, 20.5), rendered(window, 93.5, 20.5)
    assert left != right  # the ramp runs dark to bright
