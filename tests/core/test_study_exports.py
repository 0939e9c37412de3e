"""Study exports (``core.study.exports``) read back by the tools they are for (SUREAL, our KonJND-1k reader) and the
``study`` dataset reader, on study databases written in tmp_path by synthetic observers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jndviewer.core.datasets import read_dataset, satisfied_user_ratio, split_by_source
from jndviewer.core.errors import JndViewerError
from jndviewer.core.study import results
from jndviewer.core.study.exports import (
    CRITICAL_COLUMNS,
    export_critical_csv,
    export_konjnd_rows,
    export_sureal_json,
)
from jndviewer.core.study.model import CATCH_SAME, FLICKER_ADJUSTMENT, TEST, StudyItem
from jndviewer.core.study.store import StudyStore
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE
from tests.core.test_study_results import CRITICAL, LEVELS, add_session, textured_png


@pytest.fixture()
def items(tmp_path: Path) -> dict[str, StudyItem]:
    face = textured_png(tmp_path / "face.png")
    return {
        "face": StudyItem("face", str(face), "jpeg", LEVELS, "higher", "src-face"),
        "face-crop": StudyItem("face-crop", str(face), "jpeg", LEVELS, "higher", "src-face", (8, 8, 32, 32)),
        "sky": StudyItem("sky", str(textured_png(tmp_path / "sky.png", 2)), "webp", (40, 60, 80), "higher", "src-sky"),
    }


@pytest.fixture()
def db(tmp_path: Path, items: dict[str, StudyItem]) -> Path:
    """Five observers on ``face`` side by side at 38 ppd (CRITICAL) with a catch run each; o1 did ``face`` twice under
    flicker at 60 ppd (40, then nothing seen), o2 once (60); o3 saw ``face-crop`` and ``sky``."""
    path = tmp_path / "study.sqlite"
    with StudyStore(path) as store:
        for observer, critical in CRITICAL.items():
            runs = [(items["face"], TEST, critical, None), (items["face"], CATCH_SAME, None, True)]
            add_session(store, observer, runs)
        add_session(store, "o1", [(items["face"], TEST, 40, None), (items["face"], TEST, None, None)], FLICKER, 60.0,
                    FLICKER_ADJUSTMENT)  # fmt: skip
        add_session(store, "o2", [(items["face"], TEST, 60, None)], FLICKER, 60.0, FLICKER_ADJUSTMENT)
        add_session(store, "o3", [(items["face-crop"], TEST, 52, None), (items["sky"], TEST, 60, None)])
    return path


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::RuntimeWarning")
def test_sureal_mos_of_each_asset_is_the_sur(db: Path, tmp_path: Path) -> None:
    from sureal.dataset_reader import RawDatasetReader
    from sureal.routine import import_json_file
    from sureal.subjective_model import MosModel

    output = export_sureal_json(db, tmp_path / "sureal.json")
    dataset = import_json_file(str(output))
    assert dataset.dataset_name == "study" and dataset.ref_score == 1.0
    assert [r["content_name"] for r in dataset.ref_videos] == ["face", "face-crop", "sky"]  # in group order
    assert dataset.ref_videos[1]["path"].endswith("face.png#crop=8,8,32,32")
    mos = MosModel(RawDatasetReader(dataset)).run_modeling()["quality_scores"]
    with StudyStore(db) as store:
        runs = store.run_results()
    items = results.items_by_key(runs)
    expected = {}
    for key, entries in results.critical_levels(runs).items():
        curve = results.sur_curve(items[key], entries)
        expected.update({(key, level): sur for level, sur in zip(curve.levels, curve.sur, strict=True)})
    assert len(mos) == len(expected) == 3 * len(LEVELS) + 3
    for video, score in zip(dataset.dis_videos, mos, strict=True):
        key = (video["item_id"], video["codec"], video["task"], video["ppd"])
        assert score == pytest.approx(expected[(key, video["level"])]), video["path"]
    repeated = next(v for v in dataset.dis_videos if v["task"] == FLICKER and v["level"] == 40)
    assert repeated["os"] == {"o1": [0, 1], "o2": 0}  # o1 twice: saw it at 40, then nowhere


def test_critical_csv_has_one_row_per_test_run(db: Path, tmp_path: Path) -> None:
    output = export_critical_csv(db, tmp_path / "deep" / "critical.csv")
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CRITICAL_COLUMNS and len(rows) == 5 + 3 + 2
    face = [r for r in rows if r["item_id"] == "face" and r["task"] == SIDE_BY_SIDE]
    assert [(r["observer"], r["critical_level"], r["jnd_level"]) for r in face] == [
        ("o1", "20", "24"), ("o2", "24", "28"), ("o3", "28", "32"), ("o4", "32", "36"), ("o5", "36", "40")]
    unseen = next(r for r in rows if r["task"] == FLICKER and r["critical_level"] == "")
    assert unseen["jnd_level"] == "20" and unseen["protocol"] == FLICKER_ADJUSTMENT and unseen["ppd"] == "60"
    assert not list(tmp_path.joinpath("deep").glob("*.tmp"))


def test_konjnd_rows_read_back_by_our_konjnd_reader(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "konjnd"
    export_konjnd_rows(db, folder / "subjective_ratings.csv")
    samples = {s.meta["image_id"]: s for s in read_dataset(f"konjnd:{folder}")}
    # face is under two conditions, so its rows name them; sky (WebP) is not a KonJND-1k compression
    assert set(samples) == {"face__side-by-side_38ppd", "face__flicker_60ppd", "face-crop"}
    side = samples["face__side-by-side_38ppd"]
    assert side.jnd_per_subject == tuple(float(v) for v in CRITICAL.values())
    assert side.codec == "jpeg" and side.meta["jnd_point"] == "first-visible" and side.meta["ratings_reported"] == 5
    flicker = samples["face__flicker_60ppd"]
    assert flicker.jnd_per_subject == (40.0, 19.0, 60.0)  # nothing seen: one unit beyond the worst level (20)
    assert satisfied_user_ratio(flicker)[20] == pytest.approx(1 / 3)


def test_konjnd_rows_need_a_jpeg_or_bpg_item(tmp_path: Path, items: dict[str, StudyItem]) -> None:
    with StudyStore(tmp_path / "webp.sqlite") as store:
        add_session(store, "o1", [(items["sky"], TEST, 60, None)])
        with pytest.raises(JndViewerError, match="no finished JPEG or BPG runs"):
            export_konjnd_rows(store, tmp_path / "rows.csv")


def test_study_reader_gives_one_sample_per_item_and_condition(db: Path, items: dict[str, StudyItem]) -> None:
    samples = read_dataset(f"study:{db}")
    assert [(s.meta["item_id"], s.meta["task"], s.meta["ppd"]) for s in samples] == [
        ("face", FLICKER, 60.0), ("face", SIDE_BY_SIDE, 38.0), ("face-crop", SIDE_BY_SIDE, 38.0),
        ("sky", SIDE_BY_SIDE, 38.0)]
    side = read_dataset(f"study:{db},task=side-by-side,ppd=38.02")
    face = side[0]
    assert face.jnd_per_subject == (20.0, 24.0, 28.0, 32.0, 36.0) and face.meta["jnd_point"] == "first-visible"
    assert face.meta["observers"] == tuple(CRITICAL) and face.meta["last_invisible"] == (24, 28, 32, 36, 40)
    assert face.jnd_level == 32.0  # mean of the worst invisible ladder levels
    assert face.reference == Path(items["face"].reference) and face.meta["crop"] is None
    assert side[1].meta["crop"] == (8, 8, 32, 32) and side[1].reference == face.reference
    assert satisfied_user_ratio(face)[28] == pytest.approx(0.4)
    assert read_dataset(f"study:{db},task=side-by-side,aggregate=sur75")[0].jnd_level == 36.0
    only = read_dataset(f"study:{db},observer=o3")
    assert {s.meta["item_id"] for s in only} == {"face", "face-crop", "sky"}
    assert all(s.meta["observers"] == ("o3",) for s in only)
    train, validation, test = split_by_source(samples, 0.3, 0.3, seed=3)
    sources = [{s.source for s in part} for part in (train, validation, test)]
    # an image's items and conditions stay in one set: no source in two
    assert sum(len(p) for p in sources) == len({s.source for s in samples}) == 2
    assert sum(len(part) for part in (train, validation, test)) == len(samples)


def test_study_reader_errors_are_one_sentence(db: Path, tmp_path: Path) -> None:
    with pytest.raises(JndViewerError, match="does not exist"):
        read_dataset(f"study:{tmp_path / 'none.sqlite'}")
    with pytest.raises(JndViewerError, match="no finished runs for observer o9"):
        read_dataset(f"study:{db},observer=o9")
    with pytest.raises(JndViewerError, match="Unknown viewing task"):
        read_dataset(f"study:{db},task=sideways")
    with pytest.raises(JndViewerError, match="bad value for option ppd"):
        read_dataset(f"study:{db},ppd=far")
    (tmp_path / "text.sqlite").write_text("not a database")
    with pytest.raises(JndViewerError, match="not a jndviewer study database"):
        read_dataset(f"study:{tmp_path / 'text.sqlite'}")
