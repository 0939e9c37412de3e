"""Before a study: who observes, which images, which protocol and task, and how the screen is seen.

The screen is calibrated on screen: the observer holds a credit-card-sized card (ISO/IEC 7810 ID-1, 85.60 mm wide)
against a rectangle and widens or narrows it until both match; with the viewing distance entered this gives
millimetres per device pixel and pixels per degree (:class:`jndviewer.core.study.model.StudyConditions`), recorded
with the session with the screen's geometry, device-pixel ratio and refresh rate.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    FLICKER_ADJUSTMENT,
    FORCED_CHOICE,
    ScreenGeometry,
    StudyConditions,
    mm_per_pixel,
)
from jndviewer.core.study.store import StudyStore
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, TASK_WORDS

PROTOCOL_WORDS = {
    FLICKER_ADJUSTMENT: "Flicker adjustment (KonJND-1k): move a slider until the image flickers",
    BINARY_SEARCH: "Same or different (MCL-JCI): a binary search over the levels",
    FORCED_CHOICE: "Forced choice (QUEST+): which of two holds the distortion",
}
#: The largest part of the explorer's current image a study shows (its centre): KonJND-1k's 640x480.
CROP = (640, 480)
#: The card rectangle's starting width in device pixels (a 96-dpi screen's card: 85.6 mm at 0.2646 mm/px).
DEFAULT_CARD_PIXELS = 324


class CardRuler(QWidget):
    """A card-sized rectangle whose width (device pixels) the observer matches to a real card."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card_pixels = DEFAULT_CARD_PIXELS
        self.setMinimumHeight(240)

    def set_card_pixels(self, pixels: int) -> None:
        self.card_pixels = int(pixels)
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        ratio = self.devicePixelRatioF()
        painter.scale(1 / ratio, 1 / ratio)
        width = self.card_pixels
        height = width * CARD_HEIGHT_MM / CARD_WIDTH_MM
        painter.setPen(QPen(QColor(30, 30, 30), 2))
        painter.setBrush(QColor(220, 220, 235))
        painter.drawRoundedRect(QRectF(10, 10, width, height), 12, 12)
        painter.end()


@dataclass(frozen=True)
class StudyChoice:
    """What the setup dialog decided: a new session's settings, or a session to resume."""

    observer: str
    resume: str | None = None
    study_set: str = "default"
    protocol: str = FLICKER_ADJUSTMENT
    conditions: StudyConditions | None = None
    seed: int = 0
    #: How many of the set's images to show (a seeded random choice); None: all of them.
    limit: int | None = None


