"""Loading images into one canonical form: RGB pixels, 8 or 16 bits per channel.

:func:`load` reads PNG (8 and 16 bit), JPEG, WebP, TIFF, BMP, AVIF, and anything else Pillow opens, plus HEIF/HEIC
when the optional ``pillow_heif`` package is installed. :func:`from_array` builds the same :class:`Image` from a
numpy array. Only the first frame of animated or multi-page files is read.

Mode rule
---------
Every source is turned into ``H x W x 3`` RGB by one rule, applied by :func:`load` and :func:`from_array` alike:

* **Grayscale** (Pillow modes ``L``, ``I;16``, ``I``, ``F``, ``1``): R = G = B = gray. 16-bit gray stays 16-bit.
  Mode ``I`` (32-bit integers) is taken to hold 16-bit data: it is clipped to [0, 65535] and stored as 16-bit.
  Mode ``F`` (float) is taken to be on the 8-bit scale: it is clipped to [0, 255] and rounded to 8 bits.
* **Palette** (``P``, ``PA``): expanded to the palette's RGB(A) colours.
* **CMYK**: converted to sRGB through the embedded ICC profile with :mod:`PIL.ImageCms` when there is one, otherwise
  (or when that profile is unusable) with Pillow's plain conversion. The result never keeps the CMYK profile:
  ``icc_profile`` is ``None``.
* **Alpha** (``RGBA``, ``LA``, ``PA``, palette or colour-key transparency, 16-bit RGBA): straight (not premultiplied)
  alpha, composited over a white background, the usual viewer default: ``out = c * a + max * (1 - a)`` with
  ``a = alpha / max``, rounded to the nearest integer. ``had_alpha`` is then ``True`` (even if every pixel is opaque).
* **Bit depth**: 16-bit colour or gray PNG and TIFF files keep 16 bits (``uint16`` pixels); everything else is
  ``uint8``. Pillow reduces 16-bit colour PNG/TIFF to 8 bits, so those are decoded with ``imagecodecs``.
* **Orientation**: the EXIF orientation is applied (:func:`PIL.ImageOps.exif_transpose`); the returned ``exif``
  bytes have their orientation tag set to 1.

All other modes (``YCbCr``, ``LAB``, ``HSV``, ``RGBX``, ...) go through Pillow's ``convert("RGB")``.

Every failure of :func:`load` raises :class:`~jndviewer.core.errors.ImageLoadError` with a one-sentence message that
names the file. Images over a pixel limit (:data:`DEFAULT_MAX_PIXELS`, the ``max_pixels`` argument, or the
``JNDVIEWER_MAX_PIXELS`` environment variable) are refused from their header, before any pixel is decoded.

This module does not import torch (nor ``pillow_heif``) when it is imported; :func:`luma_tensor` and the torch
branch of :func:`rgb_to_luma` import it when called.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, overload

import numpy as np
from PIL import Image as PilImage
from PIL import ImageOps, UnidentifiedImageError

from jndviewer.core.errors import ImageLoadError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "LUMA_WEIGHTS",
    "MAX_PIXELS_ENV_VAR",
    "Image",
    "from_array",
    "load",
    "luma_tensor",
    "rgb_to_luma",
]

DEFAULT_MAX_PIXELS: int = 120_000_000
"""Largest image (width x height) :func:`load` accepts unless told otherwise."""

MAX_PIXELS_ENV_VAR = "JNDVIEWER_MAX_PIXELS"
"""Environment variable that overrides :data:`DEFAULT_MAX_PIXELS` when ``max_pixels`` is not given."""

LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)
"""BT.601 luma weights of R, G and B."""

_ORIENTATION_TAG = 0x0112
_MAX_REASON_CHARS = 160

# ISOBMFF brands (major or compatible) of HEIF/HEIC and of AVIF files.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# Magic numbers (4 bytes or more, so that plain text does not match) of the common formats.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


# --------------------------------------------------------------------------------------------------------------------
# The Image type
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image in canonical form (see the module docstring for the mode rule).

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


# --------------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> Image:
    """Read an image file into canonical form.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_pixels : int, optional
        Largest accepted ``width * height``. ``None`` uses the ``JNDVIEWER_MAX_PIXELS`` environment variable when it
        is set, else :data:`DEFAULT_MAX_PIXELS`. The limit is checked from the file header, before decoding, and
        does not depend on Pillow's ``Image.MAX_IMAGE_PIXELS``.

    Returns
    -------
    Image
        The decoded image, converted by the module's mode rule.

    Raises
    ------
    ImageLoadError
        If the file is missing, a directory, empty, unreadable, not an image, truncated or corrupt, over the pixel
        limit, or a HEIF file while ``pillow_heif`` is not installed. The message is one sentence naming the file.
    ValueError
        If ``max_pixels`` is not a positive integer.
    """
    file_path = Path(os.fspath(path))
    name = file_path.name or str(file_path)
    pixel_limit = _resolve_max_pixels(max_pixels, name)
    _check_is_readable_file(file_path, name)
    try:
        file = open(file_path, "rb")  # noqa: SIM115 - closed by the with-block below
    except PermissionError as err:
        raise ImageLoadError(f"{name} cannot be read: permission denied.") from err
    except OSError as err:
        raise ImageLoadError(f"{name} cannot be read: {_short_reason(err)}.") from err
    with file:
        try:
            head = file.read(64)
            file.seek(0)
        except OSError as err:
            raise ImageLoadError(f"{name} cannot be read: {_short_reason(err)}.") from err
        container = _isobmff_kind(head)
        if container == "heif" and not _heif_support_available():
            raise ImageLoadError(f"{name} is a HEIF image; install the optional 'heif' extra (pillow-heif) to read it.")
        with _pillow_bomb_check_disabled():
            return _decode(file, file_path, name, head, container, pixel_limit)


def _resolve_max_pixels(max_pixels: int | None, name: str) -> int:
    """Return the pixel limit from the argument, else the environment variable, else the default."""
    if max_pixels is not None:
        if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels <= 0:
            raise ValueError(f"max_pixels must be a positive integer, not {max_pixels!r}.")
        return int(max_pixels)
    text = os.environ.get(MAX_PIXELS_ENV_VAR, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value.is_integer() and value > 0):
        raise ImageLoadError(
            f"{name} was not loaded because {MAX_PIXELS_ENV_VAR}={text!r} is not a positive whole number."
        )
    return int(value)


def _check_is_readable_file(file_path: Path, name: str) -> None:
    """Raise ImageLoadError unless ``file_path`` is an existing, non-empty regular file."""
    try:
        if not file_path.exists():
            raise ImageLoadError(f"{name} does not exist.")
        if file_path.is_dir():
            raise ImageLoadError(f"{name} is a directory, not an image file.")
        if not file_path.is_file():
            raise ImageLoadError(f"{name} is not a regular file.")
        byte_count = file_path.stat().st_size
    except PermissionError as err:
        raise ImageLoadError(f"{name} cannot be read: permission denied.") from err
    except OSError as err:
        raise ImageLoadError(f"{name} cannot be read: {_short_reason(err)}.") from err
    if byte_count == 0:
        raise ImageLoadError(f"{name} is empty (0 bytes).")


def _decode(file: IO[bytes], file_path: Path, name: str, head: bytes, container: str | None, pixel_limit: int) -> Image:
    """Open, size-check, decode and convert; called with Pillow's own bomb check disabled."""
    try:
        pil_image = PilImage.open(file)
    except UnidentifiedImageError as err:
        if container == "avif":
            raise ImageLoadError(f"{name} is an AVIF image, but this Pillow build cannot decode AVIF.") from err
        signature_format = _signature_format(head)
        if signature_format is not None:
            raise ImageLoadError(
                f"{name} is truncated or corrupt: it starts like a {signature_format} file, "
                "but its header cannot be read."
            ) from err
        raise ImageLoadError(f"{name} is not an image file jndviewer can read.") from err
    except MemoryError as err:
        raise ImageLoadError(f"{name} is too large to decode in the available memory.") from err
    except Exception as err:  # Pillow's plugins raise many unrelated types for a broken header.
        raise ImageLoadError(f"{name} is truncated or corrupt: {_short_reason(err)}.") from err

    with pil_image:
        width, height = pil_image.size
        if width * height > pixel_limit:
            raise ImageLoadError(_too_large_message(name, width, height, pixel_limit))
        image_format = pil_image.format
        icc_profile = _as_bytes(pil_image.info.get("icc_profile"))
        try:
            decoded = None
            if _is_sixteen_bit_colour(pil_image, head):
                decoded = _decode_sixteen_bit_colour(pil_image, file, width, height)
            if decoded is None:
                pil_image.load()
            exif = _exif_with_orientation_reset(pil_image)
            if decoded is None:
                decoded = _decode_with_pillow(pil_image, icc_profile)
        except ImageLoadError:
            raise
        except MemoryError as err:
            raise ImageLoadError(f"{name} is too large to decode in the available memory.") from err
        except Exception as err:  # Pillow's decoders raise OSError, SyntaxError, ValueError, zlib.error, ...
            raise ImageLoadError(f"{name} is truncated or corrupt: {_short_reason(err)}.") from err

    pixels, source_mode, had_alpha, icc_profile = decoded
    if pixels is None:
        raise ImageLoadError(f"{name} uses the Pillow mode {source_mode}, which jndviewer cannot convert to RGB.")
    return Image(
        pixels=pixels,
        path=file_path,
        format=image_format,
        source_mode=source_mode,
        bit_depth=16 if pixels.dtype == np.uint16 else 8,
        had_alpha=had_alpha,
        icc_profile=icc_profile,
        exif=exif,
    )


