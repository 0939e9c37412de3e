"""Where the training-free predictor's threshold comes from, recorded in every result and said before a prediction
that rests on less than a fit for its codec and condition (JPEG's borrowed thresholds, a distance outside the fits,
a fit no better than a constant level)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.pwjnd import calibration
from jndviewer.core.pwjnd.calibration import threshold_fit
from jndviewer.core.pwjnd.patch_pooling import distance_caveats, family_caveats
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams, PooledVisibilityPredictor
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE, ViewingCondition

PARAMS = PooledVisibilityParams(jnd_model="subband", minkowski_exponent=2.0)


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> dict:
    key = PARAMS.variant()
    key75 = key.replace("@38", "@75")
    fits = {
        "task": SIDE_BY_SIDE, "ppd": 38.0, "baseline_constant_mae": 4.0,
        "thresholds": {"subband": {key: {"threshold": 0.5, "mae": 2.0}}},
        "codec_thresholds": {"webp": {"subband": {key: {"threshold": 0.6, "mae": 3.0}}}},
        "codec_baseline_constant_mae": {"webp": 7.0},
        "conditions": {
            "side-by-side@75": {"task": SIDE_BY_SIDE, "ppd": 75.0, "baseline_constant_mae": 2.0,
                                "thresholds": {"subband": {key75: {"threshold": 0.25, "mae": 1.0}}}},
            "flicker@38": {"task": FLICKER, "ppd": 38.0, "baseline_constant_mae": 5.0,
                           "thresholds": {"subband": {key: {"threshold": 0.2, "mae": 3.0}}}},
            "flicker@75": {"task": FLICKER, "ppd": 75.0, "baseline_constant_mae": 4.0,
                           "thresholds": {"subband": {key75: {"threshold": 0.1, "mae": 6.0}}}},
        },
    }
    monkeypatch.setattr(calibration, "load_calibration", lambda path=None: fits)
    return fits


def test_a_fit_says_whose_labels_which_distances_and_how_well(fits: dict) -> None:
    jpeg = threshold_fit(PARAMS, "jpeg")
    assert (jpeg.threshold, jpeg.fitted_codec, jpeg.ppds, jpeg.training_mae, jpeg.constant_mae) == \
        (0.5, "jpeg", (38.0, 75.0), 2.0, 4.0)
    assert not jpeg.borrowed and not jpeg.no_better_than_constant and jpeg.caveats(38.0) == []
    webp = threshold_fit(PARAMS, "webp")
    assert (webp.threshold, webp.fitted_codec, webp.ppds, webp.constant_mae) == (0.6, "webp", (38.0,), 7.0)
    assert webp.to_dict() == {"codec": "webp", "task": SIDE_BY_SIDE, "ppds": [38.0], "labels": "reference",
                              "training_mae": 3.0, "constant_mae": 7.0}
    # halfway in log ppd: the threshold geometrically, the errors linearly, as the thresholds are interpolated
    halfway = threshold_fit(PARAMS, None, ViewingCondition((38.0 * 75.0) ** 0.5))
    assert halfway.threshold == pytest.approx((0.5 * 0.25) ** 0.5)
    assert (halfway.training_mae, halfway.constant_mae) == (pytest.approx(1.5), pytest.approx(3.0))


def test_each_weakness_is_one_sentence(fits: dict) -> None:
    borrowed = threshold_fit(PARAMS, "jxl")
    assert borrowed.borrowed and borrowed.fitted_codec == "jpeg" and borrowed.threshold == 0.5
    assert borrowed.caveats(38.0) == [
        "jxl has no calibration of its own: the training-free predictor judges its levels with JPEG's thresholds, "
        "and its PW-JND is only as right as the two codecs' levels are alike."]
    assert threshold_fit(PARAMS, "webp").caveats(75.0) == [
        "The training-free predictor's webp thresholds for the side by side task were fitted at 38 ppd; at 75 ppd "
        "the 38-ppd ones are used as they are."]
    assert threshold_fit(PARAMS, "jpeg").caveats(40.0) == []  # within 10 % of a fit: no sentence
    assert threshold_fit(PARAMS, "jpeg").caveats(20.0)[0].endswith("at 20 ppd the 38-ppd ones are used as they are.")
    weak = threshold_fit(PARAMS, "jpeg", ViewingCondition(75.0, FLICKER))
    assert weak.no_better_than_constant
    assert weak.caveats(75.0) == [
        "At 75 ppd (flicker) the training-free predictor's jpeg fit erred by 6.0 levels on its training images, more "
        "than guessing one level for every image would (4.0): treat its PW-JND here as a rough guess."]
    # beyond the fitted distances the nearest fit's figures are used as they are: nothing was interpolated
    beyond = threshold_fit(PARAMS, "jpeg", ViewingCondition(85.0, FLICKER)).caveats(85.0)
    assert beyond[0].endswith("at 85 ppd the 75-ppd ones are used as they are.")
    assert beyond[1].startswith("At 85 ppd (flicker) the training-free predictor's jpeg fit erred by 6.0 levels on "
                                "its training images, more than")
    given = PooledVisibilityPredictor(PARAMS, threshold=0.7)
    assert given.threshold_fit("jxl") is None and given.caveats("jxl") == []  # the user's own threshold


def test_between_the_fits_the_errors_are_said_to_be_interpolated(fits: dict) -> None:
    halfway = (38.0 * 75.0) ** 0.5
    weak = threshold_fit(PARAMS, "jpeg", ViewingCondition(halfway, FLICKER))  # 3.0 and 6.0 against 5.0 and 4.0
    assert (weak.training_mae, weak.constant_mae) == (pytest.approx(4.5), pytest.approx(4.5))
    assert not weak.no_better_than_constant  # erring as much as the constant is not erring more
    fits["conditions"]["flicker@38"]["thresholds"]["subband"][PARAMS.variant()]["mae"] = 4.0
    (sentence,) = threshold_fit(PARAMS, "jpeg", ViewingCondition(halfway, FLICKER)).caveats(halfway)
    assert sentence.startswith(f"At {halfway:g} ppd (flicker) the training-free predictor's jpeg fit erred by 5.0 "
                               "levels on its training images (interpolated between its fits at 38 and 75 ppd), more "
                               "than guessing one level for every image would (4.5)")


def test_a_study_fit_answers_with_its_own_error_and_claims_no_constant(fits: dict) -> None:
    """``jndviewer calibrate --labels study:DB`` keeps the packaged fit's ``mae`` beside the study's own error."""
    entry = fits["conditions"]["flicker@75"]["thresholds"]["subband"][PARAMS.variant().replace("@38", "@75")]
    entry.update(threshold=0.3, labels="study:me", study_mae=1.5)
    fit = threshold_fit(PARAMS, "jpeg", ViewingCondition(75.0, FLICKER))
    assert (fit.threshold, fit.labels, fit.training_mae, fit.constant_mae) == (0.3, "study:me", 1.5, None)
    assert fit.caveats(75.0) == [] and fit.to_dict()["labels"] == "study:me"
    assert threshold_fit(PARAMS, "jpeg").labels == "reference"


def test_a_file_without_errors_makes_no_claim_about_them(fits: dict) -> None:
    del fits["codec_baseline_constant_mae"]
    webp = threshold_fit(PARAMS, "webp")
    assert webp.constant_mae is None and not webp.no_better_than_constant and "constant_mae" not in webp.to_dict()


def test_the_networks_say_when_a_codec_is_none_they_were_trained_on() -> None:
    assert family_caveats("SG-JND", "jpeg", ("jpeg", "webp", "avif")) == []
    assert family_caveats("SG-JND", "heif", ("jpeg", "webp", "avif")) == [
        "The SG-JND network was trained on jpeg, webp and avif ladders only; heif levels get the mean of their "
        "offsets, and its PW-JND for them is untested."]
    assert family_caveats("SG-JND", "heif", ()) == []  # a network without codec offsets treats all alike


def test_the_shipped_calibration_knows_each_fits_constant() -> None:
    """Every codec's fit in the packaged file carries the constant it is to beat, so weak fits can be named."""
    shipped = calibration.load_calibration()
    for task in (SIDE_BY_SIDE, FLICKER):
        for _, section in calibration.task_sections(shipped, task):
            assert section["baseline_constant_mae"] > 0
            assert set(section["codec_thresholds"]) == set(section["codec_baseline_constant_mae"])


