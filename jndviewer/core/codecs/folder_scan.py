"""Recognising a folder ladder from its file names: the naming scheme, the file of each level and the source image.

:func:`scan_folder` reads names only, never an image; :class:`~jndviewer.core.codecs.folder.FolderCodec` opens the
folder it describes. The naming scheme is recognised from the file names:

``generic``
    ``NAME_QQQ.ext``: any stem ending in ``_<digits>``; every level file shares ``NAME`` and the extension. Higher is
    taken to be better unless ``better="lower"`` is given.
``mcl-jci``
    MCL-JCI: ``ImageJND_SRCxx/ImageJND_SRCxx_QQQ.jpg`` with the JPEG quality factor (1-100, higher is better). The
    source ``ImageJND_SRCxx.bmp`` (or ``.png``) lies in the folder, its parent, or a sibling such as ``../source/``.
``konjnd-jpeg`` and ``konjnd-bpg``
    KonJND-1k: ``{base}_JPEG_{QF:03d}.jpg`` (quality factor, higher is better) and ``{base}_BPG_{level:03d}.png``
    (BPG quantiser, lower is better). The BPG files are stored decoded, so their sizes are a stand-in for the unknown
    BPG bitstream sizes (see :attr:`FolderScan.size_note`): as PNG, or, as KonJND-1k's public sample files are, as
    JPEG files (quality 100, 4:4:4) numbered so that higher is better (``{base}_BPG_{level:03d}.jpg``). The source
    ``{base}.*`` lies in ``../source_image/`` (the KonJND layout: ``source_image/``, ``jpeg/`` and ``bpg/`` side by
    side) or next to the files.

Each scheme also says which codec family made the files (:func:`detect_family`), so that the predictors apply that
family's calibration: JPEG for MCL-JCI and KonJND JPEG, HEIF (the HEVC relative of BPG) for KonJND BPG, and for
``generic`` the family of the files' format (``.jpg`` JPEG, ``.webp`` WebP, ``.avif`` AVIF, ``.heic`` HEIF);
``family=`` overrides it.

The source image is found by convention (a file whose stem is ``NAME``, ``NAME_source``, ``NAME_ref``,
``NAME_reference``, ``NAME_original`` or ``NAME_orig`` in the folder, its parent, or a sibling folder such as
``../source/``, ``../reference/`` or ``../source_image/``), or named with ``source=``.

Hidden files and files that are not images (by extension: :data:`jndviewer.core.image.IMAGE_SUFFIXES`)
are ignored; image files that are not named like a level (such as the source) are kept in
:attr:`FolderScan.others`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from jndviewer.core.codecs.base import CodecError, Level
from jndviewer.core.image import IMAGE_SUFFIXES

__all__ = [
    "FAMILIES",
    "SCHEMES",
    "AmbiguousSchemeError",
    "FolderScan",
    "detect_family",
    "looks_like_folder_ladder",
    "scan_folder",
]

Scheme = Literal["generic", "mcl-jci", "konjnd-jpeg", "konjnd-bpg"]
Better = Literal["higher", "lower"]

#: The naming schemes, in the order a file name is tried against them (most specific first).
SCHEMES: tuple[Scheme, ...] = ("konjnd-jpeg", "konjnd-bpg", "mcl-jci", "generic")

# Lossless formats: a ladder stored in one of them has file sizes that are not the sizes of the lossy encodes.
_LOSSLESS_SUFFIXES = frozenset({".bmp", ".gif", ".pgm", ".png", ".pnm", ".ppm", ".tga", ".tif", ".tiff"})
# Preferred extensions of a source image, best first (lossless first); others follow alphabetically.
_SOURCE_SUFFIX_RANK = (".png", ".bmp", ".tif", ".tiff", ".ppm", ".pnm", ".pgm", ".tga", ".webp")
# Stem suffixes that mark a source image ("" is the bare NAME).
_SOURCE_STEM_SUFFIXES = ("", "_source", "_src", "_ref", "_reference", "_original", "_orig")
# Sibling folders (of the ladder folder) where sources are looked for.
_SOURCE_SIBLINGS = (
    "source_image", "source_images", "source", "sources", "reference", "references", "ref", "refs", "original",
    "originals",
)  # fmt: skip

_PATTERNS: dict[Scheme, re.Pattern[str]] = {
    "konjnd-jpeg": re.compile(r"^(?P<base>.+)_JPEG_(?P<level>\d+)$", re.IGNORECASE),
    "konjnd-bpg": re.compile(r"^(?P<base>.+)_BPG_(?P<level>\d+)$", re.IGNORECASE),
    "mcl-jci": re.compile(r"^(?P<base>ImageJND_SRC\d+)_(?P<level>\d+)$", re.IGNORECASE),
    "generic": re.compile(r"^(?P<base>.+)_(?P<level>\d+)$"),
}
_PATTERN_SUFFIXES: dict[Scheme, frozenset[str] | None] = {
    "konjnd-jpeg": frozenset({".jpg", ".jpeg"}),
    "konjnd-bpg": frozenset({".png", ".jpg", ".jpeg"}),
    "mcl-jci": frozenset({".jpg", ".jpeg"}),
    "generic": None,
}
_SCHEME_TITLES: dict[Scheme, str] = {
    "generic": "generic NAME_QQQ",
    "mcl-jci": "MCL-JCI",
    "konjnd-jpeg": "KonJND-1k JPEG",
    "konjnd-bpg": "KonJND-1k BPG",
}
_BETTER_ALIASES = {"higher": "higher", "high": "higher", "lower": "lower", "low": "lower"}
_SCHEME_ALIASES: dict[str, Scheme] = {
    "generic": "generic",
    "mcl-jci": "mcl-jci",
    "mcl": "mcl-jci",
    "mcljci": "mcl-jci",
    "konjnd-jpeg": "konjnd-jpeg",
    "jpeg": "konjnd-jpeg",
    "konjnd-bpg": "konjnd-bpg",
    "bpg": "konjnd-bpg",
}
_BPG_SIZE_NOTE = (
    "The BPG levels are stored decoded as {kind} files, so their sizes are {kind} sizes, a stand-in for the real "
    "BPG bitstream sizes, which this folder does not hold."
)
#: Codec families a folder ladder can be calibrated as (``family=``).
FAMILIES = ("jpeg", "webp", "avif", "heif")
_FAMILY_OF_SUFFIX = {".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".avif": "avif", ".heic": "heif",
                     ".heif": "heif"}  # fmt: skip
_FAMILY_OF_SCHEME = {"mcl-jci": "jpeg", "konjnd-jpeg": "jpeg", "konjnd-bpg": "heif"}


def detect_family(scheme: str, suffix: str) -> str | None:
    """The codec family whose files a ladder holds, from its scheme and file format (None when unknown, e.g. PNG)."""
    return _FAMILY_OF_SCHEME.get(scheme) or _FAMILY_OF_SUFFIX.get(suffix.lower())


class AmbiguousSchemeError(CodecError):
    """A folder holds files of two schemes (KonJND JPEG and BPG) and ``scheme=`` must pick one.

    Attributes
    ----------
    choices : tuple of str
        The values of ``scheme`` that would resolve it (``("jpeg", "bpg")``).
    """

    def __init__(self, message: str, choices: tuple[str, ...]) -> None:
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class FolderScan:
    """What :func:`scan_folder` found in a folder, without reading any image.

    Attributes
    ----------
    folder : pathlib.Path
        The folder, as given (with ``~`` expanded).
    scheme : str
        ``"generic"``, ``"mcl-jci"``, ``"konjnd-jpeg"`` or ``"konjnd-bpg"``.
    base : str
        The image name shared by the level files (``NAME``, ``ImageJND_SRCxx`` or the KonJND ``base``).
    files : Mapping[int, pathlib.Path]
        Level -> file, in ascending level order (read-only).
    better : {"higher", "lower"}
        Which end of the levels gives the better quality.
    source : pathlib.Path or None
        The source image, found by convention or given; ``None`` when not found.
    suffix : str
        The level files' extension as written on disk (``".jpg"``, ...).
    level_name : str
        ``"quality"`` for JPEG quality factors, ``"level"`` otherwise.
    size_note : str or None
        Why the file sizes are not the real compressed sizes (BPG stored as PNG, or a lossless format), or ``None``
        when they are.
    others : tuple of pathlib.Path
        Image files in the folder that are not level files of this ladder (the source, ...).
    """

    folder: Path
    scheme: Scheme
    base: str
    files: Mapping[Level, Path]
    better: Better
    source: Path | None
    suffix: str
    level_name: str
    size_note: str | None = None
    others: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def levels(self) -> tuple[Level, ...]:
        """The levels in ascending order."""
        return tuple(self.files)

    @property
    def scheme_title(self) -> str:
        """A readable name of the scheme (``"MCL-JCI"``, ``"KonJND-1k BPG"``, ...)."""
        return _SCHEME_TITLES[self.scheme]


# --------------------------------------------------------------------------------------------------------------------
# Scanning
# --------------------------------------------------------------------------------------------------------------------


def scan_folder(
    folder: str | os.PathLike[str],
    *,
    scheme: str | None = None,
    better: str | None = None,
    source: str | os.PathLike[str] | None = None,
) -> FolderScan:
    """Recognise the ladder in a folder from its file names, without reading any image.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder holding the compressed versions of one image.
    scheme : str, optional
        Force a scheme: ``"generic"``, ``"mcl-jci"`` (or ``"mcl"``), ``"konjnd-jpeg"`` (or ``"jpeg"``),
        ``"konjnd-bpg"`` (or ``"bpg"``). Needed when a folder holds both KonJND JPEG and BPG files.
    better : {"higher", "lower"}, optional
        Override which end of the levels is better (the scheme's own convention otherwise; ``"higher"`` for
        ``generic``).
    source : str or os.PathLike, optional
        The source image; it must exist. When omitted, it is looked for by convention.

    Returns
    -------
    FolderScan
        The scheme, base name, files by level, better end and source.

    Raises
    ------
    AmbiguousSchemeError
        If the folder holds KonJND JPEG and BPG files and ``scheme`` is not given.
    CodecError
        If the folder is missing, not a directory, empty, holds no file named like a level, mixes names, extensions
        or schemes, has two files for one level, or if ``scheme``, ``better`` or ``source`` is invalid. The message
        is one sentence naming the folder or file.
    """
    folder_path = Path(os.fspath(folder)).expanduser()
    forced = _normalise_scheme(scheme)
    better_override = normalise_better(better)
    entries = _list_folder(folder_path)
    source_path = _check_source(source)

    images = [path for path in entries if path.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        hint = "; pick the subfolder that holds the ladder" if any(path.is_dir() for path in entries) else ""
        raise CodecError(f"Folder {folder_path} holds no image files{hint}.")

    by_scheme: dict[Scheme, list[tuple[Path, str, Level]]] = {}
    for path in images:
        parsed = _parse_name(path, forced)
        if parsed is not None:
            found_scheme, base, level = parsed
            by_scheme.setdefault(found_scheme, []).append((path, base, level))
    if not by_scheme:
        if forced is not None:
            raise CodecError(f"No file in folder {folder_path} is named like a {_SCHEME_TITLES[forced]} ladder level.")
        raise CodecError(
            f"No image in folder {folder_path} is named like a ladder level (NAME_QQQ.ext, ImageJND_SRCxx_QQQ.jpg, "
            "BASE_JPEG_QQQ.jpg or BASE_BPG_QQQ.png)."
        )
    chosen = _choose_scheme(folder_path, by_scheme)
    level_files = by_scheme[chosen]

    base = _check_same(folder_path, level_files)
    files = _check_unique_levels(folder_path, level_files)
    suffix = level_files[0][0].suffix
    chosen_paths = set(files.values())
    others = tuple(path for path in images if path not in chosen_paths)

    bpg_as_png = chosen == "konjnd-bpg" and suffix.lower() == ".png"  # quantiser numbers; JPEG-stored: higher better
    resolved_better: Better = better_override or ("lower" if bpg_as_png else "higher")
    level_name = "quality" if chosen in ("mcl-jci", "konjnd-jpeg") else "level"
    if chosen == "konjnd-bpg":
        size_note: str | None = _BPG_SIZE_NOTE.format(kind="PNG" if bpg_as_png else "JPEG (quality 100)")
    elif suffix.lower() in _LOSSLESS_SUFFIXES:
        size_note = (
            f"The levels are stored as {suffix} files, a lossless format, so their sizes are a stand-in for the "
            "sizes of the lossy encodes."
        )
    else:
        size_note = None

    if source_path is None:
        source_path = _find_source(folder_path, chosen, base)
    return FolderScan(
        folder=folder_path,
        scheme=chosen,
        base=base,
        files=MappingProxyType(dict(sorted(files.items()))),
        better=resolved_better,
        source=source_path,
        suffix=suffix,
        level_name=level_name,
        size_note=size_note,
        others=others,
    )


def looks_like_folder_ladder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder that :func:`scan_folder` recognises as a ladder.

    A folder that holds both KonJND JPEG and BPG files counts (it needs ``scheme=`` to be opened). Never raises.

    Parameters
    ----------
    path : str or os.PathLike
        Any path.

    Returns
    -------
    bool
        ``True`` when the folder holds a recognisable ladder.
    """
    try:
        scan_folder(path)
    except AmbiguousSchemeError:
        return True
    except (CodecError, OSError, ValueError):
        return False
    return True


