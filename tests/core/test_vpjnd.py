"""VP-JNDnet: the network's pieces and pooling, training end to end on generated images (cache, train, resume,
export, the ablation without the JND stream), loading and predicting, bad files in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from jndviewer.core.codecs import create_codec
from jndviewer.core.datasets import read_dataset
from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.pwjnd.labels import ReferenceLabel, write_labels
from jndviewer.core.pwjnd.patch_pooling import calibration_delta, calibration_key
from jndviewer.core.pwjnd.registry import PREDICTORS, create_predictor, patch_predictor_names
from jndviewer.core.pwjnd.vpjnd import EXPORT_FORMAT, VPJNDConfig
from jndviewer.core.pwjnd.vpjnd.network import (
    ChannelAttention,
    Extractor,
    NonLocal,
    VPJNDNet,
    jnd_input,
    pooled_difference,
)
from jndviewer.core.pwjnd.vpjnd.predictor import VPJNDPredictor, load_network
from jndviewer.core.train.samples import fit_condition_deltas, pwjnd_from_decisions
from jndviewer.core.train.vpjnd_trainer import (
    VPJNDTrainingConfig,
    build_patch_cache,
    dihedral,
    evaluate_groups,
    fit_calibration,
    make_groups,
    train_vpjnd,
)
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition

SMALL = {"width": 4, "hidden": 8, "patch": 64, "patches": 4}


def test_the_streams_have_the_published_shape_at_any_width() -> None:
    net = VPJNDNet(VPJNDConfig(width=32))
    convs = [m for m in net.image_stream.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 256]  # four 3x3 stages, as the released network
    assert sum(isinstance(m, ChannelAttention) for m in net.image_stream.modules()) == 3
    assert sum(isinstance(m, NonLocal) for m in net.image_stream.modules()) == 1
    assert net.jnd_stream is not None and net.jnd_stream is not net.image_stream
    assert net.jnd_stream.stages[0][0].in_channels == 1
    assert VPJNDNet(VPJNDConfig(jnd_model="none", **SMALL)).jnd_stream is None


@pytest.mark.parametrize("size", [64, 36])
def test_the_extractor_gives_its_stages_numbers_to_the_bit_with_the_gate_after_the_pool(
        size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Extractor.forward gates the pooled map (exact: the gate is a number >= 0 per channel); a map that turns odd
    before a gated stage (36 -> 18 -> 9 at stage 3) takes the plain order there. Gradients agree too (training uses
    the same forward)."""
    plain_order: list[int] = []
    forward = ChannelAttention.forward
    monkeypatch.setattr(ChannelAttention, "forward",
                        lambda self, x: plain_order.append(x.shape[-1]) or forward(self, x))
    torch.manual_seed(size)
    extractor = Extractor(3, (4, 8, 16, 32))
    with torch.no_grad():  # the gates' MLPs start near 0: make them matter
        for module in extractor.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.normal_(0, 0.5)
    x = torch.rand(3, 3, size, size, requires_grad=True)
    fast = extractor(x)
    assert plain_order == ([] if size == 64 else [9])  # the gate after the pool wherever the map is even
    plain = extractor.stages(x.contiguous(memory_format=torch.channels_last))
    assert torch.equal(fast, plain) and fast.shape == (3, 32, size // 16, size // 16)
    (fast_grad,) = torch.autograd.grad(fast.square().sum(), x)
    (plain_grad,) = torch.autograd.grad(plain.square().sum(), x)
    assert torch.allclose(fast_grad, plain_grad, rtol=1e-4, atol=1e-5 * float(plain_grad.abs().max()))


def test_the_non_local_block_starts_as_the_identity() -> None:
    x = torch.randn(2, 8, 6, 6)
    assert torch.equal(NonLocal(8)(x), x)


def test_the_quality_head_reads_the_feature_difference_times_the_gain() -> None:
    """A network with gain g equals one with gain 1 whose quality-head weights on the difference are g times larger;
    a configuration stored before the gain existed reads as gain 1 (how those weights were trained)."""
    torch.manual_seed(0)
    plain = VPJNDNet(VPJNDConfig(**SMALL, difference_gain=1.0))
    gained = VPJNDNet(VPJNDConfig(**SMALL, difference_gain=30.0))
    gained.load_state_dict(plain.state_dict())
    reference, distorted = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    jnd = torch.rand(2, 1, 64, 64) * 10 + 1
    size = plain.config.channels[-1]
    with torch.no_grad():
        before = plain.patch_scores(*plain.reference_features(reference, jnd), distorted)
        plain.quality[0].weight[:, 2 * size:] *= 30.0
        a = plain.patch_scores(*plain.reference_features(reference, jnd), distorted)
        b = gained.patch_scores(*gained.reference_features(reference, jnd), distorted)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(before[0], b[0])  # the gain changes the quality logits (the weight head: not)
    torch.testing.assert_close(before[1], b[1])
    stored = VPJNDConfig(**SMALL).to_dict()
    del stored["difference_gain"], stored["difference"]
    first = VPJNDConfig.from_dict(stored)
    assert (first.difference, first.difference_gain) == ("mean", 1.0)
    assert VPJNDConfig().difference_gain == 100.0
    with pytest.raises(ModelError, match="difference_gain must be positive"):
        VPJNDConfig(difference_gain=0.0)


def test_the_absolute_difference_sees_a_distortion_that_averages_out() -> None:
    """A distortion of +d and -d at alternate positions leaves the position-averaged features unchanged: the first
    form ("mean") cannot see it, the per-position absolute difference can."""

    class Raw(torch.nn.Module):  # a stand-in extractor: the patch's first channel as every feature, per position
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :1].repeat(1, 32, 1, 1)

    reference = torch.full((1, 3, 64, 64), 0.5)
    checker = (torch.arange(64)[:, None] + torch.arange(64)[None, :]) % 2 * 2 - 1  # +1 / -1 alternately
    distorted = reference + 0.02 * checker
    for difference, sees in (("mean", False), ("absolute", True), ("rms", True), ("max", True)):
        torch.manual_seed(0)
        net = VPJNDNet(VPJNDConfig(**SMALL, jnd_model="none", difference=difference))
        net.image_stream = Raw()
        with torch.no_grad():
            f_ref, _ = net.reference_features(reference, None)
            same, _ = net.patch_scores(f_ref, None, reference)
            other, _ = net.patch_scores(f_ref, None, distorted)
        assert (abs(float(other - same)) > 1e-4) == sees, difference
    with pytest.raises(ModelError, match="difference must be one of absolute, rms, max, mean"):
        VPJNDConfig(difference="median")


