"""PSNR, SSIM, bits per pixel and bit-rate saving."""

from __future__ import annotations

import importlib.util
import itertools
import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from jndviewer.core import metrics
from jndviewer.core.image import rgb_to_luma


def natural_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, textured, random-ish uint8 RGB image (gradients, blobs, fine noise, a flat patch)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    base = 120 + 60 * np.sin(cols / 9.0 + rng.uniform(0, 6)) * np.cos(rows / 7.0 + rng.uniform(0, 6))
    channels = [base + rng.uniform(-40, 40) + 30 * np.sin((rows + cols) / rng.uniform(4, 12)) for _ in range(3)]
    rgb = np.stack(channels, axis=-1) + rng.normal(0.0, 6.0, (height, width, 3))
    rgb[: height // 4, : width // 4] = 17.0  # a flat dark region
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def add_noise(rgb: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(rgb + rng.normal(0.0, sigma, rgb.shape)), 0, 255).astype(np.uint8)


def reference_ssim(x: np.ndarray, y: np.ndarray, data_range: float = 255.0) -> float:
    """SSIM straight from Wang et al. 2004 eqs. (13)-(14), float64, explicit 11 x 11 windows, 'valid' border.

    Moments are two-pass (``sum w (x - mu_x)(y - mu_y)``), unlike the one-pass formulas of the implementation.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    offsets = np.arange(11) - 5.0
    g = np.exp(-(offsets**2) / (2 * 1.5**2))
    window = np.outer(g, g)
    window /= window.sum()
    wx = sliding_window_view(x, (11, 11))
    wy = sliding_window_view(y, (11, 11))
    mu_x = np.einsum("ijkl,kl->ij", wx, window)
    mu_y = np.einsum("ijkl,kl->ij", wy, window)
    dx = wx - mu_x[..., None, None]
    dy = wy - mu_y[..., None, None]
    var_x = np.einsum("ijkl,kl->ij", dx * dx, window)
    var_y = np.einsum("ijkl,kl->ij", dy * dy, window)
    cov = np.einsum("ijkl,kl->ij", dx * dy, window)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim_map.mean())


# --------------------------------------------------------------------------------------------------------------------
# PSNR
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [1, 3, 10, 40])
def test_psnr_of_a_constant_offset(offset: int) -> None:
    reference = natural_rgb(32, 48) // 2  # room above for the offset
    distorted = reference + np.uint8(offset)
    assert metrics.psnr(reference, distorted) == pytest.approx(20 * math.log10(255 / offset), abs=1e-9)
    assert metrics.psnr(distorted, reference) == pytest.approx(20 * math.log10(255 / offset), abs=1e-9)


def test_psnr_by_hand_on_gray_floats_and_data_range() -> None:
    reference = np.zeros((4, 5))
    distorted = reference.copy()
    distorted[0, 0] = 2.0  # MSE = 4 / 20 = 0.2
    assert metrics.psnr(reference, distorted) == pytest.approx(10 * math.log10(255**2 / 0.2))
    unit = np.full((6, 6, 3), 0.5)
    assert metrics.psnr(unit, unit + 0.1, data_range=1.0) == pytest.approx(20.0)


def test_psnr_does_not_wrap_around_uint8() -> None:
    reference = np.zeros((8, 8, 3), np.uint8)
    distorted = np.full((8, 8, 3), 255, np.uint8)
    assert metrics.psnr(reference, distorted) == pytest.approx(0.0, abs=1e-12)
    assert metrics.psnr(distorted, reference) == pytest.approx(0.0, abs=1e-12)


def test_psnr_of_identical_images_is_infinite() -> None:
    image = natural_rgb(20, 30)
    assert metrics.psnr(image, image.copy()) == math.inf


def test_psnr_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(np.zeros((4, 4)), np.ones((4, 4)), data_range=0)


# --------------------------------------------------------------------------------------------------------------------
# SSIM
# --------------------------------------------------------------------------------------------------------------------


def test_ssim_of_identical_images_is_one() -> None:
    image = natural_rgb(64, 96)
    assert metrics.ssim(image, image.copy()) == pytest.approx(1.0, abs=1e-6)
    luma = rgb_to_luma(image)
    assert metrics.ssim(luma, luma) == pytest.approx(1.0, abs=1e-6)


def test_ssim_is_symmetric() -> None:
    image = natural_rgb(64, 96)
    noisy = add_noise(image, 12.0)
    assert metrics.ssim(image, noisy) == pytest.approx(metrics.ssim(noisy, image), abs=1e-7)


def test_ssim_decreases_with_noise() -> None:
    image = natural_rgb(64, 96)
    scores = [metrics.ssim(image, add_noise(image, sigma)) for sigma in (1.0, 4.0, 10.0, 25.0, 60.0)]
    assert all(a > b for a, b in itertools.pairwise(scores)), scores
    assert 0.0 < scores[-1] < 0.6 < scores[0] < 1.0


@pytest.mark.parametrize(("height", "width"), [(11, 11), (12, 40), (43, 50), (64, 96), (75, 33)])
def test_ssim_matches_the_direct_definition(height: int, width: int) -> None:
    # Heights around and across the 32-row strips, and the smallest image with one valid window.
    image = natural_rgb(height, width, seed=height)
    noisy = add_noise(image, 9.0, seed=width)
    expected = reference_ssim(rgb_to_luma(image.astype(np.float64)), rgb_to_luma(noisy.astype(np.float64)))
    assert metrics.ssim(image, noisy) == pytest.approx(expected, abs=1e-6)


def test_ssim_matches_the_direct_definition_in_flat_bright_regions() -> None:
    # float32 cancellation is worst where the variance is tiny and the mean far from L / 2 (measured: ~1.4e-6).
    rng = np.random.default_rng(3)
    gray = np.full((40, 60), 250.0) + rng.normal(0.0, 0.7, (40, 60))
    other = gray + rng.normal(0.0, 0.7, (40, 60))
    assert metrics.ssim(gray, other) == pytest.approx(reference_ssim(gray, other), abs=1e-5)


def test_ssim_of_rgb_is_ssim_of_bt601_luma() -> None:
    image = natural_rgb(40, 52)
    noisy = add_noise(image, 15.0)
    weights = np.array([0.299, 0.587, 0.114])
    expected = reference_ssim(image @ weights, noisy @ weights)
    assert metrics.ssim(image, noisy) == pytest.approx(expected, abs=1e-6)
    # Swapping R and B changes the luma, so the score must change too.
    assert metrics.ssim(image[..., ::-1], noisy[..., ::-1]) != pytest.approx(expected, abs=1e-4)


def test_ssim_takes_uint8_and_float_alike() -> None:
    image = natural_rgb(30, 40)
    noisy = add_noise(image, 7.0)
    assert metrics.ssim(image.astype(np.float64), noisy.astype(np.float32)) == pytest.approx(
        metrics.ssim(image, noisy), abs=1e-7
    )


def test_ssim_data_range_scales_with_the_data() -> None:
    image = rgb_to_luma(natural_rgb(30, 40)).astype(np.float64)
    noisy = rgb_to_luma(add_noise(natural_rgb(30, 40), 7.0)).astype(np.float64)
    assert metrics.ssim(image / 255.0, noisy / 255.0, data_range=1.0) == pytest.approx(
        metrics.ssim(image, noisy), abs=1e-5
    )


def test_ssim_threaded_path_equals_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    image = natural_rgb(660, 640)  # 650 x 630 valid pixels: above the threading threshold
    noisy = add_noise(image, 8.0)
    threaded = metrics.ssim(image, noisy)
    monkeypatch.setattr(metrics, "_PARALLEL_MIN_PIXELS", 10**12)
    single = metrics.ssim(image, noisy)
    assert threaded == pytest.approx(single, abs=1e-12)
    # Spot-check against the definition on a crop (the window only sees the crop).
    crop = (slice(300, 360), slice(200, 280))
    assert metrics.ssim(image[crop], noisy[crop]) == pytest.approx(
        reference_ssim(rgb_to_luma(image[crop].astype(np.float64)), rgb_to_luma(noisy[crop].astype(np.float64))),
        abs=1e-6,
    )


@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="scikit-image is not installed")
def test_ssim_matches_scikit_image() -> None:
    from skimage.metrics import structural_similarity

    image = natural_rgb(64, 96)
    noisy = add_noise(image, 10.0)
    x = rgb_to_luma(image.astype(np.float64))
    y = rgb_to_luma(noisy.astype(np.float64))
    expected = structural_similarity(
        x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert metrics.ssim(image, noisy) == pytest.approx(expected, abs=1e-4)


def test_ssim_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        metrics.ssim(np.zeros((20, 20)), np.zeros((20, 21)))
    with pytest.raises(ValueError, match="at least 11 x 11"):
        metrics.ssim(np.zeros((10, 30)), np.zeros((10, 30)))
    with pytest.raises(ValueError, match="RGB or H x W gray"):
        metrics.ssim(np.zeros((20, 20, 4)), np.zeros((20, 20, 4)))
    with pytest.raises(ValueError, match="data_range"):
        metrics.ssim(np.zeros((20, 20)), np.zeros((20, 20)), data_range=-1)


def test_gaussian_window_is_the_paper_window() -> None:
    window = metrics.gaussian_window()
    assert window.shape == (11,) and window.sum() == pytest.approx(1.0)
    assert window[5] == window.max() and window[0] == pytest.approx(window[10])
    assert window[6] / window[5] == pytest.approx(math.exp(-1 / (2 * 1.5**2)))


# --------------------------------------------------------------------------------------------------------------------
# Rate
# --------------------------------------------------------------------------------------------------------------------


def test_bits_per_pixel_by_hand() -> None:
    assert metrics.bits_per_pixel(1000, 100, 80) == pytest.approx(1.0)
    assert metrics.bits_per_pixel(3, 2, 3) == pytest.approx(4.0)
    assert metrics.bits_per_pixel(0, 10, 10) == 0.0
    with pytest.raises(ValueError):
        metrics.bits_per_pixel(10, 0, 10)
    with pytest.raises(ValueError):
        metrics.bits_per_pixel(-1, 10, 10)


def test_bitrate_saving_by_hand() -> None:
    assert metrics.bitrate_saving(750, 1000) == pytest.approx(0.25)
    assert metrics.bitrate_saving(1000, 1000) == 0.0
    assert metrics.bitrate_saving(0, 1000) == 1.0
    assert metrics.bitrate_saving(1500, 1000) == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        metrics.bitrate_saving(10, 0)
    with pytest.raises(ValueError):
        metrics.bitrate_saving(-1, 10)
