"""The bar over the images when the view is a viewing task's: which task the shown predictions are for, and the
view's own task's prediction in one click.

People see distortion at much better quality when the images alternate in place than side by side, so a user who
flickers at a side-by-side PW-JND sees the distortion, and one who compares side by side at a flicker PW-JND does not.
In Flicker mode this bar says which task the predictions on screen are for and, when it is not the flicker task,
offers it; with the flicker task it says at which rate that task was calibrated when the view flickers at another.
In Side by side mode it appears only when the predictions are for the flicker task, and offers the side-by-side ones.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from jndviewer.app.modes import DEFAULT_FLICKER_HZ, CompareMode
from jndviewer.app.state import ViewState
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASK_WORDS

#: The bar's background: a pale yellow that reads as a note, not an error.
STYLE = "background: #fff4c2; color: #3d3200; padding: 3px 6px;"


class TaskBar(QWidget):
    """Shown in Flicker mode, and in Side by side mode for the flicker task (see the module docstring)."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("task_bar")
        self.setStyleSheet(STYLE)
        self.label = QLabel("")
        self.label.setObjectName("task_note")
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.button = QPushButton("Predict for the flicker task")
        self.button.setObjectName("predict_task")
        self.button.clicked.connect(lambda: setattr(self.state, "task", self._offered))
        self._offered = FLICKER
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        for signal in (state.mode_changed, state.task_changed, state.ppd_changed, state.flicker_hz_changed):
            signal.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        s = self.state
        where = f"{s.ppd:g} ppd"
        side_by_side_view = s.mode is CompareMode.SIDE_BY_SIDE and s.task == FLICKER
        self.setVisible(s.mode is CompareMode.FLICKER or side_by_side_view)
        if side_by_side_view:
            text = (f"The PW-JNDs shown are for the flicker task at {where}. Side by side, distortion shows only at "
                    "worse quality: at those levels you will likely not see it.")
            self._offer(SIDE_BY_SIDE)
        elif s.task == FLICKER:
            text = f"The PW-JNDs shown are for the flicker task at {where}: what this view shows."
            shown_ms = 1000.0 / (2.0 * s.flicker_hz)
            calibrated_ms = 1000.0 / (2.0 * DEFAULT_FLICKER_HZ)
            if abs(shown_ms - calibrated_ms) > 0.5:
                text += (f" It was calibrated with each image shown {calibrated_ms:.0f} ms (KonJND-1k's rate); "
                         f"this view shows each for {shown_ms:.0f} ms.")
            self._offer(None)
        else:
            text = (f"The PW-JNDs shown are for the {TASK_WORDS[s.task]} task at {where}. Flickering, distortion shows "
                    "at much better quality: at those levels you will likely see it.")
            self._offer(FLICKER)
        self.label.setText(text)

    def _offer(self, task: str | None) -> None:
        """Show the button that sets ``task`` (hidden for None)."""
        self.button.setVisible(task is not None)
        if task is not None:
            self._offered = task
            self.button.setText(f"Predict for the {TASK_WORDS[task]} task")
            self.button.setToolTip(f"Set the viewing task to {TASK_WORDS[task]}: every predictor predicts again "
                                   "for it")

__all__ = ["TaskBar"]
