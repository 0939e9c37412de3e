"""A lesson's figure as a PNG: for the HTML handout and for slides (1920 x 1080), without a display.

Drawn with matplotlib on its Agg backend, as the study report draws its plots (matplotlib is a run-time requirement
for that report already); the explorer draws the same :class:`~jndviewer.core.lessons.model.LessonFigure` live with
pyqtgraph.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

import numpy as np

from jndviewer.core.lessons.model import LessonFigure, Picture, Plot

#: Slide size in pixels (16:9, full HD).
SLIDE_SIZE = (1920, 1080)
#: Handout figure size in pixels.
HANDOUT_SIZE = (1400, 560)


def figure_png(
    figure: LessonFigure,
    size: tuple[int, int] = HANDOUT_SIZE,
    *,
    title: str = "",
    readout: bool = False,
    font_scale: float = 1.0,
) -> bytes:
    """The PNG of ``figure``, ``size`` pixels (width, height) exactly; ``title`` above the panels and, with
    ``readout``, its readout lines below them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    width, height = size
    canvas_figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(canvas_figure)  # Agg, whatever backend pyplot may use elsewhere in the process
    font = 10.0 * font_scale
    font_px = font * dpi / 72.0  # points to pixels
    top = 1.0
    if title:
        canvas_figure.suptitle(title, fontsize=font * 1.6, fontweight="bold", y=1.0 - 0.6 * font_px / height)
        top -= (font_px * 1.6 * 2.0) / height
    bottom = 0.0
    if readout and figure.readout:
        lines = [wrapped for line in figure.readout for wrapped in textwrap.wrap(line, int(width / (font_px * 0.55)))]
        bottom = min(0.45, (len(lines) * font_px * 1.4 + font_px) / height)
        canvas_figure.text(0.02, bottom - 0.3 * font_px / height, "\n".join(lines), fontsize=font, va="top",
                           linespacing=1.3)  # fmt: skip
    ratios = [_width_ratio(panel, width, height) for panel in figure.panels]
    grid = canvas_figure.add_gridspec(
        1, len(figure.panels), width_ratios=ratios, left=0.05, right=0.985, top=top - 0.07, bottom=bottom + 0.12,
        wspace=0.28,
    )  # fmt: skip
    for index, panel in enumerate(figure.panels):
        axes = canvas_figure.add_subplot(grid[0, index])
        if isinstance(panel, Picture):
            _draw_picture(axes, panel, font)
        else:
            _draw_plot(axes, panel, font)
    buffer = io.BytesIO()
    canvas_figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _width_ratio(panel: Any, width: int, height: int) -> float:
    if isinstance(panel, Picture):
        rows, columns = panel.pixels.shape[:2]
        return max(0.6, min(2.2, columns / rows))
    return 1.3


def _wrap(text: str, font: float, share: float = 0.3) -> str:
    return "\n".join(textwrap.wrap(text, max(20, int(48 * share / 0.3 * 10 / font))))


def _draw_picture(axes: Any, picture: Picture, font: float) -> None:
    from matplotlib.patches import Rectangle

    axes.imshow(picture.pixels, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(_wrap(picture.title, font), fontsize=font)
    for box in picture.boxes:
        axes.add_patch(Rectangle((box.x - 0.5, box.y - 0.5), box.width, box.height, fill=False,
                                 edgecolor=box.colour, linewidth=2))  # fmt: skip
        if box.label:
            axes.text(box.x + 2, box.y + 2, box.label, color="black", fontsize=font * 0.85, va="top",
                      bbox={"facecolor": box.colour, "edgecolor": "none", "pad": 1.5, "alpha": 0.85})  # fmt: skip
    if picture.scale:
        axes.set_xlabel(picture.scale, fontsize=font * 0.85)


def _draw_plot(axes: Any, plot: Plot, font: float) -> None:
    for series in plot.series:
        dash = "--" if series.dashed else "-"
        if series.kind == "bars":
            widths = series.x * 0.35 if plot.log_x else np.full_like(series.x, 0.8)
            colours = list(series.point_colours) or series.colour
            axes.bar(series.x, series.y, width=widths, color=colours, label=series.label or None)
        elif series.kind == "points":
            colours = list(series.point_colours) or series.colour
            axes.scatter(series.x, series.y, c=colours, s=36 * font / 10, zorder=3, label=series.label or None,
                         edgecolors="black", linewidths=0.5)  # fmt: skip
        else:
            axes.plot(series.x, series.y, dash, color=series.colour, linewidth=series.width, label=series.label or None)
        for x, y, text in zip(series.x, series.y, series.point_labels, strict=False):
            axes.annotate(text, (x, y), textcoords="offset points", xytext=(4, 5), fontsize=font * 0.8)
    if plot.log_x:
        axes.set_xscale("log")
    if plot.x_range:
        axes.set_xlim(*plot.x_range)
    if plot.y_range:
        axes.set_ylim(*plot.y_range)
    for mark in plot.marks:  # labelled along the line, not in the legend
        style = {"color": mark.colour, "linestyle": "--" if mark.dashed else "-", "linewidth": 1.2}
        if mark.vertical:
            axes.axvline(mark.value, **style)
            axes.text(mark.value, 0.98, f" {mark.label}", transform=axes.get_xaxis_transform(), rotation=90,
                      va="top", ha="right", fontsize=font * 0.75, color=mark.colour)  # fmt: skip
        else:
            axes.axhline(mark.value, **style)
            axes.text(0.99, mark.value, mark.label, transform=axes.get_yaxis_transform(), va="bottom", ha="right",
                      fontsize=font * 0.75, color=mark.colour)  # fmt: skip
    axes.set_title(_wrap(plot.title, font, 0.4), fontsize=font)
    axes.set_xlabel(plot.x_label, fontsize=font * 0.9)
    axes.set_ylabel(plot.y_label, fontsize=font * 0.9)
    axes.tick_params(labelsize=font * 0.85)
    axes.grid(alpha=0.3)
    if any(s.label for s in plot.series):
        axes.legend(fontsize=font * 0.75, loc="best", framealpha=0.85)


__all__ = ["HANDOUT_SIZE", "SLIDE_SIZE", "figure_png"]
