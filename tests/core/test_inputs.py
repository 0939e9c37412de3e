"""Hostile and odd inputs: tiny and huge images, unusual TIFFs, foreign or damaged checkpoints, nonsense options.

Each answer is one sentence (a :class:`~jndviewer.core.errors.JndViewerError`, exit status 2 on the command line) or
a defined result, never a traceback, a warning per level or a silent wrong number.
"""

from __future__ import annotations

import argparse
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PilImage

from jndviewer.cli import build_parser, main
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import ImageLoadError, JndViewerError, ModelError
from jndviewer.core.image import load
from jndviewer.core.ladder import Ladder


def _rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([40 + 0.5 * x + y, 120 + 0 * x, 200 - 0.3 * y + 0 * x], axis=-1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def _png(path: Path, rgb: np.ndarray) -> Path:
    PilImage.fromarray(rgb).save(path)
    return path


def _one_sentence(text: str) -> None:
    text = text.strip()
    assert text and "\n" not in text and "Traceback" not in text, text
    assert len(text) < 400, text
    assert text.endswith("."), text


def _last_error_line(err: str) -> str:
    """The last ``jndviewer: ...`` line of stderr (a progress bar may share its line: what follows it)."""
    lines = [line[line.index("jndviewer: ") :] for line in err.splitlines() if "jndviewer: " in line]
    assert lines, err
    return lines[-1]


# --------------------------------------------------------------------------------------------------------------------
# Item 8: images too small for a model
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(1, 1), (2, 2), (500, 7), (7, 500), (15, 40)])
def test_predictors_refuse_images_too_small_to_judge(height: int, width: int) -> None:
    from jndviewer.core.pwjnd.registry import create_predictor

    with pytest.raises(JndViewerError, match="too small") as info:
        create_predictor("visibility").predict(_rgb(height, width), create_codec("jpeg"))
    _one_sentence(str(info.value))
    assert f"{width}×{height}" in str(info.value)


def test_the_smallest_accepted_image_gets_a_prediction() -> None:
    from jndviewer.core.pwjnd.base import MIN_PREDICT_SIDE
    from jndviewer.core.pwjnd.registry import create_predictor

    side = MIN_PREDICT_SIDE
    result = create_predictor("visibility").predict(_rgb(side, side), create_codec("jpeg"))
    assert result.width == side and result.height == side


