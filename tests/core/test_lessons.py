"""The lessons' numbers come from the core models: each figure is checked against the model functions it shows."""

from __future__ import annotations

import html
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PilImage

from jndviewer.core.errors import JndViewerError
from jndviewer.core.jnd import create_model, ops
from jndviewer.core.lessons import LESSONS, LessonContext, get_lesson
from jndviewer.core.lessons.handout import build_handout, write_handout
from jndviewer.core.lessons.noise_lesson import inject, random_signs
from jndviewer.core.lessons.pixel_lessons import PIXEL_MODELS, luminance_adaptation_curves
from jndviewer.core.lessons.render import SLIDE_SIZE, figure_png
from jndviewer.core.lessons.viewing_lessons import (
    CURVE_LEVELS,
    band_visibilities,
    calibrated,
    csf,
    jpeg,
    subband,
)
from jndviewer.core.metrics import psnr
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition


@pytest.fixture(scope="module")
def context() -> LessonContext:
    """The sample image reduced to 320 pixels (MS-SSIM's five scales still fit), without the user's study results."""
    return LessonContext(max_side=320, study_database=Path("/nonexistent/study.sqlite"))


# --------------------------------------------------------------------------------------------------------------------
# Luminance adaptation
# --------------------------------------------------------------------------------------------------------------------

SAMPLED_BACKGROUNDS = (0, 10, 31, 32, 64, 100, 127, 128, 180, 255)


def test_plotted_la_curves_equal_each_whole_model_at_sampled_backgrounds(context: LessonContext) -> None:
    figure = get_lesson("luminance_adaptation").figure(context)
    plot = figure.plot("Luminance adaptation")
    flat = torch.tensor(SAMPLED_BACKGROUNDS, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 16, 16).contiguous()
    for name in PIXEL_MODELS:
        series = plot.find(name)
        assert series.x.tolist() == list(range(256))
        whole = create_model(name)(flat).components["luminance_adaptation"][:, 0, 8, 8].double().numpy()
        np.testing.assert_allclose(series.y[list(SAMPLED_BACKGROUNDS)], whole, rtol=1e-6, atol=1e-5)


def test_la_curves_follow_chou_and_li_and_the_wu_remap() -> None:
    curves = luminance_adaptation_curves()
    levels = torch.arange(256, dtype=torch.float64)
    chou = ops.luminance_adaptation_curve(levels).numpy()
    np.testing.assert_allclose(curves["chou1995"], chou, atol=1e-4)
    np.testing.assert_allclose(curves["yang2005"], chou, atol=1e-4)
    assert curves["chou1995"][0] == pytest.approx(20.0) and curves["chou1995"][255] == pytest.approx(6.0)
    assert curves["wu2017"][128] == pytest.approx(0.7 * curves["chou1995"][128], rel=1e-5)  # docs/jnd_models.md §6
    assert curves["wu2013"][0] == pytest.approx(curves["chou1995"][32], rel=1e-5)  # dark remap: 0 -> 32
    assert int(np.argmin(curves["chou1995"])) == 127


