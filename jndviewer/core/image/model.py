"""The :class:`Image` type: decoded pixels in canonical form, with what was known about their file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jndviewer.core.image.luma import _channels_to_luma

__all__ = ["Image"]


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image in canonical form (see :mod:`jndviewer.core.image` for the mode rule).

    Attributes
    ----------
    pixels : numpy.ndarray
        ``H x W x 3`` RGB, ``uint8`` or ``uint16``, C-contiguous and read-only.
    path : pathlib.Path or None
        The file it was loaded from, or ``None`` for an image made from an array.
    format : str or None
        Pillow's format name (``"PNG"``, ``"JPEG"``, ``"AVIF"``, ...), or ``None`` for an array.
    source_mode : str
        Pillow mode of the file as decoded (``"RGB"``, ``"L"``, ``"I;16"``, ``"P"``, ``"CMYK"``, ``"RGBA"``,
        ``"LA"``, ...). 16-bit colour files report ``"RGB"``, ``"RGBA"`` or ``"LA"`` with ``bit_depth == 16``.
    bit_depth : int
        8 or 16, matching the dtype of ``pixels``.
    had_alpha : bool
        Whether the source had an alpha channel or transparency (flattened over white).
    icc_profile : bytes or None
        The embedded ICC profile as stored in the file; ``None`` when absent or after a CMYK conversion.
    exif : bytes or None
        The raw EXIF block, with the orientation tag set to 1 if it was applied; ``None`` when the file has none.

    Notes
    -----
    Instances compare by identity (comparing pixel arrays element-wise has no single truth value).
    """

    pixels: np.ndarray
    path: Path | None = None
    format: str | None = None
    source_mode: str = "RGB"
    bit_depth: int = 8
    had_alpha: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
            shape = getattr(pixels, "shape", None)
            raise ValueError(f"Image pixels must be an H x W x 3 numpy array, not shape {shape}.")
        if pixels.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"Image pixels must be uint8 or uint16, not {pixels.dtype}.")
        expected_depth = 16 if pixels.dtype == np.uint16 else 8
        if self.bit_depth != expected_depth:
            raise ValueError(f"bit_depth is {self.bit_depth} but the pixels are {pixels.dtype}.")
        if not pixels.flags.c_contiguous:
            pixels = np.ascontiguousarray(pixels)
        if pixels.flags.writeable:
            pixels = pixels.view()
            pixels.setflags(write=False)
        object.__setattr__(self, "pixels", pixels)
        if self.path is not None and not isinstance(self.path, Path):
            object.__setattr__(self, "path", Path(self.path))

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Number of columns."""
        return int(self.pixels.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``, in Pillow's order."""
        return (self.width, self.height)

    @property
    def n_pixels(self) -> int:
        """``width * height``."""
        return self.width * self.height

    def rgb8(self) -> np.ndarray:
        """Return the pixels as 8-bit RGB.

        Returns
        -------
        numpy.ndarray
            ``uint8``, ``H x W x 3``. For 8-bit images this is ``pixels`` itself (read-only); 16-bit values ``v``
            become ``round(v * 255 / 65535)`` in a new array.
        """
        if self.pixels.dtype == np.uint8:
            return self.pixels
        # v * 255 / 65535 == v / 257; adding 128 before the floor division rounds to nearest (no ties occur).
        return ((self.pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)

    def rgb_float(self) -> np.ndarray:
        """Return the pixels as float32 RGB on the 8-bit scale.

        Returns
        -------
        numpy.ndarray
            ``float32``, ``H x W x 3``, values in [0, 255]; 16-bit values are divided by 257. A new array.
        """
        rgb = self.pixels.astype(np.float32)
        if self.pixels.dtype == np.uint16:
            rgb /= np.float32(257.0)
        return rgb

    def luma(self) -> np.ndarray:
        """Return the BT.601 luma of :meth:`rgb_float`.

        Returns
        -------
        numpy.ndarray
            ``float32``, ``H x W``, values in [0, 255].
        """
        # Channel by channel from the integer pixels: the same numbers as rgb_to_luma(self.rgb_float()), without
        # materialising the H x W x 3 float array.
        return _channels_to_luma(self.pixels, divisor=257.0 if self.pixels.dtype == np.uint16 else None)
