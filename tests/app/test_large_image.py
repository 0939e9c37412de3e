"""Very large images in the explorer, on a scaled-down stand-in: a 1200x900 image with the preview budget at 0.5 MP
(so a preview at 1/2 scale, 600x450), as a 12000x9000 image is with the real 24 MP budget (1/3 scale).

``benchmarks/bench_large_image.py`` measures the real size."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PIL import Image

from jndviewer.app import jobs
from jndviewer.app.modes import CompareMode
from jndviewer.core import preview, views

WIDTH, HEIGHT, BUDGET = 1200, 900, 500_000
PREVIEW_SHAPE = (450, 600, 3)  # 1/2 scale
PPD = 38.0


@pytest.fixture
def large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A noise-and-gradient 1200x900 PNG, with the preview budget lowered to 0.5 MP for the test."""
    monkeypatch.setattr(preview, "PREVIEW_MAX_PIXELS", BUDGET)
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = np.stack([40 + 0.15 * x, 60 + 0.15 * y, 200 - 0.1 * x], axis=-1) + rng.normal(0, 18, (HEIGHT, WIDTH, 3))
    path = tmp_path / "large.png"
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


class Gate:
    """Holds the heavy whole-image jobs until released, recording what they were asked to work on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.calls: dict[str, list[tuple[Any, ...]]] = {"jnd": [], "curve": [], "predict": []}
        for name, attribute in (("jnd", "jnd_job"), ("curve", "curve_job"), ("predict", "predict_job")):
            monkeypatch.setattr(jobs, attribute, self._held(name, getattr(jobs, attribute)))

    def _held(self, name: str, job: Any) -> Any:
        def held(context: Any, *args: Any) -> Any:
            self.calls[name].append(args)
            while not self.open.wait(0.02):
                context.check()
            return job(context, *args)

        return held


def open_large(make_window: Any, qtbot: Any, path: Path, **state: Any) -> Any:
    window = make_window(path, jnd_model="chou1995", threshold=1.5, ppd=PPD, **state)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=60_000)
    return window


def test_the_first_frame_shows_before_the_heavy_jobs_which_run_on_the_preview(make_window, qtbot, idle, large,
                                                                                monkeypatch) -> None:  # fmt: skip
    gate = Gate(monkeypatch)
    window = open_large(make_window, qtbot, large)
    session, canvas = window.session, window.canvas
    # The reference and the level shown are there, at full resolution, while the JND map, the curve and the
    # predictions have not finished (they are held).
    assert canvas.reference.shape == (HEIGHT, WIDTH, 3)
    assert session.frame.rgb.shape == (HEIGHT, WIDTH, 3)
    assert np.shares_memory(canvas.displayed()["b"], session.frame.rgb)
    assert session.jnd is None and session.curve == {} and not session.predictions.results
    qtbot.waitUntil(lambda: bool(gate.calls["jnd"] and gate.calls["curve"]), timeout=30_000)  # both pool threads
    assert session.busy and session.predictions.busy
    gate.open.set()
    idle(window)

    assert session.scale == 2
    rgb, _, condition, *_, scale = gate.calls["jnd"][0]
    assert rgb.shape == PREVIEW_SHAPE and condition.ppd == PPD and scale == 2  # the job scales the ppd itself
    jnd = session.jnd
    assert jnd.threshold.shape == PREVIEW_SHAPE[:2] and jnd.scorer.condition.ppd == PPD / 2
    ladder, analysed = session.ladder, session.analysed_ladder
    assert ladder.reference.shape == (HEIGHT, WIDTH, 3) and analysed.reference.shape == PREVIEW_SHAPE
    assert np.shares_memory(ladder.reference, session.loaded.rgb)  # the full-size ladder does not copy the image
    # Each level is the full-resolution encode: its bytes and bpp are the full image's, its pixels reduced as the
    # preview was, and judged on the preview; the curve samples 21 of the 100 levels (each a full-size encode).
    levels = session.ladder_info.curve_levels
    assert gate.calls["curve"][0][0] is analysed and len(levels) == 21 and sorted(session.curve) == sorted(levels)
    level = levels[10]
    full, reduced = ladder.rung(level), analysed.rung(level)
    assert reduced.nbytes == full.nbytes and reduced.bpp == full.bpp == 8 * full.nbytes / (WIDTH * HEIGHT)
    np.testing.assert_array_equal(reduced.decoded, preview.downscale(full.decoded, 2))
    point = session.curve[level]
    assert point["bpp"] == full.bpp and point["score"] == pytest.approx(jnd.scorer.score(reduced.decoded))
    assert point["psnr"] == pytest.approx(reduced.psnr)
    result = session.predictions.results["visibility"]
    calls = {call[0]: call for call in gate.calls["predict"]}
    assert calls["visibility"][3] is analysed and calls["visibility"][-1] == 2  # judged at ppd / 2
    # SG-JND judges patches: the full-resolution encodes at the state's ppd (its weights are missing here)
    assert calls["sgjnd"][3] is session.patch_ladder and calls["sgjnd"][-1] == 1
    assert session.patch_ladder.reference.shape == (HEIGHT, WIDTH, 3)
    assert result.condition["ppd"] == PPD / 2 and result.nbytes == ladder.rung(result.level).nbytes
    assert result.bpp == ladder.rung(result.level).bpp
    # the same prediction as by hand: the full-size encodes, reduced, judged at ppd / 2
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.ladder import Ladder
    from jndviewer.core.pwjnd.registry import PREDICTORS, create_predictor
    from jndviewer.core.viewing import ViewingCondition

    predictor = create_predictor(PREDICTORS["visibility"], session.predictor_options("visibility"),
                                 condition=ViewingCondition(ppd=PPD / 2))  # fmt: skip
    with Ladder(session.loaded.rgb, create_codec("jpeg")) as by_hand:
        encodes = preview.ReducedEncodes(by_hand, 2)
        with Ladder(session.loaded.preview, encodes) as reduced_ladder:
            direct = predictor.predict(session.loaded.preview, reduced_ladder)
    assert (direct.level, direct.nbytes) == (result.level, result.nbytes)


def test_every_number_says_its_scale(make_window, qtbot, idle, large) -> None:
    window = open_large(make_window, qtbot, large, mode=CompareMode.VISIBILITY)
    idle(window)
    readouts, session = window.readouts, window.session
    words = "preview at 1/2 scale"
    note = readouts.text("scale")
    assert "1200×900 is over 0.5 MP: every level is encoded at full resolution" in note and "600×450" in note
    assert words in note and "38 → 19 ppd" in note and "finer than 2 pixels" in note and "samples 21 levels" in note
    assert not readouts.labels["scale"].isHidden()
    summary = readouts.text("pwjnd:visibility")
    assert "19 ppd, side by side" in summary and summary.endswith(f" · judged on a {words}")
    assert "preview" not in readouts.text("size") and "preview" not in readouts.text("saving")  # full-size bytes
    assert readouts.text("psnr").endswith(f"({words})") and readouts.text("search").endswith(f"judged on a {words}")
    info = session.ladder_info
    assert window.state.level in info.curve_levels  # it opens on a level the curve samples (76, not 75)
    skipped = next(level for level in info.ordered if level not in info.curve_levels)
    window.state.level = skipped
    qtbot.waitUntil(lambda: session.frame.level == skipped, timeout=30_000)
    idle(window)
    assert readouts.text("current").endswith(" bpp at full resolution")  # no PSNR where the curve has none
    assert readouts.text("visibility").startswith("pooled: not swept (the curve samples 21 of 100 levels); ")
    sampled = info.curve_levels[15]
    window.state.level = sampled
    qtbot.waitUntil(lambda: session.frame.level == sampled, timeout=30_000)
    idle(window)
    current = readouts.text("current")
    assert " bpp at full resolution; PSNR " in current and current.endswith(f"({words})")
    assert readouts.text("visibility").endswith(f"({words})")
    assert f"PSNR and visibility: {words}" in window.plots.rate.titleLabel.text
    assert window.canvas.titles["B"].endswith("· full resolution")
    assert words in window.canvas.pane_a.header.text()  # the visibility map's header
    assert "preview at 1/2 scale" in window.pixel_readout(10, 10)
    assert f"chou1995, {words}" in readouts.text("times")
    assert window.full_resolution_action.isEnabled()


def test_sgjnd_judges_full_resolution_patches_at_the_real_ppd(make_window, qtbot, idle, large,
                                                              sgjnd_weights) -> None:  # fmt: skip
    window = open_large(make_window, qtbot, large)
    idle(window)
    session, readouts = window.session, window.readouts
    result = session.predictions.results["sgjnd"]
    assert (result.width, result.height) == (WIDTH, HEIGHT) and result.condition["ppd"] == PPD
    assert result.nbytes == session.ladder.rung(result.level).nbytes
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.registry import PREDICTORS, create_predictor
    from jndviewer.core.viewing import ViewingCondition

    direct = create_predictor(PREDICTORS["sgjnd"], {}, condition=ViewingCondition(ppd=PPD)).predict(
        session.loaded.rgb, create_codec("jpeg"))  # fmt: skip
    assert (direct.level, direct.nbytes) == (result.level, result.nbytes)
    assert "preview" not in readouts.text("pwjnd:sgjnd") and "38 ppd" in readouts.text("pwjnd:sgjnd")
    assert readouts.text("pwjnd:visibility").endswith("judged on a preview at 1/2 scale")
    assert "SG-JND and VP-JNDnet judge full-resolution patches at 38 ppd" in readouts.text("scale")
    window.state.go_predictor = "sgjnd"  # its details: no preview either
    assert "preview" not in readouts.text("psnr") + readouts.text("search")


def test_an_image_under_the_budget_has_no_preview(make_window, qtbot, idle, photo) -> None:
    window = make_window(photo, jnd_model="chou1995", threshold=1.5)
    idle(window)
    session = window.session
    assert session.scale == 1 and session.loaded.preview is None and session.analysed_ladder is session.ladder
    assert window.readouts.labels["scale"].isHidden() and "preview" not in window.readouts.text("pwjnd:visibility")
    assert not window.full_resolution_action.isEnabled() and not window.full_resolution.request()


def test_full_resolution_is_computed_on_demand_for_the_region_in_view(make_window, qtbot, idle, large) -> None:
    window = open_large(make_window, qtbot, large, mode=CompareMode.VISIBILITY)
    idle(window)
    session, canvas, full = window.session, window.canvas, window.full_resolution
    assert full.maps is None and full.shown_region() is None  # fitted: nothing without being asked
    from PySide6.QtCore import QRectF

    canvas.show_region(QRectF(300, 200, 400, 300))
    window.full_resolution_action.trigger()
    qtbot.waitUntil(lambda: full.shown_region() is not None, timeout=60_000)
    maps = full.maps
    x, y, w, h = maps.region
    assert x <= 300 and y <= 200 and x + w >= 700 and y + h >= 500 and w * h < WIDTH * HEIGHT
    # the region's own JND map at the state's condition (not ppd / 2), and the visibility of the full-resolution
    # encode of the level shown there, exactly as computed directly on the crop
    assert maps.jnd.scorer.condition.ppd == PPD and maps.jnd.threshold.shape == (h, w)
    crop = np.ascontiguousarray(session.loaded.rgb[y : y + h, x : x + w])
    direct = views.compute_jnd(crop, session.predictor_params(), session.condition(), {}, "cpu", "chou1995")
    np.testing.assert_array_equal(maps.jnd.threshold, direct.threshold)
    decoded = np.ascontiguousarray(session.frame.rgb[y : y + h, x : x + w])
    np.testing.assert_allclose(maps.visibility.values, views.visibility_view(0, decoded, direct).values, rtol=1e-6)
    assert maps.level == session.frame.level
    layer = full.layer
    assert layer.visible and np.shares_memory(layer.item.image, maps.visibility.colors)
    assert layer.label.textItem.toPlainText() == "full resolution"
    assert "preview at 1/2 scale, full resolution inside the dashed outline" in canvas.pane_a.header.text()
    inside = window.pixel_readout(x + w // 2, y + h // 2)
    assert inside.endswith("(full resolution)") and "preview" not in inside
    assert "preview at 1/2 scale" in window.pixel_readout(x + w + 5 if x + w + 5 < WIDTH else x - 5, 5)

    # It follows the level shown (its JND map kept), and a new JND map (a new region map).
    session.step_level(-10)
    qtbot.waitUntil(lambda: full.maps.level == session.state.level and full.shown_region() is not None,
                    timeout=60_000)  # fmt: skip
    assert full.maps.jnd is maps.jnd
    window.state.mode = CompareMode.JND
    qtbot.waitUntil(lambda: full.layer.visible and full.layer.under.isVisible(), timeout=30_000)
    window.state.ppd = 40.0
    qtbot.waitUntil(lambda: full.maps.jnd_serial == session.jnd_serial and full.maps.jnd.scorer.condition.ppd == 40.0,
                    timeout=60_000)  # fmt: skip
    idle(window)


def test_full_resolution_comes_by_itself_at_100_percent(make_window, qtbot, idle, large) -> None:
    window = open_large(make_window, qtbot, large, mode=CompareMode.JND)
    idle(window)
    full = window.full_resolution
    window.canvas.one_to_one()
    qtbot.waitUntil(lambda: full.shown_region() is not None, timeout=60_000)
    x, y, w, h = full.maps.region
    view = window.canvas.pane_a.view.viewRect()
    assert x <= max(0, view.left()) and y <= max(0, view.top())
    assert x + w >= min(WIDTH, view.right()) and y + h >= min(HEIGHT, view.bottom())
    assert full.layer.under.isVisible() and full.layer.item.opacity() == pytest.approx(window.state.overlay_opacity)
    window.canvas.fit()  # the region stays; a new image clears it
    window.open_path(large)
    qtbot.waitUntil(lambda: full.maps is None and not full.layer.visible, timeout=30_000)
    idle(window)


def test_the_full_resolution_rung_cache_stays_bounded(make_window, qtbot, idle, large) -> None:
    window = open_large(make_window, qtbot, large)
    idle(window)
    session = window.session
    ladder = session.ladder
    limit = ladder.cache_info().limit
    assert limit == int(preview.full_resolution_cache_megabytes(HEIGHT, WIDTH) * 2**20)
    for level in (10, 20, 30, 40, 50, 60):
        session.state.level = level
        qtbot.waitUntil(lambda level=level: session.frame is not None and session.frame.level == level,
                        timeout=30_000)  # fmt: skip
        info = ladder.cache_info()
        assert info.bytes <= limit and len(ladder.cached_levels()) <= preview.FULL_RESOLUTION_RUNGS
        assert ladder.prefetch(level) == ()  # no neighbours are encoded ahead
    idle(window)
    assert ladder.cached_levels() == (50, 60)


def test_a_preview_below_5_ppd_is_refused_in_one_sentence(make_window, qtbot, idle, large) -> None:
    window = open_large(make_window, qtbot, large)
    idle(window)
    window.state.ppd = 8.0  # the preview at 1/2 scale would be seen at 4 ppd
    qtbot.waitUntil(lambda: "below the 5 ppd" in window.readouts.text("pwjnd:visibility"), timeout=30_000)
    assert "set at least 10 ppd for this image" in window.readouts.text("pwjnd:visibility")
    idle(window)
