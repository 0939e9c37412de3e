"""The explorer enumerates the predictor registry: a toy predictor registered by the test gets a readout row, plot
marks, the Go/Export choice and the exports with no other change; a new viewing condition makes every prediction out
of date at once and predicts them all again (SG-JND included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PIL import Image

from jndviewer.core.codecs import create_codec
from jndviewer.core.image import load
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.report import read_results
from tests.toy_predictor import TOY_INFO, ToyPredictor, noisy_rgb

ALL = {"visibility", "sgjnd", "toy"}


@pytest.fixture
def noisy(tmp_path: Path) -> Path:
    """A gradient with a noisy patch whose JPEG PSNR crosses the toy's 27 dB between quality 10 and 20."""
    path = tmp_path / "noisy.png"
    Image.fromarray(noisy_rgb()).save(path)
    return path


def test_a_registered_predictor_shows_everywhere(make_window, qtbot, idle, noisy, sgjnd_weights, monkeypatch,
                                                 tmp_path):  # fmt: skip
    monkeypatch.setitem(PREDICTORS, TOY_INFO.name, TOY_INFO)
    window = make_window(noisy, jnd_model="chou1995", threshold=1.5)
    session = window.session
    qtbot.waitUntil(lambda: set(session.predictions.results) == ALL, timeout=120_000)
    idle(window)
    toy = session.predictions.results["toy"]
    expected = ToyPredictor().predict(load(noisy), create_codec("jpeg"))
    assert (toy.predictor, toy.level, toy.trace) == ("toy", expected.level, expected.trace)
    assert 10 < toy.level <= 20

    readouts = window.readouts
    assert readouts.title("pwjnd:toy") == "PW-JND (toy)" and readouts.title("here:toy") == "toy here"
    assert readouts.text("pwjnd:toy") == readouts.summary(toy, "quality")
    assert readouts.text("pwjnd:toy").endswith("· 38 ppd, side by side")

    marks = window.plots.marks["toy"]
    assert [line.value() for line in marks.lines] == [toy.level, toy.level] and all(m.isVisible() for m in marks.lines)
    assert marks.lines[0].label.toPlainText() == f"toy {toy.level}"
    assert sorted(int(x) for x in marks.trace.data["x"]) == sorted(toy.trace)
    assert marks.trace in window.plots.logit_view.addedItems  # its score is a logit: the right axis
    assert "toy" in window.plots.vis.getAxis("right").labelText

    window.state.level = toy.trace[0]
    qtbot.waitUntil(lambda: session.frame is not None and session.frame.level == toy.trace[0], timeout=30_000)
    idle(window)
    first = toy.records[0]
    assert readouts.text("here:toy") == f"logit {first.score:+.2f} → {'visible' if first.visible else 'not visible'}"
    skipped = next(level for level in range(1, 101) if level not in toy.trace)
    window.state.level = skipped
    qtbot.waitUntil(lambda: session.frame is not None and session.frame.level == skipped, timeout=30_000)
    idle(window)
    assert readouts.text("here:toy") == "not visited"  # not a bare dash

    combo = window.controls.go_predictor_combo
    assert combo.itemText(combo.findData("toy")) == "toy (PSNR test)"
    combo.setCurrentIndex(combo.findData("toy"))
    assert window.state.go_predictor == "toy" and readouts.title("search") == "Search (toy)"
    search = readouts.text("search")
    assert search.startswith(f"{toy.encodes} encodes in ") and "bisection for 38 ppd, side by side" in search
    window.controls.go_button.click()
    assert window.state.level == toy.level
    (back,) = read_results(window.export_results(tmp_path / "results.json"))
    assert (back.predictor, back.level, back.trace, back.condition) == ("toy", toy.level, toy.trace,
                                                                        {"ppd": 38.0, "task": "side-by-side"})
    target = tmp_path / "noisy.jnd.jpg"
    with qtbot.waitSignal(window.export_done, timeout=20_000):
        window.export_at_jnd(target)
    sidecar = json.loads(target.with_name(target.name + ".json").read_text())
    assert (sidecar["pwjnd"]["predictor"], sidecar["pwjnd"]["level"]) == ("toy", toy.level)

    # A new viewing condition: no readout keeps an old value, every predictor runs again for it, and the toy, which
    # cannot take the distance into account, says so in one sentence.
    generation = session.predictions.runners["sgjnd"].generation
    window.state.ppd = 60.0
    assert {readouts.text(f"pwjnd:{name}") for name in ALL} == {"predicting…"}
    assert not any(line.isVisible() for name in ALL for line in window.plots.marks[name].lines)
    qtbot.waitUntil(lambda: {"visibility", "sgjnd"} <= set(session.predictions.results)
                    and "toy" in session.predictions.errors, timeout=120_000)  # fmt: skip
    idle(window)
    results = session.predictions.results
    assert session.predictions.runners["sgjnd"].generation > generation
    assert results["sgjnd"].condition == results["visibility"].condition == {"ppd": 60.0, "task": "side-by-side"}
    # the tiny test network learnt at 38 ppd only: at 60 its PW-JND is marked and says why
    assert readouts.text("pwjnd:sgjnd").endswith("· 60 ppd, side by side · ⚠")
    assert results["sgjnd"].params["caveats"] == [
        "The SG-JND network was trained on labels at 38 ppd; at 60 ppd its PW-JND is an extrapolation, untested."]
    assert readouts.text("pwjnd:visibility").endswith("· 60 ppd, side by side")
    assert readouts.text("pwjnd:toy") == (
        "The toy predictor cannot take the viewing distance (ppd) into account; predict for the default viewing "
        "condition (38 ppd, side by side) or choose another predictor."
    )
    assert readouts.labels["pwjnd:toy"].styleSheet() == "color: #c62828;"
    assert "toy" not in results and not window.controls.go_button.isEnabled()  # toy is still the Go/Export choice