def test_la_lesson_marks_the_background_and_reads_the_thresholds_there(context: LessonContext) -> None:
    lesson = get_lesson("luminance_adaptation")
    figure = lesson.figure(context, {"background": 200, "amplitude": 5.0, "model": "wu2017"})
    curves = luminance_adaptation_curves()
    assert figure.numbers["thresholds"] == {name: pytest.approx(curves[name][200]) for name in PIXEL_MODELS}
    marks = figure.plot("Luminance").marks
    assert [m.value for m in marks] == [200, 5.0] and marks[0].vertical and not marks[1].vertical
    # wu2017's curve (8.03 at 0, 2.12 at 128, 4.2 at 255) is at or above 5 only on dark backgrounds
    last = int(np.flatnonzero(curves["wu2017"] >= 5.0)[-1])
    assert figure.numbers["hidden"]["wu2017"] == f"0-{last}" and 40 < last < 70
    first = int(np.flatnonzero(curves["chou1995"][128:] >= 5.0)[0]) + 128
    assert figure.numbers["hidden"]["chou1995"].endswith(f"and {first}-255")
    stimulus = figure.picture("A stripe").pixels[..., 0].astype(int)
    assert stimulus[stimulus.shape[0] // 2, 256] - stimulus[5, 256] == 5  # the stripe is the amplitude brighter
    # the amplitude opens at the chosen model's threshold, rounded to half a gray level
    default = lesson.figure(context, {"background": 64})
    assert default.numbers["amplitude"] == round(2 * curves["chou1995"][64]) / 2


# --------------------------------------------------------------------------------------------------------------------
# Masking and complexity
# --------------------------------------------------------------------------------------------------------------------


def test_masking_boxes_are_the_least_and_most_masked_regions(context: LessonContext) -> None:
    figure = get_lesson("masking").figure(context, {"model": "yang2005", "amplitude": 8})
    masking = context.jnd_component("yang2005", "texture_masking")
    (fx, fy), (tx, ty) = figure.numbers["boxes"]
    side = figure.picture("The same").boxes[0].width
    flat, textured = masking[fy : fy + side, fx : fx + side].mean(), masking[ty : ty + side, tx : tx + side].mean()
    assert flat < textured
    assert flat == pytest.approx(masking.min(), abs=0.5)
    threshold = context.jnd_component("yang2005")
    assert figure.numbers["threshold"]["flat"] == pytest.approx(threshold[fy : fy + side, fx : fx + side].mean())
    assert figure.numbers["ratio"]["flat"] > figure.numbers["ratio"]["textured"]
    noisy = figure.picture("The same").pixels[..., 0].astype(float)
    reference = context.gray_rgb()[..., 0].astype(float)
    outside = np.ones_like(noisy, dtype=bool)
    for x, y in figure.numbers["boxes"]:
        outside[y : y + side, x : x + side] = False
    assert np.array_equal(noisy[outside], reference[outside])  # noise only inside the two boxes


def test_disorderly_texture_gets_a_higher_jnd_than_an_orderly_one_of_equal_contrast(context: LessonContext) -> None:
    figure = get_lesson("complexity").figure(context, {"source": "generated", "contrast": 20})
    orderly, disorderly = figure.numbers["orderly"], figure.numbers["disorderly"]
    assert orderly["pattern_complexity"] < 2.0 < 5.0 < disorderly["pattern_complexity"]
    assert disorderly["wu2017"] > 2 * orderly["wu2017"]
    assert disorderly["disorder"] > orderly["disorder"] + 3
    image = get_lesson("complexity").figure(context, {"source": "image"})
    assert image.numbers["orderly"]["pattern_complexity"] < image.numbers["disorderly"]["pattern_complexity"]


# --------------------------------------------------------------------------------------------------------------------
# Shaped vs flat noise
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [26.0, 30.0, 35.5])
def test_shaped_and_flat_noise_have_equal_psnr_and_shaped_noise_scores_better(
    context: LessonContext, target: float
) -> None:
    figure = get_lesson("noise").figure(context, {"psnr": target, "model": "wu2017"})
    reference = context.gray_rgb()[..., 0]
    shaped = figure.picture("Noise shaped").pixels[..., 0]
    flat = figure.picture("Flat noise").pixels[..., 0]
    measured = psnr(reference, shaped), psnr(reference, flat)
    assert abs(measured[0] - measured[1]) < 0.05
    assert measured == (pytest.approx(target, abs=0.02), pytest.approx(target, abs=0.02))
    assert figure.numbers["shaped"]["psnr"] == pytest.approx(measured[0])
    key = figure.numbers["similarity_name"].lower()
    assert figure.numbers["shaped"][key] > figure.numbers["flat"][key]
    assert figure.numbers["shaped"]["visibility"] < figure.numbers["flat"]["visibility"]
    # the shaped noise follows the JND map: its error is larger where the threshold is
    jnd = context.jnd_component("wu2017")
    error = np.abs(shaped.astype(float) - reference)
    high, low = jnd > np.percentile(jnd, 90), jnd < np.percentile(jnd, 10)
    assert error[high].mean() > 2 * error[low].mean()


def test_inject_hits_the_target_and_refuses_a_zero_pattern() -> None:
    rng = np.random.default_rng(1)
    reference = rng.integers(30, 220, size=(64, 64)).astype(np.uint8)
    signs = random_signs(reference.shape)
    result = inject(reference, signs, 28.0)
    assert result.psnr == pytest.approx(28.0, abs=0.01) and psnr(reference, result.distorted) == result.psnr
    assert result.scale == pytest.approx(math.sqrt(255.0**2 / 10**2.8), rel=0.05)
    with pytest.raises(JndViewerError):
        inject(reference, np.zeros((64, 64)), 28.0)


def test_toggle_shows_one_noise_at_a_time(context: LessonContext) -> None:
    lesson = get_lesson("noise")
    assert [p.title.split(",")[0] for p in lesson.figure(context, {"show": "flat"}).panels] == [
        "Flat noise (the same everywhere)"
    ]
    with pytest.raises(JndViewerError):
        lesson.figure(context, {"show": "loud"})


# --------------------------------------------------------------------------------------------------------------------
# Viewing distance and task
# --------------------------------------------------------------------------------------------------------------------