def _normalise_scheme(scheme: str | None) -> Scheme | None:
    if scheme is None:
        return None
    key = str(scheme).strip().lower().replace("_", "-")
    if key not in _SCHEME_ALIASES:
        choices = ", ".join(repr(name) for name in _SCHEME_ALIASES)
        raise CodecError(f"Unknown folder ladder scheme {scheme!r}; choose one of {choices}.")
    return _SCHEME_ALIASES[key]


def normalise_better(better: str | None) -> Better | None:
    """``better=`` as the scan keeps it (``higher``/``lower``; high and low accepted); one sentence otherwise."""
    if better is None:
        return None
    resolved = _BETTER_ALIASES.get(str(better).strip().lower())
    if resolved is None:
        raise CodecError(f"better must be high or low (higher, lower), not {better!r}.")
    return resolved  # type: ignore[return-value]


def _check_source(source: str | os.PathLike[str] | None) -> Path | None:
    if source is None:
        return None
    path = Path(os.fspath(source)).expanduser()
    if not path.exists():
        raise CodecError(f"Source image {path} does not exist.")
    if not path.is_file():
        raise CodecError(f"Source image {path} is not a file.")
    return path


def _list_folder(folder: Path) -> list[Path]:
    """The non-hidden entries of ``folder``, sorted by name."""
    try:
        if not folder.exists():
            raise CodecError(f"Folder {folder} does not exist.")
        if not folder.is_dir():
            raise CodecError(f"{folder} is not a folder.")
        entries = sorted(path for path in folder.iterdir() if not path.name.startswith("."))
    except PermissionError as err:
        raise CodecError(f"Folder {folder} cannot be read: permission denied.") from err
    except OSError as err:
        raise CodecError(f"Folder {folder} cannot be read: {err.strerror or type(err).__name__}.") from err
    if not entries:
        raise CodecError(f"Folder {folder} is empty.")
    files = [path for path in entries if path.is_file()]
    return files + [path for path in entries if path.is_dir()]


