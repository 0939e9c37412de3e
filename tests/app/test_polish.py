"""Polish of the explorer: the wheel over the controls, text and plots that fit (nothing clipped, overlapping or
stale), the signed difference, the threshold in use and the zoom the predictions assume."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication, QStyle

from jndviewer.app.jobs import LadderInfo
from jndviewer.app.modes import CompareMode
from jndviewer.core.pwjnd.result import PWJND, LevelRecord
from jndviewer.core.viewing import ViewingCondition
from jndviewer.core.views import ModelInfo

# --------------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------------


def wheel(widget, steps: int = -1) -> QWheelEvent:
    """Send a (synthetic) wheel event of ``steps`` notches to the middle of ``widget``; negative scrolls down."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event


def sample_results() -> dict[str, PWJND]:
    """Predictions as the explorer makes them on the bundled sample (JPEG, 38 ppd, side by side)."""
    condition = ViewingCondition(ppd=38.0).to_dict()
    visible = {25: True, 26: True, 27: True}
    records = [LevelRecord(level, visible.get(level, False), score, 20_000, 0.4)
               for level, score in ((50, 0.95), (39, 1.05), (33, 1.12), (29, 1.28), (28, 1.30), (27, 1.36),
                                    (26, 1.38), (25, 1.42))]  # fmt: skip
    vis = PWJND("sample.png", "jpeg", "visibility", 28, 19_900, 0.406, 100, 271_900, 0.927, 33.15, False,
                trace=[r.level for r in records], records=records, condition=condition, seconds=1.02,
                params={"strategy": "block", "threshold": 1.3302, "jnd_model": "subband"})  # fmt: skip
    logits = [(51, -2.4), (39, -1.6), (33, -0.6), (30, -0.2), (28, -0.05), (25, 0.8)]
    sg_records = [LevelRecord(level, logit > 0, logit, 20_000, 0.4) for level, logit in logits]
    sg = PWJND("sample.png", "jpeg", "sgjnd", 28, 19_900, 0.406, 100, 271_900, 0.927, 33.15, False,
               trace=[r.level for r in sg_records], records=sg_records, condition=condition, seconds=2.51,
               params={"strategy": "sliding", "patch_positions": [(0, 0)] * 24, "patch": 128,
                       "backbone": "efficientnet-lite0"})  # fmt: skip
    return {"visibility": vis, "sgjnd": sg}


def sample_ladder(levels=range(1, 101)) -> LadderInfo:
    ordered = tuple(levels)
    return LadderInfo("jpeg", "JPEG 4:2:0", "quality", "higher", ordered, ordered[-1], ordered)


def sample_curve(level: int) -> dict:
    """A rate-curve point shaped like JPEG's on the sample (bpp, PSNR, pooled visibility)."""
    t = level / 100.0
    return {"level": level, "nbytes": int(30_000 * (0.2 + 4 * t**8)), "bpp": 0.1 + 0.5 * t + 4.5 * t**12,
            "psnr": 24.0 + 10 * t + 8 * t**6, "score": 0.35 + 4.5 * np.exp(-level / 12.0) + 0.9 * (1 - t)}


def fill_window_readouts(window) -> None:
    """Everything the readouts show on the sample after its predictions, through the window's own handlers."""
    results = sample_results()
    window._on_jnd(type("Jnd", (), {
        "info": ModelInfo("wu2017", "Wu et al. 2017", "", (), ()), "seconds": 4.76, "model": "wu2017",
        "device": "cpu (2 threads)", "scorer": type("S", (), {"subband": object()})(), "scale": 1.0,
    })())  # fmt: skip
    window.readouts.set_time("load", "90 ms")
    window.readouts.set_time("encode", "36 ms")
    window.readouts.set_time("visibility map", "83 ms")
    for name, result in results.items():
        window._on_prediction(name, result)
    window.readouts.set_time("patches", "46 ms")
    window.readouts.set_text("current", "quality 16: 14.6 kB, 0.297 bpp, PSNR 30.99 dB")
    window.readouts.set_text("visibility", "pooled 1.902 → visible; 83.96 % of pixels above 1")
    window.readouts.set_text("here:sgjnd", "logit +2.77 → visible")
    if hasattr(window, "zoom_prediction"):  # the zoom row (item 20), as on the sample fitted at 1440 x 920
        window.readouts.set_text("zoom", window.zoom_prediction.text(0.62))


