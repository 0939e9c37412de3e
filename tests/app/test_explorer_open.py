"""File > Open a ladder folder: the folder becomes the codec and its source image opens as A."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6", reason="the explorer needs PySide6")

from tests.app.conftest import wait_idle
from tests.core.test_folder_codec import QUALITIES, make_mcl, make_source, save_jpegs


def test_open_ladder_folder_opens_source_and_codec(make_window: Any, qtbot: Any, tmp_path: Path) -> None:
    folder, _, source = make_mcl(tmp_path, make_source())
    window = make_window(jnd_model="chou1995")
    assert window.open_ladder_folder(folder)
    qtbot.waitUntil(lambda: window.session.ladder_info is not None, timeout=30_000)
    wait_idle(qtbot, window)
    assert window.state.image_path == str(source)
    assert window.state.codec == f"folder:{folder}"
    assert tuple(window.session.ladder_info.ordered) in (QUALITIES, QUALITIES[::-1])


def test_a_folder_without_source_says_why_and_changes_nothing(
    make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    folder = tmp_path / "lonely"
    save_jpegs(make_source(), folder, "lonely_{:03d}.jpg")
    window = make_window(jnd_model="chou1995")
    codec_before = window.state.codec
    assert not window.open_ladder_folder(folder)
    assert len(shown) == 1 and "no source image" in shown[0]
    assert window.state.codec == codec_before


def test_the_windows_have_jndviewers_icon(app: Any) -> None:
    icon = app.windowIcon()
    assert not icon.isNull() and icon.actualSize(icon.availableSizes()[0]).width() == 256