def _parse_name(path: Path, forced: Scheme | None) -> tuple[Scheme, str, Level] | None:
    """``(scheme, base, level)`` of a level file name, or ``None`` for any other name."""
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    for scheme in (forced,) if forced is not None else SCHEMES:
        allowed = _PATTERN_SUFFIXES[scheme]
        if allowed is not None and suffix not in allowed:
            continue
        match = _PATTERNS[scheme].match(path.stem)
        if match is not None:
            return scheme, match["base"], int(match["level"])
    return None


def _choose_scheme(folder: Path, by_scheme: dict[Scheme, list[tuple[Path, str, Level]]]) -> Scheme:
    if len(by_scheme) == 1:
        return next(iter(by_scheme))
    if set(by_scheme) == {"konjnd-jpeg", "konjnd-bpg"}:
        jpeg, bpg = by_scheme["konjnd-jpeg"][0][0], by_scheme["konjnd-bpg"][0][0]
        raise AmbiguousSchemeError(
            f"Folder {folder} holds both KonJND JPEG files ({jpeg.name}) and BPG files ({bpg.name}); pass "
            "scheme='jpeg' or scheme='bpg' to choose one.",
            ("jpeg", "bpg"),
        )
    first, second = [scheme for scheme in SCHEMES if scheme in by_scheme][:2]
    a, b = by_scheme[first][0][0], by_scheme[second][0][0]
    raise CodecError(
        f"Folder {folder} mixes naming schemes ({a.name} is {_SCHEME_TITLES[first]}, {b.name} is "
        f"{_SCHEME_TITLES[second]}); keep one ladder per folder or pass scheme= to choose."
    )


