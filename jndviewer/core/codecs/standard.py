"""Standard image codecs: JPEG (libjpeg-turbo), WebP, AVIF, JPEG 2000 (Pillow), JPEG XL (imagecodecs) and
HEIF/HEVC (pillow-heif, the closest thing to BPG that can be installed here; an optional GPL extra)."""

from __future__ import annotations

import io
from typing import Any, ClassVar

import numpy as np
from PIL import Image, features

from jndviewer.core.codecs.base import Codec, CodecError, Encoded, Level, check_rgb, decode_with_pillow


class PillowCodec(Codec):
    """A codec that Pillow writes with ``Image.save(format=..., **options)``."""

    pillow_format: ClassVar[str] = ""
    feature: ClassVar[str | None] = None
    level_range: ClassVar[tuple[int, int]] = (1, 100)

    def levels(self) -> tuple[Level, ...]:
        low, high = self.level_range
        return tuple(range(low, high + 1))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        if cls.feature and not features.check(cls.feature):
            return False, f"This Pillow build has no {cls.title} support."
        return True, ""

    def save_options(self, level: Level) -> dict[str, Any]:
        return {"quality": int(level)}

    #: Whether Pillow writes EXIF / ICC into this format.
    keeps_metadata: ClassVar[bool] = True

    def _save(self, rgb: np.ndarray, level: Level, **extra: Any) -> bytes:
        rgb = check_rgb(rgb)
        self.check_level(level)
        available, reason = self.availability()
        if not available:
            raise CodecError(reason)
        buffer = io.BytesIO()
        try:
            Image.fromarray(rgb, "RGB").save(buffer, format=self.pillow_format, **self.save_options(level), **extra)
        except (OSError, ValueError) as err:
            raise CodecError(f"{self.title} could not encode this image at level {level}: {err}.") from err
        return buffer.getvalue()

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        data = self._save(rgb, level)
        return Encoded(data, decode_with_pillow(data), level)

    def encode_with_metadata(
        self, rgb: np.ndarray, level: Level, *, exif: bytes | None = None, icc_profile: bytes | None = None
    ) -> tuple[bytes, bool]:
        if not self.keeps_metadata:
            return super().encode_with_metadata(rgb, level, exif=exif, icc_profile=icc_profile)
        extra: dict[str, Any] = {}
        if exif:
            extra["exif"] = exif
        if icc_profile:
            extra["icc_profile"] = icc_profile
        return self._save(rgb, level, **extra), True


#: Pillow / libjpeg subsampling codes.
SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


class JpegCodec(PillowCodec):
    """Baseline JPEG through libjpeg-turbo with the standard IJG tables scaled by the quality factor (QF 1-100)."""

    name = "jpeg"
    title = "JPEG 4:2:0"
    suffix = ".jpg"
    pillow_format = "JPEG"
    size_monotone = True
    subsampling = "4:2:0"

    def save_options(self, level: Level) -> dict[str, Any]:
        return {"quality": int(level), "subsampling": SUBSAMPLING[self.subsampling]}

    @property
    def family(self) -> str:
        return "jpeg"  # 4:2:2 and 4:4:4 are calibrated as JPEG

    def caveats(self) -> list[str]:
        if self.subsampling == "4:2:0":
            return []
        return [f"The predictors were calibrated and trained on JPEG 4:2:0 ladders only (the labels' encoder); "
                f"{self.title} levels are judged with those fits, untested."]


class Jpeg422Codec(JpegCodec):
    name = "jpeg422"
    title = "JPEG 4:2:2"
    subsampling = "4:2:2"


class Jpeg444Codec(JpegCodec):
    name = "jpeg444"
    title = "JPEG 4:4:4"
    subsampling = "4:4:4"


class WebpCodec(PillowCodec):
    """Lossy WebP (libwebp), quality 1-100, method 4 (libwebp's default speed/size trade-off)."""

    name = "webp"
    title = "WebP"
    suffix = ".webp"
    pillow_format = "WEBP"
    feature = "webp"

    def save_options(self, level: Level) -> dict[str, Any]:
        return {"quality": int(level), "method": 4, "lossless": False}


class AvifCodec(PillowCodec):
    """AVIF through Pillow's built-in libavif (AV1 intra), quality 1-100, speed 6 (libavif's default)."""

    name = "avif"
    title = "AVIF"
    suffix = ".avif"
    pillow_format = "AVIF"
    feature = "avif"

    def save_options(self, level: Level) -> dict[str, Any]:
        return {"quality": int(level), "speed": 6}


class Jpeg2000Codec(PillowCodec):
    """JPEG 2000 (OpenJPEG) with a target PSNR per level: level L asks for L dB (20-50)."""

    name = "jp2"
    title = "JPEG 2000"
    suffix = ".jp2"
    pillow_format = "JPEG2000"
    feature = "jpg_2000"
    level_name = "target PSNR (dB)"
    level_range = (20, 50)
    size_monotone = True
    keeps_metadata = False

    def save_options(self, level: Level) -> dict[str, Any]:
        return {"quality_mode": "dB", "quality_layers": [float(level)], "irreversible": True}


class JpegXlCodec(Codec):
    """JPEG XL through imagecodecs (libjxl), quality 1-100 (``level``), effort 7 (libjxl's default)."""

    name = "jxl"
    title = "JPEG XL"
    suffix = ".jxl"

    def levels(self) -> tuple[Level, ...]:
        return tuple(range(1, 101))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        try:
            import imagecodecs
        except ImportError:
            return False, "JPEG XL needs the imagecodecs package."
        if not imagecodecs.JPEGXL.available:
            return False, "This imagecodecs build has no JPEG XL support."
        return True, ""

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        rgb = check_rgb(rgb)
        self.check_level(level)
        available, reason = self.availability()
        if not available:
            raise CodecError(reason)
        import imagecodecs

        data = bytes(imagecodecs.jpegxl_encode(rgb, level=int(level), effort=7))
        decoded = np.asarray(imagecodecs.jpegxl_decode(data))
        return Encoded(data, np.ascontiguousarray(decoded[..., :3]).astype(np.uint8, copy=False), level)


class HeifCodec(Codec):
    """HEIF with HEVC intra (x265 through pillow-heif): the closest installable relative of BPG, quality 1-100.

    pillow-heif's binary wheel is GPL, so it is an optional extra (``pip install 'jndviewer[heif]'``).
    """

    name = "heif"
    title = "HEIF (HEVC, BPG-like)"
    suffix = ".heic"

    def levels(self) -> tuple[Level, ...]:
        return tuple(range(1, 101))

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        try:
            import pillow_heif  # noqa: F401
        except ImportError:
            return False, "HEIF needs the optional 'heif' extra (pillow-heif, a GPL wheel), which is not installed."
        return True, ""

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        rgb = check_rgb(rgb)
        self.check_level(level)
        available, reason = self.availability()
        if not available:
            raise CodecError(reason)
        import pillow_heif

        heif = pillow_heif.from_bytes(mode="RGB", size=(rgb.shape[1], rgb.shape[0]), data=rgb.tobytes())
        buffer = io.BytesIO()
        heif.save(buffer, quality=int(level))
        data = buffer.getvalue()
        decoded_file = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        decoded = np.asarray(decoded_file[0])
        return Encoded(data, np.ascontiguousarray(decoded[..., :3]), level)
