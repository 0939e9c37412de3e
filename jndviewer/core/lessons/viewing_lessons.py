"""Lessons on how the images are viewed: the viewing distance (contrast sensitivity per band) and the viewing task
(flicker or side by side), both through the training-free predictor's subband model and calibrated thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from jndviewer.core.colormap import visibility_colors
from jndviewer.core.lessons.model import (
    INVISIBLE_COLOUR,
    SERIES_COLOURS,
    VISIBLE_COLOUR,
    Control,
    Lesson,
    LessonContext,
    LessonFigure,
    Mark,
    Picture,
    Plot,
    Series,
)
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASK_WORDS, TASKS, ViewingCondition

#: The JPEG levels at which the lessons sample the pooled visibility (the explorer's curve samples 21 levels too).
CURVE_LEVELS = (1, *range(5, 101, 5))
#: The share of a band's pixels a teacher may ignore: a band counts as visible when its 99th percentile is over 1.
BAND_PERCENTILE = 99.0


# --------------------------------------------------------------------------------------------------------------------
# Shared: JPEG encodes, the subband model, the calibrated thresholds
# --------------------------------------------------------------------------------------------------------------------


def jpeg_ladder(context: LessonContext) -> Any:
    """The lesson image's JPEG 4:2:0 :class:`~jndviewer.core.ladder.Ladder`, shared by every lesson and prediction
    on it (no prefetch, so no worker thread; its rungs stay cached)."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.ladder import Ladder

    return context.cached("jpeg_ladder", lambda: Ladder(context.rgb, create_codec("jpeg"), prefetch_radius=0))


def jpeg(context: LessonContext, level: int) -> Any:
    """The lesson image's JPEG rung at quality ``level`` (:class:`~jndviewer.core.ladder.rung.Rung`: ``decoded``,
    ``nbytes``, ``bpp``)."""
    return jpeg_ladder(context).rung(int(level))


def subband(context: LessonContext, ppd: float) -> Any:
    """The subband model's reference-side state for the image at ``ppd``."""
    import torch

    from jndviewer.core.visibility.subband import SubbandVisibility

    def make() -> Any:
        return SubbandVisibility(torch.from_numpy(context.luma())[None, None], ViewingCondition(ppd=ppd))

    return context.cached(("subband", round(ppd, 3)), make)


def band_visibilities(model: Any, distorted_luma: np.ndarray) -> list[np.ndarray]:
    """Per band of the subband model, ``|C_k(distorted) - C_k(reference)| / T_k`` at the band's own resolution,
    finest band first (the terms that :meth:`SubbandVisibility.visibility` raises to beta and sums)."""
    import torch

    from jndviewer.core.visibility.subband import band_contrasts, display_luminance

    luma = torch.from_numpy(np.asarray(distorted_luma, dtype=np.float32))[None, None]
    with torch.no_grad():
        contrasts, _ = band_contrasts(display_luminance(luma, model.params), model.bands)
        return [
            (contrast - reference).abs_().div_(threshold)[0, 0].double().numpy()
            for contrast, reference, threshold in zip(contrasts, model.reference_contrasts, model.thresholds,
                                                      strict=True)
        ]  # fmt: skip


@cache
def _csf_model() -> Any:
    import torch

    from jndviewer.core.visibility.subband import SubbandVisibility

    return SubbandVisibility(torch.full((1, 1, 16, 16), 128.0), ViewingCondition())


def csf(frequencies: np.ndarray) -> np.ndarray:
    """The subband model's contrast sensitivity (before the luminance factor) at ``frequencies`` in cycles per
    degree: :meth:`SubbandVisibility.band_sensitivity` at the fractional band whose centre is each frequency."""
    model = _csf_model()
    return np.array([model.band_sensitivity(math.log2(model.ppd / f) - 1.0) for f in np.asarray(frequencies)])


def luminance_factor(gray: float) -> float:
    """The subband model's share of photopic sensitivity left at the luminance a gray level shows on its display."""
    import torch

    from jndviewer.core.visibility.subband import display_luminance

    model = _csf_model()
    luminance = display_luminance(torch.tensor([float(gray)]), model.params)
    return float(model.luminance_factor(luminance)[0])


