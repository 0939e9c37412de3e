"""The study window, driven through its real widgets by scripted observers (pytest-qt)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the study window needs PySide6")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QProgressBar, QWidget

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    FLICKER_ADJUSTMENT,
    FORCED_CHOICE,
    TEST,
    StudyConditions,
    StudyItem,
)
from jndviewer.core.study.session import StudyOptions, StudyRunner
from jndviewer.core.study.sets import ItemImages
from jndviewer.core.study.store import StudyStore

LEVELS = tuple(range(1, 101))


@pytest.fixture
def items(tmp_path: Path) -> list[StudyItem]:
    rng = np.random.default_rng(0)
    out = []
    for k in range(3):
        pixels = (rng.random((48, 64, 3)) * 60 + 90 + 20 * k).astype(np.uint8)
        path = tmp_path / f"secret-name-{k}.png"
        Image.fromarray(pixels).save(path)
        out.append(StudyItem(f"secretitem{k}", str(path), "jpeg", LEVELS, source=f"src{k}"))
    return out


def start(tmp_path: Path, items: list[StudyItem], protocol: str, task: str, catch: int = 1) -> Any:
    from jndviewer.app.study.window import StudyWindow

    store = StudyStore(tmp_path / "study.sqlite")
    conditions = StudyConditions(task, 600.0, 0.27)
    runner = StudyRunner.start(store, "obs-7", protocol, "test-set", items, conditions, seed=11,
                               options=StudyOptions(catch_same=catch, catch_obvious=catch))
    return StudyWindow(runner, ItemImages), store


def visible_texts(window: QWidget) -> list[str]:
    """Every text a person could read in the window: labels, buttons, titles, tips, accessible names."""
    texts = [window.windowTitle()]
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisibleTo(window) and widget is not window:
            continue
        texts += [widget.toolTip(), widget.statusTip(), widget.accessibleName(), widget.accessibleDescription(),
                  widget.windowTitle()]
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
        if isinstance(widget, QProgressBar) and widget.isTextVisible():
            texts.append(widget.text())
    return [t for t in texts if t]


def assert_blind(window: QWidget, items: list[StudyItem]) -> None:
    for text in visible_texts(window):
        assert not re.search(r"\d", text), f"a number is on screen during a trial: {text!r}"
        for item in items:
            for secret in (item.item_id, Path(item.reference).name, Path(item.reference).stem, item.source):
                assert not secret or secret not in text, f"{secret!r} is on screen: {text!r}"
        for word in ("quality", "JND", "bpp", "bytes", "jpeg", "JPEG", "predict", "level"):
            assert word not in text, f"{word!r} is on screen: {text!r}"


class Observer:
    """A scripted observer: sees a difference from ladder position ``threshold`` on (0 = best)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    def sees(self, level: int | None, item: StudyItem) -> bool:
        return level is not None and item.position_of(level) >= self.threshold


def test_flicker_adjustment_through_the_widgets(app: Any, qtbot: Any, tmp_path: Path, items: list) -> None:
    window, store = start(tmp_path, items, FLICKER_ADJUSTMENT, "flicker")
    qtbot.addWidget(window)
    window.show()
    observer = Observer(37)
    while not window.runner.done:
        if window._resting:
            qtbot.keyClick(window, Qt.Key.Key_Space)
            continue
        assert_blind(window, items)
        protocol = window.runner.protocol
        for _ in range(protocol.slider_max + 1):  # right arrow until the image flickers
            level = protocol.presentation().levels[0]
            if observer.sees(level, protocol.item):
                break
            qtbot.keyClick(window, Qt.Key.Key_Right)
        if observer.sees(protocol.presentation().levels[0], protocol.item):
            qtbot.keyClick(window, Qt.Key.Key_Return)
        else:
            qtbot.mouseClick(window.buttons["none"], Qt.MouseButton.LeftButton)
    results = store.run_results(window.runner.session_id)
    tests = [r for r in results if r.kind == TEST]
    assert len(tests) == 3
    for result in tests:
        assert abs(result.item.position_of(result.critical_level) - 37) <= 1
    catches = [r for r in results if r.kind != TEST]
    assert [r.correct for r in catches] == [True, True]
    trials = store.trials(window.runner.session_id)
    assert all(len(t.trace) >= 2 for t in trials if t.level is not None)  # the slider trace is kept
    assert window.instructions.text().startswith("Thank you")
    window.close()


def test_binary_search_through_the_widgets(app: Any, qtbot: Any, tmp_path: Path, items: list) -> None:
    window, store = start(tmp_path, items, BINARY_SEARCH, "side-by-side")
    qtbot.addWidget(window)
    window.show()
    observer = Observer(62)
    while not window.runner.done:
        assert_blind(window, items)
        protocol = window.runner.protocol
        level = protocol.presentation().levels[0]
        key = Qt.Key.Key_D if observer.sees(level, protocol.item) else Qt.Key.Key_S
        qtbot.keyClick(window, key)
    tests = [r for r in store.run_results(window.runner.session_id) if r.kind == TEST]
    assert [abs(r.item.position_of(r.critical_level) - 62) <= 2 for r in tests] == [True] * 3
    assert len(store.trials(window.runner.session_id)) == sum(r.details["trials"] for r in tests) + 2
    window.close()


