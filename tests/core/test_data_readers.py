"""Tests of jndviewer.core.datasets: every dataset fixture is generated in tmp_path in that dataset's own format."""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

from jndviewer.core.datasets import (
    READERS,
    JNDSample,
    is_kodak_source,
    level_labels,
    lossless_per_subject,
    mcl_jci_fold_split,
    mcl_jci_folds,
    parse_dataset_spec,
    pwjnd_from_subjects,
    read_cnn_jnd,
    read_dataset,
    read_konjnd,
    read_mcl_jci,
    read_reference_labels,
    satisfied_user_ratio,
    split_by_source,
)
from jndviewer.core.datasets.mcl_jci import read_first_jnd
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import ReferenceLabel, write_labels

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SHARED_MCL = SHARED / "data" / "labels" / "mcl-jci" / "first_jnd_fraction_by_qf.csv"
SHARED_IMAGES = SHARED / "data" / "images"
REFERENCE_CSV = REPO / "resources" / "labels" / "pwjnd_reference_train.csv"
HEIGHT, WIDTH = 32, 48

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared (the project's data folder) is absent")


# --------------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------------


def rgb(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def save(path: Path, seed: int = 0, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PilImage.fromarray(rgb(seed), "RGB").save(path, **options)
    return path


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def assert_one_sentence(err: pytest.ExceptionInfo[BaseException], *names: str) -> None:
    message = str(err.value)
    assert "\n" not in message and message.endswith("."), message
    assert re.search(r"[.!?]\s+[A-Z]", message) is None, message
    for name in names:
        assert name in message, (name, message)


def sample(source: str, jnd: float, better: str = "higher", levels: tuple[int, ...] = (1, 2, 3, 4, 5)) -> JNDSample:
    return JNDSample(source, None, "jpeg", levels, better, {}, jnd)


# MCL-JCI fixtures: known per-subject first-JND QFs (6 subjects) for three sources.
MCL_QFS = {
    "ImageJND_SRC01": (14.0, 20.0, 23.0, 23.0, 30.0, 41.0),  # mean 25.1667, median 23
    "ImageJND_SRC02": (10.0, 10.0, 12.0, 15.0, 15.0, 16.0),  # mean 13, median 13.5
    "ImageJND_SRC12": (40.0, 45.0, 50.0, 50.0, 55.0, 99.0),  # mean 56.5, median 50
}


def fraction_rows(qfs: dict[str, tuple[float, ...]], header: bool = False) -> list[list[object]]:
    """D-JNDQ rows: the share of subjects whose first JND is at or above each QF 1..99."""
    rows: list[list[object]] = [["ref", "test", "value"]] if header else []
    for source, values in qfs.items():
        for quality in range(99, 0, -1):
            share = sum(value >= quality for value in values) / len(values)
            rows.append([f"{source}_100.npy", f"{source}_{quality:03d}.npy", f"{share:.9g}"])
    return rows


# --------------------------------------------------------------------------------------------------------------------
# The sample, level labels, aggregation
# --------------------------------------------------------------------------------------------------------------------


def test_level_labels_higher_is_better() -> None:
    labels = level_labels(sample("a", 3.0))
    assert labels == {1: True, 2: True, 3: False, 4: False, 5: False}


def test_level_labels_lower_is_better() -> None:
    labels = level_labels(sample("a", 3.0, better="lower"))
    assert labels == {1: False, 2: False, 3: False, 4: True, 5: True}


def test_level_labels_beyond_the_ladder() -> None:
    assert not any(level_labels(sample("a", 0.0)).values())  # even the worst level is lossless
    assert all(level_labels(sample("a", 6.0)).values())  # even the best level is visible
    assert all(level_labels(sample("a", 0.0, better="lower")).values())


def test_sample_validation() -> None:
    assert len({sample("a", 2.0), sample("a", 2.0), sample("b", 2.0)}) == 2
    with pytest.raises(ValueError, match="better"):
        JNDSample("a", None, "jpeg", (1, 2), "up", {}, 1.0)
    with pytest.raises(ValueError, match="ascending"):
        JNDSample("a", None, "jpeg", (2, 1), "higher", {}, 1.0)
    with pytest.raises(ValueError, match="outside"):
        JNDSample("a", None, "jpeg", (1, 2), "higher", {3: Path("x.jpg")}, 1.0)


def test_aggregation_by_hand() -> None:
    levels = tuple(range(1, 101))
    # First-visible QFs 10, 20, 31: lossless 11, 21, 32 -> mean 21.33 -> 21; median 21.
    assert pwjnd_from_subjects([10, 20, 31], levels, "higher") == 21.0
    assert pwjnd_from_subjects([10, 20, 31], levels, "higher", aggregate="median") == 21.0
    # Ties go to the better level: lossless 11 and 12 -> 11.5 -> 12 (higher better), 11 (lower better).
    assert pwjnd_from_subjects([10, 11], levels, "higher") == 12.0
    assert pwjnd_from_subjects([12, 13], levels, "lower") == 11.0
    # SUR 75 %: the lowest QF that at least 3 of 4 subjects see as lossless (lossless 11, 21, 32, 41) is 32.
    assert pwjnd_from_subjects([10, 20, 31, 40], levels, "higher", aggregate="sur75") == 32.0
    assert pwjnd_from_subjects([10, 20, 31, 40], levels, "higher", aggregate="sur50") == 21.0
    assert pwjnd_from_subjects([3, 4], (1, 2, 3, 4, 5), "lower", jnd_point="last-invisible") == 3.0
    with pytest.raises(ValueError, match="aggregate"):
        pwjnd_from_subjects([1], levels, "higher", aggregate="mode")


def test_satisfied_user_ratio() -> None:
    item = JNDSample("a", None, "jpeg", (1, 2, 3, 4), "higher", {}, 3.0, (1.0, 2.0), {"jnd_point": "first-visible"})
    assert lossless_per_subject(item) == (2.0, 3.0)
    assert satisfied_user_ratio(item) == {1: 0.0, 2: 0.5, 3: 1.0, 4: 1.0}
    with pytest.raises(ValueError, match="per-subject"):
        satisfied_user_ratio(sample("b", 2.0))


# --------------------------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------------------------


def test_split_by_source() -> None:
    samples = [sample(f"img{i:03d}", 2.0) for i in range(300)]
    samples += [JNDSample(f"img{i:03d}", None, "bpg", (1, 2), "lower", {}, 1.0) for i in range(300)]  # second codec
    samples += [sample("kodak/kodim07.png", 2.0), sample("kodim23", 2.0)]
    train, validation, test = split_by_source(samples, test_share=0.2, validation_share=0.1, seed=3)
    assert len(train) + len(validation) + len(test) == len(samples)
    sets = [{s.source for s in part} for part in (train, validation, test)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert {"kodak/kodim07.png", "kodim23"} <= sets[2]
    assert 30 < len(sets[2]) < 95 and 10 < len(sets[1]) < 55  # about 60 and 30 of 300
    again = split_by_source(list(samples), test_share=0.2, validation_share=0.1, seed=3)
    assert [[s.source for s in part] for part in again] == [
        [s.source for s in part] for part in (train, validation, test)
    ]
    other = split_by_source(samples, test_share=0.2, validation_share=0.1, seed=4)
    assert {s.source for s in other[2]} != sets[2]
    everything_test = split_by_source([sample("kodim01", 1.0)], test_share=0.0, validation_share=0.0)
    assert [len(part) for part in everything_test] == [0, 0, 1]
    assert is_kodak_source("Kodak_24") and not is_kodak_source("bsds500/test/100007.jpg")
    with pytest.raises(ValueError, match="test_share"):
        split_by_source(samples, test_share=0.6, validation_share=0.5)


# --------------------------------------------------------------------------------------------------------------------
# MCL-JCI
# --------------------------------------------------------------------------------------------------------------------


def test_mcl_jci_fraction_file_gives_back_the_subjects(tmp_path: Path) -> None:
    labels = write_csv(tmp_path / "fractions.csv", fraction_rows(MCL_QFS))
    samples = read_mcl_jci(None, labels, subjects=6)
    assert [s.source for s in samples] == list(MCL_QFS)
    for item in samples:
        assert item.jnd_per_subject == MCL_QFS[item.source]
        assert item.reference is None and item.distorted == {}
        assert item.levels == tuple(range(1, 101)) and item.better == "higher" and item.codec == "jpeg"
        assert item.meta["jnd_point"] == "first-visible" and item.meta["subjects"] == 6
    by_source = {s.source: s for s in samples}
    # round(mean first JND) + 1, ties to the higher QF: 25.17 -> 26; 13 -> 14; 56.5 -> 57.5 -> 58.
    assert [by_source[s].jnd_level for s in MCL_QFS] == [26.0, 14.0, 58.0]
    assert by_source["ImageJND_SRC02"].meta["first_jnd_median"] == 13.5
    assert by_source["ImageJND_SRC01"].meta["fold"] == 10 and by_source["ImageJND_SRC12"].meta["fold"] == 9
    labels_26 = level_labels(by_source["ImageJND_SRC01"])
    assert labels_26[25] and not labels_26[26] and not labels_26[100]
    median = {s.source: s.jnd_level for s in read_mcl_jci(None, labels, subjects=6, aggregate="median")}
    assert median == {"ImageJND_SRC01": 24.0, "ImageJND_SRC02": 15.0, "ImageJND_SRC12": 51.0}  # 14.5 -> 15
    # The subject count is inferred when not given (every fraction here is a multiple of 1/6).
    assert read_first_jnd(labels, subjects=None)["ImageJND_SRC01"][0] == MCL_QFS["ImageJND_SRC01"]
    # With a header row the result is the same.
    headed = write_csv(tmp_path / "headed.csv", fraction_rows(MCL_QFS, header=True))
    assert [s.jnd_per_subject for s in read_mcl_jci(None, headed, subjects=6)] == [s.jnd_per_subject for s in samples]


def test_mcl_jci_subjects_who_saw_nothing(tmp_path: Path) -> None:
    rows = [["ImageJND_SRC05_100.jpg", f"ImageJND_SRC05_{q:03d}.jpg", "0.5" if q <= 3 else "0"] for q in range(1, 100)]
    (item,) = read_mcl_jci(None, write_csv(tmp_path / "f.csv", rows), subjects=2)
    assert item.jnd_per_subject == (0.0, 3.0)  # one subject never noticed the distortion


def test_mcl_jci_per_subject_file(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Source", "Subject", "JND_QF"]]
    for source, values in MCL_QFS.items():
        short = source.replace("ImageJND_", "") if source.endswith("1") else str(int(source[-2:]))
        rows += [[short, f"s{i}", value] for i, value in enumerate(values)]
    samples = read_mcl_jci(None, write_csv(tmp_path / "subjects.csv", rows))
    assert [s.source for s in samples] == list(MCL_QFS)
    assert [s.jnd_per_subject for s in samples] == list(MCL_QFS.values())
    assert [s.jnd_level for s in samples] == [26.0, 14.0, 58.0]
    assert samples[0].meta["subject_ids"] == ("s0", "s1", "s2", "s3", "s4", "s5")


def test_mcl_jci_with_images(tmp_path: Path) -> None:
    root = tmp_path / "MCL-JCI"
    for quality in (10, 20, 30, 40):
        save(root / "ImageJND_SRC01" / f"ImageJND_SRC01_{quality:03d}.jpg", quality=quality)
    save(root / "ImageJND_SRC01.bmp")
    save(root / "ImageJND_SRC02.bmp", seed=2)  # a source without its ladder folder: encoded on the fly
    write_csv(root / "first_jnd_fraction_by_qf.csv", fraction_rows(MCL_QFS))
    samples = {s.source: s for s in read_mcl_jci(root, subjects=6)}
    first = samples["ImageJND_SRC01"]
    assert first.levels == (10, 20, 30, 40) and sorted(first.distorted) == [10, 20, 30, 40]
    assert first.distorted[20].name == "ImageJND_SRC01_020.jpg" and first.reference == root / "ImageJND_SRC01.bmp"
    assert first.jnd_level == 30.0  # lossless mean 26.17 snapped to the files' ladder
    second = samples["ImageJND_SRC02"]
    assert second.distorted == {} and second.reference == root / "ImageJND_SRC02.bmp"
    assert second.levels == tuple(range(1, 101))
    assert samples["ImageJND_SRC12"].reference is None
    with pytest.raises(JndViewerError) as err:
        read_mcl_jci(root, subjects=6, require_images=True)
    assert_one_sentence(err, "ImageJND_SRC02")


def test_mcl_jci_folds_and_fold_split(tmp_path: Path) -> None:
    folds = mcl_jci_folds()
    assert len(folds) == 10 and all(len(fold) == 5 for fold in folds)
    flat = [source for fold in folds for source in fold]
    assert sorted(flat) == [f"ImageJND_SRC{i:02d}" for i in range(1, 51)]
    assert folds[0] == ("ImageJND_SRC16", "ImageJND_SRC21", "ImageJND_SRC35", "ImageJND_SRC41", "ImageJND_SRC45")
    samples = [sample(source, 30.0) for source in flat]
    train, validation, test = mcl_jci_fold_split(samples, 10)
    assert {s.source for s in test} == set(folds[9]) and {s.source for s in validation} == set(folds[0])
    assert len(train) == 40
    with pytest.raises(ValueError):
        mcl_jci_fold_split(samples, 11)


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_001.npy", "0.5"], ["x", "ImageJND_SRC01_002.npy", "1"]], "grow"),
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_001.npy", "0.45"]], "whole number"),
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_002.npy", "0.5"]], "lacks QF 1"),
        ([["ImageJND_SRC01_100.npy", "picture_7.npy", "0.5"]], "ImageJND_SRCxx_QQQ"),
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_001.npy", "half"]], "not a number"),
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_001.npy", "1.5"]], "outside 0..1"),
        ([["ImageJND_SRC01_100.npy", "ImageJND_SRC01_001.npy"]], "three columns"),
        ([["source", "subject", "jnd_qf"], ["SRC01", "a", "20"], ["SRC01", "a", "22"]], "repeats subject"),
        ([["source", "subject", "jnd_qf"], ["Lena", "a", "20"]], "not an MCL-JCI image"),
        ([["source", "subject"], ["SRC01", "a"]], "lacks the column"),
    ],
)
def test_mcl_jci_malformed_labels(tmp_path: Path, rows: list[list[object]], words: str) -> None:
    path = write_csv(tmp_path / "bad_labels.csv", rows)
    with pytest.raises(JndViewerError, match=words) as err:
        read_mcl_jci(None, path, subjects=2)
    assert_one_sentence(err, "bad_labels.csv")


def test_mcl_jci_missing_files(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError) as err:
        read_mcl_jci(None, tmp_path / "nothing.csv")
    assert_one_sentence(err, "nothing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(JndViewerError) as err:
        read_mcl_jci(None, tmp_path / "empty.csv")
    assert_one_sentence(err, "empty.csv")
    with pytest.raises(JndViewerError) as err:
        read_mcl_jci(tmp_path)
    assert_one_sentence(err, str(tmp_path))
    with pytest.raises(JndViewerError) as err:
        read_mcl_jci()
    assert_one_sentence(err)


@pytest.mark.shared
@needs_shared
def test_mcl_jci_real_statistics() -> None:
    samples = read_mcl_jci(None, SHARED_MCL)
    assert len(samples) == 50 and all(s.meta["subjects"] == 30 for s in samples)
    means = [s.meta["first_jnd_mean"] for s in samples]
    assert statistics.fmean(means) == pytest.approx(28.1, abs=0.05)
    assert min(means) == pytest.approx(16.9, abs=0.05) and max(means) == pytest.approx(52.1, abs=0.05)
    medians = [s.meta["first_jnd_median"] for s in samples]
    assert (min(medians), max(medians)) == (14.5, 50.5)
    first = samples[0]
    assert first.source == "ImageJND_SRC01" and Counter(first.jnd_per_subject)[23.0] == 11
    assert first.jnd_per_subject[:3] == (14.0, 14.0, 16.0) and first.jnd_per_subject[-1] == 41.0
    # The label is the worst lossless QF: round(mean first JND) + 1 (SRC01: mean 25.5 -> 26.5 -> 27).
    assert first.jnd_level == 27.0
    assert statistics.fmean(s.jnd_level for s in samples) == pytest.approx(29.1, abs=0.3)


# --------------------------------------------------------------------------------------------------------------------
# KonJND-1k
# --------------------------------------------------------------------------------------------------------------------


def make_konjnd(root: Path, header: list[str] | None = None, ratings_style: str = "json") -> Path:
    header = header or ["image_id", "Compression type", "No. of ratings", "mean", "std", "ratings"]
    for seed, base in enumerate(("1001", "1002")):
        save(root / "source_image" / f"{base}.png", seed=seed)
        for quality in (10, 20, 30, 40, 50):
            save(root / "jpeg" / f"{base}_JPEG_{quality:03d}.jpg", seed=seed, quality=quality)
    for level in (20, 25, 30, 35, 40):
        save(root / "bpg" / f"1001_BPG_{level:03d}.png")

    def ratings(values: list[int]) -> str:
        if ratings_style == "json":
            return json.dumps(values)
        return " ".join(map(str, values)) if ratings_style == "spaces" else ",".join(map(str, values))

    rows: list[list[object]] = [header]
    rows.append(["1001.png", "JPEG", 3, 20.333, 8.5, ratings([10, 20, 31])])  # lossless 11, 21, 32 -> 21.33
    rows.append(["1001.png", "BPG", 3, 32.0, 1.6, ratings([30, 32, 34])])  # lossless 29, 31, 33 -> 31 -> 30 (files)
    rows.append(["1002.png", "JPEG", 4, 33.0, 5.0, ratings([28, 30, 34, 40])])  # lossless mean 34 -> 30 (files)
    rows.append(["1003.png", "BPG", 2, 26.5, 0.5, ratings([26, 27])])  # no files: lossless 25, 26 -> 25.5 -> 25
    return write_csv(root / "subjective_ratings.csv", rows)


def test_konjnd(tmp_path: Path) -> None:
    make_konjnd(tmp_path)
    samples = read_konjnd(tmp_path)
    assert [(s.source, s.codec) for s in samples] == [
        ("1001", "jpeg"),
        ("1001", "bpg"),
        ("1002", "jpeg"),
        ("1003", "bpg"),
    ]
    jpeg, bpg, jpeg2, bpg_labels_only = samples
    assert jpeg.better == "higher" and bpg.better == "lower"
    assert jpeg.levels == (10, 20, 30, 40, 50) and jpeg.distorted[30].name == "1001_JPEG_030.jpg"
    assert jpeg.reference == tmp_path / "source_image" / "1001.png"
    assert jpeg.jnd_per_subject == (10.0, 20.0, 31.0) and jpeg.jnd_level == 20.0  # 21.33 on the ladder 10..50
    assert bpg.levels == (20, 25, 30, 35, 40) and bpg.jnd_level == 30.0 and bpg.jnd_per_subject == (30.0, 32.0, 34.0)
    assert jpeg2.jnd_level == 30.0
    assert bpg_labels_only.distorted == {} and bpg_labels_only.reference is None
    assert bpg_labels_only.levels == tuple(range(0, 52)) and bpg_labels_only.jnd_level == 25.0
    assert level_labels(bpg) == {20: False, 25: False, 30: False, 35: True, 40: True}
    assert level_labels(jpeg) == {10: True, 20: False, 30: False, 40: False, 50: False}
    assert jpeg.meta["ratings_reported"] == 3 and jpeg.meta["compression"] == "JPEG" and jpeg.meta["std"] == 8.5
    only_bpg = read_konjnd(tmp_path, compression="BPG")
    assert [s.codec for s in only_bpg] == ["bpg", "bpg"]
    last = read_konjnd(tmp_path, compression="jpeg", jnd_point="last-invisible")
    assert last[0].jnd_level == 20.0 and last[1].jnd_level == 30.0  # raw means 20.33 and 33 snapped


@pytest.mark.parametrize("style", ["spaces", "commas"])
def test_konjnd_column_and_ratings_variants(tmp_path: Path, style: str) -> None:
    header = ["Image ID", "compression_type", "NO. OF RATINGS", "Mean", "STD", " Ratings "]
    make_konjnd(tmp_path, header=header, ratings_style=style)
    samples = read_konjnd(tmp_path)
    assert [s.jnd_per_subject for s in samples][:2] == [(10.0, 20.0, 31.0), (30.0, 32.0, 34.0)]
    assert [s.jnd_level for s in samples] == [20.0, 30.0, 30.0, 25.0]


def test_konjnd_mean_only(tmp_path: Path) -> None:
    rows = [["image_id", "Compression type", "mean"], ["777", "JPEG", "27.4"], ["777", "BPG", "30.6"]]
    write_csv(tmp_path / "subjective_ratings.csv", rows)
    jpeg, bpg = read_konjnd(tmp_path)
    assert (jpeg.jnd_level, bpg.jnd_level) == (28.0, 30.0)  # 28.4 -> 28; 29.6 -> 30
    assert jpeg.jnd_per_subject == () and jpeg.source == bpg.source == "777"


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([["image_id", "Compression type", "ratings"], ["1", "WEBP", "[1]"]], "unknown compression"),
        ([["image_id", "ratings"], ["1", "[1]"]], "lacks the column"),
        ([["image_id", "Compression type", "ratings"], ["1", "JPEG", "[1, x]"]], "non-number"),
        ([["image_id", "Compression type", "ratings"], ["1", "JPEG", "[1]"], ["1", "JPEG", "[2]"]], "repeats"),
        ([["image_id", "Compression type", "ratings"], ["1", "JPEG", ""]], "neither"),
        ([["image_id", "Compression type", "mean"], ["1", "JPEG", "abc"]], "not a number"),
        ([["image_id", "Compression type", "std"], ["1", "JPEG", "1"]], "neither a ratings nor a mean"),
    ],
)
def test_konjnd_malformed(tmp_path: Path, rows: list[list[object]], words: str) -> None:
    write_csv(tmp_path / "subjective_ratings.csv", rows)
    with pytest.raises(JndViewerError, match=words) as err:
        read_konjnd(tmp_path)
    assert_one_sentence(err, "subjective_ratings.csv")


def test_konjnd_missing_and_options(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError) as err:
        read_konjnd(tmp_path)
    assert_one_sentence(err, "subjective_ratings.csv")
    with pytest.raises(JndViewerError) as err:
        read_konjnd(tmp_path / "absent")
    assert_one_sentence(err, "absent")
    make_konjnd(tmp_path)
    with pytest.raises(JndViewerError, match="compression"):
        read_konjnd(tmp_path, compression="webp")
    with pytest.raises(JndViewerError, match="jnd_point"):
        read_konjnd(tmp_path, jnd_point="middle")
    with pytest.raises(JndViewerError) as err:
        read_konjnd(tmp_path, require_images=True)
    assert_one_sentence(err, "1003")
    save(tmp_path / "jpeg" / "1001_JPEG_10.jpeg")  # a second file for QF 10
    with pytest.raises(JndViewerError) as err:
        read_konjnd(tmp_path)
    assert_one_sentence(err, "1001_JPEG_10.jpeg")


# --------------------------------------------------------------------------------------------------------------------
# CNN-oriented JND dataset
# --------------------------------------------------------------------------------------------------------------------


def make_cnn_jnd(root: Path, per_subject: bool = True) -> None:
    for seed, source in enumerate(("r0001", "r0002")):
        save(root / "originals" / f"{source}.png", seed=seed)
        for level in range(1, 10):
            save(root / "distorted" / f"{source}_L{level}.png", seed=seed + level)
    if per_subject:
        rows: list[list[object]] = [["source", "subject", "jnd_level"]]
        rows += [["r0001", f"p{i}", value] for i, value in enumerate((3, 4, 4, 5))]  # mean 4
        rows += [["r0002", f"p{i}", value] for i, value in enumerate((6, 7))]  # mean 6.5 -> 6 (less distorted)
        rows += [["r0003", "p0", 0]]  # no images; even level 1 was noticed
    else:
        rows = [["Source", "JND level"], ["r0001", 4.2], ["r0002", 8]]
    write_csv(root / "jnd_judgements.csv", rows)


def test_cnn_jnd(tmp_path: Path) -> None:
    make_cnn_jnd(tmp_path)
    samples = read_cnn_jnd(tmp_path)
    assert [s.source for s in samples] == ["r0001", "r0002", "r0003"]
    first, second, third = samples
    assert first.levels == tuple(range(1, 10)) and first.better == "lower" and first.codec == "autoencoder"
    assert sorted(first.distorted) == list(range(1, 10)) and first.distorted[9].name == "r0001_L9.png"
    assert first.reference == tmp_path / "originals" / "r0001.png"
    assert first.jnd_per_subject == (3.0, 4.0, 4.0, 5.0) and first.jnd_level == 4.0
    assert second.jnd_level == 6.0
    assert third.reference is None and third.distorted == {} and third.jnd_level == 0.0
    assert all(level_labels(third).values())
    assert level_labels(first) == {level: level > 4 for level in range(1, 10)}
    assert first.meta["subject_ids"] == ("p0", "p1", "p2", "p3") and first.meta["jnd_point"] == "last-invisible"
    shifted = read_cnn_jnd(tmp_path, jnd_point="first-visible")
    assert [s.jnd_level for s in shifted] == [3.0, 5.0, -1.0]  # one level less distorted than the first noticed
    with pytest.raises(JndViewerError) as err:
        read_cnn_jnd(tmp_path, require_images=True)
    assert_one_sentence(err, "r0003")


def test_cnn_jnd_per_source_labels(tmp_path: Path) -> None:
    make_cnn_jnd(tmp_path, per_subject=False)
    samples = read_cnn_jnd(tmp_path)
    assert [(s.jnd_level, s.jnd_per_subject) for s in samples] == [(4.0, ()), (8.0, ())]


def test_cnn_jnd_errors(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError) as err:
        read_cnn_jnd(tmp_path)
    assert_one_sentence(err, "jnd_judgements.csv")
    write_csv(tmp_path / "jnd_judgements.csv", [["source", "subject", "jnd_level"], ["a", "p", "12"]])
    with pytest.raises(JndViewerError, match="outside") as err:
        read_cnn_jnd(tmp_path)
    assert_one_sentence(err, "jnd_judgements.csv")
    write_csv(tmp_path / "jnd_judgements.csv", [["source", "jnd_level"], ["a", "2"], ["a", "3"]])
    with pytest.raises(JndViewerError, match="repeats") as err:
        read_cnn_jnd(tmp_path)
    assert_one_sentence(err, "jnd_judgements.csv")
    write_csv(tmp_path / "jnd_judgements.csv", [["source", "jnd_level"], ["a", "2"]])
    save(tmp_path / "distorted" / "a_L12.png")
    with pytest.raises(JndViewerError) as err:
        read_cnn_jnd(tmp_path)
    assert_one_sentence(err, "a_L12.png")


# --------------------------------------------------------------------------------------------------------------------
# Reference labels
# --------------------------------------------------------------------------------------------------------------------


def make_reference_labels(path: Path) -> Path:
    labels = [
        ReferenceLabel("set/a.png", "jpeg", "standard_fhd", 38.0, 9.0, 25, 1000, 100, 9000, 51),
        ReferenceLabel("set/a.png", "jpeg", "standard_4k", 75.0, 9.0, 15, 700, 100, 9000, 51),
        ReferenceLabel("set/a.png", "webp", "standard_fhd", 38.0, 9.0, 40, 800, 100, 7000, 26),
        ReferenceLabel("set/b.png", "jpeg", "standard_fhd", 38.0, 9.0, 31, 1200, 100, 9100, 51),
    ]
    write_labels(labels, path)
    return path


def test_reference_labels_generated(tmp_path: Path) -> None:
    labels = make_reference_labels(tmp_path / "labels.csv")
    save(tmp_path / "images" / "set" / "a.png")
    samples = read_reference_labels(labels, tmp_path / "images")
    assert [(s.source, s.codec) for s in samples] == [
        ("set/a.png", "jpeg"),
        ("set/a.png", "webp"),
        ("set/b.png", "jpeg"),
    ]
    first = samples[0]
    assert first.reference == tmp_path / "images" / "set" / "a.png" and first.distorted == {}
    assert first.levels == tuple(range(1, 101)) and first.better == "higher" and first.jnd_level == 25.0
    assert first.meta["ppd"] == 38.0 and first.meta["bytes_at_pwjnd"] == 1000 and first.meta["curve_levels"] == 51
    assert [s.jnd_level for s in read_reference_labels(labels, None, codec="jpeg", display="standard_4k")] == [15.0]
    assert read_reference_labels(labels, None)[0].reference is None
    with pytest.raises(JndViewerError) as err:
        read_reference_labels(labels, tmp_path / "images", require_images=True)
    assert_one_sentence(err, "b.png")
    with pytest.raises(JndViewerError) as err:
        read_reference_labels(labels, None, codec="avif")
    assert_one_sentence(err, "labels.csv")
    with pytest.raises(JndViewerError) as err:
        read_reference_labels(labels, tmp_path / "nowhere")
    assert_one_sentence(err, "nowhere")
    write_csv(tmp_path / "broken.csv", [["image", "codec"], ["a", "jpeg"]])
    with pytest.raises(JndViewerError) as err:
        read_reference_labels(tmp_path / "broken.csv", None)
    assert_one_sentence(err, "broken.csv")


def test_reference_labels_real_file() -> None:
    samples = read_reference_labels(REFERENCE_CSV, SHARED_IMAGES if SHARED_IMAGES.is_dir() else None, codec="jpeg")
    assert len(samples) == 318 and len({s.source for s in samples}) == 318
    assert all(s.levels == tuple(range(1, 101)) and s.better == "higher" and s.distorted == {} for s in samples)
    assert all(1 <= s.jnd_level <= 100 and s.meta["display"] == "standard_fhd" for s in samples)
    assert 20 < statistics.fmean(s.jnd_level for s in samples) < 40
    everything = read_reference_labels(REFERENCE_CSV, None)
    assert Counter(s.codec for s in everything) == {"jpeg": 318, "webp": 100, "avif": 100}


@pytest.mark.shared
@needs_shared
def test_reference_labels_images_exist() -> None:
    samples = read_reference_labels(REFERENCE_CSV, SHARED_IMAGES, codec="jpeg", require_images=True)
    assert all(s.reference is not None and s.reference.is_file() for s in samples)


# --------------------------------------------------------------------------------------------------------------------
# read_dataset
# --------------------------------------------------------------------------------------------------------------------


def test_read_dataset_every_kind(tmp_path: Path) -> None:
    assert set(READERS) == {"mcl-jci", "konjnd", "cnn-jnd", "reference", "study"}
    mcl = write_csv(tmp_path / "mcl" / "first_jnd_fraction_by_qf.csv", fraction_rows(MCL_QFS))
    assert len(read_dataset(f"mcl-jci:{mcl},subjects=6")) == 3
    assert len(read_dataset(f"MCL_JCI:{mcl.parent},subjects=6,aggregate=median")) == 3
    assert read_dataset(f"mcl-jci:{mcl},subjects=6,images={mcl.parent}")[0].meta["subjects"] == 6
    make_konjnd(tmp_path / "kon")
    assert [s.codec for s in read_dataset(f"konjnd:{tmp_path / 'kon'},compression=bpg")] == ["bpg", "bpg"]
    make_cnn_jnd(tmp_path / "cnn")
    assert len(read_dataset(f"cnn-jnd:{tmp_path / 'cnn'},jnd_point=last-invisible,require_images=no")) == 3
    labels = make_reference_labels(tmp_path / "labels.csv")
    save(tmp_path / "images" / "set" / "a.png")
    spec = f"reference:{labels},images={tmp_path / 'images'},codec=jpeg,display=standard_fhd"
    found = read_dataset(spec)
    assert [s.source for s in found] == ["set/a.png", "set/b.png"] and found[0].reference is not None
    kind, path, keywords = parse_dataset_spec("reference:x.csv,images=../img,codec=jpeg,require_images=yes")
    assert (kind, path) == ("reference", Path("x.csv"))
    assert keywords == {"image_root": Path("../img"), "codec": "jpeg", "require_images": True}


def test_read_dataset_real_reference_spec() -> None:
    images = f",images={SHARED_IMAGES}" if SHARED_IMAGES.is_dir() else ""
    samples = read_dataset(f"reference:{REFERENCE_CSV}{images},codec=jpeg")
    assert len(samples) == 318


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("imagenet:/data", ("imagenet",)),
        ("no-colon-here", ("no-colon-here",)),
        ("konjnd:", ("konjnd",)),
        ("reference:x.csv,colour=red", ("colour",)),
        ("reference:x.csv,require_images=maybe", ("require_images",)),
        ("mcl-jci:x.csv,subjects=many", ("subjects",)),
        ("konjnd:x,images", ("images",)),
    ],
)
def test_read_dataset_bad_specs(spec: str, names: tuple[str, ...]) -> None:
    with pytest.raises(JndViewerError) as err:
        read_dataset(spec)
    assert_one_sentence(err, *names)


def test_read_dataset_missing_and_malformed_files(tmp_path: Path) -> None:
    for spec, name in [
        (f"reference:{tmp_path / 'absent.csv'}", "absent.csv"),
        (f"mcl-jci:{tmp_path / 'absent.csv'}", "absent.csv"),
        (f"konjnd:{tmp_path / 'absent'}", "absent"),
        (f"cnn-jnd:{tmp_path}", "jnd_judgements.csv"),
    ]:
        with pytest.raises(JndViewerError) as err:
            read_dataset(spec)
        assert_one_sentence(err, name)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage\x00")
    for kind in ("mcl-jci", "reference"):
        with pytest.raises(JndViewerError) as err:
            read_dataset(f"{kind}:{bad}")
        assert_one_sentence(err, "bad.csv")
