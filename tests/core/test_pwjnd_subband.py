"""The subband visibility model of the training-free predictor (jndviewer.core.visibility.subband), its calibration."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from jndviewer.core.assets import calibration_file
from jndviewer.core.codecs import create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd import calibration
from jndviewer.core.pwjnd.pooled_visibility import PooledVisibilityParams, PooledVisibilityPredictor
from jndviewer.core.viewing import ViewingCondition
from jndviewer.core.visibility.scorer import VisibilityScorer
from jndviewer.core.visibility.subband import (
    SubbandParams,
    SubbandVisibility,
    band_contrasts,
    band_count,
    display_luminance,
)


def luma(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None, None]


def flat(value: float = 128.0, size: int = 128) -> np.ndarray:
    return np.full((size, size), value)


def grating(cycles_per_pixel: float, amplitude: float, size: int = 128) -> np.ndarray:
    x = np.arange(size)
    return np.tile(amplitude * np.sin(2 * math.pi * cycles_per_pixel * x), (size, 1))


def textured(size: int = 128, seed: int = 0) -> np.ndarray:
    return np.clip(128.0 + 40.0 * np.random.default_rng(seed).standard_normal((size, size)), 0, 255)


def mean_visibility(reference: np.ndarray, distorted: np.ndarray, ppd: float = 38.0) -> float:
    return float(SubbandVisibility(luma(reference), ViewingCondition(ppd)).visibility(luma(distorted)).mean())


def test_display_luminance_is_cvvdps_standard_fhd() -> None:
    values = display_luminance(luma(np.array([[0.0, 255.0, 127.5]])), SubbandParams())[0, 0, 0]
    assert values[0].item() == pytest.approx(0.598)
    assert values[1].item() == pytest.approx(200.0)
    assert values[2].item() == pytest.approx(0.598 + (200 - 0.598) * 0.5**2.2, rel=1e-5)


def test_band_contrast_of_a_flat_image_is_zero_and_bands_shrink() -> None:
    contrasts, means = band_contrasts(torch.full((1, 1, 64, 48), 50.0), 4)
    assert [tuple(c.shape[-2:]) for c in contrasts] == [(64, 48), (32, 24), (16, 12), (8, 6)]
    assert all(float(c.abs().max()) < 1e-6 for c in contrasts)
    assert all(torch.allclose(m, torch.tensor(50.0)) for m in means)
    assert band_count(481, 321, 38.0, 1.0) == 5 and band_count(768, 512, 75.0, 1.0) == 6
    assert band_count(40, 40, 38.0, 1.0) == 3 and band_count(3, 3, 38.0, 1.0) == 1


def test_the_sensitivity_is_a_band_pass_peaking_at_its_peak_frequency() -> None:
    model = SubbandVisibility(luma(flat()), ViewingCondition(8.0))  # band k is centred on 8 / 2^(k+1) cpd: 4, 2, ...
    assert model.band_frequency(0) == 4.0
    assert model.band_sensitivity(0) == pytest.approx(300.0)  # at f_peak = 4 cpd
    model = SubbandVisibility(luma(flat()), ViewingCondition(16.0))
    assert model.band_sensitivity(0) == pytest.approx(300.0 * 2.0 * math.exp(-1.0))  # 8 cpd
    assert model.band_sensitivity(1) == pytest.approx(300.0)
    factor = model.luminance_factor(torch.tensor([100.0, 0.598]))
    assert factor.tolist() == pytest.approx([math.sqrt(0.5), math.sqrt(0.598 / 100.598)], rel=1e-6)


def test_no_distortion_is_invisible_and_visibility_grows_with_the_distortion() -> None:
    reference = textured()
    noise = np.random.default_rng(1).standard_normal(reference.shape)
    assert mean_visibility(reference, reference) == 0.0
    small, double = (mean_visibility(reference, reference + a * noise) for a in (1.0, 2.0))
    assert 0 < small < double
    assert double / small == pytest.approx(2.0, rel=0.08)  # nearly linear for small distortions (beta = 1)


def test_gratings_are_most_visible_near_the_csf_peak() -> None:
    reference = flat()
    # At 38 ppd, 4 cpd is 0.105 cycles per pixel; 0.45 cycles per pixel is 17 cpd.
    peak, fine = (mean_visibility(reference, reference + grating(f, 2.0)) for f in (4.0 / 38.0, 0.45))
    assert peak > 3 * fine


def test_a_fine_distortion_fades_when_viewed_from_further_away() -> None:
    reference = textured(seed=2)
    distorted = reference + grating(0.3, 3.0)
    near, far = (mean_visibility(reference, distorted, ppd) for ppd in (20.0, 80.0))
    assert far < 0.5 * near


def test_texture_masks_the_same_distortion() -> None:
    noise = 3.0 * np.random.default_rng(3).standard_normal((128, 128))
    on_flat = mean_visibility(flat(), flat() + noise)
    on_texture = mean_visibility(textured(seed=4), textured(seed=4) + noise)
    assert on_texture < 0.5 * on_flat


def test_dark_regions_hide_the_same_gray_level_distortion_less_than_a_pure_weber_model_would() -> None:
    # Weber contrast alone would make +3 levels at gray 20 far more visible than at 128 (L ~ y^2.2); the loss of
    # sensitivity at low luminance pulls the two together.
    noise = 3.0 * np.random.default_rng(5).standard_normal((128, 128))
    dark, mid = (mean_visibility(flat(v), flat(v) + noise) for v in (20.0, 128.0))
    weber_only = SubbandParams(adaptation_luminance=0.0)
    dark_weber, mid_weber = (
        float(
            SubbandVisibility(luma(flat(v)), ViewingCondition(), weber_only).visibility(luma(flat(v) + noise)).mean()
        )
        for v in (20.0, 128.0)
    )
    assert dark / mid < 0.5 * (dark_weber / mid_weber)


def test_a_batch_scores_each_image_as_if_alone() -> None:
    references = [textured(seed=1), flat(90.0), textured(seed=2)]
    distorted = [r + 6.0 * np.random.default_rng(9 + i).standard_normal(r.shape) for i, r in enumerate(references)]
    batch = SubbandVisibility(torch.cat([luma(r) for r in references]), ViewingCondition())
    together = batch.visibility(torch.cat([luma(d) for d in distorted]))
    assert together.shape == (3, 1, 128, 128)
    for index, (reference, version) in enumerate(zip(references, distorted, strict=True)):
        alone = SubbandVisibility(luma(reference), ViewingCondition()).visibility(luma(version))
        torch.testing.assert_close(together[index : index + 1], alone, rtol=1e-5, atol=1e-6)
    assert float(together[1].mean()) != pytest.approx(float(together[0].mean()), rel=0.05)


def test_bad_inputs_are_one_sentence_errors() -> None:
    model = SubbandVisibility(luma(flat()), ViewingCondition())
    with pytest.raises(JndViewerError, match="does not match"):
        model.visibility(luma(flat(size=64)))
    with pytest.raises(JndViewerError, match="pixels per degree"):
        SubbandVisibility(luma(flat()), ViewingCondition(0.0))
    with pytest.raises(JndViewerError, match="N x 1 x H x W"):
        SubbandVisibility(torch.zeros(1, 2, 16, 16), ViewingCondition())
    with pytest.raises(JndViewerError, match="does not match"):
        SubbandVisibility(torch.zeros(2, 1, 16, 16), ViewingCondition()).visibility(torch.zeros(1, 1, 16, 16))
    rgb = np.zeros((32, 32, 3), dtype=np.uint8)
    with pytest.raises(JndViewerError, match="out of range"):
        VisibilityScorer(rgb, PooledVisibilityParams(jnd_model="subband"), ViewingCondition(2.0))


def test_the_scorer_uses_the_image_at_its_own_size_and_pools_the_subband_map() -> None:
    rgb = np.repeat(textured(96, seed=6)[..., None], 3, axis=2).astype(np.uint8)
    params = PooledVisibilityParams(jnd_model="subband", model_ppd=13.3, minkowski_exponent=1.0)
    scorer = VisibilityScorer(rgb, params, ViewingCondition(38.0))
    assert scorer.scale == 1.0 and tuple(scorer.reference.shape) == (1, 1, 96, 96)
    decoded = create_codec("jpeg").encode(rgb, 20).decoded
    assert scorer.score(decoded) == pytest.approx(float(scorer.visibility(decoded).mean()), rel=1e-5)


def test_the_subband_predictor_answers_with_the_viewing_condition() -> None:
    rng = np.random.default_rng(7)
    base = np.clip(128 + 50 * np.sin(np.arange(128) / 9.0)[None, :] + 5 * rng.standard_normal((128, 128)), 0, 255)
    rgb = np.repeat(base[..., None], 3, axis=2).astype(np.uint8)
    codec = create_codec("jpeg")
    levels = {
        ppd: PooledVisibilityPredictor(
            PooledVisibilityParams(jnd_model="subband", minkowski_exponent=1.0, threshold=1.0),
            condition=ViewingCondition(ppd),
        )
        .predict(rgb, codec)
        .level
        for ppd in (10.0, 38.0, 150.0)
    }
    # Seen from further away, compression becomes invisible at lower quality.
    assert levels[10.0] > levels[38.0] > levels[150.0]


def test_calibration_merges_models_and_picks_the_default_over_all(tmp_path: Path) -> None:
    thresholds = {
        "chou1995": {"max_window:32@13.3": {"threshold": 0.5, "mae": 4.4, "bias": 0.0, "images": 9}},
        "subband": {"minkowski:1@38": {"threshold": 2.0, "mae": 1.9, "bias": 0.1, "images": 9}},
    }
    assert calibration.default_variant(thresholds, 38.0) == {
        "jnd_model": "subband",
        "pooling": "minkowski",
        "ppd": 38.0,
        "model_ppd": 38.0,
        "minkowski_exponent": 1.0,
    }
    assert calibration.parse_variant_key("fraction@19") == ("fraction", 0.0, 19.0)
    assert calibration.parse_variant_key("max_window:8@26.6") == ("max_window", 8.0, 26.6)
    for key in ("minkowski:4@13.3", "max_window:16@38", "fraction@26.6"):
        assert calibration.variant_key(*calibration.parse_variant_key(key)) == key


def test_the_shipped_default_is_the_subband_model_and_beats_a_constant_on_the_training_labels() -> None:
    shipped = json.loads(calibration_file().read_text())
    default = shipped["default"]
    assert default["jnd_model"] == "subband"
    fit = shipped["thresholds"]["subband"][f"minkowski:{default['minkowski_exponent']:g}@{default['model_ppd']:g}"]
    assert fit["mae"] < shipped["baseline_constant_mae"]
    for codec in ("webp", "avif"):
        assert "subband" in shipped["codec_thresholds"][codec]
