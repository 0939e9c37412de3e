"""The main window: opening images (sample, file, drop, bad file), scrubbing levels, shortcuts, settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from jndviewer.app.modes import CompareMode
from jndviewer.core.assets import sample_image
from jndviewer.core.codecs import create_codec
from jndviewer.core.image import load


def test_opens_on_the_sample(make_window, qtbot) -> None:
    window = make_window(sample_image(), jnd_model="chou1995", threshold=1.5)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=20_000)
    assert window.windowTitle() == "sample.png — jndviewer"
    assert window.canvas.reference.shape == (512, 768, 3)
    np.testing.assert_array_equal(window.canvas.reference, load(sample_image()).rgb8())
    assert window.session.frame.level == 75  # JPEG quality 75 first
    # The background jobs (JND map, 100-level curve, prediction) are cancelled by closing the window; the leak check
    # of make_window then proves that their threads are gone.


def test_loading_an_image_updates_the_canvas(make_window, qtbot, photo, gray) -> None:
    window = make_window(photo, jnd_model="chou1995", threshold=1.5)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=20_000)
    np.testing.assert_array_equal(window.canvas.displayed()["base"], load(photo).rgb8())
    window.open_path(gray)
    qtbot.waitUntil(lambda: window.state.image_path == str(gray) and window.session.frame is not None, timeout=20_000)
    np.testing.assert_array_equal(window.canvas.displayed()["base"], load(gray).rgb8())
    assert window.canvas.displayed()["b"].shape == (48, 96, 3)


def test_scrubbing_shows_exactly_the_codecs_output(make_window, qtbot, idle, photo) -> None:
    window = make_window(photo, jnd_model="chou1995", threshold=1.5, mode=CompareMode.SIDE_BY_SIDE)
    qtbot.waitUntil(lambda: window.session.ladder_info is not None, timeout=20_000)
    rgb = load(photo).rgb8()
    codec = create_codec("jpeg")
    slider = window.controls.level_slider
    for level in (5, 37, 90, 36, 100):
        slider.setValue(window.session.ladder_info.ordered.index(level))  # as a user drags the slider
        qtbot.waitUntil(lambda lv=level: window.session.frame is not None and window.session.frame.level == lv)
        np.testing.assert_array_equal(window.canvas.displayed()["b"], codec.encode(rgb, level).decoded)
        assert window.controls.level_label.text() == f"quality {level}"
    # scrub through every level as fast as events allow: the last one wins and nothing stale is shown
    for index in range(0, 98, 3):
        slider.setValue(index)
    assert window.state.level == 97
    qtbot.waitUntil(lambda: window.session.frame is not None and window.session.frame.level == 97)
    np.testing.assert_array_equal(window.canvas.displayed()["b"], codec.encode(rgb, 97).decoded)
    idle(window)


def test_a_bad_file_shows_a_warning_and_keeps_the_image(make_window, qtbot, idle, photo, tmp_path, monkeypatch):
    warnings: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: warnings.append((title, text)))
    window = make_window(photo, jnd_model="chou1995", threshold=1.5)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=20_000)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not an image")
    window.state.image_path = str(bad)  # through the state, as the recent-files menu does
    qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
    title, text = warnings[0]
    assert title == "Cannot open the image" and "broken.png" in text and text.count(".") >= 1
    assert "Traceback" not in text and "\n" not in text
    assert window.state.image_path == str(photo)
    assert window.session.loaded.path == str(photo)
    np.testing.assert_array_equal(window.canvas.reference, load(photo).rgb8())
    window.open_path(tmp_path / "missing.png")
    qtbot.waitUntil(lambda: len(warnings) == 2, timeout=10_000)
    assert "does not exist" in warnings[1][1]
    window.state.mode = CompareMode.DIFFERENCE  # still alive and working
    qtbot.waitUntil(lambda: window.canvas.displayed()["base"] is not None and window.canvas.difference is not None)
    idle(window)


def test_an_unavailable_codec_falls_back_with_its_reason(make_window, qtbot, idle, photo, fakes) -> None:
    window = make_window(photo, codec="never", jnd_model="chou1995", threshold=1.5)  # e.g. remembered from before
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=20_000)
    assert window.state.codec == "jpeg" and window.session.ladder_info.codec == "jpeg"
    window.state.codec = "never"  # chosen while another codec works: that one stays
    qtbot.waitUntil(lambda: window.state.codec == "jpeg", timeout=10_000)
    assert window.status_label.text() == "This codec is never available in tests."
    window.state.codec = "steps"
    qtbot.waitUntil(lambda: window.session.ladder_info.codec == "steps", timeout=10_000)
    qtbot.waitUntil(lambda: window.session.frame is not None and window.session.frame.level == 4)  # 3/4 of the way
    assert window.controls.level_label.text() == "step 4"
    idle(window)


def test_dropping_a_file_opens_it(make_window, qtbot, idle, photo) -> None:
    window = make_window(None, jnd_model="chou1995", threshold=1.5)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.session.loaded is not None, timeout=20_000)
    assert window.state.image_path == str(photo)
    idle(window)


def test_keyboard_shortcuts(make_window, qtbot, idle, photo, monkeypatch) -> None:
    window = make_window(photo, jnd_model="chou1995", threshold=1.5)
    qtbot.waitUntil(lambda: window.session.frame is not None, timeout=20_000)
    window.activateWindow()
    qtbot.waitActive(window)
    for mode in CompareMode:
        qtbot.keyClick(window.canvas, mode.key.lower())
        assert window.state.mode is mode
        assert window.mode_actions[mode].isChecked()
    qtbot.keyClick(window.canvas, "1")
    assert window.state.mode is CompareMode.WIPE and window.state.wipe == 1.0
    qtbot.keyClick(window.canvas, "3")
    assert window.state.wipe == 0.0
    qtbot.keyClick(window.canvas, "2")
    assert window.state.wipe == 0.5
    start = window.state.level
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    assert window.state.level == start + 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageDown)
    assert window.state.level == start - 9
    qtbot.keyClick(window.canvas, Qt.Key.Key_End)
    assert window.state.level == 100
    qtbot.keyClick(window.canvas, Qt.Key.Key_Home)
    assert window.state.level == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Space)
    assert window.playing and window.controls.play_button.isChecked()
    qtbot.waitUntil(lambda: window.state.level >= 3, timeout=10_000)  # plays through, frame by frame
    qtbot.keyClick(window.canvas, Qt.Key.Key_Space)
    assert not window.playing
    window.canvas.fit()
    fitted = window.canvas.zoom_percent()
    qtbot.keyClick(window.canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.zoom_percent() == pytest.approx(100.0, rel=0.02)
    qtbot.keyClick(window.canvas, "+")
    assert window.canvas.zoom_percent() == pytest.approx(125.0, rel=0.02)
    qtbot.keyClick(window.canvas, "-")
    qtbot.keyClick(window.canvas, "-")
    assert window.canvas.zoom_percent() == pytest.approx(75.0, rel=0.02)
    qtbot.keyClick(window.canvas, "0")
    assert window.canvas.zoom_percent() == pytest.approx(fitted, rel=0.02)
    rows = dict((action, keys) for keys, action in window.shortcut_rows())
    assert rows["Wipe"] == "W" and rows["Better level"] == "Right" and rows["Play / pause"] == "Space"
    from jndviewer.app.dialogs import ShortcutsDialog

    shown: list[int] = []
    monkeypatch.setattr(ShortcutsDialog, "exec", lambda self: shown.append(self.table.rowCount()) or 0)
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)  # Help -> Keyboard shortcuts, built from the actions
    assert shown == [len(rows)]
    idle(window)


def test_settings_persist_between_windows(make_window, qtbot, settings_path, photo) -> None:
    first = make_window(None, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    first.state.mode = CompareMode.VISIBILITY
    first.state.ppd = 60.0
    first.state.jnd_model = "yang2005"
    first.state.flicker_hz = 5.0
    first.state.threshold = 1.25
    first.state.model_params = {"texture_gain": 0.2}
    first.open_path(photo)
    qtbot.waitUntil(lambda: first.session.loaded is not None, timeout=20_000)
    first.close()
    second = make_window(None, settings=QSettings(str(settings_path), QSettings.Format.IniFormat))
    state = second.state
    assert (state.mode, state.ppd, state.jnd_model, state.flicker_hz) == (CompareMode.VISIBILITY, 60.0, "yang2005", 5.0)
    assert state.threshold == 1.25 and state.model_params == {"texture_gain": 0.2}
    assert second.mode_actions[CompareMode.VISIBILITY].isChecked()
    assert second.controls.ppd_spin.value() == 60.0
    assert [a.text() for a in second.recent_menu.actions()] == [str(photo.resolve())]
    second.close()


def test_jndviewer_command_starts_the_window(tmp_path: Path) -> None:
    """``jndviewer IMAGE`` (the CLI's default command) opens the explorer: it paints and exits on request."""
    env = {**__import__("os").environ, "JNDVIEWER_EXIT_AFTER_SHOW": "1", "XDG_CONFIG_HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "from jndviewer.cli import main; raise SystemExit(main())", str(sample_image())],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "jndviewer-shown" in result.stdout
    assert (tmp_path / "jndviewer" / "jndviewer.ini").exists()  # settings went where XDG_CONFIG_HOME says


def test_readouts_scroll_instead_of_cutting_off_wrapped_rows(make_window, qtbot) -> None:
    """The readouts ask for the height their wrapped rows need at the panel's width, so the last rows can be scrolled
    to rather than cut off."""
    window = make_window(None)
    window.resize(1200, 700)
    window.show()
    readouts = window.readouts
    for key in readouts.labels:
        readouts.set_text(key, "a long readout that wraps over several lines of the narrow readouts panel " * 2)
    qtbot.waitUntil(lambda: readouts.width() > 0)
    needed = readouts.layout().heightForWidth(readouts.width())
    assert readouts.minimumHeight() == needed
    scroll = readouts.parentWidget().parentWidget()
    assert scroll.verticalScrollBar().maximum() >= needed - scroll.viewport().height() > 0
