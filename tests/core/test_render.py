"""Colour maps and map files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from jndviewer.core.colormap import apply_colormap, lookup_table, visibility_colors, visibility_position
from jndviewer.core.errors import JndViewerError
from jndviewer.core.render import colorbar_image, nice_ticks, save_map


@pytest.mark.parametrize("name", ["inferno", "viridis", "diverging"])
def test_tables_have_256_colours(name: str) -> None:
    lut = lookup_table(name)
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert len({tuple(c) for c in lut}) > 200  # a real gradient, not a constant


def test_inferno_runs_dark_to_bright() -> None:
    lut = lookup_table("inferno").astype(int)
    assert lut[0].sum() < 30 and lut[-1].sum() > 600


def test_apply_colormap_ends_and_clipping() -> None:
    rgb = apply_colormap(np.array([[-5.0, 0.0, 10.0, 99.0]]), 0.0, 10.0, "viridis")
    lut = lookup_table("viridis")
    assert (rgb[0, 0] == lut[0]).all() and (rgb[0, 1] == lut[0]).all()
    assert (rgb[0, 2] == lut[255]).all() and (rgb[0, 3] == lut[255]).all()


def test_visibility_scale_is_centred_at_one() -> None:
    positions = visibility_position(np.array([0.125, 0.5, 1.0, 2.0, 8.0, 100.0, 0.0]))
    np.testing.assert_allclose(positions, [0.0, 0.2, 0.5, 0.8, 1.0, 1.0, 0.0])  # most of the bar near 1
    colours = visibility_colors(np.array([0.5, 1.0, 2.0])).astype(int)
    below, at_one, above = colours
    assert below[2] > below[0]  # blue side
    assert above[0] > above[2]  # red side
    assert at_one.min() > 200  # near white


def test_nice_ticks() -> None:
    assert nice_ticks(0.0, 20.0) == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert nice_ticks(0.0, 1.0, 3) == [0.0, 0.5, 1.0]


def test_save_map_formats_roundtrip(tmp_path) -> None:
    values = np.linspace(0, 12, 30 * 40, dtype=np.float32).reshape(30, 40)
    npy = save_map(values, tmp_path / "m.npy")
    np.testing.assert_array_equal(np.load(npy), values)
    tif = save_map(values, tmp_path / "m.tif")
    np.testing.assert_array_equal(np.asarray(Image.open(tif)), values)
    png = save_map(values, tmp_path / "sub" / "m.png", vmax=12.0)
    picture = Image.open(png)
    assert picture.mode == "RGB" and picture.width > 40 and picture.height >= 30


def test_png_colours_follow_values() -> None:
    values = np.zeros((40, 60))
    values[:, 30:] = 10.0
    canvas = np.asarray(colorbar_image(values, vmin=0.0, vmax=10.0, title="t"))
    lut = lookup_table("inferno")
    rows = [r for r in range(canvas.shape[0]) if (canvas[r, 5] == lut[0]).all()]
    assert rows, "map not found in the canvas"
    r = rows[0] + 5
    assert (canvas[r, 10] == lut[0]).all() and (canvas[r, 50] == lut[255]).all()


def test_save_map_rejects_unknown_suffix(tmp_path) -> None:
    with pytest.raises(JndViewerError, match=r"\.png.*\.$"):
        save_map(np.zeros((4, 4)), tmp_path / "m.jpg")
    with pytest.raises(JndViewerError):
        lookup_table("rainbow")
