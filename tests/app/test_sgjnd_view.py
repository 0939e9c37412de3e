"""SG-JND in the explorer: its prediction beside the training-free one (readouts, plot, Go/Export), the patch-weight
overlay (rectangles, colours, hover text, cache) and what the window says without weights.

The tiny weights of ``tests/app/conftest.py`` (``sgjnd_weights``) stand in for ``models/sgjnd.pt``.
"""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSettings, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from jndviewer.app.canvas import PATCH_COLORMAP, PATCH_FILL_ALPHA, PATCH_LUT_LOW, PATCH_VISIBLE_PEN
from jndviewer.app.modes import CompareMode
from jndviewer.app.readouts import format_bytes
from jndviewer.app.state import ViewState
from jndviewer.core.codecs import create_codec
from jndviewer.core.colormap import lookup_table
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import load
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor
from jndviewer.core.pwjnd.sgjnd.patches import PatchReport
from jndviewer.core.report import read_results
from jndviewer.core.viewing import describe_condition

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def summary(result, level_name: str = "quality") -> str:
    note = " (even the best level is visible)" if result.all_visible else ""
    saved = f"{result.bpp:.3f} bpp · {100 * result.bitrate_saving:.1f} % saved"
    return f"{level_name} {result.level}{note} · {saved} · {describe_condition(result.condition)}"


def rendered(pane, canvas, x: float, y: float) -> np.ndarray:
    image: QImage = pane.graphics.grab().toImage()
    wx, wy = canvas.image_to_widget(x, y, pane)
    ratio = image.devicePixelRatio()
    color = image.pixelColor(int(wx * ratio), int(wy * ratio))
    return np.array([color.red(), color.green(), color.blue()], dtype=float)


