"""Folder ladders: a directory of pre-compressed versions of one source image used as a codec.

Each file is one level; :meth:`FolderCodec.encode` returns the file's exact bytes (their length is the rate) and the
file decoded to RGB. The naming schemes, and where the source image is looked for, are described in
:mod:`jndviewer.core.codecs.folder_scan`, which recognises them; its public names are re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jndviewer.core.codecs.base import Codec, CodecError, Encoded, Level, check_rgb
from jndviewer.core.codecs.folder_scan import (
    FAMILIES,
    SCHEMES,
    AmbiguousSchemeError,
    FolderScan,
    detect_family,
    looks_like_folder_ladder,
    scan_folder,
)
from jndviewer.core.errors import ImageLoadError
from jndviewer.core.image import load

__all__ = [
    "SCHEMES",
    "AmbiguousSchemeError",
    "FolderCodec",
    "FolderScan",
    "looks_like_folder_ladder",
    "scan_folder",
]


class FolderCodec(Codec):
    """A folder of pre-compressed versions of one source image, one file per level.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder (see :mod:`jndviewer.core.codecs.folder_scan` for the naming schemes).
    source : str or os.PathLike, optional
        The source image; found by convention when omitted.
    better : {"higher", "lower"}, optional
        Which end of the levels is better; the scheme's convention when omitted (higher, except KonJND BPG).
    scheme : str, optional
        Force a naming scheme; required for a folder holding both KonJND JPEG and BPG files.
    family : {"jpeg", "webp", "avif", "heif"}, optional
        The codec family that made the files, whose calibration the predictors apply; detected from the scheme and
        the files' format when omitted (:func:`~jndviewer.core.codecs.folder_scan.detect_family`; JPEG's
        calibration when it cannot be told).
    max_pixels : int, optional
        The largest file read, in pixels, as for :func:`~jndviewer.core.image.load` (None: the environment's or the
        default limit); a larger file is a :class:`CodecError` of one sentence.

    Attributes
    ----------
    folder : pathlib.Path
        The folder.
    scan : FolderScan
        What was found in it.
    size_note : str or None
        Why the file sizes are not the real compressed sizes (KonJND BPG stored as PNG, a lossless format), or
        ``None`` when they are.

    Notes
    -----
    Only file names are read at construction; each :meth:`encode` reads its file again (the ladder above caches).
    """

    name = "folder"
    size_monotone = False

    def __init__(
        self,
        folder: str | os.PathLike[str],
        source: str | os.PathLike[str] | None = None,
        *,
        better: str | None = None,
        scheme: str | None = None,
        family: str | None = None,
        max_pixels: int | None = None,
    ) -> None:
        self.max_pixels = max_pixels
        self.scan = scan_folder(folder, scheme=scheme, better=better, source=source)
        if family is not None and family not in FAMILIES:
            raise CodecError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}.")
        detected = detect_family(self.scan.scheme, self.scan.suffix)
        self.family_given = family is not None
        self._family = family or detected or "jpeg"
        self.family_detected = detected is not None
        self._detected = detected
        self.folder = self.scan.folder
        #: The folder's own name (in the title and the caveat about its family).
        self.folder_name = Path(os.path.abspath(self.folder)).name
        # Per-instance values of the class-level Codec attributes.
        title = f"Folder: {self.folder_name}"
        if self.folder_name != self.scan.base:
            title += f" ({self.scan.base})"
        self.title = title  # type: ignore[misc]
        self.suffix = self.scan.suffix.lower()  # type: ignore[misc]
        self.better = self.scan.better  # type: ignore[misc]
        self.level_name = self.scan.level_name  # type: ignore[misc]
        self.size_note: str | None = self.scan.size_note

    def __repr__(self) -> str:
        return f"FolderCodec({str(self.folder)!r}, scheme={self.scan.scheme!r}, levels={len(self.scan.files)})"

    @property
    def family(self) -> str:
        """The codec family whose calibration applies (given, detected, or JPEG's when it cannot be told)."""
        return self._family

    def caveats(self) -> list[str]:
        if self.family_given and self._detected is not None and self._detected != self._family:
            return [f"The files in {self.folder_name} look like {self._detected} files, but family={self._family} "
                    f"was given: their levels are judged with {self._family}'s calibration."]
        if self.family_given or self.family_detected:
            return []
        return [f"The files in {self.folder_name} do not tell which codec made them, so they "
                "are judged with JPEG's calibration; if another codec made them, name its family: "
                f"folder:PATH,family={'|'.join(FAMILIES)}."]

    @property
    def scheme(self) -> str:
        """The naming scheme (``"generic"``, ``"mcl-jci"``, ``"konjnd-jpeg"`` or ``"konjnd-bpg"``)."""
        return self.scan.scheme

    @property
    def source_path(self) -> Path | None:
        """The source image, or ``None`` when none was found."""
        return self.scan.source

    @property
    def files(self) -> Mapping[Level, Path]:
        """Level -> file, ascending (read-only)."""
        return self.scan.files

    def levels(self) -> tuple[Level, ...]:
        """The levels parsed from the file names, ascending."""
        return self.scan.levels

    def path_for(self, level: Level) -> Path:
        """The file of ``level``; raises :class:`CodecError` when the folder has none."""
        return self.scan.files[self.check_level(level)]

    def check_level(self, level: Level) -> Level:
        """Return ``level`` if the folder has a file for it, else raise :class:`CodecError`."""
        levels = self.levels()
        if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or int(level) not in self.scan.files:
            shown = ", ".join(str(value) for value in levels[:12]) + (", ..." if len(levels) > 12 else "")
            raise CodecError(f"Folder {self.folder} has no file for {self.level_name} {level}; its levels are {shown}.")
        return int(level)

    def load_source(self) -> np.ndarray:
        """Read the source image.

        Returns
        -------
        numpy.ndarray
            ``H x W x 3`` uint8 RGB.

        Raises
        ------
        CodecError
            If no source was found or it cannot be read.
        """
        if self.source_path is None:
            raise CodecError(f"Folder {self.folder} has no source image that could be found; pass source= to name it.")
        try:
            return load(self.source_path, max_pixels=self.max_pixels).rgb8()
        except ImageLoadError as err:
            raise CodecError(f"The source of folder {self.folder} cannot be used: {_sentence_body(err)}.") from err

    def encode(self, rgb: np.ndarray, level: Level) -> Encoded:
        """Return the file of ``level``: its exact bytes and its pixels.

        Parameters
        ----------
        rgb : numpy.ndarray
            The source image (``H x W x 3`` uint8); only its size is used, to check that it matches the files.
        level : int
            One of :meth:`levels`.

        Returns
        -------
        Encoded
            ``data`` the file's bytes, ``decoded`` the file decoded to ``H x W x 3`` uint8 RGB.

        Raises
        ------
        CodecError
            If the level has no file, the file cannot be read or decoded, or its size differs from ``rgb``'s.
        """
        rgb = check_rgb(rgb)
        path = self.path_for(level)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise CodecError(
                f"Folder ladder file {path} cannot be read: {err.strerror or type(err).__name__}."
            ) from err
        try:
            decoded = load(path, max_pixels=self.max_pixels).rgb8()
        except ImageLoadError as err:
            raise CodecError(f"Folder {self.folder} cannot use level {level}: {_sentence_body(err)}.") from err
        if decoded.shape[:2] != rgb.shape[:2]:
            height, width = decoded.shape[:2]
            raise CodecError(
                f"{path.name} in folder {self.folder} is {width}x{height} but the image given is "
                f"{rgb.shape[1]}x{rgb.shape[0]}; a folder ladder holds the versions of one source image."
            )
        return Encoded(data, decoded, int(level))

    def describe(self) -> str:
        """One line: scheme, number of files, level range, better end, source, and the size note if any."""
        levels = self.levels()
        source = f"source {self.source_path}" if self.source_path is not None else "no source image in the folder"
        how = "given" if self.family_given else ("detected" if self.family_detected else "not detected: JPEG's")
        text = (
            f"{self.title}, {self.scan.scheme_title} ladder of {len(levels)} files, {self.level_name} "
            f"{levels[0]}..{levels[-1]} ({self.better} is better), {source}, calibrated as {self._family} ({how})."
        )
        if self.size_note:
            text += " " + self.size_note
        return text


def _sentence_body(err: Exception) -> str:
    """An error message without its final full stop, so that it can end another sentence."""
    return str(err).strip().rstrip(".")
