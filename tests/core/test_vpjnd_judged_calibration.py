"""VP-JNDnet calibrated as its predictor judges (``jndviewer train vpjnd-calibrate``): the judged logits are the
predictor's, the fitted deltas land in every member's calibration, the cache resumes, bad input is one sentence."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.assets import sample_image
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError, ModelError
from jndviewer.core.pwjnd.patch_pooling import calibration_delta, parse_calibration_key
from jndviewer.core.pwjnd.vpjnd.predictor import load_network
from jndviewer.core.train import vpjnd_judged_calibration as judged
from jndviewer.core.train.vpjnd_ensemble import write_ensemble
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition
from tests.core.vpjnd_files import small_network_file

FIELDS = ["image", "codec", "display", "ppd", "jod_threshold", "pwjnd_level", "bytes_at_pwjnd", "best_level",
          "bytes_at_best", "levels", "task"]


@pytest.fixture
def ensemble(tmp_path: Path) -> Path:
    members = [small_network_file(tmp_path / "seed0.pt", 0, {"jpeg|side-by-side|38": 0.5, "jpeg|flicker|38": -0.2}),
               small_network_file(tmp_path / "seed1.pt", 1, {"jpeg|side-by-side|75": -0.3})]
    return write_ensemble(members, tmp_path / "ensemble.pt")


def _label(image: str, codec: str, display: str, level: int, task: str) -> dict[str, object]:
    return {"image": image, "codec": codec, "display": display, "ppd": 38.0 if display == "standard_fhd" else 75.0,
            "jod_threshold": 9.0, "pwjnd_level": level, "bytes_at_pwjnd": 1000, "best_level": 100,
            "bytes_at_best": 5000, "levels": 100, "task": task}


@pytest.fixture
def training(tmp_path: Path) -> tuple[Path, Path]:
    """Two small training images (crops of the bundled sample) and labels of their JPEG ladders."""
    images = tmp_path / "images"
    (images / "bsds500").mkdir(parents=True)
    sample = Image.open(sample_image()).convert("RGB")
    for index, name in enumerate(("a.png", "b.png")):
        sample.crop((index * 64, 0, index * 64 + 96, 80)).save(images / "bsds500" / name)
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for name, side, flicker in (("a.png", 30, 70), ("b.png", 24, 64)):
            writer.writerow(_label(f"bsds500/{name}", "jpeg", "standard_fhd", side, SIDE_BY_SIDE))
            writer.writerow(_label(f"bsds500/{name}", "jpeg", "standard_fhd", flicker, FLICKER))
            writer.writerow(_label(f"bsds500/{name}", "jpeg", "standard_4k", side - 6, SIDE_BY_SIDE))
    return images, labels


def test_judged_levels_are_every_level_near_a_label_and_a_stride_elsewhere() -> None:
    levels = judged.judged_levels(list(range(1, 101)), [30, 70], window=2, stride=20)
    assert levels == [1, 21, 28, 29, 30, 31, 32, 41, 61, 68, 69, 70, 71, 72, 81, 100]


def test_the_judged_logits_plus_each_members_offsets_are_the_predictors_logit(ensemble: Path) -> None:
    network = load_network(ensemble)
    rgb = np.asarray(Image.open(sample_image()).convert("RGB"))[:96, :160].copy()
    codec = create_codec("jpeg")
    logits = judged.member_level_logits(network, rgb, codec, [20, 60])
    assert logits.shape == (2, 2)
    # heif: a codec of no trained family (the offsets' mean, no calibration); 53 ppd: between the fitted distances
    for name, condition in (("jpeg", ViewingCondition(38.0, SIDE_BY_SIDE)), ("jpeg", ViewingCondition(75.0, FLICKER)),
                            ("jpeg", ViewingCondition(53.0, SIDE_BY_SIDE)), ("heif", ViewingCondition(53.0, FLICKER))):
        offsets = network.member_offsets(name, condition)
        state = network.reference_state(rgb, condition)
        for column, level in enumerate((20, 60)):
            report = network.evaluate(state, codec.encode(rgb, level).decoded, name)
            assert np.mean(logits[:, column] + offsets) == pytest.approx(report["logit"], abs=1e-5)


def test_calibrating_as_judged_adds_the_fitted_deltas_to_every_member_and_the_file_judges_as_fitted(
        ensemble: Path, training: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = training
    export = tmp_path / "calibrated.pt"
    record = judged.calibrate_as_judged(ensemble, labels, images, tmp_path / "cache", export)
    assert record["ladders"] == 2 and record["labels_count"] == 6
    assert set(record["deltas"]) == {"jpeg|side-by-side|38", "jpeg|flicker|38", "jpeg|side-by-side|75"}
    assert any(delta != 0 for delta in record["deltas"].values())  # (else the file's check below shows nothing)
    table = judged.judged_table(record).splitlines()
    assert len(table) == 3 + 3 + 1 and table[-1].split()[0] == "all"
    row = next(line.split() for line in table if line.startswith("jpeg|flicker|38"))
    assert float(row[1]) == pytest.approx(record["deltas"]["jpeg|flicker|38"], abs=0.005)
    assert float(row[4]) == pytest.approx(record["mae_after"]["jpeg|flicker|38"], abs=0.005)
    before = torch.load(ensemble, weights_only=True)["members"]
    after = torch.load(export, weights_only=True)["members"]
    for old, new in zip(before, after, strict=True):
        for key in record["deltas"]:
            family, task, ppd = parse_calibration_key(key)
            assert calibration_delta(new["calibration"], family, task, ppd) == pytest.approx(
                calibration_delta(old["calibration"], family, task, ppd) + record["deltas"][key])
        assert new["training"]["judged_calibration"]["deltas"] == record["deltas"]
        assert all(torch.equal(new["state"][k], old["state"][k]) for k in old["state"])
    # the judged error after the fit is the calibrated file's own, judged again from nothing
    network = load_network(export)
    ladders = judged.judge_ladders(network, _read(labels), images, judged.JudgedLogitCache(tmp_path / "fresh", "x"))
    again = judged.mean_abs(judged.judged_errors(judged.calibration_rows(network, ladders, _read(labels))))
    assert again == pytest.approx(record["mae_after"])
    # a second run reads the cache (no ladder judged again) and fits the same deltas
    monkeypatch.setattr(judged, "member_level_logits", _refuse)
    assert judged.calibrate_as_judged(ensemble, labels, images, tmp_path / "cache", tmp_path / "b.pt")["deltas"] == \
        record["deltas"]


def _read(labels: Path) -> list:
    from jndviewer.core.pwjnd.labels import read_labels

    return read_labels(labels)


def _refuse(*_: object) -> np.ndarray:
    raise AssertionError("judged again")


def test_a_cache_entry_of_other_levels_another_image_file_or_torn_is_judged_again(tmp_path: Path) -> None:
    cache = judged.JudgedLogitCache(tmp_path, "abc")
    image = tmp_path / "a.png"
    image.write_bytes(b"first")
    stamp = cache.stamp(image)
    ladder = judged.JudgedLadder("bsds500/a.png", "jpeg", [1, 5, 9], np.array([[0.5, -0.1, -2.0]]))
    cache.put(ladder, stamp)
    kept = cache.get("bsds500/a.png", "jpeg", [1, 5, 9], stamp, 1)
    assert kept is not None and np.array_equal(kept.logits, ladder.logits)
    assert cache.get("bsds500/a.png", "jpeg", [1, 5], stamp, 1) is None  # other levels asked
    assert cache.get("bsds500/a.png", "jpeg", [1, 5, 9], stamp, 2) is None  # another number of networks
    image.write_bytes(b"second, longer")
    assert cache.get("bsds500/a.png", "jpeg", [1, 5, 9], cache.stamp(image), 1) is None  # the image changed
    path = next(cache.folder.glob("*.npz"))
    path.write_bytes(path.read_bytes()[:40])
    assert cache.get("bsds500/a.png", "jpeg", [1, 5, 9], stamp, 1) is None  # torn


def test_the_fitted_deltas_add_to_each_members_calibration_at_every_distance() -> None:
    members = [{"calibration": {"jpeg|side-by-side|38": 0.5, "avif|flicker|75": 1.0}},
               {"calibration": {"jpeg|side-by-side|75": -0.3}}, {}]
    deltas = {"jpeg|side-by-side|38": 0.2, "jpeg|side-by-side|75": -0.1, "webp|flicker|38": 0.4}
    calibrated = judged.calibrated_members(members, deltas, {"deltas": deltas})
    for old, new in zip(members, calibrated, strict=True):
        assert new["training"]["judged_calibration"] == {"deltas": deltas}
        for family, task in (("jpeg", SIDE_BY_SIDE), ("webp", FLICKER), ("avif", FLICKER), ("jpeg", FLICKER)):
            for ppd in (20.0, 38.0, 45.0, 53.0, 75.0, 120.0):
                assert calibration_delta(new["calibration"], family, task, ppd) == pytest.approx(
                    calibration_delta(old.get("calibration") or {}, family, task, ppd)
                    + calibration_delta(deltas, family, task, ppd), abs=1e-6)


def test_a_missing_image_a_folder_for_export_or_labels_is_one_sentence_before_any_work(
        ensemble: Path, training: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = training
    monkeypatch.setattr(judged, "member_level_logits", _refuse)
    (images / "bsds500" / "b.png").unlink()
    with pytest.raises(JndViewerError, match=r"1 images of these labels are not under .*b\.png"):
        judged.calibrate_as_judged(ensemble, labels, images, tmp_path / "cache", tmp_path / "out.pt")
    (tmp_path / "folder.pt").mkdir()
    with pytest.raises(ModelError, match=r"folder\.pt is a folder"):
        judged.calibrate_as_judged(ensemble, labels, images, tmp_path / "cache", tmp_path / "folder.pt")
    with pytest.raises(JndViewerError, match="Cannot read the reference-label file"):
        judged.calibrate_as_judged(ensemble, tmp_path, images, tmp_path / "cache", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


def test_kodak_labels_missing_weights_and_overwriting_the_weights_are_one_sentence(
        ensemble: Path, training: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images, labels = training
    kodak = tmp_path / "kodak.csv"
    kodak.write_text(labels.read_text().replace("bsds500/a.png", "kodak/kodim01.png"))
    with pytest.raises(JndViewerError, match=r"Kodak images .*held-out evaluation set"):
        judged.calibrate_as_judged(ensemble, kodak, images, tmp_path / "cache", tmp_path / "out.pt")
    with pytest.raises(ModelError, match=r"would overwrite ensemble\.pt"):
        judged.calibrate_as_judged(ensemble, labels, images, tmp_path / "cache", ensemble)
    code = main(["train", "vpjnd-calibrate", str(tmp_path / "nope.pt"), "--labels", str(labels),
                 "--images", str(images), "--export", str(tmp_path / "out.pt")])
    captured = capsys.readouterr()
    assert code != 0 and "nope.pt do not exist" in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "out.pt").exists()


def test_some_ladders_keeps_at_most_that_many_images_per_codec(training: tuple[Path, Path]) -> None:
    labels = _read(training[1])
    kept = judged.some_ladders(labels, 1, seed=0)
    assert len({label.image for label in kept}) == 1 and len(kept) == 3
    assert judged.some_ladders(labels, 1, seed=0) == kept
