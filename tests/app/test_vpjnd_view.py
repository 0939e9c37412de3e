"""VP-JNDnet in the explorer: the third prediction beside the others (readouts, plot marks, Go), its patch weights
drawn by the overlay once chosen beside it, and the note naming whose patches are shown.

The tiny weights of ``tests/app/conftest.py`` (``vpjnd_weights``, ``sgjnd_weights``) stand in for the shipped ones.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PySide6.QtCore import QSettings

from jndviewer.app.modes import CompareMode
from jndviewer.app.state import ViewState
from jndviewer.core.codecs import create_codec
from jndviewer.core.image import load
from jndviewer.core.pwjnd.vpjnd.predictor import VPJNDPredictor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_three_predictors_and_the_vpjnd_patch_overlay(make_window, qtbot, idle, scene, sgjnd_weights, vpjnd_weights,
                                                       tmp_path):  # fmt: skip
    window = make_window(scene, jnd_model="chou1995", threshold=1.5, level=20, mode=CompareMode.SIDE_BY_SIDE)
    session, readouts, canvas = window.session, window.readouts, window.canvas
    qtbot.waitUntil(lambda: {"visibility", "sgjnd", "vpjnd"} <= set(session.predictions.results), timeout=120_000)
    idle(window)
    result = session.predictions.results["vpjnd"]
    direct = VPJNDPredictor(vpjnd_weights).predict(load(scene), create_codec("jpeg"))
    assert (result.level, result.trace, result.params["strategy"]) == (direct.level, direct.trace, "block")
    assert readouts.title("pwjnd:vpjnd") == "PW-JND (VP-JNDnet)"
    assert readouts.text("pwjnd:vpjnd") == readouts.summary(result, "quality")
    marks = window.plots.marks["vpjnd"]
    assert [line.value() for line in marks.lines] == [result.level, result.level]
    assert marks.lines[0].label.toPlainText() == f"VP-JNDnet {result.level}"

    # the overlay draws SG-JND's patches until VP-JNDnet is chosen beside it
    combo = window.controls.patch_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["SG-JND", "VP-JNDnet"]
    window.state.patch_overlay = True
    qtbot.waitUntil(lambda: canvas.patches is not None, timeout=60_000)
    assert canvas.patches.key.predictor == "sgjnd" and "SG-JND patches at quality 20" in canvas.note_label.text()
    combo.setCurrentIndex(combo.findData("vpjnd"))
    assert window.state.patch_predictor == "vpjnd"
    qtbot.waitUntil(lambda: canvas.patches is not None and canvas.patches.key.predictor == "vpjnd", timeout=60_000)
    idle(window)
    report = canvas.patches
    rgb = load(scene).rgb8()
    expected = VPJNDPredictor(vpjnd_weights).patch_report(rgb, create_codec("jpeg").encode(rgb, 20).decoded, "jpeg")
    assert report.positions == [tuple(p) for p in expected["positions"]] and report.patch == 64
    assert report.weights == pytest.approx(expected["weight"], abs=1e-6)
    assert report.logit == pytest.approx(expected["logit"], abs=1e-5)
    assert "VP-JNDnet patches at quality 20: weight " in canvas.note_label.text()
    verdict = f"logit {report.logit:+.2f} → {'visible' if report.logit > 0 else 'not visible'}"
    assert readouts.text("here:vpjnd") == verdict  # the level shown, from the overlay's report

    # the choice is a setting like the others
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window.state.save(settings)
    fresh = ViewState()
    fresh.restore(settings)
    assert fresh.patch_predictor == "vpjnd"
    settings.setValue("state/patch_predictor", "visibility")  # not a patch network: the default
    fresh = ViewState()
    fresh.restore(settings)
    assert fresh.patch_predictor == "sgjnd"


def test_the_overlay_of_an_ensemble_shows_the_mean_and_each_networks_logit(make_window, qtbot, idle, scene,
                                                                            vpjnd_ensemble_weights):  # fmt: skip
    window = make_window(scene, jnd_model="chou1995", threshold=1.5, level=20, mode=CompareMode.SIDE_BY_SIDE)
    canvas = window.canvas
    window.state.patch_predictor = "vpjnd"
    window.state.patch_overlay = True
    qtbot.waitUntil(lambda: canvas.patches is not None and canvas.patches.key.predictor == "vpjnd", timeout=60_000)
    idle(window)
    report = canvas.patches
    rgb = load(scene).rgb8()
    expected = VPJNDPredictor(vpjnd_ensemble_weights).patch_report(rgb, create_codec("jpeg").encode(rgb, 20).decoded,
                                                                   "jpeg")
    assert len(report.member_logits) == 2 and report.member_logits == pytest.approx(expected["member_logits"])
    assert report.logit == pytest.approx(sum(report.member_logits) / 2, abs=1e-5)
    each = ", ".join(f"{logit:+.2f}" for logit in report.member_logits)
    assert f"logit {report.logit:+.2f} (mean of 2 networks: {each})" in canvas.note_label.text()