def settle(qtbot, ms: int = 80) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


@pytest.fixture
def steps_window(make_window, qtbot, idle, gray, fakes, unit_ppd):
    """A flat gray image through the exact test codec and the flat JND model, at level 4 (ΔY = 1, 2, 4)."""
    window = make_window(
        gray, codec="steps", jnd_model="flat", visibility_model="pixel", ppd=unit_ppd, threshold=1.2, level=4
    )
    qtbot.waitUntil(lambda: window.session.jnd is not None and window.session.frame is not None, timeout=30_000)
    idle(window)
    window.canvas.fit()
    return window


# --------------------------------------------------------------------------------------------------------------------
# 14. The wheel changes a value only in a focused control
# --------------------------------------------------------------------------------------------------------------------


def test_wheel_over_an_unfocused_control_scrolls_the_dock(make_window, qtbot) -> None:
    window = make_window()
    settle(qtbot)
    controls = window.controls
    bar = window.controls_dock.widget().verticalScrollBar()
    assert bar.maximum() > 0, "the Controls dock must be taller than its room for this test"
    window.canvas.setFocus()
    for widget, value in ((controls.ppd_spin, controls.ppd_spin.value),
                          (controls.task_combo, controls.task_combo.currentIndex),
                          (controls.model_combo, controls.model_combo.currentIndex),
                          (controls.opacity_slider, controls.opacity_slider.value)):  # fmt: skip
        bar.setValue(bar.minimum() + 1 if widget is not controls.opacity_slider else bar.minimum())
        before, start, ppd = value(), bar.value(), window.state.ppd
        assert not widget.hasFocus()
        wheel(widget, -1)
        settle(qtbot, 10)
        assert value() == before, f"{widget.objectName() or type(widget).__name__} changed under the wheel"
        assert window.state.ppd == ppd
        assert bar.value() > start, "the dock did not scroll"
        assert widget.focusPolicy() != Qt.FocusPolicy.WheelFocus  # the wheel does not give it focus either
    # a focused control still takes the wheel
    window.activateWindow()
    controls.ppd_spin.setFocus()
    qtbot.waitUntil(controls.ppd_spin.hasFocus, timeout=2_000)
    before = controls.ppd_spin.value()
    wheel(controls.ppd_spin, 1)
    assert controls.ppd_spin.value() > before


# --------------------------------------------------------------------------------------------------------------------
# 16. Text and plots: nothing clipped, overlapping or stale
# --------------------------------------------------------------------------------------------------------------------


def _fits(label) -> bool:
    """Whether a label shows all of its text (wrapped labels: the height its text needs at its width)."""
    text = label.text()
    if not text:
        return True
    if label.wordWrap():
        return label.heightForWidth(label.width()) <= label.height()
    return label.fontMetrics().horizontalAdvance(text) <= label.contentsRect().width()


def filled_window(make_window, qtbot, width: int, height: int):
    """A window of this size whose readouts show everything they do on the sample (:func:`fill_window_readouts`)."""
    window = make_window()
    window.resize(width, height)
    settle(qtbot)
    fill_window_readouts(window)
    settle(qtbot, 150)
    return window


def test_readouts_are_not_cut_off_at_1440x920(make_window, qtbot) -> None:
    window = filled_window(make_window, qtbot, 1440, 920)
    readouts = window.readouts
    scroll = readouts.parentWidget().parentWidget()  # viewport -> scroll area
    viewport = scroll.viewport()
    assert scroll.verticalScrollBar().maximum() == 0, "the readouts need scrolling at 1440x920"
    for key, label in readouts.labels.items():
        if label.isHidden():  # a row shown only for some images (Scale: an image with a preview)
            continue
        for widget in (label, readouts.titles[key]):
            assert _fits(widget), f"{key}: {widget.text()!r} does not fit"
            top_left = widget.mapTo(viewport, QPoint(0, 0))
            rect = widget.rect().translated(top_left)
            assert viewport.rect().contains(rect), f"{key}: {widget.text()!r} is cut off by the dock"


