"""Images from numpy arrays, and the array steps of the mode rule that :func:`~jndviewer.core.image.load` shares.

:func:`from_array` applies the mode rule of :mod:`jndviewer.core.image` to an array; the helpers below it (gray to
RGB, colour-key alpha, compositing over white) are the integer array operations that loading files uses as well.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from jndviewer.core.image.model import Image

__all__ = ["from_array"]


def from_array(array: np.ndarray, *, path: str | os.PathLike[str] | None = None) -> Image:
    """Build an :class:`Image` from a numpy array by the mode rule of :mod:`jndviewer.core.image`.

    Parameters
    ----------
    array : numpy.ndarray
        ``H x W`` (gray), ``H x W x 1`` (gray), ``H x W x 2`` (gray + alpha), ``H x W x 3`` (RGB) or
        ``H x W x 4`` (RGBA). ``uint8`` and ``uint16`` are kept as 8 and 16 bits; floating-point values are on
        the 8-bit scale, clipped to [0, 255] and rounded to ``uint8`` (after compositing any alpha).
        Alpha is straight and composited over white. The array is copied.
    path : str or os.PathLike, optional
        Recorded as :attr:`Image.path`.

    Returns
    -------
    Image
        With ``format=None``, no ICC profile and no EXIF.

    Raises
    ------
    ValueError
        If the shape or dtype is not one of the above, or a float array holds NaN or infinity.
    """
    values = np.asarray(array)
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(
            f"Expected an H x W, H x W x 1, H x W x 2, H x W x 3 or H x W x 4 array, not shape {values.shape}."
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"The array has no pixels (shape {values.shape}).")
    is_float = values.dtype.kind == "f"
    if not (is_float or values.dtype in (np.uint8, np.uint16)):
        raise ValueError(f"Expected a uint8, uint16 or floating-point array, not {values.dtype}.")
    if is_float and not np.all(np.isfinite(values)):
        raise ValueError("The float array contains NaN or infinite values.")

    channels = values if values.ndim == 3 else values[..., None]
    channel_count = channels.shape[2]
    colour, alpha = (channels[..., :-1], channels[..., -1]) if channel_count in (2, 4) else (channels, None)
    if is_float:
        colour = np.clip(colour.astype(np.float64), 0.0, 255.0)
        if alpha is not None:
            opacity = np.clip(alpha.astype(np.float64), 0.0, 255.0)[..., None] / 255.0
            colour = colour * opacity + 255.0 * (1.0 - opacity)
        colour = np.rint(colour).astype(np.uint8)
    elif alpha is not None:
        colour = _composite_over_white(colour, alpha)
    pixels = _gray_to_rgb(colour[..., 0]) if colour.shape[2] == 1 else np.array(colour, order="C")

    if channel_count == 1:
        source_mode = "F" if is_float else ("I;16" if values.dtype == np.uint16 else "L")
    else:
        source_mode = {2: "LA", 3: "RGB", 4: "RGBA"}[channel_count]
    return Image(
        pixels=pixels,
        path=None if path is None else Path(os.fspath(path)),
        format=None,
        source_mode=source_mode,
        bit_depth=16 if pixels.dtype == np.uint16 else 8,
        had_alpha=alpha is not None,
        icc_profile=None,
        exif=None,
    )


def _gray_to_canonical_dtype(gray: np.ndarray) -> np.ndarray:
    """Map a gray plane of any Pillow mode to uint8 or uint16 by the mode rule."""
    if gray.dtype == np.uint8:
        return gray
    if gray.dtype.kind == "f":  # mode F: 8-bit scale
        return np.rint(np.clip(np.nan_to_num(gray), 0.0, 255.0)).astype(np.uint8)
    if gray.dtype.kind == "u" and gray.dtype.itemsize == 2:  # I;16, I;16B, ...: fix the byte order
        return gray.astype(np.uint16)
    return np.clip(gray, 0, 65535).astype(np.uint16)  # mode I: 32-bit ints holding 16-bit data


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """Repeat an H x W plane into H x W x 3."""
    return np.repeat(gray[..., None], 3, axis=2)


def _colour_key_alpha(colour: np.ndarray, key: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Alpha plane for PNG-style colour-key transparency: 0 where every channel equals ``key``, else opaque."""
    is_key = np.all(colour == np.asarray(key, dtype=np.int64), axis=-1)
    full = np.iinfo(dtype).max
    return np.where(is_key, 0, full).astype(dtype)


def _composite_over_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite straight-alpha integer colour over white, rounding to nearest.

    Parameters
    ----------
    colour : numpy.ndarray
        ``H x W x C``, ``uint8`` or ``uint16``.
    alpha : numpy.ndarray
        ``H x W``, same dtype (0 is transparent, the dtype's maximum opaque).

    Returns
    -------
    numpy.ndarray
        ``H x W x C`` in the dtype of ``colour``: ``round(c * a / max + max * (1 - a / max))``.
    """
    full = int(np.iinfo(colour.dtype).max)
    # full * full + full // 2 fits in uint16 for 8-bit data and in uint32 for 16-bit data.
    work_dtype = np.uint16 if colour.dtype == np.uint8 else np.uint32
    c = colour.astype(work_dtype)
    a = alpha.astype(work_dtype)[..., None]
    blended = c * a + (full - a) * work_dtype(full) + work_dtype(full // 2)
    # full is odd, so blended / full is never exactly half-way between integers: this is exact rounding.
    return (blended // work_dtype(full)).astype(colour.dtype)
