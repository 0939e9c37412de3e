"""Visibility maps and their pooled scores, on inputs whose answers are known by hand."""

from __future__ import annotations

import math

import pytest
import torch

from jndviewer.core.errors import JndViewerError
from jndviewer.core.visibility.pixel import pool_visibility, pooled_score, visibility_map


def test_visibility_is_distortion_over_threshold() -> None:
    reference = torch.full((1, 1, 4, 4), 100.0)
    distorted = reference.clone()
    distorted[0, 0, 0, 0] = 106.0  # 6 / 3 = 2
    distorted[0, 0, 1, 1] = 97.0  # 3 / 3 = 1
    threshold = torch.full_like(reference, 3.0)
    v = visibility_map(reference, distorted, threshold)
    assert v[0, 0, 0, 0].item() == pytest.approx(2.0)
    assert v[0, 0, 1, 1].item() == pytest.approx(1.0)
    assert v.sum().item() == pytest.approx(3.0)


def test_zero_threshold_pixels_are_zero_not_infinite() -> None:
    reference = torch.zeros(1, 1, 3, 3)
    distorted = torch.ones(1, 1, 3, 3)
    threshold = torch.ones(1, 1, 3, 3)
    threshold[0, 0, 0, :] = 0.0
    v = visibility_map(reference, distorted, threshold)
    assert torch.isfinite(v).all()
    assert v[0, 0, 0].tolist() == [0.0, 0.0, 0.0]
    assert v[0, 0, 1:].eq(1.0).all()


def test_shape_mismatch_is_one_sentence() -> None:
    with pytest.raises(JndViewerError, match=r"same size.*\.$"):
        visibility_map(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5), torch.ones(1, 1, 4, 4))


def test_pooled_scores_by_hand() -> None:
    # 64 pixels: 16 at v = 2, 48 at v = 0.5.
    v = torch.full((1, 1, 8, 8), 0.5, dtype=torch.float64)
    v[0, 0, :2, :] = 2.0
    (scores,) = pool_visibility(v, minkowski_exponent=2.0, window=4)
    assert scores.fraction_visible == pytest.approx(16 / 64)
    assert scores.mean == pytest.approx((16 * 2 + 48 * 0.5) / 64)
    assert scores.minkowski == pytest.approx(math.sqrt((16 * 4 + 48 * 0.25) / 64))
    # The best 4x4 window covers the two rows at 2 and two rows at 0.5.
    assert scores.max_window_mean == pytest.approx((8 * 2 + 8 * 0.5) / 16)
    assert scores.window == 4


@pytest.mark.parametrize("shape", [(1, 1, 37, 23), (37, 23)])
def test_one_pooled_score_equals_the_full_pooling(shape: tuple[int, ...]) -> None:
    v = torch.rand(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float32) * 2.5
    (scores,) = pool_visibility(v, minkowski_exponent=2.0, window=8)
    options = {"minkowski_exponent": 2.0, "window": 8}
    assert pooled_score(v, "minkowski", **options) == pytest.approx(scores.minkowski, rel=1e-12)
    assert pooled_score(v, "max_window", **options) == pytest.approx(scores.max_window_mean, rel=1e-12)
    assert pooled_score(v, "fraction", **options) == scores.fraction_visible
    with pytest.raises(JndViewerError, match="Unknown pooling"):
        pooled_score(v, "median")


def test_minkowski_tends_to_max_for_large_exponent_without_overflow() -> None:
    v = torch.rand(1, 1, 32, 32, dtype=torch.float64) * 3
    v[0, 0, 5, 5] = 40.0
    (scores,) = pool_visibility(v, minkowski_exponent=400.0)
    assert math.isfinite(scores.minkowski)
    assert 40.0 * (1 / 1024) ** (1 / 400) <= scores.minkowski <= 40.0 + 1e-9


def test_window_larger_than_image_uses_whole_image() -> None:
    v = torch.arange(12, dtype=torch.float64).reshape(1, 1, 3, 4)
    (scores,) = pool_visibility(v, window=16)
    assert scores.window == 3
    assert scores.max_window_mean == pytest.approx(float(v[0, 0, :, 1:4].mean()))


def test_valid_mask_excludes_pixels() -> None:
    v = torch.ones(1, 1, 4, 4, dtype=torch.float64) * 2
    valid = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    valid[0, 0, :2] = True
    v[0, 0, 2:] = 0.0
    (scores,) = pool_visibility(v, valid=valid)
    assert scores.fraction_visible == pytest.approx(1.0)
    assert scores.mean == pytest.approx(2.0)


def test_batch_pools_each_image() -> None:
    v = torch.zeros(2, 1, 8, 8, dtype=torch.float64)
    v[1] = 3.0
    first, second = pool_visibility(v)
    assert first.fraction_visible == 0.0
    assert second.fraction_visible == 1.0
    assert second.max_window_mean == pytest.approx(3.0)


@pytest.mark.parametrize("kwargs", [{"minkowski_exponent": 0.0}, {"window": 0}])
def test_bad_pooling_parameters(kwargs: dict) -> None:
    with pytest.raises(JndViewerError):
        pool_visibility(torch.ones(1, 1, 4, 4), **kwargs)
