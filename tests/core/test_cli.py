"""The command line, run in-process: outputs, numbers and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.image import load, luma_tensor
from jndviewer.core.jnd import create_model


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    base = np.linspace(30, 220, 64)[None, :, None] * np.ones((48, 1, 3))
    base[16:32, 20:44] += rng.normal(0, 25, (16, 24, 3))
    path = tmp_path / "photo.png"
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


def test_map_npy_equals_the_model(photo: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "jnd.npy"
    assert main(["map", str(photo), "--model", "chou1995", "--engine", "torch", "--device", "cpu", "-o", str(out)]) == 0
    expected = create_model("chou1995")(luma_tensor(load(photo))).threshold[0, 0].numpy()
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=1e-6)
    printed = capsys.readouterr().out
    assert "photo.png: 64x48, chou1995 on cpu" in printed and f"wrote {out}" in printed


def test_map_png_with_components(photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "maps" / "p.png"
    assert main(["map", str(photo), "--model", "wu2017", "--components", "-o", str(out)]) == 0
    names = sorted(p.name for p in out.parent.iterdir())
    expected = ["p.png"] + [f"p.{c}.png" for c in create_model("wu2017").component_names]
    assert names == sorted(expected)
    assert Image.open(out).width > 64


def test_map_zero_border_differs_at_the_border(photo: Path, tmp_path: Path) -> None:
    main(["map", str(photo), "--model", "chou1995", "--border", "zero", "-o", str(tmp_path / "z.npy")])
    main(["map", str(photo), "--model", "chou1995", "-o", str(tmp_path / "r.npy")])
    zero, replicate = np.load(tmp_path / "z.npy"), np.load(tmp_path / "r.npy")
    np.testing.assert_allclose(zero[2:-2, 2:-2], replicate[2:-2, 2:-2], atol=1e-5)
    assert np.abs(zero[0] - replicate[0]).max() > 1.0


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "is empty"), (b"not an image at all", "not an image"), (None, "does not exist")],
)
def test_bad_input_is_one_line(tmp_path: Path, capsys, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "bad.png"
    if content is not None:
        path.write_bytes(content)
    assert main(["map", str(path), "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jndviewer: error: ") and fragment in err
    assert err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()


def test_unavailable_device_is_one_line(photo: Path, capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["map", str(photo), "--device", "cuda"]) == 2
    assert "CUDA" in capsys.readouterr().err


def test_unknown_model_is_rejected_by_argparse(photo: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["map", str(photo), "--model", "nope"])
    assert exit_info.value.code == 2


def test_models_lists_every_model(capsys) -> None:
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    for name in ("chou1995", "yang2005", "wu2013", "wu2017"):
        assert name in printed


def test_parser_does_not_import_torch() -> None:
    code = "import sys; from jndviewer.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("predictor", ["sgjnd", "vpjnd"])
def test_a_bad_weights_file_is_one_sentence_before_any_image(predictor: str, photo: Path, tmp_path: Path,
                                                              capsys) -> None:
    """A damaged --weights file is said once, before the batch starts (exit 2), not once per image (issue 18)."""
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    images = []
    for index in range(3):
        copy = tmp_path / f"img{index}.png"
        copy.write_bytes(photo.read_bytes())
        images.append(str(copy))
    out = tmp_path / "r.json"
    code = main(["predict", *images, "--predictor", predictor, "--weights", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("bad.pt") == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_default_jobs_are_capped_silently_and_a_given_number_with_a_sentence(photo: Path, tmp_path: Path,
                                                                                  capsys) -> None:
    """One image with the default --jobs: no note (the user asked for nothing); --jobs 4: why it is capped."""
    assert main(["predict", str(photo), "-o", str(tmp_path / "a.json")]) == 0
    assert "capped" not in capsys.readouterr().err
    assert main(["predict", str(photo), "--jobs", "4", "-o", str(tmp_path / "b.json")]) == 0
    err = capsys.readouterr().err
    assert "--jobs 4 is capped at 1 worker process: there is 1 image." in err
