"""The predictor registry: the CLI and the batch runner enumerate it, a registered toy predictor needs no other change,
every result records its viewing condition, and a condition a predictor cannot honour is one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from jndviewer.cli import build_parser, main
from jndviewer.core.assets import sample_image
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import load
from jndviewer.core.metrics import psnr
from jndviewer.core.pwjnd.registry import PREDICTORS, PredictorInfo, create_predictor, register_predictor
from jndviewer.core.report import read_results
from jndviewer.core.viewing import ViewingCondition
from tests.toy_predictor import TOY_INFO, TOY_PSNR_DB, ToyPredictor, noisy_rgb


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> PredictorInfo:
    """The toy predictor, registered for one test."""
    monkeypatch.setitem(PREDICTORS, TOY_INFO.name, TOY_INFO)
    return TOY_INFO


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(noisy_rgb()).save(path)
    return path


def _choices(command: str, option: str) -> tuple[str, ...]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return tuple(next(a for a in sub._actions if a.dest == option).choices)


def test_the_builtin_predictors_and_what_the_cli_offers() -> None:
    assert tuple(PREDICTORS)[:3] == ("visibility", "sgjnd", "vpjnd")
    assert PREDICTORS["sgjnd"].needs_weights and not PREDICTORS["visibility"].needs_weights
    assert PREDICTORS["vpjnd"].needs_weights
    assert PREDICTORS["sgjnd"].weights_status() == (True, "")  # the shipped weights are package data
    assert PREDICTORS["vpjnd"].weights_status() == (True, "")
    assert _choices("predict", "predictor") == tuple(PREDICTORS)
    assert _choices("calibrate", "predictor") == ("visibility",)  # only predictors with a calibration
    with pytest.raises(JndViewerError, match=r"^A predictor called 'sgjnd' is registered already\.$"):
        register_predictor(PREDICTORS["sgjnd"])
    with pytest.raises(JndViewerError, match=r"^Unknown predictor 'oracle'; choose one of visibility, sgjnd, vpjnd\.$"):
        create_predictor("oracle")


def test_a_registered_toy_predictor_runs_from_the_cli(toy, photo: Path, tmp_path: Path, capsys) -> None:
    assert "toy" in _choices("predict", "predictor") and "toy" not in _choices("calibrate", "predictor")
    output = tmp_path / "toy.json"
    assert main(["predict", str(photo), "--predictor", "toy", "--jobs", "1", "-o", str(output)]) == 0
    (result,) = read_results(output)
    expected = ToyPredictor().predict(load(photo), create_codec("jpeg"))
    assert (result.predictor, result.level, result.trace) == ("toy", expected.level, expected.trace)
    assert result.params == {"strategy": "bisection", "psnr_db": TOY_PSNR_DB}
    assert result.condition == {"ppd": 38.0, "task": "side-by-side"}
    # the decision is the toy's own: the PW-JND is the worst level at or above the PSNR, the one below it is not
    rgb, codec = load(photo).rgb8(), create_codec("jpeg")
    assert psnr(rgb, codec.encode(rgb, result.level).decoded) >= TOY_PSNR_DB
    assert psnr(rgb, codec.encode(rgb, result.level - 1).decoded) < TOY_PSNR_DB
    # its options are checked: it takes a strategy, not a pooling
    assert main(["predict", str(photo), "--predictor", "toy", "--strategy", "exhaustive", "--jobs", "1",
                 "-o", str(tmp_path / "all.json")]) == 0  # fmt: skip
    (exhaustive,) = read_results(tmp_path / "all.json")
    assert exhaustive.encodes == 100 and exhaustive.level == result.level
    capsys.readouterr()
    assert main(["predict", str(photo), "--predictor", "toy", "--pooling", "fraction", "-o", str(output)]) == 2
    assert capsys.readouterr().err.strip() == (
        "jndviewer: error: The toy predictor takes no pooling option (its options: strategy)."
    )


def test_a_condition_the_predictor_cannot_honour_is_one_sentence(toy, photo: Path, tmp_path: Path, capsys) -> None:
    output = tmp_path / "far.json"
    assert main(["predict", str(photo), "--predictor", "toy", "--ppd", "60", "--jobs", "1", "-o", str(output)]) == 2
    assert capsys.readouterr().err.strip() == (
        "jndviewer: error: The toy predictor cannot take the viewing distance (ppd) into account; predict for the "
        "default viewing condition (38 ppd, side by side) or choose another predictor."
    )
    assert not output.exists()
    with pytest.raises(JndViewerError, match="cannot take the viewing distance"):
        create_predictor("toy", condition=ViewingCondition(ppd=60.0))


@pytest.mark.slow
def test_batch_workers_run_a_predictor_registered_only_here(toy, photo: Path, tmp_path: Path) -> None:
    """Worker processes are handed the registry entry, not the name: the toy runs there without registering."""
    (tmp_path / "two").mkdir()
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "two" / "flipped.png")
    Image.open(photo).save(tmp_path / "two" / "photo.png")
    output = tmp_path / "jobs2.json"
    assert main(["predict", str(tmp_path / "two"), "--predictor", "toy", "--jobs", "2", "-o", str(output)]) == 0
    document = json.loads(output.read_text())
    assert len(document["results"]) == 2 and not document["errors"]
    assert {r["predictor"] for r in document["results"]} == {"toy"}


def test_sgjnd_honours_the_viewing_distance(tmp_path: Path) -> None:
    """SG-JND reads each patch's subband visibility, which depends on the pixels per degree: farther away, the
    distortion of a lower quality stays invisible (it ignored --ppd before: the same level at 38 and 60 ppd)."""
    image, codec = load(sample_image()), create_codec("jpeg")
    levels = {ppd: create_predictor("sgjnd", condition=ViewingCondition(ppd)).predict(image, codec)
              for ppd in (20.0, 38.0, 60.0)}  # fmt: skip
    assert levels[20.0].level > levels[38.0].level > levels[60.0].level
    assert [r.condition["ppd"] for r in levels.values()] == [20.0, 38.0, 60.0]
    near_scores, far_scores = levels[38.0].scores, levels[60.0].scores
    common = sorted(set(near_scores) & set(far_scores))
    assert common and all(far_scores[q] < near_scores[q] for q in common)  # the same level: less visible far away
    output = tmp_path / "far.json"
    assert main(["predict", str(sample_image()), "--predictor", "sgjnd", "--ppd", "60", "--jobs", "1",
                 "-o", str(output)]) == 0  # fmt: skip
    (result,) = read_results(output)
    assert (result.level, result.condition["ppd"]) == (levels[60.0].level, 60.0)