def test_patch_note_and_hover_readout_fit_side_by_side(make_window, qtbot, idle, photo, fakes) -> None:
    window = make_window(photo, codec="steps", jnd_model="flat", visibility_model="pixel", threshold=1.2,
                         mode=CompareMode.SIDE_BY_SIDE, patch_overlay=True)  # fmt: skip
    window.resize(1440, 920)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=30_000)
    idle(window)
    canvas = window.canvas
    note = "SG-JND patches at quality 20: weight 0.004–0.107 (fill), red = visible, logit +2.77"
    canvas.set_patches(None, note)
    settle(qtbot)
    shown = [w for w in canvas.findChildren(type(canvas.pane_a.header)) if w.isVisible() and note in w.text()]
    assert shown, "the patch note is not shown"
    for label in [*shown, canvas.pane_a.header, canvas.pane_b.header]:
        assert _fits(label), f"{label.text()!r} is cut off"
    # the hover readout over a patch: pixel values and the patch line, both whole
    patch_text = "patch 12: weight 0.107, quality +1.20 (visible)"
    canvas.patch_text = lambda x, y: patch_text  # as over a patch
    window._on_hover((10, 10))
    settle(qtbot)
    assert window.cursor_label.text().endswith(patch_text)
    assert _fits(window.cursor_label), f"{window.cursor_label.text()!r} is cut off"


def test_visibility_colour_bar_end_labels_are_inside(steps_window, qtbot) -> None:
    window = steps_window
    window.resize(1440, 920)
    window.state.mode = CompareMode.VISIBILITY
    settle(qtbot, 150)
    canvas = window.canvas
    assert canvas._colorbar_shown
    axis = canvas.colorbar.axis
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    graphics = canvas.pane_a.graphics
    visible = QRectF(graphics.viewport().rect())
    shown = {}
    for rect, _, text in texts:
        scene = axis.mapRectToScene(rect)
        shown[text] = graphics.mapFromScene(scene).boundingRect()
    assert {"¼", "4"} <= set(shown), shown
    for text, rect in shown.items():
        assert visible.contains(QRectF(rect)), f"colour-bar label {text!r} is clipped: {rect} outside {visible}"


def test_status_bar_is_not_ready_while_jobs_run(make_window, qtbot) -> None:
    window = make_window()

    def any_running() -> bool:
        return any(runner.busy for runner in (*window.session.runners, window.export_runner))

    settle(qtbot)  # the device probe starts once the window is up
    qtbot.waitUntil(lambda: not any_running(), timeout=20_000)
    assert window.status_label.text() == "Ready"
    release = threading.Event()
    window.export_runner.submit(lambda context: release.wait(10), description="Exporting")
    try:
        assert window.status_label.text() != "Ready"
        window._on_message("info", "Something happened")
        window._message_timer.timeout.emit()  # the message expires while the job runs
        assert window.status_label.text() != "Ready"
        assert window.status_label.text() != "Something happened"
    finally:
        release.set()
        window.export_runner.cancel()  # as Esc does: idle at once, the late result dropped
    qtbot.waitUntil(lambda: window.export_runner.in_flight == 0 and not any_running(), timeout=20_000)
    window._message_timer.timeout.emit()
    assert window.status_label.text() == "Ready"


def _label_rects(plots) -> list[tuple[str, QRectF]]:
    rects = []
    for name, marks in plots.marks.items():
        for line in marks.lines:
            if line.isVisible():
                rects.append((f"{name} {line.label.toPlainText()}", line.label.sceneBoundingRect()))
    return rects


