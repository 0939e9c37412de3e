"""The viewing task in the viewing condition: flicker and side by side are two thresholds, every label and result
names its task, and a task's calibration is found (and interpolated between viewing distances)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd import calibration
from jndviewer.core.pwjnd.calibration import calibrated_threshold, interpolate_in_log_ppd
from jndviewer.core.pwjnd.labels import TASK_JOD_THRESHOLD, labels_from_curves, read_labels, write_labels
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition, describe_condition


def test_the_task_is_part_of_the_condition() -> None:
    assert ViewingCondition().task == SIDE_BY_SIDE  # the default: what the explorer shows first
    flicker = ViewingCondition(ppd=60, task=FLICKER)
    assert flicker.describe() == "60 ppd, flicker" and flicker.non_default_fields() == ("ppd", "task")
    assert ViewingCondition.from_dict(flicker.to_dict()) == flicker
    assert describe_condition({"ppd": 38.0}) == "38 ppd"  # a result from before the task was recorded
    with pytest.raises(JndViewerError, match=r"^Unknown viewing task 'zoom'; choose side-by-side or flicker\.$"):
        ViewingCondition(task="zoom")


def test_labels_name_their_task_and_read_at_its_threshold(tmp_path: Path) -> None:
    rows = [{"image": "a.png", "codec": "jpeg", "level": q, "bytes": 10 * q, "display": "standard_fhd", "jod": j}
            for q, j in [(10, 8.0), (30, 9.1), (50, 9.5), (70, 9.7), (90, 9.8), (100, 9.9)]]  # fmt: skip
    (side,) = labels_from_curves(rows)
    (flicker,) = labels_from_curves(rows, task=FLICKER)
    assert (side.task, side.jod_threshold, side.pwjnd_level) == (SIDE_BY_SIDE, 9.0, 30)
    assert (flicker.task, flicker.jod_threshold, flicker.pwjnd_level) == (FLICKER, 9.68, 70)
    assert TASK_JOD_THRESHOLD == {SIDE_BY_SIDE: 9.0, FLICKER: 9.68}
    write_labels([side, flicker], tmp_path / "both.csv")
    assert read_labels(tmp_path / "both.csv") == [side, flicker]
    # a file from before the task column: its task is read off its JOD threshold
    lines = (tmp_path / "both.csv").read_text().splitlines()
    (tmp_path / "old.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    assert [label.task for label in read_labels(tmp_path / "old.csv")] == [SIDE_BY_SIDE, FLICKER]


def test_a_tasks_threshold_is_its_own_and_interpolated_in_ppd(monkeypatch: pytest.MonkeyPatch) -> None:
    params = PooledVisibilityParams(jnd_model="subband", minkowski_exponent=2.0)
    key = params.variant()
    key75 = key.replace("@38", "@75")  # the subband model's fits are keyed by the distance they were made at
    fits = {
        "task": SIDE_BY_SIDE, "ppd": 38.0,
        "thresholds": {"subband": {key: {"threshold": 0.5}}},
        "codec_thresholds": {"webp": {"subband": {key: {"threshold": 0.6}}}},
        "conditions": {
            "flicker@38": {"task": FLICKER, "ppd": 38.0, "thresholds": {"subband": {key: {"threshold": 0.2}}}},
            "flicker@75": {"task": FLICKER, "ppd": 75.0, "thresholds": {"subband": {key75: {"threshold": 0.1}}}},
            "side-by-side@75": {"task": SIDE_BY_SIDE, "ppd": 75.0,
                                "thresholds": {"subband": {key75: {"threshold": 0.25}}}},
        },
    }
    monkeypatch.setattr(calibration, "load_calibration", lambda path=None: fits)
    assert calibrated_threshold(params) == 0.5
    assert calibrated_threshold(params, "webp") == 0.6  # its own fit, at the only distance it has
    assert calibrated_threshold(params, "jpeg", ViewingCondition(38.0, FLICKER)) == 0.2
    assert calibrated_threshold(params, "avif", ViewingCondition(75.0, FLICKER)) == 0.1  # JPEG's, no own fit
    assert calibrated_threshold(params, "jpeg", ViewingCondition(200.0, FLICKER)) == 0.1  # nearest outside
    halfway = (38.0 * 75.0) ** 0.5
    assert calibrated_threshold(params, None, ViewingCondition(halfway)) == pytest.approx((0.5 * 0.25) ** 0.5)
    assert interpolate_in_log_ppd([(10.0, 1.0), (40.0, 4.0)], 20.0) == pytest.approx(2.0)
    other = PooledVisibilityParams(jnd_model="chou1995")
    with pytest.raises(JndViewerError, match=r"^No calibrated threshold for chou1995 .* for the flicker task;"):
        calibrated_threshold(other, "jpeg", ViewingCondition(task=FLICKER))


def test_the_shipped_calibration_knows_both_tasks_at_both_distances() -> None:
    """Flicker makes distortion visible at far better quality: its thresholds on the same visibility scores are lower
    (KonJND-1k reports flicker about twice as sensitive as side by side)."""
    shipped = calibration.load_calibration()
    params = PooledVisibilityParams(jnd_model="subband", minkowski_exponent=2.0)
    for task in (SIDE_BY_SIDE, FLICKER):
        sections = dict(calibration.task_sections(shipped, task))
        assert sorted(sections) == [38.0, 75.0], task  # fitted at both distances, not borrowed from the other
        for section in sections.values():
            assert section["thresholds"]["subband"]
            assert {"webp", "avif", "heif"} <= set(section["codec_thresholds"])
    for codec in ("jpeg", "webp", "avif", "heif"):
        for ppd in (38.0, 75.0):
            side = calibrated_threshold(params, codec, ViewingCondition(ppd, SIDE_BY_SIDE))
            flicker = calibrated_threshold(params, codec, ViewingCondition(ppd, FLICKER))
            assert 1.5 < side / flicker < 8.0, (codec, ppd, side, flicker)


def test_each_task_takes_its_own_best_pooling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is the file's default; the pooling is the one with the smallest JPEG error for the task."""
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    fits = {
        "task": SIDE_BY_SIDE, "ppd": 38.0, "default": {"jnd_model": "subband", "pooling": "minkowski",
                                                        "minkowski_exponent": 2.0, "model_ppd": 38.0},
        "thresholds": {"subband": {"minkowski:2@38": {"threshold": 1.0, "mae": 2.0},
                                   "minkowski:4@38": {"threshold": 1.5, "mae": 2.5}}},
        "conditions": {"flicker@38": {"task": FLICKER, "ppd": 38.0, "thresholds": {
            "subband": {"minkowski:2@38": {"threshold": 0.3, "mae": 3.8},
                        "minkowski:4@38": {"threshold": 0.6, "mae": 3.3}}}}},
    }
    monkeypatch.setattr(calibration, "load_calibration", lambda path=None: fits)
    assert default_params().minkowski_exponent == 2.0
    flicker = default_params(None, FLICKER)
    assert (flicker.jnd_model, flicker.minkowski_exponent) == ("subband", 4.0)
    assert calibrated_threshold(flicker, "jpeg", ViewingCondition(task=FLICKER)) == 0.6
