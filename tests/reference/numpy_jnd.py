"""Independent NumPy/SciPy (float64) reference of the pixel-wise JND models.

This module follows ``docs/jnd_models.md`` (the contract) literally and is written without looking at the
torch implementation in ``jndviewer/core/jnd/``: it is the cross-check for it. Section numbers in the comments
("§1", "§4.2", ...) refer to that document. Every function takes one 2-D float64 luma image Y (H x W) in
[0, 255].

Run ``python tests/reference/numpy_jnd.py`` for a self-check against the analytic values of the spec (§6) and
of the step-edge test vector, plus a timing of every model on a 512 x 512 random image.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

BORDERS = ("replicate", "zero")

# §1: background-luminance kernel B (sums to 32) and Chou's directional operators G1..G4 (each later / 16).
B_KERNEL = np.array(
    [[1, 1, 1, 1, 1], [1, 2, 2, 2, 1], [1, 2, 0, 2, 1], [1, 2, 2, 2, 1], [1, 1, 1, 1, 1]], dtype=np.float64
)
G_KERNELS = tuple(
    np.array(k, dtype=np.float64)
    for k in (
        [[0, 0, 0, 0, 0], [1, 3, 8, 3, 1], [0, 0, 0, 0, 0], [-1, -3, -8, -3, -1], [0, 0, 0, 0, 0]],
        [[0, 0, 1, 0, 0], [0, 8, 3, 0, 0], [1, 3, 0, -3, -1], [0, 0, -3, -8, 0], [0, 0, -1, 0, 0]],
        [[0, 0, 1, 0, 0], [0, 0, 3, 8, 0], [-1, -3, 0, 3, 1], [0, -8, -3, 0, 0], [0, 0, -1, 0, 0]],
        [[0, 1, 0, -1, 0], [0, 3, 0, -3, 0], [0, 8, 0, -8, 0], [0, 3, 0, -3, 0], [0, 1, 0, -1, 0]],
    )
)


# ------------------------------------------------------------------------------------------------------------
# §1 shared building blocks
# ------------------------------------------------------------------------------------------------------------


def _check_border(border: str) -> None:
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")


def _as_image(y: np.ndarray) -> Array:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D H x W luma image, got shape {arr.shape}")
    return arr


def filt(x: np.ndarray, kernel: np.ndarray, border: str) -> Array:
    """§ Notation: 'same'-size 2-D correlation with replicate or zero extension."""
    _check_border(border)
    x = np.asarray(x, dtype=np.float64)
    if border == "replicate":
        return ndimage.correlate(x, kernel, mode="nearest")
    return ndimage.correlate(x, kernel, mode="constant", cval=0.0)


def matlab_round(x: np.ndarray) -> Array:
    """MATLAB ``round``: half away from zero."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def la_curve(bg: np.ndarray) -> Array:
    """§1 LA curve f2 (Chou & Li Eq. 5-6)."""
    bg = np.asarray(bg, dtype=np.float64)
    low = 17.0 * (1.0 - np.sqrt(np.maximum(bg, 0.0) / 127.0)) + 3.0
    high = 3.0 / 128.0 * (bg - 127.0) + 3.0
    return np.where(bg <= 127.0, low, high)


def chou_line(bg: np.ndarray, mg: np.ndarray) -> Array:
    """§1 Chou's contrast-masking line f1 (Eq. 2-4)."""
    return mg * (0.0001 * bg + 0.115) + (0.5 - 0.01 * bg)


def dark_remap(b: np.ndarray) -> Array:
    """§1 dark-region remap (func_bg_adjust, min_lum = 32) of an integer-valued background map."""
    b = np.asarray(b, dtype=np.float64)
    return np.where(b <= 127.0, np.floor(32.0 + b * 95.0 / 127.0 + 0.5), b)


def namm(a: np.ndarray, b: np.ndarray) -> Array:
    """§1 NAMM combination with C = 0.3."""
    return a + b - 0.3 * np.minimum(a, b)


def gauss_kernel(n: int, s: float) -> Array:
    """§1 gauss(n, s): MATLAB fspecial('gaussian', n, s) on integer offsets, sum 1."""
    r = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    yy, xx = np.meshgrid(r, r, indexing="ij")
    k = np.exp(-(xx**2 + yy**2) / (2.0 * s * s))
    return k / k.sum()