def _obstacles(plots) -> list[tuple[str, QPointF]]:
    """Scene points of every curve (densely) and every search marker."""
    points = []
    for name, curve, view in (("bpp", plots.rate_curve, plots.rate.getViewBox()),
                              ("PSNR", plots.psnr_curve, plots.psnr_view),
                              ("visibility", plots.vis_curve, plots.vis.getViewBox())):  # fmt: skip
        x, y = curve.getData()
        if x is None or not len(x):
            continue
        fine = np.linspace(x.min(), x.max(), 8 * len(x))
        for xi, yi in zip(fine, np.interp(fine, x, y), strict=True):
            points.append((name, view.mapViewToScene(QPointF(float(xi), float(yi)))))
    for name, marks in plots.marks.items():
        view = marks.trace.getViewBox()
        for spot in marks.trace.points():
            centre = view.mapViewToScene(spot.pos())
            for dx, dy in ((0, 0), (-5, 0), (5, 0), (0, -5), (0, 5)):
                points.append((f"{name} marker", centre + QPointF(dx, dy)))
    return points


def shown_sample_plots(qtbot):
    """A plots panel of 860x300 on screen with the sample's JPEG curves (no predictions yet)."""
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.resize(860, 300)
    plots.show()
    qtbot.waitExposed(plots)
    plots.reset(sample_ladder())
    for level in range(1, 101):
        plots.add_point(sample_curve(level))
    plots.flush()
    return plots


def test_plot_labels_and_legend_clear_the_curves_and_markers(qtbot) -> None:
    plots = shown_sample_plots(qtbot)
    for name, result in sample_results().items():
        plots.set_prediction(name, result)
    plots.set_current(16)
    settle(qtbot, 150)
    labels = _label_rects(plots)
    assert len(labels) == 4
    legend = plots.legend.sceneBoundingRect()
    obstacles = _obstacles(plots)
    for name, point in obstacles:
        assert not legend.contains(point), f"the legend covers the {name} at {point}"
    for text, rect in labels:
        assert not rect.intersects(legend), f"the legend covers the label {text!r}"
        for name, point in obstacles:
            assert not rect.contains(point), f"the label {text!r} sits on the {name}"
    for i, (first, a) in enumerate(labels):
        for second, b in labels[i + 1:]:
            assert not a.intersects(b), f"the labels {first!r} and {second!r} overlap"


def test_axes_have_no_si_prefix_and_zoom_reads_sensibly_without_an_image(make_window, qtbot, idle, photo) -> None:
    window = make_window()
    settle(qtbot, 150)
    plots = window.plots
    for plot in (plots.rate, plots.vis):
        for side in ("left", "bottom", "right"):
            axis = plot.getAxis(side)
            assert "(x" not in axis.labelString() and "×" not in axis.labelString(), axis.labelString()
            assert not axis.autoSIPrefix, f"{side} axis may get an SI prefix"
    assert window.zoom_label.text() == ""  # no image: no zoom to speak of
    # tiny bits per pixel keep their unscaled axis
    plots.reset(sample_ladder())
    for level in range(1, 101):
        point = sample_curve(level)
        plots.add_point({**point, "bpp": point["bpp"] / 2000})
    plots.flush()
    settle(qtbot)
    assert "(x" not in plots.rate.getAxis("left").labelString()
    window.open_path(photo)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=30_000)
    settle(qtbot)
    text = window.zoom_label.text()
    assert text.startswith("Zoom ") and 10 <= float(text.split()[1]) <= 3200, text
    idle(window)


def test_integer_levels_have_integer_ticks(qtbot) -> None:
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.resize(860, 300)
    plots.show()
    qtbot.waitExposed(plots)
    plots.reset(LadderInfo("learned", "Learned", "rate point", "higher", (1, 2, 3, 4, 5, 6, 7, 8), 8,
                           (1, 2, 3, 4, 5, 6, 7, 8)))  # fmt: skip
    settle(qtbot)
    for plot in (plots.rate, plots.vis):
        axis = plot.getAxis("bottom")
        low, high = axis.range
        values = [v for _, vs in axis.tickValues(low, high, axis.geometry().width()) for v in vs]
        assert values, "no ticks"
        assert all(float(v).is_integer() for v in values), values
        assert set(range(2, 8)) <= {int(v) for v in values}


