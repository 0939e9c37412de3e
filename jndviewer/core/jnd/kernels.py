"""Compiled CPU kernels (numba) for the passes that eager PyTorch runs as many memory-bound sweeps.

Each kernel computes what the torch code beside its caller computes, fused into one pass that keeps its values in
registers and the cache: the separable filters, Chou's operators and Canny's gradients to float32 rounding, wu2013's
prediction up to its ``2^x`` (a polynomial here, within float32 rounding), which moves a rounded gray level by 1 on
a few pixels per million. ``tests/core/test_jnd_kernels.py`` compares both paths; ``benchmarks/bench_kernels.py``
times them interleaved. They run on float32 CPU tensors; CUDA tensors and float64 keep the torch path.

Compiled code is cached next to this file (numba ``cache=True``): the compilation (about half a minute for all of
them) happens once per installation, at ``./dev`` setup, not once per run. The kernels release the GIL
(``nogil=True``), as torch's operators do, so the explorer's event loop keeps running while a map is computed.
Numba's OpenMP threads cannot be used in a forked child, so worker processes are spawned (``core/batch.py``).

Why numba and not ``torch.compile``: inductor's CPU backend needs a C++ compiler at run time and compiles for tens
of seconds per shape, which a desktop tool cannot ask of its users.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numba
import numpy as np
import torch
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

Tensor = torch.Tensor

#: Output rows per parallel work item of the row kernels (a few rows of intermediates stay in the cache).
TILE_ROWS = 32

#: Numba picks its threading layer itself (OpenMP here). Not the work-queue layer: it aborts the process when two
#: threads launch kernels at once, as the explorer's workers do.

#: float32 constants for the compiled code: a Python number there is typed int64 or float64 and promotes float32
#: work to float64 (half the vector width).
_F32_0, _F32_1, _F32_2, _F32_3, _F32_4, _F32_8 = (np.float32(v) for v in (0, 1, 2, 3, 4, 8))
_F32_1_16, _F32_1_32 = np.float32(1 / 16), np.float32(1 / 32)

#: The compiled wu2013 prediction sums 7x7 patches (the released code's and the default); other sizes run in torch.
WU2013_PATCH_RADIUS = 3

#: LLVM may contract a*b+c into fused multiply-adds; no other fast-math liberty (infinities and NaN must behave).
_FASTMATH = {"contract"}

#: Taylor coefficients of 2^f = e^(f ln 2) on f in [-1/2, 1/2] up to f^6 (relative error below 1.2e-7, within
#: float32 rounding): ln(2)^k / k!.
_EXP2_TAYLOR = tuple(math.log(2.0) ** k / math.factorial(k) for k in range(7))


def use_kernels(x: Tensor) -> bool:
    """The compiled kernels serve float32 tensors on the CPU (the product's maps are float32; float64, used to check
    precision, keeps the torch path and its libm-accurate ``exp2``)."""
    return x.device.type == "cpu" and x.dtype == torch.float32


def set_threads() -> None:
    """Run numba's parallel loops on as many threads as torch uses (``--threads`` and the benchmarks set those)."""
    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


@intrinsic
def _float32_from_bits(typingctx: object, bits: types.Type) -> tuple[types.Type, Callable]:  # pragma: no cover
    """Reinterpret an int32's bits as a float32 (LLVM ``bitcast``; numba has no scalar ``view``)."""

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: Sequence[ir.Value]) -> ir.Value:
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@numba.njit(fastmath=_FASTMATH, cache=True, inline="always")
def _exp2(e: float, c: np.ndarray) -> float:  # pragma: no cover - compiled
    """2^e in float32 for |e| <= 126: e = n + f with f in [-1/2, 1/2], 2^f by its Taylor polynomial, 2^n exactly
    from its IEEE-754 bits.

    ``c`` holds, in float32, the Taylor coefficients ``c[0..6]``, 1/2 (``c[7]``), the float32 exponent bias 127
    (``c[9]``) and 2^23 (``c[10]``): a Python float constant would promote the work to float64. The bit pattern
    ``(n + 127) * 2^23`` is computed in floating point (exact: an integer below 2^31 with at most 8 significant
    bits) and converted to int32, which AVX2 vectorises (a float-to-int64 conversion it does not).
    """
    n = np.floor(e + c[7])
    f = e - n
    p = c[6] * f + c[5]
    p = p * f + c[4]
    p = p * f + c[3]
    p = p * f + c[2]
    p = p * f + c[1]
    p = p * f + c[0]
    return p * _float32_from_bits(np.int32((n + c[9]) * c[10]))


