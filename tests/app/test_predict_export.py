"""Prediction readouts and plots, the calibration-missing message, viewing condition, and every export."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
import torch
from PIL import Image
from PySide6.QtGui import QImage

from jndviewer.app.modes import CompareMode
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import load
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor
from jndviewer.core.report import read_results
from jndviewer.core.viewing import ppd_from_display


def visibility_result(window) -> Any:
    """The window's training-free prediction (None until it is there)."""
    return window.session.predictions.results.get("visibility")


def tuned_predictor(window) -> PooledVisibilityPredictor:
    """The core predictor with the window's settings (the GUI only adds threads)."""
    return PooledVisibilityPredictor(window.session.predictor_params(), condition=window.session.condition())


def test_predict_fills_readouts_and_plots(make_window, qtbot, idle, gray, fakes, unit_ppd) -> None:
    window = make_window(gray, codec="steps", jnd_model="flat", visibility_model="pixel", ppd=unit_ppd, threshold=4.0)
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    idle(window)
    result = visibility_result(window)
    # the same numbers as the core predictor run on its own (the GUI only adds threads)
    expected = tuned_predictor(window).predict(load(gray), fakes.StepCodec())
    assert (result.level, result.trace, result.nbytes) == (expected.level, expected.trace, expected.nbytes)
    # level L has v = (1, 2, 4) (5 - L) / 2 in thirds; Minkowski-4 pooled: 4.63 at level 2 (visible), 3.09 at 3
    assert result.level == 3
    readouts = window.readouts
    assert readouts.text("pwjnd:visibility") == f"step 3 · 1.042 bpp · 40.0 % saved · {unit_ppd:g} ppd, side by side"
    assert readouts.text("size") == "600 B, 1.042 bpp"  # 8 x 600 / (96 x 48)
    assert readouts.text("saving").startswith("40.0 % fewer bytes than step 5")
    assert "encodes in" in readouts.text("search") and "threshold 4" in readouts.text("search")
    assert readouts.text("psnr").endswith("dB")
    plots = window.plots
    lines = plots.marks["visibility"].lines
    assert [line.value() for line in lines] == [3, 3] and all(line.isVisible() for line in lines)
    spots = plots.marks["visibility"].trace.data
    assert sorted(int(x) for x in spots["x"]) == sorted(result.trace)
    colours = {int(s["x"]): s["brush"].color().red() for s in spots}
    assert all((colours[r.level] > 150) == r.visible for r in result.records)  # red visible, blue not
    assert plots.threshold_line.value() == pytest.approx(4.0)
    assert sorted(plots.points) == [1, 2, 3, 4, 5] and all(p["score"] is not None for p in plots.points.values())
    plots.flush()
    x, y = plots.vis_curve.getData()
    assert list(x) == [1, 2, 3, 4, 5] and y[0] > y[-1]
    window.controls.go_button.click()
    assert window.state.level == 3
    assert [line.value() for line in plots.current_lines] == [3, 3]
    plots.level_picked.emit(5)  # a click on the curve
    assert window.state.level == 5