_Decoded = tuple[np.ndarray | None, str, bool, bytes | None]  # pixels, source mode, had alpha, ICC profile


def _decode_with_pillow(pil_image: PilImage.Image, icc_profile: bytes | None) -> _Decoded:
    """Convert a loaded Pillow image by the mode rule, after applying its EXIF orientation (in place)."""
    source_mode = pil_image.mode
    ImageOps.exif_transpose(pil_image, in_place=True)
    oriented = pil_image
    transparency = pil_image.info.get("transparency")
    mode = oriented.mode

    if mode in ("P", "PA"):
        palette_has_alpha = oriented.palette is not None and oriented.palette.mode == "RGBA"
        if mode == "PA" or transparency is not None or palette_has_alpha:
            rgba = np.asarray(oriented.convert("RGBA"))
            return _composite_over_white(rgba[..., :3], rgba[..., 3]), source_mode, True, icc_profile
        return np.asarray(oriented.convert("RGB")), source_mode, False, icc_profile
    if mode in ("La", "RGBa"):  # premultiplied alpha: let Pillow un-premultiply first
        oriented = oriented.convert(mode.upper())
        mode = oriented.mode

    if mode in ("1", "L", "I", "F", "LA") or mode.startswith("I;16"):
        array = np.asarray(oriented.convert("L") if mode == "1" else oriented)
        gray, alpha = (array[..., 0], array[..., 1]) if mode == "LA" else (array, None)
        gray = _gray_to_canonical_dtype(gray)
        if alpha is None and mode != "1" and isinstance(transparency, int) and not isinstance(transparency, bool):
            alpha = _colour_key_alpha(gray[..., None], (transparency,), gray.dtype)
        if alpha is not None:
            return _gray_to_rgb(_composite_over_white(gray[..., None], alpha)[..., 0]), source_mode, True, icc_profile
        return _gray_to_rgb(gray), source_mode, False, icc_profile

    if mode == "RGBA":
        rgba = np.asarray(oriented)
        return _composite_over_white(rgba[..., :3], rgba[..., 3]), source_mode, True, icc_profile
    if mode == "RGB":
        rgb = np.asarray(oriented)
        if isinstance(transparency, tuple) and len(transparency) == 3:
            alpha = _colour_key_alpha(rgb, transparency, rgb.dtype)
            return _composite_over_white(rgb, alpha), source_mode, True, icc_profile
        return rgb, source_mode, False, icc_profile
    if mode == "CMYK":
        return _cmyk_to_rgb(oriented, icc_profile), source_mode, False, None

    try:
        rgb = np.asarray(oriented.convert("RGB"))
    except ValueError:
        return None, source_mode, False, icc_profile
    return rgb, source_mode, False, icc_profile


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


