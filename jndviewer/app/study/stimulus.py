"""The study's stimulus: images at one image pixel per device pixel, side by side or flickering on counted frames.

A :class:`StimulusView` shows one or more panels (each a reference or a distorted image, or a pair that alternates)
on a mid-grey field, centred, with nothing else on it: no level, size, file name or prediction. Flicker is timed by
a :class:`jndviewer.core.study.protocols.FlickerClock`: a precise timer wakes every few milliseconds, the frame index
is counted from the refresh clock since the presentation began, and a panel switches when the frame count crosses a
multiple of the frames per switch, never after a sleep. Every switch's time is logged (``switch_times``) for the
flicker benchmark.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from jndviewer.core.study.protocols import FlickerClock

#: The field's grey (sRGB 128) and the gap between panels in device pixels.
FIELD_GREY = 128
PANEL_GAP = 24
#: How often the flicker timer wakes (ms): well under one 60 Hz frame, so a switch is late by at most this.
TICK_MS = 2


def to_qimage(rgb: np.ndarray) -> QImage:
    """An H x W x 3 uint8 array as a QImage that owns a copy of its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class StimulusView(QWidget):
    """Panels of images at 1:1 device pixels; a panel given two images alternates between them (flicker)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(False)
        self._panels: list[tuple[QImage, QImage | None]] = []
        self._clock: FlickerClock | None = None
        self._started = 0.0
        self._frame = -1
        self._distorted_phase = False
        self.switch_times: list[float] = []
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def show_panels(
        self, panels: list[tuple[np.ndarray, np.ndarray | None]], clock: FlickerClock | None = None
    ) -> None:
        """Show ``panels`` left to right: (image, None) stays still, (reference, other) alternates on ``clock``
        starting with the reference."""
        self._panels = [(to_qimage(a), None if b is None else to_qimage(b)) for a, b in panels]
        self._clock = clock if any(b is not None for _, b in self._panels) else None
        self._distorted_phase = False
        self._frame = -1
        self.switch_times = []
        self._started = time.perf_counter()
        if self._clock is not None:
            self._timer.start()
        else:
            self._timer.stop()
        self.update()

    def clear(self) -> None:
        self._panels = []
        self._timer.stop()
        self.update()

    def stop(self) -> None:
        self._timer.stop()

    def needed_device_size(self) -> tuple[int, int]:
        """Device pixels the panels need side by side (with their gaps)."""
        if not self._panels:
            return 0, 0
        width = sum(a.width() for a, _ in self._panels) + PANEL_GAP * (len(self._panels) - 1)
        return width, max(a.height() for a, _ in self._panels)

    @property
    def showing_distorted(self) -> bool:
        return self._distorted_phase

    def _tick(self) -> None:
        assert self._clock is not None
        frame = self._clock.frame_at(time.perf_counter() - self._started)
        if frame == self._frame:
            return
        self._frame = frame
        phase = self._clock.distorted_at(frame)
        if phase != self._distorted_phase:
            self._distorted_phase = phase
            self.switch_times.append(time.perf_counter())
            self.repaint()  # now, not at the next event-loop pass

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(FIELD_GREY, FIELD_GREY, FIELD_GREY))
        if not self._panels:
            return
        ratio = self.devicePixelRatioF()
        width, height = self.needed_device_size()
        x = int((self.width() * ratio - width) / 2)
        y = int((self.height() * ratio - height) / 2)
        painter.scale(1 / ratio, 1 / ratio)  # draw in device pixels: one image pixel on one device pixel
        for still, other in self._panels:
            image = other if other is not None and self._distorted_phase else still
            painter.drawImage(QPoint(x, y), image)
            x += still.width() + PANEL_GAP
        painter.end()