@numba.njit(parallel=True, nogil=True, fastmath=_FASTMATH, cache=True)
def wu2013_prediction_rows(
    extended: np.ndarray,
    centre: np.ndarray,
    inverse_h2: np.ndarray,
    y0: int,
    patch_radius: int,
    search_radius: int,
    stabiliser: np.ndarray,
    compute_stabiliser: bool,
    shift: np.ndarray,
    use_shift: bool,
    constants: np.ndarray,
    prediction: np.ndarray,
    top: np.ndarray,
    tile_rows: int,
    tile_cols: int,
) -> None:  # pragma: no cover - compiled
    """The non-local AR prediction of :func:`jndviewer.core.jnd.wu2013._prediction_rows` for one image's rows.

    ``extended`` is the image extended by ``margin = patch_radius + search_radius`` on every side; ``centre``,
    ``inverse_h2`` (already times log2 e), ``stabiliser``, ``shift``, ``prediction`` and ``top`` cover output rows
    ``y0 : y0 + rows``. ``constants``: the exp2 coefficients (see :func:`_exp2`) and the exponent limit
    (``constants[8]``). All arrays are float32. Fills ``prediction`` (before rounding), ``top`` and, when
    ``compute_stabiliser``, ``stabiliser``.

    Tiles of ``tile_rows x tile_cols`` pixels run in parallel, small enough that their accumulators stay in the
    core's cache. The offsets are visited in pairs +o / -o, whose patch-difference sums are one array read at two
    positions (D_{-o}(x) = D_o(x - o)), as in the torch code.
    """
    if patch_radius != WU2013_PATCH_RADIUS:
        raise ValueError("the compiled wu2013 prediction sums 7x7 patches (patch_radius 3)")
    r, big_r = patch_radius, search_radius
    margin = r + big_r
    rows, width = centre.shape
    dtype = centre.dtype
    limit = constants[8]
    tiles_down = (rows + tile_rows - 1) // tile_rows
    tiles_across = (width + tile_cols - 1) // tile_cols
    for tile in numba.prange(tiles_down * tiles_across):
        ya = (tile // tiles_across) * tile_rows
        xa = (tile % tiles_across) * tile_cols
        count = min(rows, ya + tile_rows) - ya
        tw = min(width, xa + tile_cols) - xa
        span_w = tw + big_r + 2 * r
        squared = np.empty((count + big_r + 2 * r, span_w), dtype)
        vertical = np.empty((count + big_r, span_w), dtype)
        sums = np.empty((count + big_r, tw + big_r), dtype)
        numerator = np.zeros((count, tw), dtype)
        denominator = np.zeros((count, tw), dtype)
        best = np.full((count, tw), -np.inf, dtype)
        if compute_stabiliser:
            nearest = np.full((count, tw), np.inf, dtype)
        else:
            nearest = stabiliser[ya : ya + count, xa : xa + tw].copy()
        for stage in range(2):
            if stage == 0 and not compute_stabiliser:
                continue
            for u in range(0, big_r + 1):
                for v in range(-big_r, big_r + 1):
                    if u == 0 and v <= 0:
                        continue
                    if stage == 0 and (u > 1 or abs(v) > 1):
                        continue
                    # D_o, o = (u, v), at rows ya - u .. ya + count - 1 and columns xa + min(0, -v) onwards
                    av = abs(v)
                    span_h = count + u + 2 * r
                    span_c = tw + av + 2 * r
                    row0 = margin + y0 + ya - u - r
                    col0 = margin + xa + min(0, -v) - r
                    for a in range(span_h):
                        target = squared[a]
                        upper = extended[row0 + a]
                        lower = extended[row0 + a + u]
                        for b in range(span_c):
                            d = upper[col0 + b] - lower[col0 + b + v]
                            target[b] = d * d
                    # 7-row and 7-column window sums in one pass each, added in the order of the torch code's
                    # doubling (pairs, pairs of pairs, then + pair + single), so that they round alike
                    for a in range(count + u):
                        target = vertical[a]
                        r0, r1, r2, r3 = squared[a], squared[a + 1], squared[a + 2], squared[a + 3]
                        r4, r5, r6 = squared[a + 4], squared[a + 5], squared[a + 6]
                        for b in range(span_c):
                            target[b] = ((r0[b] + r1[b]) + (r2[b] + r3[b])) + (r4[b] + r5[b]) + r6[b]
                    for a in range(count + u):
                        target = sums[a]
                        c = vertical[a]
                        for b in range(tw + av):
                            target[b] = ((c[b] + c[b + 1]) + (c[b + 2] + c[b + 3])) + (c[b + 4] + c[b + 5]) + c[b + 6]
                    # +o reads the sums at (i + u, j + max(0, v)), -o at (i, j + max(0, -v)); both in one loop,
                    # +o first, as the torch code adds them
                    for i in range(count):
                        y = ya + i
                        plus_sums = sums[i + u, max(0, v) : max(0, v) + tw]
                        minus_sums = sums[i, max(0, -v) : max(0, -v) + tw]
                        row_nearest = nearest[i]
                        if stage == 0:
                            for j in range(tw):
                                row_nearest[j] = min(min(row_nearest[j], plus_sums[j]), minus_sums[j])
                            continue
                        row_inverse = inverse_h2[y, xa : xa + tw]
                        row_shift = shift[y, xa : xa + tw] if use_shift else row_inverse
                        row_best = best[i]
                        plus_neighbours = extended[margin + y0 + y + u, margin + xa + v : margin + xa + v + tw]
                        minus_neighbours = extended[margin + y0 + y - u, margin + xa - v : margin + xa - v + tw]
                        row_numerator = numerator[i]
                        row_denominator = denominator[i]
                        for j in range(tw):
                            plus = row_nearest[j] - plus_sums[j] * row_inverse[j]
                            minus = row_nearest[j] - minus_sums[j] * row_inverse[j]
                            if use_shift:
                                plus -= row_shift[j]
                                minus -= row_shift[j]
                            row_best[j] = max(max(row_best[j], plus), minus)
                            plus_weight = _exp2(min(max(plus, -limit), limit), constants)
                            minus_weight = _exp2(min(max(minus, -limit), limit), constants)
                            numerator_j = row_numerator[j] + plus_weight * plus_neighbours[j]
                            row_numerator[j] = numerator_j + minus_weight * minus_neighbours[j]
                            row_denominator[j] = (row_denominator[j] + plus_weight) + minus_weight
            if stage == 0:
                for i in range(count):
                    row_inverse = inverse_h2[ya + i, xa : xa + tw]
                    for j in range(tw):
                        nearest[i, j] *= row_inverse[j]
                stabiliser[ya : ya + count, xa : xa + tw] = nearest
        for i in range(count):
            row_best = best[i]
            row_centre = centre[ya + i, xa : xa + tw]
            row_prediction = prediction[ya + i, xa : xa + tw]
            for j in range(tw):
                w = _exp2(min(max(row_best[j], -limit), limit), constants)
                row_prediction[j] = (numerator[i, j] + w * row_centre[j]) / (denominator[i, j] + w)
            top[ya + i, xa : xa + tw] = row_best


def wu2013_prediction(
    extended: Tensor,
    centre: Tensor,
    inverse_h2: Tensor,
    y0: int,
    patch_radius: int,
    search_radius: int,
    limit: float,
    stabiliser: Tensor | None,
    shift: Tensor | None,
    tile_rows: int = 32,
    tile_cols: int = 256,
) -> tuple[Tensor, Tensor, Tensor]:
    """Torch front of :func:`wu2013_prediction_rows` for ``1 x 1 x H x W`` tensors; returns (prediction before
    rounding, top exponent, stabiliser) shaped like ``centre``."""
    set_threads()
    ext = extended[0, 0].contiguous().numpy()
    cen = centre[0, 0].contiguous().numpy()
    inv = inverse_h2[0, 0].contiguous().numpy()
    compute = stabiliser is None
    stab = np.empty_like(cen) if compute else stabiliser[0, 0].contiguous().numpy()
    shf = shift[0, 0].contiguous().numpy() if shift is not None else np.empty((0, 0), cen.dtype)
    constants = np.array([*_EXP2_TAYLOR, 0.5, limit, 127.0, 2.0**23], dtype=cen.dtype)
    prediction = np.empty_like(cen)
    top = np.empty_like(cen)
    wu2013_prediction_rows(
        ext, cen, inv, y0, patch_radius, search_radius, stab, compute, shf, shift is not None, constants,
        prediction, top, tile_rows, tile_cols,
    )  # fmt: skip
    as_tensor = lambda a: torch.from_numpy(a)[None, None]  # noqa: E731
    return as_tensor(prediction), as_tensor(top), as_tensor(stab) if compute else stabiliser


@numba.njit(fastmath=_FASTMATH, cache=True, inline="always")
def _chou_row_sums(
    p0: np.ndarray,
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    p4: np.ndarray,
    rows3: np.ndarray,
    rows5: np.ndarray,
    row_difference: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per padded column: the 3-row and 5-row sums of the background kernel and the row difference P(y+1) - P(y+3)
    that G1 and (G2 + G3) share, for the output row whose 5 padded rows are ``p0..p4``."""
    for x in range(p0.size):
        three = p1[x] + p2[x] + p3[x]
        rows3[x] = three
        rows5[x] = three + p0[x] + p4[x]
        row_difference[x] = p1[x] - p3[x]


@numba.njit(fastmath=_FASTMATH, cache=True, inline="always")
def _background_at(p2: np.ndarray, rows3: np.ndarray, rows5: np.ndarray, x: int) -> float:  # pragma: no cover
    """bg = filt(Y, B) / 32 (Chou & Li 1995, Eq. 9) with B = ones(5x5) + ones(3x3) - 2 delta, summed as the torch
    code sums it."""
    total = rows3[x + 1] + rows3[x + 2] + rows3[x + 3]
    outer = rows5[x] + rows5[x + 4] + rows5[x + 1] + rows5[x + 2] + rows5[x + 3]
    return (total + outer - _F32_2 * p2[x + 2]) * _F32_1_32


@numba.njit(fastmath=_FASTMATH, cache=True, inline="always")
def _gradient_at(
    p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, p4: np.ndarray, row_difference: np.ndarray, x: int
) -> float:  # pragma: no cover - compiled
    """mg = max_k |filt(Y, G_k)| / 16 (Chou & Li 1995, Eq. 7-8) with the torch code's shared sums: G1 and G4
    separable, max(|G2|, |G3|) = (|G2 + G3| + |G2 - G3|) / 2."""
    outer = row_difference[x] + row_difference[x + 4]
    inner = row_difference[x + 1] + row_difference[x + 3]
    centre = row_difference[x + 2]
    g1 = outer + _F32_3 * inner + _F32_8 * centre  # 16 G1
    half_sum = p0[x + 2] - p4[x + 2] + _F32_4 * inner + _F32_3 * centre  # 16 (G2 + G3) / 2
    c1 = p1[x + 1] - p1[x + 3]
    c2 = p2[x + 1] - p2[x + 3]
    c3 = p3[x + 1] - p3[x + 3]
    g4 = ((p0[x + 1] - p0[x + 3]) + (p4[x + 1] - p4[x + 3])) + _F32_3 * (c1 + c3) + _F32_8 * c2  # 16 G4
    half_difference = p2[x] - p2[x + 4] + _F32_4 * (c1 + c3) + _F32_3 * c2  # 16 (G2 - G3) / 2
    return max(abs(g1), abs(g4), abs(half_sum) + abs(half_difference)) * _F32_1_16


#: What :func:`chou_fields_rows` computes.
BACKGROUND, GRADIENT, YANG2005 = 0, 1, 2


@numba.njit(parallel=True, nogil=True, fastmath=_FASTMATH, cache=True)
def chou_fields_rows(
    padded: np.ndarray,
    which: int,
    edge_weight: np.ndarray,
    constants: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    third: np.ndarray,
    tile_rows: int,
) -> None:  # pragma: no cover - compiled
    """Chou & Li's local fields of one image extended by 2, into ``first`` (and ``second``, ``third``):

    - ``BACKGROUND``: bg, :func:`jndviewer.core.jnd.ops.background_luminance`;
    - ``GRADIENT``: mg, :func:`jndviewer.core.jnd.ops.max_weighted_gradient`;
    - ``YANG2005``: Yang et al. 2005's NAMM in one pass, given the blurred edge weight W_e: the threshold
      JND = T_l + T_t - C min(T_l, T_t), T_l = f2(bg) (Chou & Li 1995, Eq. 5-6) and T_t = eta mg W_e, as
      :class:`jndviewer.core.jnd.yang2005.Yang2005` computes them in torch. ``constants``: the LA knee 127, T0 = 17,
      gamma = 3/128 (:mod:`jndviewer.core.jnd.ops`), eta and C, in float32.

    The unused arrays may be empty.
    """
    height, width = first.shape
    padded_width = padded.shape[1]
    tiles = (height + tile_rows - 1) // tile_rows
    for tile in numba.prange(tiles):
        rows3 = np.empty(padded_width, padded.dtype)
        rows5 = np.empty(padded_width, padded.dtype)
        row_difference = np.empty(padded_width, padded.dtype)
        for y in range(tile * tile_rows, min(height, (tile + 1) * tile_rows)):
            p0, p1, p2, p3, p4 = padded[y], padded[y + 1], padded[y + 2], padded[y + 3], padded[y + 4]
            _chou_row_sums(p0, p1, p2, p3, p4, rows3, rows5, row_difference)
            target = first[y]
            if which == BACKGROUND:
                for x in range(width):
                    target[x] = _background_at(p2, rows3, rows5, x)
            elif which == GRADIENT:
                for x in range(width):
                    target[x] = _gradient_at(p0, p1, p2, p3, p4, row_difference, x)
            else:
                knee, t0, gamma, gain, overlap = constants[0], constants[1], constants[2], constants[3], constants[4]
                weight, la_row, tm_row = edge_weight[y], second[y], third[y]
                for x in range(width):
                    bg = _background_at(p2, rows3, rows5, x)
                    dark = np.sqrt(min(max(bg, _F32_0), knee) * (_F32_1 / knee)) * -t0 + (t0 + _F32_3)
                    la = dark + max(bg - knee, _F32_0) * gamma
                    texture = _gradient_at(p0, p1, p2, p3, p4, row_difference, x) * weight[x] * gain
                    la_row[x] = la
                    tm_row[x] = texture
                    target[x] = (la + texture) - min(la, texture) * overlap


def chou_field(padded: Tensor, which: int) -> Tensor:
    """bg (``BACKGROUND``) or mg (``GRADIENT``) of an ``N x 1`` float32 tensor extended by 2."""
    set_threads()
    out = torch.empty((*padded.shape[:-2], padded.shape[-2] - 4, padded.shape[-1] - 4), dtype=padded.dtype)
    unused = np.empty((0, 0), np.float32)
    for index in range(padded.shape[0]):
        chou_fields_rows(
            padded[index, 0].contiguous().numpy(), which, unused, np.empty(0, np.float32), out[index, 0].numpy(),
            unused, unused, TILE_ROWS,
        )  # fmt: skip
    return out


def yang2005_local(padded: Tensor, edge_weight: Tensor, constants: Sequence[float]) -> tuple[Tensor, Tensor, Tensor]:
    """Yang et al. 2005's local part (:func:`chou_fields_rows`, ``YANG2005``) for ``N x 1`` tensors: (threshold,
    luminance adaptation, texture masking)."""
    set_threads()
    threshold, la, texture = (torch.empty_like(edge_weight) for _ in range(3))
    values = np.asarray(constants, dtype=np.float32)
    for index in range(padded.shape[0]):
        chou_fields_rows(
            padded[index, 0].contiguous().numpy(), YANG2005, edge_weight[index, 0].contiguous().numpy(), values,
            threshold[index, 0].numpy(), la[index, 0].numpy(), texture[index, 0].numpy(), TILE_ROWS,
        )  # fmt: skip
    return threshold, la, texture


@numba.njit(parallel=True, nogil=True, cache=True)
def orientation_count_rows(
    padded_bits: np.ndarray, textured: np.ndarray, out: np.ndarray, tile_rows: int
) -> None:  # pragma: no cover - compiled
    """wu2017's orientation complexity (:func:`jndviewer.core.jnd.wu2017.orientation_complexity`) of one image: the
    number of set bits in the OR of each pixel's 3x3 neighbourhood of one-bit orientation codes (``padded_bits``,
    int32, extended by 1), counted by the same SWAR steps, and 1 where the pixel is plain (``textured`` 0)."""
    height, width = out.shape
    tiles = (height + tile_rows - 1) // tile_rows
    for tile in numba.prange(tiles):
        for y in range(tile * tile_rows, min(height, (tile + 1) * tile_rows)):
            above, centre, below = padded_bits[y], padded_bits[y + 1], padded_bits[y + 2]
            flags, target = textured[y], out[y]
            for x in range(width):
                union = above[x] | above[x + 1] | above[x + 2] | centre[x] | centre[x + 1] | centre[x + 2]
                union = union | below[x] | below[x + 1] | below[x + 2]
                union = union - ((union >> 1) & 0x555555)
                union = (union & 0x333333) + ((union >> 2) & 0x333333)
                union = (union + (union >> 4)) & 0x0F0F0F
                count = (union & 0xFF) + ((union >> 8) & 0xFF) + ((union >> 16) & 0xFF)
                target[x] = (np.float32(count) - _F32_1) * flags[x] + _F32_1


@numba.njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def canny_weak_edges_rows(
    grad_x: np.ndarray,
    grad_y: np.ndarray,
    magnitude: np.ndarray,
    peak: np.float32,
    low: np.float32,
    residue: np.float32,
    ratio_kinds: np.ndarray,
    sides: np.ndarray,
    weak: np.ndarray,
    tile_rows: int,
) -> None:  # pragma: no cover - compiled
    """MATLAB's Canny non-maximum suppression of one image, as :func:`jndviewer.core.jnd.canny.canny_weak_edges`
    computes it on its candidates: marks ``weak`` where the normalised magnitude exceeds ``low`` and is a maximum
    across the gradient direction in one of the four sectors.

    No fast-math here, not even contraction: MATLAB's ``mag(a).*(1-d) + mag(b).*d`` rounding decides ties on
    plateaus. ``ratio_kinds[s]`` is 0 for |iy/ix|, 1 for |ix/iy|; ``sides[s, k, j]`` the (dy, dx) of the first
    (j = 0) and second (j = 1) neighbour on side k of sector s (``canny.CANNY_SECTORS``).
    """
    height, width = magnitude.shape
    one = np.float32(1.0)
    zero = np.float32(0.0)
    coarse = low * peak * np.float32(1.0 - 1e-5)
    tiles = (height - 2 + tile_rows - 1) // tile_rows
    for tile in numba.prange(tiles):
        for y in range(1 + tile * tile_rows, min(height - 1, 1 + (tile + 1) * tile_rows)):
            for x in range(1, width - 1):
                raw = magnitude[y, x]
                if not raw > coarse:
                    continue
                value = (raw if raw > residue else zero) / peak
                if not value > low:
                    continue
                ix, iy = grad_x[y, x], grad_y[y, x]
                in_sectors = (
                    ((iy <= 0) and (ix > -iy)) or ((iy >= 0) and (ix < -iy)),
                    ((ix > 0) and (-iy >= ix)) or ((ix < 0) and (-iy <= ix)),
                    ((ix <= 0) and (ix > iy)) or ((ix >= 0) and (ix < iy)),
                    ((iy < 0) and (ix <= iy)) or ((iy > 0) and (ix >= iy)),
                )
                is_max = False
                for sector in range(4):
                    if not in_sectors[sector]:
                        continue
                    ratio = abs(iy / ix) if ratio_kinds[sector] == 0 else abs(ix / iy)
                    complement = one - ratio
                    maximum = True
                    for side in range(2):
                        a = magnitude[y + sides[sector, side, 0, 0], x + sides[sector, side, 0, 1]]
                        b = magnitude[y + sides[sector, side, 1, 0], x + sides[sector, side, 1, 1]]
                        a = (a if a > residue else zero) / peak
                        b = (b if b > residue else zero) / peak
                        if not value >= a * complement + b * ratio:
                            maximum = False
                    if maximum:
                        is_max = True
                weak[y, x] = is_max


def separable_correlation(padded: Tensor, column_taps: Sequence[float], row_taps: Sequence[float]) -> Tensor:
    """'valid' separable correlation of an extended ``N x C`` float32 tensor (:func:`separable_correlation_rows` on
    every plane)."""
    set_threads()
    columns = np.asarray(column_taps, dtype=np.float32)
    rows = np.asarray(row_taps, dtype=np.float32)
    n, channels, height, width = padded.shape
    out = torch.empty((n, channels, height - columns.size + 1, width - rows.size + 1), dtype=padded.dtype)
    for index in range(n):
        for channel in range(channels):
            separable_correlation_rows(
                padded[index, channel].contiguous().numpy(), columns, rows, out[index, channel].numpy(), TILE_ROWS
            )
    return out


@numba.njit(parallel=True, nogil=True, fastmath=_FASTMATH, cache=True)
def separable_correlation_rows(
    padded: np.ndarray, column_taps: np.ndarray, row_taps: np.ndarray, out: np.ndarray, tile_rows: int
) -> None:  # pragma: no cover - compiled
    """:func:`jndviewer.core.jnd.ops.correlate_separable` for one extended image: down the columns first, then along
    the rows, taps in order (zero taps included; they add nothing)."""
    height, width = out.shape
    padded_width = padded.shape[1]
    tiles = (height + tile_rows - 1) // tile_rows
    for tile in numba.prange(tiles):
        ya = tile * tile_rows
        along_columns = np.empty(padded_width, padded.dtype)
        for y in range(ya, min(height, ya + tile_rows)):
            along_columns[:] = column_taps[0] * padded[y]
            for k in range(1, column_taps.size):
                weight = column_taps[k]
                source = padded[y + k]
                for x in range(padded_width):
                    along_columns[x] += weight * source[x]
            target = out[y]
            target[:] = row_taps[0] * along_columns[:width]
            for k in range(1, row_taps.size):
                weight = row_taps[k]
                for x in range(width):
                    target[x] += weight * along_columns[x + k]
