"""Reading image files: :func:`load`, with its pixel limit, format sniffing and decoding by the mode rule.

Also :data:`IMAGE_SUFFIXES`, the file suffixes jndviewer treats as images. The mode rule itself is described in
:mod:`jndviewer.core.image`. Every failure of :func:`load` raises :class:`~jndviewer.core.errors.ImageLoadError`
with a one-sentence message that names the file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image as PilImage
from PIL import ImageOps, UnidentifiedImageError

from jndviewer.core.errors import ImageLoadError
from jndviewer.core.image.arrays import _colour_key_alpha, _composite_over_white, _gray_to_canonical_dtype, _gray_to_rgb
from jndviewer.core.image.model import Image
from jndviewer.core.image.tiff import unsupported_tiff_layout

__all__ = ["DEFAULT_MAX_PIXELS", "IMAGE_SUFFIXES", "MAX_PIXELS_ENV_VAR", "load"]

DEFAULT_MAX_PIXELS: int = 120_000_000
"""Largest image (width x height) :func:`load` accepts unless told otherwise."""

MAX_PIXELS_ENV_VAR = "JNDVIEWER_MAX_PIXELS"
"""Environment variable that overrides :data:`DEFAULT_MAX_PIXELS` when ``max_pixels`` is not given."""

#: Lower-case file suffixes (with the dot) of the files jndviewer treats as images, e.g. when it collects the images
#: of a folder. What :func:`~jndviewer.core.image.load` needs beyond the required dependencies:
#:
#: * ``.heic`` and ``.heif`` need the optional ``heif`` extra (``pillow-heif``); without it loading them raises
#:   :class:`~jndviewer.core.errors.ImageLoadError` that says so.
#: * ``.avif`` needs a Pillow build with AVIF support (Pillow's own wheels have it).
#: * ``.jxl`` is listed because the codec ladders hold JPEG XL encodes, but Pillow has no JPEG XL decoder, so
#:   :func:`~jndviewer.core.image.load` cannot read these files at present.
#:
#: Everything else is read by Pillow alone (16-bit colour PNG and TIFF through ``imagecodecs``).
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {
        ".avif", ".bmp", ".gif", ".heic", ".heif", ".j2k", ".jp2", ".jpeg", ".jpg", ".jxl", ".pgm", ".png", ".pnm",
        ".ppm", ".tga", ".tif", ".tiff", ".webp",
    }
)  # fmt: skip

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
        The decoded image, converted by the mode rule of :mod:`jndviewer.core.image`.

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
        layout = unsupported_tiff_layout(file) if signature_format == "TIFF" else None
        if layout is not None:
            raise ImageLoadError(
                f"{name} is a TIFF of {layout}, which jndviewer cannot read; save it with 8- or 16-bit unsigned "
                "integer channels."
            ) from err
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
