"""The wheel changes a value only in a focused control: over any other spin box, combo box or slider it scrolls the
panel the control sits in (a long scrolled panel of controls otherwise changes every value the cursor passes)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

#: The kinds of control whose value the wheel changes.
GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """An event filter: a wheel event over an unfocused control goes to the enclosing scroll area instead."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        area = _scroll_area(watched)
        if area is not None:
            QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        event.accept()  # consumed: the control keeps its value either way
        return True


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def guard_wheel(root: QWidget) -> None:
    """Guard every spin box, combo box and slider under ``root`` (again after adding controls: it is idempotent).

    The controls no longer take focus from the wheel (``StrongFocus``): a click or Tab focuses them, and then the
    wheel changes their value as usual.
    """
    guard = root.findChild(WheelGuard, "wheel_guard")
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheel_guard")
    for kind in GUARDED:
        for widget in root.findChildren(kind):
            if isinstance(widget, QScrollBar) or widget.property("wheel_guarded"):
                continue
            widget.setProperty("wheel_guarded", True)
            if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(guard)


__all__ = ["WheelGuard", "guard_wheel"]
