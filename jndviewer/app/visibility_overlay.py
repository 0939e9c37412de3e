"""The visibility view read like the tools people know: drawn over the reference's luma (View > Visibility over the
luma, Shift+V, or the Display controls' checkbox), its header naming the model, the ppd and the viewing task, and its
colour bar on the scale that keeps most of its length near the threshold, with ticks from 1/8 to 8 and "1 = threshold".

The pictures and the scale are Qt-free (:mod:`jndviewer.core.visibility_picture`); this module puts them on the
canvas's colour bar and keeps the action, the checkbox and :class:`~jndviewer.app.state.ViewState` in step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox

from jndviewer.core.visibility_picture import (
    colorbar_label,
    colorbar_table,
    ticks,
    visibility_over_luma,
    visibility_subject,
)

#: The action's and the checkbox's words and shortcut.
OVER_LUMA_TEXT = "Visibility over the luma"
OVER_LUMA_SHORTCUT = "Shift+V"
OVER_LUMA_TIP = (
    "Draw the visibility map over the reference's luma, as ColorVideoVDP and HDR-VDP do: the image in gray, coloured "
    "where the distortion nears or passes its threshold (yellow at it, red above); off: the map on its own"
)


def configure_visibility_colorbar(colorbar: pg.ColorBarItem, over_luma: bool, measure: str) -> None:
    """Put the visibility scale on ``colorbar``: its colours (on their own, or over the luma on mid gray), levels 0-1
    (positions on the scale), ticks at 1/8 ... 8 and the measure with "1 = threshold" as its title."""
    table = colorbar_table(over_luma)
    colorbar.setColorMap(pg.ColorMap(np.linspace(0.0, 1.0, len(table)), table, name="visibility"))
    colorbar.setLevels((0.0, 1.0))
    colorbar.axis.setTicks([ticks(), []])
    colorbar.getAxis("left").setLabel(colorbar_label(measure))


def region_picture(maps: Any, over_luma: bool) -> np.ndarray:
    """The picture of a full-resolution region's visibility (``full_resolution.RegionMaps``), over the luma or not;
    the over-the-luma one is made once per region and kept on it."""
    view = maps.visibility
    if not over_luma or view.over_luma:
        return view.colors
    cached = getattr(maps, "_over_luma", None)
    if cached is None or cached[0] is not view:
        luma = maps.jnd.scorer.reference[0, 0].float().cpu().numpy()
        cached = (view, visibility_over_luma(view.values, luma))
        maps._over_luma = cached
    return cached[1]


def insert_in_view_menu(window: Any, action: QAction) -> None:
    """Put ``action`` in the View menu's group of the patch-weights overlay, last (before the wipe stops)."""
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    actions = menu.actions()
    start = actions.index(window.patch_action) + 1
    separator = next((a for a in actions[start:] if a.isSeparator()), None)
    menu.insertAction(separator, action) if separator is not None else menu.addAction(action)


class VisibilityLook(QObject):
    """Keeps the View menu's action and the Display checkbox in step with ``state.visibility_over_luma``, and gives the
    canvas the visibility map's measure and subject (model, ppd, task) whenever a JND map arrives."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        state = window.state
        self.action = window._action(OVER_LUMA_TEXT, OVER_LUMA_SHORTCUT,
                                     lambda checked=False: setattr(state, "visibility_over_luma", checked),
                                     OVER_LUMA_TIP)  # fmt: skip
        self.action.setCheckable(True)
        insert_in_view_menu(window, self.action)
        self.check: QCheckBox = window.controls.over_luma_check
        self.check.setToolTip(f"{OVER_LUMA_TIP} ({OVER_LUMA_SHORTCUT})")
        self.check.toggled.connect(lambda on: setattr(state, "visibility_over_luma", on))
        state.visibility_over_luma_changed.connect(self._sync)
        window.session.jnd_ready.connect(self._on_jnd)
        self._sync(state.visibility_over_luma)

    def _sync(self, on: bool) -> None:
        for widget in (self.action, self.check):
            if widget.isChecked() != on:
                widget.blockSignals(True)
                widget.setChecked(on)
                widget.blockSignals(False)

    def _on_jnd(self, result: Any) -> None:
        """Name the measure and what the map is of: the model and the ppd of the map shown, the same for both viewing
        tasks (a preview's map is at ppd / k; the header says the image's ppd and, through the map note, the
        preview)."""
        scorer = result.scorer
        subband = scorer.subband is not None
        condition = scorer.condition
        ppd = condition.ppd * max(1, int(self.window.session.scale))
        subject = visibility_subject(subband=subband, pixel_model=result.model, ppd=round(ppd, 2))
        measure = "band contrast / threshold" if subband else "|distortion| / JND"
        self.window.canvas.set_visibility_label(measure, subject)


__all__ = [
    "OVER_LUMA_SHORTCUT", "OVER_LUMA_TEXT", "VisibilityLook", "configure_visibility_colorbar", "insert_in_view_menu",
    "region_picture",
]  # fmt: skip