def _cmyk_to_rgb(cmyk_image: PilImage.Image, icc_profile: bytes | None) -> np.ndarray:
    """Convert CMYK to RGB through the embedded ICC profile when usable, else by Pillow's plain conversion."""
    converted = _cmyk_through_profile(cmyk_image, icc_profile) if icc_profile else None
    return np.asarray(converted if converted is not None else cmyk_image.convert("RGB"))


def _cmyk_through_profile(cmyk_image: PilImage.Image, icc_profile: bytes) -> PilImage.Image | None:
    """Convert CMYK to sRGB with :mod:`PIL.ImageCms`; ``None`` when littlecms or the profile is unusable."""
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms
        return None
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb_profile = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(cmyk_image, source_profile, srgb_profile, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # broken or mismatched (e.g. RGB) profile
        return None
    if converted is None or converted.mode != "RGB" or converted.size != cmyk_image.size:
        return None
    return converted


def _is_sixteen_bit_colour(pil_image: PilImage.Image, head: bytes) -> bool:
    """Whether the file is a 16-bit colour (or gray + alpha) PNG or TIFF, which Pillow would reduce to 8 bits."""
    if pil_image.format == "PNG":
        # IHDR: bytes 24 and 25 are the bit depth and the colour type (2 RGB, 4 gray + alpha, 6 RGBA).
        return len(head) >= 26 and head[24] == 16 and head[25] in (2, 4, 6)
    if pil_image.format == "TIFF" and pil_image.mode in ("RGB", "RGBA", "LA"):
        bits = getattr(pil_image, "tag_v2", {}).get(258)
        bits_per_sample = bits if isinstance(bits, tuple) else (bits,)
        return bool(bits_per_sample) and all(value == 16 for value in bits_per_sample)
    return False


def _decode_sixteen_bit_colour(pil_image: PilImage.Image, file: IO[bytes], width: int, height: int) -> _Decoded | None:
    """Decode a 16-bit colour PNG/TIFF with imagecodecs; ``None`` to fall back to Pillow (8 bits)."""
    try:
        import imagecodecs
    except ImportError:
        return None
    file.seek(0)
    data = file.read()
    decoder = imagecodecs.png_decode if pil_image.format == "PNG" else imagecodecs.tiff_decode
    try:
        array = decoder(data)
    except Exception:  # imagecodecs errors vary by codec; Pillow then decodes (and reports) it instead.
        return None
    if array.dtype != np.uint16 or array.ndim != 3 or array.shape[:2] != (height, width):
        return None
    channel_count = array.shape[2]
    if channel_count == 2:
        gray = _composite_over_white(array[..., :1], array[..., 1])[..., 0]
        pixels, source_mode, had_alpha = _gray_to_rgb(gray), "LA", True
    elif channel_count == 4:
        pixels, source_mode, had_alpha = _composite_over_white(array[..., :3], array[..., 3]), "RGBA", True
    elif channel_count == 3:
        pixels, source_mode, had_alpha = array, "RGB", False
        transparency = pil_image.info.get("transparency")
        if isinstance(transparency, tuple) and len(transparency) == 3:
            pixels = _composite_over_white(array, _colour_key_alpha(array, transparency, array.dtype))
            had_alpha = True
    else:
        return None
    orientation = _exif_orientation(pil_image)
    pixels = np.ascontiguousarray(_apply_orientation(pixels, orientation))
    return pixels, source_mode, had_alpha, _as_bytes(pil_image.info.get("icc_profile"))


def _exif_orientation(pil_image: PilImage.Image) -> int:
    """EXIF orientation (1 to 8) without decoding pixels; 1 when absent."""
    if pil_image.format == "PNG" and "exif" not in pil_image.info:
        return 1  # Pillow's PNG getexif() would decode the whole image to look for a late eXIf chunk.
    orientation = pil_image.getexif().get(_ORIENTATION_TAG, 1)
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Transpose an H x W x C array as :func:`PIL.ImageOps.exif_transpose` does for ``orientation``."""
    if orientation == 2:  # FLIP_LEFT_RIGHT
        return array[:, ::-1]
    if orientation == 3:  # ROTATE_180
        return array[::-1, ::-1]
    if orientation == 4:  # FLIP_TOP_BOTTOM
        return array[::-1]
    if orientation == 5:  # TRANSPOSE
        return array.swapaxes(0, 1)
    if orientation == 6:  # ROTATE_270 (counter-clockwise), i.e. 90 degrees clockwise
        return np.rot90(array, k=-1)
    if orientation == 7:  # TRANSVERSE
        return array.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:  # ROTATE_90 (counter-clockwise)
        return np.rot90(array, k=1)
    return array


def _exif_with_orientation_reset(pil_image: PilImage.Image) -> bytes | None:
    """The file's raw EXIF block, with the orientation tag rewritten to 1 when it was applied."""
    raw = _as_bytes(pil_image.info.get("exif"))
    if raw is None:
        return None
    exif = PilImage.Exif()  # a fresh object: pil_image.getexif() is cached and read by exif_transpose later
    exif.load(raw)
    orientation = exif.get(_ORIENTATION_TAG, 1)
    if isinstance(orientation, int) and 2 <= orientation <= 8:
        exif[_ORIENTATION_TAG] = 1
        return exif.tobytes()
    return raw


def _as_bytes(value: Any) -> bytes | None:
    """``bytes(value)`` for non-empty bytes-like values, else ``None``."""
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) > 0:
        return bytes(value)
    return None


