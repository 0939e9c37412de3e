"""Small dialogs: the viewing condition (screen size, resolution, distance -> pixels per degree) and the shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import DISPLAY_PRESETS, ppd_from_display


class ViewingConditionDialog(QDialog):
    """Compute pixels per degree from a screen and a viewing distance.

    ``ppd = distance * tan(1 deg) * horizontal pixels / screen width``, the screen width following from the diagonal
    and the aspect ratio of the resolution (square pixels).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Viewing condition")
        form = QFormLayout()
        self.preset = QComboBox()
        self.preset.addItem("Custom", None)
        for preset in DISPLAY_PRESETS:
            self.preset.addItem(preset[0], preset)
        self.diagonal = QDoubleSpinBox(decimals=1, minimum=1.0, maximum=300.0, value=24.0, suffix=" in")
        self.width_px = QSpinBox(minimum=16, maximum=16384, value=1920, suffix=" px")
        self.height_px = QSpinBox(minimum=16, maximum=16384, value=1080, suffix=" px")
        self.distance = QDoubleSpinBox(decimals=1, minimum=5.0, maximum=2000.0, value=60.0, suffix=" cm")
        self.result = QLabel()
        form.addRow("Preset", self.preset)
        form.addRow("Screen diagonal", self.diagonal)
        form.addRow("Horizontal resolution", self.width_px)
        form.addRow("Vertical resolution", self.height_px)
        form.addRow("Viewing distance", self.distance)
        form.addRow("Pixels per degree", self.result)
        note = QLabel("ppd = distance · tan(1°) · horizontal pixels / screen width")
        note.setStyleSheet("color: gray;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        for widget in (self.diagonal, self.width_px, self.height_px, self.distance):
            widget.valueChanged.connect(self._update)
        self._update()

    def _apply_preset(self) -> None:
        preset = self.preset.currentData()
        if preset is None:
            return
        _, diagonal, width, height, distance = preset
        for widget, value in ((self.diagonal, diagonal), (self.width_px, width), (self.height_px, height),
                              (self.distance, distance)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self._update()

    def ppd(self) -> float:
        return ppd_from_display(self.diagonal.value(), self.width_px.value(), self.height_px.value(),
                                self.distance.value())

    def _update(self) -> None:
        try:
            self.result.setText(f"{self.ppd():.1f}")
        except JndViewerError as err:
            self.result.setText(str(err))


class ShortcutsDialog(QDialog):
    """A table of every shortcut (generated from the window's actions, so it cannot go stale)."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        for row, (keys, action) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(action))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(520, 560)
