"""Very large images in the explorer: full-resolution encodes judged on a preview, full-resolution maps on demand.

The explorer's whole-image jobs cost time and memory in proportion to the pixels: the rate/visibility curve is one
encode and one visibility map per level (100 for JPEG), each prediction a dozen more, and the JND map with its
visibility model holds about 50 bytes a pixel. On a 12000x9000 image (108 MP) that was about 12 minutes and a
14.8 GB peak. Above :data:`PREVIEW_MAX_PIXELS` the explorer therefore

* shows the reference at once and encodes the level shown at full resolution (a ladder that keeps at most
  :data:`FULL_RESOLUTION_RUNGS` full-size rungs and prefetches none);
* judges every level on a preview reduced by an integer factor ``k`` (the smallest that brings it under the budget;
  box filter, :func:`downscale`): the preview's ladder (:class:`ReducedEncodes`) holds the *full-resolution* encode
  of each level, its bytes (so sizes, bpp and savings are the full image's) and its decoded pixels reduced by ``k``
  as the reference was. The JND map, the visibility, the pooled scores, the predictions' decisions and the PSNR are
  computed on that preview; the curve samples about 21 levels (each is a full-size encode). Predictors that judge
  a fixed number of patches (``PredictorInfo.full_resolution``: SG-JND) judge the full-resolution encodes as they
  are, at the real ppd, through the same class with factor 1;
* computes the maps of the visible region at full resolution on demand (:func:`visible_region`, at most
  :data:`REGION_MAX_PIXELS`).

**The viewing condition of the preview.** An image pixel seen at ``P`` pixels per degree spans ``1/P`` degree; a
preview pixel covers ``k`` image pixels, so it spans ``k/P`` degree: the preview shows the image's angular content
at ``P/k`` pixels per degree. Whatever is judged on the preview is therefore asked at ``P/k``
(:func:`preview_condition`), and said to be a preview wherever it shows (:func:`scale_words`). What the preview
cannot show is detail finer than ``k`` pixels (above ``P / 2k`` cycles per degree): the finest artifacts of an
encode are not judged. Where ``P/k`` falls below the models' range the preview is refused in one sentence.

Why the encodes are the full image's and not the preview's: a codec level does not mean the same distortion at
another size. On kodim23 at its size and upscaled 2x and 3x, and on a 3000x2250 noise image (k = 2, 2, 3, 2), the
training-free predictor's JPEG PW-JND at full size was quality 28, 31, 32 and 71; encoding the preview itself gave
59, 61, 69 and 90, judging the reduced full-resolution encodes 28, 33, 27 and 61. SG-JND, a network trained on
unreduced JPEG artifacts, judged the reduced encodes 7 to 33 levels lower (20, 20, 13, 28 against 28, 27, 28, 61):
hence its patches at full resolution.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from typing import Any

import numpy as np

from jndviewer.core.codecs.base import Encoded
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import PPD_RANGE, ViewingCondition

__all__ = [
    "FULL_RESOLUTION_RUNGS",
    "PREVIEW_MAX_PIXELS",
    "REGION_MAX_PIXELS",
    "ReducedEncodes",
    "downscale",
    "full_resolution_cache_megabytes",
    "preview_condition",
    "preview_factor",
    "scale_words",
    "visible_region",
]

#: Images with more pixels than this get a preview for the whole-image jobs (curve, predictions, maps).
PREVIEW_MAX_PIXELS = 24_000_000
#: How many full-size rungs (decoded pixels plus compressed data) the full-resolution ladder of such an image keeps.
FULL_RESOLUTION_RUNGS = 2
#: Bytes a full-size rung costs per pixel at most, for the cache bound: 3 decoded, about 1 compressed.
RUNG_BYTES_PER_PIXEL = 4
#: :func:`downscale` works on strips of about this many source pixels.
DOWNSCALE_STRIP_PIXELS = 1 << 22
#: The largest region whose maps are computed at full resolution on demand (about a 2560x1600 view at 100 %).
REGION_MAX_PIXELS = 4_200_000


def preview_factor(height: int, width: int, max_pixels: int | None = None) -> int:
    """The integer factor ``k`` that brings ``height x width`` to at most ``max_pixels`` (1: no preview needed)."""
    budget = PREVIEW_MAX_PIXELS if max_pixels is None else max_pixels
    pixels = int(height) * int(width)
    if pixels <= budget:
        return 1
    factor = max(2, math.ceil(math.sqrt(pixels / budget)))
    while math.ceil(height / factor) * math.ceil(width / factor) > budget:
        factor += 1
    return factor


def downscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """``rgb`` reduced by ``factor`` with a box filter (each output pixel the mean of a ``factor x factor`` block;
    partial blocks at the right and bottom edges average what they hold), as read-only uint8. ``factor`` 1 returns
    ``rgb`` itself. Done in strips of rows, so that no full-size copy is made on the way."""
    if factor <= 1:
        return rgb
    from PIL import Image

    factor = int(factor)
    height, width = rgb.shape[:2]
    out = np.empty((-(-height // factor), -(-width // factor), 3), np.uint8)
    rows = factor * max(1, DOWNSCALE_STRIP_PIXELS // max(1, width * factor))  # source rows a strip, a multiple of k
    for top in range(0, height, rows):
        strip = np.ascontiguousarray(rgb[top : top + rows])
        out[top // factor : top // factor + -(-strip.shape[0] // factor)] = np.asarray(
            Image.fromarray(strip).reduce(factor)
        )
    out.setflags(write=False)
    return out


def preview_condition(condition: ViewingCondition, factor: int) -> ViewingCondition:
    """The viewing condition of the preview at 1/``factor`` scale: the same task, ``ppd / factor`` (module docstring).

    Raises
    ------
    JndViewerError
        When ``ppd / factor`` is below the models' range, in one sentence saying which ppd would do.
    """
    if factor <= 1:
        return condition
    ppd = condition.ppd / factor
    low = PPD_RANGE[0]
    if ppd < low:
        raise JndViewerError(
            f"The preview at 1/{factor} scale would be seen at {ppd:.3g} ppd, below the {low:g} ppd the models "
            f"take: set at least {low * factor:g} ppd for this image."
        )
    return replace(condition, ppd=ppd)


def scale_words(factor: int, ppd: float | None = None) -> str:
    """How the explorer names the scale of a number: ``full resolution``, or ``preview at 1/3 scale`` (with the ppd
    the preview is seen at, ``preview at 1/3 scale, 12.7 ppd``)."""
    if factor <= 1:
        return "full resolution"
    where = f", {ppd / factor:.3g} ppd" if ppd is not None else ""
    return f"preview at 1/{factor} scale{where}"


def full_resolution_cache_megabytes(height: int, width: int, rungs: int = FULL_RESOLUTION_RUNGS) -> float:
    """A rung-cache bound (MiB) that holds at most ``rungs`` full-size rungs of a ``height x width`` image (each
    rung holds at least its 3 bytes a pixel of decoded pixels, so never more than ``4 rungs / 3`` of them)."""
    return rungs * RUNG_BYTES_PER_PIXEL * int(height) * int(width) / 2**20


def visible_region(
    left: float,
    top: float,
    width: float,
    height: float,
    image_height: int,
    image_width: int,
    *,
    margin: int = 0,
    min_side: int = 64,
    max_pixels: int | None = None,
) -> tuple[int, int, int, int] | None:
    """The part of the image inside a view rectangle grown by ``margin`` pixels a side, in whole pixels
    ``(x, y, width, height)``: at least ``min_side`` a side where the image has it, and shrunk about its centre to at
    most ``max_pixels`` (default :data:`REGION_MAX_PIXELS`); None when the view shows none of the image."""
    budget = REGION_MAX_PIXELS if max_pixels is None else max_pixels
    if left >= image_width or top >= image_height or left + width <= 0 or top + height <= 0:
        return None
    spans = []
    for start, length, size in ((left - margin, width + 2 * margin, image_width),
                                (top - margin, height + 2 * margin, image_height)):  # fmt: skip
        lo, hi = max(0, math.floor(start)), min(size, math.ceil(start + length))
        short = min(size, min_side) - (hi - lo)
        if short > 0:  # too small to analyse: grow about the middle, inside the image
            lo = max(0, min(size - (hi - lo + short), lo - short // 2))
            hi = lo + min(size, min_side)
        spans.append((lo, hi))
    (x0, x1), (y0, y1) = spans
    w, h = x1 - x0, y1 - y0
    if w * h > budget:
        shrink = math.sqrt(budget / (w * h))
        new_w, new_h = max(1, math.floor(w * shrink)), max(1, math.floor(h * shrink))
        x0, y0 = x0 + (w - new_w) // 2, y0 + (h - new_h) // 2
        w, h = new_w, new_h
    return x0, y0, w, h


class ReducedEncodes:
    """The codec of a ladder that judges a very large image's encodes: each level is the full-resolution encode of
    the image of ``full`` (a :class:`~jndviewer.core.ladder.Ladder` of the image), its bytes as they are and its
    decoded pixels reduced by ``factor`` (:func:`downscale`) as the preview was (``factor`` 1: as they are).
    Everything else (levels, names, family, ...) is the image's codec's.

    A level ``full`` holds (the level shown) is taken from it; the others are encoded here and not kept in ``full``
    (whose cache stays the levels shown). A ladder over this codec counts bits per pixel over the full image
    (:attr:`rate_shape`). The encodes run one at a time under ``lock`` (share it between such codecs: a full-size
    encode is the largest single cost in memory of a very large image); ``rgb`` passed to :meth:`encode` only has to
    be the ladder's own reference.
    """

    def __init__(self, full: Any, factor: int = 1, lock: Any = None) -> None:
        self._full = full
        self._codec = full.codec
        self.factor = int(factor)
        self.rate_shape = tuple(full.reference.shape[:2])
        self._lock = lock if lock is not None else threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_full", "_codec"):
            raise AttributeError(name)
        return getattr(self._codec, name)

    def encode(self, rgb: np.ndarray, level: Any) -> Encoded:
        rung = self._full.peek(level)
        if rung is not None:
            data, decoded = rung.data, rung.decoded
        else:
            with self._lock:
                encoded = self._codec.encode(self._full.reference, level)
            data, decoded = encoded.data, encoded.decoded
        return Encoded(data, downscale(decoded, self.factor), level)