def box_kernel(n: int) -> Array:
    """§1 box(n): n x n of 1/n^2."""
    return np.full((n, n), 1.0 / (n * n))


def lstd(x: np.ndarray, n: int, border: str) -> Array:
    """§1 lstd(X, n): local population std over an n x n window with the mode's extension.

    Evaluated in the two-pass form mean((X - mean_window)^2), which equals the spec's
    filt(X^2, box) - filt(X, box)^2 exactly (the extended pixels are part of the window in both) but has no
    cancellation error: a constant image gives exactly 0.
    """
    _check_border(border)
    x = np.asarray(x, dtype=np.float64)
    h, w = x.shape
    r = n // 2
    mean = filt(x, box_kernel(n), border)
    ext = np.pad(x, r, mode="edge") if border == "replicate" else np.pad(x, r, mode="constant")
    acc = np.zeros_like(x)
    for dy in range(n):
        for dx in range(n):
            acc += (ext[dy : dy + h, dx : dx + w] - mean) ** 2
    return np.sqrt(np.maximum(acc / (n * n), 0.0))


def background(y: np.ndarray, border: str) -> Array:
    """§1 bg = filt(Y, B) / 32 (float)."""
    return filt(y, B_KERNEL, border) / 32.0


def max_gradient(y: np.ndarray, border: str) -> Array:
    """§1 mg = max_k |filt(Y, G_k) / 16|."""
    return np.max(np.stack([np.abs(filt(y, g, border) / 16.0) for g in G_KERNELS]), axis=0)


def disk(r: int) -> BoolArray:
    """§1 disk(r): offsets with dy^2 + dx^2 <= r^2."""
    o = np.arange(-r, r + 1)
    return (o[:, None] ** 2 + o[None, :] ** 2) <= r * r


def dilate(mask: np.ndarray, r: int) -> BoolArray:
    """Binary dilation with disk(r); pixels outside the image count as 0. r = 0: no dilation."""
    mask = np.asarray(mask, dtype=bool)
    if r <= 0:
        return mask.copy()
    return ndimage.binary_dilation(mask, structure=disk(r), border_value=0)


def _canny_kernels(sigma: float) -> tuple[Array, Array]:
    """§1 Canny step 1: 1-D Gaussian g on x = -e..e (e = ceil(4 sigma)) and its normalised derivative d."""
    e = math.ceil(4.0 * sigma)
    x = np.arange(-e, e + 1, dtype=np.float64)
    g = np.exp(-(x**2) / (2.0 * sigma * sigma))
    g /= g.sum()
    # MATLAB gradient(): central differences inside, one-sided differences at the two ends.
    d = np.empty_like(g)
    d[1:-1] = (g[2:] - g[:-2]) / 2.0
    d[0] = g[1] - g[0]
    d[-1] = g[-1] - g[-2]
    pos, neg = d > 0, d < 0
    d[pos] /= d[pos].sum()
    d[neg] /= np.abs(d[neg].sum())
    return g, d


def _conv1d(x: Array, kernel: Array, axis: int) -> Array:
    """1-D *convolution* (flipped kernel) with replicate extension."""
    return ndimage.correlate1d(x, kernel[::-1], axis=axis, mode="nearest")


