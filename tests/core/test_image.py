"""Tests of jndviewer.core.image: every fixture is written into tmp_path by the test itself."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import ExifTags, ImageCms, ImageOps, features
from PIL import Image as PilImage

import jndviewer.core.image as image_module
import jndviewer.core.image.decode as decode_module
from jndviewer.core.errors import ImageLoadError
from jndviewer.core.image import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    LUMA_WEIGHTS,
    Image,
    from_array,
    load,
    luma_tensor,
    rgb_to_luma,
)

ORIENTATION = ExifTags.Base.Orientation


# --------------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------------


def random_rgb8(height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def smooth_rgb8(height: int = 48, width: int = 64) -> np.ndarray:
    """Gentle gradients, which lossy codecs reproduce closely."""
    rows = np.linspace(0, 1, height)[:, None]
    cols = np.linspace(0, 1, width)[None, :]
    red = 40 + 170 * cols + 0 * rows
    green = 60 + 120 * rows + 0 * cols
    blue = 200 - 100 * (rows + cols) / 2
    return np.rint(np.stack([red, green, blue], axis=-1)).astype(np.uint8)


def write_pil(tmp_path: Path, name: str, pil_image: PilImage.Image, **save_options: object) -> Path:
    path = tmp_path / name
    pil_image.save(path, **save_options)
    return path


def png_with_exif_chunk(png_bytes: bytes, exif_payload: bytes) -> bytes:
    """Insert an eXIf chunk right after IHDR (whose chunk ends at byte 33)."""
    payload = exif_payload.removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload) & 0xFFFFFFFF)
    return png_bytes[:33] + chunk + png_bytes[33:]


def assert_one_sentence_naming(err: ImageLoadError, file_name: str) -> None:
    message = str(err)
    assert file_name in message
    assert "\n" not in message
    assert message.endswith(".")


def heif_available() -> bool:
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------------------------------


def test_png_rgb8_round_trip_is_exact(tmp_path: Path) -> None:
    rgb = random_rgb8()
    path = write_pil(tmp_path, "rgb.png", PilImage.fromarray(rgb))

    image = load(path)

    assert image.pixels.dtype == np.uint8
    assert image.pixels.shape == (24, 32, 3)
    np.testing.assert_array_equal(image.pixels, rgb)
    assert (image.format, image.source_mode, image.bit_depth, image.had_alpha) == ("PNG", "RGB", 8, False)
    assert image.path == path
    assert (image.width, image.height, image.size, image.n_pixels) == (32, 24, (32, 24), 768)
    assert image.icc_profile is None
    assert image.exif is None


def test_pixels_are_read_only_and_contiguous(tmp_path: Path) -> None:
    image = load(write_pil(tmp_path, "rgb.png", PilImage.fromarray(random_rgb8())))

    assert image.pixels.flags.c_contiguous
    assert not image.pixels.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        image.pixels[0, 0, 0] = 1


def test_png_gray16_keeps_uint16_and_rgb_float_divides_by_257(tmp_path: Path) -> None:
    gray = np.array([[0, 257, 1000], [30000, 65534, 65535]], dtype=np.uint16)
    path = write_pil(tmp_path, "gray16.png", PilImage.fromarray(gray))
    assert PilImage.open(path).mode == "I;16"

    image = load(path)

    assert image.pixels.dtype == np.uint16
    assert (image.bit_depth, image.source_mode) == (16, "I;16")
    for channel in range(3):
        np.testing.assert_array_equal(image.pixels[..., channel], gray)
    np.testing.assert_allclose(image.rgb_float()[..., 1], gray / 257.0, rtol=0, atol=1e-4)
    assert image.rgb_float().dtype == np.float32
    np.testing.assert_array_equal(image.rgb8()[..., 0], [[0, 1, 4], [117, 255, 255]])


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_rgb16_keeps_uint16_values(tmp_path: Path, suffix: str) -> None:
    import imagecodecs

    rgb16 = np.random.default_rng(1).integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    encode = imagecodecs.png_encode if suffix == "png" else imagecodecs.tiff_encode
    path = tmp_path / f"rgb16.{suffix}"
    path.write_bytes(encode(rgb16))

    image = load(path)

    assert image.pixels.dtype == np.uint16
    assert (image.bit_depth, image.source_mode, image.had_alpha) == (16, "RGB", False)
    np.testing.assert_array_equal(image.pixels, rgb16)
    np.testing.assert_allclose(image.rgb_float(), rgb16 / 257.0, rtol=0, atol=1e-3)
    np.testing.assert_array_equal(image.rgb8(), np.rint(rgb16 * 255.0 / 65535.0).astype(np.uint8))


def test_rgba16_png_is_composited_over_white_at_16_bits(tmp_path: Path) -> None:
    import imagecodecs

    rgba16 = np.array([[[65535, 0, 1000, 65535], [0, 0, 0, 0], [0, 65535, 0, 32768]]], dtype=np.uint16)
    path = tmp_path / "rgba16.png"
    path.write_bytes(imagecodecs.png_encode(rgba16))

    image = load(path)

    assert image.pixels.dtype == np.uint16
    assert image.had_alpha
    np.testing.assert_array_equal(image.pixels[0, 0], [65535, 0, 1000])  # opaque: unchanged
    np.testing.assert_array_equal(image.pixels[0, 1], [65535, 65535, 65535])  # transparent: white
    np.testing.assert_array_equal(image.pixels[0, 2], [32767, 65535, 32767])  # half: round(65535 * 32767 / 65535)


def test_jpeg_is_close_to_the_original(tmp_path: Path) -> None:
    rgb = smooth_rgb8()
    path = write_pil(tmp_path, "smooth.jpg", PilImage.fromarray(rgb), quality=95)

    image = load(path)

    assert (image.format, image.pixels.dtype, image.pixels.shape) == ("JPEG", np.uint8, rgb.shape)
    assert np.abs(image.pixels.astype(int) - rgb).mean() < 2.0


def test_webp_lossless_is_exact(tmp_path: Path) -> None:
    rgb = random_rgb8()
    path = write_pil(tmp_path, "lossless.webp", PilImage.fromarray(rgb), lossless=True)

    image = load(path)

    assert image.format == "WEBP"
    np.testing.assert_array_equal(image.pixels, rgb)


@pytest.mark.parametrize(("name", "expected_format"), [("plain.tif", "TIFF"), ("plain.bmp", "BMP")])
def test_tiff_and_bmp_are_exact(tmp_path: Path, name: str, expected_format: str) -> None:
    rgb = random_rgb8(seed=3)
    image = load(write_pil(tmp_path, name, PilImage.fromarray(rgb)))

    assert image.format == expected_format
    np.testing.assert_array_equal(image.pixels, rgb)


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow build has no AVIF support")
def test_avif_lossy_is_close_to_the_original(tmp_path: Path) -> None:
    rgb = smooth_rgb8()
    path = write_pil(tmp_path, "smooth.avif", PilImage.fromarray(rgb), quality=90)

    image = load(path)

    assert (image.format, image.pixels.dtype, image.pixels.shape) == ("AVIF", np.uint8, rgb.shape)
    assert np.abs(image.pixels.astype(int) - rgb).max() <= 8


@pytest.mark.skipif(not heif_available(), reason="pillow_heif is not installed")
def test_heif_is_close_to_the_original(tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    rgb = smooth_rgb8()
    path = write_pil(tmp_path, "smooth.heic", PilImage.fromarray(rgb), format="HEIF", quality=90)

    image = load(path)

    assert (image.format, image.pixels.shape) == ("HEIF", rgb.shape)
    assert np.abs(image.pixels.astype(int) - rgb).max() <= 8


# --------------------------------------------------------------------------------------------------------------------
# Orientation
# --------------------------------------------------------------------------------------------------------------------


def test_jpeg_exif_orientation_6_is_rotated_clockwise(tmp_path: Path) -> None:
    stored = np.full((16, 32, 3), 255, dtype=np.uint8)
    stored[:8, :8] = (255, 0, 0)  # red block at the stored top-left
    exif = PilImage.Exif()
    exif[ORIENTATION] = 6
    exif[ExifTags.Base.Make] = "jndviewer-test"
    path = write_pil(tmp_path, "rotated.jpg", PilImage.fromarray(stored), quality=95, exif=exif.tobytes())

    image = load(path)

    assert image.pixels.shape == (32, 16, 3)  # displayed upright: width and height swapped
    top_right = image.pixels[:8, 8:].astype(int).mean(axis=(0, 1))
    top_left = image.pixels[:8, :8].astype(int).mean(axis=(0, 1))
    assert top_right[0] > 200 and top_right[1] < 60  # red lands at the top right after a clockwise turn
    assert top_left.min() > 200  # white
    assert image.exif is not None
    returned_exif = PilImage.Exif()
    returned_exif.load(image.exif)
    assert returned_exif[ORIENTATION] == 1
    assert returned_exif[ExifTags.Base.Make] == "jndviewer-test"


def test_png_exif_orientation_8_is_exact(tmp_path: Path) -> None:
    stored = random_rgb8(4, 6, seed=5)
    exif = PilImage.Exif()
    exif[ORIENTATION] = 8
    path = write_pil(tmp_path, "rotated.png", PilImage.fromarray(stored), exif=exif.tobytes())

    image = load(path)

    assert image.pixels.shape == (6, 4, 3)
    np.testing.assert_array_equal(image.pixels, np.rot90(stored, k=1))  # counter-clockwise quarter turn
    np.testing.assert_array_equal(image.pixels[5, 0], stored[0, 0])  # stored top-left lands at the bottom left


def test_png_without_orientation_keeps_raw_exif_bytes(tmp_path: Path) -> None:
    exif = PilImage.Exif()
    exif[ExifTags.Base.Make] = "camera"
    raw = exif.tobytes()
    path = write_pil(tmp_path, "exif.png", PilImage.fromarray(random_rgb8()), exif=raw)

    image = load(path)

    assert image.exif is not None
    returned = PilImage.Exif()
    returned.load(image.exif)
    assert returned[ExifTags.Base.Make] == "camera"
    assert ORIENTATION not in returned


@pytest.mark.parametrize("orientation", range(1, 9))
def test_numpy_orientation_matches_pillow_exif_transpose(orientation: int) -> None:
    stored = random_rgb8(3, 5, seed=orientation)
    pil_image = PilImage.fromarray(stored)
    exif = pil_image.getexif()
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    pil_image.save(buffer, "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(PilImage.open(buffer)))

    np.testing.assert_array_equal(image_module._apply_orientation(stored, orientation), expected)


def test_rgb16_png_orientation_is_applied(tmp_path: Path) -> None:
    import imagecodecs

    rgb16 = np.random.default_rng(2).integers(0, 65536, (3, 5, 3), dtype=np.uint16)
    exif = PilImage.Exif()
    exif[ORIENTATION] = 6
    path = tmp_path / "rotated16.png"
    path.write_bytes(png_with_exif_chunk(imagecodecs.png_encode(rgb16), exif.tobytes()))

    image = load(path)

    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, np.rot90(rgb16, k=-1))
    returned = PilImage.Exif()
    returned.load(image.exif)
    assert returned[ORIENTATION] == 1


# --------------------------------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------------------------------


def test_gray_l_becomes_equal_rgb_channels(tmp_path: Path) -> None:
    gray = np.arange(60, dtype=np.uint8).reshape(6, 10) * 4
    image = load(write_pil(tmp_path, "gray.png", PilImage.fromarray(gray)))

    assert (image.source_mode, image.bit_depth) == ("L", 8)
    np.testing.assert_array_equal(image.pixels, np.repeat(gray[..., None], 3, axis=2))


def test_bilevel_mode_1_becomes_black_and_white(tmp_path: Path) -> None:
    bits = PilImage.fromarray(np.array([[0, 255, 0]], dtype=np.uint8)).convert("1")
    image = load(write_pil(tmp_path, "bits.png", bits))

    assert image.source_mode == "1"
    np.testing.assert_array_equal(image.pixels[0, :, 0], [0, 255, 0])
    np.testing.assert_array_equal(image.pixels[..., 0], image.pixels[..., 2])


def test_mode_i_is_clipped_to_16_bits(tmp_path: Path) -> None:
    values = np.array([[-5, 300, 70000]], dtype=np.int32)
    image = load(write_pil(tmp_path, "int32.tif", PilImage.fromarray(values)))

    assert (image.source_mode, image.bit_depth) == ("I", 16)
    np.testing.assert_array_equal(image.pixels[0, :, 1], [0, 300, 65535])


def test_mode_f_is_clipped_and_rounded_to_8_bits(tmp_path: Path) -> None:
    values = np.array([[-5.0, 12.4, 12.6, 300.0]], dtype=np.float32)
    image = load(write_pil(tmp_path, "float.tif", PilImage.fromarray(values)))

    assert (image.source_mode, image.bit_depth) == ("F", 8)
    np.testing.assert_array_equal(image.pixels[0, :, 2], [0, 12, 13, 255])


def test_palette_without_transparency_expands_to_its_colours(tmp_path: Path) -> None:
    palette_image = PilImage.new("P", (3, 1))
    palette_image.putpalette([10, 20, 30, 200, 100, 50, 0, 255, 0])
    palette_image.putdata([0, 1, 2])
    image = load(write_pil(tmp_path, "palette.png", palette_image))

    assert (image.source_mode, image.had_alpha) == ("P", False)
    np.testing.assert_array_equal(image.pixels[0], [[10, 20, 30], [200, 100, 50], [0, 255, 0]])


def test_palette_with_transparency_becomes_white_there(tmp_path: Path) -> None:
    palette_image = PilImage.new("P", (2, 1))
    palette_image.putpalette([10, 20, 30, 200, 100, 50])
    palette_image.putdata([0, 1])
    image = load(write_pil(tmp_path, "palette_t.png", palette_image, transparency=1))

    assert (image.source_mode, image.had_alpha) == ("P", True)
    np.testing.assert_array_equal(image.pixels[0], [[10, 20, 30], [255, 255, 255]])


def test_gif_palette_transparency(tmp_path: Path) -> None:
    palette_image = PilImage.new("P", (2, 1))
    palette_image.putpalette([10, 20, 30, 200, 100, 50])
    palette_image.putdata([0, 1])
    image = load(write_pil(tmp_path, "palette.gif", palette_image, transparency=0))

    assert image.had_alpha
    np.testing.assert_array_equal(image.pixels[0], [[255, 255, 255], [200, 100, 50]])


def test_rgb_colour_key_transparency(tmp_path: Path) -> None:
    rgb = np.array([[[1, 2, 3], [9, 9, 9]]], dtype=np.uint8)
    image = load(write_pil(tmp_path, "key.png", PilImage.fromarray(rgb), transparency=(1, 2, 3)))

    assert image.had_alpha
    np.testing.assert_array_equal(image.pixels[0], [[255, 255, 255], [9, 9, 9]])


def test_cmyk_pure_cyan_becomes_cyan(tmp_path: Path) -> None:
    cmyk = PilImage.new("CMYK", (2, 2), (255, 0, 0, 0))
    image = load(write_pil(tmp_path, "cyan.tif", cmyk))

    assert image.source_mode == "CMYK"
    red, green, blue = image.pixels[0, 0].astype(int)
    assert red < 40 and green > 200 and blue > 200


def test_cmyk_jpeg_is_converted(tmp_path: Path) -> None:
    cmyk = PilImage.new("CMYK", (16, 16), (255, 0, 0, 0))
    image = load(write_pil(tmp_path, "cyan.jpg", cmyk, quality=95))

    assert image.source_mode == "CMYK"
    red, green, blue = image.pixels[8, 8].astype(int)
    assert red < 40 and green > 200 and blue > 200


def test_cmyk_with_profile_goes_through_imagecms_and_drops_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile_bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = write_pil(tmp_path, "cmyk_icc.tif", PilImage.new("CMYK", (3, 2), (255, 0, 0, 0)), icc_profile=profile_bytes)
    calls = []

    def fake_profile_to_profile(pil_image, source, target, outputMode=None, **kwargs):
        calls.append((pil_image.mode, outputMode))
        return PilImage.new("RGB", pil_image.size, (1, 2, 3))

    monkeypatch.setattr(ImageCms, "profileToProfile", fake_profile_to_profile)
    image = load(path)

    assert calls == [("CMYK", "RGB")]
    np.testing.assert_array_equal(image.pixels, np.broadcast_to([1, 2, 3], (2, 3, 3)))
    assert image.icc_profile is None


def test_cmyk_with_an_unusable_profile_falls_back_to_plain_conversion(tmp_path: Path) -> None:
    profile_bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # RGB profile on CMYK data
    cmyk = PilImage.new("CMYK", (3, 2), (255, 0, 0, 0))
    image = load(write_pil(tmp_path, "cmyk_bad_icc.tif", cmyk, icc_profile=profile_bytes))

    np.testing.assert_array_equal(image.pixels[0, 0], np.asarray(cmyk.convert("RGB"))[0, 0])
    assert image.icc_profile is None


def test_rgba_half_alpha_red_over_white(tmp_path: Path) -> None:
    rgba = np.array([[[255, 0, 0, 128], [0, 0, 255, 255], [0, 0, 0, 0]]], dtype=np.uint8)
    image = load(write_pil(tmp_path, "alpha.png", PilImage.fromarray(rgba)))

    assert (image.source_mode, image.had_alpha) == ("RGBA", True)
    np.testing.assert_allclose(image.pixels[0, 0], [255, 128, 128], atol=1)
    np.testing.assert_array_equal(image.pixels[0, 0], [255, 127, 127])  # round(255 * 127 / 255) exactly
    np.testing.assert_array_equal(image.pixels[0, 1], [0, 0, 255])
    np.testing.assert_array_equal(image.pixels[0, 2], [255, 255, 255])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_alpha_compositing_rounds_the_exact_formula(dtype: type) -> None:
    full = np.iinfo(dtype).max
    rgba = np.random.default_rng(4).integers(0, full + 1, (40, 50, 4)).astype(dtype)
    colour, alpha = rgba[..., :3].astype(np.float64), rgba[..., 3:].astype(np.float64)
    expected = np.rint(colour * alpha / full + full * (1 - alpha / full))

    image = from_array(rgba)

    assert image.pixels.dtype == dtype
    np.testing.assert_array_equal(image.pixels, expected)


def test_la_alpha_over_white(tmp_path: Path) -> None:
    gray_alpha = np.array([[[0, 128], [100, 255], [50, 0]]], dtype=np.uint8)
    image = load(write_pil(tmp_path, "la.png", PilImage.fromarray(gray_alpha, mode="LA")))

    assert (image.source_mode, image.had_alpha) == ("LA", True)
    np.testing.assert_array_equal(image.pixels[0, :, 0], [127, 100, 255])
    np.testing.assert_array_equal(image.pixels[..., 0], image.pixels[..., 1])


def test_icc_profile_bytes_are_preserved(tmp_path: Path) -> None:
    profile_bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = write_pil(tmp_path, "icc.png", PilImage.fromarray(random_rgb8()), icc_profile=profile_bytes)

    assert load(path).icc_profile == profile_bytes


# --------------------------------------------------------------------------------------------------------------------
# Luma
# --------------------------------------------------------------------------------------------------------------------


def test_luma_of_primaries_and_white() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]], dtype=np.uint8)
    luma = from_array(rgb).luma()

    assert luma.dtype == np.float32
    assert luma.shape == (1, 5)
    expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 255.0, 0.0]
    np.testing.assert_allclose(luma[0], expected, rtol=1e-6, atol=1e-4)
    assert LUMA_WEIGHTS == (0.299, 0.587, 0.114)


def test_luma_of_16_bit_image_is_on_the_8_bit_scale() -> None:
    image = from_array(np.full((2, 2, 3), 65535, dtype=np.uint16))
    np.testing.assert_allclose(image.luma(), 255.0, atol=1e-3)


def test_image_luma_matches_rgb_to_luma_of_rgb_float() -> None:
    for pixels in (random_rgb8(5, 4), np.random.default_rng(9).integers(0, 65536, (5, 4, 3), dtype=np.uint16)):
        image = from_array(pixels)
        np.testing.assert_array_equal(image.luma(), rgb_to_luma(image.rgb_float()))


def test_rgb_to_luma_numpy_and_torch_agree() -> None:
    rgb = np.random.default_rng(7).uniform(0, 255, (5, 6, 3)).astype(np.float32)
    numpy_luma = rgb_to_luma(rgb)
    batch = torch.from_numpy(np.stack([rgb, rgb[::-1].copy()])).permute(0, 3, 1, 2)  # N x 3 x H x W

    torch_luma = rgb_to_luma(batch)

    assert isinstance(numpy_luma, np.ndarray) and numpy_luma.shape == (5, 6)
    assert isinstance(torch_luma, torch.Tensor) and tuple(torch_luma.shape) == (2, 1, 5, 6)
    np.testing.assert_allclose(torch_luma[0, 0].numpy(), numpy_luma, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(torch_luma[1, 0].numpy(), numpy_luma[::-1], rtol=1e-6, atol=1e-4)


def test_rgb_to_luma_converts_integers_to_float32() -> None:
    luma = rgb_to_luma(np.array([[[0, 0, 255]]], dtype=np.uint8))
    assert luma.dtype == np.float32
    np.testing.assert_allclose(luma, [[0.114 * 255]], rtol=1e-6)
    tensor_luma = rgb_to_luma(torch.tensor([[[255]], [[0]], [[0]]], dtype=torch.uint8))
    assert tensor_luma.dtype == torch.float32
    assert tensor_luma.item() == pytest.approx(0.299 * 255, rel=1e-6)


def test_rgb_to_luma_rejects_wrong_channel_counts() -> None:
    with pytest.raises(ValueError, match="3"):
        rgb_to_luma(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="3"):
        rgb_to_luma(torch.zeros(1, 4, 4, 4))


def test_luma_tensor_shape_dtype_device() -> None:
    image = from_array(random_rgb8(7, 9))

    tensor = luma_tensor(image)

    assert tuple(tensor.shape) == (1, 1, 7, 9)
    assert tensor.dtype == torch.float32
    assert tensor.device.type == "cpu"
    np.testing.assert_allclose(tensor[0, 0].numpy(), image.luma(), rtol=0, atol=0)
    assert luma_tensor(image, dtype=torch.float64).dtype == torch.float64
    assert luma_tensor(image, device="cpu").device == torch.device("cpu")


def test_luma_tensor_from_arrays() -> None:
    gray = np.array([[1.5, 2.5]], dtype=np.float64)
    np.testing.assert_allclose(luma_tensor(gray)[0, 0].numpy(), gray)
    rgb16 = np.full((1, 2, 3), 65535, dtype=np.uint16)
    np.testing.assert_allclose(luma_tensor(rgb16).numpy(), 255.0, atol=1e-3)
    with pytest.raises(ValueError, match="H x W"):
        luma_tensor(np.zeros((2, 2, 4)))


# --------------------------------------------------------------------------------------------------------------------
# from_array and the Image invariants
# --------------------------------------------------------------------------------------------------------------------


def test_from_array_gray_and_rgb_keep_values_and_copy() -> None:
    gray = np.array([[0, 7], [200, 255]], dtype=np.uint8)
    rgb = random_rgb8(2, 2)

    gray_image = from_array(gray)
    rgb_image = from_array(rgb, path="x.png")

    np.testing.assert_array_equal(gray_image.pixels[..., 2], gray)
    assert gray_image.source_mode == "L"
    np.testing.assert_array_equal(rgb_image.pixels, rgb)
    assert rgb_image.path == Path("x.png")
    assert rgb.flags.writeable  # the caller's array is untouched
    rgb[0, 0, 0] ^= 0xFF
    assert rgb_image.pixels[0, 0, 0] != rgb[0, 0, 0]


def test_from_array_rgba_uses_the_same_alpha_rule_as_load(tmp_path: Path) -> None:
    rgba = np.random.default_rng(11).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    from_file = load(write_pil(tmp_path, "rgba.png", PilImage.fromarray(rgba)))

    from_memory = from_array(rgba)

    assert from_memory.had_alpha and from_memory.source_mode == "RGBA"
    np.testing.assert_array_equal(from_memory.pixels, from_file.pixels)


def test_from_array_uint16_and_float() -> None:
    sixteen = from_array(np.array([[1000, 65535]], dtype=np.uint16))
    assert (sixteen.pixels.dtype, sixteen.bit_depth, sixteen.source_mode) == (np.uint16, 16, "I;16")
    np.testing.assert_array_equal(sixteen.pixels[0, :, 0], [1000, 65535])

    floats = from_array(np.array([[[-3.0, 12.5, 12.6], [254.6, 400.0, 0.4]]]))
    assert floats.pixels.dtype == np.uint8
    np.testing.assert_array_equal(floats.pixels[0], [[0, 12, 13], [255, 255, 0]])

    float_rgba = from_array(np.array([[[255.0, 0.0, 0.0, 127.5]]], dtype=np.float32))
    np.testing.assert_array_equal(float_rgba.pixels[0, 0], [255, 128, 128])


@pytest.mark.parametrize(
    "bad_array",
    [
        np.zeros((2, 2, 5), dtype=np.uint8),
        np.zeros((2,), dtype=np.uint8),
        np.zeros((0, 3, 3), dtype=np.uint8),
        np.zeros((2, 2, 3), dtype=np.int32),
        np.zeros((2, 2, 3), dtype=bool),
        np.full((2, 2), np.nan),
    ],
)
def test_from_array_rejects_bad_arrays_with_one_sentence(bad_array: np.ndarray) -> None:
    with pytest.raises(ValueError) as excinfo:
        from_array(bad_array)
    message = str(excinfo.value)
    assert "\n" not in message and message.endswith(".")


def test_image_validates_its_pixels() -> None:
    with pytest.raises(ValueError, match="H x W x 3"):
        Image(pixels=np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="bit_depth"):
        Image(pixels=np.zeros((2, 2, 3), dtype=np.uint16), bit_depth=8)
    with pytest.raises(ValueError, match="uint8 or uint16"):
        Image(pixels=np.zeros((2, 2, 3), dtype=np.float32))
    strided = np.zeros((4, 4, 3), dtype=np.uint8)[::2]
    image = Image(pixels=strided)
    assert image.pixels.flags.c_contiguous and not image.pixels.flags.writeable


# --------------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as excinfo:
        load(tmp_path / "kodim01.png")
    assert str(excinfo.value) == "kodim01.png does not exist."


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert str(excinfo.value) == "empty.png is empty (0 bytes)."


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\nsecond line\n")
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert str(excinfo.value) == "notes.txt is not an image file jndviewer can read."


def test_random_bytes_named_png(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert_one_sentence_naming(excinfo.value, "noise.png")
    assert "not an image file" in str(excinfo.value)


@pytest.mark.parametrize(("name", "pil_format"), [("cut.png", "PNG"), ("cut.jpg", "JPEG")])
def test_truncated_files(tmp_path: Path, name: str, pil_format: str) -> None:
    buffer = io.BytesIO()
    PilImage.fromarray(random_rgb8(64, 64)).save(buffer, pil_format)
    data = buffer.getvalue()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImageLoadError) as excinfo:
        load(path)

    assert_one_sentence_naming(excinfo.value, name)
    assert str(excinfo.value).startswith(f"{name} is truncated or corrupt: ")
    assert "truncated" in str(excinfo.value).split(": ", 1)[1]


def test_file_with_a_known_signature_but_a_broken_header(tmp_path: Path) -> None:
    path = tmp_path / "header.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert str(excinfo.value) == (
        "header.png is truncated or corrupt: it starts like a PNG file, but its header cannot be read."
    )


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "photos.png"
    folder.mkdir()
    with pytest.raises(ImageLoadError) as excinfo:
        load(folder)
    assert str(excinfo.value) == "photos.png is a directory, not an image file."


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_pil(tmp_path, "secret.png", PilImage.fromarray(random_rgb8()))
    path.chmod(0)
    try:
        with pytest.raises(ImageLoadError) as excinfo:
            load(path)
    finally:
        path.chmod(0o600)
    assert str(excinfo.value) == "secret.png cannot be read: permission denied."


def test_permission_error_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pil(tmp_path, "locked.png", PilImage.fromarray(random_rgb8()))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(decode_module, "open", refuse, raising=False)  # load() looks open up there
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert str(excinfo.value) == "locked.png cannot be read: permission denied."


def test_huge_image_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pil(tmp_path, "big.png", PilImage.fromarray(random_rgb8(20, 20)))

    def no_decoding(self: object) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(PilImage.Image, "load", no_decoding)
    with pytest.raises(ImageLoadError) as excinfo:
        load(path, max_pixels=100)

    assert_one_sentence_naming(excinfo.value, "big.png")
    assert str(excinfo.value) == (
        "big.png is 20×20 pixels (400 in all), over the 100-pixel limit; "
        "raise it with --max-pixels or JNDVIEWER_MAX_PIXELS."
    )


def test_pixel_limit_is_inclusive(tmp_path: Path) -> None:
    path = write_pil(tmp_path, "edge.png", PilImage.fromarray(random_rgb8(20, 20)))
    assert load(path, max_pixels=400).n_pixels == 400
    with pytest.raises(ImageLoadError):
        load(path, max_pixels=399)


def test_too_large_message_in_megapixels() -> None:
    message = image_module._too_large_message("big.png", 20000, 20000, DEFAULT_MAX_PIXELS)
    assert message == (
        "big.png is 20000×20000 pixels (400 MP), over the 120 MP limit; "
        "raise it with --max-pixels or JNDVIEWER_MAX_PIXELS."
    )


def test_pixel_limit_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pil(tmp_path, "envbig.png", PilImage.fromarray(random_rgb8(20, 20)))
    monkeypatch.setenv("JNDVIEWER_MAX_PIXELS", "100")
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert_one_sentence_naming(excinfo.value, "envbig.png")
    assert "100-pixel limit" in str(excinfo.value)

    assert load(path, max_pixels=1000).n_pixels == 400  # the argument wins over the variable

    monkeypatch.setenv("JNDVIEWER_MAX_PIXELS", "lots")
    with pytest.raises(ImageLoadError) as excinfo:
        load(path)
    assert_one_sentence_naming(excinfo.value, "envbig.png")
    assert "JNDVIEWER_MAX_PIXELS" in str(excinfo.value)


def test_bad_max_pixels_argument(tmp_path: Path) -> None:
    path = write_pil(tmp_path, "small.png", PilImage.fromarray(random_rgb8(2, 2)))
    with pytest.raises(ValueError, match="max_pixels"):
        load(path, max_pixels=0)


def test_pillow_global_limit_is_neither_used_nor_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pil(tmp_path, "medium.png", PilImage.fromarray(random_rgb8(20, 20)))
    monkeypatch.setattr(PilImage, "MAX_IMAGE_PIXELS", 100)  # Pillow would warn above 100 and fail above 200

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load(path)

    assert image.n_pixels == 400
    assert PilImage.MAX_IMAGE_PIXELS == 100


def test_heif_without_pillow_heif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "photo.heic"
    ftyp_box = struct.pack(">I", 24) + b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1" + b"heic"
    path.write_bytes(ftyp_box + bytes(64))
    monkeypatch.setattr(decode_module, "_heif_support_available", lambda: False)  # the name load() calls

    with pytest.raises(ImageLoadError) as excinfo:
        load(path)

    assert str(excinfo.value) == (
        "photo.heic is a HEIF image; install the optional 'heif' extra (pillow-heif) to read it."
    )


def test_isobmff_sniffing_tells_heif_from_avif() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
        return struct.pack(">I", 8 + len(body)) + b"ftyp" + body

    assert image_module._isobmff_kind(ftyp(b"heic", b"mif1", b"heic")) == "heif"
    assert image_module._isobmff_kind(ftyp(b"mif1", b"heic")) == "heif"
    assert image_module._isobmff_kind(ftyp(b"avif", b"avif", b"mif1")) == "avif"
    assert image_module._isobmff_kind(ftyp(b"mif1", b"avif")) == "avif"
    assert image_module._isobmff_kind(ftyp(b"isom", b"mp41")) is None
    assert image_module._isobmff_kind(b"\x89PNG\r\n\x1a\n" + bytes(16)) is None


def test_image_suffixes_are_lower_case_and_readable() -> None:
    assert isinstance(IMAGE_SUFFIXES, frozenset)
    assert all(suffix.startswith(".") and suffix == suffix.lower() for suffix in IMAGE_SUFFIXES)
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".avif", ".heic", ".heif"} <= IMAGE_SUFFIXES
    # Pillow opens every other one by itself (HEIF needs the optional extra, AVIF a Pillow built with it, and
    # JPEG XL is listed for the codec ladders but has no decoder: see the constant's comment).
    pillow_suffixes = set(PilImage.registered_extensions())
    assert IMAGE_SUFFIXES - {".heic", ".heif", ".avif", ".jxl"} <= pillow_suffixes


# --------------------------------------------------------------------------------------------------------------------
# Import cost
# --------------------------------------------------------------------------------------------------------------------


def test_module_import_does_not_import_torch_or_pillow_heif() -> None:
    code = (
        "import sys, jndviewer.core.image, jndviewer.core.device; "
        "print('torch' in sys.modules, 'pillow_heif' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