def test_the_default_predictor_is_the_subband_model(make_window, qtbot, idle, photo) -> None:
    """By default the training-free prediction, the curve and the visibility mode use the subband model, the J mode
    still shows the chosen pixel model's map; the Visibility box switches the predictor to that pixel model."""
    from jndviewer.core.image import rgb_to_luma
    from jndviewer.core.visibility.subband import SubbandVisibility

    window = make_window(photo, jnd_model="chou1995", threshold=None, mode=CompareMode.VISIBILITY, level=30)
    assert window.controls.visibility_model_combo.currentData() == "subband"
    qtbot.waitUntil(lambda: visibility_result(window) is not None and window.session.jnd is not None, timeout=30_000)
    idle(window)
    result = visibility_result(window)
    assert result.params["jnd_model"] == "subband" and window.session.jnd.model == "chou1995"
    assert window.session.jnd.scale == 1.0 and window.session.jnd.threshold.shape == (64, 96)
    expected = tuned_predictor(window).predict(load(photo), create_codec("jpeg"))
    assert (result.level, result.trace) == (expected.level, expected.trace)
    qtbot.waitUntil(lambda: window.session.visibility(30) is not None, timeout=30_000)
    reference = load(photo).rgb8()
    decoded = create_codec("jpeg").encode(reference, 30).decoded

    def as_luma(rgb: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(rgb_to_luma(rgb).astype(np.float32))[None, None]

    subband = SubbandVisibility(as_luma(reference), window.session.condition()).visibility(as_luma(decoded))
    np.testing.assert_allclose(window.session.visibility(30).values, subband[0, 0].numpy(), rtol=1e-5)
    assert window.canvas.pane_a.header.text().startswith("Visibility band contrast / threshold · subband model · ")
    window.controls.visibility_model_combo.setCurrentIndex(window.controls.visibility_model_combo.findData("pixel"))
    assert window.state.visibility_model == "pixel"
    qtbot.waitUntil(
        lambda: visibility_result(window) is not None and visibility_result(window).params["jnd_model"] == "chou1995",
        timeout=30_000,
    )
    idle(window)
    assert window.canvas.pane_a.header.text().startswith("Visibility |distortion| / JND · chou1995 JND model · ")


def test_missing_calibration_is_one_sentence(make_window, qtbot, idle, photo, monkeypatch) -> None:
    from jndviewer.core.pwjnd import calibration

    monkeypatch.setattr(calibration, "load_calibration", lambda path=None: {})
    window = make_window(photo, jnd_model="chou1995", visibility_model="pixel", threshold=None)
    qtbot.waitUntil(lambda: bool(window.session.predictions.errors.get("visibility")), timeout=30_000)
    idle(window)
    text = window.readouts.text("pwjnd:visibility")
    assert text.startswith("No calibrated threshold for chou1995") and "\n" not in text
    assert not window.controls.go_button.isEnabled()
    window.state.threshold = 1.5  # an explicit threshold predicts again
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    assert window.readouts.text("pwjnd:visibility").startswith("quality ")
    idle(window)


def test_viewing_condition(make_window, qtbot, idle, photo, monkeypatch) -> None:
    assert ppd_from_display(24, 1920, 1080, 60) == pytest.approx(37.846, abs=0.001)
    assert ppd_from_display(24, 1920, 1080, 120) == pytest.approx(2 * ppd_from_display(24, 1920, 1080, 60))
    with pytest.raises(JndViewerError):
        ppd_from_display(24, 1920, 1080, 0)
    window = make_window(photo, jnd_model="chou1995", visibility_model="pixel", threshold=1.5)
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    idle(window)
    from jndviewer.app import dialogs

    monkeypatch.setattr(dialogs.ViewingConditionDialog, "exec", lambda self: (self.distance.setValue(120.0), 1)[1])
    window.open_viewing_dialog()
    assert window.state.ppd == pytest.approx(75.7, abs=0.05)
    assert window.controls.ppd_spin.value() == pytest.approx(75.7, abs=0.05)
    qtbot.waitUntil(lambda: visibility_result(window) is not None and visibility_result(window).condition["ppd"] > 75,
                    timeout=30_000)  # fmt: skip
    idle(window)
    assert window.session.jnd.scale == pytest.approx(window.session.predictor_params().model_ppd / 75.7)
    assert window.session.jnd.threshold.shape != (64, 96)  # the predictor's view at this distance
    assert "JND" in window.pixel_readout(40, 30)


def test_exports_read_back(make_window, qtbot, idle, photo, tmp_path) -> None:
    window = make_window(photo, jnd_model="chou1995", threshold=1.5, mode=CompareMode.SIDE_BY_SIDE)
    qtbot.waitUntil(lambda: visibility_result(window) is not None and window.session.jnd is not None, timeout=30_000)
    idle(window)
    result = visibility_result(window)

    view = window.export_view(tmp_path / "view.png")
    picture = QImage(str(view))
    assert picture.width() == window.canvas.width() and picture.height() == window.canvas.height()

    npy = window.export_jnd_map(tmp_path / "map.npy")
    np.testing.assert_array_equal(np.load(npy), window.session.jnd.threshold)
    png = window.export_jnd_map(tmp_path / "map.png")
    with Image.open(png) as image:
        assert image.width > 96 and image.mode == "RGB"  # the map plus its colour bar

    target = tmp_path / "out" / "photo.jnd.jpg"
    with qtbot.waitSignal(window.export_done, timeout=20_000) as blocker:
        window.export_at_jnd(target)
    assert blocker.args == [str(target)]
    decoded = np.asarray(Image.open(target).convert("RGB"))
    np.testing.assert_array_equal(decoded, create_codec("jpeg").encode(load(photo).rgb8(), result.level).decoded)
    side = json.loads((tmp_path / "out" / "photo.jnd.jpg.json").read_text())
    assert side["pwjnd"]["level"] == result.level and side["source"] == str(photo) and side["output"] == str(target)

    results = window.export_results(tmp_path / "results.json")
    document = json.loads(results.read_text())
    assert document["format"] == "jndviewer.results"
    (back,) = read_results(results)
    assert (back.level, back.trace, back.image) == (result.level, result.trace, str(photo))


def test_exports_before_results_are_one_sentence(make_window) -> None:
    window = make_window(None)
    for export in (window.export_jnd_map, window.export_at_jnd, window.export_results):
        with pytest.raises(JndViewerError, match=r"yet\.$"):
            export("/tmp/never-written.json")


def test_cancelled_prediction_says_so(make_window, qtbot, idle, gray, fakes, unit_ppd) -> None:
    window = make_window(gray, codec="steps", jnd_model="flat", visibility_model="pixel", ppd=unit_ppd, threshold=4.0)
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    idle(window)
    window.session.predict(("visibility",))
    assert window.readouts.text("pwjnd:visibility") == "predicting…"
    window.cancel_jobs()  # Esc, before the worker's result can be delivered: the generation counter drops it
    idle(window)
    qtbot.wait(200)
    assert window.readouts.text("pwjnd:visibility") == "cancelled (P predicts again)"
    assert visibility_result(window) is None
    assert not window.controls.go_button.isEnabled()
    window.session.predict()
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    assert window.readouts.text("pwjnd:visibility").startswith("step 3 ")


def test_a_borrowed_threshold_is_said_beside_the_prediction(make_window, qtbot, idle, gray, fakes) -> None:
    """The step codec has no calibration of its own: the training-free predictor uses JPEG's thresholds, and the
    readouts say so (a mark in its row, the sentence under the search details) instead of passing it off silently."""
    window = make_window(gray, codec="steps")
    qtbot.waitUntil(lambda: visibility_result(window) is not None, timeout=30_000)
    idle(window)
    result = visibility_result(window)
    assert result.params["calibration"]["codec"] == "jpeg"
    assert result.params["caveats"][0].startswith("steps has no calibration of its own")
    readouts = window.readouts
    assert readouts.text("pwjnd:visibility").endswith(" · ⚠")
    assert readouts.labels["pwjnd:visibility"].toolTip() == "\n".join(result.params["caveats"])
    assert readouts.text("caveat") == " ".join(result.params["caveats"])
    assert readouts.form.isRowVisible(readouts.labels["caveat"])
    window.controls.calibrated_check.setChecked(False)  # the user's own threshold: nothing borrowed, nothing said
    qtbot.waitUntil(lambda: (r := visibility_result(window)) is not None and "caveats" not in r.params,
                    timeout=30_000)
    idle(window)
    assert not readouts.text("pwjnd:visibility").endswith("⚠")
    assert not readouts.form.isRowVisible(readouts.labels["caveat"])