def _isobmff_kind(head: bytes) -> str | None:
    """``"heif"`` or ``"avif"`` for an ISOBMFF ``ftyp`` header with those brands, else ``None``."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    major_brand = head[8:12]
    box_end = min(int.from_bytes(head[0:4], "big"), len(head))
    compatible_brands = [head[offset : offset + 4] for offset in range(16, box_end - 3, 4)]
    if major_brand in _AVIF_BRANDS:
        return "avif"
    if major_brand in _HEIF_BRANDS - {b"mif1", b"msf1"}:
        return "heif"
    if any(brand in _AVIF_BRANDS for brand in compatible_brands):
        return "avif"
    if major_brand in _HEIF_BRANDS or any(brand in _HEIF_BRANDS for brand in compatible_brands):
        return "heif"
    return None


def _signature_format(head: bytes) -> str | None:
    """The format a file's first bytes claim (PNG, JPEG, TIFF, GIF, WebP, AVIF, HEIF), else ``None``."""
    for signature, format_name in _SIGNATURES:
        if head.startswith(signature):
            return format_name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    container = _isobmff_kind(head)
    return container.upper() if container is not None else None


@functools.cache
def _heif_support_available() -> bool:
    """Import ``pillow_heif`` and register its Pillow opener, once; ``False`` when it is not installed."""
    try:
        import pillow_heif
    except (ImportError, OSError):
        return False
    pillow_heif.register_heif_opener()
    return True


