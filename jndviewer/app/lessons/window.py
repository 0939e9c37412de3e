"""The lessons window (Help > Lessons, ``jndviewer lessons``): the list of lessons and the page of the one chosen.

A page shows the lesson's sentences, the formula in words, the citation and the "try this" prompts beside its live
figure, with the lesson's controls above the figure. Figures are computed by the core
(:mod:`jndviewer.core.lessons`) on one background thread, the newest request winning. The presenter view (F5) fills
the screen with large fonts and hides the list; Page Down / Page Up (and Right / Left while presenting) go to the
next and previous lesson, Esc leaves it. "Export figure" writes the figure as a 1920 x 1080 PNG slide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from jndviewer.app.lessons.figure_view import FigureView
from jndviewer.core.errors import JndViewerError
from jndviewer.core.lessons import LESSONS, Control, Lesson, LessonContext, LessonFigure

#: Font scale of the presenter view.
PRESENTER_SCALE = 1.8
#: A control change waits this long for the next one before the figure is computed (a dragged slider).
DEBOUNCE_MS = 120


class _Signals(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, serial: int, lesson: Lesson, context: LessonContext, values: dict[str, Any]) -> None:
        super().__init__()
        self.serial, self.lesson, self.context, self.values = serial, lesson, context, values
        self.signals = _Signals()

    def run(self) -> None:
        try:
            figure = self.lesson.figure(self.context, self.values)
        except JndViewerError as error:
            self.signals.failed.emit(self.serial, str(error))
        except Exception as error:  # a bug must not kill the thread silently: say it on the page
            self.signals.failed.emit(self.serial, f"{type(error).__name__}: {error}")
        else:
            self.signals.done.emit(self.serial, figure)


class LessonsWindow(QMainWindow):
    """The lessons on one image (see the module docstring)."""

    #: Emitted after a figure is shown (tests and screenshots wait for it).
    figure_shown = Signal()

    def __init__(self, context: LessonContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)  # its own window, also when the explorer is its parent
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.context = context
        self.setWindowTitle(f"Lessons: {context.name}")
        self.lessons = list(LESSONS.values())
        self.lesson = self.lessons[0]
        self.values: dict[str, dict[str, Any]] = {lesson.name: lesson.defaults() for lesson in self.lessons}
        self.figure: LessonFigure | None = None
        self.presenting = False
        self.scale = 1.0
        self._serial = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._jobs: dict[int, _Job] = {}
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.compute)
        self._build()
        self._shortcuts()
        self.resize(1500, 900)
        self.list.setCurrentRow(0)

    # ----------------------------------------------------------------------------------------------------------------
    # Layout
    # ----------------------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.list = QListWidget()
        self.list.addItems([f"{i + 1}. {lesson.title}" for i, lesson in enumerate(self.lessons)])
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(3)
        self.list.currentRowChanged.connect(self.show_lesson)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        text_scroll = QScrollArea()
        text_scroll.setWidgetResizable(True)
        text_scroll.setWidget(self.text)
        text_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        text_scroll.setMinimumWidth(300)
        self.text_scroll = text_scroll
        self.controls = QWidget()
        self.controls_layout = QHBoxLayout(self.controls)
        self.controls_layout.setContentsMargins(0, 0, 0, 0)
        self.figure_view = FigureView()
        self.figure_view.hovered.connect(self._hovered)
        self.readout = QLabel()
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.present_button = QPushButton("Presenter view (F5)")
        self.export_button = QPushButton("Export figure as slide PNG…")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.present_button.clicked.connect(lambda: self.set_presenting(not self.presenting))
        self.export_button.clicked.connect(self.export_dialog)
        buttons = QHBoxLayout()
        for button in (self.previous_button, self.next_button, self.present_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.controls)
        right_layout.addWidget(self.figure_view, 1)
        right_layout.addWidget(self.readout)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(text_scroll)
        self.body.addWidget(right)
        self.body.setStretchFactor(0, 2)
        self.body.setStretchFactor(1, 5)
        self.body.setChildrenCollapsible(False)
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.addWidget(self.title)
        page_layout.addWidget(self.body, 1)
        page_layout.addLayout(buttons)
        self.outer = QSplitter(Qt.Orientation.Horizontal)
        self.outer.addWidget(self.list)
        self.outer.addWidget(page)
        self.outer.setStretchFactor(1, 1)
        self.outer.setSizes([250, 1250])
        self.outer.setChildrenCollapsible(False)
        self.setCentralWidget(self.outer)
        self._apply_fonts()

    def _shortcuts(self) -> None:
        def shortcut(keys: Any, slot: Any) -> QShortcut:
            item = QShortcut(QKeySequence(keys), self)
            item.activated.connect(slot)
            return item

        shortcut(Qt.Key.Key_PageDown, lambda: self.step(1))
        shortcut(Qt.Key.Key_PageUp, lambda: self.step(-1))
        shortcut(Qt.Key.Key_F5, lambda: self.set_presenting(not self.presenting))
        shortcut(Qt.Key.Key_Escape, lambda: self.set_presenting(False))
        self.arrow_shortcuts = [shortcut(Qt.Key.Key_Right, lambda: self.step(1)),
                                shortcut(Qt.Key.Key_Left, lambda: self.step(-1))]  # fmt: skip
        for item in self.arrow_shortcuts:
            item.setEnabled(False)  # the sliders keep the arrows, except while presenting

    def _apply_fonts(self) -> None:
        scale = self.scale
        self.title.setStyleSheet(f"font-size: {20 * scale:.0f}pt; font-weight: bold;")
        self.text.setStyleSheet(f"font-size: {11 * scale:.0f}pt;")
        self.readout.setStyleSheet(f"font-size: {10 * scale:.0f}pt; color: #333;")
        self.controls.setStyleSheet(f"font-size: {10 * scale:.0f}pt;")
        self.figure_view.scale = scale

    def resizeEvent(self, event: Any) -> None:  # the text column keeps about a third of the page
        super().resizeEvent(event)
        total = max(1, self.body.width())
        self.body.setSizes([round(total * 0.3), total - round(total * 0.3)])

    # ----------------------------------------------------------------------------------------------------------------
    # Pages
    # ----------------------------------------------------------------------------------------------------------------

    def show_lesson(self, index: int) -> None:
        """Open lesson ``index`` (its controls as last left)."""
        if not 0 <= index < len(self.lessons):
            return
        if self.list.currentRow() != index:
            self.list.setCurrentRow(index)  # comes back here through currentRowChanged
            return
        self.lesson = self.lessons[index]
        self.title.setText(f"{index + 1}. {self.lesson.title}")
        self.text.setText(self._page_text(self.lesson))
        self._build_controls()
        self.figure = None
        self.readout.setText("")
        self.compute()

    def _page_text(self, lesson: Lesson) -> str:
        import html

        sentences = " ".join(html.escape(s) for s in lesson.sentences)
        prompts = "".join(f"<li>{html.escape(p)}</li>" for p in lesson.try_this)
        return (
            f"<p>{sentences}</p>"
            f"<p style='background:#f3f3ee; padding:6px;'><b>Formula.</b> {html.escape(lesson.formula)}</p>"
            f"<p style='background:#fff6d8; padding:6px;'><b>Try this</b></p><ul>{prompts}</ul>"
            f"<p style='color:#555;'><b>Source.</b> {html.escape(lesson.citation)}</p>"
        )

    def _build_controls(self) -> None:
        while self.controls_layout.count():
            widget = self.controls_layout.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)  # off the page at once; deleted later
                widget.deleteLater()
        self.control_widgets: dict[str, Any] = {}
        values = self.values[self.lesson.name]
        for control in self.lesson.controls:
            self.controls_layout.addWidget(QLabel(control.label + ":"))
            widget = self._control_widget(control, values.get(control.name))
            self.control_widgets[control.name] = widget
            self.controls_layout.addWidget(widget)
        self.controls_layout.addStretch(1)

    def _control_widget(self, control: Control, value: Any) -> QWidget:
        name = control.name
        if control.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(control.choices))
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda text: self.set_value(name, text))
            return combo
        if control.kind == "toggle":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(lambda checked: self.set_value(name, checked))
            return box
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        slider = QSlider(Qt.Orientation.Horizontal)
        steps = round((control.maximum - control.minimum) / control.step)
        slider.setRange(0, steps)
        slider.setMinimumWidth(round(130 * self.scale))
        readout = QLabel()
        readout.setMinimumWidth(round(120 * self.scale))

        def to_value(position: int) -> float:
            return control.minimum + position * control.step

        def moved(position: int) -> None:
            readout.setText(f"{to_value(position):g} {control.unit}".strip())
            self.set_value(name, to_value(position))

        if value is not None:
            slider.setValue(round((float(value) - control.minimum) / control.step))
        readout.setText(f"{value:g} {control.unit}".strip() if value is not None else "auto")
        slider.valueChanged.connect(moved)
        layout.addWidget(slider)
        layout.addWidget(readout)
        holder.slider, holder.readout, holder.to_value = slider, readout, to_value  # type: ignore[attr-defined]
        return holder

    def set_value(self, name: str, value: Any) -> None:
        """Change one control of the current lesson and recompute its figure (after :data:`DEBOUNCE_MS`)."""
        self.values[self.lesson.name][name] = self.lesson.control(name).check(value)
        self._debounce.start()

    def set_slider(self, name: str, value: float) -> None:
        """Move a slider control as a user would (its readout and the figure follow)."""
        holder = self.control_widgets[name]
        control = self.lesson.control(name)
        holder.slider.setValue(round((value - control.minimum) / control.step))

    def _hovered(self, panel: int, x: float, y: float) -> None:
        """The luminance-adaptation page follows the cursor: the background under it is marked."""
        if self.lesson.name != "luminance_adaptation" or self.figure is None:
            return
        if panel == 0 and 0.0 <= x <= 255.0:
            self.set_slider("background", round(x))
        elif panel == 1:
            width = self.figure.panels[1].pixels.shape[1]
            if 0.0 <= x <= width - 1:
                self.set_slider("background", round(x * 255.0 / (width - 1)))

    def step(self, delta: int) -> None:
        """The next (``delta`` = 1) or previous lesson."""
        self.show_lesson(min(len(self.lessons) - 1, max(0, self.list.currentRow() + delta)))

    # ----------------------------------------------------------------------------------------------------------------
    # Computing
    # ----------------------------------------------------------------------------------------------------------------

    def compute(self) -> None:
        """Compute the current lesson's figure on the background thread (the newest request wins)."""
        self._debounce.stop()
        self._serial += 1
        job = _Job(self._serial, self.lesson, self.context, dict(self.values[self.lesson.name]))
        job.setAutoDelete(False)
        job.signals.done.connect(self._done)
        job.signals.failed.connect(self._failed)
        self._jobs[self._serial] = job
        self.status.setText("computing…")
        self._pool.start(job)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def _done(self, serial: int, figure: LessonFigure) -> None:
        self._jobs.pop(serial, None)
        if serial != self._serial:
            return
        self.figure = figure
        self.figure_view.show_figure(figure)
        self.readout.setText("<br>".join(figure.readout))
        self._show_automatic_values(figure)
        self.status.setText("")
        self.figure_shown.emit()

    def _show_automatic_values(self, figure: LessonFigure) -> None:
        """A slider left to the lesson (its value None, e.g. the amplitude at the threshold) shows the value used."""
        values = self.values[self.lesson.name]
        for control in self.lesson.controls:
            used = figure.numbers.get(control.name)
            if control.kind != "slider" or values.get(control.name) is not None or used is None:
                continue
            holder = self.control_widgets[control.name]
            holder.slider.blockSignals(True)
            holder.slider.setValue(round((float(used) - control.minimum) / control.step))
            holder.slider.blockSignals(False)
            holder.readout.setText(f"{float(used):g} (auto)")

    def _failed(self, serial: int, message: str) -> None:
        self._jobs.pop(serial, None)
        if serial == self._serial:
            self.status.setText("")
            self.readout.setText(f"<b>This lesson could not be computed:</b> {message}")
            self.figure_shown.emit()

    # ----------------------------------------------------------------------------------------------------------------
    # Presenting and exporting
    # ----------------------------------------------------------------------------------------------------------------

    def set_presenting(self, on: bool) -> None:
        """The presenter view: full screen, large fonts, no list; arrows step through the lessons."""
        if on == self.presenting:
            return
        self.presenting = on
        self.scale = PRESENTER_SCALE if on else 1.0
        self.list.setVisible(not on)
        for item in self.arrow_shortcuts:
            item.setEnabled(on)
        self.present_button.setText("Leave the presenter view (Esc)" if on else "Presenter view (F5)")
        self._apply_fonts()
        if on:
            self.showFullScreen()
            self.figure_view.setFocus()
        else:
            self.showNormal()
        self._build_controls()
        if self.figure is not None:
            self.figure_view.show_figure(self.figure)

    def export_png(self, path: str | Path) -> Path:
        """Write the current figure as a 1920 x 1080 slide (title, panels, readout) to ``path``."""
        from jndviewer.core.lessons.render import SLIDE_SIZE, figure_png

        if self.figure is None:
            raise JndViewerError("The figure is still being computed.")
        target = Path(path)
        png = figure_png(self.figure, SLIDE_SIZE, title=self.lesson.title, readout=True, font_scale=1.6)
        target.write_bytes(png)
        return target

    def export_dialog(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        name = f"lesson_{self.lesson.name}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export the figure as a slide", str(Path.home() / name),
                                              "PNG images (*.png)")  # fmt: skip
        if not path:
            return
        try:
            self.status.setText(f"wrote {self.export_png(path)}")
        except (OSError, JndViewerError) as error:
            QMessageBox.warning(self, "Export figure", str(error))

    def closeEvent(self, event: Any) -> None:
        self._debounce.stop()
        self.figure_view.timer.stop()
        self._pool.clear()
        self._pool.waitForDone()
        super().closeEvent(event)


__all__ = ["PRESENTER_SCALE", "LessonsWindow"]
