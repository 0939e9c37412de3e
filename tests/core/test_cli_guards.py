"""What predict and export refuse before any work, in one line, so that no user file is lost: a sidecar or a CSV
that is not theirs, a viewing distance out of range, an output name of another format, a misspelt folder option."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.codecs import CodecError, parse_folder_spec

FAST = ["--codec", "jpeg", "--jnd-model", "chou1995", "--threshold", "1.5"]


def _image(path: Path) -> Path:
    rng = np.random.default_rng(0)
    base = np.linspace(30, 220, 64)[None, :, None] * np.ones((48, 1, 3))
    base[12:36, 16:48] += rng.normal(0, 20, (24, 32, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


def _one_line(err: str, start: str = "jndviewer: error: ") -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(start) and "Traceback" not in err, err
    return lines[0]


def test_export_does_not_overwrite_a_json_that_is_not_its_sidecar(tmp_path: Path, capsys) -> None:
    image = _image(tmp_path / "a.png")
    results = tmp_path / "out.jpg.json"
    results.write_text('{"my": "precious"}')
    assert main(["export", str(image), *FAST, "-o", str(tmp_path / "out.jpg")]) == 2
    assert "is not an export sidecar" in _one_line(capsys.readouterr().err)
    assert results.read_text() == '{"my": "precious"}' and not (tmp_path / "out.jpg").exists()
    results.unlink()
    assert main(["export", str(image), *FAST, "-o", str(tmp_path / "out.jpg")]) == 0  # then its own sidecar
    assert json.loads(results.read_text())["output"].endswith("out.jpg")
    assert main(["export", str(image), *FAST, "-o", str(tmp_path / "out.jpg")]) == 0  # which a rerun rewrites


def test_predict_does_not_overwrite_a_csv_that_is_not_a_results_file(tmp_path: Path, capsys) -> None:
    image = _image(tmp_path / "a.png")
    for header in ("x,y\n", "image,foo\n"):
        table = tmp_path / "mine.csv"
        table.write_text(header)
        assert main(["predict", str(image), *FAST, "-o", str(table)]) == 2
        assert "is not a jndviewer results file" in _one_line(capsys.readouterr().err)
        assert table.read_text() == header


@pytest.mark.parametrize("ppd", ["800", "4", "abc", "nan", "0"])
def test_a_distance_out_of_range_is_one_line_before_any_work(tmp_path: Path, capsys, ppd: str) -> None:
    image = _image(tmp_path / "a.png")
    output = tmp_path / "r.json"
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(image), *FAST, "--ppd", ppd, "-o", str(output)])
    assert stop.value.code == 2 and not output.exists()
    line = _one_line(capsys.readouterr().err, "jndviewer predict: error: argument --ppd: ")
    assert line.endswith("(see jndviewer predict --help)")


def test_export_refuses_a_name_of_another_format_and_stdout(tmp_path: Path, capsys) -> None:
    image = _image(tmp_path / "a.png")
    assert main(["export", str(image), *FAST, "-o", str(tmp_path / "k.png")]) == 2
    assert "name it k.jpg, or add --decoded" in _one_line(capsys.readouterr().err)
    assert main(["export", str(image), *FAST, "-o", "-"]) == 2
    assert "not -" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "k.png").exists() and not Path("-").exists()
    assert main(["export", str(image), *FAST, "-o", str(tmp_path / "k.jpeg")]) == 0  # another name of the format
    assert main(["export", str(image), *FAST, "--jobs", "2", "-o", str(tmp_path / "j.jpg")]) == 0
    assert "--jobs applies to predict" in capsys.readouterr().err


def test_a_misspelt_folder_option_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "ladder"
    folder.mkdir()
    with pytest.raises(CodecError, match=r"Unknown folder ladder option 'sceme=jpeg' in .*; the options are scheme="):
        parse_folder_spec(f"folder:{folder},sceme=jpeg")
    with pytest.raises(CodecError, match="Unknown folder ladder option ''"):
        parse_folder_spec(f"folder:{folder},better=high,")  # a trailing comma
    comma = tmp_path / "a,b"  # a comma in a folder's name stays part of it
    comma.mkdir()
    assert parse_folder_spec(f"folder:{comma},better=low") == (comma, {"better": "low"})


def test_errors_name_their_request_and_each_request_keeps_its_own(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    output = tmp_path / "errors.json"
    flicker = ["predict", str(bad), *FAST, "--task", "flicker", "--ppd", "60", "-o", str(output)]
    webp = ["predict", str(bad), "--codec", "webp", "--jnd-model", "chou1995", "--threshold", "1.5", "-o", str(output)]
    assert main(flicker) == 1 and main(webp) == 1 and main(flicker) == 1  # the rerun replaces its own error
    capsys.readouterr()
    errors = json.loads(output.read_text())["errors"]
    assert sorted((e["codec"], e["condition"]["task"], e["condition"]["ppd"]) for e in errors) == [
        ("jpeg", "flicker", 60.0), ("webp", "side-by-side", 38.0)]
    assert all(e["predictor"] == "visibility" and e["image"] == str(bad) for e in errors)


def test_a_folder_ladder_is_one_request_however_its_options_are_spelt(tmp_path: Path, monkeypatch) -> None:
    from jndviewer.core.result_keys import codec_identity

    folder = tmp_path / "ladder"
    folder.mkdir()
    source = _image(tmp_path / "src.png")
    assert codec_identity(f"folder:{folder},better=high") == codec_identity(f"folder:{folder},better=higher")
    monkeypatch.chdir(folder)  # a source named from elsewhere is the same file
    assert codec_identity(f"folder:{folder},source=../src.png") == codec_identity(f"folder:{folder},source={source}")


def test_a_default_given_explicitly_resumes_as_the_same_request(tmp_path: Path, capsys) -> None:
    image = _image(tmp_path / "a.png")
    output = tmp_path / "r.json"
    assert main(["predict", str(image), *FAST, "-o", str(output)]) == 0
    assert main(["predict", str(image), *FAST, "--strategy", "block", "-o", str(output)]) == 0  # the default search
    assert "0 new results (1 already there)" in capsys.readouterr().out
    assert len(json.loads(output.read_text())["results"]) == 1
    assert main(["predict", str(image), *FAST, "--strategy", "exhaustive", "-o", str(output)]) == 0  # another one
    assert len(json.loads(output.read_text())["results"]) == 2


def test_the_recommended_visibility_model_named_is_the_same_request(tmp_path: Path, capsys) -> None:
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    image, output = _image(tmp_path / "a.png"), tmp_path / "r.json"
    recommended = default_params().jnd_model
    quick = ["--codec", "jpeg", "--threshold", "1.5"]
    assert main(["predict", str(image), *quick, "-o", str(output)]) == 0
    assert main(["predict", str(image), *quick, "--jnd-model", recommended, "-o", str(output)]) == 0
    assert "0 new results (1 already there)" in capsys.readouterr().out
    other = "chou1995" if recommended != "chou1995" else "yang2005"
    assert main(["predict", str(image), *quick, "--jnd-model", other, "-o", str(output)]) == 0
    results = json.loads(output.read_text())["results"]
    assert len(results) == 2 and {r["params"]["jnd_model"] for r in results} == {recommended, other}


def test_a_distance_that_prints_the_same_is_the_same_request(tmp_path: Path, capsys) -> None:
    image, output = _image(tmp_path / "a.png"), tmp_path / "r.json"
    assert main(["predict", str(image), *FAST, "--ppd", "38", "-o", str(output)]) == 0
    assert main(["predict", str(image), *FAST, "--ppd", "38.0000001", "-o", str(output)]) == 0
    assert "0 new results (1 already there)" in capsys.readouterr().out
    assert main(["predict", str(image), *FAST, "--ppd", "38.5", "-o", str(output)]) == 0
    assert len(json.loads(output.read_text())["results"]) == 2