def test_pause_uses_a_standard_icon(make_window, qtbot) -> None:
    window = make_window()
    button = window.controls.play_button
    style = button.style()

    def same(icon, pixmap) -> bool:
        return not icon.isNull() and icon.pixmap(16, 16).toImage() == style.standardIcon(pixmap).pixmap(16,
                                                                                                          16).toImage()

    assert same(button.icon(), QStyle.StandardPixmap.SP_MediaPlay) and button.text() == "Play"
    window.set_playing(True)
    assert same(button.icon(), QStyle.StandardPixmap.SP_MediaPause) and button.text() == "Pause"
    window.set_playing(False)
    assert same(button.icon(), QStyle.StandardPixmap.SP_MediaPlay) and button.text() == "Play"


def test_view_menu_texts_do_not_repeat_the_shortcut(make_window) -> None:
    window = make_window()
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    checked = 0
    for action in view.actions():
        for key in action.shortcuts():
            text = key.toString()
            assert f"[{text}]" not in action.text(), f"{action.text()!r} repeats its shortcut {text}"
            checked += 1
    assert checked >= 10
    # the toolbar, which shows no shortcuts, still names the keys
    button = window.mode_toolbar.widgetForAction(window.mode_actions[CompareMode.WIPE])
    assert button.text() == "Wipe [W]"
    rows = dict((action, keys) for keys, action in window.shortcut_rows())
    assert rows["Wipe"] == "W" and rows["Patch weights"] == "Shift+W"


# --------------------------------------------------------------------------------------------------------------------
# 17. Difference mode: the signed difference on a diverging scale, gain stated
# --------------------------------------------------------------------------------------------------------------------


def test_difference_mode_shows_the_signed_difference_with_its_gain(steps_window, qtbot, idle) -> None:
    from jndviewer.core.colormap import apply_colormap
    from jndviewer.core.views import difference_range, signed_difference_image

    # Qt-free: B - A in luma, white where equal, red where B is brighter, blue where darker, full at 128 / gain
    a = np.full((1, 3, 3), 100, np.uint8)
    b = np.array([[[100] * 3, [108] * 3, [92] * 3]], np.uint8)
    colors = signed_difference_image(a, b, 8.0)
    assert difference_range(8.0) == 16.0
    np.testing.assert_array_equal(colors, apply_colormap(np.array([[0.0, 8.0, -8.0]]), -16.0, 16.0, "diverging"))
    white, red, blue = colors[0].astype(int)
    assert white.min() > 200 and red[0] > red[2] and blue[2] > blue[0]

    window = steps_window
    window.state.mode = CompareMode.DIFFERENCE
    idle(window)
    settle(qtbot)
    reference, distorted = window.canvas.reference, window.canvas.distorted
    np.testing.assert_array_equal(window.canvas.displayed()["base"],
                                  signed_difference_image(reference, distorted, window.state.difference_gain))
    header = window.canvas.pane_a.header.text()
    assert "B − A" in header and "|" not in header.split("B − A")[0] and "×8" in header
    assert window.canvas._colorbar_shown
    assert "×8" in window.canvas.colorbar.getAxis("left").labelText
    assert "signed" in CompareMode.DIFFERENCE.tooltip and "|B - A|" not in CompareMode.DIFFERENCE.tooltip
    window.state.difference_gain = 4.0
    idle(window)
    settle(qtbot)
    assert "×4" in window.canvas.pane_a.header.text()
    np.testing.assert_array_equal(window.canvas.displayed()["base"], signed_difference_image(reference, distorted, 4))


# --------------------------------------------------------------------------------------------------------------------
# 18. The greyed threshold shows the value in use
# --------------------------------------------------------------------------------------------------------------------


def test_greyed_threshold_shows_the_calibrated_value_in_use(make_window, qtbot) -> None:
    from jndviewer.core.pwjnd.calibration import calibrated_threshold
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    window = make_window(codec="jpeg", threshold=None, visibility_model="subband")
    settle(qtbot)
    spin = window.controls.threshold_spin

    def expected(codec: str, task: str = "side-by-side") -> float:
        condition = ViewingCondition(ppd=window.state.ppd, task=task)
        return round(calibrated_threshold(default_params("subband", task), codec, condition), 3)

    assert not spin.isEnabled()
    assert spin.value() == pytest.approx(expected("jpeg"), abs=1e-3) and spin.value() != 1.0
    window.state.codec = "webp"
    settle(qtbot)
    assert spin.value() == pytest.approx(expected("webp"), abs=1e-3)
    window.state.task = "flicker"
    settle(qtbot)
    assert spin.value() == pytest.approx(expected("webp", "flicker"), abs=1e-3)
    # unticking "calibrated" starts from the value that was in use
    window.controls.calibrated_check.setChecked(False)
    assert spin.isEnabled() and window.state.threshold == pytest.approx(expected("webp", "flicker"), abs=1e-3)