def calibrated(task: str, ppd: float, codec: str = "jpeg") -> tuple[Any, float]:
    """The training-free predictor's parameters for ``task`` and its calibrated threshold at ``ppd``."""
    from jndviewer.core.pwjnd.calibration import calibrated_threshold
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    params = default_params(None, task)
    return params, calibrated_threshold(params, codec, ViewingCondition(ppd=ppd, task=task))


def task_scorer(context: LessonContext, task: str, ppd: float) -> Any:
    """The predictor's :class:`VisibilityScorer` for the image, ``task`` and ``ppd`` (its task's own pooling)."""
    from jndviewer.core.visibility.scorer import VisibilityScorer

    params, _ = calibrated(task, ppd)
    key = ("scorer", task, round(ppd, 3))
    return context.cached(key, lambda: VisibilityScorer(context.rgb, params, ViewingCondition(ppd=ppd, task=task)))


def visibility_ratio(context: LessonContext, task: str, ppd: float, level: int) -> tuple[float, float]:
    """(pooled visibility, calibrated threshold) of the JPEG level for ``task`` at ``ppd``: visible when the first
    exceeds the second."""
    _, threshold = calibrated(task, ppd)
    key = ("score", task, round(ppd, 3), int(level))
    score = context.cached(key, lambda: task_scorer(context, task, ppd).score(jpeg(context, level).decoded))
    return float(score), float(threshold)


def predicted_level(context: LessonContext, task: str, ppd: float) -> Any:
    """The training-free predictor's :class:`~jndviewer.core.pwjnd.result.PWJND` for the image, JPEG, ``task``,
    ``ppd`` (its default block search)."""

    def make() -> Any:
        from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor

        predictor = PooledVisibilityPredictor(condition=ViewingCondition(ppd=ppd, task=task))
        return predictor.predict(context.rgb, jpeg_ladder(context), name=context.name)

    return context.cached(("pwjnd", task, round(ppd, 3)), make)


# --------------------------------------------------------------------------------------------------------------------
# Viewing distance and contrast sensitivity
# --------------------------------------------------------------------------------------------------------------------