def test_export_of_a_tiny_image_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    image = _png(tmp_path / "dot.png", _rgb(2, 2))
    out = tmp_path / "out.jpg"
    assert main(["export", str(image), "-o", str(out)]) == 2
    line = _last_error_line(capsys.readouterr().err)
    assert "too small" in line and "dot.png" in line
    assert not out.exists()


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (500, 7)])
def test_ladder_of_an_image_smaller_than_the_ssim_window_is_one_sentence(tmp_path: Path, capsys, size) -> None:
    image = _png(tmp_path / "tiny.png", _rgb(*size))
    assert main(["ladder", str(image), "--levels", "10,50"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "SSIM" in err
    _one_sentence(_last_error_line(err).removeprefix("jndviewer: error: "))


def test_ladder_table_refuses_before_encoding() -> None:
    with Ladder(_rgb(5, 5), create_codec("jpeg")) as ladder, pytest.raises(JndViewerError, match="11×11"):
        ladder.table([10, 50])
    assert ladder.cached_levels() == ()


# --------------------------------------------------------------------------------------------------------------------
# Item 9: one pixel limit, applied everywhere, without Pillow's warnings
# --------------------------------------------------------------------------------------------------------------------


def test_codec_decode_is_not_stopped_by_pillows_bomb_check(monkeypatch) -> None:
    """The loader admitted the image under jndviewer's limit: Pillow's own (89 MP by default) must not stop or warn
    about its encodes; a low Pillow limit stands in for a 182 MP image."""
    monkeypatch.setattr(PilImage, "MAX_IMAGE_PIXELS", 1000)  # 48 x 64 = 3072 pixels: over twice it, an error
    codec = create_codec("jpeg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = codec.encode(_rgb(48, 64), 50)
    assert encoded.decoded.shape == (48, 64, 3)
    assert PilImage.MAX_IMAGE_PIXELS == 1000  # restored after the decode


def test_ladder_command_under_a_low_pillow_limit_neither_fails_nor_warns(tmp_path: Path, monkeypatch, capsys) -> None:
    image = _png(tmp_path / "photo.png", _rgb(48, 64))
    monkeypatch.setattr(PilImage, "MAX_IMAGE_PIXELS", 2000)  # 3072 pixels: between once and twice it, a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["ladder", str(image), "--levels", "10,20,30"]) == 0
    assert "DecompressionBomb" not in capsys.readouterr().err


def test_max_pixels_takes_scientific_notation() -> None:
    args = build_parser().parse_args(["ladder", "x.png", "--max-pixels", "2e8"])
    assert args.max_pixels == 200_000_000
    args = build_parser().parse_args(["map", "x.png", "--max-pixels", "120000000"])
    assert args.max_pixels == 120_000_000


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "nan", "inf", "lots"])
def test_max_pixels_refuses_non_counts(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["ladder", "x.png", "--max-pixels", value])
    assert info.value.code == 2
    assert "--max-pixels" in capsys.readouterr().err


def _png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _jpeg_header_claiming(width: int, height: int) -> bytes:
    small = PilImage.fromarray(_rgb(8, 8))
    import io

    buffer = io.BytesIO()
    small.save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("make", [_png_header_claiming, _jpeg_header_claiming])
def test_a_header_claiming_a_huge_image_is_refused_from_the_header(tmp_path: Path, make, capsys) -> None:
    path = tmp_path / "bomb.img"
    path.write_bytes(make(20_000, 9_100))  # 182 MP
    with pytest.raises(ImageLoadError, match="over the 120 MP limit") as info:
        load(path)
    _one_sentence(str(info.value))
    assert main(["ladder", str(path), "--max-pixels", "1.5e8"]) == 2
    err = capsys.readouterr().err
    assert "over the 150 MP limit" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------------------------------
# Item 10: TIFFs Pillow cannot read
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "words"), [(np.float32, "32-bit floating-point"), (np.float64, "64-bit floating")])
def test_a_valid_float_rgb_tiff_is_refused_truthfully(tmp_path: Path, dtype, words: str) -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    rgb = np.random.default_rng(0).random((20, 30, 3)).astype(dtype)
    path = tmp_path / "float.tif"
    path.write_bytes(imagecodecs.tiff_encode(rgb, photometric="rgb"))
    assert np.array_equal(imagecodecs.tiff_decode(path.read_bytes()), rgb)  # the file is valid
    with pytest.raises(ImageLoadError) as info:
        load(path)
    message = str(info.value)
    _one_sentence(message)
    assert "corrupt" not in message and "truncated" not in message
    assert words in message and "float.tif" in message


def test_a_float_gray_tiff_is_still_read_by_the_mode_rule(tmp_path: Path) -> None:
    imagecodecs = pytest.importorskip("imagecodecs")
    gray = np.linspace(0, 300, 20 * 30, dtype=np.float32).reshape(20, 30)
    path = tmp_path / "gray.tif"
    path.write_bytes(imagecodecs.tiff_encode(gray, photometric="minisblack"))
    image = load(path)
    assert image.pixels.dtype == np.uint8 and image.pixels[-1, -1, 0] == 255


def test_a_truncated_tiff_is_still_called_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.tif"
    PilImage.fromarray(_rgb(20, 30)).save(path)
    path.write_bytes(path.read_bytes()[:12])
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):
        load(path)


# --------------------------------------------------------------------------------------------------------------------
# Item 11: checkpoints
# --------------------------------------------------------------------------------------------------------------------


class _Payload:
    """What a hostile checkpoint holds: an object whose unpickling would call a function."""

    def __reduce__(self):
        return (print, ("this must never run",))


def _hostile(path: Path) -> Path:
    torch.save({"model": _Payload(), "step": 1}, path)
    return path


def _truncated(path: Path) -> Path:
    torch.save({"model": {"w": torch.zeros(4000)}, "step": 1}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_sgjnd_weights_of_another_width_are_one_sentence(tmp_path: Path) -> None:
    from jndviewer.core.pwjnd.sgjnd import EXPORT_FORMAT, SGJNDConfig, SGJNDHead, SGJNDPredictor

    config = SGJNDConfig(patch=64, patches=6, patch_visibility="none", backbone_differences=True,
                         codec_families=(), tasks=(), distance_offset=False, distance_experts=())
    head = SGJNDHead((24, 40, 112, 320), config.width)  # the config below claims half the width
    path = tmp_path / "narrow.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": {**config.to_dict(), "width": config.width // 2},
                "head": head.state_dict()}, path)
    with pytest.raises(ModelError, match=r"narrow\.pt does not match") as info:
        SGJNDPredictor(path)
    _one_sentence(str(info.value))
    assert "size mismatch" not in str(info.value)


