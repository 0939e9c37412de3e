"""Lossy codecs by name, with metadata (as CompressAI's and pyiqa's registries do).

>>> codec = create_codec("jpeg")                    # doctest: +SKIP
>>> encoded = codec.encode(rgb, 40)                 # doctest: +SKIP
>>> create_codec("folder:/data/ImageJND_SRC07")     # a folder of pre-compressed files  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jndviewer.core.codecs.base import Codec, CodecError, Encoded, check_rgb
from jndviewer.core.codecs.learned import AutoencoderCodec, LearnedCodec
from jndviewer.core.codecs.standard import (
    AvifCodec,
    HeifCodec,
    Jpeg422Codec,
    Jpeg444Codec,
    Jpeg2000Codec,
    JpegCodec,
    JpegXlCodec,
    WebpCodec,
)

#: Registered codecs by name, in menu order.
CODECS: dict[str, type[Codec]] = {
    cls.name: cls
    for cls in (
        JpegCodec, Jpeg422Codec, Jpeg444Codec, WebpCodec, AvifCodec, Jpeg2000Codec, JpegXlCodec, HeifCodec,
        LearnedCodec, AutoencoderCodec,
    )
}
FOLDER_PREFIX = "folder:"


@dataclass(frozen=True)
class CodecInfo:
    """What the codec list shows: name, title, levels, direction and availability."""

    name: str
    title: str
    level_name: str
    levels: str
    better: str
    available: bool
    reason: str


#: The options a ``folder:PATH,option=value,...`` spec takes (the keyword arguments of ``FolderCodec``).
FOLDER_OPTIONS = ("scheme", "better", "source", "family")


def parse_folder_spec(spec: str) -> tuple[Path, dict[str, str]]:
    """``folder:PATH[,scheme=bpg][,better=high][,source=FILE][,family=heif]`` -> the folder and its options.

    Parts after the path that do not start with an option name stay part of the path (a folder name may hold a
    comma). One sentence for an option given twice.
    """
    parts = spec[len(FOLDER_PREFIX) :].split(",")
    path_parts, options = [parts[0]], {}
    for part in parts[1:]:
        key, sep, value = part.partition("=")
        if sep and key.strip() in FOLDER_OPTIONS:
            if key.strip() in options:
                raise CodecError(f"The folder ladder option {key.strip()} is given twice in {spec!r}.")
            options[key.strip()] = value.strip()
        else:
            path_parts.append(part)
    folder = Path(",".join(path_parts))
    if len(path_parts) > 1 and not folder.exists() and Path(path_parts[0]).exists():  # not a comma in a name
        unknown = path_parts[1]
        raise CodecError(f"Unknown folder ladder option {unknown!r} in {spec!r}; the options are "
                         f"{', '.join(f'{name}=...' for name in FOLDER_OPTIONS)}.")
    return folder, options


def create_codec(spec: str, *, max_pixels: int | None = None, **options: Any) -> Codec:
    """A codec by registry name (``jpeg``, ``webp``, ...) or ``folder:PATH[,option=value...]`` for a folder ladder
    (options: :data:`FOLDER_OPTIONS`). ``max_pixels`` limits the files a folder ladder reads, like the image's own
    (None: the environment's or the default limit); other codecs read no files."""
    if spec.startswith(FOLDER_PREFIX):
        from jndviewer.core.codecs.folder import FolderCodec

        folder, given = parse_folder_spec(spec)
        return FolderCodec(folder, **{**given, **options}, max_pixels=max_pixels)
    try:
        cls = CODECS[spec]
    except KeyError:
        raise CodecError(
            f"Unknown codec {spec!r}; choose one of {', '.join(CODECS)}, or folder:PATH for pre-compressed files."
        ) from None
    available, reason = cls.availability()
    if not available:
        raise CodecError(reason)
    return cls(**options)


def codec_catalog() -> list[CodecInfo]:
    """Every registered codec with its levels and whether it can run here (one sentence when it cannot)."""
    rows = []
    for name, cls in CODECS.items():
        available, reason = cls.availability()
        levels = "-"
        if available:
            try:
                codec = cls()
                values = codec.levels()
                levels = f"{values[0]}..{values[-1]} ({len(values)})"
            except CodecError as err:
                available, reason = False, str(err)
        rows.append(CodecInfo(name, cls.title, cls.level_name, levels, cls.better, available, reason))
    return rows


__all__ = ["CODECS", "Codec", "CodecError", "CodecInfo", "Encoded", "check_rgb", "codec_catalog", "create_codec"]
