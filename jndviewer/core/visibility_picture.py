"""The visibility view's picture, Qt-free: the colour scale's ticks and legend, the map drawn over the reference's
luma (as ColorVideoVDP and HDR-VDP draw theirs), and the header that names the model, the ppd and the viewing task.

Two pictures of one visibility map ``v`` (1 = the threshold; positions on the colour bar by
:func:`~jndviewer.core.colormap.visibility_position`, which gives the octave either side of 1 most of the bar):

- **on its own** (:func:`~jndviewer.core.colormap.visibility_colors`): blue below the threshold, white at it, red
  above;
- **over the luma** (:func:`visibility_over_luma`): the reference's luma in gray, with a colour blended in by a
  weight that grows with ``v``: nothing where the distortion is far below the threshold (the picture *is* the luma
  there), a faint blue-cyan tint near 1/2, yellow at the threshold, orange at 2, red from 8 on. The colour is scaled
  by the luma (as the two metrics multiply their colour by the tone-mapped context image), so the image's
  structure stays readable under it.
"""

from __future__ import annotations

import numpy as np

from jndviewer.core.colormap import VISIBILITY_KNOTS, visibility_position

#: Colour-bar ticks: (ratio, label); 1 is the threshold.
TICK_LABELS = {0.125: "⅛", 0.25: "¼", 0.5: "½", 1.0: "1", 2.0: "2", 4.0: "4", 8.0: "8"}
#: The colour bar's line that says what 1 means.
THRESHOLD_NOTE = "1 = threshold"

#: Over the luma: the colour at each position of the scale (HDR-VDP's blue-cyan-green-yellow-red order, with
#: yellow at the threshold and orange at 2), as (position, R, G, B) knots ...
OVERLAY_COLOR_KNOTS = (
    (0.0, 40, 80, 255), (0.2, 40, 200, 255), (0.35, 60, 220, 60), (0.5, 255, 225, 0), (0.8, 255, 120, 0),
    (1.0, 235, 0, 0),
)  # fmt: skip
#: ... and how much of it is blended over the gray luma, as (position, weight) knots: 0 at the bottom of the scale
#: (1/8 and below: the luma alone), 0.3 at 1/2, 0.8 at the threshold, 1 from 8 on.
OVERLAY_WEIGHT_KNOTS = ((0.0, 0.0), (0.2, 0.3), (0.5, 0.8), (0.8, 0.95), (1.0, 1.0))
#: The colour is multiplied by ``OVERLAY_FLOOR + (1 - OVERLAY_FLOOR) * luma / 255``: black areas still show it.
OVERLAY_FLOOR = 0.45
#: The gray the colour bar of the over-the-luma picture blends its colours over.
COLORBAR_GRAY = 128.0


def ticks() -> list[tuple[float, str]]:
    """The colour bar's ticks as (position on the bar in [0, 1], label): 1/8, 1/4, 1/2, 1, 2, 4 and 8."""
    ratios = np.array(list(TICK_LABELS))
    return [(float(p), TICK_LABELS[r]) for r, p in zip(ratios.tolist(), visibility_position(ratios), strict=True)]


def colorbar_label(measure: str) -> str:
    """The colour bar's title: what the ratio measures and what 1 means (``|distortion| / JND · 1 = threshold``)."""
    return f"{measure} · {THRESHOLD_NOTE}"


def share_of_bar(low: float, high: float) -> float:
    """The fraction of the colour bar that visibility ratios from ``low`` to ``high`` take."""
    a, b = visibility_position(np.array([low, high]))
    return float(b - a)


def _interp(position: np.ndarray, knots: tuple[tuple[float, ...], ...], column: int) -> np.ndarray:
    xs = np.array([k[0] for k in knots])
    return np.interp(position, xs, np.array([k[column] for k in knots], dtype=np.float64))


def overlay_color(position: np.ndarray) -> np.ndarray:
    """The over-the-luma colour (float RGB, 0-255) at positions of the scale (``... x 3``)."""
    position = np.asarray(position, dtype=np.float64)
    return np.stack([_interp(position, OVERLAY_COLOR_KNOTS, c) for c in (1, 2, 3)], axis=-1)


def overlay_weight(position: np.ndarray) -> np.ndarray:
    """How much of the colour is blended over the luma at positions of the scale (0 to 1, rising)."""
    return _interp(np.asarray(position, dtype=np.float64), OVERLAY_WEIGHT_KNOTS, 1)