def test_band_visibilities_are_the_terms_of_the_subband_map(context: LessonContext) -> None:
    model = subband(context, 38.0)
    from jndviewer.core.image import rgb_to_luma

    distorted = rgb_to_luma(jpeg(context, 20).decoded)
    bands = band_visibilities(model, distorted)
    total = torch.zeros(1, 1, *context.luma().shape, dtype=torch.float64)
    for band in bands:
        tensor = torch.from_numpy(band)[None, None]
        if tensor.shape[-2:] != total.shape[-2:]:
            tensor = torch.nn.functional.interpolate(tensor, size=total.shape[-2:], mode="bilinear",
                                                     align_corners=False)  # fmt: skip
        total += tensor
    direct = model.visibility(torch.from_numpy(distorted.astype(np.float32))[None, None]).double()
    np.testing.assert_allclose(total.numpy(), direct.numpy(), rtol=1e-4, atol=1e-5)  # beta = 1


def test_csf_is_the_model_band_sensitivity_and_bands_sit_at_ppd_over_powers_of_two(context: LessonContext) -> None:
    model = subband(context, 60.0)
    frequencies = np.array([model.band_frequency(k) for k in range(model.bands)])
    np.testing.assert_allclose(frequencies, 60.0 / 2.0 ** (np.arange(model.bands) + 1))
    np.testing.assert_allclose(csf(frequencies), [model.band_sensitivity(k) for k in range(model.bands)], rtol=1e-9)
    figure = get_lesson("distance").figure(context, {"ppd": 60, "quality": 30})
    assert [m.value for m in figure.plot("Contrast sensitivity").marks] == pytest.approx(frequencies.tolist())
    assert figure.numbers["bands"] == pytest.approx(frequencies.tolist())
    peak = figure.numbers["csf"][0][int(np.argmax(figure.numbers["csf"][1]))]
    assert peak == pytest.approx(model.params.peak_frequency, rel=0.05)


def test_stepping_back_puts_fewer_bands_over_threshold(context: LessonContext) -> None:
    lesson = get_lesson("distance")
    near = lesson.figure(context, {"ppd": 20, "quality": 20}).numbers["band_visibility"]
    far = lesson.figure(context, {"ppd": 150, "quality": 20}).numbers["band_visibility"]
    assert sum(v > 1 for v in far) < sum(v > 1 for v in near)
    assert max(far) < max(near)


def test_task_curves_are_the_predictor_scores_over_its_calibrated_thresholds(context: LessonContext) -> None:
    from jndviewer.core.visibility.scorer import VisibilityScorer

    figure = get_lesson("task").figure(context, {"level": 40, "ppd": 38})
    plot = figure.plot("Pooled visibility")
    for task in (SIDE_BY_SIDE, FLICKER):
        params, threshold = calibrated(task, 38.0)
        scorer = VisibilityScorer(context.rgb, params, ViewingCondition(38.0, task))
        series = plot.find(task.replace("-", " "))
        assert series.x.tolist() == list(CURVE_LEVELS)
        for index in (0, 5, 12):
            expected = scorer.score(jpeg(context, CURVE_LEVELS[index]).decoded) / threshold
            assert series.y[index] == pytest.approx(expected, rel=1e-9)
    side, flicker = figure.numbers[SIDE_BY_SIDE], figure.numbers[FLICKER]
    assert flicker["threshold"] < side["threshold"]  # flicker is the more sensitive task
    assert flicker["pwjnd"] > side["pwjnd"]


def test_task_pwjnd_is_the_predictor_result_on_a_fresh_ladder(context: LessonContext) -> None:
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor

    figure = get_lesson("task").figure(context, {"view": "flicker"})
    fresh = PooledVisibilityPredictor(condition=ViewingCondition(38.0, FLICKER)).predict(context.rgb,
                                                                                         create_codec("jpeg"))
    assert figure.numbers[FLICKER]["pwjnd"] == fresh.level
    flicker = figure.picture("Flicker")
    assert flicker.alternate is not None and np.array_equal(flicker.alternate, context.rgb)


# --------------------------------------------------------------------------------------------------------------------
# PW-JND and SUR
# --------------------------------------------------------------------------------------------------------------------


def test_pwjnd_lesson_replays_the_block_search_step_by_step(context: LessonContext) -> None:
    lesson = get_lesson("pwjnd")
    full = lesson.figure(context)
    trace = full.numbers["trace"]
    assert 3 <= len(trace) <= 13
    rate = full.plot("Rate")
    height, width = context.rgb.shape[:2]
    for index in (0, 10, -1):
        level = int(rate.series[0].x[index])
        assert rate.series[0].y[index] == pytest.approx(8 * jpeg(context, level).nbytes / (height * width))
    three = lesson.figure(context, {"step": 3})
    points = three.plot("The block search").find("search steps")
    assert points.x.tolist() == trace[:3] and points.point_labels == ("1", "2", "3")
    visible = full.numbers["decisions"][:3]
    assert [c == "#d62728" for c in points.point_colours] == visible
    assert "step 3 of" in three.plot("The block search").title
    assert not any(m.label.startswith("PW-JND") for m in three.plot("The block search").marks)
    assert any("No study results" in line for line in full.readout)


