"""Unit tests of the JND building blocks (jndviewer.core.jnd.ops) against NumPy/SciPy and the definitions of
docs/jnd_models.md §1."""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy import ndimage

import jndviewer.core.jnd.canny as canny
import jndviewer.core.jnd.ops as ops
from jndviewer.core.errors import ModelError
from tests.reference import numpy_jnd as reference

BORDERS = ("replicate", "zero")
SCIPY_MODE = {"replicate": "nearest", "zero": "constant"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Run single-threaded: these tensors are tiny, and intra-op threads only add synchronisation. On a busy 2-core
    machine a float64 ``exp_`` of 2,304 values (above torch's 2,048-element parallel grain) took 8 ms with 2 threads
    and 7 us with 1, which made wu2013's 880 exps per image dominate the run time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def as_batch(image: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float64)).to(dtype)[None, None]


def random_image(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width)).astype(np.float64)


def smooth_image(height: int, width: int, seed: int) -> np.ndarray:
    """Smoothed noise with a step and a bright square: edges of many strengths for Canny."""
    rng = np.random.default_rng(seed)
    img = ndimage.gaussian_filter(rng.normal(0.0, 1.0, (height, width)), 2.5)
    img = 120.0 + 35.0 * img / img.std()
    img[:, width // 2 :] += 40.0
    img[height // 4 : height // 2, width // 8 : width // 3] += 70.0
    return np.clip(np.rint(img), 0.0, 255.0)


@pytest.fixture
def conv_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Parametrised: False runs the CPU shift-and-add path, True forces the conv2d path."""
    forced = bool(request.param)
    if forced:
        monkeypatch.setattr(ops, "_use_conv", lambda x: True)
    return forced


# --------------------------------------------------------------------------------------------------------------------
# Padding and correlation
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (2, 3, 0, 4), (0, 0, 5, 1), (6, 6, 7, 7), (3, 0, 0, 0)])
def test_extend_matches_numpy_pad(pads: tuple[int, int, int, int]) -> None:
    top, bottom, left, right = pads
    img = np.random.default_rng(0).normal(size=(2, 1, 6, 7))
    width = ((0, 0), (0, 0), (top, bottom), (left, right))
    for mode, numpy_mode in (("symmetric", "symmetric"), ("replicate", "edge"), ("zero", "constant")):
        got = ops.extend(torch.from_numpy(img), top, bottom, left, right, mode).numpy()
        np.testing.assert_array_equal(got, np.pad(img, width, mode=numpy_mode), err_msg=mode)


def test_extend_symmetric_is_edge_inclusive_and_checks_size() -> None:
    x = torch.tensor([[[[1.0, 2.0, 3.0]]]])
    assert ops.extend(x, 0, 0, 2, 2, "symmetric")[0, 0, 0].tolist() == [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]
    with pytest.raises(ModelError):
        ops.extend(torch.zeros(1, 1, 4, 4), 5, 0, 0, 0, "symmetric")
    with pytest.raises(ModelError):
        ops.extend(torch.zeros(1, 1, 4, 4), 1, 1, 1, 1, "mirror")  # type: ignore[arg-type]


@pytest.mark.parametrize("conv_path", [False, True], indirect=True)
@pytest.mark.parametrize("shape", [(5, 5), (3, 5), (7, 3), (1, 1)])
@pytest.mark.parametrize("border", BORDERS)
def test_correlate_matches_scipy(border: str, shape: tuple[int, int], conv_path: bool) -> None:
    rng = np.random.default_rng(1)
    img = rng.uniform(0.0, 255.0, (2, 1, 13, 17))
    kernel = rng.normal(size=shape)
    got = ops.correlate(torch.from_numpy(img), kernel, border, scale=0.5).numpy()
    for n in range(2):
        want = 0.5 * ndimage.correlate(img[n, 0], kernel, mode=SCIPY_MODE[border], cval=0.0)
        np.testing.assert_allclose(got[n, 0], want, rtol=0, atol=1e-9)


def test_correlate_is_correlation_not_convolution() -> None:
    impulse = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    impulse[0, 0, 2, 2] = 1.0
    kernel = np.arange(9, dtype=np.float64).reshape(3, 3)
    out = ops.correlate(impulse, kernel, "zero")[0, 0, 1:4, 1:4].numpy()
    np.testing.assert_array_equal(out, kernel[::-1, ::-1])  # correlation places the flipped kernel


@pytest.mark.parametrize("conv_path", [False, True], indirect=True)
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 7, 8, 9, 13])
def test_window_sum_valid_matches_direct_sums(size: int, conv_path: bool) -> None:
    img = np.random.default_rng(size).integers(0, 256, (2, 1, 15, 18)).astype(np.float64)
    got = ops.window_sum_valid(torch.from_numpy(img), size).numpy()
    view = np.lib.stride_tricks.sliding_window_view(img, (size, size), axis=(-2, -1))
    np.testing.assert_array_equal(got, view.sum(axis=(-2, -1)))


@pytest.mark.parametrize("conv_path", [False, True], indirect=True)
@pytest.mark.parametrize("border", BORDERS)
def test_local_std_matches_reference(border: str, conv_path: bool) -> None:
    img = random_image(16, 21, seed=2)
    for size in (5, 7):
        got = ops.local_std(as_batch(img), size, border)[0, 0].numpy()
        np.testing.assert_allclose(got, reference.lstd(img, size, border), rtol=0, atol=1e-5)
    assert float(ops.local_std(torch.full((1, 1, 9, 9), 77.0), 7, "replicate").abs().max()) < 1e-2


@pytest.mark.parametrize(("size", "sigma"), [(7, 0.8), (5, 0.8), (3, 1.0), (7, 7.0 / 3.0), (4, 1.5)])
def test_gaussian_taps_match_fspecial(size: int, sigma: float) -> None:
    taps = ops.gaussian_taps(size, sigma)
    assert taps.shape == (size,)
    assert math.isclose(taps.sum(), 1.0, rel_tol=0, abs_tol=1e-15)
    # fspecial('gaussian', size, sigma): exp(-(x^2 + y^2) / (2 sigma^2)) on offsets centred at 0, normalised.
    offsets = np.arange(size) - (size - 1) / 2.0
    fspecial = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2.0 * sigma**2))
    fspecial /= fspecial.sum()
    np.testing.assert_allclose(np.outer(taps, taps), fspecial, rtol=1e-13, atol=0)
    np.testing.assert_allclose(taps, taps[::-1], rtol=0, atol=0)


@pytest.mark.parametrize("border", BORDERS)
def test_gaussian_blur_matches_scipy(border: str) -> None:
    img = random_image(14, 19, seed=3)
    got = ops.gaussian_blur(as_batch(img), 7, 0.8, border)[0, 0].numpy()
    want = ndimage.correlate(img, reference.gauss_kernel(7, 0.8), mode=SCIPY_MODE[border], cval=0.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------------------------------------
# Chou & Li building blocks
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("conv_path", [False, True], indirect=True)
@pytest.mark.parametrize("border", BORDERS)
def test_background_and_gradient_match_the_kernels(border: str, conv_path: bool) -> None:
    img = random_image(17, 23, seed=4)
    x = as_batch(img)
    bg = ops.background_luminance(x, border)[0, 0].numpy()
    want_bg = ndimage.correlate(img, np.array(ops.BACKGROUND_KERNEL, dtype=float), mode=SCIPY_MODE[border]) / 32.0
    np.testing.assert_allclose(bg, want_bg, rtol=0, atol=1e-9)
    mg = ops.max_weighted_gradient(x, border)[0, 0].numpy()
    want_mg = np.max(
        [
            np.abs(ndimage.correlate(img, np.array(k, dtype=float), mode=SCIPY_MODE[border])) / 16.0
            for k in ops.GRADIENT_KERNELS
        ],
        axis=0,
    )
    np.testing.assert_allclose(mg, want_mg, rtol=0, atol=1e-9)
    padded = ops.extend(x, 2, 2, 2, 2, border)
    assert torch.equal(ops.background_luminance(x, border, padded)[0, 0], torch.from_numpy(bg))
    assert torch.equal(ops.max_weighted_gradient(x, border, padded)[0, 0], torch.from_numpy(mg))


def test_background_kernel_and_gradient_kernels_are_the_papers() -> None:
    b = np.array(ops.BACKGROUND_KERNEL)
    assert b.sum() == 32 and b[2, 2] == 0 and (b == b.T).all()
    np.testing.assert_array_equal(b, reference.B_KERNEL)
    for got, want in zip(ops.GRADIENT_KERNELS, reference.G_KERNELS, strict=True):
        np.testing.assert_array_equal(np.array(got), want)
        assert np.array(got).sum() == 0


def f2(b: float) -> float:
    return 17.0 * (1.0 - math.sqrt(b / 127.0)) + 3.0 if b <= 127 else 3.0 / 128.0 * (b - 127.0) + 3.0


def test_luminance_adaptation_curve_values_and_continuity() -> None:
    levels = torch.tensor(
        [0.0, 16.0, 31.75, 64.0, 100.0, 126.5, 127.0, 127.5, 128.0, 200.0, 255.0], dtype=torch.float64
    )
    got = ops.luminance_adaptation_curve(levels)
    for value, level in zip(got.tolist(), levels.tolist(), strict=True):
        assert math.isclose(value, f2(level), rel_tol=0, abs_tol=1e-12), level
    assert got[0] == 20.0 and got[6] == 3.0 and math.isclose(float(got[-1]), 6.0, abs_tol=1e-12)
    eps = 1e-9
    near = ops.luminance_adaptation_curve(torch.tensor([127.0 - eps, 127.0 + eps], dtype=torch.float64))
    assert float((near - 3.0).abs().max()) < 1e-6
    grid = torch.linspace(0.0, 255.0, 2041, dtype=torch.float64)
    curve = ops.luminance_adaptation_curve(grid)
    dark, bright = curve[grid <= 127.0], curve[grid >= 127.0]
    assert bool((dark.diff() < 0).all()) and bool((bright.diff() > 0).all())
    assert float(curve.diff().abs().max()) < 1.0  # no jump anywhere (steepest at 0: 17 / sqrt(127 * 8) per step)
    original = levels.clone()
    ops.luminance_adaptation_curve(levels)
    assert torch.equal(levels, original)  # the input is not modified in place


def test_contrast_masking_line_and_namm() -> None:
    bg = torch.tensor([0.0, 100.0, 255.0], dtype=torch.float64)
    mg = torch.tensor([10.0, 0.0, 50.0], dtype=torch.float64)
    got = ops.contrast_masking_line(bg, mg).tolist()
    want = [10.0 * 0.115 + 0.5, 0.5 - 1.0, 50.0 * (0.0001 * 255.0 + 0.115) + 0.5 - 2.55]
    for a, b in zip(got, want, strict=True):
        assert math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    a = torch.tensor([3.0, 5.0, 0.0], dtype=torch.float64)
    b = torch.tensor([5.0, 3.0, 4.0], dtype=torch.float64)
    assert torch.allclose(ops.namm(a, b), torch.tensor([7.1, 7.1, 4.0], dtype=torch.float64), rtol=0, atol=1e-12)
    assert torch.allclose(ops.namm(a, b, 0.5), torch.tensor([6.5, 6.5, 4.0], dtype=torch.float64), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dark_region_remap_on_every_integer(dtype: torch.dtype) -> None:
    b = torch.arange(256, dtype=dtype)
    got = ops.dark_region_remap(b.clone()).tolist()
    for value in range(256):
        if value <= 127:
            exact = Fraction(32) + Fraction(95 * value, 127)  # never exactly k + 1/2: 127 is odd
            want = math.floor(exact + Fraction(1, 2))
        else:
            want = value
        assert got[value] == want, value
    assert got[0] == 32 and got[127] == 127 and got[64] == 80
    assert all(got[v] >= v for v in range(256))


def test_round_half_away_from_zero() -> None:
    x = torch.tensor([-2.5, -1.5, -0.5, -0.49, 0.0, 0.49, 0.5, 1.5, 2.5, 3.2, 254.5], dtype=torch.float64)
    assert ops.round_half_away(x).tolist() == [-3.0, -2.0, -1.0, -0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 255.0]


def test_indicator_at_least_and_power() -> None:
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor([224.0, 224.99, 225.0, 225.01, 1e6, 0.0], dtype=dtype)
        assert ops.indicator_at_least(x, 225.0).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    x = torch.tensor([0.0, 1.0, 2.0, 26.0], dtype=torch.float64)
    want = torch.tensor([0.0, 1.0, 2.0**2.4, 26.0**2.4], dtype=torch.float64)
    assert torch.allclose(ops.power(x, 2.4), want, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------------------------------------------------
# Canny
# --------------------------------------------------------------------------------------------------------------------


def test_canny_taps() -> None:
    gauss, deriv = canny.canny_taps()
    assert gauss.shape == deriv.shape == (13,)  # e = ceil(4 sqrt(2)) = 6
    assert math.isclose(gauss.sum(), 1.0, abs_tol=1e-15)
    assert np.argmax(gauss) == 6 and np.allclose(gauss, gauss[::-1], rtol=0, atol=0)
    assert math.isclose(deriv[deriv > 0].sum(), 1.0, abs_tol=1e-15)
    assert math.isclose(deriv[deriv < 0].sum(), -1.0, abs_tol=1e-15)
    assert deriv[6] == 0 and (deriv[7:] > 0).all() and (deriv[:6] < 0).all()
    ref_gauss, ref_deriv = reference._canny_kernels(math.sqrt(2.0))
    np.testing.assert_allclose(gauss, ref_gauss, rtol=1e-14, atol=0)
    np.testing.assert_allclose(deriv, ref_deriv[::-1], rtol=1e-14, atol=0)  # correlation taps = flipped convolution
    ramp = np.arange(20, dtype=np.float64) * 3.0
    assert np.correlate(ramp, deriv, mode="valid").min() > 0


def test_canny_gradients_point_uphill() -> None:
    yy, xx = np.mgrid[:20, :24].astype(np.float64)
    gx, gy = canny.canny_gradients(as_batch(2.0 * xx))
    assert float(gx[..., :, 6:-6].min()) > 0 and float(gx.min()) >= 0
    assert float(gy.abs().max()) < 1e-9
    gx, gy = canny.canny_gradients(as_batch(3.0 * yy))
    assert float(gy[..., 6:-6, :].min()) > 0 and float(gy.min()) >= 0
    assert float(gx.abs().max()) < 1e-9


@pytest.mark.parametrize("value", [0.0, 77.7, 128.0, 255.0])
def test_canny_finds_nothing_on_a_constant_image(value: float) -> None:
    for dtype in (torch.float32, torch.float64):
        assert not bool(canny.canny_matlab(torch.full((1, 1, 24, 30), value, dtype=dtype), 0.5).any())


def test_canny_marks_the_columns_next_to_a_step() -> None:
    img = np.full((32, 40), 100.0)
    img[:, 20:] = 150.0
    edges = canny.canny_matlab(as_batch(img), 0.5)[0, 0].numpy()
    columns = set(np.flatnonzero(edges.any(axis=0)).tolist())
    assert columns and columns <= {19, 20}
    assert edges[1:-1, 19:21].any(axis=1).all()  # every row but the outermost (never maxima) has an edge
    assert not edges[[0, -1]].any()


def test_canny_closes_a_ring_around_a_disc() -> None:
    yy, xx = np.mgrid[:40, :40]
    radius = np.hypot(yy - 19.5, xx - 19.5)
    img = np.where(radius <= 10.0, 200.0, 50.0)
    edges = canny.canny_matlab(as_batch(img), 0.5)[0, 0].numpy()
    assert edges.sum() > 40
    assert radius[edges].min() >= 8.5 and radius[edges].max() <= 11.5
    _, count = ndimage.label(edges, structure=np.ones((3, 3)))
    assert count == 1
    filled = ndimage.binary_fill_holes(edges)
    assert filled[19:21, 19:21].all()  # the ring is closed: its inside is enclosed


def test_canny_threshold_is_monotone() -> None:
    x = as_batch(smooth_image(40, 48, seed=5))
    previous = None
    counts = []
    for threshold in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0):
        edges = canny.canny_matlab(x, threshold)
        counts.append(int(edges.sum()))
        if previous is not None:
            assert not bool((edges & ~previous).any()), threshold  # a higher threshold keeps a subset
        previous = edges
    assert counts[0] > counts[-1] and counts[0] > 0
    assert counts[-1] == 0  # nothing exceeds the maximum


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_canny_matches_reference_and_thresholds_per_image(seed: int) -> None:
    images = [smooth_image(30, 36, seed), random_image(30, 36, seed), 0.25 * smooth_image(30, 36, seed + 10)]
    thresholds = torch.tensor([0.5, 0.7, 0.3], dtype=torch.float64)
    batch = torch.from_numpy(np.stack(images))[:, None]
    together = canny.canny_matlab(batch, thresholds)
    # The device path's hysteresis (iterated max-pooling) gives the same edges as the CPU's sparse labelling.
    assert torch.equal(canny.canny_matlab(batch, thresholds, method="iterate"), together)
    for i, img in enumerate(images):
        want = reference.canny_matlab(img, float(thresholds[i]))
        np.testing.assert_array_equal(together[i, 0].numpy(), want)
        np.testing.assert_array_equal(canny.canny_matlab(as_batch(img), float(thresholds[i]))[0, 0].numpy(), want)
    assert together[2].any()  # the low-contrast image keeps its edges: normalisation is per image


# --------------------------------------------------------------------------------------------------------------------
# Hysteresis and dilation
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "shape"),
    [(0, (1, 1, 20, 30)), (1, (2, 1, 17, 23)), (2, (1, 1, 33, 9)), (3, (2, 1, 25, 25)), (4, (3, 1, 12, 40))],
)
def test_hysteresis_iterate_equals_label(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    for density in (0.3, 0.5, 0.65):
        weak = torch.from_numpy(rng.random(shape) < density)
        strong = weak & torch.from_numpy(rng.random(shape) < 0.03)
        label = canny.hysteresis(weak, strong, method="sparse")
        iterate = canny.hysteresis(weak, strong, method="iterate")
        assert label.dtype == iterate.dtype == torch.bool
        assert torch.equal(label, iterate), density
        assert torch.equal(canny.hysteresis(weak, strong), label)  # "auto" on the CPU
        assert bool((label <= weak).all()) and bool((strong <= label).all())


def test_hysteresis_keeps_8_connected_components_with_a_strong_pixel() -> None:
    weak = torch.zeros(1, 1, 8, 10, dtype=torch.bool)
    weak[0, 0, 1, 1] = weak[0, 0, 2, 2] = weak[0, 0, 3, 3] = True  # diagonal chain: one 8-connected component
    weak[0, 0, 6, 5:9] = True  # a separate run without a strong pixel
    strong = torch.zeros_like(weak)
    strong[0, 0, 1, 1] = True
    for method in ("sparse", "iterate"):
        kept = canny.hysteresis(weak, strong, method=method)[0, 0]
        assert kept.nonzero().tolist() == [[1, 1], [2, 2], [3, 3]], method
    long_snake = torch.zeros(1, 1, 9, 40, dtype=torch.bool)
    long_snake[0, 0, ::2, :] = True
    long_snake[0, 0, 1::4, -1] = True
    long_snake[0, 0, 3::4, 0] = True  # a serpentine much longer than the 16 steps of one iterate round
    start = torch.zeros_like(long_snake)
    start[0, 0, 0, 0] = True
    assert torch.equal(canny.hysteresis(long_snake, start, method="iterate"), long_snake)


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_dilate_disk_matches_scipy(radius: int) -> None:
    rng = np.random.default_rng(radius)
    mask = rng.random((2, 1, 19, 26)) < 0.04
    mask[0, 0, 0, 0] = mask[1, 0, -1, 5] = mask[1, 0, 7, -1] = True  # seeds on the border
    offsets = np.arange(-radius, radius + 1)
    footprint = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2
    got = ops.dilate_disk(torch.from_numpy(mask), radius).numpy()
    for n in range(2):
        want = ndimage.binary_dilation(mask[n, 0], structure=footprint, border_value=0)
        np.testing.assert_array_equal(got[n, 0], want)
    assert ops.disk_row_half_widths(radius) == [int(footprint[i].sum()) // 2 for i in range(2 * radius + 1)]
    assert torch.equal(ops.dilate_disk(torch.from_numpy(mask), 0), torch.from_numpy(mask))


def test_nearest_sqrt_gives_the_float32_nearest_the_root() -> None:
    """torch's CPU float32 sqrt is not the nearest on every CPU (MKL's vector math: 80 % on an AMD EPYC); the models'
    roots are, as NumPy's are, so that the NumPy form and the compiled kernels break Canny's ties alike."""
    x = torch.rand(200_000, generator=torch.Generator().manual_seed(1), dtype=torch.float32) * 1000
    nearest = np.sqrt(x.numpy().astype(np.float64)).astype(np.float32)
    y = x.clone()
    assert ops.nearest_sqrt_(y) is y and y.dtype == torch.float32 and np.array_equal(y.numpy(), nearest)  # in place
    assert np.array_equal(np.sqrt(x.numpy()), nearest)  # NumPy's float32 sqrt, which the NumPy form uses
    grid = x[:40_000].clone().reshape(200, 200)
    view = grid.t()[::2]  # not contiguous: written through to its base, as sqrt_ writes
    ops.nearest_sqrt_(view)
    assert np.array_equal(grid.t()[::2].numpy(), nearest[:40_000].reshape(200, 200).T[::2])
    assert np.array_equal(grid.t()[1::2].numpy(), x[:40_000].reshape(200, 200).T[1::2].numpy())  # the rest untouched
