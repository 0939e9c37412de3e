"""The preview of very large images (core.preview): its factor, its box filter, its viewing condition, the region."""

from __future__ import annotations

import numpy as np
import pytest

from jndviewer.core import preview
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import FLICKER, ViewingCondition


def test_the_factor_is_the_smallest_integer_under_the_budget() -> None:
    assert preview.preview_factor(9000, 12000) == 3  # 108 MP -> 4000 x 3000 = 12 MP under 24 MP
    assert preview.preview_factor(4000, 6000) == 1  # exactly 24 MP: no preview
    assert preview.preview_factor(4500, 6000) == 2
    assert preview.preview_factor(900, 1200, max_pixels=500_000) == 2
    for height, width, budget in ((901, 1201, 500_000), (9001, 12001, 24_000_000), (17, 5000, 1000)):
        k = preview.preview_factor(height, width, budget)
        assert -(-height // k) * -(-width // k) <= budget < -(-height // (k - 1)) * -(-width // (k - 1))


def test_downscale_is_a_box_mean_with_partial_edge_blocks() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (7, 10, 3), dtype=np.uint8)
    small = preview.downscale(rgb, 3)
    assert small.shape == (3, 4, 3) and small.dtype == np.uint8 and not small.flags.writeable
    expected = rgb[:3, :3].reshape(-1, 3).mean(axis=0)
    assert np.abs(small[0, 0].astype(float) - expected).max() <= 0.5 + 1e-9
    edge = rgb[6:, 9:].reshape(-1, 3).mean(axis=0)  # the 1 x 1 corner block
    assert np.abs(small[2, 3].astype(float) - edge).max() <= 0.5 + 1e-9
    assert preview.downscale(rgb, 1) is rgb


def test_the_preview_is_seen_at_ppd_over_k_and_refused_below_the_range() -> None:
    condition = ViewingCondition(ppd=38.0, task=FLICKER)
    assert preview.preview_condition(condition, 1) is condition
    scaled = preview.preview_condition(condition, 2)
    assert scaled.ppd == 19.0 and scaled.task == FLICKER
    with pytest.raises(JndViewerError, match=r"1/3 scale would be seen at 3\.33 ppd.*at least 15 ppd") as err:
        preview.preview_condition(ViewingCondition(ppd=10.0), 3)
    assert "\n" not in str(err.value)
    assert preview.scale_words(1) == "full resolution"
    assert preview.scale_words(3, 38.0) == "preview at 1/3 scale, 12.7 ppd"


def test_the_full_resolution_cache_holds_two_rungs() -> None:
    limit = preview.full_resolution_cache_megabytes(9000, 12000) * 2**20
    rung = 3 * 9000 * 12000  # decoded pixels alone
    assert 2 * rung < limit < 3 * rung


def test_the_visible_region_is_clamped_grown_and_bounded() -> None:
    assert preview.visible_region(-10, -10, 300, 200, 900, 1200) == (0, 0, 290, 190)
    # 60 high with the margin: grown to 64 about its middle
    assert preview.visible_region(100, 100, 50, 40, 900, 1200, margin=10) == (90, 88, 70, 64)
    assert preview.visible_region(1190, 890, 100, 100, 900, 1200) == (1136, 836, 64, 64)  # grown inside the image
    assert preview.visible_region(1300, 0, 10, 10, 900, 1200) is None
    x, y, w, h = preview.visible_region(0, 0, 1200, 900, 900, 1200, max_pixels=100_000)
    assert w * h <= 100_000 and abs(x + w / 2 - 600) <= 1 and abs(y + h / 2 - 450) <= 1


def test_a_preview_ladder_holds_the_full_resolution_encodes_reduced() -> None:
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.ladder import Ladder

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (90, 121, 3), dtype=np.uint8)
    small = preview.downscale(rgb, 3)
    with Ladder(rgb, create_codec("jpeg"), prefetch_radius=0) as full:
        encodes = preview.ReducedEncodes(full, 3)
        assert encodes.name == "jpeg" and encodes.family == "jpeg" and encodes.rate_shape == (90, 121)
        with Ladder(small, encodes, prefetch_radius=0) as reduced:
            rung = reduced.rung(40)
            assert full.cached_levels() == ()  # encoded at full size, not kept there
            source = full.rung(40)
            assert rung.data == source.data and rung.nbytes == source.nbytes
            assert rung.bpp == source.bpp == 8 * source.nbytes / (90 * 121)  # over the full image's pixels
            np.testing.assert_array_equal(rung.decoded, preview.downscale(source.decoded, 3))
            assert rung.decoded.shape == small.shape
            assert reduced.codec.ordered_worst_to_best() == full.codec.ordered_worst_to_best()
            assert reduced.rung(60) is not None and full.cached_levels() == (40,)
            shown = full.rung(80)  # a level the full ladder holds (the level shown) is taken from it
            assert reduced.rung(80).data is shown.data