def test_a_result_records_its_threshold_and_predict_says_the_caveat(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    image = tmp_path / "a.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(image)
    predictor = PooledVisibilityPredictor(condition=ViewingCondition(38.0, FLICKER))
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load

    result = predictor.predict(load(image), create_codec("jpeg"))
    recorded = result.params["calibration"]
    assert recorded["codec"] == "jpeg" and recorded["task"] == FLICKER and 38.0 in recorded["ppds"]
    assert result.params["threshold"] == pytest.approx(threshold_fit(predictor.params, "jpeg", predictor.condition)
                                                       .threshold)
    assert main(["predict", str(image), "--codec", "jp2", "--jobs", "1", "-o", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert "jndviewer: note: jp2 has no calibration of its own: the training-free predictor judges its " in err
    assert main(["predict", str(image), "--codec", "jpeg", "--jobs", "1", "-o", str(tmp_path / "s.json")]) == 0
    assert "note:" not in capsys.readouterr().err  # JPEG at the default condition: its own fit, better than a constant
    assert main(["export", str(image), "--codec", "jp2", "-o", str(tmp_path / "a.jp2")]) == 0
    assert "jndviewer: note: jp2 has no calibration of its own" in capsys.readouterr().err


def test_the_csv_form_keeps_the_caveats_and_reads_them_back(tmp_path: Path) -> None:
    import csv

    from jndviewer.core.report import read_results

    rng = np.random.default_rng(1)
    image = tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(image)
    output = tmp_path / "r.csv"
    assert main(["predict", str(image), "--codec", "jp2", "--jobs", "1", "-o", str(output)]) == 0
    (row,) = list(csv.DictReader(output.open(newline="")))
    (sentence,) = json.loads(row["caveats"])
    assert sentence.startswith("jp2 has no calibration of its own")
    assert read_results(output)[0].params["caveats"] == [sentence]  # read back as it was written
    plain = tmp_path / "s.csv"
    assert main(["predict", str(image), "--codec", "jpeg", "--jobs", "1", "-o", str(plain)]) == 0
    (row,) = list(csv.DictReader(plain.open(newline="")))
    assert row["caveats"] == "" and "caveats" not in read_results(plain)[0].params


def test_a_network_says_when_the_distance_is_beyond_those_it_was_trained_at() -> None:
    assert distance_caveats("SG-JND", 38.0, (38.0, 75.0)) == []
    assert distance_caveats("SG-JND", 60.0, (38.0, 75.0)) == []  # between its experts: interpolated, trained
    assert distance_caveats("SG-JND", 82.0, (38.0, 75.0)) == []  # within 10 %, as the training-free rule
    assert distance_caveats("VP-JNDnet", 200.0, (75.0, 38.0)) == [
        "The VP-JNDnet network was trained on labels at 38 and 75 ppd; at 200 ppd its PW-JND is an extrapolation, "
        "untested."]
    assert distance_caveats("SG-JND", 20.0, (38.0,))[0].startswith("The SG-JND network was trained on labels at 38 ppd")
    assert distance_caveats("SG-JND", 20.0, ()) == []  # nothing known of its training: no claim
