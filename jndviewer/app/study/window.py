"""The study window: one trial after another, blind, every answer stored before the next trial is shown.

It only drives :class:`jndviewer.core.study.session.StudyRunner`: it shows the runner's presentation
(:class:`.stimulus.StimulusView`), forwards the observer's answers and times, and shows the rest reminder. Nothing on
screen during a trial names a level, a size, a prediction or a file: the texts are the protocol's instructions and a
progress bar without numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import BINARY_SEARCH, FLICKER_ADJUSTMENT, FORCED_CHOICE
from jndviewer.core.study.protocols import BinarySearch, FlickerAdjustment, FlickerClock, ForcedChoice
from jndviewer.core.study.session import StudyRunner
from jndviewer.core.viewing import FLICKER

from .stimulus import PANEL_GAP, StimulusView

#: Room the instructions and the answer buttons take below and above the images (logical pixels).
CONTROLS_HEIGHT = 180

INSTRUCTIONS = {
    FLICKER_ADJUSTMENT: "The image switches between the original and a copy. Move the slider to the right (arrow "
                        "keys) until you first see the image flicker, then press Enter. If it never flickers, press N.",
    (BINARY_SEARCH, "side-by-side"): "Is the right image the same as the left one? Press S for same, D for different.",
    (BINARY_SEARCH, FLICKER): "The image switches between the original and a copy. Do you see it flicker? Press S for "
                              "no (same), D for yes (different).",
    (FORCED_CHOICE, "side-by-side"): "One of the two outer images differs from the middle one. Which one? Press the "
                                     "left or right arrow key.",
    (FORCED_CHOICE, FLICKER): "One of the two images flickers. Which one? Press the left or right arrow key.",
}
REST_TEXT = "Time for a short rest: look away from the screen for a minute. Press Space to go on."
DONE_TEXT = "Thank you: the study is finished and every answer is saved."


def check_display(device_pixel_ratio: float, available: tuple[int, int], needed: tuple[int, int]) -> None:
    """Refuse, in one sentence, a screen that cannot show the study's images at one image pixel per device pixel."""
    if abs(device_pixel_ratio - 1.0) > 1e-6:
        raise JndViewerError(f"The study needs the display scale at 100 % (it is {device_pixel_ratio * 100:.0f} %), so "
                             f"that one image pixel is one screen pixel; change the scale and start again.")
    if needed[0] > available[0] or needed[1] + CONTROLS_HEIGHT > available[1]:
        raise JndViewerError(f"The study images need {needed[0]}x{needed[1] + CONTROLS_HEIGHT} screen pixels with "
                             f"their controls and this screen has {available[0]}x{available[1]}; use a larger screen "
                             f"or a study set of smaller images.")


def stimulus_size(protocol: str, task: str, image_size: tuple[int, int]) -> tuple[int, int]:
    """Device pixels the images of one item (``image_size`` = width, height) need as ``protocol`` and ``task`` show
    them: one place for flicker, reference and test side by side, three for a side-by-side forced choice."""
    w, h = image_size
    panels = 1 if task == FLICKER else 2
    if protocol == FORCED_CHOICE:
        panels = 2 if task == FLICKER else 3
    return panels * w + (panels - 1) * PANEL_GAP, h


