"""Study results (``core.study.results``), the HTML report and the calibration to a study's observers, on study
databases written in tmp_path by synthetic observers whose critical levels are known."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import load
from jndviewer.core.study import results
from jndviewer.core.study.calibrate import calibrate_from_study, fit_threshold_ladders, label_position, score_item
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    CATCH_OBVIOUS,
    CATCH_SAME,
    FLICKER_ADJUSTMENT,
    TEST,
    RunResult,
    RunSpec,
    StudyConditions,
    StudyItem,
    Trial,
)
from jndviewer.core.study.report import write_report
from jndviewer.core.study.store import StudyStore
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE

#: Five observers' critical QFs on the JPEG ladder 20, 24, ..., 100 (side by side, 38 ppd).
CRITICAL = {"o1": 20, "o2": 24, "o3": 28, "o4": 32, "o5": 36}
LEVELS = tuple(range(20, 101, 4))


def textured_png(path: Path, seed: int = 1) -> Path:
    """A 64 x 64 gradient with a noisy patch and a flat bright block (JPEG artefacts show at moderate quality)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:64, 0:64]
    base = np.stack([x * 2 + 40, y * 2 + 50, 150 - x], axis=-1).astype(np.float64)
    base[8:56, 8:40] += rng.normal(0, 25, (48, 32, 3))
    base[40:60, 30:60] = 230
    PilImage.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


def conditions(task: str, ppd: float) -> StudyConditions:
    """Conditions at a 600 mm viewing distance whose pixel size gives ``ppd``."""
    return StudyConditions(task, 600.0, 2 * 600.0 * math.tan(math.radians(0.5)) / ppd)


def add_session(store: StudyStore, observer: str, runs: list[tuple[StudyItem, str, int | None, bool | None]],
                task: str = SIDE_BY_SIDE, ppd: float = 38.0, protocol: str = BINARY_SEARCH) -> str:
    """A finished session of ``(item, kind, critical level, correct)`` runs."""
    plan = [RunSpec(item, kind) for item, kind, _, _ in runs]
    session = store.start_session(observer, protocol, "test-set", 7, conditions(task, ppd), plan)
    for index, (item, kind, critical, correct) in enumerate(runs):
        run = RunResult(session, observer, index, item, kind, protocol, task, ppd, critical, correct)
        store.record_trial(session, Trial(index, 0, critical, "different"), run)
    store.finish_session(session)
    return session


@pytest.fixture(autouse=True)
def _fresh_predictions(monkeypatch: pytest.MonkeyPatch) -> None:
    """No prediction kept from another test; the reference read directly when the study sets are not there."""
    results.clear_prediction_cache()
    try:
        from jndviewer.core.study.sets import reference_rgb  # noqa: F401
    except ImportError:
        monkeypatch.setattr(results, "item_rgb", lambda item: load(item.reference).rgb8())


@pytest.fixture()
def item(tmp_path: Path) -> StudyItem:
    return StudyItem("face", str(textured_png(tmp_path / "face.png")), "jpeg", LEVELS, "higher", "src-face")


@pytest.fixture()
def store(tmp_path: Path, item: StudyItem) -> StudyStore:
    """Five observers side by side at 38 ppd (o1 with two catch runs, one right); o1 twice more under flicker at 60
    ppd (critical 40 and nothing seen)."""
    with StudyStore(tmp_path / "study.sqlite") as db:
        for observer, critical in CRITICAL.items():
            runs = [(item, TEST, critical, None)]
            if observer == "o1":
                runs += [(item, CATCH_SAME, None, True), (item, CATCH_OBVIOUS, LEVELS[0], False)]
            add_session(db, observer, runs)
        add_session(db, "o1", [(item, TEST, 40, None)], FLICKER, 60.0, FLICKER_ADJUSTMENT)
        add_session(db, "o1", [(item, TEST, None, None)], FLICKER, 60.04, FLICKER_ADJUSTMENT)
        add_session(db, "o2", [(item, TEST, 60, None)], FLICKER, 59.96, FLICKER_ADJUSTMENT)
        yield db