# --------------------------------------------------------------------------------------------------------------------
# 20. Predictions assume 100 % zoom: say so, and offer the zoom in use
# --------------------------------------------------------------------------------------------------------------------


def test_prediction_readout_names_the_zoom_and_predicts_for_it(make_window, qtbot, idle, photo, fakes) -> None:
    window = make_window(photo, codec="steps", jnd_model="flat", visibility_model="pixel", threshold=1.2, ppd=38.0)
    qtbot.waitUntil(lambda: "visibility" in window.session.predictions.results, timeout=60_000)
    idle(window)
    readouts = window.readouts

    def zoom_text() -> str:  # as shown: the link's words are joined by non-breaking spaces
        return readouts.text("zoom").replace("\u00a0", " ")

    window.canvas.zoom_to(50.0)
    settle(qtbot)
    text = zoom_text()
    assert "50 %" in text and "100 %" in text and "76 ppd" in text, text
    readouts.labels["zoom"].linkActivated.emit("zoom")  # "predict for 76 ppd"
    assert window.state.ppd == pytest.approx(76.0)
    qtbot.waitUntil(lambda: "visibility" in window.session.predictions.results, timeout=60_000)
    idle(window)
    assert readouts.text("pwjnd:visibility").endswith("· 76 ppd, side by side")
    text = zoom_text()
    assert "50 %" in text and "38 ppd" in text and "this zoom" in text, text
    # the screen's ppd is remembered: zooming to 25 % offers 152 ppd, not 76 / 0.25
    window.canvas.zoom_to(25.0)
    settle(qtbot)
    assert "152 ppd" in zoom_text()
    window.canvas.zoom_to(100.0)
    settle(qtbot)
    readouts.labels["zoom"].linkActivated.emit("zoom")
    assert window.state.ppd == pytest.approx(38.0)
    qtbot.waitUntil(lambda: "visibility" in window.session.predictions.results, timeout=60_000)
    idle(window)
    assert "100 %" in zoom_text() and "38 ppd" in zoom_text()


def test_a_curve_restart_keeps_the_predictions_in_the_plots(qtbot) -> None:
    """A new JND map (after a change of task or ppd) restarts the rate curve of the same ladder: predictions that
    arrived before it stay drawn (the readouts keep showing them); another ladder clears them."""
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.reset(sample_ladder())
    results = sample_results()
    for name, result in results.items():
        plots.set_prediction(name, result)
    plots.reset(sample_ladder())  # the curve restarts for a new JND map
    for name, result in results.items():
        marks = plots.marks[name]
        assert marks.result is result and all(line.isVisible() for line in marks.lines), name
        assert len(marks.trace.data) == len(result.records)
    assert plots.threshold_line.isVisible()
    plots.reset(sample_ladder(range(1, 51)))  # another codec's ladder: its predictions are yet to come
    assert all(m.result is None and not any(line.isVisible() for line in m.lines) for m in plots.marks.values())


def test_status_bar_progress_shows_a_percentage(make_window, qtbot) -> None:
    """Issue 18, item 21: a job that reports numbers shows its percentage; a job that does not, a busy bar."""
    window = make_window()
    settle(qtbot)
    release, reported = threading.Event(), threading.Event()

    def job(context) -> None:
        context.progress(3, 12, "encoding level 3 of 12")
        reported.set()
        release.wait(10)

    window.export_runner.progress.connect(window._on_progress)
    window.export_runner.submit(job, description="Exporting")
    try:
        qtbot.waitUntil(lambda: window.progress.isTextVisible(), timeout=10_000)
        assert window.progress.isVisible() and window.progress.text() == "25 %"
        assert window.progress.toolTip() == "encoding level 3 of 12"
    finally:
        release.set()
        window.export_runner.cancel()
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=20_000)
    assert not window.progress.isTextVisible()


