"""Threshold calibration of the training-free predictor, and how thresholds are looked up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd import calibration, pooled_visibility
from jndviewer.core.pwjnd.calibrate import (
    evaluate_threshold,
    fit_threshold,
    label_grid,
    level_grid,
    predicted_positions,
    to_label_grid,
)
from jndviewer.core.pwjnd.calibration import calibrated_threshold
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams


def test_level_grids_match_the_shared_curves() -> None:
    assert level_grid("jpeg") == (*range(1, 100, 2), 100) and len(level_grid("jpeg")) == 51
    assert level_grid("avif")[:3] == (1, 5, 9) and level_grid("avif")[-1] == 100
    assert level_grid("heif") == level_grid("avif")  # tools/cvvdp makes HEIF's curves at AVIF's levels
    assert level_grid("autoencoder") == tuple(range(9, 0, -1))  # worst first: level 9 degrades most
    assert level_grid("learned") == tuple(range(1, 9))  # rate points, lowest rate first
    with pytest.raises(JndViewerError):
        level_grid("jxl")


def test_predictions_are_read_on_the_label_grid_as_the_labels_are_made() -> None:
    # AVIF labels: 1, 5, 9, ...: a prediction of 62 calls 62..100 invisible, so on the grid 65 is the first such
    assert [to_label_grid(q, "avif") for q in (1, 2, 61, 62, 97, 98, 100)] == [1, 5, 61, 65, 97, 100, 100]
    assert [to_label_grid(q, "jpeg") for q in (28, 29, 99, 100)] == [29, 29, 99, 100]
    assert [to_label_grid(level, "autoencoder") for level in range(1, 10)] == list(range(1, 10))  # every level
    assert [to_label_grid(q, "avif", 26) for q in (2, 62)] == [5, 65]  # a label's own count: the curve grid


def test_labels_read_at_every_level_take_predictions_as_they_are() -> None:
    assert label_grid("avif", 100) == tuple(range(1, 101)) and label_grid("jpeg", 51) == level_grid("jpeg")
    assert [to_label_grid(q, "avif", 100) for q in (1, 2, 62, 98, 100)] == [1, 2, 62, 98, 100]
    assert [to_label_grid(q, "jpeg", 100) for q in (28, 29)] == [28, 29]
    # read on the grid and at every level of the steps holding the two tasks' labels (AVIF 26 + 2 x 3, JPEG 51 + 2)
    assert label_grid("avif", 29) == label_grid("avif", 32) == label_grid("jpeg", 53) == tuple(range(1, 101))
    for count in (20, 33, 60):  # fewer than the grid's, or more than two steps add and fewer than every level
        with pytest.raises(JndViewerError, match="fits no known level grid"):
            label_grid("avif", count)
    with pytest.raises(JndViewerError, match="fits no known level grid"):
        label_grid("jpeg", 54)
    with pytest.raises(JndViewerError, match="fits no known level grid"):
        label_grid("jpeg", 101)
    with pytest.raises(JndViewerError, match="fits no known level grid"):
        label_grid("autoencoder", 100)  # a model ladder has its own levels only


def test_predicted_position_is_the_start_of_the_invisible_run() -> None:
    scores = np.array([9.0, 5.0, 0.5, 2.0, 0.4, 0.3])  # a bump at position 3 keeps 2 visible-adjacent
    positions = predicted_positions(scores, np.array([1.0, 2.5, 10.0, 0.1]))
    # Tail maxima 9, 5, 2, 2, 0.4, 0.3: four exceed t=1.0 -> position 4; two exceed 2.5; none exceed 10;
    # all six exceed 0.1 (no level is lossless).
    assert positions.tolist() == [4, 2, 0, 6]


def test_fit_threshold_recovers_a_separating_threshold() -> None:
    rng = np.random.default_rng(0)
    grid = tuple(range(1, 21))
    scores, labels = [], []
    for _ in range(30):
        label = int(rng.integers(3, 17))
        # scores fall with the level and cross 1.0 exactly between label-1 and label
        s = np.linspace(3.0, 0.1, 20) * rng.uniform(0.9, 1.1)
        s = s / s[label] * 0.9
        s[label - 1] = max(s[label - 1], 1.2)
        scores.append(s)
        labels.append(label)
    fit = fit_threshold(scores, labels, grid)
    assert fit.mae == 0.0 and fit.bias == 0.0
    assert 0.9 <= fit.threshold <= 1.2
    assert evaluate_threshold(scores, labels, grid, fit.threshold)["mae"] == 0.0
    assert evaluate_threshold(scores, labels, grid, 100.0)["mae"] > 0


def test_codec_thresholds_override_the_jpeg_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    params = PooledVisibilityParams(jnd_model="chou1995", pooling="max_window", window=32, model_ppd=13.3)
    key = params.variant()
    assert key == "max_window:32@13.3"
    fitted = {
        "thresholds": {"chou1995": {key: {"threshold": 1.5}}},
        "codec_thresholds": {"webp": {"chou1995": {key: {"threshold": 2.5}}}},
    }
    monkeypatch.setattr(calibration, "load_calibration", lambda path=None: fitted)
    assert calibrated_threshold(params) == 1.5
    assert calibrated_threshold(params, "jpeg") == 1.5
    assert calibrated_threshold(params, "webp") == 2.5
    assert calibrated_threshold(params, "avif") == 1.5  # no own calibration: JPEG's
    predictor = pooled_visibility.PooledVisibilityPredictor(params)
    assert predictor.threshold_for("webp") == 2.5
    explicit = pooled_visibility.PooledVisibilityPredictor(PooledVisibilityParams(jnd_model="chou1995", threshold=0.7))
    assert explicit.threshold_for("webp") == 0.7
    with pytest.raises(JndViewerError, match=r"No calibrated threshold for wu2013.*\.$"):
        calibrated_threshold(PooledVisibilityParams(jnd_model="wu2013"))


def test_shipped_calibration_names_an_existing_variant() -> None:
    shipped = calibration.load_calibration()
    default = pooled_visibility.default_params()
    assert calibrated_threshold(default) > 0
    assert shipped["images"] > 100 and shipped["display"] == "standard_fhd"


def test_a_missing_calibration_is_one_sentence(tmp_path) -> None:
    with pytest.raises(JndViewerError, match=r"^The predictor calibration gone\.json is missing .*\.$"):
        calibration.load_calibration(tmp_path / "gone.json")


def test_every_model_has_its_best_calibrated_variant_in_the_shipped_file() -> None:
    """``default_params(model)`` is what ``--jnd-model`` and the explorer's pixel-model predictor start from."""
    from jndviewer.core.jnd import MODELS

    shipped = calibration.load_calibration()
    for name in ("subband", *MODELS):
        params = pooled_visibility.default_params(name)
        assert params.jnd_model == name
        fits = shipped["thresholds"][name]
        assert calibrated_threshold(params) == fits[params.variant()]["threshold"]
        assert fits[params.variant()]["mae"] == min(fit["mae"] for fit in fits.values())