def _distance(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    ppd, quality = float(values["ppd"]), round(float(values["quality"]))
    model = subband(context, ppd)
    frequencies = np.geomspace(0.25, 64.0, 160)
    sensitivity = csf(frequencies)
    dark = luminance_factor(32.0)
    bands = [model.band_frequency(k) for k in range(model.bands)]
    csf_plot = Plot(
        f"Contrast sensitivity of the subband model (dashed: the band centres at {ppd:g} ppd)",
        "spatial frequency (cycles per degree)", "sensitivity (1 / threshold contrast)",
        [Series(frequencies, sensitivity, "white (200 cd/m²)", colour=SERIES_COLOURS[0]),
         Series(frequencies, sensitivity * dark, "gray level 32", colour=SERIES_COLOURS[1], dashed=True)],
        [Mark(f, "", colour="#888888") for f in bands],
        log_x=True, x_range=(0.25, 64.0),
    )  # fmt: skip
    distorted = jpeg(context, quality).decoded
    from jndviewer.core.image import rgb_to_luma

    per_band = band_visibilities(model, rgb_to_luma(distorted))
    peaks = [float(np.percentile(v, BAND_PERCENTILE)) for v in per_band]
    colours = tuple(VISIBLE_COLOUR if p > 1.0 else INVISIBLE_COLOUR for p in peaks)
    band_plot = Plot(
        f"JPEG quality {quality}: each band's visibility at {ppd:g} ppd", "band centre (cycles per degree)",
        f"visibility ({BAND_PERCENTILE:g}th percentile)",
        [Series(bands, peaks, "bands", kind="bars", point_colours=colours,
                point_labels=tuple(f"{f:.3g}" for f in bands))],
        [Mark(1.0, "threshold", vertical=False, colour=VISIBLE_COLOUR)], log_x=True,
    )  # fmt: skip
    import torch

    total = model.visibility(torch.from_numpy(rgb_to_luma(distorted).astype(np.float32))[None, None])
    picture = Picture(
        f"Visibility map, {ppd:g} ppd", visibility_colors(total[0, 0].numpy()),
        scale="blue < 1 (white) < red",
    )  # fmt: skip
    visible = [f"{f:.3g}" for f, p in zip(bands, peaks, strict=True) if p > 1.0]
    readout = [
        f"At {ppd:g} ppd the {model.bands} bands are centred on " + ", ".join(f"{f:.3g}" for f in bands) + " cpd.",
        ("Over threshold: the bands at " + ", ".join(visible) + " cpd.") if visible
        else "Every band is under threshold: the JPEG distortion is invisible by the model at this distance.",
        f"Sensitivity peaks at {frequencies[int(np.argmax(sensitivity))]:.2f} cpd; at gray level 32 it keeps "
        f"{dark * 100:.0f} % of its value.",
    ]
    return LessonFigure(
        [csf_plot, band_plot, picture], readout,
        {"bands": bands, "band_visibility": peaks, "csf": (frequencies, sensitivity), "luminance_factor_32": dark},
    )  # fmt: skip


DISTANCE = Lesson(
    name="distance",
    title="Viewing distance and contrast sensitivity",
    sentences=(
        "The eye is most sensitive to patterns of a few cycles per degree of visual angle, and less to finer or "
        "coarser ones: the contrast sensitivity function (CSF).",
        "How many cycles per degree an image detail has depends on the viewing distance, counted in pixels per "
        "degree (ppd): a 24-inch 1080p monitor at 60 cm gives 38 ppd, a phone at 30 cm about 60.",
        "The subband model splits the image into octave bands (a Laplacian pyramid); band k is centred on ppd / "
        "2^(k+1) cycles per degree and gets the CSF's sensitivity there.",
        "Step back (more ppd) and the fine bands move beyond the eye's resolution: their distortion falls under "
        "threshold.",
        "Dark regions lose sensitivity, and the image's own contrast in a band masks distortion in that band.",
    ),
    formula=(
        "Band contrast C_k = band / local mean luminance (Peli 1990). Sensitivity S_k = 300 (f_k / 4) exp(1 - f_k / 4) "
        "(L / (L + 100))^0.5 with f_k = ppd / 2^(k+1). Threshold T_k = (1 + m_k^0.7) / S_k, m_k the reference's own "
        "band energy in threshold units (Legge & Foley 1980). Visibility v_k = |C_k(B) - C_k(A)| / T_k."
    ),
    citation=(
        "jndviewer's subband model (core/visibility/subband.py, README 'Where the subband constants come from'); "
        "E. Peli, JOSA A 7(10), 1990; P. Burt, E. Adelson, IEEE TCOM 31(4), 1983; G. Legge, J. Foley, JOSA 70(12), "
        "1980; P. Barten, Contrast Sensitivity of the Human Eye, SPIE 1999."
    ),
    try_this=(
        "Move the ppd slider from 20 to 120: at which distance do the last bands turn green?",
        "Lower the JPEG quality: which band becomes visible first, the finest or a middle one?",
    ),
    compute=_distance,
    controls=(
        Control("ppd", "Pixels per degree", "slider", 38.0, 10, 150, 1, unit="ppd"),
        Control("quality", "JPEG quality", "slider", 30, 5, 95, 1),
    ),
)


# --------------------------------------------------------------------------------------------------------------------
# The viewing task
# --------------------------------------------------------------------------------------------------------------------

TASK_COLOURS = {SIDE_BY_SIDE: SERIES_COLOURS[0], FLICKER: SERIES_COLOURS[4]}


def task_curves(context: LessonContext, ppd: float) -> dict[str, np.ndarray]:
    """Per task, the pooled visibility over its calibrated threshold at :data:`CURVE_LEVELS` (1: the threshold)."""
    curves = {}
    for task in TASKS:
        ratios = []
        for level in CURVE_LEVELS:
            score, threshold = visibility_ratio(context, task, ppd, level)
            ratios.append(score / threshold)
        curves[task] = np.asarray(ratios)
    return curves


def _task(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    ppd, level, view = float(values["ppd"]), round(float(values["level"])), values["view"]
    curves = task_curves(context, ppd)
    results = {task: predicted_level(context, task, ppd) for task in TASKS}
    series = [Series(np.asarray(CURVE_LEVELS, float), curves[task], TASK_WORDS[task], colour=TASK_COLOURS[task])
              for task in TASKS]  # fmt: skip
    marks = [Mark(1.0, "threshold", vertical=False, colour="#555555")]
    marks += [Mark(results[task].level, f"PW-JND {TASK_WORDS[task]}: {results[task].level}",
                   colour=TASK_COLOURS[task]) for task in TASKS]  # fmt: skip
    marks.append(Mark(level, f"quality {level}", colour="#222222", dashed=False))
    plot = Plot(f"Pooled visibility over each task's threshold, {ppd:g} ppd", "JPEG quality",
                "visibility / threshold (over 1: visible)", series, marks, x_range=(1.0, 100.0))  # fmt: skip
    reference = context.rgb
    distorted = jpeg(context, level).decoded
    if view == "flicker":
        pictures = [Picture(f"Flicker: the original and quality {level} alternate 8 times a second", distorted,
                            alternate=reference)]  # fmt: skip
    else:
        pictures = [Picture("Original", reference), Picture(f"JPEG quality {level}", distorted)]
    numbers: dict[str, Any] = {"ppd": ppd, "level": level}
    readout = []
    for task in TASKS:
        score, threshold = visibility_ratio(context, task, ppd, level)
        verdict = "visible" if score > threshold else "not visible"
        numbers[task] = {"score": score, "threshold": threshold, "pwjnd": results[task].level, "visible": verdict}
        params, _ = calibrated(task, ppd)
        readout.append(
            f"{TASK_WORDS[task].capitalize()}: pooled visibility {score:.3f} (Minkowski-{params.minkowski_exponent:g}) "
            f"against {threshold:.3f}: {verdict} at quality {level}; predicted PW-JND quality {results[task].level}."
        )
    gap = results[FLICKER].level - results[SIDE_BY_SIDE].level
    readout.append(f"Flicker asks for {gap:+d} quality levels more than side by side on this image.")
    return LessonFigure([plot, *pictures], readout, numbers)


TASK = Lesson(
    name="task",
    title="The viewing task: flicker or side by side",
    sentences=(
        "Whether a distortion is noticed depends on how the two images are compared.",
        "Side by side, the eye has to jump between the images and remember; in flicker, the original and the "
        "compressed image alternate in place and every change moves.",
        "KonJND-1k's flicker test (8 switches a second) roughly doubles the sensitivity of the side-by-side "
        "comparison, so people ask for a much better quality.",
        "The training-free predictor therefore keeps one calibrated threshold per task (and a pooling closer to the "
        "maximum for flicker, where small local changes are seen).",
        "The curves divide each task's pooled visibility by its threshold: where a curve crosses 1 is its PW-JND.",
    ),
    formula=(
        "Visible when pooled visibility > threshold(task, ppd, codec). Side by side: Minkowski-2 pooling, threshold "
        "fitted to MCL-JCI-like labels at 9.0 JOD; flicker: Minkowski-4, fitted at 9.68 JOD (JPEG AIC-3's 1 JND). "
        "Between the calibrated distances (38 and 75 ppd) the threshold is interpolated in log ppd."
    ),
    citation=(
        "H. Lin et al., KonJND-1k, IEEE TCSVT 32(9):5859-5873, 2022 (flicker test); L. Jin et al., MCL-JCI, IS&T EI "
        "2016 (side by side); thresholds: jndviewer/assets/pwjnd_calibration.json (README 'Calibration')."
    ),
    try_this=(
        "Set the quality between the two PW-JNDs and switch the view to flicker: can you see what side by side hid?",
        "Move the ppd: does the gap between the two tasks shrink farther away?",
    ),
    compute=_task,
    controls=(
        Control("level", "JPEG quality", "slider", 50, 1, 100, 1),
        Control("view", "View", "choice", "side by side", choices=("side by side", "flicker")),
        Control("ppd", "Pixels per degree", "slider", 38.0, 10, 120, 1, unit="ppd"),
    ),
)

__all__ = [
    "CURVE_LEVELS", "DISTANCE", "TASK", "band_visibilities", "calibrated", "csf", "jpeg", "jpeg_ladder",
    "luminance_factor",
    "predicted_level", "subband", "task_curves", "task_scorer", "visibility_ratio",
]