def hover(qtbot, window, pane, x: float, y: float) -> None:
    """Move the mouse over image point (x, y) of a pane: a mouse-move event to the pane's viewport, from which the
    view, pyqtgraph's scene and the canvas take it as they take a real one. (QTest's synthesised moves do not
    reliably reach the viewport on the offscreen platform.)"""
    wx, wy = window.canvas.image_to_widget(x, y, pane)
    viewport = pane.graphics.viewport()
    local = QPointF(wx, wy)
    qtbot.wait(20)  # pyqtgraph drops moves closer than 10 ms to the previous one
    event = QMouseEvent(QEvent.Type.MouseMove, local, viewport.mapToGlobal(local), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(lambda: window._last_hover == (int(x), int(y)), timeout=5_000)


def test_both_predictions_reach_the_readouts_and_the_plot(make_window, qtbot, idle, scene, sgjnd_weights, tmp_path):
    window = make_window(scene, jnd_model="chou1995", threshold=1.5)
    session = window.session
    qtbot.waitUntil(lambda: set(session.predictions.results) == {"visibility", "sgjnd"}, timeout=90_000)
    idle(window)
    sg, vis = session.predictions.results.get("sgjnd"), session.predictions.results.get("visibility")
    # the GUI only adds threads: the same result as the core predictor on the same image and codec
    expected = SGJNDPredictor(sgjnd_weights).predict(load(scene), create_codec("jpeg"))
    assert (sg.predictor, sg.level, sg.trace, sg.nbytes) == ("sgjnd", expected.level, expected.trace, expected.nbytes)
    assert [r.score for r in sg.records] == pytest.approx([r.score for r in expected.records], abs=1e-5)
    # the tiny network's logit on this image crosses 0 at quality 30: the search saw both verdicts
    assert 20 <= sg.level <= 40 and {r.visible for r in sg.records} == {True, False}
    assert sg.level != vis.level

    readouts = window.readouts
    titles = (readouts.title("pwjnd:visibility"), readouts.title("pwjnd:sgjnd"))
    assert titles == ("PW-JND (training-free)", "PW-JND (SG-JND)")
    assert readouts.text("pwjnd:visibility") == summary(vis)
    assert readouts.text("pwjnd:sgjnd") == summary(expected)
    assert readouts.title("search") == "Search (training-free)" and "threshold 1.5" in readouts.text("search")
    assert readouts.text("size") == f"{format_bytes(vis.nbytes)}, {vis.bpp:.3f} bpp"
    assert "SG-JND" in readouts.text("times")

    plots = window.plots
    assert [line.value() for line in plots.marks["visibility"].lines] == [vis.level, vis.level]
    assert [line.value() for line in plots.marks["sgjnd"].lines] == [sg.level, sg.level]
    assert all(line.isVisible() for line in plots.marks["sgjnd"].lines)
    assert plots.marks["sgjnd"].lines[0].label.toPlainText() == f"SG-JND {sg.level}"
    assert plots.marks["visibility"].lines[0].label.toPlainText() == f"training-free {vis.level}"
    spots = {int(s["x"]): s for s in plots.marks["sgjnd"].trace.data}
    assert sorted(spots) == sorted(sg.trace)
    for record in sg.records:  # a diamond at each visited level's logit, red where visible
        assert spots[record.level]["y"] == pytest.approx(record.score)
        assert (spots[record.level]["brush"].color().red() > 150) == record.visible
        assert spots[record.level]["symbol"] == "d"
    low, high = plots.logit_view.viewRange()[1]  # the logit axis shows every logit and the decision at 0
    assert low < min(0.0, *sg.scores.values()) and high > max(0.0, *sg.scores.values())
    assert plots.logit_zero.isVisible() and plots.logit_zero.value() == 0.0
    # ... placed so that logit 0 is drawn at the height of the visibility threshold: above it is "visible" for both
    threshold_y = plots.vis.getViewBox().mapViewToScene(QPointF(50, plots.threshold_line.value())).y()
    assert plots.logit_view.mapViewToScene(QPointF(50, 0.0)).y() == pytest.approx(threshold_y, abs=1.0)
    first = sg.trace[0]
    assert plots.describe_level(first).endswith(f"SG-JND logit {sg.scores[first]:+.2f}")

    # Go to JND follows the visibility predictor unless SG-JND is chosen for Go/Export
    controls = window.controls
    assert controls.go_button.isEnabled()
    controls.go_button.click()
    assert window.state.level == vis.level
    combo = controls.go_predictor_combo
    combo.setCurrentIndex(combo.findData("sgjnd"))
    assert window.state.go_predictor == "sgjnd"
    assert readouts.title("search") == "Search (SG-JND)"
    assert "(sliding, 6 patches of 64 px, efficientnet-lite0 for 38 ppd, side by side)" in readouts.text("search")
    assert readouts.text("size") == f"{format_bytes(sg.nbytes)}, {sg.bpp:.3f} bpp"
    assert readouts.labels["pwjnd:sgjnd"].styleSheet() == "font-weight: bold;"
    assert readouts.labels["pwjnd:visibility"].styleSheet() == ""
    controls.go_button.click()
    assert window.state.level == sg.level
    (back,) = read_results(window.export_results(tmp_path / "results.json"))
    assert (back.predictor, back.level, back.trace) == ("sgjnd", sg.level, sg.trace)
    combo.setCurrentIndex(combo.findData("visibility"))
    controls.go_button.click()
    assert window.state.level == vis.level

    # the visibility predictor's settings do not concern SG-JND: only the visibility prediction is redone
    generation = session.predictions.runners["sgjnd"].generation
    window.state.threshold = 3.0
    qtbot.waitUntil(lambda: session.predictions.results.get("visibility", sg).params.get("threshold") == 3.0,
                    timeout=60_000)  # fmt: skip
    idle(window)
    assert session.predictions.runners["sgjnd"].generation == generation
    assert session.predictions.results.get("sgjnd") is sg
    assert readouts.text("pwjnd:sgjnd") == summary(expected)


def test_patch_overlay_draws_the_patches_and_names_them(make_window, qtbot, idle, scene, sgjnd_weights):
    window = make_window(scene, jnd_model="chou1995", threshold=1.5, level=20, mode=CompareMode.SIDE_BY_SIDE)
    session, canvas = window.session, window.canvas
    qtbot.waitUntil(lambda: session.frame is not None and session.frame.level == 20, timeout=30_000)
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier)  # View > SG-JND patch weights
    assert window.state.patch_overlay and window.controls.patch_check.isChecked() and window.patch_action.isChecked()
    assert window.state.mode is CompareMode.SIDE_BY_SIDE  # W alone is the wipe mode; Shift+W is not
    assert dict((a, k) for k, a in window.shortcut_rows())["Patch weights"] == "Shift+W"
    qtbot.waitUntil(lambda: canvas.patches is not None, timeout=60_000)
    idle(window)
    canvas.fit()
    report = session.patches(20)
    assert canvas.patches is report and report.level == 20

    # the numbers are SGJNDPredictor.patch_report's for this level
    rgb = load(scene).rgb8()
    direct = SGJNDPredictor(sgjnd_weights).patch_report(rgb, create_codec("jpeg").encode(rgb, 20).decoded)
    assert report.positions == [tuple(p) for p in direct["positions"]] and report.patch == direct["patch"] == 64
    assert report.weights == pytest.approx(direct["weight"], abs=1e-6)
    assert report.quality == pytest.approx(direct["quality"], abs=1e-5)
    assert sum(report.weights) == pytest.approx(1.0) and len(report.positions) == 6

    lut = lookup_table(PATCH_COLORMAP).astype(int)
    for pane, layer in zip((canvas.pane_a, canvas.pane_b), canvas.patch_layers, strict=True):
        assert layer.group.isVisible() and len(layer.rects) == len(report.positions)
        for rect, (top, left) in zip(layer.rects, report.positions, strict=True):  # one rectangle per patch
            drawn = rect.mapToScene(rect.rect()).boundingRect()
            wanted = pane.view.mapViewToScene(QRectF(left, top, 64, 64)).boundingRect()
            assert [drawn.x(), drawn.y(), drawn.width(), drawn.height()] == pytest.approx(
                [wanted.x(), wanted.y(), wanted.width(), wanted.height()], abs=1e-6)  # fmt: skip
        # fill colours are ordered as the weights: the largest weight lightest, the smallest darkest
        colours = [rect.brush().color() for rect in layer.rects]
        assert all(c.alpha() == PATCH_FILL_ALPHA for c in colours)
        index = [int(np.argmin(((lut - [c.red(), c.green(), c.blue()]) ** 2).sum(1))) for c in colours]
        assert list(np.argsort(index)) == list(np.argsort(report.weights))
        assert index[int(np.argmax(report.weights))] == 255 and index[int(np.argmin(report.weights))] == PATCH_LUT_LOW
        visible = [rect.pen().color() == PATCH_VISIBLE_PEN for rect in layer.rects]
        assert visible == [q > 0 for q in report.quality]  # red outline where the patch's distortion is visible
        assert [t.toPlainText() for t in layer.texts] == [f"{w:.3f}" for w in report.weights]
    assert "SG-JND patches at quality 20: weight " in canvas.note_label.text()  # a line over both panes
    assert canvas.note_label.isVisible() and "SG-JND" not in canvas.pane_b.header.text()

    # drawn semi-transparently over B: a patch's corner is the blend of the decoded image and its colour
    k = int(np.argmax(report.weights))
    top, left = report.positions[k]
    decoded = create_codec("jpeg").encode(rgb, 20).decoded
    fill = lut[index[k]]
    alpha = PATCH_FILL_ALPHA / 255
    blend = (1 - alpha) * decoded[top + 10, left + 10].astype(float) + alpha * fill
    assert np.abs(rendered(canvas.pane_b, canvas, left + 10.5, top + 10.5) - blend).max() <= 4

    # hovering a patch names it, its weight and its quality
    text = f"patch {k + 1}: weight {report.weights[k]:.3f}, quality {report.quality[k]:+.2f}"
    text += " (visible)" if report.quality[k] > 0 else " (not visible)"
    hover(qtbot, window, canvas.pane_b, left + 20.5, top + 40.5)
    assert window.cursor_label.text().endswith(text)
    assert canvas.patch_layers[1].rects[k].toolTip() == text
    free = [(t, s) for t in range(0, 192, 64) for s in range(0, 256, 64) if (t, s) not in report.positions]
    hover(qtbot, window, canvas.pane_b, free[0][1] + 32.5, free[0][0] + 32.5)  # the middle of a tile not used
    assert "patch" not in window.cursor_label.text()

    # where patches overlap (the covering layout on sides that are not multiples of the patch), each is drawn as its
    # cell: the overlap is split in the middle
    overlapping = dataclasses.replace(report, positions=[(0, 0), (0, 48), (48, 0), (48, 48)], weights=[0.25] * 4,
                                      quality=[1.0, -1.0, 1.0, -1.0])  # fmt: skip
    canvas.patch_layers[1].show(overlapping)
    drawn = [r.rect() for r in canvas.patch_layers[1].rects]
    assert [(r.x(), r.y(), r.width(), r.height()) for r in drawn] == [
        (0, 0, 56, 56), (56, 0, 56, 56), (0, 56, 56, 56), (56, 56, 56, 56)]
    canvas.patch_layers[1].show(report)

    # it follows zoom and pan
    canvas.show_region(QRectF(left, top, 64, 48))
    qtbot.wait(20)
    for pane, layer in zip((canvas.pane_a, canvas.pane_b), canvas.patch_layers, strict=True):
        drawn = layer.rects[k].mapToScene(layer.rects[k].rect()).boundingRect()
        x0, y0 = canvas.image_to_widget(left, top, pane)
        x1, y1 = canvas.image_to_widget(left + 64, top + 64, pane)
        corner = pane.graphics.mapFromScene(drawn.topLeft())
        far = pane.graphics.mapFromScene(drawn.bottomRight())
        assert (corner.x(), corner.y(), far.x(), far.y()) == pytest.approx((x0, y0, x1, y1), abs=1)
    assert canvas.zoom_percent() * 64 / 100 > 44 and all(t.isVisible() for t in canvas.patch_layers[0].texts)

    # a single view (B alone) shows the overlay in pane A
    window.state.mode = CompareMode.DISTORTED
    idle(window)
    canvas.fit()
    qtbot.wait(20)
    assert canvas.patch_layers[0].group.isVisible() and not canvas.pane_b.isVisible()
    blend = (1 - alpha) * decoded[top + 10, left + 10].astype(float) + alpha * fill
    assert np.abs(rendered(canvas.pane_a, canvas, left + 10.5, top + 10.5) - blend).max() <= 4
    hover(qtbot, window, canvas.pane_a, left + 30.5, top + 5.5)
    assert window.cursor_label.text().endswith(text)

    # another level: its own report; back to level 20: from the cache, no new job
    window.state.level = 60
    qtbot.waitUntil(lambda: canvas.patches is not None and canvas.patches.level == 60, timeout=60_000)
    idle(window)
    assert canvas.patches.weights != report.weights
    assert "SG-JND patches at quality 60" in canvas.note_label.text()  # single view: the same line
    generation = session.patch_runner.generation
    window.state.level = 20
    qtbot.waitUntil(lambda: canvas.patches is report, timeout=30_000)
    idle(window)
    assert session.patch_runner.generation == generation

    # Shift+W again hides it
    qtbot.keyClick(window.canvas, Qt.Key.Key_W, Qt.KeyboardModifier.ShiftModifier)
    assert not window.state.patch_overlay and not window.controls.patch_check.isChecked()
    assert not any(layer.group.isVisible() for layer in canvas.patch_layers)
    assert canvas.patch_text(left + 30, top + 5) == "" and not canvas.note_label.isVisible()
    qtbot.wait(20)  # the canvas takes back the lines of the patch note and of the patch readout
    assert np.abs(rendered(canvas.pane_a, canvas, left + 10.5, top + 10.5) - decoded[top + 10, left + 10]).max() <= 1


