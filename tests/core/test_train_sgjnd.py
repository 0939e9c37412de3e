"""`jndviewer train sgjnd` end to end on generated images: cache, train, export, resume, load (the real backbone)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import ReferenceLabel, write_labels
from jndviewer.core.pwjnd.patch_pooling import calibration_key
from jndviewer.core.pwjnd.sgjnd import EXPORT_FORMAT, SGJNDPredictor
from jndviewer.core.train.sgjnd_trainer import SGJNDTrainingConfig, train_sgjnd
from jndviewer.core.viewing import ViewingCondition


@pytest.fixture
def labelled(tmp_path: Path) -> str:
    """Six small images of different sizes (so patch counts differ), labelled at JPEG quality 20-45."""
    rng = np.random.default_rng(3)
    labels = []
    for index, (height, width) in enumerate([(96, 160), (128, 128), (96, 96), (80, 160), (128, 192), (96, 128)]):
        _, x = np.mgrid[0:height, 0:width]
        rgb = 60 + 0.8 * x[..., None] + rng.normal(0, 12 + 6 * index, (height, width, 3))
        path = tmp_path / "images" / "set" / f"img{index}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path)
        labels.append(ReferenceLabel(f"set/img{index}.png", "jpeg", "standard_fhd", 38.0, 9.0, 20 + 5 * index, 1000,
                                     100, 9000, 51))  # fmt: skip
    write_labels(labels, tmp_path / "labels.csv")
    return f"reference:{tmp_path / 'labels.csv'},images={tmp_path / 'images'},codec=jpeg"


def test_training_without_validation_images_still_exports(labelled: str, tmp_path: Path) -> None:
    config = SGJNDTrainingConfig(
        data=[labelled], run_dir=str(tmp_path / "run"), export=str(tmp_path / "sgjnd.pt"), steps=3, batch=4,
        window=6, threads=1, validation_share=0.0, heads=1,
        config={"backbone": "efficientnet-lite0", "patch": 64, "patches": 2, "grid": 2, "width": 8},
    )
    state = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    assert state["training"]["validation_items"] == 0 and state["training"]["validation"]["mae"] is None


def test_heads_that_read_patch_visibility_train_on_a_cache_of_it(labelled: str, tmp_path: Path) -> None:
    """The visibility cache holds, per sample, levels x patches x 1 for the feature cache's levels and patches;
    it reuses a feature cache made without it, and more distortion gives more visibility."""
    common = {"backbone": "efficientnet-lite0", "patch": 64, "patches": 2, "grid": 2, "width": 8}
    config = SGJNDTrainingConfig(
        data=[labelled], run_dir=str(tmp_path / "run"), export=str(tmp_path / "plain.pt"), steps=2, batch=4,
        window=8, threads=1, validation_share=0.0, heads=1, config=common,
    )
    train_sgjnd(config, progress=False)
    config.config = {**common, "patch_visibility": "subband"}
    config.export = str(tmp_path / "visibility.pt")
    with pytest.raises(JndViewerError, match="head of another configuration"):
        train_sgjnd(config, progress=False)  # the run's checkpoint holds the plain head
    (tmp_path / "run" / "checkpoint.pt").unlink()
    state = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    assert state["config"]["patch_visibility"] == "subband"
    assert state["heads"][0]["quality.0.weight"].shape[1] == 8 * 4 + 1  # four depths' tokens and the visibility
    features = torch.load(tmp_path / "run" / "features.pt", weights_only=True)["items"]
    visibility = torch.load(tmp_path / "run" / "visibility.pt", weights_only=True)["items"]
    assert visibility.keys() == features.keys()
    for key, item in features.items():
        assert visibility[key].shape == (len(item["levels"]), item["reference"][0].shape[0], 1)
        worst, best = visibility[key][0].mean(), visibility[key][-1].mean()  # levels ascend: quality 1 ... 100
        assert float(worst) > float(best) + 1.0
    image = np.asarray(Image.open(tmp_path / "images" / "set" / "img1.png").convert("RGB"))
    result = SGJNDPredictor(config.export).predict(image, create_codec("jpeg"))
    assert 1 <= result.level <= 100 and sum(result.params["patch_weights"]) == pytest.approx(1.0, abs=1e-5)
    # the same caches train a head that reads no backbone differences
    config.config = {**config.config, "backbone_differences": False}
    config.run_dir, config.export = str(tmp_path / "run2"), str(tmp_path / "reference_only.pt")
    (tmp_path / "run2").mkdir()
    for name in ("features.pt", "visibility.pt"):
        (tmp_path / "run2" / name).symlink_to(tmp_path / "run" / name)
    state = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    assert state["config"]["backbone_differences"] is False
    assert not SGJNDPredictor(config.export).network.config.backbone_differences
    # from nothing, such a run caches no distorted features, and trains the same head
    config.run_dir, config.export = str(tmp_path / "run3"), str(tmp_path / "fresh.pt")
    fresh = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    cache = torch.load(tmp_path / "run3" / "features.pt", weights_only=True)
    assert cache["differences"] is False and all(item["differences"] is None for item in cache["items"].values())
    assert all(torch.equal(fresh["heads"][0][k], v) for k, v in state["heads"][0].items())
    config.config = {**config.config, "backbone_differences": True}
    config.export = str(tmp_path / "refused.pt")
    with pytest.raises(JndViewerError, match="holds no backbone differences"):
        train_sgjnd(config, progress=False)


def test_training_exports_loadable_weights_and_resumes(labelled: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = SGJNDTrainingConfig(
        data=[labelled], run_dir=str(tmp_path / "run"), export=str(tmp_path / "sgjnd.pt"), steps=20, batch=8,
        window=10, threads=1, validation_share=0.5, heads=2,
        config={"backbone": "efficientnet-lite0", "patch": 64, "patches": 3, "grid": 2, "width": 16},
    )
    path = train_sgjnd(config, progress=False)
    state = torch.load(path, weights_only=True)
    assert state["format"] == EXPORT_FORMAT and state["training"]["steps"] == 20
    assert len(state["heads"]) == 2 and not torch.equal(state["heads"][0]["quality.2.weight"],
                                                        state["heads"][1]["quality.2.weight"])  # fmt: skip
    assert state["training"]["train_items"] + state["training"]["validation_items"] == 6
    assert state["training"]["validation_items"] >= 1
    cache = torch.load(tmp_path / "run" / "features.pt", weights_only=True)["items"]
    assert len(cache) == 6 and {item["reference"][0].shape[0] for item in cache.values()} == {1, 2, 3}
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    validation = [r for r in log if r["event"] == "validation"]
    assert [(r["head"], r["step"]) for r in validation] == [(0, 20), (1, 20)]
    assert all(0 <= r["mae"] <= 99 for r in validation)
    assert next(r for r in log if r["event"] == "ensemble")["heads"] == 2
    # the exported head drives the predictor: a PW-JND on a real JPEG ladder, weights summing to 1
    image = np.asarray(Image.open(tmp_path / "images" / "set" / "img4.png").convert("RGB"))
    result = SGJNDPredictor(path).predict(image, create_codec("jpeg"))
    assert 1 <= result.level <= 100 and result.encodes == len(result.trace) > 0
    assert sum(result.params["patch_weights"]) == pytest.approx(1.0, abs=1e-5)
    # the same command with more steps resumes from the checkpoint instead of starting over
    config.steps = 30
    train_sgjnd(config, progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    resumed = [r for r in log if r["event"] == "resumed"]
    assert [(r["head"], r["step"]) for r in resumed] == [(0, 20), (1, 20)]
    assert torch.load(path, weights_only=True)["training"]["steps"] == 30
    # a feature cache belongs to one network configuration
    config.config = {**config.config, "reference_chroma": "420"}  # the cache above was made with "full"
    with pytest.raises(JndViewerError, match="another network configuration"):
        train_sgjnd(config, progress=False)


def test_a_per_condition_calibration_is_fitted_after_training_and_moves_the_logit(
    labelled: str, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    config = SGJNDTrainingConfig(
        data=[labelled], run_dir=str(tmp_path / "run"), export=str(tmp_path / "sgjnd.pt"), steps=10, batch=8,
        window=10, threads=1, validation_share=0.0, heads=1, calibrate=True,
        config={"backbone": "efficientnet-lite0", "patch": 64, "patches": 3, "grid": 2, "width": 16},
    )
    state = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    key = calibration_key("", "side-by-side", 38.0)  # a network of no codec families: keyed by none
    assert list(state["calibration"]) == [key] and -8.0 <= state["calibration"][key] <= 8.0
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["deltas"] for r in log if r["event"] == "calibration"] == [state["calibration"]]
    # the predictor adds the delta of its condition's family, task and distance
    predictor = SGJNDPredictor(tmp_path / "sgjnd.pt")
    network = predictor.network
    assert network.calibration == state["calibration"]
    image = np.asarray(Image.open(tmp_path / "images" / "set" / "img1.png").convert("RGB"))
    distorted = create_codec("jpeg").encode(image, 30).decoded
    positions, reference = network.reference_state(image, ViewingCondition())
    calibrated = network.evaluate(reference, positions, distorted, "jpeg")["logit"]
    network.calibration = {key: state["calibration"][key] + 1.5}
    positions, reference = network.reference_state(image, ViewingCondition(38.0, "side-by-side"))
    assert network.evaluate(reference, positions, distorted, "jpeg")["logit"] == pytest.approx(calibrated + 1.5)
    # flicker was not fitted here: no delta for it
    network.calibration = {}
    positions, reference = network.reference_state(image, ViewingCondition())
    assert network.evaluate(reference, positions, distorted, "jpeg")["logit"] == pytest.approx(
        calibrated - state["calibration"][key])
    # without --calibrate (the default) nothing is fitted
    config.calibrate, config.export = False, str(tmp_path / "plain.pt")
    assert torch.load(train_sgjnd(config, progress=False), weights_only=True)["calibration"] == {}


def test_patch_dropout_keeps_random_subsets_of_each_picks_patches() -> None:
    from jndviewer.core.train.sgjnd_trainer import _batch

    def item(patches: int, label: int) -> dict:
        rows = torch.arange(patches, dtype=torch.float32)[:, None].repeat(1, 3)  # row r holds the value r
        return {
            "reference": [rows], "differences": [torch.stack([rows + 100 * level for level in range(3)])],
            "levels": torch.tensor([10, 20, 30]), "label": label, "better": "higher",
        }  # fmt: skip

    items = [item(12, 25), item(5, 15)]
    picks = [(0, 0), (0, 2), (1, 1), (0, 1)]
    whole, labels, patches, _, _, _, _ = _batch(items, picks)
    assert patches == [12, 12, 5, 12] and whole[0].shape == (41, 6) and labels.tolist() == [1.0, 0.0, 0.0, 1.0]
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(20):
        features, dropped_labels, kept, _, _, _, _ = _batch(items, picks, rng, keep_min=4)
        assert torch.equal(dropped_labels, labels)
        assert all(4 <= k <= 12 for k in kept[:2] + kept[3:]) and 4 <= kept[2] <= 5
        assert features[0].shape == (sum(kept), 6)
        first = features[0][: kept[0]]
        assert torch.equal(first[:, 3:] - first[:, :3], torch.zeros_like(first[:, :3]))  # level 0: difference = row
        assert bool((first[1:, 0] > first[:-1, 0]).all())  # distinct patches, in order
        seen.add(kept[0])
    assert len(seen) > 3  # the subset size varies


def test_cli_options_reach_the_exported_configuration(labelled: str, tmp_path: Path) -> None:
    from jndviewer.cli import main

    export = tmp_path / "cli.pt"
    assert main(["train", "sgjnd", "--data", labelled, "--run", str(tmp_path / "cli"), "--export", str(export),
                 "--steps", "2", "--threads", "1", "--heads", "1", "--patch-layout", "tiles", "--patches", "3"]) == 0
    config = torch.load(export, weights_only=True)["config"]
    assert (config["patch_layout"], config["patches"], config["patch"]) == ("tiles", 3, 128)
    assert config["patch_visibility"] == "subband" and config["backbone_differences"] is False
    # labels at 38 ppd only: the default distance experts give way to one set of heads, and the log says why
    assert tuple(config["distance_experts"]) == () and config["distance_offset"] is False
    log = [json.loads(line) for line in (tmp_path / "cli" / "log.jsonl").read_text().splitlines()]
    assert [(r["experts"], r["label_ppd"]) for r in log if r["event"] == "distance_experts"] == [([], [38.0])]
    # asked for by name, the experts are kept: one sentence, exit 2 (a usage error)
    assert main(["train", "sgjnd", "--data", labelled, "--run", str(tmp_path / "cli2"), "--export", str(export),
                 "--steps", "2", "--threads", "1", "--distance-experts", "38,75"]) == 2
    with pytest.raises(SystemExit):
        main(["train", "sgjnd", "--distance-experts", "75,38"])


def test_trains_on_a_study_database_of_image_crops(tmp_path: Path) -> None:
    """`--data study:DB`: people's answers are labels; the crops they saw are what the heads train on."""
    from jndviewer.core.datasets import read_dataset
    from jndviewer.core.study.model import FLICKER_ADJUSTMENT, StudyConditions, StudyItem
    from jndviewer.core.study.session import StudyOptions, StudyRunner
    from jndviewer.core.study.store import StudyStore
    from jndviewer.core.train.sgjnd_trainer import sample_reference

    rng = np.random.default_rng(5)
    items = []
    for index in range(4):
        path = tmp_path / f"photo{index}.png"
        Image.fromarray(rng.integers(40, 220, (150, 200, 3), dtype=np.uint8)).save(path)
        items.append(StudyItem(f"photo{index}", str(path), "jpeg", tuple(range(1, 101)), source=f"photo{index}",
                               crop=(20, 10, 128, 96)))
    store = StudyStore(tmp_path / "study.sqlite")
    conditions = StudyConditions("flicker", 600.0, 0.27)
    runner = StudyRunner.start(store, "obs-1", FLICKER_ADJUSTMENT, "mine", items, conditions, seed=2,
                               options=StudyOptions(catch_same=0, catch_obvious=0))
    while not runner.done:
        adjustment = runner.flicker()
        adjustment.move(40, 1.0)  # first flicker seen at quality 61
        runner.record(adjustment.answer("visible", 2.0))
    store.close()
    samples = read_dataset(f"study:{tmp_path / 'study.sqlite'}")
    assert len(samples) == 4 and samples[0].meta["task"] == "flicker" and samples[0].jnd_level == 62
    assert sample_reference(samples[0]).shape == (96, 128, 3)
    config = SGJNDTrainingConfig(
        data=[f"study:{tmp_path / 'study.sqlite'}"], run_dir=str(tmp_path / "run"), export=str(tmp_path / "s.pt"),
        steps=2, batch=4, window=6, threads=1, validation_share=0.0, heads=1,
        config={"backbone": "efficientnet-lite0", "patch": 64, "patches": 4, "grid": 2, "width": 8,
                "tasks": ["side-by-side", "flicker"]},
    )
    train_sgjnd(config, progress=False)
    features = torch.load(tmp_path / "run" / "features.pt", weights_only=True)["items"]
    assert len(features) == 4
    first = next(iter(features.values()))
    # the seed's tiles: a 128x96 crop holds 2x1 tiles of 64 pixels; the whole 200x150 image would give 4 (capped)
    assert first["reference"][0].shape[0] == 2