SIDE = ("face", "jpeg", SIDE_BY_SIDE, 38.0)
FLICK = ("face", "jpeg", FLICKER, 60.0)


def test_critical_levels_group_by_item_and_condition_without_catch_runs(store: StudyStore) -> None:
    groups = results.critical_levels(store.run_results())
    assert list(groups) == [FLICK, SIDE]  # sorted; ppd 60.04 and 59.96 round to 60.0
    assert groups[SIDE] == list(CRITICAL.items())
    assert groups[FLICK] == [("o1", 40), ("o1", None), ("o2", 60)]


def test_sur_curve_counts_who_sees_no_difference_and_fits_the_normal(store: StudyStore, item: StudyItem) -> None:
    curve = results.sur_curve(item, results.critical_levels(store.run_results())[SIDE])
    sur = dict(zip(curve.levels, curve.sur, strict=True))
    # a level is "no difference" for an observer when it is strictly better than their critical level
    assert [sur[level] for level in (20, 24, 28, 32, 36, 40, 100)] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0]
    assert curve.mean == pytest.approx(28.0, abs=1.0) and curve.mean == pytest.approx(28.0)
    assert curve.sd == pytest.approx(math.sqrt(32.0))  # maximum likelihood: the population sd
    assert (curve.observers, curve.runs, curve.censored) == (5, 5, 0)
    low, high = np.asarray(curve.band_low), np.asarray(curve.band_high)
    assert (low <= np.asarray(curve.sur)).all() and (np.asarray(curve.sur) <= high).all()
    assert low[curve.levels.index(28)] < 0.4 < high[curve.levels.index(28)]  # a real band where observers differ
    assert low[curve.levels.index(60)] == high[curve.levels.index(60)] == 1.0
    fitted = curve.fitted([28.0, 20.0, 100.0])
    assert fitted[0] == pytest.approx(0.5) and fitted[1] < 0.15 and fitted[2] > 0.999
    again = results.sur_curve(item, results.critical_levels(store.run_results())[SIDE])
    assert again.band_low == curve.band_low  # the bootstrap's seed is fixed


def test_sur_curve_with_one_observer_with_repeats_and_with_censored_runs(item: StudyItem) -> None:
    one = results.sur_curve(item, [("solo", 44)])
    assert one.mean == 44.0 and one.sd is None and one.fitted([44]) is None
    assert one.band_low == one.band_high == one.sur
    # bare levels: each its own observer; None sees no difference anywhere, even at the worst level
    censored = results.sur_curve(item, [40, 44, None])
    assert censored.sur[0] == pytest.approx(1 / 3) and censored.censored == 1
    assert censored.mean < 42.0  # the censored run pulls the fit towards the worse end
    assert censored.sd >= censored.sd_floor
    agree = results.sur_curve(item, [("a", 40), ("b", 40)])
    assert agree.mean == 40.0 and agree.sd == agree.sd_floor == 2.0
    nothing = results.sur_curve(item, [None, None])
    assert nothing.mean is None and nothing.sur == (1.0,) * len(LEVELS)
    with pytest.raises(JndViewerError, match="no answered runs"):
        results.sur_curve(item, [])


def test_reliability_from_catch_runs(store: StudyStore) -> None:
    runs = store.run_results()
    assert results.observer_reliability(runs, "o1") == 0.5
    assert results.observer_reliability(runs, "o2") is None


def test_bias_sign_and_value_against_a_predictor_level(store: StudyStore, item: StudyItem) -> None:
    levels = {SIDE: {"fake": 24, "broken": "It cannot run."}, FLICK: {"fake": None}}
    bias = results.observer_bias(store.run_results(), levels)
    assert set(bias["o3"]) == {"fake"}
    # o1 saw the distortion only at QF 20, one step worse than the predicted 24: positive
    side_only = results.observer_bias(store.run_results(), {SIDE: {"fake": 24}})
    assert side_only["o1"]["fake"] == results.Bias(1.0, 4.0, 1)
    assert side_only["o5"]["fake"] == results.Bias(-3.0, -12.0, 1)
    # flicker: the predictor sees nothing (position 21, past the worst level); o1 at 40 (position 15) and nothing
    o1 = bias["o1"]["fake"]
    assert o1.runs == 3 and o1.positions == pytest.approx((1 + (15 - 21) + 0) / 3)


