"""What the main window says about the level shown and the pixel under the cursor (mixed into :class:`MainWindow`):
the current level's size and PSNR, its pooled visibility, every predictor's verdict there, and the cursor readout
(reference and distorted pixel, the JND threshold, the visibility and the patch network's patch there). For an
image with a preview each number says its scale: the level shown is encoded at full resolution, the curve, the
pooled visibility and the maps are the preview's, except inside the region computed at full resolution."""

from __future__ import annotations

from typing import Any

import numpy as np

from jndviewer.app.predictions import TUNED_PREDICTOR
from jndviewer.app.readouts import format_bytes, here_key
from jndviewer.core.image import LUMA_WEIGHTS
from jndviewer.core.preview import scale_words
from jndviewer.core.pwjnd.registry import PREDICTORS


class LevelReadouts:
    """The readouts of the level shown and of the cursor (see the module docstring)."""

    session: Any
    state: Any
    controls: Any
    readouts: Any
    canvas: Any
    full_resolution: Any
    cursor_label: Any
    _last_hover: tuple[int, int] | None

    def _show_current_readout(self) -> None:
        frame = self.session.frame
        info = self.session.ladder_info
        if frame is None or info is None:
            return
        text = f"{info.level_name} {frame.level}: {format_bytes(frame.nbytes)}, {frame.bpp:.3f} bpp"
        point = self.session.curve.get(frame.level)
        scaled = self.session.scale > 1
        if scaled:
            text += " at full resolution"
            if point is not None and point["psnr"] is not None:
                text += f"; PSNR {point['psnr']:.2f} dB ({scale_words(self.session.scale)})"
        elif point is not None and point["psnr"] is not None:
            text += f", PSNR {point['psnr']:.2f} dB"
        self.readouts.set_text("current", text)
        parts = []
        tuned = self.session.predictions.results.get(TUNED_PREDICTOR)
        if point is not None and point.get("score") is not None:
            threshold = tuned.params.get("threshold") if tuned is not None else None
            verdict = ""
            if threshold is not None:
                verdict = " → visible" if point["score"] > threshold else " → not visible"
            parts.append(f"pooled {point['score']:.3f}{verdict}")
        elif frame.level not in info.curve_levels:  # a slow codec's sweep samples some levels: say so, not a dash
            parts.append(f"pooled: not swept (the curve samples {len(info.curve_levels)} of {len(info.ordered)} "
                         "levels)")
        view = self.session.visibility(frame.level)
        if view is not None:  # while a new JND map is computed the view shown is the previous map's: said so
            outdated = " (previous JND map; computing the new one)" if self.session.jnd_outdated else ""
            parts.append(f"{100 * view.fraction_visible:.2f} % of pixels above 1{outdated}")
        suffix = f" ({scale_words(self.session.scale)})" if scaled and parts else ""
        self.readouts.set_text("visibility", ("; ".join(parts) or "–") + suffix)
        for name in self.readouts.predictors:
            if name != TUNED_PREDICTOR:
                self.readouts.set_text(here_key(name), self._verdict_here(name, frame.level))

    def _verdict_here(self, name: str, level: int) -> str:
        """A predictor's verdict on ``level``: from the overlay's patch report (the patch predictor), else from its
        search if it visited that level."""
        report = self.session.patches(level) if name == self.session.state.patch_predictor else None
        result = self.session.predictions.results.get(name)
        if report is not None:
            score, visible = report.logit, report.logit > 0
        elif result is not None and level in result.decisions:
            score, visible = result.scores[level], result.decisions[level]
        elif name in self.session.predictions.missing:
            return "not available"
        elif result is not None:  # a search visits a few levels; the patch predictor's overlay judges any
            return "not visited"  # by its search (the row's tooltip says so)
        else:
            return "–"
        info = PREDICTORS.get(name)
        quantity = info.score if info is not None else "score"
        # the overlay's report is of the level shown at full resolution; a search's decisions are the preview's
        preview = report is None and not self.session.judged_at_full_resolution(name)
        where = f" ({scale_words(self.session.scale)})" if preview else ""
        return f"{quantity} {score:+.2f} → {'visible' if visible else 'not visible'}{where}"


    def pixel_readout(self, x: int, y: int) -> str:
        """The text of the cursor readout at image pixel (x, y)."""
        loaded = self.session.loaded
        if loaded is None:
            return ""
        reference = loaded.rgb[y, x]
        parts = [f"x {x:5d} y {y:5d}", f"A {_rgb_text(reference)} Y {_luma(reference):6.1f}"]
        frame = self.session.frame
        if frame is not None:
            distorted = frame.rgb[y, x]
            parts.append(f"B {_rgb_text(distorted)} Y {_luma(distorted):6.1f}")
        jnd = self.session.jnd
        full = self.full_resolution.readout(x, y)  # inside the region computed at full resolution
        if full is not None:
            parts.append(full)
        elif jnd is not None:
            height, width = loaded.rgb.shape[:2]
            map_h, map_w = jnd.threshold.shape
            my, mx = min(map_h - 1, int(y * map_h / height)), min(map_w - 1, int(x * map_w / width))
            threshold = float(jnd.threshold[my, mx])
            parts.append(f"JND {threshold:6.2f}")
            if frame is not None:
                view = self.session.visibility(frame.level)
                if view is not None:  # the visibility map's own measure (its colour bar's: 1 = threshold)
                    parts.append(f"v {float(view.values[my, mx]):6.3f}")
                elif (map_h, map_w) == (height, width) and threshold > 0:  # before it: a measure of its own name
                    ratio = abs(_luma(frame.rgb[y, x]) - _luma(reference)) / threshold
                    parts.append(f"|ΔY|/JND {ratio:6.3f}")
            if self.session.scale > 1:
                parts[-1] += f" ({scale_words(self.session.scale)})"
            if self.session.jnd_outdated:  # as the visibility readout: these values are the replaced map's
                parts[-1] += " (previous JND map; computing the new one)"
        text = "  ·  ".join(parts)
        patch = self.canvas.patch_text(x, y)
        return f"{text}\n{patch}" if patch else text  # the patch on a line of its own: whole in a pane's width

    def size_cursor_readout(self, lines: int) -> None:
        """Give the cursor readout room for ``lines`` lines, fixed: the canvas must not change size (and refit the
        image under the cursor) as the text under the cursor grows and shrinks."""
        label = self.cursor_label
        label.ensurePolished()
        margins = label.contentsMargins()
        label.setFixedHeight(lines * label.fontMetrics().lineSpacing() + margins.top() + margins.bottom() + 4)

    def _refresh_map_readouts(self, *_: object) -> None:
        """The readouts that read the JND map, again: a new map was started, failed, stopped or arrived. While one is
        computed they say that theirs is the previous map (the model title names the model it is coming for)."""
        self.controls.note_map_pending(self.state.jnd_model if self.session.jnd_outdated else None)
        self._show_current_readout()
        if self._last_hover is not None:
            self._on_hover(self._last_hover)

    def _on_hover(self, position: tuple[int, int] | None) -> None:
        self._last_hover = position
        if position is None:
            return
        self.cursor_label.setText(self.pixel_readout(*position))


def _rgb_text(rgb: np.ndarray) -> str:
    return f"({int(rgb[0]):3d},{int(rgb[1]):3d},{int(rgb[2]):3d})"


def _luma(rgb: np.ndarray) -> float:
    return float(sum(w * float(c) for w, c in zip(LUMA_WEIGHTS, rgb, strict=True)))


__all__ = ["LevelReadouts"]