_pillow_limit_lock = threading.Lock()
_pillow_limit_users = 0
_pillow_saved_limit: int | None = None


@contextlib.contextmanager
def _pillow_bomb_check_disabled() -> Iterator[None]:
    """Switch off Pillow's own decompression-bomb check (warning and error) while images are opened here.

    :func:`load` applies its own pixel limit from the header instead. The previous ``Image.MAX_IMAGE_PIXELS`` is
    restored when the last concurrent load leaves.
    """
    global _pillow_limit_users, _pillow_saved_limit
    with _pillow_limit_lock:
        if _pillow_limit_users == 0:
            _pillow_saved_limit = PilImage.MAX_IMAGE_PIXELS
            PilImage.MAX_IMAGE_PIXELS = None
        _pillow_limit_users += 1
    try:
        yield
    finally:
        with _pillow_limit_lock:
            _pillow_limit_users -= 1
            if _pillow_limit_users == 0:
                PilImage.MAX_IMAGE_PIXELS = _pillow_saved_limit


def _format_megapixels(count: int) -> str:
    """``"400 MP"``, ``"12.5 MP"``, ``"1.25 MP"``: megapixels to about three significant digits."""
    megapixels = count / 1e6
    decimals = 0 if megapixels >= 100 else 1 if megapixels >= 10 else 2
    text = f"{megapixels:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} MP"


def _too_large_message(name: str, width: int, height: int, pixel_limit: int) -> str:
    """One-sentence refusal of an image over the pixel limit."""
    pixel_count = width * height
    count_text, limit_text = _format_megapixels(pixel_count), _format_megapixels(pixel_limit)
    if pixel_limit >= 1_000_000 and count_text != limit_text:
        over_text = f"({count_text}), over the {limit_text} limit"
    else:  # small limits, or megapixel figures that round to the same text: exact counts
        over_text = f"({pixel_count:,} in all), over the {pixel_limit:,}-pixel limit"
    return f"{name} is {width}×{height} pixels {over_text}; raise it with --max-pixels or {MAX_PIXELS_ENV_VAR}."


def _short_reason(err: BaseException) -> str:
    """A short single-line reason from an exception, without a trailing period or a parenthesised detail."""
    text = " ".join(str(err).split())
    if isinstance(err, OSError) and err.strerror:  # "[Errno 5] Input/output error: '/x.png'" -> the middle part
        text = " ".join(err.strerror.split()).lower()
    text = re.sub(r"\s*\([^()]*\)$", "", text).rstrip(" .")
    if not text:
        text = type(err).__name__
    if len(text) > _MAX_REASON_CHARS:
        text = text[: _MAX_REASON_CHARS - 1].rstrip() + "…"
    return text


