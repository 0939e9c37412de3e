"""Output conventions of ``predict`` and ``ladder`` (CSV: LF line endings, rows in input order, ``true``/``false``,
one rounding per column, ``-o -`` for stdout) and one pixel limit everywhere (``--max-pixels`` on predict, export
and folder ladders)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.report import read_document, read_results
from tests.toy_predictor import TOY_INFO

TOY = ["--predictor", "toy", "--codec", "jpeg", "--jobs", "1"]
#: Decimals of the measured columns, the same in every table (inputs such as ppd are written as given).
COLUMN_DECIMALS = {"bpp": 4, "bitrate_saving": 4, "psnr": 2, "ssim": 4, "seconds": 3, "encode_ms": 1}


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PREDICTORS, TOY_INFO.name, TOY_INFO)


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (48, 64)) -> Path:
    rng = np.random.default_rng(seed)
    height, width = size
    base = np.linspace(30, 220, width)[None, :, None] * np.ones((height, 1, 3))
    base += rng.normal(0, 20, base.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _decimals(value: str) -> int:
    return len(value.split(".")[1]) if "." in value else 0


def _one_error_line(err: str, needle: str) -> str:
    lines = [line.split("\r")[-1] for line in err.splitlines() if needle in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("jndviewer: ")
    return lines[0]


def _deliver_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the batch deliver its results in the reverse of the input order (as parallel workers may)."""
    from jndviewer.core import batch

    real = batch.run_batch

    def backwards(*args, on_result, **kwargs):
        finished: list = []
        real(*args, on_result=finished.append, **kwargs)
        for result in reversed(finished):
            on_result(result)

    monkeypatch.setattr(batch, "run_batch", backwards)


# A. CSV conventions ------------------------------------------------------------------------------------------------


def test_results_csv_has_lf_endings_true_false_and_one_rounding_per_column(tmp_path: Path, capsys, toy) -> None:
    images = [_image(tmp_path / f"im{i}.png", seed=i) for i in range(2)]
    output = tmp_path / "r.csv"
    assert main(["predict", *map(str, images), *TOY, "-o", str(output)]) == 0
    raw = output.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    rows = _csv_rows(raw.decode())
    assert len(rows) == 2
    for row in rows:
        assert row["all_visible"] in ("true", "false")
        for column in ("bpp", "bitrate_saving", "psnr", "seconds"):
            assert _decimals(row[column]) == COLUMN_DECIMALS[column], (column, row[column])
    results = read_results(output)  # read back for resuming: booleans and numbers as written
    assert [r.all_visible for r in results] == [row["all_visible"] == "true" for row in rows]
    assert main(["predict", *map(str, images), *TOY, "-o", str(output)]) == 0  # resumed: nothing new
    assert "0 new results (2 already there)" in capsys.readouterr().out


def test_results_written_before_as_True_False_are_still_read(tmp_path: Path, toy) -> None:
    image = _image(tmp_path / "a.png")
    output = tmp_path / "r.csv"
    assert main(["predict", str(image), *TOY, "-o", str(output)]) == 0
    text = output.read_text().replace(",false,", ",False,").replace(",true,", ",True,")
    output.write_text(text)
    assert read_results(output)[0].all_visible in (True, False)
    assert "False" in text or "True" in text


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_results_follow_the_input_order_not_the_completion_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 toy, suffix: str) -> None:
    folder = tmp_path / "set"
    names = ["b.png", "c.png", "a.png"]
    given = [_image(tmp_path / "z.png", seed=9), folder]
    for i, name in enumerate(names):
        _image(folder / name, seed=i)
    expected = [str(tmp_path / "z.png"), *(str(folder / name) for name in sorted(names))]  # folders expand sorted
    output = tmp_path / f"r{suffix}"
    assert main(["predict", str(folder / "b.png"), *TOY, "-o", str(output)]) == 0  # one of them done before
    _deliver_backwards(monkeypatch)
    assert main(["predict", *map(str, given), *TOY, "-o", str(output)]) == 0
    assert [r.image for r in read_results(output)] == expected


