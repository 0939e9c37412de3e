"""Predictions assume one image pixel per screen pixel (100 % zoom), but the view is usually fitted (60-90 %): the
readout under the predictions says so, and offers to predict for the zoom in use.

At zoom ``z`` an image pixel spans ``z`` screen pixels, so the image is seen at ``ppd / z`` image pixels per degree:
zoomed out to 62 % on a 38 ppd screen, at 61.3 ppd. "Predict for 61.3 ppd" sets the viewing condition to that; the
screen's own ppd is remembered, so that the readout keeps counting from it (and offers to go back to it).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QObject, Qt

from jndviewer.core.viewing import PPD_RANGE

#: Zooms within this relative tolerance of the predictions' count as the same.
SAME_ZOOM = 0.02
ZOOM_LINK, SCREEN_LINK = "zoom", "screen"
NBSP = "\u00a0"


def _ppd(value: float) -> str:
    return f"{value:g} ppd"


def _percent(zoom: float) -> str:
    return f"{100 * zoom:.0f} %"


def _link(href: str, text: str) -> str:
    """A link that wraps as a whole (non-breaking spaces)."""
    words = html.escape(text).replace(" ", NBSP)
    return f'<a href="{href}">{words}</a>'


class ZoomPrediction(QObject):
    """Keeps the readout row ``key`` of ``readouts`` saying which zoom the predictions are for, with a link to predict
    for the zoom in use (or back to the screen's ppd).

    Parameters
    ----------
    state
        The view state (its ``ppd`` is the viewing condition the predictions are for).
    canvas
        The image canvas (``zoom_changed``, ``zoom_percent``, ``reference``).
    readouts, key
        The :class:`~jndviewer.app.readouts.ReadoutsPanel` and its row.
    """

    def __init__(self, state: Any, canvas: Any, readouts: Any, key: str = "zoom",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.canvas, self.readouts, self.key = state, canvas, readouts, key
        label = readouts.labels[key]
        #: The ppd of the screen, as the user set it (the viewing condition at 100 % zoom).
        self.screen_ppd = float(state.ppd)
        self._applying = False
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        label.setToolTip(
            "The predictions assume one image pixel per screen pixel (100 % zoom). At another zoom the image is seen "
            "at ppd / zoom image pixels per degree: the link predicts for that."
        )
        label.linkActivated.connect(self.follow)
        state.ppd_changed.connect(self._on_ppd)
        canvas.zoom_changed.connect(self.update)
        self.update()

    def zoom(self) -> float | None:
        """Screen (device) pixels per image pixel, or None without an image."""
        if self.canvas.reference is None:
            return None
        return self.canvas.zoom_percent() / 100.0 * self.canvas.devicePixelRatioF()

    def ppd_for(self, zoom: float) -> float:
        """The viewing condition of the image at ``zoom`` on this screen, in whole ppd (tenths under 10): finer steps
        change no prediction, and the offer should not flicker as the zoom moves by a pixel."""
        ppd = self.screen_ppd / zoom
        return round(ppd, 1) if ppd < 10 else float(round(ppd))

    def text(self, zoom: float | None) -> str:
        """The readout at ``zoom`` (rich text with at most one link)."""
        if zoom is None or zoom <= 0:
            return "–"
        ppd, screen = float(self.state.ppd), self.screen_ppd
        predicted = screen / ppd  # the zoom the predictions are for
        if abs(zoom - predicted) <= SAME_ZOOM * predicted:
            if abs(predicted - 1.0) <= SAME_ZOOM:  # the zoom shown as the status bar shows it, 99 % not "100 %"
                nearly = "" if _percent(zoom) == "100 %" else " nearly"
                return (f"{_percent(zoom)} (1:1):{nearly} one image pixel per screen pixel, as the predictions "
                        f"({_ppd(ppd)}) assume")
            back = _link(SCREEN_LINK, f"back to {_ppd(screen)} (100 %)")
            return f"{_percent(zoom)}: predictions are for this zoom ({_ppd(ppd)} from {_ppd(screen)}) · {back}"
        if abs(predicted - 1.0) <= SAME_ZOOM:
            assumed = "predictions assume 100 % (1:1)"
        else:
            assumed = f"predictions are for {_percent(predicted)} ({_ppd(ppd)})"
        target = self.ppd_for(zoom)
        low, high = PPD_RANGE
        offer = (_link(ZOOM_LINK, f"predict for {_ppd(target)}") if low <= target <= high
                 else f"{_ppd(target)} is outside {low:g}–{high:g} ppd")  # fmt: skip
        return f"view at {_percent(zoom)}; {assumed} · {offer}"

    def update(self, *_: Any) -> None:
        text = self.text(self.zoom())
        if text != self.readouts.text(self.key):
            self.readouts.set_text(self.key, text)

    def follow(self, link: str) -> None:
        """``"zoom"``: predict for the zoom in use; ``"screen"``: back to the screen's ppd (100 %)."""
        zoom = self.zoom()
        if link == ZOOM_LINK and zoom:
            target = self.ppd_for(zoom)
        elif link == SCREEN_LINK:
            target = self.screen_ppd
        else:
            return
        self._applying = True
        try:
            self.state.ppd = target
        finally:
            self._applying = False
        self.update()

    def _on_ppd(self, ppd: float) -> None:
        if not self._applying:  # set by the user (control, dialog, settings): the screen's own
            self.screen_ppd = float(ppd)
        self.update()


__all__ = ["ZoomPrediction"]
