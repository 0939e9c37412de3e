"""The training-free PW-JND predictor, the labels, the results schema and the predict/export commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.labels import labels_from_curves, pwjnd_from_scores, read_labels, write_labels
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams, PooledVisibilityPredictor
from jndviewer.core.pwjnd.result import PWJND, LevelRecord
from jndviewer.core.report import read_results, write_results
from jndviewer.core.viewing import ViewingCondition
from jndviewer.core.visibility.scorer import VisibilityScorer


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:96, 0:128]
    base = np.stack([x * 1.5 + 20, y * 2 + 30, 160 - x * 0.5], axis=-1)
    base[20:70, 30:100] += rng.normal(0, 18, (50, 70, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_pwjnd_from_scores_takes_the_lowest_level_of_the_invisible_run() -> None:
    levels = [1, 3, 5, 7, 9]
    assert pwjnd_from_scores(levels, [6.0, 8.0, 9.5, 8.9, 9.6], 9.0) == (9.0, False)  # 7 breaks the run
    assert pwjnd_from_scores(levels, [6.0, 9.1, 9.5, 9.2, 9.6], 9.0) == (3.0, False)
    assert pwjnd_from_scores(levels, [9.9] * 5, 9.0) == (1.0, False)
    assert pwjnd_from_scores(levels, [6.0] * 5, 9.0) == (9.0, True)


def test_pwjnd_from_scores_reads_degradation_levels_downwards() -> None:
    levels = [1, 2, 3, 4, 5]  # autoencoder-like: 1 degrades least
    assert pwjnd_from_scores(levels, [9.6, 9.4, 8.9, 9.2, 7.0], 9.0, "lower") == (2.0, False)  # 3 breaks the run
    assert pwjnd_from_scores(levels, [9.6, 9.4, 9.1, 9.2, 7.0], 9.0, "lower") == (4.0, False)
    assert pwjnd_from_scores(levels, [8.0] * 5, 9.0, "lower") == (1.0, True)


def test_autoencoder_labels_take_the_most_degraded_invisible_level() -> None:
    rows = [
        {"image": "a.png", "codec": "autoencoder", "level": lv, "bytes": 1000 - 100 * lv, "display": "standard_4k",
         "jod": j}
        for lv, j in [(1, 9.8), (2, 9.7), (3, 9.5), (4, 9.1), (5, 8.8), (6, 8.0)]
    ]
    side, flicker = labels_from_curves(rows), labels_from_curves(rows, task="flicker")
    assert (side[0].pwjnd_level, side[0].bytes_at_pwjnd, side[0].best_level, side[0].ppd) == (4, 600, 1, 75.0)
    assert flicker[0].pwjnd_level == 2  # 9.68 JOD: only levels 1-2 are invisible in flicker


def test_labels_round_trip(tmp_path: Path) -> None:
    rows = [
        {"image": "a.png", "codec": "jpeg", "level": q, "bytes": 100 * q, "display": "standard_fhd", "jod": j}
        for q, j in [(1, 7.0), (3, 8.5), (5, 9.2), (7, 9.4), (100, 9.9)]
    ]
    (label,) = labels_from_curves(rows, threshold=9.0)
    assert (label.pwjnd_level, label.bytes_at_pwjnd, label.best_level, label.ppd) == (5, 500, 100, 38.0)
    write_labels([label], tmp_path / "labels.csv")
    assert read_labels(tmp_path / "labels.csv") == [label]
    with pytest.raises(JndViewerError, match=r"a.png/jpeg/standard_fhd/5 is in the curves twice"):
        labels_from_curves([*rows, {**rows[2], "jod": 8.0}])  # one level from two curve files
    (tmp_path / "bad.csv").write_text("image,codec\nx,y\n")
    with pytest.raises(JndViewerError, match=r"not a reference-label file"):
        read_labels(tmp_path / "bad.csv")


def test_visibility_scores_fall_as_quality_rises(photo: np.ndarray) -> None:
    scorer = VisibilityScorer(photo, PooledVisibilityParams(jnd_model="chou1995"), ViewingCondition())
    codec = create_codec("jpeg")
    scores = [scorer.score(codec.encode(photo, q).decoded) for q in (5, 30, 60, 95)]
    assert scores == sorted(scores, reverse=True)
    assert scorer.score(photo) == 0.0


def test_the_scorer_uses_a_given_model_once_and_keeps_its_whole_map(photo: np.ndarray) -> None:
    from jndviewer.core.jnd import create_model

    calls = []
    model = create_model("chou1995", border="zero")
    model.register_forward_hook(lambda *_: calls.append(1))
    scorer = VisibilityScorer(photo, PooledVisibilityParams(jnd_model="chou1995"), ViewingCondition(), model=model)
    assert len(calls) == 1
    assert scorer.jnd_map is not None and scorer.jnd_map.params["border"] == "zero"
    assert torch.equal(scorer.jnd, create_model("chou1995", border="zero")(scorer.reference).threshold)
    assert set(scorer.jnd_map.components) == {"luminance_adaptation", "contrast_masking"}


def test_viewing_distance_changes_the_prediction(photo: np.ndarray) -> None:
    codec = create_codec("jpeg")
    params = PooledVisibilityParams(jnd_model="chou1995", threshold=1.5)
    near = PooledVisibilityPredictor(params, condition=ViewingCondition(ppd=20.0)).predict(photo, codec)
    far = PooledVisibilityPredictor(params, condition=ViewingCondition(ppd=80.0)).predict(photo, codec)
    assert far.level < near.level  # farther away, coarser quantisation stays invisible
    assert (near.condition["ppd"], far.condition["ppd"]) == (20.0, 80.0)  # every result says what it is for


def test_predictor_result_is_consistent(photo: np.ndarray) -> None:
    codec = create_codec("jpeg")
    params = PooledVisibilityParams(jnd_model="chou1995", threshold=1.5)
    predictor = PooledVisibilityPredictor(params, strategy="exhaustive")
    result = predictor.predict(photo, codec, name="photo")
    assert result.trace == list(range(100, 0, -1))  # exhaustive visits every level, from the best down
    visible = [result.decisions[level] for level in range(1, 101)]
    index = result.level - 1
    assert not any(visible[index:])  # everything from the JND up is invisible
    assert index == 0 or visible[index - 1]
    encoded = codec.encode(photo, result.level)
    assert result.nbytes == encoded.nbytes
    assert result.bitrate_saving == pytest.approx(1 - encoded.nbytes / codec.encode(photo, 100).nbytes)
    block = PooledVisibilityPredictor(params).predict(photo, codec)
    assert abs(block.level - result.level) <= 2 and block.encodes <= 15


def test_results_round_trip_json_and_csv(tmp_path: Path) -> None:
    result = PWJND("a.png", "jpeg", "visibility", 40, 1000, 0.5, 100, 5000, 0.8, 36.5, False, [50, 25, 40],
                   [LevelRecord(50, False, 0.7, 1200, 0.6)], {"jnd_model": "wu2017"}, 64, 48, 0.25, {"ppd": 38.0})
    write_results(tmp_path / "r.json", [result], [{"image": "b.png", "error": "b.png is empty (0 bytes)."}])
    (again,) = read_results(tmp_path / "r.json")
    assert again == result
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["format"] == "jndviewer.results" and document["errors"][0]["image"] == "b.png"
    write_results(tmp_path / "r.csv", [result])
    (row,) = read_results(tmp_path / "r.csv")
    assert (row.level, row.nbytes, row.trace, row.bitrate_saving) == (40, 1000, [50, 25, 40], 0.8)
    assert row.condition == {"ppd": 38.0}
    older = {k: v for k, v in result.to_dict().items() if k != "condition"}  # a file from before the condition
    older["params"] = {"jnd_model": "wu2017", "ppd": 60.0}
    assert PWJND.from_dict(older).condition == {"ppd": 60.0}
    with pytest.raises(JndViewerError, match=r"\.json or \.csv"):
        write_results(tmp_path / "r.txt", [result])


def test_predict_command_is_resumable_and_reports_bad_files(photo: np.ndarray, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(photo).save(folder / "one.png")
    Image.fromarray(photo[::-1]).save(folder / "two.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    output = tmp_path / "results.json"
    args = ["predict", str(folder), "--jnd-model", "chou1995", "--threshold", "1.5", "--jobs", "1", "-o", str(output)]
    assert main(args) == 1  # a batch where some images failed
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and captured.err.count("jndviewer:") == 2
    assert "1 of 3 images failed" in captured.err
    document = json.loads(output.read_text())
    assert sorted(Path(r["image"]).name for r in document["results"]) == ["one.png", "two.png"]
    assert len(document["errors"]) == 1
    first = {r["image"]: r["level"] for r in document["results"]}
    assert main(args) == 1  # resumes: the two results are kept, not recomputed; the broken file fails again
    assert "2 already there" in capsys.readouterr().out
    assert {r.image: r.level for r in read_results(output)} == first


@pytest.mark.slow
def test_parallel_workers_give_the_single_process_results_after_kernels_ran_here(
    photo: np.ndarray, tmp_path: Path
) -> None:
    """Workers are fresh interpreters: a fork of this process, whose OpenMP pools (torch's, numba's) already ran a
    JND map just below, could not use them."""
    from jndviewer.core.jnd import create_model

    create_model("chou1995")(torch.from_numpy(photo[..., 1].astype(np.float32))[None, None])
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(photo).save(folder / "one.png")
    Image.fromarray(photo[:, ::-1]).save(folder / "two.png")
    levels = {}
    for jobs in ("1", "2"):
        output = tmp_path / f"jobs{jobs}.json"
        args = ["predict", str(folder), "--jnd-model", "chou1995", "--threshold", "1.5", "--jobs", jobs, "-o"]
        assert main([*args, str(output)]) == 0
        levels[jobs] = {Path(r.image).name: (r.level, r.nbytes) for r in read_results(output)}
    assert levels["2"] == levels["1"] and len(levels["1"]) == 2


def test_export_keeps_metadata_and_writes_a_sidecar(photo: np.ndarray, tmp_path: Path) -> None:
    from PIL import ImageCms

    exif = Image.Exif()
    exif[0x010F] = "jndviewer-test"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(source, quality=98, exif=exif.tobytes(), icc_profile=icc)
    output = tmp_path / "out" / "photo_jnd.jpg"
    assert main(["export", str(source), "--jnd-model", "chou1995", "--threshold", "1.5", "-o", str(output)]) == 0
    written = Image.open(output)
    assert written.getexif().get(0x010F) == "jndviewer-test"
    assert written.info.get("icc_profile") == icc
    sidecar = json.loads(output.with_name("photo_jnd.jpg.json").read_text())
    assert sidecar["metadata_kept"] is True
    level = sidecar["pwjnd"]["level"]
    reference = np.asarray(Image.open(source).convert("RGB"))
    expected = create_codec("jpeg").encode(reference, level).decoded
    np.testing.assert_array_equal(np.asarray(written.convert("RGB")), expected)


def test_curve_files_that_are_not_curves_are_one_sentence(tmp_path: Path) -> None:
    from jndviewer.core.pwjnd.labels import read_curve_rows

    good = tmp_path / "good.csv"
    good.write_text("image,codec,level,bytes,display,jod\na.png,jpeg,1,100,standard_fhd,7.5\n")
    assert read_curve_rows([good, good]) == [{"image": "a.png", "codec": "jpeg", "level": "1", "bytes": "100",
                                              "display": "standard_fhd", "jod": "7.5"}] * 2
    torn = tmp_path / "torn.csv"
    torn.write_text(good.read_text() + "a.png,jpeg,3,1")  # a run killed mid-row
    with pytest.raises(JndViewerError, match=r"torn\.csv line 3 is not a JOD-curve row"):
        read_curve_rows([torn])
    (tmp_path / "words.csv").write_text("image,codec,level,bytes,display,jod\na.png,jpeg,high,1,standard_fhd,9\n")
    with pytest.raises(JndViewerError, match=r"words\.csv line 2 is not a JOD-curve row"):
        read_curve_rows([tmp_path / "words.csv"])
    with pytest.raises(JndViewerError, match=r"Cannot read the JOD curves .*absent\.csv"):
        read_curve_rows([tmp_path / "absent.csv"])