def _check_same(folder: Path, level_files: list[tuple[Path, str, Level]]) -> str:
    """The shared base name; raises when the level files name different images or use different extensions."""
    first_path, base, _ = level_files[0]
    for path, other_base, _ in level_files[1:]:
        if other_base != base:
            raise CodecError(
                f"Folder {folder} mixes files of different images ({first_path.name} and {path.name}); a folder "
                "ladder holds the versions of one image."
            )
    suffix = first_path.suffix
    for path, _, _ in level_files[1:]:
        if path.suffix != suffix:
            raise CodecError(
                f"Folder {folder} mixes file types ({first_path.name} and {path.name}); a folder ladder's files "
                "share one extension."
            )
    return base


def _check_unique_levels(folder: Path, level_files: list[tuple[Path, str, Level]]) -> dict[Level, Path]:
    files: dict[Level, Path] = {}
    for path, _, level in level_files:
        if level in files:
            raise CodecError(f"Folder {folder} has two files for level {level} ({files[level].name} and {path.name}).")
        files[level] = path
    return files


def _find_source(folder: Path, scheme: Scheme, base: str) -> Path | None:
    """The source image of a ladder by convention, or ``None``."""
    absolute = Path(os.path.abspath(folder))
    parent = absolute.parent
    siblings = [parent / name for name in _SOURCE_SIBLINGS]
    if scheme in ("konjnd-jpeg", "konjnd-bpg"):
        directories = [parent / "source_image", absolute, parent, *siblings]
    else:
        directories = [absolute, parent, *siblings]
    stems = [(base + tail).lower() for tail in _SOURCE_STEM_SUFFIXES]
    seen: set[Path] = set()
    for directory in directories:
        if directory in seen:
            continue
        seen.add(directory)
        found = _source_in(directory, stems)
        if found is not None:
            return found
    return None


def _source_in(directory: Path, stems: list[str]) -> Path | None:
    """The best file of ``directory`` whose stem is one of ``stems`` (earlier stems first, lossless first)."""
    try:
        if not directory.is_dir():
            return None
        candidates = [
            path
            for path in directory.iterdir()
            if path.stem.lower() in stems and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
        ]
    except OSError:
        return None
    if not candidates:
        return None

    def rank(path: Path) -> tuple[int, int, str]:
        suffix = path.suffix.lower()
        suffix_rank = _SOURCE_SUFFIX_RANK.index(suffix) if suffix in _SOURCE_SUFFIX_RANK else len(_SOURCE_SUFFIX_RANK)
        return stems.index(path.stem.lower()), suffix_rank, path.name

    return min(candidates, key=rank)
