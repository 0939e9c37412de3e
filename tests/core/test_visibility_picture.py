"""The visibility view's picture: the scale keeps most of the colour bar near the threshold, the picture over the
luma is the luma where nothing is visible, and the header names the model, the ppd and the task."""

from __future__ import annotations

import numpy as np
import pytest

from jndviewer.core.colormap import VISIBILITY_RANGE, lookup_table, visibility_colors, visibility_position
from jndviewer.core.visibility_picture import (
    colorbar_label,
    colorbar_table,
    overlay_color,
    overlay_weight,
    resize_luma,
    share_of_bar,
    ticks,
    visibility_header,
    visibility_over_luma,
    visibility_subject,
)


def test_one_is_the_middle_of_the_scale_and_its_colour() -> None:
    assert visibility_position(np.array([1.0]))[0] == pytest.approx(0.5)
    assert (visibility_colors(np.array([1.0]))[0] == lookup_table("diverging")[128]).all()
    np.testing.assert_allclose(visibility_position(np.array([0.5, 2.0, 0.125, 8.0])), [0.2, 0.8, 0.0, 1.0])
    # beyond the ends: the end positions; 0 and NaN: the bottom
    np.testing.assert_allclose(visibility_position(np.array([100.0, 0.01, 0.0, np.nan])), [1.0, 0.0, 0.0, 0.0])


def test_scale_is_monotone_and_symmetric_in_log() -> None:
    ratios = np.geomspace(0.01, 100.0, 2001)
    positions = visibility_position(ratios)
    assert (np.diff(positions) >= 0).all() and positions[0] == 0.0 and positions[-1] == 1.0
    inside = (ratios > VISIBILITY_RANGE[0]) & (ratios < VISIBILITY_RANGE[1])
    assert (np.diff(positions[inside]) > 0).all()  # strictly rising between the ends
    np.testing.assert_allclose(visibility_position(1.0 / ratios), 1.0 - positions, atol=1e-12)


def test_the_octave_either_side_of_the_threshold_takes_most_of_the_bar() -> None:
    near = share_of_bar(0.5, 2.0)
    assert near == pytest.approx(0.6)
    low, high = VISIBILITY_RANGE
    linear = (2.0 - 0.5) / (high - low)
    log = 2.0 / np.log2(high / low)  # a plain log2 scale over the same range
    assert near > log > linear
    # each octave further from 1 takes less of the bar than the one before
    shares = [share_of_bar(2.0**k, 2.0 ** (k + 1)) for k in range(0, 3)]
    assert shares[0] > shares[1] > shares[2] > 0


def test_ticks_sit_on_the_scale_and_the_bar_says_what_one_means() -> None:
    marks = dict((label, position) for position, label in ticks())
    assert list(marks) == ["⅛", "¼", "½", "1", "2", "4", "8"]
    assert marks["1"] == pytest.approx(0.5) and marks["½"] == pytest.approx(0.2) and marks["2"] == pytest.approx(0.8)
    assert marks["⅛"] == 0.0 and marks["8"] == 1.0
    assert colorbar_label("|distortion| / JND") == "|distortion| / JND · 1 = threshold"


def test_over_luma_is_the_luma_where_nothing_is_visible() -> None:
    luma = np.tile(np.linspace(0, 255, 40, dtype=np.float32), (30, 1))
    picture = visibility_over_luma(np.full((30, 40), 1e-3), luma)
    assert picture.shape == (30, 40, 3) and picture.dtype == np.uint8
    expected = np.rint(luma).astype(np.uint8)
    for channel in range(3):
        np.testing.assert_array_equal(picture[..., channel], expected)
    # as low as the bottom of the scale (1/8) it is still the luma alone
    np.testing.assert_array_equal(visibility_over_luma(np.full((30, 40), 0.125), luma)[..., 1], expected)


def test_over_luma_colours_where_visible() -> None:
    luma = np.full((4, 6), 128.0, np.float32)
    values = np.array([[0.05, 0.5, 1.0, 2.0, 8.0, 50.0]] * 4)
    picture = visibility_over_luma(values, luma).astype(int)
    gray, half, one, two, eight, fifty = picture[0]
    assert gray.tolist() == [128, 128, 128]
    weights = overlay_weight(visibility_position(values[0]))
    assert (np.diff(weights) >= 0).all() and weights[0] == 0.0 and weights[-1] == 1.0
    # the blend's formula at v = 1 (weight 0.8, yellow scaled by 0.45 + 0.55 * 128 / 255)
    tint = overlay_color(np.array(0.5)) * (0.45 + 0.55 * 128 / 255)
    assert one.tolist() == np.rint(0.2 * 128 + 0.8 * tint).astype(int).tolist()
    assert one[0] > one[2] + 40 and one[1] > one[2] + 40  # yellow: red and green well over blue
    assert eight[0] > 2 * eight[1] and eight[0] > 2 * eight[2]  # red
    assert (eight == fifty).all()  # saturated beyond the top of the scale
    assert half[2] > half[0]  # a bluish tint below the threshold
    assert two[0] > two[1] > two[2]  # orange at 2
    assert abs(half - 128).max() < abs(one - 128).max() < abs(eight - 128).max() + 60  # colour grows with v


def test_over_luma_follows_the_structure_of_the_luma() -> None:
    luma = np.array([[20.0, 230.0]], np.float32)
    picture = visibility_over_luma(np.array([[4.0, 4.0]]), luma).astype(int)
    assert picture[0, 1].sum() > 1.8 * picture[0, 0].sum()  # the same red, brighter where the image is bright
    assert picture[0, 0][0] > 2 * picture[0, 0][1] and picture[0, 1][0] > 2 * picture[0, 1][1]  # red on both


def test_luma_is_resized_to_the_map() -> None:
    luma = np.arange(12, dtype=np.float32).reshape(3, 4) * 10
    assert resize_luma(luma, (3, 4)) is not None and np.array_equal(resize_luma(luma, (3, 4)), luma)
    double = resize_luma(np.array([[0.0, 100.0]], np.float32), (1, 4))
    np.testing.assert_allclose(double[0], [0.0, 25.0, 75.0, 100.0])
    picture = visibility_over_luma(np.zeros((6, 8)), luma)
    assert picture.shape == (6, 8, 3)


def test_colorbar_tables() -> None:
    np.testing.assert_array_equal(colorbar_table(False), lookup_table("diverging"))
    table = colorbar_table(True).astype(int)
    assert table.shape == (256, 3)
    assert table[0].tolist() == [128, 128, 128]  # the bottom of the scale: gray
    assert table[255][0] > 2 * table[255][1]  # the top: red


def test_header_names_the_model_and_the_ppd_of_a_map_for_both_tasks() -> None:
    subject = visibility_subject(subband=True, pixel_model="wu2017", ppd=38.0)
    assert subject == "subband model · 38 ppd · both tasks"  # the map is the same for either task
    subject = visibility_subject(subband=False, pixel_model="wu2017", ppd=60.5)
    assert subject == "wu2017 JND model · 60.5 ppd · both tasks"
    header = visibility_header("|distortion| / JND", subject, " · preview at 1/3 scale", False, "B · jpeg quality 20")
    assert "wu2017" in header and "60.5 ppd" in header and "both tasks" in header and "preview at 1/3" in header
    assert "blue" in header and header.endswith("B · jpeg quality 20")
    assert "luma" in visibility_header("m", subject, "", True, "B")


def test_header_before_a_map_has_no_empty_subject() -> None:
    assert visibility_header("|distortion| / JND", "", "", False, "B").startswith("Visibility |distortion| / JND (")
