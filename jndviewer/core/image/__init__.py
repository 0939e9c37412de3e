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

This package does not import torch (nor ``pillow_heif``) when it is imported; :func:`luma_tensor` and the torch
branch of :func:`rgb_to_luma` import it when called.

Modules
-------
* :mod:`~jndviewer.core.image.model`: the :class:`Image` type.
* :mod:`~jndviewer.core.image.decode`: :func:`load`, format sniffing and decoding by the mode rule, and
  :data:`IMAGE_SUFFIXES`.
* :mod:`~jndviewer.core.image.arrays`: :func:`from_array` and the array steps of the mode rule.
* :mod:`~jndviewer.core.image.tiff`: why Pillow cannot open a sound TIFF (floating-point or signed samples, ...),
  so that such a file is refused as what it is rather than as a corrupt one.
* :mod:`~jndviewer.core.image.luma`: BT.601 luma (:data:`LUMA_WEIGHTS`, :func:`rgb_to_luma`, :func:`luma_tensor`).

Import the public names from this package (``from jndviewer.core.image import load``), not from the modules.
"""

# The underscore names imported "as" themselves are private helpers that tests reach through this package
# (``jndviewer.core.image._isobmff_kind``, ...); the ``as`` spelling marks them as deliberate re-exports.
from jndviewer.core.image.arrays import from_array
from jndviewer.core.image.decode import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, MAX_PIXELS_ENV_VAR, load
from jndviewer.core.image.decode import _apply_orientation as _apply_orientation
from jndviewer.core.image.decode import _isobmff_kind as _isobmff_kind
from jndviewer.core.image.decode import _too_large_message as _too_large_message
from jndviewer.core.image.luma import LUMA_WEIGHTS, luma_tensor, rgb_to_luma
from jndviewer.core.image.model import Image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "LUMA_WEIGHTS",
    "MAX_PIXELS_ENV_VAR",
    "Image",
    "from_array",
    "load",
    "luma_tensor",
    "rgb_to_luma",
]
