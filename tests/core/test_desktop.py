"""`jndviewer desktop-entry`: a valid desktop entry and the icon under the user's data directory."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from PIL import Image

from jndviewer import cli


def test_desktop_entry_and_icon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli.main(["desktop-entry"]) == 0
    entry = tmp_path / "applications" / "jndviewer.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(entry.read_text())
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "jndviewer"
    command = section["Exec"].split()[0]
    assert Path(command).is_file() and section["Exec"].endswith("%f")
    with Image.open(tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "jndviewer.png") as icon:
        assert icon.size == (256, 256) and icon.mode == "RGBA"
    assert str(entry) in capsys.readouterr().out


def test_unwritable_data_directory_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert cli.main(["desktop-entry"]) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err and err.count("\n") == 1
