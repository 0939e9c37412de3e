"""The image canvas: pyqtgraph panes with linked zoom and pan, a wipe divider, flicker, overlays and colour bars.

Pane A always exists; pane B is shown only side by side. Both are :class:`~pyqtgraph.ViewBox` es with the aspect
ratio locked and the y axis pointing down, linked in x and y so they zoom and pan together. Images are handed to
:class:`~pyqtgraph.ImageItem` as ``H x W x 3`` uint8 with ``autoLevels=False`` and no levels, which pyqtgraph
turns into a QImage without copying or rescaling (the fastest path it has). Maps computed at the predictor's
analysis scale are stretched over the image rectangle with ``rect=``.

A patch network's (SG-JND's or VP-JNDnet's) patch weights are drawn by a :class:`PatchLayer` in each pane: one
rectangle per patch, in image coordinates inside the view, so it follows zoom and pan like the images do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from jndviewer.app.modes import DEFAULT_FLICKER_HZ, CompareMode
from jndviewer.app.visibility_overlay import configure_visibility_colorbar
from jndviewer.core.colormap import lookup_table
from jndviewer.core.views import difference_range
from jndviewer.core.visibility_picture import visibility_header

#: Zoom stops in percent for the zoom-in and zoom-out keys (25 % multiples near 100 %, as squoosh).
ZOOM_STOPS = (3.125, 6.25, 12.5, 25, 50, 75, 100, 125, 150, 200, 300, 400, 600, 800, 1200, 1600, 3200)
BACKGROUND = "#1e1e1e"
HEADER_STYLE = "QLabel { color: #dddddd; background: #2b2b2b; padding: 3px 6px; }"
#: Patch overlay: fill opacity (of 255), the colour map and its lowest index used (the darkest end hides the image),
#: outline colours (distortion predicted visible in the patch or not), and the smallest on-screen patch side (px)
#: that still gets its weight written in it.
PATCH_FILL_ALPHA = 115
PATCH_COLORMAP = "inferno"
PATCH_LUT_LOW = 48
PATCH_VISIBLE_PEN = QColor(230, 40, 40)
PATCH_INVISIBLE_PEN = QColor(60, 150, 255)
PATCH_TEXT_MIN_PX = 44


def _colormap(name: str) -> pg.ColorMap:
    lut = lookup_table(name)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut, name=name)


def show_rgb(item: pg.ImageItem, rgb: np.ndarray | None, rect: QRectF | None = None) -> None:
    """Put an ``H x W x 3`` uint8 image into an ImageItem on pyqtgraph's zero-copy path (no levels, no LUT)."""
    if rgb is None:
        item.clear()
        return
    if rect is None:
        item.setImage(rgb, autoLevels=False, levels=None, autoDownsample=False)
    else:
        item.setImage(rgb, autoLevels=False, levels=None, autoDownsample=False, rect=rect)


