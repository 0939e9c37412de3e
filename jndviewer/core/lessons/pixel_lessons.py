"""Lessons on the pixel-wise JND models: luminance adaptation, contrast and texture masking, pattern complexity.

Every number comes from the models of :mod:`jndviewer.core.jnd` run on the lesson's image or on a generated
stimulus; no constant of a model is written here (the formulas in words quote them, with their equations, from
docs/jnd_models.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from jndviewer.core.colormap import apply_colormap
from jndviewer.core.lessons.model import (
    MODEL_COLOURS,
    Box,
    Control,
    Lesson,
    LessonContext,
    LessonFigure,
    Mark,
    Picture,
    Plot,
    Series,
    to_uint8,
)

PIXEL_MODELS = ("chou1995", "yang2005", "wu2013", "wu2017")
#: The component of each model that carries its masking by the image's own content.
MASKING_COMPONENT = {
    "chou1995": "contrast_masking",
    "yang2005": "texture_masking",
    "wu2013": "contrast_masking",
    "wu2017": "visual_masking",
}
#: Side of the flat, constant images on which the models' luminance adaptation is read (the models' smallest).
_FLAT_SIDE = 8


# --------------------------------------------------------------------------------------------------------------------
# Luminance adaptation
# --------------------------------------------------------------------------------------------------------------------


@cache
def luminance_adaptation_curves() -> dict[str, np.ndarray]:
    """Each pixel model's luminance-adaptation threshold at backgrounds 0..255 (256 values, gray levels).

    Read from the models, on 256 flat 8 x 8 images (one per gray level), at the centre, where the background
    luminance is that gray level. chou1995 and yang2005 run whole and their ``luminance_adaptation`` component is
    taken. wu2013 and wu2017 compute theirs with :func:`~jndviewer.core.jnd.ops.remapped_luminance_adaptation`
    (wu2017 times its ``luminance_scale``), which is applied here to the flat images directly: on a flat image wu2013's
    autoregressive prediction, on which it reads the curve, is the image itself, and running the whole models 256
    times takes seconds on two cores. tests/core/test_lessons.py checks all four against the whole models.
    """
    import torch

    from jndviewer.core.jnd import create_model, ops
    from jndviewer.core.jnd.wu2013 import Wu2013Params
    from jndviewer.core.jnd.wu2017 import Wu2017Params

    levels = torch.arange(256, dtype=torch.float32)
    flat = levels.view(-1, 1, 1, 1).expand(-1, 1, _FLAT_SIDE, _FLAT_SIDE).contiguous()
    centre = _FLAT_SIDE // 2
    wu2017 = Wu2017Params()
    maps = {
        "chou1995": create_model("chou1995")(flat).components["luminance_adaptation"],
        "yang2005": create_model("yang2005")(flat).components["luminance_adaptation"],
        "wu2013": ops.remapped_luminance_adaptation(flat, Wu2013Params().border),
        "wu2017": ops.remapped_luminance_adaptation(flat, wu2017.border).mul_(wu2017.luminance_scale),
    }
    curves = {}
    for name in PIXEL_MODELS:
        curve = maps[name][:, 0, centre, centre].double().numpy().copy()
        curve.setflags(write=False)
        curves[name] = curve
    return curves


def _ramp_stimulus(amplitude: float, width: int = 512, height: int = 144) -> np.ndarray:
    """Backgrounds from black (left) to white (right), a stripe ``amplitude`` gray levels brighter across the middle."""
    backgrounds = np.linspace(0.0, 255.0, width)
    image = np.repeat(backgrounds[None, :], height, axis=0)
    image[height // 3 : 2 * height // 3] += amplitude
    return to_uint8(image)


def _luminance_adaptation(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    curves = luminance_adaptation_curves()
    background = round(float(values["background"]))
    reference = values["model"]
    amplitude = values["amplitude"]
    if amplitude is None:  # the slider opens at the chosen model's threshold
        amplitude = round(2.0 * float(curves[reference][background])) / 2.0
    amplitude = float(amplitude)
    levels = np.arange(256, dtype=np.float64)
    plot = Plot(
        "Luminance adaptation of the four models", "background gray level", "threshold (gray levels)",
        [Series(levels, curves[name], name, colour=MODEL_COLOURS[name]) for name in PIXEL_MODELS],
        [Mark(background, f"background {background}"), Mark(amplitude, f"amplitude {amplitude:g}", vertical=False)],
        x_range=(0.0, 255.0), y_range=(0.0, 22.0),
    )  # fmt: skip
    thresholds = {name: float(curves[name][background]) for name in PIXEL_MODELS}
    hidden = {name: _hidden_backgrounds(curves[name], amplitude) for name in PIXEL_MODELS}
    stimulus = _ramp_stimulus(amplitude)
    column = background * (stimulus.shape[1] - 1) / 255.0
    picture = Picture(
        f"A stripe {amplitude:g} gray levels brighter, on backgrounds from black to white", stimulus,
        boxes=[Box(column - 6, 4, 12, stimulus.shape[0] - 8, f"background {background}")],
    )  # fmt: skip
    above = [name for name in PIXEL_MODELS if amplitude > thresholds[name]]
    readout = [
        f"At background {background} the thresholds are "
        + ", ".join(f"{name} {thresholds[name]:.2f}" for name in PIXEL_MODELS) + " gray levels.",
        f"An amplitude of {amplitude:g} is above the threshold of {len(above)} of the 4 models"
        + (f" ({', '.join(above)})." if above else "."),
        f"{reference} predicts the stripe hidden on {hidden[reference]}.",
    ]
    return LessonFigure(
        [plot, picture], readout,
        {"background": background, "amplitude": amplitude, "thresholds": thresholds, "hidden": hidden},
    )  # fmt: skip


def _hidden_backgrounds(curve: np.ndarray, amplitude: float) -> str:
    """The background ranges where ``amplitude`` is at or below the curve, in words."""
    below = np.flatnonzero(curve >= amplitude)
    if below.size == 0:
        return "no background"
    if below.size == curve.size:
        return "every background"
    runs = np.split(below, np.flatnonzero(np.diff(below) > 1) + 1)
    return " and ".join(f"{run[0]}-{run[-1]}" if run.size > 1 else f"{run[0]}" for run in runs)


LUMINANCE_ADAPTATION = Lesson(
    name="luminance_adaptation",
    title="Luminance adaptation",
    sentences=(
        "How large a change you can see depends on the brightness around it.",
        "On a dark background the eye needs a larger step to notice it; around mid-gray it needs the smallest; on "
        "bright backgrounds the threshold grows again, slowly (Weber's law).",
        "Every pixel JND model starts from this curve, read from the background luminance of a 5 x 5 neighbourhood.",
        "Wu et al. raise dark backgrounds to at least 32 before reading the curve, and Wu 2017 scales it by 0.7.",
        "The curves are the four models' own luminance-adaptation maps, evaluated on flat gray images.",
    ),
    formula=(
        "bg = the 5x5 weighted mean around the pixel, centre left out (Chou & Li 1995, Eq. 9). Threshold = "
        "17 (1 - sqrt(bg / 127)) + 3 where bg <= 127, and 3/128 (bg - 127) + 3 above (Eq. 5-6). wu2013 and wu2017 "
        "remap bg <= 127 onto [32, 127] first; wu2017 multiplies by 0.7 (Wu et al. 2017, Eq. 13)."
    ),
    citation=(
        "C.-H. Chou, Y.-C. Li, IEEE TCSVT 5(6):467-476, 1995, Eq. 5-6 and 9; X. Yang et al., IEEE TCSVT 15(6):742-752, "
        "2005; J. Wu et al., IEEE TMM 15(7):1705-1710, 2013; J. Wu et al., IEEE TIP 26(6):2682-2693, 2017, Eq. 13."
    ),
    try_this=(
        "Set the amplitude to 4 gray levels: where on the ramp does the stripe disappear? Do the models agree?",
        "Move the background to 0 and raise the amplitude until you see the stripe there; compare with the curves.",
    ),
    compute=_luminance_adaptation,
    controls=(
        Control("background", "Background", "slider", 32, 0, 255, 1, unit="gray level"),
        Control("amplitude", "Amplitude", "slider", None, 0, 30, 0.5, unit="gray levels"),
        Control("model", "Threshold of", "choice", "chou1995", choices=PIXEL_MODELS),
    ),
)


# --------------------------------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------------------------------


def window_means(values: np.ndarray, size: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Means of ``values`` over ``size x size`` windows placed every ``size / 2`` pixels, and their top-left corners."""
    height, width = values.shape
    stride = max(1, size // 2)
    corners = [(x, y) for y in range(0, height - size + 1, stride) for x in range(0, width - size + 1, stride)]
    means = np.array([values[y : y + size, x : x + size].mean() for x, y in corners])
    return means, corners


def _region_side(shape: tuple[int, ...]) -> int:
    return max(16, min(shape[:2]) // 5)


def _random_signs(shape: tuple[int, ...], seed: int = 7) -> np.ndarray:
    """+1 or -1 per pixel, equiprobable, from a fixed seed (the same pattern every time the page is drawn)."""
    return np.random.default_rng(seed).integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0


def _map_picture(title: str, values: np.ndarray, colormap: str, low: float, high: float, unit: str) -> Picture:
    scale = f"{colormap}: {low:.3g} to {high:.3g} {unit}".strip()
    return Picture(title, apply_colormap(values, low, high, colormap), scale=scale)


def _box_mean(values: np.ndarray, box: Box) -> float:
    x, y, w, h = (int(box.x), int(box.y), int(box.width), int(box.height))
    return float(values[y : y + h, x : x + w].mean())


# --------------------------------------------------------------------------------------------------------------------
# Contrast and texture masking
# --------------------------------------------------------------------------------------------------------------------


def _masking(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    model = values["model"]
    amplitude = float(values["amplitude"])
    luma = context.luma().astype(np.float64)
    masking = context.jnd_component(model, MASKING_COMPONENT[model])
    threshold = context.jnd_component(model)
    side = _region_side(luma.shape)
    means, corners = window_means(masking, side)
    flat_corner, textured_corner = corners[int(np.argmin(means))], corners[int(np.argmax(means))]
    boxes = [Box(*flat_corner, side, side, "flat", "#00c8ff"), Box(*textured_corner, side, side, "textured")]
    noisy = luma.copy()
    signs = _random_signs(luma.shape)
    for box in boxes:
        x, y = int(box.x), int(box.y)
        noisy[y : y + side, x : x + side] += amplitude * signs[y : y + side, x : x + side]
    high = float(np.percentile(masking, 99)) or 1.0
    edge_weight = context.jnd_component("yang2005", "edge_weight")
    panels = [
        Picture(f"The same ±{amplitude:g} noise in a flat and a textured region", to_uint8(noisy), boxes=boxes),
        _map_picture(f"{model} {MASKING_COMPONENT[model].replace('_', ' ')}", masking, "inferno", 0.0, high,
                     "gray levels"),
        _map_picture("yang2005 edge weight (dark: edges protected)", edge_weight, "viridis", 0.0, 1.0, ""),
    ]  # fmt: skip
    panels[1].boxes = [Box(b.x, b.y, b.width, b.height, b.label, b.colour) for b in boxes]
    jnd = {box.label: _box_mean(threshold, box) for box in boxes}
    ratio = {label: amplitude / value for label, value in jnd.items()}
    readout = [
        f"Mean {model} threshold: {jnd['flat']:.2f} gray levels in the flat region, {jnd['textured']:.2f} in the "
        "textured one.",
        f"The same noise is {ratio['flat']:.2f} times the threshold in the flat region and {ratio['textured']:.2f} "
        "times in the textured one (above 1: visible by the model).",
        f"yang2005 edge weight: {float((edge_weight < 0.9).mean()) * 100:.1f} % of the pixels under 0.9 (on and "
        f"beside edges), down to {float(edge_weight.min()):.2f}: there the texture masking is cut.",
    ]
    return LessonFigure(panels, readout, {"threshold": jnd, "ratio": ratio, "boxes": [flat_corner, textured_corner]})


MASKING = Lesson(
    name="masking",
    title="Contrast and texture masking",
    sentences=(
        "A distortion hides in busy content: texture around it raises the threshold, so noise that stands out in a "
        "clear sky disappears in foliage.",
        "The models measure the busyness from the local gradients (Chou, Yang) or the local standard deviation "
        "(Wu 2017) and turn it into extra threshold.",
        "Edges are the exception: they are strong gradients but we look at them closely, and distortion along an "
        "edge (ringing, jaggies) is easily seen.",
        "Yang 2005 therefore weights its texture masking by 0.1 on Canny edges, blurred: the dark lines in the edge "
        "weight map.",
        "The left picture adds the same random-sign noise to the flattest and to the most masked region of the image.",
    ),
    formula=(
        "Chou 1995: masking = mg (0.0001 bg + 0.115) + 0.5 - 0.01 bg, mg the largest of four directional gradients "
        "(Eq. 2-4, 7-8). Yang 2005: T_t = 0.117 mg W_e, W_e = 0.1 on Canny edges and 1 elsewhere, blurred by a 7x7 "
        "Gaussian (sigma 0.8); JND = T_l + T_t - 0.3 min(T_l, T_t) (NAMM)."
    ),
    citation=(
        "C.-H. Chou, Y.-C. Li, IEEE TCSVT 5(6):467-476, 1995, Eq. 2-4 and 7-8; X. Yang, W. Lin, Z. Lu, E. Ong, "
        "S. Yao, IEEE TCSVT 15(6):742-752, 2005 (NAMM and edge weight)."
    ),
    try_this=(
        "Raise the amplitude until the noise shows in the textured box: how much larger is it than where it showed "
        "in the flat one?",
        "Choose chou1995, which has no edge protection, and compare its masking map along the strong edges.",
    ),
    compute=_masking,
    controls=(
        Control("amplitude", "Noise amplitude", "slider", 6.0, 0, 30, 0.5, unit="gray levels"),
        Control("model", "Model", "choice", "yang2005", choices=PIXEL_MODELS),
    ),
)


# --------------------------------------------------------------------------------------------------------------------
# Pattern complexity and disorder
# --------------------------------------------------------------------------------------------------------------------


def orderly_disorderly_stimulus(contrast: float, height: int = 192, width: int = 384, seed: int = 3) -> np.ndarray:
    """Gray 128 with a vertical grating (period 8 px) on the left half and random texture on the right half, both
    with a standard deviation of ``contrast`` gray levels (float, unclipped below 128 +- 3.4 contrast)."""
    x = np.arange(width // 2)
    grating = np.sqrt(2.0) * np.sin(2.0 * np.pi * x / 8.0)
    left = np.repeat(grating[None, :], height, axis=0)
    right = np.random.default_rng(seed).standard_normal((height, width - width // 2))
    right = (right - right.mean()) / right.std()
    return 128.0 + contrast * np.concatenate([left, right], axis=1)


def _components_of(luma: np.ndarray) -> dict[str, np.ndarray]:
    import torch

    from jndviewer.core.jnd import create_model

    tensor = torch.from_numpy(luma.astype(np.float32))[None, None]
    wu2017, wu2013 = create_model("wu2017")(tensor), create_model("wu2013")(tensor)
    return {
        "pattern_complexity": wu2017.components["pattern_complexity"][0, 0].double().numpy(),
        "wu2017": wu2017.threshold[0, 0].double().numpy(),
        "disorder": wu2013.components["disorder"][0, 0].double().numpy(),
        "wu2013": wu2013.threshold[0, 0].double().numpy(),
    }


def _complexity(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    contrast = float(values["contrast"])
    if values["source"] == "generated":
        luma = to_uint8(orderly_disorderly_stimulus(contrast)).astype(np.float64)
        maps = context.cached(("complexity", contrast), lambda: _components_of(luma))
        height, width = luma.shape
        margin = 12
        half = width // 2
        boxes = [Box(margin, margin, half - 2 * margin, height - 2 * margin, "orderly", "#00c8ff"),
                 Box(half + margin, margin, half - 2 * margin, height - 2 * margin, "disorderly")]  # fmt: skip
        title = f"Orderly grating and disorderly texture, both sd {contrast:g} gray levels"
    else:
        luma = context.luma().astype(np.float64)
        maps = {
            "pattern_complexity": context.jnd_component("wu2017", "pattern_complexity"),
            "wu2017": context.jnd_component("wu2017"),
            "disorder": context.jnd_component("wu2013", "disorder"),
            "wu2013": context.jnd_component("wu2013"),
        }
        boxes = _complexity_boxes(luma, maps["pattern_complexity"])
        title = "The image: the busy region of least and of most pattern complexity"
    panels = [
        Picture(title, to_uint8(luma), boxes=boxes),
        _map_picture("wu2017 pattern complexity (orientations around each pixel)", maps["pattern_complexity"],
                     "viridis", 1.0, 9.0, "orientations"),
        _map_picture("wu2013 disorder (what the brain cannot predict)", maps["disorder"], "inferno", 0.0,
                     max(1.0, float(np.percentile(maps["disorder"], 99))), "gray levels"),
    ]  # fmt: skip
    for panel in panels[1:]:
        panel.boxes = [Box(b.x, b.y, b.width, b.height, b.label, b.colour) for b in boxes]
    numbers = {box.label: {name: _box_mean(values_map, box) for name, values_map in maps.items()} for box in boxes}
    readout = [
        f"{box.label.capitalize()}: pattern complexity {numbers[box.label]['pattern_complexity']:.2f}, wu2017 JND "
        f"{numbers[box.label]['wu2017']:.2f}, wu2013 disorder {numbers[box.label]['disorder']:.2f}, wu2013 JND "
        f"{numbers[box.label]['wu2013']:.2f} gray levels (means in the box)."
        for box in boxes
    ]
    return LessonFigure(panels, readout, numbers)


def _complexity_boxes(luma: np.ndarray, complexity: np.ndarray) -> list[Box]:
    """Among the busiest half of the windows (local sd), those of least and of most pattern complexity."""
    side = _region_side(luma.shape)
    complexity_means, corners = window_means(complexity, side)
    local_sd = np.array([luma[y : y + side, x : x + side].std() for x, y in corners])
    busy = np.flatnonzero(local_sd >= np.median(local_sd))
    low = corners[busy[int(np.argmin(complexity_means[busy]))]]
    high = corners[busy[int(np.argmax(complexity_means[busy]))]]
    return [Box(*low, side, side, "orderly", "#00c8ff"), Box(*high, side, side, "disorderly")]


COMPLEXITY = Lesson(
    name="complexity",
    title="Pattern complexity and disorder",
    sentences=(
        "Two textures of the same contrast do not hide distortion equally well.",
        "A regular pattern (stripes, bricks) is predictable: the brain fills it in and notices anything that breaks "
        "it; an irregular one (grass, gravel) cannot be predicted and conceals much more.",
        "Wu 2013 splits the image into what an autoregressive prediction from the neighbourhood explains (orderly) "
        "and the residual it cannot (disorder), and lets the disorder add to the threshold.",
        "Wu 2017 counts how many gradient orientations meet around each pixel: one for a grating, up to nine for "
        "noise; the pattern masking grows with that count.",
    ),
    formula=(
        "Wu 2013: residual e = |Y - AR prediction of Y|, smoothed where flat and weakened on edges; JND = NAMM(NAMM("
        "LA, CM), disorder). Wu 2017: P_c = orientations (12-degree bins) among the 3x3 neighbours (Eq. 6); "
        "C_t = 0.3 P_c^2.7 / (P_c^2 + 1) (Eq. 10); pattern masking = local sd x C_t (Eq. 8); JND = NAMM(LA, "
        "max(contrast masking, pattern masking)) (Eq. 12, 14)."
    ),
    citation=(
        "J. Wu, G. Shi, W. Lin, A. Liu, F. Qi, IEEE TMM 15(7):1705-1710, 2013 (free-energy principle); J. Wu, L. Li, "
        "W. Dong, G. Shi, W. Lin, C.-C. J. Kuo, IEEE TIP 26(6):2682-2693, 2017, Eq. 6, 8, 10, 12, 14."
    ),
    try_this=(
        "With the generated stimulus, compare the JND of the two halves: same contrast, how many times larger is the "
        "disorderly one's?",
        "Switch to the image: which of its textures does wu2017 call complex? Does it agree with your eye?",
    ),
    compute=_complexity,
    controls=(
        Control("source", "Stimulus", "choice", "generated", choices=("generated", "image")),
        Control("contrast", "Texture contrast (sd)", "slider", 20.0, 2, 40, 1, unit="gray levels"),
    ),
)

__all__ = [
    "COMPLEXITY", "LUMINANCE_ADAPTATION", "MASKING", "MASKING_COMPONENT", "PIXEL_MODELS",
    "luminance_adaptation_curves", "orderly_disorderly_stimulus", "window_means",
]