def _curve_rows(*names: str) -> list[dict[str, str]]:
    from pathlib import Path

    from jndviewer.core.pwjnd.labels import read_curve_rows

    return read_curve_rows(Path(__file__).resolve().parents[2] / "tools" / "cvvdp" / name for name in names)


def _label_key(label) -> tuple[str, str, str, str]:
    return label.image, label.codec, label.display, label.task


def _grid_step_start(codec: str, end: int) -> int:
    """The grid level below the grid step that ends at ``end`` (0 below the grid's worst level): a label read at more
    levels of the same curves lies above it."""
    grid = level_grid(codec)
    return grid[grid.index(end) - 1] if end != grid[0] else 0


def test_the_kodak_labels_are_the_curves_read_at_every_level_within_the_grid_step() -> None:
    """resources/labels/pwjnd_reference_kodak.csv is made from the grid curves and the curves between their levels
    (tools/cvvdp/README.md). Every level read adds resolution: a label lies in the grid step that ends at the label
    read on the grid alone, unless a level between the grid's, above that label, scores below the threshold (the
    rule then starts above it: once in the 288)."""
    from pathlib import Path

    from jndviewer.core.pwjnd.labels import TASK_JOD_THRESHOLD, labels_from_curves, read_labels

    grid_rows = _curve_rows("kodak_jod_curves.csv")
    between_rows = _curve_rows("kodak_between_levels_jod_curves.csv")
    shipped = read_labels(Path(__file__).resolve().parents[2] / "resources" / "labels" / "pwjnd_reference_kodak.csv")
    made = [label for task in TASK_JOD_THRESHOLD for label in labels_from_curves(grid_rows + between_rows, task=task)]
    assert sorted(made, key=_label_key) == sorted(shipped, key=_label_key)
    assert len(shipped) == 24 * 3 * 2 * 2 and {label.levels for label in shipped} == {100}
    on_grid = {_label_key(label): label.pwjnd_level for task in TASK_JOD_THRESHOLD
               for label in labels_from_curves(grid_rows, task=task)}
    jod = {(row["image"], row["codec"], row["display"], int(row["level"])): float(row["jod"]) for row in between_rows}
    inside = above = 0
    for label in shipped:
        grid = level_grid(label.codec)
        end = on_grid[_label_key(label)]
        start = _grid_step_start(label.codec, end)
        if label.pwjnd_level > end:  # a level between the grid's dips below the threshold
            below = label.pwjnd_level - 1
            assert below not in grid and jod[label.image, label.codec, label.display, below] < label.jod_threshold
            above += 1
        else:
            assert start < label.pwjnd_level
            inside += label.pwjnd_level != end
    assert above == 1 and inside > len(shipped) / 2  # most labels lay somewhere inside their step, not at its end