def _neighbour(a: Array, dy: int, dx: int) -> Array:
    """a[y + dy, x + dx] for |dy|, |dx| <= 1 (values on the outer frame are never used by the NMS)."""
    h, w = a.shape
    p = np.pad(a, 1, mode="edge")
    return p[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def canny_matlab(y: np.ndarray, threshold: float, sigma: float = 2**0.5) -> BoolArray:
    """§1 canny(Y, T): MATLAB edge(I, 'canny', T) semantics, returned as a bool edge map."""
    y = _as_image(y)
    g, d = _canny_kernels(sigma)
    # Step 2: always replicate extension; conv_x runs along columns (axis 1), conv_y along rows (axis 0).
    gx = _conv1d(_conv1d(y, g, axis=0), d, axis=1)
    gy = _conv1d(_conv1d(y, g, axis=1), d, axis=0)
    # Step 3: magnitude, floating-point residue below 1e-3 set to 0, then normalised by its maximum.
    mag = np.hypot(gx, gy)
    mag[mag < 1e-3] = 0.0
    mmax = mag.max() if mag.size else 0.0
    if mmax > 0:
        mag = mag / mmax
    # Step 4: thresholds.
    high, low = float(threshold), 0.4 * float(threshold)
    # Step 5: non-maximum suppression, sector table of the spec taken literally.
    ix, iy = gx, gy
    sectors = (
        ((iy <= 0) & (ix > -iy)) | ((iy >= 0) & (ix < -iy)),
        ((ix > 0) & (-iy >= ix)) | ((ix < 0) & (-iy <= ix)),
        ((ix <= 0) & (ix > iy)) | ((ix >= 0) & (ix < iy)),
        ((iy < 0) & (ix <= iy)) | ((iy > 0) & (ix >= iy)),
    )
    ratio_is_yx = (True, False, False, True)  # d = |iy/ix| in sectors 1 and 4, |ix/iy| in sectors 2 and 3
    # (side 1: first, second), (side 2: first, second) as (dy, dx) offsets.
    neighbours = (
        (((0, 1), (-1, 1)), ((0, -1), (1, -1))),
        (((-1, 0), (-1, 1)), ((1, 0), (1, -1))),
        (((-1, 0), (-1, -1)), ((1, 0), (1, 1))),
        (((0, -1), (-1, -1)), ((0, 1), (1, 1))),
    )
    interior = np.zeros(mag.shape, dtype=bool)
    interior[1:-1, 1:-1] = True
    local_max = np.zeros(mag.shape, dtype=bool)
    for in_sector, yx, (side1, side2) in zip(sectors, ratio_is_yx, neighbours, strict=True):
        num, den = (iy, ix) if yx else (ix, iy)
        # The denominator is never 0 inside its sector; d is only needed there.
        ratio = np.abs(np.divide(num, den, out=np.zeros_like(mag), where=in_sector))
        m1 = _neighbour(mag, *side1[0]) * (1.0 - ratio) + _neighbour(mag, *side1[1]) * ratio
        m2 = _neighbour(mag, *side2[0]) * (1.0 - ratio) + _neighbour(mag, *side2[1]) * ratio
        local_max |= in_sector & interior & (mag >= m1) & (mag >= m2)
    # Step 6: weak / strong.
    weak = local_max & (mag > low)
    strong = weak & (mag > high)
    # Step 7: hysteresis, 8-connected components of weak that contain a strong pixel.
    labels, n = ndimage.label(weak, structure=np.ones((3, 3), dtype=bool))
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels]


def edge_mask(y: np.ndarray, threshold: float, r: int) -> BoolArray:
    """§1 edge_mask(Y, T, r) = dilate(canny(Y, T), disk(r))."""
    return dilate(canny_matlab(y, threshold), r)


# ------------------------------------------------------------------------------------------------------------
# §2 Chou & Li 1995
# ------------------------------------------------------------------------------------------------------------


def chou1995(y: np.ndarray, border: str = "replicate") -> dict[str, np.ndarray]:
    """§2: JND = max(f2(bg), f1(bg, mg)); zero mode adds nothing beyond zero extension."""
    _check_border(border)
    y = _as_image(y)
    bg = background(y, border)
    mg = max_gradient(y, border)
    la = la_curve(bg)
    cm = chou_line(bg, mg)
    return {"threshold": np.maximum(la, cm), "luminance_adaptation": la, "contrast_masking": cm}


# ------------------------------------------------------------------------------------------------------------
# §3 Yang et al. 2005 (paper form)
# ------------------------------------------------------------------------------------------------------------


def yang2005(y: np.ndarray, border: str = "replicate") -> dict[str, np.ndarray]:
    """§3: JND = namm(f2(bg), 0.117 * mg * We) with the Canny(0.5) edge weight We."""
    _check_border(border)
    y = _as_image(y)
    la = la_curve(background(y, border))
    edges = canny_matlab(y, 0.5)
    w0 = np.where(edges, 0.1, 1.0)
    we = filt(w0, gauss_kernel(7, 0.8), border)
    tm = 0.117 * max_gradient(y, border) * we
    return {"threshold": namm(la, tm), "luminance_adaptation": la, "texture_masking": tm, "edge_weight": we}


# ------------------------------------------------------------------------------------------------------------
# §4 Wu et al. 2013 (free-energy principle)
# ------------------------------------------------------------------------------------------------------------

_WU13_R_SMALL = 3  # r: patch half-size (7 x 7 windows)
_WU13_R_LARGE = 10  # R: search half-size
_WU13_MIN_SIGMA = 8.0


