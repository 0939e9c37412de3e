"""Full resolution on demand for an image shown with a preview: the JND and visibility maps of the region in view.

Above :data:`~jndviewer.core.preview.PREVIEW_MAX_PIXELS` the JND map and the visibility maps are the preview's,
stretched over the image (:mod:`jndviewer.core.preview`). :class:`FullResolution` computes both for the region in
view at full resolution and at the state's own viewing condition (not ppd / k): when asked (View > Full resolution
here, R), and by itself when the view rests at 100 % zoom or more in the visibility or JND mode. The region (the view
plus a margin, at most :data:`~jndviewer.core.preview.REGION_MAX_PIXELS` about its centre) is drawn over the
preview's map with a dashed outline labelled "full resolution", and the cursor readout reads its values there. It
follows the level shown and the JND map's parameters; a new image clears it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from jndviewer.app.canvas import show_rgb
from jndviewer.app.modes import CompareMode
from jndviewer.app.visibility_overlay import region_picture
from jndviewer.app.workers import JobContext, JobRunner
from jndviewer.core import preview, views
from jndviewer.core.colormap import apply_colormap

#: The region is the view grown by this many image pixels a side (the maps' borders fall outside the view).
REGION_MARGIN = 48
#: How long the view must rest at 100 % or more before its region is computed by itself (ms).
AUTO_DELAY_MS = 400
#: The zoom (percent) from which the region in view is computed without being asked.
AUTO_ZOOM_PERCENT = 99.5
MAP_MODES = (CompareMode.VISIBILITY, CompareMode.JND)


@dataclass
class RegionMaps:
    """The maps of one region at full resolution.

    ``jnd`` is the crop's JND map (with its scorer) at the state's viewing condition; ``visibility`` that of
    ``level``'s full-resolution encode; ``colors`` the ``component`` of the JND map coloured on the preview layer's
    range (so that the colours agree across the outline).
    """

    region: tuple[int, int, int, int]  # x, y, width, height in image pixels
    jnd_serial: int
    jnd: views.JndResult
    level: int | None
    visibility: views.VisibilityView | None
    component: str
    colors: np.ndarray
    reference: np.ndarray  # the crop of the original, drawn under the JND colours
    seconds: float

    def contains(self, x: int, y: int) -> bool:
        left, top, width, height = self.region
        return left <= x < left + width and top <= y < top + height

    def map_index(self, values: np.ndarray, x: int, y: int) -> tuple[int, int]:
        """The element of a map of this region (any scale) under image pixel (x, y)."""
        left, top, width, height = self.region
        rows, cols = values.shape[:2]
        return min(rows - 1, int((y - top) * rows / height)), min(cols - 1, int((x - left) * cols / width))


def region_job(
    context: JobContext,
    region: tuple[int, int, int, int],
    reference: np.ndarray,
    ladder: Any,
    level: int | None,
    jnd_serial: int,
    jnd_args: tuple[Any, ...],
    kept: views.JndResult | None,
    component: str,
    preview_layer: Any,
) -> RegionMaps:
    """The maps of ``region``: its JND map (``kept`` when it is still valid, else computed from ``jnd_args``), the
    visibility of ``level`` there and the coloured ``component`` (on the range of ``preview_layer``)."""
    started = time.perf_counter()
    x, y, w, h = region
    crop = np.ascontiguousarray(reference[y : y + h, x : x + w])
    jnd = kept if kept is not None else views.compute_jnd(crop, *jnd_args)
    context.check()
    visibility = None
    if level is not None:
        rung = ladder.rung(level, cancel=context.cancel)
        visibility = views.visibility_view(level, np.ascontiguousarray(rung.decoded[y : y + h, x : x + w]), jnd)
    values = jnd.layer(component)
    low, high = views.map_range(preview_layer if preview_layer is not None else values)
    colors = apply_colormap(values, low, high)
    return RegionMaps(region, jnd_serial, jnd, level, visibility, component, colors, crop,
                      time.perf_counter() - started)  # fmt: skip


class RegionLayer:
    """The region's maps in a view: the original under the JND colours (or the visibility, opaque), a dashed outline
    and a "full resolution" label, in image coordinates."""

    def __init__(self, view: pg.ViewBox) -> None:
        self.under = pg.ImageItem()
        self.under.setZValue(11)
        self.item = pg.ImageItem()
        self.item.setZValue(12)
        pen = QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pen)
        self.outline.setZValue(13)
        self.label = pg.TextItem("full resolution", color="#ffffff", anchor=(0, 0), fill=pg.mkBrush(0, 0, 0, 150))
        self.label.setZValue(13)
        for item in (self.under, self.item, self.outline, self.label):
            view.addItem(item, ignoreBounds=True)
        self.hide()

    def show(
        self, colors: np.ndarray, region: tuple[int, int, int, int], opacity: float, under: np.ndarray | None = None
    ) -> None:
        rect = QRectF(*region)
        show_rgb(self.under, under, rect)
        show_rgb(self.item, colors, rect)
        self.item.setOpacity(opacity)
        self.outline.setRect(rect)
        self.label.setPos(rect.left(), rect.top())
        for item in (self.under, self.item, self.outline, self.label):
            item.setVisible(True)
        self.under.setVisible(under is not None)

    def hide(self) -> None:
        for item in (self.under, self.item, self.outline, self.label):
            item.setVisible(False)

    @property
    def visible(self) -> bool:
        return self.item.isVisible()


class FullResolution(QObject):
    """Full-resolution maps of the region in view for an image with a preview (see the module docstring).

    Signals
    -------
    ready(object)
        New :class:`RegionMaps` were computed.
    drawn(bool)
        The region's maps were drawn or taken away.
    """

    ready = Signal(object)
    drawn = Signal(bool)

    def __init__(self, state: Any, session: Any, canvas: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.session, self.canvas = state, session, canvas
        self.runner = JobRunner("full-resolution region", session.interactive_pool, session.notifier, self)
        session.adopt(self.runner)
        self.layer = RegionLayer(canvas.pane_a.view)
        self.maps: RegionMaps | None = None
        self._was_drawn = False
        self._region: tuple[int, int, int, int] | None = None  # the region asked for (kept through level changes)
        self._auto = QTimer(self, singleShot=True, interval=AUTO_DELAY_MS)
        self._auto.timeout.connect(self._auto_request)
        self.runner.finished.connect(self._on_maps)
        canvas.pane_a.view.sigRangeChanged.connect(lambda *_: (self._schedule(), self._place_label()))
        session.image_loaded.connect(lambda _: self.clear())
        session.frame_ready.connect(lambda _: self._follow())
        session.jnd_ready.connect(lambda _: self._follow())
        state.mode_changed.connect(lambda _: (self._draw(), self._follow(), self._schedule()))
        state.component_changed.connect(lambda _: self._follow())
        state.overlay_opacity_changed.connect(lambda _: self._draw())
        state.visibility_over_luma_changed.connect(lambda _: self._draw())

    # -- public --------------------------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the image shown has a preview (otherwise every map is at full resolution already)."""
        return self.session.loaded is not None and self.session.scale > 1

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def request(self) -> bool:
        """Compute the maps of the region in view at full resolution; False when there is nothing to do (no preview,
        no image in view)."""
        region = self.region_in_view()
        if region is None:
            return False
        self._region = region
        self._submit()
        return True

    def region_in_view(self, margin: int = REGION_MARGIN) -> tuple[int, int, int, int] | None:
        """The region the view shows (grown by ``margin``, within the budget), or None."""
        if not self.available:
            return None
        rect = self.canvas.pane_a.view.viewRect()
        height, width = self.session.loaded.rgb.shape[:2]
        return preview.visible_region(rect.left(), rect.top(), rect.width(), rect.height(), height, width,
                                      margin=margin)  # fmt: skip

    def shown_region(self) -> tuple[int, int, int, int] | None:
        """The region whose maps are drawn now, or None."""
        return self.maps.region if self.maps is not None and self.layer.visible else None

    def clear(self) -> None:
        self.runner.cancel()
        self._auto.stop()
        self.maps = None
        self._region = None
        self._draw()

    def readout(self, x: int, y: int) -> str | None:
        """The JND threshold and the visibility at image pixel (x, y) from the region's full-resolution maps, or None
        outside the region (or before its maps are there)."""
        maps = self.maps
        if maps is None or not maps.contains(x, y) or maps.jnd_serial != self.session.jnd_serial:
            return None
        threshold = maps.jnd.threshold
        parts = [f"JND {float(threshold[maps.map_index(threshold, x, y)]):6.2f}"]
        frame = self.session.frame
        if maps.visibility is not None and frame is not None and maps.level == frame.level:
            values = maps.visibility.values
            parts.append(f"v {float(values[maps.map_index(values, x, y)]):6.3f}")
        return "  ·  ".join(parts) + " (full resolution)"

    # -- internals -----------------------------------------------------------------------------------------------

    def _submit(self) -> None:
        session, region = self.session, self._region
        if region is None or session.loaded is None or session.ladder is None:
            return
        state = self.state
        maps = self.maps
        valid = maps is not None and maps.region == region and maps.jnd_serial == session.jnd_serial
        kept = maps.jnd if valid else None
        jnd_args = (session.predictor_params(), session.condition(), dict(state.model_params), state.device,
                    state.jnd_model)  # fmt: skip
        layer = session.jnd.layer(state.component) if session.jnd is not None else None
        frame = session.frame
        level = frame.level if frame is not None else None
        x, y, w, h = region
        self.runner.submit(
            region_job, region, session.loaded.rgb, session.ladder, level, session.jnd_serial, jnd_args, kept,
            state.component, layer, description=f"Full-resolution maps of {w}×{h} at ({x}, {y})",
        )  # fmt: skip

    def _on_maps(self, maps: RegionMaps) -> None:
        if not self.available:
            return
        self.maps = maps
        self._draw()
        self.ready.emit(maps)

    def _follow(self) -> None:
        """The level, the JND map or the component changed: recompute the region asked for (its JND map is kept
        while it is valid)."""
        maps = self.maps
        if self._region is None or not self.available:
            return
        frame = self.session.frame
        if (maps is not None and maps.region == self._region and maps.jnd_serial == self.session.jnd_serial
                and maps.component == self.state.component
                and maps.level == (frame.level if frame is not None else None)):  # fmt: skip
            self._draw()
            return
        self._draw()
        self._submit()

    def _draw(self) -> None:
        maps, mode = self.maps, self.state.mode
        current = maps is not None and maps.jnd_serial == self.session.jnd_serial
        frame = self.session.frame
        if current and mode is CompareMode.VISIBILITY and maps.visibility is not None and frame is not None \
                and maps.level == frame.level:  # fmt: skip
            self.layer.show(region_picture(maps, self.state.visibility_over_luma), maps.region, 1.0)
        elif current and mode is CompareMode.JND and maps.component == self.state.component:
            self.layer.show(maps.colors, maps.region, float(self.state.overlay_opacity), maps.reference)
        else:
            self.layer.hide()
        self._place_label()
        if self.layer.visible != self._was_drawn:
            self._was_drawn = self.layer.visible
            self.drawn.emit(self._was_drawn)

    def _place_label(self) -> None:
        """Keep the "full resolution" label in the top left corner of the region's part in view."""
        if self.maps is None or not self.layer.visible:
            return
        x, y, _, _ = self.maps.region
        view = self.canvas.pane_a.view.viewRect()
        self.layer.label.setPos(max(float(x), view.left()), max(float(y), view.top()))

    def _schedule(self) -> None:
        if self.available and self.state.mode in MAP_MODES and self.canvas.zoom_percent() >= AUTO_ZOOM_PERCENT:
            self._auto.start()
        else:
            self._auto.stop()

    def _auto_request(self) -> None:
        if not self.available or self.state.mode not in MAP_MODES:
            return
        seen = self.region_in_view(margin=0)
        wanted = self._region
        if seen is None or (wanted is not None and _inside(seen, wanted)):
            return  # the region asked for (being computed, or drawn) covers the view already
        self.request()


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    left, top, width, height = outer
    return left <= x and top <= y and x + w <= left + width and y + h <= top + height


__all__ = ["FullResolution", "RegionLayer", "RegionMaps", "region_job"]