def test_predictor_first_visible_convention(item: StudyItem) -> None:
    assert results.first_visible(item, 24) == 20
    assert results.first_visible(item, 20) is None  # invisible down to the worst level
    assert results.first_visible(item, 100, all_visible=True) == 100
    assert results.last_invisible_level(item, 28) == 32.0
    assert results.last_invisible_level(item, None) == 20.0
    assert results.last_invisible_level(item, 100) == 104.0


def test_predictor_levels_on_the_items_ladder_cached_and_reasons(item: StudyItem, monkeypatch) -> None:
    from jndviewer.core import views
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.registry import create_predictor
    from jndviewer.core.viewing import ViewingCondition

    answers = results.predictor_levels(item, SIDE_BY_SIDE, 38.02, ["visibility", "nope"])
    assert answers["nope"] == "Unknown predictor 'nope'; choose one of visibility, sgjnd, vpjnd."
    level = answers["visibility"]
    # what the predictor's own decisions at the item's levels give (monotone here, so any search finds it)
    rgb = load(item.reference).rgb8()
    decider = create_predictor("visibility", condition=ViewingCondition(38.0, SIDE_BY_SIDE)).decider(rgb, "jpeg")
    codec = create_codec("jpeg")
    visible = [decider.decide(lv, codec.encode(rgb, lv).decoded).visible for lv in item.ladder()]
    assert visible == sorted(visible) and any(visible) and not all(visible)
    assert level == item.ladder()[visible.index(True)]

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("predicted again")

    monkeypatch.setattr(views, "run_prediction", refuse)
    assert results.predictor_levels(item, SIDE_BY_SIDE, 38.0, ["visibility"]) == {"visibility": level}


def test_same_item_id_with_two_ladders_is_one_sentence(tmp_path: Path, item: StudyItem) -> None:
    other = StudyItem("face", item.reference, "jpeg", (50, 60, 70), "higher")
    with StudyStore(tmp_path / "two.sqlite") as db:
        add_session(db, "a", [(item, TEST, 40, None)])
        add_session(db, "b", [(other, TEST, 60, None)])
        with pytest.raises(JndViewerError, match="two different ladders"):
            results.items_by_key(db.run_results())


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(JndViewerError, match="does not exist"), results.opened_store(tmp_path / "none.sqlite"):
        pass
    assert not (tmp_path / "none.sqlite").exists()


def test_report_is_self_contained_and_names_task_and_ppd(store: StudyStore, tmp_path: Path, monkeypatch) -> None:
    def fake(item: StudyItem, task: str, ppd: float, predictors=None, **_: object) -> dict:
        return {"visibility": 32 if task == SIDE_BY_SIDE else None, "sgjnd": "The SG-JND weights are missing."}

    monkeypatch.setattr(results, "predictor_levels", fake)
    output = write_report(store.path, tmp_path / "out" / "report.html")
    text = output.read_text()
    assert "side by side, 38 ppd" in text and "flicker, 60 ppd" in text
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "http://" not in text and "https://" not in text
    assert "50 %" in text and "no catch runs" in text  # o1's catch runs; the others have none
    assert "bias vs visibility" in text and "bias vs sgjnd" not in text and "The SG-JND weights are missing." in text
    # o3 (side by side only): QF 28 against the predicted 32, one step worse; o5: 36, one step better
    assert "<td>o3</td><td>1</td><td>1</td><td>no catch runs</td><td>+1.00 steps (+4.0)</td>" in text
    assert "<td>-1.00 steps (-4.0)</td>" in text