def _floor_bg(y: np.ndarray, border: str) -> Array:
    """floor(filt(Y, B) / 32), the integer background of the Wu reference code."""
    return np.floor(filt(y, B_KERNEL, border) / 32.0)


def _ar_predict(y: Array, h2: Array, border: str) -> Array:
    """§4.2: non-local AR prediction over the 440 offsets of [-10, 10]^2 without (0, 0).

    The weights w = exp(-D / h2) are accumulated relative to the running per-pixel maximum weight (all sums
    rescaled by 1 / wmax, as in a stable softmax). P is invariant to a common factor on all weights, so this
    is the spec's value exactly; it only avoids 0/0 where every w underflows in float64 (high-contrast noise).
    """
    r, big_r = _WU13_R_SMALL, _WU13_R_LARGE
    pad = r + big_r  # 13
    h, w = y.shape
    ext = np.pad(y, pad, mode="symmetric" if border == "zero" else "edge")
    # Centre patches: rows/cols of the extended image touched by the 7 x 7 windows of the H x W output.
    lo = pad - r  # 10
    centre = ext[lo : lo + h + 2 * r, lo : lo + w + 2 * r]
    num = np.zeros_like(y)  # sum of w * Y(y+u, x+v), in units of wmax
    den = np.zeros_like(y)  # sum of w, in units of wmax
    log_wmax = np.full_like(y, -np.inf)  # log of wmax (wmax starts at 0)
    for u in range(-big_r, big_r + 1):
        for v in range(-big_r, big_r + 1):
            if u == 0 and v == 0:
                continue
            shifted = ext[lo + u : lo + u + h + 2 * r, lo + v : lo + v + w + 2 * r]
            sq = (centre - shifted) ** 2
            # 7 x 7 box mean, keeping only the fully interior ("valid") part -> H x W.
            dist = ndimage.uniform_filter(sq, size=2 * r + 1, mode="nearest")[r : r + h, r : r + w]
            log_w = -dist / h2
            new_max = np.maximum(log_wmax, log_w)
            # exp(old max - new max): 1 where the maximum did not grow, 0 on the first offset (num = den = 0).
            grew = log_w > log_wmax
            rescale = np.exp(log_wmax - new_max, out=np.ones_like(y), where=grew)
            wgt = np.exp(log_w - new_max)
            num = num * rescale + wgt * ext[pad + u : pad + u + h, pad + v : pad + v + w]
            den = den * rescale + wgt
            log_wmax = new_max
    # P = round((num + wmax * Y) / (den + wmax)); wmax = 1 in the rescaled units.
    return matlab_round((num + y) / (den + 1.0))


def wu2013(y: np.ndarray, border: str = "replicate") -> dict[str, np.ndarray]:
    """§4: free-energy JND = namm(namm(LA, CM), DIS) on the AR prediction and its residual."""
    _check_border(border)
    y = _as_image(y)
    # §4.1 sigma map.
    s_min = np.maximum(la_curve(dark_remap(_floor_bg(y, border))), _WU13_MIN_SIGMA)
    s = lstd(y, 2 * _WU13_R_SMALL + 1, border)
    with np.errstate(divide="ignore"):
        h2 = np.where(s <= s_min, s_min**2, s_min**3 / s)
    # §4.2 AR prediction, §4.3 disorder residual.
    pred = _ar_predict(y, h2, border)
    e = np.abs(y - pred)
    # §4.4 orderly part on P.
    b = _floor_bg(pred, border)
    la = la_curve(dark_remap(b))
    dm = max_gradient(pred, border)
    dm = 80.0 * np.log10(1.0 + dm / 80.0) / np.log10(4.0)
    cm = np.abs(dm * (0.0001 * b + 0.115) + 0.5 - 0.01 * b)
    # §4.5 disorder JND.
    e_bar = filt(e, gauss_kernel(7, 7.0 / 3.0), border)
    e = np.where(lstd(y, 7, border) < 10.0, np.minimum(e_bar, e), e)
    se = filt(1.0 - 0.8 * edge_mask(y, 0.7, 2), gauss_kernel(5, 0.8), border)
    dis = e * se
    # §4.6 fusion, §4.7 zero-mode valid mask (MATLAB rows/cols r..N-r, 1-based).
    jnd = namm(namm(la, cm), dis)
    if border == "zero":
        r = _WU13_R_SMALL
        valid = np.zeros(jnd.shape, dtype=bool)
        # 1-based r..N-r is 0-based r-1..N-r-1: the first 2 and the last 3 rows/cols are zeroed.
        valid[r - 1 : jnd.shape[0] - r, r - 1 : jnd.shape[1] - r] = True
        jnd = np.where(valid, jnd, 0.0)
    return {
        "threshold": jnd,
        "prediction": pred,
        "luminance_adaptation": la,
        "contrast_masking": cm,
        "disorder": dis,
        "edge_protection": se,
    }