class StudyWindow(QWidget):
    """Runs the trials of one session (see the module docstring). ``images(item)`` gives an object with
    ``reference`` (the reference's pixels) and ``decoded(level)``."""

    finished = Signal(str)  # session id

    def __init__(self, runner: StudyRunner, images: Callable[[Any], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._images = images
        self._cache: dict[str, Any] = {}
        self._presented_at = 0.0
        self._resting = False
        self.task = runner.session.conditions.task
        self.setWindowTitle("jndviewer study")
        self.setStyleSheet("background: rgb(128, 128, 128); color: black;")
        self.instructions = QLabel(self._instruction_text())
        self.instructions.setWordWrap(True)
        self.instructions.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setRange(0, runner.total_runs)
        self.progress.setMaximumHeight(8)
        self.stimulus = StimulusView()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the window's arrow keys move it, a step at a time
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for response, text in self._answers():
            button = QPushButton(text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, r=response: self.answer(r))
            self.buttons[response] = button
            row.addWidget(button)
        self.continue_button = QPushButton("Continue")
        self.continue_button.clicked.connect(self.resume_after_rest)
        self.continue_button.hide()
        row.addWidget(self.continue_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.instructions)
        layout.addWidget(self.stimulus, 1)
        layout.addWidget(self.slider)
        layout.addLayout(row)
        self.slider.setVisible(runner.session.protocol == FLICKER_ADJUSTMENT)
        self.slider.valueChanged.connect(self._slider_moved)
        self._key_actions = self._keys()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._show_current()

    # --- layout and keys ----------------------------------------------------------------------------------------

    def _instruction_text(self) -> str:
        protocol = self.runner.session.protocol
        return INSTRUCTIONS.get(protocol) or INSTRUCTIONS[(protocol, self.task)]

    def _answers(self) -> list[tuple[str, str]]:
        protocol = self.runner.session.protocol
        if protocol == FLICKER_ADJUSTMENT:
            return [("visible", "I see it flicker (Enter)"), ("none", "It never flickers (N)")]
        if protocol == BINARY_SEARCH:
            return [("same", "Same (S)"), ("different", "Different (D)")]
        return [("first", "Left (←)"), ("second", "Right (→)")]

    def _keys(self) -> dict[int, Callable[[], None]]:
        """The keys of this protocol (Space ends a rest)."""
        protocol = self.runner.session.protocol
        keys: dict[int, Callable[[], None]] = {Qt.Key.Key_Space: self.resume_after_rest}
        if protocol == FLICKER_ADJUSTMENT:
            keys.update({Qt.Key.Key_Return: lambda: self.answer("visible"), Qt.Key.Key_Enter: lambda: self.answer(
                "visible"), Qt.Key.Key_N: lambda: self.answer("none"), Qt.Key.Key_Right: lambda: self.step(1),
                Qt.Key.Key_Left: lambda: self.step(-1)})
        elif protocol == BINARY_SEARCH:
            keys.update({Qt.Key.Key_S: lambda: self.answer("same"), Qt.Key.Key_D: lambda: self.answer("different")})
        else:
            keys.update({Qt.Key.Key_Left: lambda: self.answer("first"), Qt.Key.Key_Right: lambda: self.answer(
                "second")})
        return keys

    def keyPressEvent(self, event: Any) -> None:
        action = self._key_actions.get(event.key())
        held = event.isAutoRepeat() and not (self.runner.session.protocol == FLICKER_ADJUSTMENT
                                             and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right))
        if action is None or held:  # a held key moves the slider, never answers twice
            super().keyPressEvent(event)
            return
        action()

    # --- trials -------------------------------------------------------------------------------------------------

    def _item_images(self, item: Any) -> Any:
        key = item.item_id
        if key not in self._cache:
            self._cache.clear()  # one item's ladder at a time
            self._cache[key] = self._images(item)
        return self._cache[key]

    def _pixels(self, item: Any, level: int | None) -> Any:
        images = self._item_images(item)
        return images.reference if level is None else images.decoded(level)

    def _clock(self) -> FlickerClock:
        return FlickerClock(self.runner.session.conditions.screen.refresh_hz)

    def _show_current(self) -> None:
        runner = self.runner
        self.progress.setValue(runner.run_index)
        if runner.done:
            self.stimulus.clear()
            self.instructions.setText(DONE_TEXT)
            for button in self.buttons.values():
                button.hide()
            self.slider.hide()
            self.finished.emit(runner.session_id)
            return
        if runner.rest_due():
            self._resting = True
            self.stimulus.clear()
            self.instructions.setText(REST_TEXT)
            for button in self.buttons.values():
                button.setEnabled(False)
            self.continue_button.show()
            return
        protocol = runner.protocol
        if isinstance(protocol, FlickerAdjustment):
            self.slider.blockSignals(True)
            self.slider.setRange(0, protocol.slider_max)
            self.slider.setValue(protocol.slider)
            self.slider.blockSignals(False)
            protocol.start(runner.now())
        self._present()
        self._presented_at = runner.now()

    def _present(self) -> None:
        protocol = self.runner.protocol
        item = protocol.item
        levels = protocol.presentation().levels
        reference = self._pixels(item, None)
        shown = [self._pixels(item, level) for level in levels]
        if isinstance(protocol, ForcedChoice):
            if self.task == FLICKER:
                panels = [(reference, shown[0]), (reference, shown[1])]
            else:
                panels = [(shown[0], None), (reference, None), (shown[1], None)]
        elif self.task == FLICKER:
            panels = [(reference, shown[0])]
        else:
            panels = [(reference, None), (shown[0], None)]
        self.stimulus.show_panels(panels, self._clock())

    def step(self, delta: int) -> None:
        """Move the flicker slider by ``delta`` steps (arrow keys)."""
        if not self._resting and isinstance(self.runner.protocol, FlickerAdjustment):
            self.slider.setValue(self.slider.value() + delta)

    def _slider_moved(self, value: int) -> None:
        protocol = self.runner.protocol
        if isinstance(protocol, FlickerAdjustment) and not self._resting:
            protocol.move(value, self.runner.now())
            self._present()

    def answer(self, response: str) -> None:
        """The observer's answer to the trial on screen: stored, then the next trial is shown."""
        if self._resting or self.runner.done:
            return
        protocol = self.runner.protocol
        now = self.runner.now()
        if isinstance(protocol, FlickerAdjustment):
            if response not in ("visible", "none"):
                return
            trial = protocol.answer(response, now)
        elif isinstance(protocol, BinarySearch):
            if response not in ("same", "different"):
                return
            trial = protocol.answer(response, self._presented_at, now)
        else:
            if response not in ("first", "second"):
                return
            trial = protocol.answer(response, self._presented_at, now)
        self.runner.record(trial)
        self._show_current()

    def resume_after_rest(self) -> None:
        if not self._resting:
            return
        self._resting = False
        self.runner.rested()
        self.continue_button.hide()
        self.instructions.setText(self._instruction_text())
        for button in self.buttons.values():
            button.setEnabled(True)
        self._show_current()

    def closeEvent(self, event: Any) -> None:
        self.stimulus.stop()
        super().closeEvent(event)