SHARED_CURVES = Path(__file__).resolve().parents[3] / "shared" / "data" / "labels" / "cvvdp" / "jod_curves.csv"


@pytest.mark.skipif(not SHARED_CURVES.is_file(), reason="../shared (the project's data folder) is absent")
def test_the_training_labels_read_at_every_level_lie_in_their_grid_step() -> None:
    """resources/labels/pwjnd_reference_train_every_level.csv is the shared grid curves read with the levels between
    them (AVIF: every level; JPEG and WebP: those of the grid step that holds each grid label; tools/cvvdp/README.md,
    "Training curves at every level"): each label is its grid label or lies inside that step, never above, and the
    labels as a whole lie lower than on the grid."""
    from jndviewer.core.pwjnd.labels import TASK_JOD_THRESHOLD, labels_from_curves, read_curve_rows, read_labels

    labels_folder = Path(__file__).resolve().parents[2] / "resources" / "labels"
    grid_rows = read_curve_rows([SHARED_CURVES])
    rows = grid_rows + _curve_rows("bsds_avif_between_levels_jod_curves.csv", "bsds_between_labels_jod_curves.csv")
    shipped = read_labels(labels_folder / "pwjnd_reference_train_every_level.csv")
    made = [label for task in TASK_JOD_THRESHOLD for label in labels_from_curves(rows, task=task)]
    assert sorted(made, key=_label_key) == sorted(shipped, key=_label_key) and len(shipped) == 2072
    on_grid = {_label_key(label): label for label in read_labels(labels_folder / "pwjnd_reference_train.csv")}
    assert on_grid.keys() == {_label_key(label) for label in shipped}
    assert {(label.codec, label.levels) for label in shipped} == {("jpeg", 53), ("webp", 53), ("avif", 100)}
    moved = 0
    for label in shipped:
        end = on_grid[_label_key(label)].pwjnd_level
        assert _grid_step_start(label.codec, end) < label.pwjnd_level <= end
        assert label_grid(label.codec, label.levels) == tuple(range(1, 101))
        moved += label.pwjnd_level != end
    assert moved > len(shipped) / 3


def test_calibration_refuses_labels_off_its_curve_grid(tmp_path) -> None:
    from jndviewer.core.pwjnd.calibrate import collect_scores
    from jndviewer.core.pwjnd.labels import ReferenceLabel

    label = ReferenceLabel("kodak/kodim01.png", "avif", "standard_fhd", 38.0, 9.68, 63, 1000, 100, 9000, 100,
                           "flicker")
    with pytest.raises(JndViewerError, match="not on the curve grid"):
        collect_scores([label], tmp_path, "subband", 38.0, None)


def test_the_training_labels_read_at_every_level_lie_in_the_grid_labels_step() -> None:
    """Without ../shared too: each label of the every-level file lies in the grid step that ends at the same label read
    on the grid (never above it), as reading more levels of the same curves must give."""
    from jndviewer.core.pwjnd.labels import read_labels

    folder = Path(__file__).resolve().parents[2] / "resources" / "labels"
    on_grid = {_label_key(label): label.pwjnd_level for label in read_labels(folder / "pwjnd_reference_train.csv")}
    every = read_labels(folder / "pwjnd_reference_train_every_level.csv")
    assert {_label_key(label) for label in every} == on_grid.keys()
    for label in every:
        end = on_grid[_label_key(label)]
        assert _grid_step_start(label.codec, end) < label.pwjnd_level <= end