def test_calibration_file_layout_helpers() -> None:
    item = StudyItem("x", "x.png", "jpeg", (10, 20, 30, 40))
    assert [label_position(item, c) for c in (40, 30, 20, 10, None)] == [3, 3, 2, 1, 0]
    scores = [np.asarray([3.0, 2.0, 1.0]), np.asarray([5.0, 4.0, 3.0, 2.0])]
    fit = fit_threshold_ladders(scores, [1, 3], [(10, 20, 30), (1, 2, 3, 4)])
    assert fit.mae == 0.0 and 2.0 <= fit.threshold < 3.0  # both labels met: between 2 and 3


def test_calibrate_from_study_moves_the_threshold_to_the_observers(tmp_path: Path, monkeypatch) -> None:
    from jndviewer.core.assets import calibration_file
    from jndviewer.core.pwjnd import calibration
    from jndviewer.core.pwjnd.calibrate import score_image
    from jndviewer.core.pwjnd.pooled_visibility import default_params
    from jndviewer.core.viewing import ViewingCondition

    ladder = tuple(range(30, 101, 5))
    items = [StudyItem(f"img{i}", str(textured_png(tmp_path / f"img{i}.png", seed=i)), "jpeg", ladder)
             for i in (1, 2)]  # fmt: skip
    with StudyStore(tmp_path / "keen.sqlite") as db:  # a keen observer: sees a difference from QF 95 on
        add_session(db, "keen", [(it, TEST, 95, None) for it in items])
        add_session(db, "keen", [(it, TEST, 95, None) for it in items], FLICKER, 50.0, FLICKER_ADJUSTMENT)
    rgb = load(items[0].reference).rgb8()  # the item's scores are the calibration's, on the item's own ladder
    assert np.array_equal(score_item(items[0], rgb, "subband", 38.0, 38.0),
                          score_image(rgb, "jpeg", "subband", 38.0, ladder, (38.0,))[:, 0, :])  # fmt: skip
    lines: list[str] = []
    written = calibrate_from_study(tmp_path / "keen.sqlite", tmp_path / "cal.json", log=lines.append)
    packaged = json.loads(calibration_file().read_text())
    on_disk = json.loads((tmp_path / "cal.json").read_text())
    assert on_disk == written
    variant = default_params(None, SIDE_BY_SIDE).variant()
    model = packaged["default"]["jnd_model"]
    fit = on_disk["thresholds"][model][variant]
    assert fit["threshold"] < packaged["thresholds"][model][variant]["threshold"]
    assert fit["labels"] == "study:keen.sqlite" and (fit["observers"], fit["images"], fit["runs"]) == (1, 2, 2)
    assert fit["mae"] == packaged["thresholds"][model][variant]["mae"] and fit["study_mae"] == 0.0
    flicker = on_disk["conditions"]["flicker@50"]
    assert (flicker["task"], flicker["ppd"]) == (FLICKER, 50.0)
    assert on_disk["default"] == packaged["default"] and len(on_disk["study_fits"]) == 2
    assert any("side by side, 38 ppd" in line for line in lines)
    # the written file is what the predictor uses when it loads that file
    try:
        with monkeypatch.context() as patch:
            patch.setattr(calibration, "calibration_file", lambda: tmp_path / "cal.json")
            calibration.load_calibration.cache_clear()
            side = default_params(None, SIDE_BY_SIDE)
            assert calibration.calibrated_threshold(side, "jpeg", ViewingCondition(38.0, SIDE_BY_SIDE)) == \
                pytest.approx(fit["threshold"])
            flick = default_params(None, FLICKER)
            flicker_fit = flicker["thresholds"][flick.jnd_model][flick.variant().rsplit("@", 1)[0] + "@50"]
            assert calibration.calibrated_threshold(flick, "jpeg", ViewingCondition(50.0, FLICKER)) == \
                pytest.approx(flicker_fit["threshold"])
    finally:
        calibration.load_calibration.cache_clear()
    with pytest.raises(JndViewerError, match="Only the visibility predictor"):
        calibrate_from_study(tmp_path / "keen.sqlite", tmp_path / "x.json", predictor="sgjnd")