def test_the_pooled_differences_weigh_a_distortion_at_few_positions_as_their_names_say() -> None:
    """One position of 16 differs by 0.8: the mean of |difference| is 0.05, its root mean square 0.2, its maximum
    0.8 (the pooled forms of VPJNDConfig.difference); a distortion spread evenly scores the same in all three."""
    reference = torch.zeros(1, 2, 4, 4)
    local = reference.clone()
    local[0, :, 1, 2] = -0.8
    spread = reference + 0.05
    expected = {"absolute": 0.05, "rms": 0.2, "max": 0.8}
    for form, value in expected.items():
        assert torch.allclose(pooled_difference(reference, local, form), torch.full((1, 2), value), atol=1e-5), form
        assert torch.allclose(pooled_difference(reference, spread, form), torch.full((1, 2), 0.05), atol=1e-5), form
    assert torch.allclose(pooled_difference(reference, spread, "mean"), torch.full((1, 2), -0.05))
    undistorted = pooled_difference(reference.requires_grad_(), torch.zeros(1, 2, 4, 4), "rms")
    undistorted.sum().backward()
    assert torch.isfinite(reference.grad).all()  # RMS_FLOOR: no NaN gradient at an undistorted patch
    with pytest.raises(ModelError, match="difference must be one of"):
        pooled_difference(reference, local, "median")


def test_the_softplus_weight_head_stays_alive_where_relu_gives_every_patch_the_floor() -> None:
    """With the head's bias far negative (the same for both), ReLU weights are all the floor (1e-6, a dead head: no
    gradient, uniform pooling); softplus weights stay above it, differ between patches and still learn. Files stored
    before the field read as the ReLU head they were trained with."""
    torch.manual_seed(0)
    reference, distorted = torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64)
    jnd = torch.rand(4, 1, 64, 64) * 10 + 1
    weights, grads = {}, {}
    for head in ("relu", "softplus"):
        torch.manual_seed(0)
        net = VPJNDNet(VPJNDConfig(**SMALL, weight_head=head))
        with torch.no_grad():
            net.weight[-1].bias.fill_(-10.0)  # every patch's pre-activation negative
        _, weights[head] = net.patch_scores(*net.reference_features(reference, jnd), distorted)
        weights[head].sum().backward()
        grads[head] = float(net.weight[-1].weight.grad.abs().sum())
    torch.testing.assert_close(weights["relu"].detach(), torch.full((4,), 1e-6))
    assert grads["relu"] == 0.0 and grads["softplus"] > 0.0  # the dead head cannot learn; softplus still can
    alive = weights["softplus"].detach()
    assert float(alive.min()) > 1e-6 and float(alive.std()) > 0
    stored = VPJNDConfig(**SMALL).to_dict()
    del stored["weight_head"]
    assert VPJNDConfig.from_dict(stored).weight_head == "relu"
    assert VPJNDConfig().weight_head == "softplus"
    with pytest.raises(ModelError, match="weight_head must be one of softplus, relu"):
        VPJNDConfig(weight_head="sigmoid")