def resize_luma(luma: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``luma`` (h x w) at another size, by bilinear interpolation between pixel centres (itself when equal)."""
    luma = np.asarray(luma, dtype=np.float32)
    if luma.shape == tuple(shape):
        return luma
    height, width = luma.shape
    rows = np.clip((np.arange(shape[0]) + 0.5) * height / shape[0] - 0.5, 0, height - 1)
    cols = np.clip((np.arange(shape[1]) + 0.5) * width / shape[1] - 0.5, 0, width - 1)
    r0, c0 = np.floor(rows).astype(np.intp), np.floor(cols).astype(np.intp)
    r1, c1 = np.minimum(r0 + 1, height - 1), np.minimum(c0 + 1, width - 1)
    fr, fc = (rows - r0)[:, None].astype(np.float32), (cols - c0)[None, :].astype(np.float32)
    top = luma[r0][:, c0] * (1 - fc) + luma[r0][:, c1] * fc
    bottom = luma[r1][:, c0] * (1 - fc) + luma[r1][:, c1] * fc
    return top * (1 - fr) + bottom * fr


def visibility_over_luma(visibility: np.ndarray, luma: np.ndarray) -> np.ndarray:
    """The visibility map drawn over the reference's luma (``h x w x 3`` uint8 at the map's size).

    ``out = (1 - w) * luma + w * colour * (OVERLAY_FLOOR + (1 - OVERLAY_FLOOR) * luma / 255)`` per channel, with the
    colour and the weight ``w`` of :func:`overlay_color` and :func:`overlay_weight` at the ratio's position: where the
    visibility is 1/8 or less the picture is the luma in gray. ``luma`` (0-255) is resized to the map if it differs.
    """
    values = np.asarray(visibility, dtype=np.float64)
    gray = resize_luma(luma, values.shape).astype(np.float64)[..., None]
    position = visibility_position(values)
    weight = overlay_weight(position)[..., None]
    tint = overlay_color(position) * (OVERLAY_FLOOR + (1.0 - OVERLAY_FLOOR) * gray / 255.0)
    return np.clip(np.rint((1.0 - weight) * gray + weight * tint), 0, 255).astype(np.uint8)


def colorbar_table(over_luma: bool, size: int = 256) -> np.ndarray:
    """The colour bar's ``size x 3`` uint8 colours from the bottom of the scale to its top: the diverging map's
    (on its own) or the over-the-luma colours blended over mid gray (:data:`COLORBAR_GRAY`)."""
    from jndviewer.core.colormap import lookup_table

    if not over_luma:
        table = lookup_table("diverging")
        return table[np.rint(np.linspace(0, len(table) - 1, size)).astype(np.intp)]
    position = np.linspace(0.0, 1.0, size)
    weight = overlay_weight(position)[:, None]
    gray = COLORBAR_GRAY
    tint = overlay_color(position) * (OVERLAY_FLOOR + (1.0 - OVERLAY_FLOOR) * gray / 255.0)
    return np.clip(np.rint((1.0 - weight) * gray + weight * tint), 0, 255).astype(np.uint8)


def visibility_subject(*, subband: bool, pixel_model: str, ppd: float) -> str:
    """What a visibility map is of: its model and the ppd (``subband model · 38 ppd · both tasks``; a pixel model by
    name: ``wu2017 JND model · 38 ppd · both tasks``). The map is the same for either viewing task: the task sets how
    it is pooled and the threshold the pooled score is held against, which the prediction readouts name."""
    model = "subband model" if subband else f"{pixel_model} JND model"
    return f"{model} · {ppd:g} ppd · both tasks"


def visibility_header(measure: str, subject: str, note: str, over_luma: bool, distorted: str) -> str:
    """The visibility pane's header: the measure, the model, ppd and task (``subject``), the maps' scale (``note``),
    the legend of the picture drawn and the distorted image's title."""
    legend = ("over A's luma: yellow at the threshold, red above" if over_luma
              else "blue: below the threshold, white: at it, red: above")  # fmt: skip
    subject = f" · {subject}" if subject else ""
    return f"Visibility {measure}{subject}{note} ({legend})   {distorted}"


__all__ = [
    "OVERLAY_COLOR_KNOTS", "OVERLAY_WEIGHT_KNOTS", "THRESHOLD_NOTE", "TICK_LABELS", "VISIBILITY_KNOTS",
    "colorbar_label", "colorbar_table", "overlay_color", "overlay_weight", "resize_luma", "share_of_bar", "ticks",
    "visibility_header", "visibility_over_luma", "visibility_subject",
]  # fmt: skip
