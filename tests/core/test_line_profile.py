"""The line profile's sampling: exact rows and columns, stretched maps, bilinear and nearest."""

from __future__ import annotations

import numpy as np
import pytest

from jndviewer.core.errors import JndViewerError
from jndviewer.core.line_profile import line_points, line_profile, sample


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.uniform(0, 255, (20, 30))


def test_a_horizontal_line_through_pixel_centres_returns_the_row(image) -> None:
    for method in ("bilinear", "nearest"):
        profile = line_profile((0.5, 7.5), (29.5, 7.5), {"a": image}, (30, 20), method=method)
        assert profile.values["a"].shape == (30,)
        np.testing.assert_allclose(profile.values["a"], image[7], atol=1e-9)
        np.testing.assert_allclose(profile.distance, np.arange(30.0))
        assert profile.length == pytest.approx(29.0)


def test_a_vertical_line_returns_the_column_backwards(image) -> None:
    profile = line_profile((12.5, 19.5), (12.5, 0.5), {"a": image}, (30, 20))
    np.testing.assert_allclose(profile.values["a"], image[::-1, 12], atol=1e-9)


def test_bilinear_between_pixels_and_nearest_picks_the_pixel() -> None:
    ramp = np.tile(np.array([0.0, 10.0, 20.0, 40.0]), (3, 1))
    x = np.array([1.0, 1.5, 2.25, 3.0, 3.9, 0.0])
    y = np.full_like(x, 1.5)
    np.testing.assert_allclose(sample(ramp, x, y), [5.0, 10.0, 17.5, 30.0, 40.0, 0.0])  # clamped at the border
    np.testing.assert_allclose(sample(ramp, x, y, method="nearest"), [10.0, 10.0, 20.0, 40.0, 40.0, 0.0])


def test_a_map_at_another_scale_is_stretched_over_the_image() -> None:
    half = np.arange(6.0).reshape(2, 3)  # a map at half the size of a 6 x 4 image
    x = np.array([1.0, 3.0, 5.0])  # the centres of the map's pixels, in image coordinates
    y = np.array([1.0, 1.0, 3.0])
    np.testing.assert_allclose(sample(half, x, y, image_size=(6, 4)), [0.0, 1.0, 5.0])
    np.testing.assert_allclose(sample(half, x, y, image_size=(6, 4), method="nearest"), [0.0, 1.0, 5.0])
    profile = line_profile((0.0, 1.0), (6.0, 1.0), {"map": half, "missing": None}, (6, 4))
    assert set(profile.values) == {"map"}
    assert profile.values["map"][0] == 0.0 and profile.values["map"][-1] == 2.0
    assert (np.diff(profile.values["map"]) >= 0).all()


def test_points_are_about_one_pixel_apart_ends_included() -> None:
    x, y, distance = line_points((0.0, 0.0), (30.0, 40.0))
    assert len(x) == 51 and (x[0], y[0]) == (0.0, 0.0) and (x[-1], y[-1]) == (30.0, 40.0)
    np.testing.assert_allclose(np.diff(distance), 1.0)
    assert len(line_points((2.0, 2.0), (2.0, 2.0))[0]) == 2  # a click without a drag: two points


def test_bad_input_is_one_sentence() -> None:
    with pytest.raises(JndViewerError, match="sampling"):
        sample(np.zeros((2, 2)), np.zeros(1), np.zeros(1), method="cubic")
    with pytest.raises(JndViewerError, match="2-D"):
        sample(np.zeros((2, 2, 4)), np.zeros(1), np.zeros(1))


def test_an_rgb_array_gives_its_luma() -> None:
    from jndviewer.core.image import LUMA_WEIGHTS, rgb_to_luma

    rng = np.random.default_rng(8)
    rgb = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    profile = line_profile((0.5, 4.5), (11.5, 4.5), {"A": rgb}, (12, 10))
    np.testing.assert_allclose(profile.values["A"], rgb_to_luma(rgb)[4], atol=1e-4)
    assert tuple(LUMA_WEIGHTS) == pytest.approx((0.299, 0.587, 0.114))
