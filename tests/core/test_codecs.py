"""Every codec round-trips at every level it exposes; sizes grow where promised; errors are one sentence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from jndviewer.core.codecs import CODECS, CodecError, codec_catalog, create_codec
from jndviewer.core.codecs.learned import AutoencoderCodec, LearnedCodec
from jndviewer.core.codecs.learned_model import GainedFactorizedPrior
from jndviewer.core.codecs.standard import HeifCodec
from jndviewer.core.metrics import psnr
from jndviewer.core.train.codec_trainer import CodecTrainingConfig, export_codec

STANDARD = ["jpeg", "jpeg422", "jpeg444", "webp", "avif", "jp2", "jxl", "heif"]


@pytest.fixture(scope="module")
def small_rgb() -> np.ndarray:
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:40, 0:56]
    base = np.stack([x * 4, y * 5, (x + y) * 2], axis=-1).astype(np.float64)
    base[10:30, 14:42] += rng.normal(0, 30, (20, 28, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", STANDARD)
def test_round_trip_at_every_level(name: str, small_rgb: np.ndarray) -> None:
    codec = create_codec(name)
    sizes = []
    for level in codec.levels():
        encoded = codec.encode(small_rgb, level)
        assert encoded.level == level
        assert encoded.decoded.shape == small_rgb.shape and encoded.decoded.dtype == np.uint8
        assert encoded.nbytes == len(encoded.data) > 0
        sizes.append(encoded.nbytes)
    best = codec.encode(small_rgb, codec.best_level())
    worst = codec.encode(small_rgb, codec.worst_level())
    assert psnr(small_rgb, best.decoded) > psnr(small_rgb, worst.decoded) + 1.0
    if codec.size_monotone:
        ordered = sizes if codec.better == "higher" else sizes[::-1]
        assert all(b >= 0.99 * a for a, b in itertools.pairwise(ordered)), f"{name} sizes not monotone"


def test_jpeg_sizes_grow_with_quality_on_a_photo_sized_image() -> None:
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 40, (128, 160, 3)), 0, 255).astype(np.uint8)
    codec = create_codec("jpeg")
    sizes = [codec.encode(image, q).nbytes for q in codec.levels()]
    assert sizes == sorted(sizes)
    assert sizes[-1] > 3 * sizes[0]


def test_jpeg_subsampling_changes_the_stream(small_rgb: np.ndarray) -> None:
    sizes = {name: create_codec(name).encode(small_rgb, 80).nbytes for name in ("jpeg", "jpeg422", "jpeg444")}
    assert sizes["jpeg"] < sizes["jpeg422"] < sizes["jpeg444"]


def test_decoded_is_what_the_bytes_decode_to(small_rgb: np.ndarray) -> None:
    from jndviewer.core.codecs.base import decode_with_pillow

    for name in ("jpeg", "webp", "avif", "jp2"):
        encoded = create_codec(name).encode(small_rgb, create_codec(name).levels()[-5])
        np.testing.assert_array_equal(decode_with_pillow(encoded.data), encoded.decoded)


def test_unknown_codec_and_level_are_one_sentence(small_rgb: np.ndarray) -> None:
    with pytest.raises(CodecError, match=r"^Unknown codec 'nope'; choose one of jpeg, .*\.$"):
        create_codec("nope")
    with pytest.raises(CodecError, match=r"has no level 0;.*\.$"):
        create_codec("jpeg").encode(small_rgb, 0)
    with pytest.raises(CodecError, match=r"uint8"):
        create_codec("jpeg").encode(small_rgb.astype(np.float32), 50)


def test_missing_optional_codec_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HeifCodec, "availability", classmethod(lambda cls: (False, "HEIF needs the extra.")))
    with pytest.raises(CodecError, match=r"HEIF needs the extra\."):
        create_codec("heif")
    rows = {row.name: row for row in codec_catalog()}
    assert not rows["heif"].available and rows["heif"].reason == "HEIF needs the extra."
    assert rows["jpeg"].available and rows["jpeg"].levels == "1..100 (100)"
    assert set(rows) == set(CODECS)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An untrained, tiny variable-rate model exported exactly as training exports it."""
    torch.manual_seed(0)
    config = CodecTrainingConfig(data=[], channels=8, latent_channels=8, lambdas=[0.002, 0.02, 0.2])
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    config.export = str(path)
    model = GainedFactorizedPrior(config.model_config())
    export_codec(model, config, step=0)
    return str(path)


def test_learned_codec_round_trip_is_a_real_bitstream(tiny_weights: str, small_rgb: np.ndarray) -> None:
    codec = LearnedCodec(tiny_weights)
    assert codec.levels() == (1, 2, 3)
    model = codec.model()
    for level in codec.levels():
        encoded = codec.encode(small_rgb, level)
        assert encoded.decoded.shape == small_rgb.shape
        again = model.decompress(encoded.data)
        rgb = (again[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
        np.testing.assert_array_equal(rgb, encoded.decoded)
    with pytest.raises(CodecError):
        model.decompress(b"JPEG" + bytes(20))


def test_autoencoder_ladder_has_nine_levels_between_the_rate_points(tiny_weights: str, small_rgb: np.ndarray) -> None:
    codec = AutoencoderCodec(tiny_weights)
    assert codec.levels() == tuple(range(1, 10)) and codec.better == "lower"
    assert codec.operating_point(1) == (1, 2, 0.0)  # top rate point
    lower, upper, weight = codec.operating_point(9)
    assert (lower, upper, weight) == (0, 1, 1.0)  # bottom rate point
    for level in codec.levels():
        encoded = codec.encode(small_rgb, level)
        assert encoded.decoded.shape == small_rgb.shape and encoded.nbytes > 0


@pytest.mark.parametrize("content", [b"", b"definitely not a checkpoint", None])
def test_wrong_checkpoints_are_one_sentence(tmp_path, content: bytes | None, small_rgb: np.ndarray) -> None:
    path = tmp_path / "weights.pt"
    if content is None:
        torch.save({"format": "something else", "state_dict": {}}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CodecError, match=r"weights\.pt .*\.$"):
        LearnedCodec(path).encode(small_rgb, 1)


def test_checkpoint_of_another_architecture_is_refused(tmp_path, tiny_weights: str) -> None:
    state = torch.load(tiny_weights, weights_only=True)
    state["model_config"]["latent_channels"] = 12
    path = tmp_path / "mismatch.pt"
    torch.save(state, path)
    with pytest.raises(CodecError, match="does not match"):
        LearnedCodec(path).levels()
