"""Why Pillow cannot open a TIFF whose structure is sound: a pixel layout it has no mode for.

Pillow opens TIFFs of 1-, 8- and 16-bit integer samples (and 32-bit gray); a valid file of, say, 32-bit
floating-point RGB samples makes it answer only "cannot identify image file". :func:`unsupported_tiff_layout` tells
that case apart from a damaged file, so that :func:`jndviewer.core.image.load` can refuse it truthfully.
"""

from __future__ import annotations

import warnings
from typing import IO

_BITS_PER_SAMPLE = 258
_PHOTOMETRIC = 262
_SAMPLES_PER_PIXEL = 277
_SAMPLE_FORMAT = 339

_FORMAT_NAMES = {
    1: "unsigned-integer",
    2: "signed-integer",
    3: "floating-point",
    4: "untyped",
    5: "complex-integer",
    6: "complex floating-point",
}
_PHOTOMETRIC_NAMES = {0: "gray", 1: "gray", 2: "RGB", 3: "palette", 4: "mask", 5: "CMYK", 6: "YCbCr", 8: "CIELab"}
_PHOTOMETRIC_CHANNELS = {0: 1, 1: 1, 2: 3, 3: 1, 4: 1, 5: 4, 6: 3, 8: 3}
_SAMPLE_BITS = frozenset({1, 2, 4, 8, 10, 12, 14, 16, 24, 32, 64, 128})


def unsupported_tiff_layout(file: IO[bytes]) -> str | None:
    """``"32-bit floating-point RGB samples"`` for a TIFF that Pillow has no pixel mode for, else ``None``.

    ``None`` means the file is not such a TIFF: not a TIFF, damaged, or openable after all; the caller then reports
    it as before. The file position is left anywhere.
    """
    with warnings.catch_warnings():  # a probe: Pillow's "Corrupt EXIF data" and the like are not news here
        warnings.simplefilter("ignore")
        return _describe(file)


def _describe(file: IO[bytes]) -> str | None:
    from PIL import TiffImagePlugin

    try:
        file.seek(0)
        TiffImagePlugin.TiffImageFile(file)
    except SyntaxError as err:
        if "unknown pixel mode" not in str(err):
            return None
    except Exception:  # damaged in some other way: not ours to describe
        return None
    else:
        return None
    try:
        file.seek(0)
        directory = TiffImagePlugin.ImageFileDirectory_v2(file.read(8))
        file.seek(directory.next)
        directory.load(file)
        bits = tuple(int(value) for value in directory.get(_BITS_PER_SAMPLE, (1,)))
        formats = tuple(int(value) for value in directory.get(_SAMPLE_FORMAT, (1,)))
        samples = int(directory.get(_SAMPLES_PER_PIXEL, 1))
        photometric = int(directory.get(_PHOTOMETRIC, 1))
    except Exception:
        return None
    if not _plausible(bits, formats, samples, photometric):
        return None  # a damaged directory, not a layout to name
    bit_text = f"{bits[0]}-bit" if len(set(bits)) == 1 else "/".join(str(b) for b in bits) + "-bit"
    format_text = _FORMAT_NAMES.get(formats[0], f"sample-format-{formats[0]}") if len(set(formats)) == 1 else "mixed"
    colour = _PHOTOMETRIC_NAMES.get(photometric, f"photometric-{photometric}")
    extra = samples - _PHOTOMETRIC_CHANNELS.get(photometric, samples)
    extra_text = f" with {extra} extra channel{'s' if extra > 1 else ''}" if extra > 0 else ""
    return f"{bit_text} {format_text} {colour} samples{extra_text}"


def _plausible(bits: tuple[int, ...], formats: tuple[int, ...], samples: int, photometric: int) -> bool:
    """Whether the directory describes a real layout that Pillow lacks: samples of a type (floating-point, signed,
    complex) or depth (12-, 24-, 32-, 64-bit) it has no mode for, in a colour space with that many channels."""
    if photometric not in _PHOTOMETRIC_CHANNELS or not 1 <= samples <= 8:
        return False
    if samples < _PHOTOMETRIC_CHANNELS[photometric] or len(bits) not in (1, samples):
        return False
    if len(formats) not in (1, samples) or any(value not in _FORMAT_NAMES for value in formats):
        return False
    if any(value not in _SAMPLE_BITS for value in bits):
        return False
    return any(value != 1 for value in formats) or any(value not in (1, 8, 16) for value in bits)