def test_image_logit_is_the_weighted_mean_of_patch_logits_plus_the_condition_offsets() -> None:
    from jndviewer.core.pwjnd.patch_pooling import pool_patch_logits
    from jndviewer.core.pwjnd.vpjnd.network import VPJNDNetwork

    torch.manual_seed(0)
    net = VPJNDNet(VPJNDConfig(**SMALL))
    with torch.no_grad():
        net.codec_offsets.copy_(torch.tensor([0.5, -1.0, 2.0]))
        net.task_offsets.copy_(torch.tensor([3.0]))
        net.distance_offsets.copy_(torch.tensor([1.0, 2.0]))
    reference, distorted = torch.rand(3, 3, 64, 64), torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        f_ref, f_jnd = net.reference_features(reference, torch.rand(3, 1, 64, 64) * 10 + 1)
        quality, weight = net.patch_scores(f_ref, f_jnd, distorted)
        logits, normalised = pool_patch_logits(quality, weight, [3])
    assert bool((weight > 0).all())
    assert float(normalised.sum()) == pytest.approx(1.0)
    assert float(logits[0]) == pytest.approx(float((weight / weight.sum() * quality).sum()), abs=1e-6)
    # the offsets: codec family (webp -1.0; heif, of no trained family, their mean 0.5), task (flicker +3.0) and a
    # slope per octave of ppd from 38 per task (side by side 1.0, flicker 2.0)
    network = VPJNDNetwork(net)
    assert network.member_offsets("webp", ViewingCondition(76.0, FLICKER)) == pytest.approx([-1.0 + 3.0 + 2.0])
    assert network.member_offsets("heif", ViewingCondition(19.0, SIDE_BY_SIDE)) == pytest.approx([0.5 - 1.0])
    assert network.member_offsets("jpeg", ViewingCondition(38.0, SIDE_BY_SIDE)) == pytest.approx([0.5])