def test_missing_weights_are_one_line_and_the_rest_works(make_window, qtbot, idle, scene, no_shipped_sgjnd,
                                                         monkeypatch, tmp_path):  # fmt: skip
    window = make_window(scene, jnd_model="chou1995", threshold=1.5, patch_overlay=True)
    session = window.session
    qtbot.waitUntil(lambda: "visibility" in session.predictions.results and "sgjnd" in session.predictions.missing,
                    timeout=60_000)
    idle(window)
    reason = PREDICTORS["sgjnd"].weights_status()[1]
    assert reason == f"The SG-JND weights ({no_shipped_sgjnd.name}) have not been trained yet."
    readouts = window.readouts
    assert readouts.text("pwjnd:sgjnd") == reason and readouts.labels["pwjnd:sgjnd"].styleSheet() == "color: gray;"
    assert readouts.text("here:sgjnd") == "not available"
    # the visibility predictor works as before
    assert readouts.text("pwjnd:visibility") == summary(session.predictions.results.get("visibility"))
    marks = window.plots.marks["sgjnd"]
    assert not any(line.isVisible() for line in marks.lines) and len(marks.trace.data) == 0
    assert window.controls.go_button.isEnabled()
    window.controls.go_button.click()
    assert window.state.level == session.predictions.results.get("visibility").level
    # the overlay has nothing to draw and says why, once
    assert window.canvas.patches is None and not any(layer.rects for layer in window.canvas.patch_layers)
    assert window.status_label.text() == reason and window.canvas.note_label.text() == reason
    # SG-JND is greyed out for Go/Export; chosen anyway, there is nothing to go to or export
    combo = window.controls.go_predictor_combo
    item = combo.model().item(combo.findData("sgjnd"))
    assert not item.isEnabled() and item.toolTip() == reason
    window.state.go_predictor = "sgjnd"
    assert not window.controls.go_button.isEnabled()
    with pytest.raises(JndViewerError, match=r"^There is no SG-JND prediction to export yet\.$"):
        window.export_results(tmp_path / "never.json")

    # weights that exist but are not SG-JND's: one red sentence, and still nothing else breaks
    from jndviewer.core.pwjnd.sgjnd import predictor

    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", bad)
    session.predict()
    qtbot.waitUntil(lambda: "visibility" in session.predictions.results and "sgjnd" in session.predictions.errors,
                    timeout=60_000)
    idle(window)
    assert "sgjnd" not in session.predictions.missing
    assert readouts.text("pwjnd:sgjnd").startswith("bad.pt is not a usable SG-JND checkpoint")
    assert "\n" not in readouts.text("pwjnd:sgjnd")
    assert readouts.labels["pwjnd:sgjnd"].styleSheet() == "color: #c62828;"
    assert readouts.text("pwjnd:visibility") == summary(session.predictions.results.get("visibility"))