def _jod_curves_module():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tools" / "cvvdp" / "jod_curves.py"
    spec = importlib.util.spec_from_file_location("jod_curves_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_between_labels_reads_the_levels_of_each_labels_grid_step(tmp_path: Path) -> None:
    """tools/cvvdp/jod_curves.py --between-labels: the levels strictly inside the grid step below each grid label (the
    union over tasks), all the levels below the grid's worst for a label there, none for a label at the worst level;
    labels off the grid or of a model ladder are refused in one sentence."""
    jod_curves = _jod_curves_module()
    header = "image,codec,display,ppd,jod_threshold,pwjnd_level,bytes_at_pwjnd,best_level,bytes_at_best,levels,task\n"

    def labels(*rows: tuple[str, str, str, int, str]) -> Path:
        path = tmp_path / "labels.csv"
        path.write_text(header + "".join(f"{i},{c},{d},38,9,{lv},1,100,2,51,{t}\n" for i, c, d, lv, t in rows))
        return path

    grid = jod_curves.parse_levels([])
    near = jod_curves.levels_between_labels(labels(
        ("a.png", "jpeg", "standard_fhd", 29, "side-by-side"), ("a.png", "jpeg", "standard_fhd", 71, "flicker"),
        ("a.png", "jpeg", "standard_4k", 1, "side-by-side"), ("a.png", "avif", "standard_fhd", 37, "flicker"),
        ("a.png", "webp", "standard_4k", 100, "flicker"), ("b.png", "jpeg", "standard_4k", 29, "flicker"),
    ), grid, ["jpeg", "webp", "avif"], ["standard_fhd", "standard_4k"])
    assert near == {("a.png", "jpeg", 28): {"standard_fhd"}, ("a.png", "jpeg", 70): {"standard_fhd"},
                    ("a.png", "avif", 34): {"standard_fhd"}, ("a.png", "avif", 35): {"standard_fhd"},
                    ("a.png", "avif", 36): {"standard_fhd"}, ("b.png", "jpeg", 28): {"standard_4k"}}
    coarse = jod_curves.parse_levels(["jpeg=5-99/2,100"])  # a grid starting above 1: a label at 5 may lie below it
    below_worst = jod_curves.levels_between_labels(labels(("a.png", "jpeg", "standard_fhd", 5, "flicker")), coarse,
                                                   ["jpeg"], ["standard_fhd"])
    assert set(below_worst) == {("a.png", "jpeg", q) for q in (1, 2, 3, 4)}
    assert jod_curves.levels_between_labels(labels(("a.png", "jpeg", "standard_fhd", 29, "flicker")), grid,
                                            ["webp"], ["standard_fhd"]) == {}  # other codecs are not asked for
    with pytest.raises(SystemExit, match="not on the grid"):
        jod_curves.levels_between_labels(labels(("a.png", "jpeg", "standard_fhd", 28, "flicker")), grid, ["jpeg"],
                                         ["standard_fhd"])
    with pytest.raises(SystemExit, match="quality ladders only"):
        jod_curves.levels_between_labels(labels(("a.png", "autoencoder", "standard_fhd", 3, "flicker")), grid,
                                         ["autoencoder"], ["standard_fhd"])


def test_the_kodak_heif_labels_are_its_curves_read_at_every_level() -> None:
    """resources/labels/pwjnd_reference_kodak_heif.csv: HEIF's grid curves and those of every level between
    (tools/cvvdp/README.md, "HEIF curves") read together; each label in the grid step of its grid reading."""
    from jndviewer.core.pwjnd.labels import TASK_JOD_THRESHOLD, labels_from_curves, read_labels

    grid_rows = _curve_rows("kodak_heif_jod_curves.csv")
    rows = grid_rows + _curve_rows("kodak_heif_between_levels_jod_curves.csv")
    folder = Path(__file__).resolve().parents[2] / "resources" / "labels"
    shipped = read_labels(folder / "pwjnd_reference_kodak_heif.csv")
    made = [label for task in TASK_JOD_THRESHOLD for label in labels_from_curves(rows, task=task)]
    assert sorted(made, key=_label_key) == sorted(shipped, key=_label_key) and len(shipped) == 96
    assert {label.levels for label in shipped} == {100}
    on_grid = {_label_key(label): label.pwjnd_level for task in TASK_JOD_THRESHOLD
               for label in labels_from_curves(grid_rows, task=task)}
    for label in shipped:
        end = on_grid[_label_key(label)]
        assert _grid_step_start("heif", end) < label.pwjnd_level <= end
    assert sum(label.pwjnd_level != on_grid[_label_key(label)] for label in shipped) > len(shipped) / 3
