"""The lessons window: every page draws its figure from the core lesson, controls recompute it, the presenter view
steps with the keyboard, figures export as slides, and Help > Lessons opens it (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the lessons window needs PySide6")

from PIL import Image
from PySide6.QtCore import Qt

from jndviewer.core.lessons import LESSONS, LessonContext
from jndviewer.core.lessons.pixel_lessons import PIXEL_MODELS, luminance_adaptation_curves


@pytest.fixture(scope="module")
def context() -> LessonContext:
    return LessonContext(max_side=256, study_database=Path("/nonexistent/study.sqlite"))


@pytest.fixture
def window(app: Any, qtbot: Any, context: LessonContext) -> Any:
    from jndviewer.app.lessons.window import LessonsWindow

    lessons = LessonsWindow(context)
    lessons.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    lessons.resize(1400, 850)
    lessons.show()
    qtbot.waitExposed(lessons)
    wait_figure(qtbot, lessons)
    yield lessons
    lessons.close()


def wait_figure(qtbot: Any, window: Any, timeout: int = 120_000) -> None:
    qtbot.waitUntil(lambda: not window.busy and window.figure is not None, timeout=timeout)


def test_every_lesson_page_draws_its_figure(window: Any, qtbot: Any) -> None:
    for index, lesson in enumerate(LESSONS.values()):
        window.show_lesson(index)
        wait_figure(qtbot, window)
        assert window.title.text() == f"{index + 1}. {lesson.title}"
        assert lesson.sentences[0].split()[0] in window.text.text() and "Try this" in window.text.text()
        assert len(window.figure_view.items) == len(window.figure.panels)
        assert window.readout.text().startswith(window.figure.readout[0][:20].replace("&", "&amp;")) or \
            window.figure.readout[0][:10] in window.readout.text()
        assert set(window.control_widgets) == {control.name for control in lesson.controls}


def test_the_drawn_la_curves_are_the_models_curves(window: Any) -> None:
    curves = luminance_adaptation_curves()
    drawn = window.figure_view.curves[0]
    for name in PIXEL_MODELS:
        x, y = drawn[name].getData()
        np.testing.assert_array_equal(x, np.arange(256))
        np.testing.assert_allclose(y, curves[name])


def test_a_slider_recomputes_and_the_cursor_marks_the_background(window: Any, qtbot: Any) -> None:
    window.set_slider("background", 200)
    qtbot.waitUntil(lambda: window.figure.numbers["background"] == 200 and not window.busy, timeout=60_000)
    assert window.figure.plot("Luminance").marks[0].value == 200
    assert "At background 200" in window.readout.text()
    # the amplitude slider opened at the threshold and says so
    assert window.control_widgets["amplitude"].readout.text().endswith("(auto)")
    window.figure_view.hovered.emit(0, 100.4, 5.0)  # the pointer over the curves
    qtbot.waitUntil(lambda: window.figure.numbers["background"] == 100 and not window.busy, timeout=60_000)
    window.figure_view.hovered.emit(1, 511.0, 10.0)  # over the stimulus' right end: white
    qtbot.waitUntil(lambda: window.figure.numbers["background"] == 255 and not window.busy, timeout=60_000)


def test_the_noise_toggle_shows_one_noise_with_equal_psnr(window: Any, qtbot: Any, context: LessonContext) -> None:
    from jndviewer.core.metrics import psnr

    window.show_lesson(list(LESSONS).index("noise"))
    wait_figure(qtbot, window)
    window.control_widgets["show"].setCurrentText("flat")
    qtbot.waitUntil(lambda: len(window.figure.panels) == 1 and not window.busy, timeout=60_000)
    image = window.figure_view.items[0].items[0].image
    assert psnr(context.gray_rgb(), np.asarray(image)) == pytest.approx(window.figure.numbers["flat"]["psnr"])
    assert abs(window.figure.numbers["flat"]["psnr"] - window.figure.numbers["shaped"]["psnr"]) < 0.05


def test_presenter_view_steps_with_the_keyboard_and_exports_slides(window: Any, qtbot: Any, tmp_path: Path) -> None:
    window.show_lesson(0)
    wait_figure(qtbot, window)
    normal_size = window.title.font().pointSizeF()
    window.set_presenting(True)
    assert window.presenting and not window.list.isVisible() and window.isFullScreen()
    assert window.figure_view.scale > 1.5
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.list.currentRow() == 1
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.list.currentRow() == 2
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.list.currentRow() == 1
    wait_figure(qtbot, window)
    path = window.export_png(tmp_path / "slide.png")
    with Image.open(path) as slide:
        assert slide.size == (1920, 1080)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenting and window.list.isVisible() and window.title.font().pointSizeF() == normal_size


def test_help_lessons_opens_on_the_image_shown(make_window: Any, qtbot: Any, photo: Path, idle: Any) -> None:
    window = make_window(photo)
    idle(window)
    actions = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu().actions()
    lessons_action = next(a for a in actions if a.text().startswith("&Lessons"))
    lessons_action.trigger()
    lessons = window._lessons_window
    qtbot.waitExposed(lessons)
    assert lessons.isWindow() and lessons.context.name == "photo.png"
    assert lessons.context.rgb.shape == (64, 96, 3)
    wait_figure(qtbot, lessons)
    lessons.close()