def test_distance_experts_each_train_on_their_displays_labels_and_export_together(
    labelled: str, tmp_path: Path
) -> None:
    """Labels at 38 and 75 ppd: one set of heads per distance, each trained only on its labels (in its own folder of
    the run, resumable), exported together; the predictor reads each distance with its expert."""
    from jndviewer.core.pwjnd.labels import read_labels

    near = read_labels(tmp_path / "labels.csv")
    far = [ReferenceLabel(label.image, "jpeg", "standard_4k", 75.0, 9.0, label.pwjnd_level - 12, 1000, 100, 9000, 51)
           for label in near]  # fmt: skip
    write_labels(near + far, tmp_path / "both.csv")
    spec = f"reference:{tmp_path / 'both.csv'},images={tmp_path / 'images'},codec=jpeg"
    network = {"backbone": "efficientnet-lite0", "patch": 64, "patches": 2, "grid": 2, "width": 8,
               "patch_visibility": "subband", "backbone_differences": False, "distance_experts": (38.0, 75.0)}
    config = SGJNDTrainingConfig(
        data=[f"{spec},display=standard_fhd", f"{spec},display=standard_4k"], run_dir=str(tmp_path / "run"),
        export=str(tmp_path / "experts.pt"), steps=6, batch=4, window=14, threads=1, validation_share=0.5, heads=2,
        config=network,
    )
    state = torch.load(train_sgjnd(config, progress=False), weights_only=True)
    assert state["version"] == 3 and "heads" not in state
    assert [expert["ppd"] for expert in state["experts"]] == [38.0, 75.0]
    assert all(len(expert["heads"]) == 2 for expert in state["experts"])
    assert not torch.equal(state["experts"][0]["heads"][0]["quality.2.weight"],
                           state["experts"][1]["heads"][0]["quality.2.weight"])  # fmt: skip
    for ppd in ("38", "75"):
        assert sorted(p.name for p in (tmp_path / "run" / f"ppd{ppd}").iterdir()) == ["checkpoint.pt",
                                                                                        "checkpoint_1.pt"]
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    validation = [r for r in log if r["event"] == "validation"]
    assert [(r["expert_ppd"], r["head"]) for r in validation] == [(38.0, 0), (38.0, 1), (75.0, 0), (75.0, 1)]
    ensemble = next(r for r in log if r["event"] == "ensemble")
    assert set(ensemble["by_condition"]) <= {calibration_key("", "side-by-side", ppd) for ppd in (38.0, 75.0)}
    # each expert's validation holds only its distance's labels: together, all of them
    per_expert = {r["expert_ppd"]: r["items"] for r in validation if r["head"] == 0}
    assert per_expert[38.0] == per_expert[75.0] == ensemble["items"] // 2 >= 1
    # the predictor: a PW-JND at each distance and between them
    image = np.asarray(Image.open(tmp_path / "images" / "set" / "img4.png").convert("RGB"))
    for ppd in (38.0, 53.0, 75.0):
        result = SGJNDPredictor(config.export, condition=ViewingCondition(ppd)).predict(image, create_codec("jpeg"))
        assert 1 <= result.level <= 100 and sum(result.params["patch_weights"]) == pytest.approx(1.0, abs=1e-5)
    # rerun: every expert's heads resume finished, and the export is the same
    train_sgjnd(config, progress=False)
    again = torch.load(config.export, weights_only=True)
    assert all(torch.equal(again["experts"][k]["heads"][h][name], value)
               for k in range(2) for h in range(2) for name, value in state["experts"][k]["heads"][h].items())
    # labels at one distance only cannot train the other expert: one sentence
    config.data, config.run_dir = [f"{spec},display=standard_fhd"], str(tmp_path / "near_only")
    with pytest.raises(JndViewerError, match=r"No training labels are nearer 75 ppd than another distance expert"):
        train_sgjnd(config, progress=False)