# --------------------------------------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------------------------------------


def from_array(array: np.ndarray, *, path: str | os.PathLike[str] | None = None) -> Image:
    """Build an :class:`Image` from a numpy array by the module's mode rule.

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


@overload
def rgb_to_luma(rgb: np.ndarray) -> np.ndarray: ...


@overload
def rgb_to_luma(rgb: torch.Tensor) -> torch.Tensor: ...


def rgb_to_luma(rgb: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, on the scale of the input.

    Parameters
    ----------
    rgb : numpy.ndarray or torch.Tensor
        A numpy array with channels last (``H x W x 3``, or any ``(..., 3)``), or a torch tensor with channels at
        dim -3 (``3 x H x W``, ``N x 3 x H x W``, ...). Integer inputs are converted to float32; floating-point
        inputs keep their dtype.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The same type as ``rgb``: a numpy array with the channel axis removed (``H x W``), or a tensor with the
        channel dim kept as size 1 (``N x 1 x H x W``), on the input's device.

    Raises
    ------
    ValueError
        If the channel axis does not have size 3.
    """
    r_weight, g_weight, b_weight = LUMA_WEIGHTS
    if _is_torch_tensor(rgb):
        tensor: torch.Tensor = rgb  # type: ignore[assignment]
        if tensor.dim() < 3 or tensor.shape[-3] != 3:
            raise ValueError(f"Expected a tensor shaped (..., 3, H, W), not {tuple(tensor.shape)}.")
        if not tensor.is_floating_point():
            tensor = tensor.float()
        red, green, blue = tensor.unbind(dim=-3)
        return (red * r_weight + green * g_weight + blue * b_weight).unsqueeze(-3)

    values = np.asarray(rgb)
    if values.ndim < 1 or values.shape[-1] != 3:
        raise ValueError(f"Expected an array shaped (..., 3) with channels last, not {values.shape}.")
    return _channels_to_luma(values)


def _channels_to_luma(values: np.ndarray, *, divisor: float | None = None) -> np.ndarray:
    """BT.601 luma of a ``(..., 3)`` array, converting one channel at a time.

    Integer channels become float32 (then divided by ``divisor`` when given); float channels keep their dtype.
    """

    def channel(index: int) -> np.ndarray:
        plane = values[..., index]
        if plane.dtype.kind == "f":
            return plane
        plane = plane.astype(np.float32)
        if divisor is not None:
            plane /= np.float32(divisor)
        return plane

    r_weight, g_weight, b_weight = LUMA_WEIGHTS
    luma = channel(0) * r_weight
    luma += channel(1) * g_weight
    luma += channel(2) * b_weight
    return luma


def _is_torch_tensor(value: object) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch."""
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(value, torch_module.Tensor)


def luma_tensor(
    image: Image | np.ndarray,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """BT.601 luma as a ``1 x 1 x H x W`` torch tensor on the 8-bit scale [0, 255].

    Parameters
    ----------
    image : Image or numpy.ndarray
        An :class:`Image`, or an array: ``H x W`` (taken as luma already) or ``H x W x 3`` RGB, on the 8-bit scale
        (``uint16`` arrays are divided by 257, like :meth:`Image.rgb_float`).
    device : str or torch.device, optional
        Where the tensor goes; ``None`` means the CPU.
    dtype : torch.dtype, optional
        Floating-point dtype of the result; ``None`` means ``torch.float32``. Luma is computed in float32.

    Returns
    -------
    torch.Tensor
        Shape ``(1, 1, H, W)``.

    Raises
    ------
    ValueError
        If an array is neither ``H x W`` nor ``H x W x 3``.
    """
    import torch

    if isinstance(image, Image):
        luma = image.luma()
    else:
        values = np.asarray(image)
        divisor = 257.0 if values.dtype == np.uint16 else None
        if values.ndim == 2:
            luma = values.astype(np.float32)
            if divisor is not None:
                luma /= np.float32(divisor)
        elif values.ndim == 3 and values.shape[2] == 3:
            luma = _channels_to_luma(values, divisor=divisor)
        else:
            raise ValueError(f"Expected an H x W or H x W x 3 array, not shape {values.shape}.")
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    tensor = torch.from_numpy(luma).to(device=torch.device(device) if device is not None else "cpu")
    return tensor.to(dtype=dtype if dtype is not None else torch.float32).reshape(1, 1, *luma.shape)