# ------------------------------------------------------------------------------------------------------------
# §5 Wu et al. 2017 (pattern complexity)
# ------------------------------------------------------------------------------------------------------------


def orientation_complexity(y: Array, border: str) -> Array:
    """§5.4: number of distinct quantised orientations in the 3 x 3 neighbourhood (1..9)."""
    # Unscaled sums of differences (3 Gx, 3 Gy): the test |G| >= 5 is evaluated exactly as Sx^2 + Sy^2 >= 225.
    kx = np.array([[-1.0, 0.0, 1.0]] * 3)
    ky = kx.T
    # One-pixel extension: symmetric in zero mode, which for one pixel equals replicate; replicate otherwise.
    sx = ndimage.correlate(y, kx, mode="nearest")
    sy = ndimage.correlate(y, ky, mode="nearest")
    valid = sx**2 + sy**2 >= 225.0
    theta = matlab_round(np.arctan2(sy, sx) * 180.0 / np.pi)
    theta = np.where(theta > 90.0, theta - 180.0, theta)
    theta = np.where(theta < -90.0, theta + 180.0, theta)
    theta = theta + 90.0
    q = np.where(valid, matlab_round(theta / 12.0), 16.0)
    # Count distinct values among the 9 neighbours (replicated q map beyond the border).
    h, w = q.shape
    qp = np.pad(q, 1, mode="edge")
    stack = np.stack([qp[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    stack.sort(axis=0)
    count = 1.0 + np.count_nonzero(np.diff(stack, axis=0) != 0, axis=0)
    count = np.where(valid, count, 1.0)
    if border == "zero":
        count[0, :] = count[-1, :] = 1.0
        count[:, 0] = count[:, -1] = 1.0
    return count


def wu2017(y: np.ndarray, border: str = "replicate") -> dict[str, np.ndarray]:
    """§5: JND = namm(LA, max(LC, PM * EP)) with pattern-complexity masking."""
    _check_border(border)
    y = _as_image(y)
    # §5.1 luminance adaptation.
    la = 0.7 * la_curve(dark_remap(_floor_bg(y, border)))
    # §5.2 luminance contrast.
    lc_raw = lstd(y, 5, border)
    if border == "zero":
        lc_raw[:2, :] = lc_raw[-2:, :] = 0.0
        lc_raw[:, :2] = lc_raw[:, -2:] = 0.0
    # §5.3 contrast masking.
    lc = 1.84 * lc_raw**2.4 / (lc_raw**2 + 26.0**2)
    # §5.4 pattern complexity.
    pc = filt(orientation_complexity(y, border), gauss_kernel(3, 1.0), border)
    # §5.5 pattern masking.
    ct = 0.3 * pc**2.7 / (pc**2 + 1.0)
    pm = lc_raw * ct
    # §5.6 edge protection.
    eh = max_gradient(y, border)
    if border == "zero":
        eh = np.pad(eh[2:-2, 2:-2], 2, mode="symmetric")
    eh_max = float(eh.max())
    t = min(60.0 / eh_max, 0.8) if eh_max > 0 else 0.8
    ep = filt(1.0 - edge_mask(y, t, 3), gauss_kernel(5, 0.8), border)
    pmp = pm * ep
    # §5.7 visual masking, §5.8 JND.
    vm = np.maximum(lc, pmp)
    return {
        "threshold": namm(la, vm),
        "luminance_adaptation": la,
        "contrast_masking": lc,
        "pattern_complexity": pc,
        "pattern_masking": pmp,
        "edge_protection": ep,
        "visual_masking": vm,
    }


MODELS: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "chou1995": chou1995,
    "yang2005": yang2005,
    "wu2013": wu2013,
    "wu2017": wu2017,
}


# ------------------------------------------------------------------------------------------------------------
# Manual self-check
# ------------------------------------------------------------------------------------------------------------


def _expected_constant(model: str, v: float) -> float:
    """§6 analytic value of a constant image v at interior pixels."""
    if model in ("chou1995", "yang2005"):
        return float(la_curve(np.float64(v)))
    if model == "wu2017":
        return float(0.7 * la_curve(dark_remap(np.float64(v))))
    return float(namm(la_curve(dark_remap(np.float64(v))), np.float64(abs(0.5 - 0.01 * v))))


def _self_check() -> None:
    """Print and assert the analytic values of §6 and the Chou step-edge vector; time each model."""
    import time

    ok = True
    size = 40
    print("constant images (interior pixel value; expected)")
    for border in BORDERS:
        for name, fn in MODELS.items():
            row = []
            for v in (0.0, 128.0, 255.0):
                out = fn(np.full((size, size), v), border=border)["threshold"]
                inner = out[8:-8, 8:-8]
                exp = _expected_constant(name, v)
                good = np.allclose(inner, exp, rtol=0, atol=1e-9)
                ok &= bool(good)
                row.append(f"{v:3.0f}: {inner.mean():8.4f} ({exp:.4f}){'' if good else ' MISMATCH'}")
            print(f"  {border:9s} {name:9s} " + "   ".join(row))

    # §4.7: wu2013 zero mode zeroes the first 2 and last 3 rows/cols, replicate mode nothing.
    frame = wu2013(np.full((size, size), 128.0), border="zero")["threshold"]
    zero_rows = [i for i in range(size) if (frame[i] == 0).all()]
    zero_cols = [i for i in range(size) if (frame[:, i] == 0).all()]
    want = [0, 1, size - 3, size - 2, size - 1]
    good = zero_rows == want and zero_cols == want and bool((frame[2:-3, 2:-3] > 0).all())
    good &= bool((wu2013(np.full((size, size), 128.0))["threshold"] > 0).all())
    ok &= good
    print(f"wu2013 zero-mode zeroed rows {zero_rows} cols {zero_cols}{'' if good else ' MISMATCH'}")

    print("step edge a=100 | b=150 (chou1995, interior rows)")
    step = np.full((size, size), 100.0)
    step[:, size // 2 :] = 150.0
    dark, bright = size // 2 - 1, size // 2
    for border in BORDERS:
        out = chou1995(step, border=border)
        mg = max_gradient(step, border)[8:-8]
        bg = background(step, border)[8:-8]
        jnd = out["threshold"][8:-8]
        good = (
            np.allclose(mg[:, [dark, bright]], 50.0)
            and np.allclose(bg[:, dark], 120.3125)
            and np.allclose(bg[:, bright], 129.6875)
            and np.allclose(jnd[:, dark], 5.6484375, atol=1e-9)
            and np.allclose(jnd[:, bright], 5.6015625, atol=1e-9)
            and np.allclose(mg[:, [dark - 1, bright + 1]], 50.0 / 16.0)
            and np.allclose(mg[:, [dark - 2, bright + 2]], 0.0)
        )
        ok &= bool(good)
        print(
            f"  {border:9s} mg={mg[0, dark]:.4f}/{mg[0, bright]:.4f} "
            f"bg={bg[0, dark]:.4f}/{bg[0, bright]:.4f} "
            f"JND dark={jnd[0, dark]:.4f} bright={jnd[0, bright]:.4f}{'' if good else ' MISMATCH'}"
        )

    # Canny sanity: a vertical step gives one edge column, on the pixel just left or right of the step.
    edges = canny_matlab(step, 0.5)
    cols = np.flatnonzero(edges.any(axis=0))
    good = len(cols) > 0 and set(cols.tolist()) <= {dark, bright}
    good &= not any(canny_matlab(np.full((size, size), v), 0.5).any() for v in (0.0, 77.7, 255.0))
    ok &= bool(good)
    print(f"canny on the step: edge columns {cols.tolist()} (step between {dark} and {bright})")

    rng = np.random.default_rng(0)
    img = rng.uniform(0.0, 255.0, size=(512, 512))
    print("timing, 512 x 512 random image")
    for border in BORDERS:
        for name, fn in MODELS.items():
            t0 = time.perf_counter()
            out = fn(img, border=border)
            dt = time.perf_counter() - t0
            finite = all(np.isfinite(m).all() for m in out.values())
            ok &= finite
            print(f"  {border:9s} {name:9s} {dt:7.3f} s   mean JND {out['threshold'].mean():7.4f}")
    print("SELF-CHECK", "PASSED" if ok else "FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    _self_check()