class StudySetupDialog(QDialog):
    """Observer, study set, protocol, task, distance and screen calibration; or an unfinished session to resume."""

    def __init__(self, store: StudyStore, current_image: Path | None = None, parent: QWidget | None = None,
                 preset: str | None = None, current_codec: str = "jpeg") -> None:
        super().__init__(parent)
        self.setWindowTitle("Run a study")
        self.store = store
        self.choice: StudyChoice | None = None
        self.observer = QLineEdit()
        self.observer.setPlaceholderText("a pseudonym, e.g. obs-01 (not a name)")
        self.sets = QComboBox()
        self.sets.addItem("The shipped set (8 image crops, JPEG)", "default")
        if current_image is not None:
            self.sets.addItem(f"The current image ({current_image.name}, at most its centre {CROP[0]}x{CROP[1]}), "
                              f"{current_codec}", f"image:{current_codec}:{current_image}")
        self.sets.addItem("A folder of images…", "folder")
        self.sets.addItem("A study set file…", "file")
        if preset and preset != "default":
            self.sets.insertItem(0, f"Given: {preset.partition(':')[2]}", preset)
            self.sets.setCurrentIndex(0)
        self.sets.activated.connect(self._choose_set_path)
        self.limit = QSpinBox(minimum=0, maximum=500, value=0, specialValueText="all of them")
        self.protocol = QComboBox()
        for name, words in PROTOCOL_WORDS.items():
            self.protocol.addItem(words, name)
        self.task = QComboBox()
        for task in (FLICKER, SIDE_BY_SIDE):
            self.task.addItem(TASK_WORDS[task], task)
        self.protocol.currentIndexChanged.connect(self._protocol_changed)
        self.distance = QDoubleSpinBox(decimals=1, minimum=10.0, maximum=500.0, value=60.0, suffix=" cm")
        self.card = CardRuler()
        self.card_pixels = QSpinBox(minimum=80, maximum=2000, value=DEFAULT_CARD_PIXELS, suffix=" px")
        self.card_pixels.valueChanged.connect(self.card.set_card_pixels)
        self.card_pixels.valueChanged.connect(self._update_ppd)
        self.distance.valueChanged.connect(self._update_ppd)
        self.ppd = QLabel()
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=secrets.randbelow(2**31))
        form = QFormLayout()
        form.addRow("Observer ID", self.observer)
        form.addRow("Images", self.sets)
        form.addRow("How many", self.limit)
        form.addRow("Protocol", self.protocol)
        form.addRow("Viewing task", self.task)
        form.addRow("Viewing distance", self.distance)
        card_help = QLabel("Hold a credit card (85.60 mm wide) flat against the screen and change the width until "
                           "the rectangle below is exactly as wide as the card.")
        card_help.setWordWrap(True)
        form.addRow("Screen size", card_help)
        form.addRow("Rectangle width", self.card_pixels)
        form.addRow("Pixels per degree", self.ppd)
        form.addRow("Random seed", self.seed)
        self.unfinished = QListWidget()
        self.unfinished.setMaximumHeight(90)
        self.resume_button = QPushButton("Resume the selected session")
        self.resume_button.clicked.connect(self._resume)
        self.observer.textChanged.connect(self._list_unfinished)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._start)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color: #a00;")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.card)
        resume_row = QHBoxLayout()
        resume_row.addWidget(QLabel("Unfinished sessions of this observer:"))
        resume_row.addWidget(self.resume_button)
        layout.addLayout(resume_row)
        layout.addWidget(self.unfinished)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._custom_sets: dict[int, str] = {}
        self._protocol_changed()
        self._update_ppd()
        self._list_unfinished()

    # --- fields -------------------------------------------------------------------------------------------------

    def _protocol_changed(self) -> None:
        flicker_only = self.protocol.currentData() == FLICKER_ADJUSTMENT
        if flicker_only:
            self.task.setCurrentIndex(self.task.findData(FLICKER))
        self.task.setEnabled(not flicker_only)

    def _choose_set_path(self, index: int) -> None:
        kind = self.sets.itemData(index)
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(self, "Folder of images")
            if path:
                self.sets.setItemData(index, f"folder:{path}")
        elif kind == "file":
            path, _ = QFileDialog.getOpenFileName(self, "Study set", "", "Study sets (*.json)")
            if path:
                self.sets.setItemData(index, f"file:{path}")

    def screen_geometry(self) -> ScreenGeometry:
        screen = self.screen()
        size = screen.geometry()
        return ScreenGeometry(screen.name(), size.width(), size.height(), float(screen.devicePixelRatio()),
                              float(screen.refreshRate() or 60.0))

    def conditions(self) -> StudyConditions:
        pixel_mm = mm_per_pixel(self.card_pixels.value())
        return StudyConditions(str(self.task.currentData()), self.distance.value() * 10.0, pixel_mm,
                               float(self.card_pixels.value()), self.screen_geometry())

    def _update_ppd(self) -> None:
        try:
            conditions = self.conditions()
        except JndViewerError as error:
            self.ppd.setText(str(error))
            return
        self.ppd.setText(f"{conditions.ppd:.1f} ({conditions.mm_per_pixel:.3f} mm per screen pixel)")

    def _list_unfinished(self) -> None:
        self.unfinished.clear()
        observer = self.observer.text().strip()
        if not observer:
            return
        for info in self.store.sessions(observer=observer, unfinished=True):
            text = (f"{info.started[:16].replace('T', ' ')} · {info.protocol} · {TASK_WORDS[info.conditions.task]} · "
                    f"{info.runs_done} of {len(info.plan)} done")
            entry = QListWidgetItem(text)
            entry.setData(Qt.ItemDataRole.UserRole, info.session_id)
            self.unfinished.addItem(entry)
        if self.unfinished.count():
            self.unfinished.setCurrentRow(self.unfinished.count() - 1)

    # --- decisions ----------------------------------------------------------------------------------------------

    def _resume(self) -> None:
        entry = self.unfinished.currentItem()
        if entry is None:
            self.error.setText("There is no unfinished session of this observer to resume.")
            return
        self.choice = StudyChoice(self.observer.text().strip(), resume=str(entry.data(Qt.ItemDataRole.UserRole)))
        self.accept()

    def _start(self) -> None:
        observer = self.observer.text().strip()
        study_set = str(self.sets.currentData())
        try:
            if not observer:
                raise JndViewerError("Enter an observer ID (a pseudonym such as obs-01).")
            if study_set in ("folder", "file"):
                raise JndViewerError("Choose the folder or the study set file first.")
            conditions = self.conditions()
        except JndViewerError as error:
            self.error.setText(str(error))
            return
        self.choice = StudyChoice(observer, None, study_set, str(self.protocol.currentData()), conditions,
                                  self.seed.value(), self.limit.value() or None)
        self.accept()


def resolve_study_set(spec: str) -> Any:
    """The study set a setup choice names: ``default``, ``image:CODEC:PATH`` (the explorer's current image and codec,
    cropped to at most its centre :data:`CROP`), ``image:PATH`` (JPEG), ``folder:PATH`` or ``file:PATH``."""
    from PIL import Image

    from jndviewer.core.codecs import CODECS
    from jndviewer.core.study import sets

    kind, _, value = spec.partition(":")
    if kind == "default":
        return sets.default_study_set()
    if kind == "image":
        codec, _, rest = value.partition(":")
        if codec not in CODECS:
            codec, rest = "jpeg", value
        try:
            with Image.open(rest) as image:
                width, height = image.size
        except OSError as error:
            raise JndViewerError(f"{Path(rest).name} cannot be read as an image ({error}).") from None
        w, h = min(width, CROP[0]), min(height, CROP[1])
        crop = ((width - w) // 2, (height - h) // 2, w, h) if (w, h) != (width, height) else None
        return sets.study_set_from_image(Path(rest), codec=codec, crop=crop)
    if kind == "folder":
        return sets.study_set_from_folder(Path(value))
    if kind == "file":
        return sets.load_study_set(Path(value))
    raise JndViewerError(f"Unknown study set {spec!r}.")