def test_without_data_sgjnd_learns_the_labels_read_at_every_level_and_vpjnd_the_grid_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default training sets: SG-JND's shipped heads learned the labels read at every level, VP-JNDnet's networks
    the grid ones (models/MODEL_CARD.md), so each command without --data reproduces its own."""
    from jndviewer import cli_train
    from jndviewer.cli import main
    from jndviewer.core.train import sgjnd_trainer, vpjnd_trainer

    monkeypatch.setattr(cli_train, "shared_images_folder", lambda option: tmp_path)  # no ../shared needed
    asked: dict[str, list[str]] = {}
    monkeypatch.setattr(sgjnd_trainer, "train_sgjnd", lambda config, **kw: asked.setdefault("sgjnd", config.data))
    monkeypatch.setattr(vpjnd_trainer, "train_vpjnd", lambda config, **kw: asked.setdefault("vpjnd", config.data))
    assert main(["train", "sgjnd", "--run", str(tmp_path / "s"), "--export", str(tmp_path / "s.pt")]) == 0
    assert main(["train", "vpjnd", "--run", str(tmp_path / "v")]) == 0
    for kind, labels in (("sgjnd", "pwjnd_reference_train_every_level.csv"), ("vpjnd", "pwjnd_reference_train.csv")):
        assert len(asked[kind]) == 12  # 3 codecs x 2 tasks x 2 displays
        assert all(spec.startswith("reference:") and f"/resources/labels/{labels},images={tmp_path}," in spec
                   for spec in asked[kind]), asked[kind][0]