def test_forced_choice_through_the_widgets(app: Any, qtbot: Any, tmp_path: Path, items: list) -> None:
    window, store = start(tmp_path, items[:1], FORCED_CHOICE, "flicker", catch=0)
    qtbot.addWidget(window)
    window.show()
    observer = Observer(45)
    rng = np.random.default_rng(4)
    while not window.runner.done:
        assert_blind(window, items)
        protocol = window.runner.protocol
        presentation = protocol.presentation()
        distorted = presentation.levels[presentation.target]
        right = observer.sees(distorted, protocol.item) or rng.random() < 0.5  # below threshold: a guess
        target_is_first = presentation.target == 0
        key = Qt.Key.Key_Left if right == target_is_first else Qt.Key.Key_Right
        qtbot.keyClick(window, key)
    (result,) = store.run_results(window.runner.session_id)
    assert result.details["trials"] == 30
    assert abs(result.details["threshold_position"] - 45) <= 2
    window.close()


def test_the_flicker_switches_on_counted_frames(app: Any, qtbot: Any, tmp_path: Path, items: list) -> None:
    window, _ = start(tmp_path, items, FLICKER_ADJUSTMENT, "flicker", catch=0)
    qtbot.addWidget(window)
    window.show()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.wait(1200)
    times = np.diff(window.stimulus.switch_times)
    assert len(times) >= 6
    # 60 Hz: 8 and 7 frames of 16.7 ms in turn, 125 ms on average; the timer wakes every 2 ms, so a switch is late
    # by little
    assert np.mean(times) * 1000 == pytest.approx(125.0, abs=8)
    assert np.all(np.abs(times * 1000 - 125.0) < 17 + 8)
    window.close()


def test_refuses_a_screen_that_cannot_show_the_images_one_to_one() -> None:
    from jndviewer.app.study.window import CONTROLS_HEIGHT, check_display, stimulus_size

    assert stimulus_size(FORCED_CHOICE, "side-by-side", (320, 240)) == (3 * 320 + 2 * 24, 240)
    assert stimulus_size(FLICKER_ADJUSTMENT, "flicker", (320, 240)) == (320, 240)
    check_display(1.0, (1920, 1080), (1008, 240))
    with pytest.raises(JndViewerError, match="100 %"):
        check_display(1.5, (1920, 1080), (320, 240))
    with pytest.raises(JndViewerError, match="1008x"):
        check_display(1.0, (800, 600), (1008, 240))
    with pytest.raises(JndViewerError):
        check_display(1.0, (1920, 400), (320, 400 - CONTROLS_HEIGHT + 1))


def test_setup_dialog_computes_ppd_and_refuses_bad_input(app: Any, qtbot: Any, tmp_path: Path) -> None:
    from jndviewer.app.study.setup import StudySetupDialog

    store = StudyStore(tmp_path / "study.sqlite")
    dialog = StudySetupDialog(store)
    qtbot.addWidget(dialog)
    dialog.distance.setValue(60.0)
    dialog.card_pixels.setValue(309)  # a 0.277 mm pixel
    assert dialog.conditions().ppd == pytest.approx(37.85, abs=0.1)
    assert dialog.ppd.text().startswith(f"{dialog.conditions().ppd:.1f} (0.277 mm")
    dialog._start()
    assert dialog.choice is None and "observer ID" in dialog.error.text()
    dialog.observer.setText("obs-1")
    dialog._start()
    assert dialog.choice is not None and dialog.choice.conditions.task == "flicker"
    assert dialog.choice.protocol == FLICKER_ADJUSTMENT and dialog.choice.study_set == "default"


def test_the_current_image_becomes_a_study_set_of_its_centre(tmp_path: Path) -> None:
    from jndviewer.app.study.setup import resolve_study_set

    path = tmp_path / "big.png"
    Image.fromarray(np.full((700, 1000, 3), 120, np.uint8)).save(path)
    (item,) = resolve_study_set(f"image:webp:{path}").items
    assert item.codec == "webp" and item.crop == (180, 110, 640, 480)
    small = tmp_path / "small.png"
    Image.fromarray(np.full((100, 200, 3), 120, np.uint8)).save(small)
    (item,) = resolve_study_set(f"image:{small}").items
    assert item.codec == "jpeg" and item.crop is None
    with pytest.raises(JndViewerError, match="cannot be read"):
        resolve_study_set(f"image:jpeg:{tmp_path / 'missing.png'}")