def test_a_slow_codec_opens_on_a_swept_level_and_says_when_a_level_is_not(make_window, qtbot, idle, photo) -> None:
    """AVIF's curve samples about 21 levels: the explorer opens on one (its readouts complete) and, scrubbed to
    another, says that level is not swept instead of a bare dash."""
    window = make_window(photo, codec="avif", threshold=None)
    session = window.session
    qtbot.waitUntil(lambda: session.ladder_info is not None and session.frame is not None, timeout=90_000)
    info = session.ladder_info
    assert len(info.curve_levels) < len(info.ordered) and window.state.level in info.curve_levels
    qtbot.waitUntil(lambda: window.state.level in session.curve, timeout=90_000)
    idle(window)
    assert "PSNR" in window.readouts.text("current") and window.readouts.text("visibility").startswith("pooled ")
    unswept = next(level for level in info.ordered if level not in info.curve_levels)
    window.state.level = unswept
    qtbot.waitUntil(lambda: session.frame is not None and session.frame.level == unswept, timeout=90_000)
    idle(window)
    assert window.readouts.text("visibility") == (
        f"pooled: not swept (the curve samples {len(info.curve_levels)} of {len(info.ordered)} levels)")


def test_the_zoom_readout_shows_the_zoom_as_the_status_bar_does() -> None:
    """Within 2 % of 1:1 the readout says the predictions' assumption holds, with the zoom rounded as the status bar
    rounds it (99 %, not "100 %")."""
    from types import SimpleNamespace

    from jndviewer.app.zoom_ppd import ZoomPrediction

    fake = SimpleNamespace(state=SimpleNamespace(ppd=38.0), screen_ppd=38.0)
    fake.ppd_for = lambda zoom: ZoomPrediction.ppd_for(fake, zoom)
    assert ZoomPrediction.text(fake, 1.0).startswith("100 % (1:1): one image pixel per screen pixel")
    assert ZoomPrediction.text(fake, 0.99).startswith("99 % (1:1): nearly one image pixel per screen pixel")
    assert ZoomPrediction.text(fake, 0.7).startswith("view at 70 %; predictions assume 100 % (1:1)")


def test_a_caveat_row_shown_after_its_text_is_not_cut_off(make_window, qtbot) -> None:
    """The Caveat row appears when the chosen prediction carries a caveat: the readouts then ask for the height of
    that row too (it was set while hidden, and the dock's last row was cut in half with no scroll bar)."""
    readouts = filled_window(make_window, qtbot, 1480, 960).readouts
    result = sample_results()["visibility"]
    result.params["caveats"] = [
        "At 75 ppd (flicker) the training-free predictor's jpeg fit erred by 6.3 levels on its training images, "
        "more than guessing one level for every image would (4.3): treat its PW-JND here as a rough guess."]
    readouts.show_prediction("visibility", result, "quality")
    settle(qtbot, 150)
    assert readouts.labels["caveat"].isVisible()
    assert readouts.minimumHeight() >= readouts.layout().heightForWidth(readouts.width())
    last = readouts.labels["times"]  # the bottom row lies inside the widget the scroll area scrolls
    assert last.geometry().bottom() <= readouts.height()


def test_the_logit_axis_has_a_sensible_range_before_any_logit(qtbot) -> None:
    """Before a network's logits arrive the logit axis spans a few logits around 0 (a collapsed range labelled it
    0 / 0.0005 / 0.001); with them, every logit is inside."""
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.reset(sample_ladder())
    for level in range(1, 101):
        plots.add_point(sample_curve(level))
    plots.flush()
    plots._fit_logit_range()
    low, high = plots.logit_view.viewRange()[1]
    assert low < -1.0 and high > 1.0
    plots.set_prediction("sgjnd", sample_results()["sgjnd"])
    plots._fit_logit_range()
    low, high = plots.logit_view.viewRange()[1]
    assert low <= -2.4 and high >= 0.8 and high < 3.0  # the sample's logits, -2.4 to 0.8