def test_patch_cells_split_overlaps_and_keep_gaps() -> None:
    report = PatchReport(key=("a", "jpeg", 20), level=20, positions=[(0, 0), (0, 100), (60, 0), (60, 100)], patch=80,
                         weights=[0.25] * 4, quality=[0.0] * 4, logit=0.0)  # fmt: skip
    # rows overlap by 20 (60..80): split at 70; columns leave a gap (80..100): kept
    assert report.cells() == [(0, 0, 70, 80), (0, 100, 70, 80), (70, 0, 70, 80), (70, 100, 70, 80)]
    assert report.index_at(10, 69.5) == 0 and report.index_at(10, 70) == 2 and report.index_at(90, 10) is None
    assert report.index_at(179.5, 139.5) == 3 and report.index_at(180, 10) is None and report.index_at(5, 140) is None
    tiles = dataclasses.replace(report, positions=[(0, 0), (0, 80)])
    assert tiles.cells() == [(0, 0, 80, 80), (0, 80, 80, 80)]  # touching, not overlapping: the patches themselves


def test_predictor_choice_and_overlay_persist(app, tmp_path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    state = ViewState()
    assert (state.go_predictor, state.patch_overlay) == ("visibility", False)
    state.go_predictor, state.patch_overlay = "sgjnd", True
    state.save(settings)
    settings.sync()
    restored = ViewState()
    restored.restore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert (restored.go_predictor, restored.patch_overlay) == ("sgjnd", True)
    settings.setValue("state/go_predictor", "oracle")
    settings.setValue("state/patch_overlay", "false")
    fallback = ViewState()
    fallback.restore(settings)
    assert (fallback.go_predictor, fallback.patch_overlay) == ("visibility", False)


def test_sgjnd_starts_after_the_visibility_prediction(make_window, qtbot, idle, scene, sgjnd_weights) -> None:
    """On two cores both predictions at once starved the interface: SG-JND waits for the visibility one."""
    window = make_window(scene, jnd_model="chou1995", threshold=1.5)
    session = window.session
    qtbot.waitUntil(lambda: set(session.predictions.results) == {"visibility", "sgjnd"}, timeout=90_000)
    idle(window)
    order: list[str] = []
    session.prediction_ready.connect(lambda name, _: order.append(name))
    session.predict()
    assert window.readouts.text("pwjnd:sgjnd") == "predicting…"  # shown as pending at once
    runners = session.predictions.runners
    assert runners["visibility"].busy and not runners["sgjnd"].busy and session.busy
    qtbot.waitUntil(lambda: "sgjnd" in order, timeout=90_000)
    assert order.index("visibility") < order.index("sgjnd")
    # cancelling while SG-JND waits drops it for good
    session.predict()
    window.cancel_jobs()
    idle(window)
    qtbot.wait(200)
    assert session.predictions.results.get("sgjnd") is None and not session.predictions.runners["sgjnd"].busy
    assert window.readouts.text("pwjnd:sgjnd") == "cancelled (P predicts again)"
