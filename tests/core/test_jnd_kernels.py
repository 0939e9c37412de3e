"""The compiled CPU kernels (jndviewer.core.jnd.kernels) against the torch code they replace on the CPU."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from jndviewer.core.jnd import canny, kernels, ops, wu2013
from tests.core.test_jnd_models import natural_image


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_exp2_is_accurate_to_float32_rounding_over_the_clamped_range() -> None:
    exponents = np.linspace(-100.0, 100.0, 20001, dtype=np.float32)
    constants = np.array([*kernels._EXP2_TAYLOR, 0.5, 100.0, 127.0, 2.0**23], dtype=np.float32)
    got = np.array([kernels._exp2(e, constants) for e in exponents], dtype=np.float64)
    relative = np.abs(got / np.exp2(exponents.astype(np.float64)) - 1.0)
    assert relative.max() < 2.5e-7


def torch_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "use_kernels", lambda x: False)


def prepared(img: np.ndarray, params: wu2013.Wu2013Params) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    luma = torch.from_numpy(img.astype(np.float32))[None, None]
    margin = params.patch_radius + params.search_radius
    extended = ops.extend(luma, margin, margin, margin, margin, "replicate")
    return luma, extended, wu2013._sigma_terms(luma, params) * wu2013.LOG2_E


@pytest.mark.parametrize(("tile_rows", "tile_cols"), [(32, 256), (7, 13)])
@pytest.mark.parametrize("y0", [0, 9])
def test_wu2013_kernel_equals_the_torch_prediction_rows(
    monkeypatch: pytest.MonkeyPatch, tile_rows: int, tile_cols: int, y0: int
) -> None:
    params = wu2013.Wu2013Params()
    luma, extended, inverse = prepared(natural_image(30, 41, seed=3), params)
    centre, inverse = luma[..., y0 : y0 + 15, :], inverse[..., y0 : y0 + 15, :]
    r, big_r, limit = params.patch_radius, params.search_radius, wu2013.EXP2_ARGUMENT_LIMIT
    got, got_top, got_stabiliser = kernels.wu2013_prediction(
        extended, centre, inverse, y0, r, big_r, limit, None, None, tile_rows=tile_rows, tile_cols=tile_cols
    )
    # the second pass of a clamped chunk: given stabiliser, each pixel's top exponent subtracted
    shifted, shifted_top, _ = kernels.wu2013_prediction(
        extended, centre, inverse, y0, r, big_r, limit, got_stabiliser, got_top, tile_rows=tile_rows,
        tile_cols=tile_cols,
    )  # fmt: skip
    torch_path(monkeypatch)
    want, want_top, want_stabiliser = wu2013._prediction_rows(extended, centre, inverse, params, y0, None)
    want_shifted, want_shifted_top, _ = wu2013._prediction_rows(
        extended, centre, inverse, params, y0, want_stabiliser, shift=want_top
    )
    torch.testing.assert_close(got_stabiliser, want_stabiliser, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(got_top, want_top, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(shifted_top, want_shifted_top, rtol=1e-5, atol=1e-4)
    assert float(shifted_top.max()) == 0.0  # the redo makes each pixel's largest exponent exactly 0
    for before_rounding, rounded in ((got, want), (shifted, want_shifted)):
        # the kernel returns the weighted mean before rounding; torch's 2^x and the kernel's agree to ~1e-7
        difference = (ops.round_half_away(before_rounding) - rounded).abs()
        assert float(difference.max()) <= 1.0
        assert float((difference > 0).float().mean()) <= 0.01
        assert float((before_rounding - rounded).abs().max()) <= 0.5 + 1e-3


@pytest.mark.parametrize("kind", ["natural", "white noise"])
def test_wu2013_prediction_with_the_kernel_equals_the_torch_path(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """White noise clamps most pixels, so the chunk is redone with the shift; the natural image takes the per-pixel
    exact recompute or none."""
    rng = np.random.default_rng(5)
    img = natural_image(36, 44, seed=4) if kind == "natural" else rng.integers(0, 256, (24, 30)).astype(np.float64)
    params = wu2013.Wu2013Params(rows_per_chunk=16)
    luma = torch.from_numpy(img.astype(np.float32))[None, None]
    got = wu2013.autoregressive_prediction(luma, params)
    torch_path(monkeypatch)
    want = wu2013.autoregressive_prediction(luma, params)
    difference = (got - want).abs()
    assert float(difference.max()) <= 1.0
    assert float((difference > 0).float().mean()) <= 0.01


def test_kernels_serve_only_float32_on_the_cpu() -> None:
    assert kernels.use_kernels(torch.zeros(1, dtype=torch.float32))
    assert not kernels.use_kernels(torch.zeros(1, dtype=torch.float64))


def luma_batch(seed: int, height: int = 45, width: int = 70) -> torch.Tensor:
    """Two non-integer luma planes (the explorer's Y is BT.601 of RGB, not integers)."""
    rng = np.random.default_rng(seed)
    planes = [natural_image(height, width, seed=seed + k) + rng.uniform(-0.5, 0.5, (height, width)) for k in range(2)]
    return torch.from_numpy(np.stack(planes)[:, None].astype(np.float32))


OPERATORS = {
    "background_luminance": lambda x, border: (ops.background_luminance(x, border),),
    "max_weighted_gradient": lambda x, border: (ops.max_weighted_gradient(x, border),),
    "canny_gradients": lambda x, border: canny.canny_gradients(x),
}


@pytest.mark.parametrize("border", ["replicate", "zero"])
@pytest.mark.parametrize("operator", OPERATORS)
def test_compiled_operators_equal_the_torch_path(monkeypatch: pytest.MonkeyPatch, operator: str, border: str) -> None:
    x = luma_batch(11)
    got = OPERATORS[operator](x, border)
    torch_path(monkeypatch)
    want = OPERATORS[operator](x, border)
    for compiled, eager in zip(got, want, strict=True):
        assert compiled.shape == eager.shape == x.shape
        torch.testing.assert_close(compiled, eager, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("name", ["chou1995", "yang2005", "wu2017"])
def test_models_with_the_kernels_equal_the_torch_path(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from jndviewer.core.jnd import create_model

    x = luma_batch(21, 60, 90)
    got = create_model(name)(x)
    torch_path(monkeypatch)
    want = create_model(name)(x)
    torch.testing.assert_close(got.threshold, want.threshold, rtol=1e-5, atol=1e-4)
    assert got.components.keys() == want.components.keys()
    for name in want.components:
        torch.testing.assert_close(got.components[name], want.components[name], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("border", ["replicate", "zero", "symmetric"])
def test_separable_correlation_equals_the_torch_path(monkeypatch: pytest.MonkeyPatch, border: str) -> None:
    x = luma_batch(31)
    column_taps, row_taps = ops.gaussian_taps(7, 0.8), np.array([0.25, -0.5, 0.0, 1.0, 0.25])
    got = ops.correlate_separable(x, column_taps, row_taps, border)
    torch_path(monkeypatch)
    want = ops.correlate_separable(x, column_taps, row_taps, border)
    assert got.shape == want.shape == x.shape
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("low", [0.05, 0.2, 0.4])
def test_canny_non_maximum_suppression_kernel_equals_the_torch_path(
    monkeypatch: pytest.MonkeyPatch, low: float
) -> None:
    """Bit for bit: same weak-edge indices and normalised magnitudes, per image of a batch with different peaks
    (plateaus and a flat image included, where MATLAB's rounding of the interpolation decides)."""
    x = luma_batch(41, 50, 64)
    x[1] *= 0.5
    x[1, 0, 10:30, 20:40] = 100.0  # a plateau with a step around it
    x = torch.cat([x, torch.full_like(x[:1], 77.0)])  # no gradient at all: peak 1, no edges
    grad_x, grad_y = canny.canny_gradients(x)
    magnitude = torch.addcmul(grad_x * grad_x, grad_y, grad_y).sqrt_()
    peak = magnitude.amax(dim=(-1, -2, -3), keepdim=True)
    peak = torch.where(peak > 1e-3, peak, torch.ones_like(peak))
    threshold = torch.full_like(peak, low)
    got = canny.canny_weak_edges(grad_x, grad_y, magnitude, peak, threshold)
    torch_path(monkeypatch)
    want = canny.canny_weak_edges(grad_x, grad_y, magnitude, peak, threshold)
    assert got[0].numel() > 0
    assert torch.equal(got[0], want[0])
    assert torch.equal(got[1], want[1])


@pytest.mark.parametrize("border", ["replicate", "zero"])
def test_orientation_complexity_kernel_equals_the_torch_path(monkeypatch: pytest.MonkeyPatch, border: str) -> None:
    from jndviewer.core.jnd import wu2017

    x = luma_batch(51)
    x[0, 0, 5:20, 5:30] = 90.0  # plain pixels beside textured ones
    bits, textured = wu2017.orientation_bits(x)
    got = wu2017.orientation_complexity(bits, textured, border == "zero")
    torch_path(monkeypatch)
    want = wu2017.orientation_complexity(bits, textured, border == "zero")
    assert torch.equal(got, want)
    assert float(want.min()) == 1.0 and float(want.max()) > 3.0
