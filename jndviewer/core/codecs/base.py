"""The codec interface: a named, ordered set of levels, each a real encode with its real size.

``Codec.encode(rgb, level) -> Encoded(data, decoded)``: ``data`` are the exact bytes of the compressed file (its
length is the rate), ``decoded`` what a viewer would show (H x W x 3 uint8 RGB). A learned codec and a folder of
pre-compressed files are codecs too.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from PIL import Image

from jndviewer.core.errors import JndViewerError

Level = int


class CodecError(JndViewerError):
    """An unknown or unavailable codec, a level it does not have, or a failed encode."""


@dataclass(frozen=True)
class Encoded:
    """One encode: the compressed bytes and the decoded RGB image."""

    data: bytes
    decoded: np.ndarray
    level: Level

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def bits_per_pixel(self) -> float:
        height, width = self.decoded.shape[:2]
        return 8.0 * len(self.data) / (height * width)


class Codec(ABC):
    """A lossy codec with discrete levels.

    Attributes
    ----------
    name
        Registry name (``jpeg``, ``webp``, ...).
    title
        What a menu shows.
    suffix
        File extension of the compressed data (``.jpg``, ...), used when exporting.
    better
        Which end of :meth:`levels` gives the better quality: ``"higher"`` or ``"lower"``.
    level_name
        What a level means (``"quality"``, ``"target PSNR (dB)"``, ``"rate point"``, ...).
    size_monotone
        Whether the compressed size is promised to grow towards the better end, within 1 % (tiny images can lose a
        byte between neighbouring JPEG qualities to entropy-coder rounding); tests check it when True.
    family
        The codec family whose calibration applies to it (``jpeg``, ``webp``, ``avif``, ``heif``, ...): its own name
        unless it is a variant of another (JPEG 4:4:4) or a folder of another codec's files.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    suffix: ClassVar[str] = ""
    better: ClassVar[Literal["higher", "lower"]] = "higher"
    level_name: ClassVar[str] = "quality"
    size_monotone: ClassVar[bool] = False

    @property
    def family(self) -> str:
        return self.name

    def caveats(self) -> list[str]:
        """Sentences a user should read beside a PW-JND predicted over this codec's levels (none by default; a
        folder ladder whose codec family could not be told says that JPEG's calibration is assumed)."""
        return []

    @abstractmethod
    def levels(self) -> tuple[Level, ...]:
        """All levels in ascending numerical order."""

    @abstractmethod
    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        """Encode an H x W x 3 uint8 RGB image at ``level`` and decode it again."""

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """``(True, "")`` when the codec can run here, else ``(False, one sentence saying why)``."""
        return True, ""

    def encode_with_metadata(
        self, rgb: np.ndarray, level: Level, *, exif: bytes | None = None, icc_profile: bytes | None = None
    ) -> tuple[bytes, bool]:
        """The compressed file at ``level`` carrying the EXIF and ICC profile when the format can hold them.

        Returns ``(data, metadata_kept)``; codecs without a metadata-capable container return plain data and False.
        The pixels are those of :meth:`encode`.
        """
        return self.encode(rgb, level).data, exif is None and icc_profile is None

    def best_level(self) -> Level:
        levels = self.levels()
        return levels[-1] if self.better == "higher" else levels[0]

    def worst_level(self) -> Level:
        levels = self.levels()
        return levels[0] if self.better == "higher" else levels[-1]

    def ordered_worst_to_best(self) -> tuple[Level, ...]:
        levels = self.levels()
        return levels if self.better == "higher" else tuple(reversed(levels))

    def check_level(self, level: Level) -> Level:
        levels = self.levels()
        if level not in levels:
            raise CodecError(
                f"{self.title} has no level {level}; its {self.level_name} levels run from {levels[0]} to {levels[-1]}."
            )
        return level

    def describe(self) -> str:
        levels = self.levels()
        return (
            f"{self.name}: {self.title}, {self.level_name} {levels[0]}..{levels[-1]} ({len(levels)} levels, "
            f"{self.better} is better)"
        )


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an H x W x 3 uint8 image; returns it C-contiguous."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise CodecError(f"Codecs take H x W x 3 uint8 RGB images, not {array.shape} {array.dtype}.")
    return np.ascontiguousarray(array)


def decode_with_pillow(data: bytes) -> np.ndarray:
    """Decode compressed bytes with Pillow to H x W x 3 uint8 RGB.

    The bytes are a codec's own encode of an image :func:`jndviewer.core.image.load` admitted under jndviewer's
    pixel limit (``--max-pixels``), so Pillow's separate decompression-bomb check (a warning above 89 MP, an error
    above 179 MP) is off here, as it is in the loader: one limit, and no warning per level.
    """
    from jndviewer.core.image.decode import _pillow_bomb_check_disabled

    with _pillow_bomb_check_disabled(), Image.open(io.BytesIO(data)) as picture:
        picture.load()
        if picture.mode != "RGB":
            picture = picture.convert("RGB")
        return np.asarray(picture)