def test_the_jnd_stream_reads_log_thresholds() -> None:
    assert float(jnd_input(torch.tensor([np.e ** 2]))[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(jnd_input(torch.tensor([0.0]))[0]) == pytest.approx(np.log(0.1) - 2.0, abs=1e-6)


def test_the_calibration_interpolates_in_log_ppd_per_family_and_task() -> None:
    table = {calibration_key("jpeg", "flicker", 38.0): -2.0, calibration_key("jpeg", "flicker", 76.0): 1.0,
             calibration_key("webp", "flicker", 38.0): 5.0}
    assert calibration_delta(table, "jpeg", "flicker", 38.0) == -2.0
    assert calibration_delta(table, "jpeg", "flicker", np.sqrt(38.0 * 76.0)) == pytest.approx(-0.5)  # half an octave
    assert calibration_delta(table, "jpeg", "flicker", 20.0) == -2.0 and calibration_delta(table, "jpeg", "flicker",
                                                                                          120.0) == 1.0
    assert calibration_delta(table, "webp", "flicker", 75.0) == 5.0  # one distance fitted: used at every distance
    assert calibration_delta(table, "jpeg", "side-by-side", 38.0) == 0.0  # none fitted
    assert calibration_delta(table, "", "flicker", 38.0) == 0.0


def test_condition_deltas_minimise_the_pwjnd_error_per_condition() -> None:
    levels = [10, 20, 30, 40, 50]
    logits = np.array([3.0, 2.0, 1.0, 0.0, -1.0])  # visible below level 40 as they stand
    rows = [("a", levels, logits, "higher", 50.0), ("a", levels, logits, "higher", 50.0),  # needs 0 < delta <= 1
            ("b", levels, logits, "higher", 20.0),  # needs -3 < delta <= -2 (10 still visible, 20 not)
            ("c", levels, logits, "higher", 40.0)]  # already right at delta 0: the smallest delta is kept
    fitted = fit_condition_deltas(rows)
    assert set(fitted) == {"a", "b", "c"} and fitted["c"] == 0.0
    assert str(fitted["c"]) == "0.0"  # not -0.0, which the grid's rounding gives and a printed table would show
    for key, label in (("a", 50), ("b", 20)):
        assert pwjnd_from_decisions(levels, list(logits + fitted[key] > 0), "higher") == label
    assert fitted["a"] == pytest.approx(0.05) and fitted["b"] == pytest.approx(-2.0)  # the smallest in size


def test_exhaustive_pwjnd_from_decisions() -> None:
    levels = [10, 20, 30, 40]
    assert pwjnd_from_decisions(levels, [True, True, False, False], "higher") == 30
    assert pwjnd_from_decisions(levels, [True, False, True, False], "higher") == 40  # the first visible from the top
    assert pwjnd_from_decisions(levels, [True, True, True, True], "higher") == 40  # even the best is visible
    assert pwjnd_from_decisions(levels, [False, False, True, True], "lower") == 20


@pytest.fixture
def labelled(tmp_path: Path) -> list[str]:
    """Eight small images labelled at JPEG quality 20-55, side by side, and 30 levels higher for flicker."""
    rng = np.random.default_rng(5)
    labels = []
    for index in range(8):
        height, width = (96, 128) if index % 2 else (128, 96)
        _, x = np.mgrid[0:height, 0:width]
        rgb = 60 + 0.8 * x[..., None] + rng.normal(0, 8 + 4 * index, (height, width, 3))
        path = tmp_path / "images" / "set" / f"img{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path)
        for task, shift in (("side-by-side", 0), ("flicker", 30)):
            labels.append(ReferenceLabel(f"set/img{index}.png", "jpeg", "standard_fhd", 38.0, 9.0,
                                         20 + 5 * index + shift, 1000, 100, 9000, 100, task))  # fmt: skip
    write_labels(labels, tmp_path / "labels.csv")
    spec = f"reference:{tmp_path / 'labels.csv'},images={tmp_path / 'images'},codec=jpeg"
    return [f"{spec},task=side-by-side", f"{spec},task=flicker"]


def _config(data: list[str], tmp_path: Path, **changes: object) -> VPJNDTrainingConfig:
    values = {"data": data, "run_dir": str(tmp_path / "run"), "export": str(tmp_path / "vpjnd.pt"), "steps": 30,
              "groups": 3, "levels": 3, "cache_patches": 2, "window": 6, "threads": 1, "validation_share": 0.3,
              "validate_every": 10, "learning_rate": 3e-3, "config": VPJNDConfig(**SMALL).to_dict()}
    values.update(changes)
    return VPJNDTrainingConfig(**values)  # type: ignore[arg-type]


def test_training_caches_patches_learns_the_flicker_offset_resumes_and_exports(
    labelled: list[str], tmp_path: Path
) -> None:
    config = _config(labelled, tmp_path, steps=20)
    path = train_vpjnd(config, progress=False)
    state = torch.load(path, weights_only=True)
    assert state["format"] == EXPORT_FORMAT and state["config"]["jnd_model"] == "wu2017"
    first_offset = float(state["state"]["task_offsets"][0])
    assert first_offset > 0.05  # flicker labels sit higher: the same distortion is more visible
    cache_files = sorted((tmp_path / "run" / "cache").glob("*.pt"))
    assert len(cache_files) == 8
    entry = torch.load(cache_files[0], weights_only=True)
    assert entry["reference"].dtype == torch.uint8 and entry["reference"].shape[1:] == (3, 64, 64)
    assert set(entry["jnd"]) == {"chou1995", "yang2005", "wu2013", "wu2017"}
    levels = entry["codecs"]["jpeg"]["levels"].tolist()
    assert entry["codecs"]["jpeg"]["distorted"].shape[:2] == (len(levels), entry["reference"].shape[0])
    # the same command with more steps resumes from step 20
    config.steps = 30
    train_vpjnd(config, progress=False)
    log = (tmp_path / "run" / "log.jsonl").read_text()
    assert '"event": "resumed", "step": 20' in log
    exported = torch.load(path, weights_only=True)
    validation = exported["training"]["validation"]
    assert validation["labels"] > 0 and 0.0 <= validation["accuracy"] <= 1.0
    assert set(exported["calibration"]) <= {"jpeg|side-by-side|38", "jpeg|flicker|38"}
    # the calibration lowers (or keeps) the error on the images it was fitted on

    samples = [s for spec in labelled for s in read_dataset(spec)]
    network = load_network(path)
    groups = make_groups(samples, build_patch_cache(samples, network.config, tmp_path / "run" / "cache", 2, 6),
                         network.config)
    fitted = fit_calibration(network.nets[0], groups, torch.device("cpu"))
    before = evaluate_groups(network.nets[0], groups, torch.device("cpu"))["mae"]
    assert evaluate_groups(network.nets[0], groups, torch.device("cpu"), fitted)["mae"] <= before
    assert set(validation["by_condition"]) <= {"38 ppd, side by side", "38 ppd, flicker"}
    # the predictor loads the export and honours the task
    image = np.asarray(Image.open(tmp_path / "images" / "set" / "img1.png").convert("RGB"))
    side = VPJNDPredictor(path).predict(image, create_codec("jpeg"))
    flicker = VPJNDPredictor(path, condition=ViewingCondition(task=FLICKER)).predict(image, create_codec("jpeg"))
    assert side.params["strategy"] == "block" and side.condition["task"] == "side-by-side"
    assert flicker.condition["task"] == "flicker"
    assert sum(side.params["patch_weights"]) == pytest.approx(1.0, abs=1e-5)
    assert len(side.params["patch_positions"]) == len(side.params["patch_weights"]) == 4
    report = VPJNDPredictor(path).patch_report(image, create_codec("jpeg").encode(image, 10).decoded, "jpeg")
    assert len(report["positions"]) == len(report["weight"]) and report["patch"] == 64


def test_the_ablation_without_the_jnd_stream_shares_the_cache(labelled: list[str], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    train_vpjnd(_config(labelled, tmp_path, steps=2, cache_dir=str(cache)), progress=False)
    built = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt")}
    path = train_vpjnd(_config(labelled, tmp_path, steps=2, cache_dir=str(cache), run_dir=str(tmp_path / "run2"),
                               export=str(tmp_path / "none.pt"),
                               config=VPJNDConfig(jnd_model="none", **SMALL).to_dict()), progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pt")} == built  # reused, not rebuilt
    state = torch.load(path, weights_only=True)
    assert state["config"]["jnd_model"] == "none" and not any(k.startswith("jnd_stream") for k in state["state"])
    with pytest.raises(JndViewerError, match="another network configuration"):  # run2: the network without the stream
        train_vpjnd(_config(labelled, tmp_path, steps=3, cache_dir=str(cache), run_dir=str(tmp_path / "run2")),
                    progress=False)
    checkpoint = tmp_path / "run2" / "checkpoint.pt"  # one written before the configuration was stored: the weights
    old = torch.load(checkpoint, weights_only=True)  # do not fit
    del old["config"]
    torch.save(old, checkpoint)
    with pytest.raises(JndViewerError, match="holds a network of another configuration"):
        train_vpjnd(_config(labelled, tmp_path, steps=3, cache_dir=str(cache), run_dir=str(tmp_path / "run2")),
                    progress=False)
    relu = VPJNDConfig(**SMALL, weight_head="relu").to_dict()  # the same parameters, another weight head
    with pytest.raises(JndViewerError, match="another network configuration"):
        train_vpjnd(_config(labelled, tmp_path, steps=3, cache_dir=str(cache), config=relu), progress=False)


def test_bad_weight_files_are_one_sentence(tmp_path: Path) -> None:
    other = tmp_path / "other.pt"
    torch.save({"format": "jndviewer.sgjnd", "heads": []}, other)
    with pytest.raises(ModelError, match="not a jndviewer VP-JNDnet file"):
        load_network(other)
    wrong = tmp_path / "wrong.pt"
    net = VPJNDNet(VPJNDConfig(**SMALL))
    torch.save({"format": EXPORT_FORMAT, "config": VPJNDConfig(**{**SMALL, "width": 8}).to_dict(),
                "state": net.state_dict()}, wrong)
    with pytest.raises(ModelError, match="does not match the VP-JNDnet architecture"):
        load_network(wrong)
    with pytest.raises(ModelError, match="do not exist"):
        load_network(tmp_path / "missing.pt")


def test_vpjnd_is_registered_as_a_patch_predictor_for_both_tasks(tmp_path: Path) -> None:
    info = PREDICTORS["vpjnd"]
    assert info.honours == ("ppd", "task") and info.patches and info.needs_weights
    assert patch_predictor_names() == ("sgjnd", "vpjnd")
    path = tmp_path / "small.pt"
    torch.save({"format": EXPORT_FORMAT, "config": VPJNDConfig(**SMALL).to_dict(),
                "state": VPJNDNet(VPJNDConfig(**SMALL)).state_dict()}, path)
    predictor = create_predictor("vpjnd", {"weights": str(path)}, condition=ViewingCondition(75.0, FLICKER))
    assert isinstance(predictor, VPJNDPredictor) and predictor.condition.ppd == 75.0
    small = VPJNDConfig(**{**SMALL, "tasks": ("side-by-side",)})
    torch.save({"format": EXPORT_FORMAT, "config": small.to_dict(), "state": VPJNDNet(small).state_dict()},
               tmp_path / "side.pt")
    with pytest.raises(ModelError, match="trained for side-by-side, not flicker"):
        VPJNDPredictor(tmp_path / "side.pt", condition=ViewingCondition(task=FLICKER))


def test_training_on_a_human_label_source_reads_its_distorted_files(tmp_path: Path) -> None:
    """A KonJND-1k-like folder (JPEG and BPG files rated by people, 48 x 32 pixels): the cache holds the files' own
    pixels (nothing is encoded), and BPG, no trained family, is calibrated under the family "" (the mean offset)."""
    from jndviewer.core.image import load
    from tests.core.test_data_readers import make_konjnd

    make_konjnd(tmp_path / "konjnd")
    config = _config([f"konjnd:{tmp_path / 'konjnd'}"], tmp_path, steps=3, validation_share=0.0)
    state = torch.load(train_vpjnd(config, progress=False), weights_only=True)
    entries = [torch.load(p, weights_only=True) for p in (tmp_path / "run" / "cache").glob("*.pt")]
    assert sorted(e["source"] for e in entries) == ["1001", "1002"]
    first = next(e for e in entries if e["source"] == "1001")
    assert sorted(first["codecs"]) == ["bpg", "jpeg"]
    for codec, suffix in (("jpeg", "jpg"), ("bpg", "png")):
        levels = first["codecs"][codec]["levels"].tolist()
        assert set(levels) <= {10, 20, 25, 30, 35, 40, 50}  # the folder's levels only
        pixels = load(tmp_path / "konjnd" / codec / f"1001_{codec.upper()}_{levels[0]:03d}.{suffix}").rgb8()
        patch = first["codecs"][codec]["distorted"][0, 0].permute(1, 2, 0).numpy()
        height, width = pixels.shape[:2]  # smaller than a 64-pixel patch: padded by edge replication
        assert np.array_equal(patch[:height, :width], pixels)
    assert {key.split("|")[0] for key in state["calibration"]} == {"jpeg", ""}


def test_the_kept_reference_is_reused_only_for_the_same_pixels() -> None:
    """The reference streams (and its JND map, which depends on the whole image) are kept for the image last seen;
    one changed pixel anywhere, even away from the patch grid, computes them again."""
    torch.manual_seed(0)
    from jndviewer.core.pwjnd.vpjnd.network import VPJNDNetwork

    network = VPJNDNetwork(VPJNDNet(VPJNDConfig(**SMALL)))
    rgb = np.random.default_rng(2).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    first = network.reference_state(rgb, ViewingCondition())
    again = network.reference_state(rgb.copy(), ViewingCondition(75.0, FLICKER))
    assert again.f_ref is first.f_ref and again.condition == ViewingCondition(75.0, FLICKER)
    changed = rgb.copy()
    changed[1, 1] = 255 - changed[1, 1]
    assert network.reference_state(changed, ViewingCondition()).f_ref is not first.f_ref
    network.forget()
    assert network.reference_state(rgb, ViewingCondition()).f_ref is not first.f_ref


def test_train_vpjnd_command_passes_its_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``jndviewer train vpjnd``: the weight head, JND model, width, head size, difference and steps reach the training
    configuration (the default steps are the shipped run's 2,400, the default export RUN/vpjnd.pt); a weight head it
    does not know is refused by the parser."""
    from jndviewer.cli import main
    from jndviewer.core.train import vpjnd_trainer

    seen: list[VPJNDTrainingConfig] = []
    monkeypatch.setattr(vpjnd_trainer, "train_vpjnd", lambda config: seen.append(config) or tmp_path / "x.pt")
    common = ["train", "vpjnd", "--data", "konjnd:nowhere", "--run", str(tmp_path / "run"), "--device", "cpu"]
    assert main([*common, "--weight-head", "relu", "--jnd-model", "none", "--width", "8", "--augment", "dihedral",
                 "--seed", "3", "--cache-patches", "12", "--hidden", "128", "--difference", "max"]) == 0
    assert main(common) == 0
    first, second = (VPJNDConfig.from_dict(config.config) for config in seen)
    assert (first.weight_head, first.jnd_model, first.width) == ("relu", "none", 8)
    assert (second.weight_head, second.jnd_model, second.width) == ("softplus", "wu2017", 16)
    assert (first.hidden, second.hidden) == (128, 64)
    assert (first.difference, second.difference) == ("max", "absolute")
    assert seen[1].steps == 2400 and seen[1].run_dir == str(tmp_path / "run")
    assert seen[1].export == str(tmp_path / "run" / "vpjnd.pt")  # never the packaged ensemble unless asked
    assert (seen[0].augment, seen[1].augment) == ("dihedral", VPJNDTrainingConfig.augment)
    assert (seen[0].seed, seen[1].seed) == (3, VPJNDTrainingConfig.seed)
    assert (seen[0].cache_patches, seen[1].cache_patches) == (12, VPJNDTrainingConfig.cache_patches)
    with pytest.raises(SystemExit):
        main([*common, "--weight-head", "sigmoid"])
    with pytest.raises(SystemExit):
        main([*common, "--augment", "rotate"])
    with pytest.raises(SystemExit):
        main([*common, "--difference", "median"])


def test_the_eight_symmetries_of_the_square_are_distinct_and_keep_the_pixels() -> None:
    patches = torch.rand(2, 3, 5, 5)
    seen = [dihedral(patches, turns, mirror) for turns in range(4) for mirror in (False, True)]
    assert all(not torch.equal(a, b) for i, a in enumerate(seen) for b in seen[i + 1 :])
    assert all(torch.equal(s.flatten(2).sort().values, patches.flatten(2).sort().values) for s in seen)
    assert torch.equal(dihedral(patches, 0, True)[..., 0], patches[..., -1])  # mirrored left to right
    assert torch.equal(dihedral(patches, 1, False), torch.rot90(patches, 1, dims=(-2, -1)))
    assert torch.equal(dihedral(dihedral(patches, 1, False), 3, False), patches)


def test_augmented_training_turns_every_stream_alike_and_refuses_an_unknown_augmentation(
    labelled: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training groups (patch rows a tensor) are seen under random symmetries, validation and calibration (all patches,
    a slice) as cached; a group's streams turn together, several levels and chosen patches included; the augmentation
    and the seed are recorded, and a run resumes only with the same ones."""
    from jndviewer.core.train import vpjnd_trainer

    training: list[tuple[int, bool]] = []
    evaluation: list[tuple[int, bool]] = []
    original = vpjnd_trainer._group_logits

    def spy(net: VPJNDNet, group: object, rows: list[int], keep: torch.Tensor | slice, device: torch.device,
            symmetry: tuple[int, bool] = (0, False)) -> torch.Tensor:
        (evaluation if isinstance(keep, slice) else training).append(symmetry)
        return original(net, group, rows, keep, device, symmetry)  # type: ignore[arg-type]

    monkeypatch.setattr(vpjnd_trainer, "_group_logits", spy)
    path = train_vpjnd(_config(labelled, tmp_path, steps=6, augment="dihedral"), progress=False)
    exported = torch.load(path, weights_only=True)
    assert exported["training"]["validation"]["labels"] > 0
    assert (exported["training"]["augment"], exported["training"]["seed"]) == ("dihedral", 0)
    assert len(training) == 18 and len(set(training)) >= 4  # 6 steps x 3 groups under random symmetries
    assert evaluation and set(evaluation) == {(0, False)}  # validation and calibration: as cached
    # the reference, JND-map and distorted patches of a group reach the network turned the same way
    samples = [s for spec in labelled for s in read_dataset(spec)]
    config = VPJNDConfig(**SMALL)
    group = make_groups(samples, build_patch_cache(samples, config, tmp_path / "run" / "cache", 2, 6),
                        config)[0]
    assert len(group.levels) >= 3 and group.reference.shape[0] == 2
    net = VPJNDNet(config).eval()
    inputs: dict[str, torch.Tensor] = {}
    reference_features, patch_scores = net.reference_features, net.patch_scores

    def record_reference(reference: torch.Tensor, jnd: torch.Tensor | None) -> object:
        inputs.update(reference=reference, jnd=jnd)
        return reference_features(reference, jnd)

    def record_distorted(f_ref: torch.Tensor, f_jnd: torch.Tensor | None, distorted: torch.Tensor) -> object:
        inputs["distorted"] = distorted
        return patch_scores(f_ref, f_jnd, distorted)

    monkeypatch.setattr(net, "reference_features", record_reference)
    monkeypatch.setattr(net, "patch_scores", record_distorted)
    keep = torch.tensor([1])
    with torch.no_grad():
        original(net, group, [0, 2], keep, torch.device("cpu"), (1, True))
    reference = group.reference[keep].float() / 255.0
    assert torch.equal(inputs["reference"], dihedral(reference, 1, True))
    assert torch.equal(inputs["jnd"], dihedral(group.jnd[keep], 1, True))
    expected = dihedral(group.distorted[[0, 2]][:, keep].float() / 255, 1, True).reshape(-1, *reference.shape[1:])
    assert torch.equal(inputs["distorted"], expected)  # level 0's patch, then level 2's
    assert not torch.equal(inputs["reference"], reference)
    # resuming: only with the same augmentation and seed; a checkpoint written before they were stored was trained
    # without augmentation
    train_vpjnd(_config(labelled, tmp_path, steps=8, augment="dihedral"), progress=False)
    with pytest.raises(JndViewerError, match="trained with --augment dihedral, not none"):  # no silent mix
        train_vpjnd(_config(labelled, tmp_path, steps=10), progress=False)
    with pytest.raises(JndViewerError, match="trained with --seed 0, not 1"):
        train_vpjnd(_config(labelled, tmp_path, steps=10, augment="dihedral", seed=1), progress=False)
    assert json.loads((tmp_path / "run" / "export.json").read_text())["augment"] == "dihedral"
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=True)
    del state["augment"], state["seed"]
    torch.save(state, checkpoint)
    with pytest.raises(JndViewerError, match="trained with --augment none, not dihedral"):
        train_vpjnd(_config(labelled, tmp_path, steps=10, augment="dihedral"), progress=False)
    with pytest.raises(JndViewerError, match="Unknown augmentation 'rotate'"):
        train_vpjnd(_config(labelled, tmp_path, augment="rotate"), progress=False)


def test_a_cache_and_a_run_keep_their_patch_count(labelled: list[str], tmp_path: Path) -> None:
    """A cache of 2 patches per image is not silently read as one of 3 (a cache written before the count was stored
    held 4); a run trained on 2 is not resumed on 3 (a checkpoint written before the count was stored was trained on
    4), and that is said before any cache is built; the export records the count."""
    path = train_vpjnd(_config(labelled, tmp_path, steps=4), progress=False)
    assert torch.load(path, weights_only=True)["training"]["cache_patches"] == 2
    samples = [s for spec in labelled for s in read_dataset(spec)]
    cache = tmp_path / "run" / "cache"
    config = VPJNDConfig(**SMALL)
    with pytest.raises(JndViewerError, match=r"holds up to 2 patches per image, not 3; train with another --cache"):
        build_patch_cache(samples, config, cache, 3, 6)
    older = sorted(cache.glob("*.pt"))[0]
    entry = torch.load(older, weights_only=True)
    del entry["cache_patches"]
    torch.save(entry, older)
    with pytest.raises(JndViewerError, match=r"holds up to 4 patches per image, not 2"):
        build_patch_cache(samples, config, cache, 2, 6)
    # the run's checkpoint is checked before a cache is built for it
    with pytest.raises(JndViewerError, match=r"trained with --cache-patches 2, not 3; train in a new run folder"):
        train_vpjnd(_config(labelled, tmp_path, steps=6, cache_patches=3, cache_dir=str(tmp_path / "cache3")),
                    progress=False)
    assert not (tmp_path / "cache3").exists()
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=True)
    del state["cache_patches"]  # as written before the count was stored: trained on 4
    torch.save(state, checkpoint)
    with pytest.raises(JndViewerError, match=r"trained with --cache-patches 4, not 2"):
        train_vpjnd(_config(labelled, tmp_path, steps=6, cache_dir=str(tmp_path / "cache2")), progress=False)
    assert not (tmp_path / "cache2").exists()
