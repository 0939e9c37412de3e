"""VP-JNDnet ensembles: one file holding several networks, whose calibrated logits the predictor averages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from jndviewer.cli import main
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.pwjnd.patch_pooling import calibration_delta
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.pwjnd.vpjnd import EXPORT_FORMAT, VPJNDConfig
from jndviewer.core.pwjnd.vpjnd.config import ENSEMBLE_VERSION
from jndviewer.core.pwjnd.vpjnd.predictor import VPJNDPredictor, load_network
from jndviewer.core.train.vpjnd_ensemble import write_ensemble
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition
from tests.core.vpjnd_files import SMALL, small_network_file


@pytest.fixture
def members(tmp_path: Path) -> list[Path]:
    return [small_network_file(tmp_path / "seed0.pt", 0, {"jpeg|side-by-side|38": 0.5, "jpeg|flicker|38": -0.2}),
            small_network_file(tmp_path / "seed1.pt", 1, {"jpeg|side-by-side|75": -0.3})]


def _images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    reference = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    distorted = np.clip(reference.astype(int) + rng.integers(-20, 21, reference.shape), 0, 255).astype(np.uint8)
    return reference, distorted


def test_the_ensemble_logit_is_the_mean_of_its_members_calibrated_logits(
        members: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "ensemble.pt"
    assert main(["train", "vpjnd-ensemble", *map(str, members), "--export", str(export)]) == 0
    assert f"wrote {export}" in capsys.readouterr().out
    stored = torch.load(export, weights_only=True)
    assert stored["version"] == ENSEMBLE_VERSION
    assert [m["source"] for m in stored["members"]] == [str(path) for path in members]
    assert [m["training"]["seed"] for m in stored["members"]] == [0, 1]
    reference, distorted = _images()
    ensemble = load_network(export)
    assert len(ensemble) == 2
    for condition in (ViewingCondition(38.0, SIDE_BY_SIDE), ViewingCondition(75.0, SIDE_BY_SIDE),
                      ViewingCondition(38.0, FLICKER)):
        singles = [load_network(path) for path in members]
        reports = [n.evaluate(n.reference_state(reference, condition), distorted, "jpeg") for n in singles]
        report = ensemble.evaluate(ensemble.reference_state(reference, condition), distorted, "jpeg")
        assert report["member_logits"] == pytest.approx([r["logit"] for r in reports], abs=1e-5)
        assert report["logit"] == pytest.approx(np.mean([r["logit"] for r in reports]), abs=1e-5)
        assert report["weight"] == pytest.approx(np.mean([r["weight"] for r in reports], axis=0), abs=1e-6)
        assert report["quality"] == pytest.approx(np.mean([r["quality"] for r in reports], axis=0), abs=1e-5)
        assert sum(report["weight"]) == pytest.approx(1.0, abs=1e-5)
    # each member keeps its own calibration: its JPEG delta at side by side, 38 ppd (the second's nearest fit is 75)
    side = ViewingCondition(38.0, SIDE_BY_SIDE)
    assert [calibration_delta(c, "jpeg", side.task, side.ppd) for c in ensemble.calibrations] == pytest.approx(
        [0.5, -0.3])


def test_the_predictor_of_an_ensemble_decides_each_level_on_the_mean_and_reports_its_patches(
        members: list[Path], tmp_path: Path) -> None:
    export = write_ensemble(members, tmp_path / "ensemble.pt")
    reference, _ = _images()
    predictor = VPJNDPredictor(export, condition=ViewingCondition(75.0, SIDE_BY_SIDE))
    singles = [VPJNDPredictor(path, condition=ViewingCondition(75.0, SIDE_BY_SIDE)) for path in members]
    codec = create_codec("jpeg")
    decider = predictor.decider(reference, "jpeg")
    single_deciders = [p.decider(reference, "jpeg") for p in singles]
    for level in (10, 50, 90):
        decoded = codec.encode(reference, level).decoded
        decision = decider.decide(level, decoded)
        mean = np.mean([d.decide(level, decoded).score for d in single_deciders])
        assert decision.score == pytest.approx(mean, abs=1e-5) and decision.visible == (mean > 0)
    result = predictor.predict(reference, codec)
    assert len(result.params["patch_weights"]) == len(result.params["patch_positions"]) > 1
    assert sum(result.params["patch_weights"]) == pytest.approx(1.0, abs=1e-5)
    assert result.params["networks"] == 2 and singles[0].predict(reference, codec).params["networks"] == 1
    assert PREDICTORS["vpjnd"].describe(result.params).endswith("JND map chou1995, mean of 2 networks")


def test_ensembles_nest_flat_and_bad_members_are_one_sentence_naming_the_source(
        members: list[Path], tmp_path: Path) -> None:
    pair = write_ensemble(members, tmp_path / "pair.pt")
    third = small_network_file(tmp_path / "seed2.pt", 2, {})
    triple = write_ensemble([pair, third], tmp_path / "triple.pt")
    stored = torch.load(triple, weights_only=True)
    assert [m["source"] for m in stored["members"]] == [str(path) for path in (*members, third)]
    assert len(load_network(triple)) == 3
    with pytest.raises(ModelError, match="at least two"):
        write_ensemble(members[:1], tmp_path / "one.pt")
    with pytest.raises(ModelError, match=r"seed0\.pt \(network 3\) is the same network as .*seed0\.pt \(network 1\)"):
        write_ensemble([pair, members[0]], tmp_path / "twice.pt")
    wider = small_network_file(tmp_path / "wider.pt", 3, {}, VPJNDConfig(**{**SMALL.to_dict(), "width": 8}))
    with pytest.raises(ModelError, match=r"wider\.pt \(network 2\) has another configuration than .*seed0\.pt"):
        write_ensemble([members[0], wider], tmp_path / "mixed.pt")
    other = tmp_path / "other.pt"
    torch.save({"format": "jndviewer.sgjnd", "heads": []}, other)
    with pytest.raises(ModelError, match=r"^other\.pt is not a jndviewer VP-JNDnet file"):
        write_ensemble([members[0], other], tmp_path / "wrong.pt")
    bad = small_network_file(tmp_path / "bad.pt", 4, {"not a key": 1.0})
    with pytest.raises(ModelError, match=r"^bad\.pt holds an unreadable per-condition calibration"):
        write_ensemble([members[0], bad], tmp_path / "bad_calibration.pt")
    with pytest.raises(ModelError, match=r"^The VP-JNDnet file .*missing\.pt does not exist\.$"):
        write_ensemble([members[0], tmp_path / "missing.pt"], tmp_path / "missing_source.pt")
    before = members[0].read_bytes()
    with pytest.raises(ModelError, match=r"would overwrite its source seed0\.pt"):
        write_ensemble(members, members[0])
    assert members[0].read_bytes() == before
    (tmp_path / "folder.pt").mkdir()
    with pytest.raises(JndViewerError, match=r"^Could not write .*folder\.pt: a folder is in its place\.$"):
        write_ensemble(members, tmp_path / "folder.pt")
    written = {"one.pt", "twice.pt", "mixed.pt", "wrong.pt", "bad_calibration.pt", "missing_source.pt",
               "folder.pt.tmp"}
    assert not any((tmp_path / name).exists() for name in written)
    assert main(["train", "vpjnd-ensemble", str(members[0]), "--export", str(tmp_path / "cli.pt")]) == 2


def test_files_of_another_version_and_rewritten_files_are_read_as_they_are_now(
        members: list[Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.pt"
    torch.save({"format": EXPORT_FORMAT, "version": ENSEMBLE_VERSION, "members": []}, empty)
    with pytest.raises(ModelError, match=r"^empty\.pt holds no VP-JNDnet weights\.$"):
        load_network(empty)
    newer = tmp_path / "newer.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 7, "members": []}, newer)
    with pytest.raises(ModelError, match=r"^newer\.pt is a VP-JNDnet file of version 7, .* a newer jndviewer"):
        load_network(newer)
    path = write_ensemble(members, tmp_path / "grown.pt")
    assert len(load_network(path)) == 2
    write_ensemble([*members, small_network_file(tmp_path / "seed2.pt", 2, {})], path)  # the same path, rewritten
    assert len(load_network(path)) == 3


def test_a_condition_beyond_any_members_calibrated_distances_is_an_extrapolation(tmp_path: Path) -> None:
    both = {"jpeg|side-by-side|38": 0.1, "jpeg|side-by-side|75": -0.1}
    calibrated = [small_network_file(tmp_path / f"c{seed}.pt", seed, both) for seed in (0, 1)]
    uncalibrated = small_network_file(tmp_path / "u.pt", 2, {})  # no calibration: the labels' 38 ppd only
    at_75 = ViewingCondition(75.0, SIDE_BY_SIDE)
    assert VPJNDPredictor(write_ensemble(calibrated, tmp_path / "e1.pt"), condition=at_75).caveats("jpeg") == []
    mixed = VPJNDPredictor(write_ensemble([*calibrated, uncalibrated], tmp_path / "e2.pt"), condition=at_75)
    assert mixed.caveats("jpeg") == ["The VP-JNDnet network was trained on labels at 38 ppd; at 75 ppd its PW-JND is "
                                     "an extrapolation, untested."]