def test_predict_to_stdout_writes_csv_in_input_order_and_no_file(tmp_path: Path, capsys,
                                                                  monkeypatch: pytest.MonkeyPatch, toy) -> None:
    monkeypatch.chdir(tmp_path)
    images = [_image(tmp_path / f"im{i}.png", seed=i) for i in (2, 0, 1)]
    _deliver_backwards(monkeypatch)
    assert main(["predict", *map(str, images), *TOY, "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert "\r\n" not in captured.out and captured.out.startswith("image,")
    rows = _csv_rows(captured.out)
    assert [row["image"] for row in rows] == list(map(str, images))
    assert all(row["all_visible"] in ("true", "false") for row in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["im0.png", "im1.png", "im2.png"]  # no "-", no lock file
    assert "3 results" in captured.err


def test_predict_to_stdout_reports_bad_images_on_stderr(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                        toy) -> None:
    monkeypatch.chdir(tmp_path)
    good = _image(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert main(["predict", str(bad), str(good), *TOY, "-o", "-"]) == 1
    captured = capsys.readouterr()
    assert [row["image"] for row in _csv_rows(captured.out)] == [str(good)]
    _one_error_line(captured.err, "bad.png")
    assert "1 of 2 images failed" in captured.err


def test_ladder_csv_has_lf_endings_one_rounding_and_goes_to_stdout_with_dash(tmp_path: Path, capsys,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    image = _image(tmp_path / "a.png")
    assert main(["ladder", str(image), "--codec", "jpeg", "--levels", "10,50,90", "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out and not (tmp_path / "-").exists()
    rows = _csv_rows(out)
    assert [row["level"] for row in rows] == ["10", "50", "90"]
    for row in rows:
        for column in ("bpp", "psnr", "ssim", "encode_ms"):
            assert _decimals(row[column]) == COLUMN_DECIMALS[column], (column, row[column])
    table = tmp_path / "t.csv"
    assert main(["ladder", str(image), "--codec", "jpeg", "--levels", "10,50,90", "-o", str(table)]) == 0
    raw = table.read_bytes()
    assert b"\r" not in raw
    assert [r["level"] for r in _csv_rows(raw.decode())] == ["10", "50", "90"]
    as_json = tmp_path / "t.json"
    assert main(["ladder", str(image), "--codec", "jpeg", "--levels", "10,50,90", "-o", str(as_json)]) == 0
    for rung in json.loads(as_json.read_text())["rungs"]:
        for column in ("bpp", "psnr", "ssim"):
            assert rung[column] == round(rung[column], COLUMN_DECIMALS[column])


# B. one pixel limit everywhere --------------------------------------------------------------------------------------


def test_predict_and_export_take_max_pixels(tmp_path: Path, capsys, toy) -> None:
    image = _image(tmp_path / "a.png", size=(20, 20))
    output = tmp_path / "r.json"
    assert main(["predict", str(image), *TOY, "--max-pixels", "100", "-o", str(output)]) == 1
    line = _one_error_line(capsys.readouterr().err, "a.png")
    assert "over the 100-pixel limit" in line and "--max-pixels" in line
    results, errors = read_document(output)
    assert results == [] and len(errors) == 1 and "--max-pixels" in errors[0]["error"]
    exported = tmp_path / "out.jpg"
    assert main(["export", str(image), *TOY, "--max-pixels", "100", "-o", str(exported)]) == 2
    line = _one_error_line(capsys.readouterr().err, "a.png")
    assert "over the 100-pixel limit" in line
    assert not exported.exists()
    assert main(["export", str(image), *TOY, "--max-pixels", "4e2", "-o", str(exported)]) == 0
    assert exported.exists()


def test_predict_workers_take_max_pixels(tmp_path: Path, capsys, toy) -> None:
    folder = tmp_path / "set"
    for i in range(2):
        _image(folder / f"im{i}.png", seed=i, size=(20, 20))
    output = tmp_path / "r.json"
    assert main(["predict", str(folder), *TOY[:-1], "2", "--max-pixels", "100", "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert "2 of 2 images failed" in err
    assert all("over the 100-pixel limit" in e["error"] for e in read_document(output)[1])


def test_a_folder_ladder_over_the_limit_is_refused_in_one_sentence(tmp_path: Path, capsys, toy) -> None:
    folder = tmp_path / "ladder"
    folder.mkdir()
    big = np.asarray(Image.open(_image(tmp_path / "big.png", size=(20, 20))))
    for quality in (10, 50, 90):
        Image.fromarray(big).save(folder / f"big_{quality:03d}.jpg", quality=quality)
    small = _image(tmp_path / "small.png", size=(16, 16))  # 256 pixels: within the limit; the files are not
    assert main(["ladder", str(small), "--codec", f"folder:{folder}", "--max-pixels", "300"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("jndviewer: error: ")]
    assert len(lines) == 1 and "over the 300-pixel limit" in lines[0] and "big_" in lines[0], err
    output = tmp_path / "r.json"
    assert main(["predict", str(small), *TOY[:2], "--codec", f"folder:{folder}", "--jobs", "1",
                 "--max-pixels", "300", "-o", str(output)]) == 1
    assert "over the 300-pixel limit" in read_document(output)[1][0]["error"]