def test_pwjnd_lesson_draws_the_sur_curve_of_a_study(tmp_path: Path) -> None:
    from jndviewer.core.study.model import TEST, StudyItem
    from jndviewer.core.study.store import StudyStore
    from tests.core.test_study_results import CRITICAL, LEVELS, add_session, textured_png

    item = StudyItem("face", str(textured_png(tmp_path / "face.png")), "jpeg", LEVELS, "higher", "src-face")
    with StudyStore(tmp_path / "study.sqlite") as store:
        for observer, critical in CRITICAL.items():
            add_session(store, observer, [(item, TEST, critical, None)])
    context = LessonContext(max_side=192, study_database=tmp_path / "study.sqlite")
    figure = get_lesson("pwjnd").figure(context)
    sur = figure.plot("Satisfied-user ratio")
    observed = dict(zip(sur.find("observed").x.tolist(), sur.find("observed").y.tolist(), strict=True))
    assert [observed[level] for level in (20, 24, 28, 32, 36, 40)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert figure.numbers["sur"]["mean"] == pytest.approx(28.0)


# --------------------------------------------------------------------------------------------------------------------
# Every lesson: content, controls, rendering, handout
# --------------------------------------------------------------------------------------------------------------------


def test_every_lesson_has_its_parts_and_checks_its_controls() -> None:
    assert list(LESSONS) == ["luminance_adaptation", "masking", "complexity", "noise", "distance", "task", "pwjnd"]
    for lesson in LESSONS.values():
        assert 3 <= len(lesson.sentences) <= 6 and 1 <= len(lesson.try_this) <= 2
        assert lesson.formula and re.search(r"(19|20)\d\d", lesson.citation)
        for control in lesson.controls:
            if control.kind == "slider":
                assert control.check(control.maximum + 100) == control.maximum
    with pytest.raises(JndViewerError, match="no control"):
        get_lesson("masking").values({"loudness": 3})
    with pytest.raises(JndViewerError, match="no lesson"):
        get_lesson("optics")


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_lesson_renders_at_handout_and_slide_size(context: LessonContext, name: str) -> None:
    lesson = LESSONS[name]
    figure = lesson.figure(context)
    assert figure.panels and figure.readout
    for size in ((1400, 560), SLIDE_SIZE):
        png = figure_png(figure, size, title=lesson.title, readout=True, font_scale=size[0] / 1200)
        with PilImage.open(io.BytesIO(png)) as image:
            assert image.size == size
            pixels = np.asarray(image.convert("L"))
            assert pixels.std() > 10  # something is drawn


def test_handout_contains_every_lesson_with_its_figure(context: LessonContext, tmp_path: Path) -> None:
    written = write_handout(context, list(LESSONS.values()), tmp_path / "handout.html")
    text = written.read_text(encoding="utf-8")
    for lesson in LESSONS.values():
        assert f'<section id="{lesson.name}"><h2>{lesson.title}</h2>' in text
        assert html.escape(lesson.citation) in text and html.escape(lesson.formula) in text
    assert text.count('src="data:image/png;base64,') == len(LESSONS)
    assert "http://" not in text and "https://" not in text  # self-contained
    with pytest.raises(JndViewerError, match="folder"):
        write_handout(context, [], tmp_path)
    assert "1 lesson on" in build_handout(context, [get_lesson("masking")])


def test_context_reduces_large_images_and_refuses_tiny_ones() -> None:
    rgb = np.zeros((1000, 2000, 3), np.uint8)
    context = LessonContext(rgb, max_side=500)
    assert context.rgb.shape == (250, 500, 3) and context.reduced and context.original_size == (2000, 1000)
    with pytest.raises(JndViewerError):
        LessonContext(np.zeros((10, 10, 3), np.uint8))


def test_cli_writes_a_handout_and_slides_and_lists_the_lessons(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from jndviewer.cli import main

    image = tmp_path / "crop.png"
    PilImage.fromarray(LessonContext(max_side=200).rgb).save(image)
    assert main(["lessons", "--list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("luminance_adaptation")
    output = tmp_path / "handout.html"
    assert main(["lessons", str(image), "-o", str(output), "--lesson", "masking", "--slides", str(tmp_path / "s")]) == 0
    text = output.read_text(encoding="utf-8")
    assert '<section id="masking">' in text and '<section id="noise">' not in text and "crop.png" in text
    with PilImage.open(tmp_path / "s" / "01_masking.png") as slide:
        assert slide.size == SLIDE_SIZE
    assert main(["lessons", str(image), "-o", str(output), "--lesson", "optics"]) == 2
    assert "no lesson 'optics'" in capsys.readouterr().err