@pytest.mark.parametrize("make", [_hostile, _truncated])
def test_sgjnd_weights_hostile_or_truncated_are_one_sentence(tmp_path: Path, make) -> None:
    from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor

    with pytest.raises(ModelError) as info:
        SGJNDPredictor(make(tmp_path / "bad.pt"))
    _one_sentence(str(info.value))


def test_load_checkpoint_of_a_hostile_file_says_why_in_one_sentence(tmp_path: Path, capsys) -> None:
    from jndviewer.core.train.common import load_checkpoint

    with pytest.raises(JndViewerError) as info:
        load_checkpoint(_hostile(tmp_path / "checkpoint.pt"))
    message = str(info.value)
    _one_sentence(message)
    assert "checkpoint.pt" in message and "Python objects" in message
    assert "weights_only" not in message and "PyTorch 2.6" not in message
    assert "this must never run" not in capsys.readouterr().out


def test_train_codec_resume_of_a_hostile_checkpoint_is_one_sentence(tmp_path: Path, capsys) -> None:
    data = tmp_path / "images"
    data.mkdir()
    for index in range(3):
        _png(data / f"im{index}.png", _rgb(96, 96, seed=index))
    run = tmp_path / "run"
    run.mkdir()
    _hostile(run / "checkpoint.pt")
    assert main(["train", "codec", "--data", str(data), "--run", str(run), "--steps", "1", "--crop", "32",
                 "--channels", "8", "--latent-channels", "8", "--export", str(tmp_path / "w.pt")]) == 2
    err = capsys.readouterr().err
    line = _last_error_line(err).removeprefix("jndviewer: error: ")
    _one_sentence(line)
    assert "Python objects" in line and "weights_only" not in err and "PyTorch 2.6" not in err


def _codec_export_only(tmp_path: Path, state: object) -> None:
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    torch.save(state, run / "checkpoint.pt")
    code = main(["train", "codec", "--data", str(tmp_path), "--run", str(run), "--export-only",
                 "--export", str(tmp_path / "w.pt")])
    assert code == 2
    assert not (tmp_path / "w.pt").exists()


@pytest.mark.parametrize(
    "state",
    [
        {"head": {"w": torch.zeros(2)}, "optimiser": {}, "step": 3},  # an SG-JND head's checkpoint
        {"model_config": {"channels": 8, "latent_channels": 8, "lambdas": [0.1]}, "step": 3},  # no weights
        {"model_config": {"channels": 8}, "model": {}, "step": 3},  # an unreadable configuration
        torch.zeros(3),  # not a checkpoint at all
    ],
    ids=["sgjnd-head", "no-weights", "bad-config", "tensor"],
)
def test_export_only_of_another_kind_of_checkpoint_is_one_sentence(tmp_path: Path, capsys, state) -> None:
    _codec_export_only(tmp_path, state)
    _one_sentence(_last_error_line(capsys.readouterr().err).removeprefix("jndviewer: error: "))


def test_export_only_of_another_architecture_is_one_sentence(tmp_path: Path, capsys) -> None:
    from jndviewer.core.codecs.learned_model import GainedFactorizedPrior, ModelConfig

    wide = GainedFactorizedPrior(ModelConfig(16, 8, (0.01, 0.1)))
    state = {"model_config": ModelConfig(8, 8, (0.01, 0.1)).to_dict(), "model": wide.state_dict(), "step": 3}
    _codec_export_only(tmp_path, state)
    line = _last_error_line(capsys.readouterr().err).removeprefix("jndviewer: error: ")
    _one_sentence(line)
    assert "does not match" in line and "size mismatch" not in line