class ImagePane(QWidget):
    """A header label over a pyqtgraph view of images (aspect locked, y down, no context menu)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel(name)
        self.header.setStyleSheet(HEADER_STYLE)
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.setAcceptDrops(False)  # let file drops reach the main window
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.graphics.setObjectName(f"pane_{name}")
        self.view: pg.ViewBox = self.graphics.addViewBox(row=0, col=0)
        self.view.setAspectLocked(True)
        self.view.invertY(True)
        self.view.setMenuEnabled(False)
        self.view.setDefaultPadding(0.0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.graphics, 1)

    def image_point(self, scene_pos: QPointF) -> QPointF | None:
        """The image coordinates (x right, y down) under a scene position, or None outside the view."""
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        return self.view.mapSceneToView(scene_pos)


def patch_color_indices(weights: list[float] | np.ndarray) -> np.ndarray:
    """Colour-map index of each patch weight: the lightest for the largest weight, ``PATCH_LUT_LOW`` for the least.

    Weights are normalised to their own range (they sum to 1, so they are all near ``1 / patches``); the order is
    what the colours show, the values are written in the patches. Equal weights take the middle of the range.
    """
    w = np.asarray(weights, dtype=np.float64)
    low, high = (float(w.min()), float(w.max())) if w.size else (0.0, 0.0)
    t = (w - low) / (high - low) if high > low else np.full_like(w, 0.5)
    return np.rint(PATCH_LUT_LOW + t * (255 - PATCH_LUT_LOW)).astype(np.intp)


class PatchLayer:
    """A patch network's patches in one pane: a rectangle per patch filled by weight and outlined red where the patch's
    distortion is predicted visible (blue where not), with the weight written in it when there is room.

    The rectangles are children of one group item in the pane's view, in image coordinates, so they follow zoom and
    pan; their tooltips name the patch, its weight and its quality logit.
    """

    def __init__(self, view: pg.ViewBox) -> None:
        self.view = view
        self.group = QGraphicsRectItem()
        self.group.setPen(QPen(Qt.PenStyle.NoPen))
        self.group.setZValue(15)  # over the images and the JND map, under the wipe divider
        self.group.setVisible(False)
        view.addItem(self.group, ignoreBounds=True)
        self.rects: list[QGraphicsRectItem] = []
        self.texts: list[pg.TextItem] = []

    def clear(self) -> None:
        scene = self.group.scene()
        for item in [*self.rects, *self.texts]:
            item.setParentItem(None)
            if scene is not None and item.scene() is scene:
                scene.removeItem(item)
        self.rects, self.texts = [], []

    def show(self, report: Any) -> None:
        """Draw ``report`` (a :class:`~jndviewer.core.pwjnd.sgjnd.patches.PatchReport`); None removes the patches."""
        self.clear()
        if report is None:
            return
        lut = lookup_table(PATCH_COLORMAP)
        for index, ((top, left, height, width), colour_index) in enumerate(
            zip(report.cells(), patch_color_indices(report.weights), strict=True)
        ):
            fill = QColor(*(int(c) for c in lut[colour_index]), PATCH_FILL_ALPHA)
            outline = QPen(PATCH_VISIBLE_PEN if report.quality[index] > 0 else PATCH_INVISIBLE_PEN, 2)
            outline.setCosmetic(True)
            rect = QGraphicsRectItem(QRectF(left, top, width, height), self.group)
            rect.setBrush(QBrush(fill))
            rect.setPen(outline)
            rect.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # panning and clicks go to the view
            rect.setToolTip(report.describe(index))
            self.rects.append(rect)
            text = pg.TextItem(f"{report.weights[index]:.3f}", color="#ffffff", anchor=(0.5, 0.5),
                               fill=pg.mkBrush(0, 0, 0, 150))  # fmt: skip
            text.setParentItem(self.group)
            text.setPos(left + width / 2, top + height / 2)
            self.texts.append(text)

    def set_visible(self, visible: bool) -> None:
        self.group.setVisible(visible)

    def set_text_visible(self, visible: bool) -> None:
        for text in self.texts:
            text.setVisible(visible)


class CompareCanvas(QWidget):
    """Shows the reference (A) and the distorted image (B) in the chosen :class:`CompareMode`.

    Signals
    -------
    wipe_moved(float)
        The user dragged the divider to this fraction of the image width.
    hovered(object)
        ``(x, y)`` integer image coordinates under the cursor, or None when it leaves the image.
    zoom_changed(float)
        The zoom in percent (screen pixels per image pixel times 100).
    """

    wipe_moved = Signal(float)
    hovered = Signal(object)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pane_a = ImagePane("A")
        self.pane_b = ImagePane("B")
        self.pane_b.view.setXLink(self.pane_a.view)
        self.pane_b.view.setYLink(self.pane_a.view)
        # the patch overlay's line, over both panes (a pane's header is too narrow for it side by side)
        self.note_label = QLabel("")
        self.note_label.setObjectName("patch_note")
        self.note_label.setStyleSheet(HEADER_STYLE)
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)
        panes = QHBoxLayout()
        panes.setContentsMargins(0, 0, 0, 0)
        panes.setSpacing(2)
        panes.addWidget(self.pane_a, 1)
        panes.addWidget(self.pane_b, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.note_label)
        layout.addLayout(panes, 1)

        view = self.pane_a.view
        self.base = pg.ImageItem()  # A, B, flicker, difference, visibility, or the image under the JND overlay
        view.addItem(self.base)
        self.wipe_clip = QGraphicsRectItem()
        self.wipe_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self.wipe_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.wipe_clip.setZValue(5)
        view.addItem(self.wipe_clip)
        self.wipe_item = pg.ImageItem()
        self.wipe_item.setParentItem(self.wipe_clip)
        self.overlay = pg.ImageItem()
        self.overlay.setZValue(10)
        view.addItem(self.overlay)
        self.divider = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen(QColor(255, 255, 255), width=2),
            hoverPen=pg.mkPen(QColor(255, 200, 0), width=3),
        )  # fmt: skip
        self.divider.setZValue(20)
        view.addItem(self.divider)
        self.divider.sigPositionChanged.connect(self._on_divider_moved)
        self.item_b = pg.ImageItem()
        self.pane_b.view.addItem(self.item_b)

        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=_colormap("inferno"), interactive=False, width=18,
                                        colorMapMenu=False)  # fmt: skip
        self.colorbar.getAxis("left").setStyle(showValues=False)
        self.colorbar.layout.setContentsMargins(1, 10, 1, 10)  # room for the end labels, centred on the ends
        self._colorbar_shown = False

        self.flicker_timer = QTimer(self)
        self.flicker_timer.timeout.connect(self.toggle_flicker)
        self.flicker_phase = 0  # 0 shows A, 1 shows B
        self.set_flicker_rate(DEFAULT_FLICKER_HZ)

        self.mode = CompareMode.SIDE_BY_SIDE
        self.reference: np.ndarray | None = None
        self.distorted: np.ndarray | None = None
        self.difference: np.ndarray | None = None
        self.difference_gain = 8.0
        self.visibility_colors: np.ndarray | None = None
        self.jnd_colors: np.ndarray | None = None
        self.jnd_range = (0.0, 1.0)
        self.jnd_label = "JND (gray levels)"
        #: What the visibility map measures (colour-bar label), what it is of (model, ppd, task), and how it is drawn.
        self.visibility_label, self.visibility_subject, self.visibility_over_luma = "|distortion| / JND", "", False
        self.map_note = ""  # the maps' scale, for an image with a preview (see set_map_note)
        self.opacity = 0.75
        self.wipe = 0.5
        self.titles = {"A": "A · original", "B": "B · distorted"}
        self.patch_layers = (PatchLayer(self.pane_a.view), PatchLayer(self.pane_b.view))
        self.patches: Any = None  # the PatchReport shown by the patch overlay
        self.patches_visible = False
        self.patch_note = ""
        self._fitted_shape: tuple[int, ...] | None = None
        self._auto_fit = True  # refit on resize until the user zooms or pans
        self._setting_divider = False

        for pane in (self.pane_a, self.pane_b):
            pane.graphics.scene().sigMouseMoved.connect(lambda pos, pane=pane: self._on_mouse(pane, pos))
        self.pane_a.view.sigRangeChanged.connect(lambda *_: self.zoom_changed.emit(self.zoom_percent()))
        self.zoom_changed.connect(lambda _: self._update_patch_text())
        self.pane_a.view.sigRangeChangedManually.connect(self._stop_auto_fit)
        self.pane_a.view.sigResized.connect(self._on_resized)
        self._apply_mode()

    # ------------------------------------------------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------------------------------------------------

    @property
    def image_rect(self) -> QRectF:
        if self.reference is None:
            return QRectF(0, 0, 1, 1)
        height, width = self.reference.shape[:2]
        return QRectF(0, 0, width, height)

    def set_reference(self, rgb: np.ndarray) -> None:
        """A new original image: clears everything derived from the previous one and fits it in the view."""
        self.reference = rgb
        self.distorted = None
        self.difference = None
        self.visibility_colors = None
        self.jnd_colors = None
        self.set_patches(None)
        self._apply_mode()
        if self._fitted_shape != rgb.shape:
            self._fitted_shape = rgb.shape
            self.fit()

    def set_distorted(self, rgb: np.ndarray) -> None:
        """The decoded image at the current level (only the items that show it are updated)."""
        self.distorted = rgb
        mode = self.mode
        if mode is CompareMode.DISTORTED or (mode is CompareMode.FLICKER and self.flicker_phase == 1):
            show_rgb(self.base, rgb)
        elif mode is CompareMode.SIDE_BY_SIDE:
            show_rgb(self.item_b, rgb)
        elif mode is CompareMode.WIPE:
            show_rgb(self.wipe_item, rgb)

    def set_difference(self, rgb: np.ndarray, gain: float) -> None:
        """The signed difference's colours (``views.signed_difference_image``) and the gain they were made with."""
        self.difference = rgb
        self.difference_gain = float(gain)
        if self.mode is CompareMode.DIFFERENCE:
            show_rgb(self.base, rgb)
            self._configure_colorbar()
            self._update_headers()

    def set_visibility(self, colors: np.ndarray, over_luma: bool = False) -> None:
        """The visibility colours (any size: stretched over the image), on their own or drawn over the luma."""
        self.visibility_colors, self.visibility_over_luma = colors, over_luma
        if self.mode is CompareMode.VISIBILITY:
            show_rgb(self.base, colors, self.image_rect)
            self._configure_colorbar()
            self._update_headers()

    def set_map_note(self, note: str) -> None:
        """What the visibility and JND headers add about the maps' scale (" · preview at 1/3 scale ...")."""
        self.map_note = note
        self._update_headers()

    def set_visibility_label(self, label: str, subject: str = "") -> None:
        """Name what the visibility map measures (``|distortion| / JND`` or the subband model's ratio) and what it is of
        (``subband model · 38 ppd · both tasks``, :func:`~jndviewer.core.visibility_picture.visibility_subject`)."""
        self.visibility_label, self.visibility_subject = label, subject
        if self.mode is CompareMode.VISIBILITY:
            self._configure_colorbar()
            self._update_headers()

    def set_jnd_layer(self, colors: np.ndarray, vmin: float, vmax: float, label: str) -> None:
        """The coloured JND map (or component) shown over the image in JND mode, with its colour-bar range."""
        self.jnd_colors = colors
        self.jnd_range = (vmin, vmax)
        self.jnd_label = label
        if self.mode is CompareMode.JND:
            show_rgb(self.overlay, colors, self.image_rect)
            self._configure_colorbar()
            self._update_headers()

    def set_titles(self, a: str, b: str) -> None:
        self.titles = {"A": a, "B": b}
        self._update_headers()

    # ------------------------------------------------------------------------------------------------------------
    # The patch overlay (SG-JND's or VP-JNDnet's)
    # ------------------------------------------------------------------------------------------------------------

    def set_patches(self, report: Any, note: str = "") -> None:
        """A patch network's patches of the level shown (a ``PatchReport``; None: none) and the line the headers add."""
        self.patches = report
        self.patch_note = note
        for layer in self.patch_layers:
            layer.show(report)
        self._update_patch_text()
        self._update_headers()

    def set_patches_visible(self, visible: bool) -> None:
        """Show or hide the patch overlay (in pane A, and in pane B when side by side)."""
        self.patches_visible = bool(visible)
        for layer in self.patch_layers:
            layer.set_visible(self.patches_visible)
        self._update_patch_text()
        self._update_headers()

    def patch_at(self, x: float, y: float) -> int | None:
        """The index of the shown patch under image point (x, y), or None (also when the overlay is off)."""
        if not self.patches_visible or self.patches is None:
            return None
        return self.patches.index_at(x, y)

    def patch_text(self, x: float, y: float) -> str:
        """``patch 5: weight 0.143, quality +1.20 (visible)`` for the patch under (x, y); "" where there is none."""
        index = self.patch_at(x, y)
        return "" if index is None else self.patches.describe(index)

    def _update_patch_text(self) -> None:
        """Write the weights in the patches only when a patch is large enough on screen to hold them."""
        if self.patches is None:
            return
        readable = self.patches.patch * self.zoom_percent() / 100.0 >= PATCH_TEXT_MIN_PX
        for layer in self.patch_layers:
            layer.set_text_visible(readable)

    # ------------------------------------------------------------------------------------------------------------
    # Mode, wipe, flicker, opacity
    # ------------------------------------------------------------------------------------------------------------

    def set_mode(self, mode: CompareMode) -> None:
        if mode is not self.mode:
            self.mode = mode
            self._apply_mode()

    def set_wipe(self, fraction: float) -> None:
        """Put the divider at ``fraction`` of the image width (A left of it, B right of it)."""
        self.wipe = min(1.0, max(0.0, float(fraction)))
        self._place_divider()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(1.0, max(0.0, float(opacity)))
        self.overlay.setOpacity(self.opacity)
        self._update_headers()

    def set_flicker_rate(self, hz: float) -> None:
        """Full A-B cycles per second: each image is shown for ``1 / (2 hz)`` seconds."""
        self.flicker_timer.setInterval(max(1, round(1000.0 / (2.0 * hz))))

    def toggle_flicker(self) -> None:
        """Show the other image of the flicker pair (the timer's slot)."""
        self.set_flicker_phase(1 - self.flicker_phase)

    def set_flicker_phase(self, phase: int) -> None:
        self.flicker_phase = 1 if phase else 0
        if self.mode is CompareMode.FLICKER:
            show_rgb(self.base, self.distorted if self.flicker_phase else self.reference)
            self._update_headers()

    def _apply_mode(self) -> None:
        mode = self.mode
        self.pane_b.setVisible(mode is CompareMode.SIDE_BY_SIDE)
        self.wipe_clip.setVisible(mode is CompareMode.WIPE)
        self.divider.setVisible(mode is CompareMode.WIPE)
        self.overlay.setVisible(mode is CompareMode.JND)
        if mode is not CompareMode.FLICKER:
            self.flicker_timer.stop()
        base: np.ndarray | None = self.reference
        rect = None
        if mode is CompareMode.DISTORTED:
            base = self.distorted
        elif mode is CompareMode.DIFFERENCE:
            base = self.difference
        elif mode is CompareMode.VISIBILITY:
            base, rect = self.visibility_colors, self.image_rect
        elif mode is CompareMode.FLICKER:
            self.flicker_phase = 0
            if not self.flicker_timer.isActive():
                self.flicker_timer.start()
        show_rgb(self.base, base, rect)
        if mode is CompareMode.SIDE_BY_SIDE:
            show_rgb(self.item_b, self.distorted)
        else:
            self.item_b.clear()
        if mode is CompareMode.WIPE:
            show_rgb(self.wipe_item, self.distorted)
            self._place_divider()
        else:
            self.wipe_item.clear()
        if mode is CompareMode.JND:
            show_rgb(self.overlay, self.jnd_colors, self.image_rect)
            self.overlay.setOpacity(self.opacity)
        else:
            self.overlay.clear()
        self._configure_colorbar()
        self._update_headers()

    def _configure_colorbar(self) -> None:
        want = self.mode.has_colorbar and self.reference is not None
        layout = self.pane_a.graphics.ci
        if want and not self._colorbar_shown:
            layout.addItem(self.colorbar, row=0, col=1)
            self._colorbar_shown = True
        elif not want and self._colorbar_shown:
            layout.removeItem(self.colorbar)
            self._colorbar_shown = False
        if not want:
            return
        axis = self.colorbar.axis
        label = self.colorbar.getAxis("left")
        if self.mode is CompareMode.DIFFERENCE:
            limit = difference_range(self.difference_gain)
            self.colorbar.setColorMap(_colormap("diverging"))
            self.colorbar.setLevels((-limit, limit))
            ticks = [(v, f"{v:+.3g}" if v else "0") for v in (-limit, -limit / 2, 0.0, limit / 2, limit)]
            axis.setTicks([ticks, []])
            label.setLabel(f"B − A, luma (gray levels), gain ×{self.difference_gain:g}")
        elif self.mode is CompareMode.VISIBILITY:
            configure_visibility_colorbar(self.colorbar, self.visibility_over_luma, self.visibility_label)
        else:
            self.colorbar.setColorMap(_colormap("inferno"))
            self.colorbar.setLevels(self.jnd_range)
            axis.setTicks(None)
            label.setLabel(self.jnd_label)

    def _update_headers(self) -> None:
        a, b = self.titles["A"], self.titles["B"]
        mode = self.mode
        text = {
            CompareMode.ORIGINAL: a,
            CompareMode.DISTORTED: b,
            CompareMode.SIDE_BY_SIDE: a,
            CompareMode.WIPE: f"{a}   ◀ A | B ▶   {b}",
            CompareMode.FLICKER: f"Flicker, now showing {b if self.flicker_phase else a}",
            CompareMode.DIFFERENCE: f"Difference B − A (luma) ×{self.difference_gain:g}: red brighter, blue darker, "
                                    f"full at ±{difference_range(self.difference_gain):.3g} gray levels   {b}",
            CompareMode.VISIBILITY: visibility_header(self.visibility_label, self.visibility_subject, self.map_note,
                                                      self.visibility_over_luma, b),
            CompareMode.JND: f"JND map · {self.jnd_label}{self.map_note} · over the original "
                             f"(opacity {self.opacity:.0%})",
        }[mode]
        self.pane_a.header.setText(text)
        self.pane_b.header.setText(b)
        note = self.patch_note if self.patches_visible else ""
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))

    def _place_divider(self) -> None:
        rect = self.image_rect
        x = rect.width() * self.wipe
        self._setting_divider = True
        try:
            self.divider.setBounds((0, rect.width()))
            self.divider.setValue(x)
        finally:
            self._setting_divider = False
        self.wipe_clip.setRect(QRectF(x, 0, rect.width() - x, rect.height()))

    def _on_divider_moved(self) -> None:
        width = self.image_rect.width()
        x = min(width, max(0.0, float(self.divider.value())))
        self.wipe_clip.setRect(QRectF(x, 0, width - x, self.image_rect.height()))
        if not self._setting_divider:
            self.wipe = x / width
            self.wipe_moved.emit(self.wipe)

    # ------------------------------------------------------------------------------------------------------------
    # Zoom and readout
    # ------------------------------------------------------------------------------------------------------------

    def fit(self) -> None:
        """Show the whole image (and keep it fitted when the panes change size, until the user zooms or pans)."""
        self._auto_fit = True
        self.pane_a.view.setRange(self.image_rect, padding=0.0)

    def show_region(self, rect: QRectF) -> None:
        """Zoom to a rectangle of the image (x, y, width, height in image pixels)."""
        self._auto_fit = False
        self.pane_a.view.setRange(rect, padding=0.0)

    def _stop_auto_fit(self, *_: Any) -> None:
        self._auto_fit = False

    def _on_resized(self, *_: Any) -> None:
        if self._auto_fit and self.reference is not None:
            self.pane_a.view.setRange(self.image_rect, padding=0.0)

    def zoom_percent(self) -> float:
        """Screen pixels per image pixel, in percent."""
        size = self.pane_a.view.viewPixelSize()
        return 100.0 / size[0] if size[0] > 0 else 100.0

    def zoom_to(self, percent: float) -> None:
        """Zoom about the centre of the view to ``percent`` (100: one image pixel per screen pixel)."""
        view = self.pane_a.view
        centre = view.viewRect().center()
        rect = view.boundingRect()
        scale = 100.0 / percent
        width, height = rect.width() * scale, rect.height() * scale
        self._auto_fit = False
        view.setRange(QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height), padding=0.0)

    def one_to_one(self) -> None:
        self.zoom_to(100.0)

    def zoom_step(self, direction: int) -> None:
        """Zoom to the next stop in :data:`ZOOM_STOPS` (direction +1 in, -1 out)."""
        current = self.zoom_percent()
        if direction > 0:
            target = next((s for s in ZOOM_STOPS if s > current * 1.01), ZOOM_STOPS[-1])
        else:
            target = next((s for s in reversed(ZOOM_STOPS) if s < current / 1.01), ZOOM_STOPS[0])
        self.zoom_to(target)

    def _on_mouse(self, pane: ImagePane, pos: QPointF) -> None:
        point = pane.image_point(pos)
        if point is None or self.reference is None:
            self.hovered.emit(None)
            return
        x, y = math.floor(point.x()), math.floor(point.y())
        height, width = self.reference.shape[:2]
        self.hovered.emit((x, y) if 0 <= x < width and 0 <= y < height else None)

    def image_to_widget(self, x: float, y: float, pane: ImagePane | None = None) -> tuple[int, int]:
        """Where an image point is drawn, in the coordinates of ``pane.graphics`` (for tests and screenshots)."""
        pane = pane or self.pane_a
        scene = pane.view.mapViewToScene(QPointF(x, y))
        widget = pane.graphics.mapFromScene(scene)
        return widget.x(), widget.y()

    def displayed(self) -> dict[str, Any]:
        """The arrays each item shows now (for tests): ``base``, ``b``, ``wipe``, ``overlay``."""
        return {
            "base": self.base.image,
            "b": self.item_b.image,
            "wipe": self.wipe_item.image,
            "overlay": self.overlay.image,
        }
