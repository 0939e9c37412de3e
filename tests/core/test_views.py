"""What the explorer shows, computed without Qt (``core.views``): JND maps at the viewing condition, visibility and
difference pictures, the rate curve's levels, and any registered predictor's prediction or why it cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jndviewer.core import views
from jndviewer.core.codecs import create_codec
from jndviewer.core.ladder import Ladder
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityPredictor
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.pwjnd.sgjnd import predictor as sgjnd_predictor
from jndviewer.core.viewing import ViewingCondition
from tests.toy_predictor import noisy_rgb


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return noisy_rgb()


def test_curve_levels_subsample_slow_codecs() -> None:
    jpeg = create_codec("jpeg")
    assert views.curve_levels(jpeg) == list(range(1, 101))
    avif = create_codec("avif")
    levels = views.curve_levels(avif)
    ordered = list(avif.ordered_worst_to_best())
    assert len(levels) <= views.SLOW_CODEC_POINTS + 1
    assert levels[0] == ordered[0] and levels[-1] == ordered[-1]
    assert views.default_level(tuple(range(1, 101))) == 75
    # a slow codec opens on the swept level nearest three quarters (AVIF: 76 of 1, 6, ..., 96, 100), so that the
    # first readout has its PSNR and pooled score
    assert 75 not in levels and views.default_level(tuple(ordered), levels) == 76
    assert views.default_level(tuple(range(1, 101)), list(range(1, 101))) == 75


def test_the_jnd_map_is_the_predictors_view_at_the_condition(rgb: np.ndarray) -> None:
    params = views.predictor_params(jnd_model="chou1995", pooling="max_window", threshold=1.5)
    near = views.compute_jnd(rgb, params, ViewingCondition(params.model_ppd), device="cpu")
    far = views.compute_jnd(rgb, params, ViewingCondition(2 * params.model_ppd), device="cpu")
    assert near.scale == 1.0 and near.threshold.shape == rgb.shape[:2]
    assert far.scale == 0.5 and far.threshold.shape == (48, 64)  # seen from twice as far: half the pixels
    assert set(near.components) == {"luminance_adaptation", "contrast_masking"} and near.model == "chou1995"
    decoded = create_codec("jpeg").encode(rgb, 20).decoded
    view = views.visibility_view(20, decoded, far)
    # the picture's score is the one the predictor decides on at that condition
    predictor = PooledVisibilityPredictor(params, condition=ViewingCondition(2 * params.model_ppd))
    assert view.score == pytest.approx(predictor.scorer(rgb).score(decoded), rel=1e-9)
    assert view.colors.shape == (48, 64, 3) and view.colors.dtype == np.uint8


def test_difference_and_colour_pictures() -> None:
    a = np.zeros((2, 2, 3), np.uint8)
    b = np.full((2, 2, 3), 3, np.uint8)
    assert (views.difference_image(a, b, 8.0) == 24).all() and (views.difference_image(a, b, 100.0) == 255).all()
    colors, low, high = views.colorize(np.array([[0.0, 1.0], [2.0, 4.0]]))
    assert colors.shape == (2, 2, 3) and low == 0.0 and 3.9 < high <= 4.0


def test_run_prediction_of_any_predictor_or_why_it_cannot_run(rgb, tmp_path: Path, monkeypatch) -> None:
    with Ladder(rgb, create_codec("jpeg")) as ladder:
        result = views.run_prediction("visibility", rgb, ladder, options={"threshold": 1.0},
                                      condition=ViewingCondition(20.0), label="noisy")  # fmt: skip
        assert (result.predictor, result.image, result.condition["ppd"]) == ("visibility", "noisy", 20.0)
        assert result.params["threshold"] == 1.0
        monkeypatch.setattr(sgjnd_predictor, "DEFAULT_WEIGHTS", tmp_path / "none.pt")
        missing = views.run_prediction("sgjnd", rgb, ladder)
        assert missing == views.Unavailable("sgjnd", "The SG-JND weights (none.pt) have not been trained yet.")
        assert views.patch_report(None, 20, rgb, rgb, "jpeg", ViewingCondition()) == missing
        assert PREDICTORS["sgjnd"].weights_status() == (False, missing.reason)


def test_the_explorers_first_map_of_a_small_image_does_not_load_the_compiled_kernels(tmp_path: Path) -> None:
    """Loading numba and the kernels' cache takes about half a second, ten times the torch path's whole map at this
    size: the explorer's JND map follows the one-map rule of ``jndviewer map`` (``compiled.worth_loading``)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys, numpy as np; from jndviewer.core.views import compute_jnd; "
        "from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams; "
        "from jndviewer.core.viewing import ViewingCondition; "
        "rgb = (np.arange(96 * 128 * 3) % 251).astype(np.uint8).reshape(96, 128, 3); "
        "result = compute_jnd(rgb, PooledVisibilityParams(), ViewingCondition(38.0), pixel_model='wu2017'); "
        "print(result.threshold.shape, 'jndviewer.core.jnd.kernels' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "JNDVIEWER_KERNELS"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split("\n")[-2] == "(96, 128) False"
