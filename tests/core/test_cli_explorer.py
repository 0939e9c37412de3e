"""``jndviewer [IMAGE] [--codec C] [--level L]``: the explorer's command line, checked before any window opens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jndviewer import cli
from jndviewer.cli_explorer import EXPLORER_USAGE
from tests.core.test_folder_codec import make_mcl, make_source


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    import jndviewer.app.main as app_main

    monkeypatch.setattr(app_main, "run_app", lambda image, **kw: calls.append((image, kw)) or 0)
    return calls


def test_help_says_how_to_open_the_explorer(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "Without a command, jndviewer opens the explorer" in " ".join(capsys.readouterr().out.split())
    assert "--codec" in EXPLORER_USAGE and "--level" in EXPLORER_USAGE


def test_image_codec_and_level_open_the_explorer(tmp_path: Path, opened: list) -> None:
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    assert cli.main([str(image), "--codec", "webp", "--level", "50"]) == 0
    assert opened == [(image, {"codec": "webp", "level": 50})]
    assert cli.main([]) == 0 and opened[-1] == (None, {"codec": None, "level": None})


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["predcit"], "is not a jndviewer command"),
        (["{image}", "--codec", "nosuchcodec"], "nosuchcodec"),
        (["{image}", "--codec", "jpeg", "--level", "300"], "has no level 300"),
        (["{image}", "--level", "30"], "--level needs --codec"),
    ],
)
def test_bad_requests_are_one_sentence_before_any_window(
    tmp_path: Path, opened: list, capsys: pytest.CaptureFixture, argv: list, words: str
) -> None:
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    assert cli.main([a.format(image=image) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and err.count("\n") == 0
    assert opened == []


def test_a_ladder_folder_opens_with_its_source(tmp_path: Path, opened: list) -> None:
    folder, _, source = make_mcl(tmp_path, make_source())
    assert cli.main(["--codec", f"folder:{folder}"]) == 0
    assert opened == [(source, {"codec": f"folder:{folder}", "level": None})]