@pytest.mark.parametrize("make", [_hostile, _truncated])
@pytest.mark.parametrize("which", ["features", "visibility"])
def test_sgjnd_training_caches_hostile_or_truncated_are_one_sentence(tmp_path: Path, make, which: str) -> None:
    from jndviewer.core.pwjnd.sgjnd import SGJNDConfig
    from jndviewer.core.train.common import TrainingLog
    from jndviewer.core.train.sgjnd_trainer import build_cache, build_visibility_cache

    path = make(tmp_path / f"{which}.pt")
    log = TrainingLog(tmp_path / "log.jsonl")
    with pytest.raises(JndViewerError) as info:
        if which == "features":
            build_cache([], SGJNDConfig(), 8, path, log)
        else:
            build_visibility_cache([], {"items": {}}, SGJNDConfig(), path, log)
    message = str(info.value)
    _one_sentence(message)
    assert f"{which}.pt" in message


# --------------------------------------------------------------------------------------------------------------------
# Item 12: option values
# --------------------------------------------------------------------------------------------------------------------


def _parse_fails(argv: list[str], capsys, option: str) -> str:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("command", ["predict", "export"])
@pytest.mark.parametrize("value", ["nan", "-0.5", "0", "inf", "-inf", "x"])
def test_threshold_must_be_a_positive_number(command: str, value: str, capsys) -> None:
    _parse_fails([command, "a.png", "-o", "r.json", "--threshold", value], capsys, "--threshold")


def test_threshold_accepts_positive_numbers() -> None:
    assert build_parser().parse_args(["predict", "a.png", "-o", "r.json", "--threshold", "1.25"]).threshold == 1.25


def test_the_predictor_refuses_a_nonsense_threshold_too() -> None:
    from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor

    for value in (float("nan"), -1.0, 0.0, float("inf")):
        with pytest.raises(JndViewerError, match="threshold"):
            PooledVisibilityPredictor(threshold=value)


@pytest.mark.parametrize("value", ["nan", "-3", "0", "inf"])
def test_map_vmax_must_be_a_positive_number(value: str, capsys) -> None:
    _parse_fails(["map", "a.png", "--vmax", value], capsys, "--vmax")
    assert build_parser().parse_args(["map", "a.png", "--vmax", "12.5"]).vmax == 12.5


@pytest.mark.parametrize("text", ["50:10", "10:50:0", "10:50:-5", "1:2:3:4", ",", "a:b", ""])
def test_levels_must_name_some_levels(text: str, capsys) -> None:
    _parse_fails(["ladder", "a.png", "--levels", text], capsys, "--levels")


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_ladder_with_a_reversed_range_is_one_sentence_not_an_empty_table(tmp_path: Path, suffix: str, capsys) -> None:
    image = _png(tmp_path / "photo.png", _rgb(32, 32))
    out = tmp_path / f"table{suffix}"
    with pytest.raises(SystemExit) as info:
        main(["ladder", str(image), "--levels", "50:10", "-o", str(out)])
    assert info.value.code == 2 and not out.exists()
    assert "--levels" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["10:50", "10:50:10", "10,50,90", " 7 , 9 "])
def test_levels_accepts_ranges_and_lists(text: str) -> None:
    assert build_parser().parse_args(["ladder", "a.png", "--levels", text]).levels == text


@pytest.mark.parametrize("value", ["0", "-2", "1.5"])
def test_jobs_must_be_a_positive_whole_number(value: str, capsys) -> None:
    _parse_fails(["predict", "a.png", "-o", "r.json", "--jobs", value], capsys, "--jobs")


@pytest.mark.parametrize(
    ("requested", "images", "cores", "jobs", "note"),
    [
        (2, 10, 8, 2, None),
        (1, 1, 1, 1, None),
        (1000, 3, 8, 3, "3 images"),
        (1000, 100, 8, 8, "8 cores"),
        (16, 1, 8, 1, "1 image"),
        (4, 0, 8, 1, None),  # nothing to do: one (unused) worker, nothing to say
        (3, 10, None, 1, "1 core"),  # os.cpu_count() may answer None
    ],
)
def test_effective_jobs_caps_at_images_and_cores(requested, images, cores, jobs, note) -> None:
    from jndviewer.core.batch import effective_jobs

    got, said = effective_jobs(requested, images, cores)
    assert got == jobs
    if note is None:
        assert said is None
    else:
        assert said is not None and note in said and f"--jobs {requested}" in said
        _one_sentence(said)


def test_option_types_report_like_argparse() -> None:
    from jndviewer.cli_options import positive_float

    with pytest.raises(argparse.ArgumentTypeError):
        positive_float("nan")
