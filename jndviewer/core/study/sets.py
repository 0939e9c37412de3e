"""Study sets: the items a session walks through, stored as JSON beside (or pointing at) their reference images.

A study set file is ``{"format": "jndviewer.study_set", "version": 1, "name", "description", "items": [...]}`` where
each item is :meth:`StudyItem.to_dict` (plus an optional free-form ``"origin"``: where the reference was cut from).
References and ``folder:`` codec paths relative to the file's folder are resolved on load, and written relative
again when they lie inside the folder on save, so a folder of images with its set can be moved as one. References
``package:NAME`` are files shipped with jndviewer under ``assets/study/`` (:func:`reference_path`): the default set
(:func:`default_study_set`) uses them, so a session's stored plan stays valid when jndviewer is reinstalled
elsewhere.

:class:`ItemImages` gives one item's pixels: the (cropped) reference and each level's decoded image, encoded on
first use and cached. A standard codec encodes the cropped reference (the crop *is* the image shown); a ``folder:``
ladder holds files of the whole source image, so its decoded files are cropped like the reference.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.assets import asset
from jndviewer.core.codecs import FOLDER_OPTIONS, FOLDER_PREFIX, Codec, create_codec
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import IMAGE_SUFFIXES, load
from jndviewer.core.study.model import StudyItem

#: The ``format`` and highest ``version`` of a study set file.
FORMAT = "jndviewer.study_set"
VERSION = 1
#: References of files shipped under ``jndviewer/assets/study/``.
PACKAGE_PREFIX = "package:"
#: The shipped set's file under ``assets/study/``.
DEFAULT_SET_FILE = "default.json"
#: An indented JSON list of numbers (a raw newline cannot be inside a JSON string, so text is never matched).
_NUMBER_LIST = re.compile(r"\[\n\s*([-+\d.eE]+(?:,\n\s*[-+\d.eE]+)*)\n\s*\]")


@dataclass(frozen=True)
class StudySet:
    """A named, ordered set of study items with unique ids.

    ``origins`` maps item ids to free-form notes on where each reference came from (the shipped set records the
    Kodak image and crop box); it is kept by :func:`save_study_set` / :func:`load_study_set` and plays no other role.
    """

    name: str
    items: tuple[StudyItem, ...]
    description: str = ""
    origins: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not str(self.name).strip():
            raise JndViewerError("A study set needs a name.")
        if not self.items:
            raise JndViewerError(f"Study set {self.name!r} has no items.")
        seen: set[str] = set()
        for item in self.items:
            if not isinstance(item, StudyItem):
                raise JndViewerError(f"Study set {self.name!r} holds {type(item).__name__}, not study items.")
            if item.item_id in seen:
                raise JndViewerError(f"Study set {self.name!r} has the item id {item.item_id!r} twice; ids must be "
                                     f"unique.")
            seen.add(item.item_id)

    def item(self, item_id: str) -> StudyItem:
        """The item with this id."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise JndViewerError(f"Study set {self.name!r} has no item {item_id!r}.")


def reference_path(item: StudyItem) -> Path:
    """The file of an item's reference image (``package:NAME`` is ``assets/study/NAME`` inside the package)."""
    if item.reference.startswith(PACKAGE_PREFIX):
        name = item.reference[len(PACKAGE_PREFIX) :]
        if not name or Path(name).name != name or name in (".", ".."):
            raise JndViewerError(f"Study item {item.item_id!r} names the shipped file {name!r}, which is not a plain "
                                 f"file name.")
        return asset("study", name)
    return Path(item.reference)


def reference_rgb(item: StudyItem) -> np.ndarray:
    """The item's reference image as shown: loaded, cropped, H x W x 3 uint8."""
    return _crop(item, _load_reference(item))


def _load_reference(item: StudyItem) -> np.ndarray:
    path = reference_path(item)
    try:
        return load(path).rgb8()
    except JndViewerError as error:
        raise JndViewerError(f"The reference image of study item {item.item_id!r} ({path}) cannot be used: "
                             f"{_clause(error)}.") from None


def _crop(item: StudyItem, rgb: np.ndarray) -> np.ndarray:
    if item.crop is None:
        return rgb
    x, y, width, height = item.crop
    full_height, full_width = rgb.shape[:2]
    if width <= 0 or height <= 0 or x < 0 or y < 0 or x + width > full_width or y + height > full_height:
        raise JndViewerError(f"Study item {item.item_id!r} crops {width}x{height} at ({x}, {y}), which does not lie "
                             f"inside its {full_width}x{full_height} reference image.")
    return np.ascontiguousarray(rgb[y : y + height, x : x + width])


def _clause(error: Exception) -> str:
    """An error message as the end of another sentence: no final full stop, a lower-case first word."""
    text = str(error).strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


class ItemImages:
    """One item's pixels: :attr:`reference` and :meth:`decoded` per level, encoded once and cached.

    Safe to use from several threads (a prefetching worker and the GUI thread): each level is encoded by one thread
    while the others wait for it; different levels encode in parallel. The arrays returned are read-only, since
    they are shared by every caller.
    """

    def __init__(self, item: StudyItem) -> None:
        self.item = item
        self._codec = _create_codec(item)
        self._folder = item.codec.startswith(FOLDER_PREFIX)
        full = _load_reference(item)
        self._reference = _readonly(_crop(item, full))
        # A folder ladder checks that the image it is given has the size of its files: the whole source.
        self._source = _readonly(full) if self._folder else self._reference
        self._lock = threading.Lock()
        self._level_locks: dict[int, threading.Lock] = {}
        self._cache: dict[int, np.ndarray] = {}

    @property
    def reference(self) -> np.ndarray:
        """The reference as shown (cropped), H x W x 3 uint8, read-only."""
        return self._reference

    def decoded(self, level: int) -> np.ndarray:
        """The reference encoded at ``level`` with the item's codec and decoded (cropped like the reference)."""
        level = int(level)
        if level not in self.item.levels:
            levels = self.item.levels
            raise JndViewerError(f"Study item {self.item.item_id!r} has no level {level}; its levels run from "
                                 f"{levels[0]} to {levels[-1]}.")
        with self._lock:
            cached = self._cache.get(level)
            if cached is not None:
                return cached
            level_lock = self._level_locks.setdefault(level, threading.Lock())
        with level_lock:
            with self._lock:
                cached = self._cache.get(level)
            if cached is not None:
                return cached
            decoded = self._codec.encode(self._source, level).decoded
            if self._folder:
                decoded = _crop(self.item, decoded)
            if decoded.shape != self._reference.shape:
                raise JndViewerError(f"Codec {self.item.codec} returned a {decoded.shape[1]}x{decoded.shape[0]} image "
                                     f"for study item {self.item.item_id!r}, whose reference is "
                                     f"{self._reference.shape[1]}x{self._reference.shape[0]}.")
            decoded = _readonly(decoded)
            with self._lock:
                self._cache[level] = decoded
            return decoded

    def decoded_position(self, position: int) -> np.ndarray:
        """The decoded image at a ladder position (0: the best level)."""
        ladder = self.item.ladder()
        if not 0 <= int(position) < len(ladder):
            raise JndViewerError(f"Study item {self.item.item_id!r} has no ladder position {position}; its positions "
                                 f"run from 0 to {len(ladder) - 1}.")
        return self.decoded(ladder[int(position)])

    def cached_levels(self) -> tuple[int, ...]:
        """The levels decoded so far, ascending."""
        with self._lock:
            return tuple(sorted(self._cache))


def _create_codec(item: StudyItem) -> Codec:
    try:
        return create_codec(item.codec)
    except JndViewerError as error:
        raise JndViewerError(f"Study item {item.item_id!r} cannot use codec {item.codec}: {_clause(error)}.") from None


def check_study_set(study_set: StudySet) -> None:
    """Check that every item's codec is available, knows all the item's levels and agrees on which end is better.

    Item ids are checked by :class:`StudySet` itself; reference images are only read when they are shown.
    """
    codecs: dict[str, Codec] = {}
    for item in study_set.items:
        if item.codec not in codecs:
            codecs[item.codec] = _create_codec(item)
        codec = codecs[item.codec]
        levels = set(codec.levels())
        missing = [level for level in item.levels if level not in levels]
        if missing:
            shown = ", ".join(str(level) for level in missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise JndViewerError(f"Study item {item.item_id!r} asks for {codec.level_name} {shown}, which codec "
                                 f"{item.codec} does not have (its levels run from {min(levels)} to {max(levels)}).")
        if item.better != codec.better:
            raise JndViewerError(f"Study item {item.item_id!r} says {item.better} levels are better, but codec "
                                 f"{item.codec} is better at {codec.better} levels.")


def _split_folder_spec(spec: str) -> tuple[str, str]:
    """``folder:PATH,opt=v`` -> (``PATH``, ``,opt=v``) as written (the path may hold commas)."""
    parts = spec[len(FOLDER_PREFIX) :].split(",")
    end = next((i for i in range(1, len(parts)) if parts[i].partition("=")[0].strip() in FOLDER_OPTIONS), len(parts))
    path = ",".join(parts[:end])
    return path, spec[len(FOLDER_PREFIX) + len(path) :]


def _resolve(text: str, folder: Path) -> str:
    return text if os.path.isabs(text) else os.path.normpath(folder / text)


def _relative(text: str, folder: Path) -> str:
    path = Path(text)
    if path.is_absolute() and path.is_relative_to(folder):
        return path.relative_to(folder).as_posix()
    return text


def _map_paths(item: StudyItem, folder: Path, function: Any) -> StudyItem:
    reference = item.reference if item.reference.startswith(PACKAGE_PREFIX) else function(item.reference, folder)
    codec = item.codec
    if codec.startswith(FOLDER_PREFIX):
        path, options = _split_folder_spec(codec)
        codec = FOLDER_PREFIX + function(path, folder) + options
    return replace(item, reference=reference, codec=codec)


def load_study_set(path: str | os.PathLike[str]) -> StudySet:
    """Read a study set file, resolve its relative paths against its folder, and check it (:func:`check_study_set`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JndViewerError(f"There is no study set file {path}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JndViewerError(f"{path} is not a study set file (it is not JSON).") from None
    except OSError as error:
        raise JndViewerError(f"The study set file {path} cannot be read ({error.strerror}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise JndViewerError(f"{path} is not a jndviewer study set (its format is not {FORMAT!r}).")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise JndViewerError(f"The study set {path} has no valid version number.")
    if version > VERSION:
        raise JndViewerError(f"The study set {path} was written by a newer jndviewer (version {version}); update "
                             f"jndviewer.")
    entries = data.get("items")
    if not isinstance(entries, list):
        raise JndViewerError(f"The study set {path} has no list of items.")
    folder = path.parent.absolute()
    items, origins = [], {}
    for index, entry in enumerate(entries, 1):
        try:
            item = StudyItem.from_dict(entry)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            what = f"no {error.args[0]!r}" if isinstance(error, KeyError) else "a bad value"
            raise JndViewerError(f"Item {index} of the study set {path} has {what}.") from None
        items.append(_map_paths(item, folder, _resolve))
        if isinstance(entry.get("origin"), dict):
            origins[item.item_id] = entry["origin"]
    study_set = StudySet(str(data.get("name") or path.stem), tuple(items), str(data.get("description") or ""), origins)
    check_study_set(study_set)
    return study_set


def save_study_set(study_set: StudySet, path: str | os.PathLike[str]) -> None:
    """Write a study set file atomically (a crash leaves the old file or the new one, never half of one).

    Paths inside the file's folder are written relative to it; other paths stay as they are.
    """
    path = Path(path)
    folder = path.parent.absolute()
    items = []
    for item in study_set.items:
        entry = _map_paths(item, folder, _relative).to_dict()
        if item.item_id in study_set.origins:
            entry["origin"] = study_set.origins[item.item_id]
        items.append(entry)
    data = {"format": FORMAT, "version": VERSION, "name": study_set.name, "description": study_set.description,
            "items": items}
    # Indented for people, with lists of numbers (levels, crop boxes) kept on one line.
    text = _NUMBER_LIST.sub(lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
                            json.dumps(data, indent=2)) + "\n"
    # Not tempfile's files: they are created 0600, and the set would keep that mode; this one gets the umask's.
    temporary = folder / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except OSError as error:
        raise JndViewerError(f"The study set {path} cannot be written ({error.strerror}).") from None
    finally:
        temporary.unlink(missing_ok=True)


def default_study_set() -> StudySet:
    """The study set shipped with jndviewer: eight 320x240 Kodak crops, JPEG quality 1-100."""
    return load_study_set(asset("study", DEFAULT_SET_FILE))


def _ladder(codec: str, levels: list[int] | tuple[int, ...] | None) -> tuple[tuple[int, ...], str]:
    instance = create_codec(codec)
    chosen = tuple(sorted({int(level) for level in levels})) if levels is not None else tuple(instance.levels())
    return chosen, instance.better


def study_set_from_image(
    path: str | os.PathLike[str], codec: str = "jpeg", levels: list[int] | tuple[int, ...] | None = None,
    crop: tuple[int, int, int, int] | None = None, name: str | None = None,
) -> StudySet:
    """A one-item set of an image (its ladder: ``levels`` of ``codec``, all of them by default), checked by reading
    the image."""
    path = Path(path).absolute()
    ladder, better = _ladder(codec, levels)
    item = StudyItem(path.stem, str(path), codec, ladder, better, path.stem, crop)
    reference_rgb(item)
    study_set = StudySet(name or path.stem, (item,), f"{path.name}, codec {codec}.")
    check_study_set(study_set)
    return study_set


def study_set_from_folder(
    folder: str | os.PathLike[str], codec: str = "jpeg", levels: list[int] | tuple[int, ...] | None = None,
    crop_size: tuple[int, int] | None = None, limit: int | None = None,
) -> StudySet:
    """A set of the images in a folder, sorted by name (the first ``limit``), each cropped to a centred
    ``crop_size`` (width, height) when given; every image is read once to check it and to place its crop."""
    folder = Path(folder).absolute()
    if not folder.is_dir():
        raise JndViewerError(f"There is no folder {folder}.")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                   key=lambda p: p.name)
    if not files:
        raise JndViewerError(f"The folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
    if limit is not None:
        if limit < 1:
            raise JndViewerError(f"A study set needs at least one image, not a limit of {limit}.")
        files = files[:limit]
    ladder, better = _ladder(codec, levels)
    stems = [p.stem for p in files]
    items = []
    for file in files:
        item_id = file.stem if stems.count(file.stem) == 1 else file.name
        item = StudyItem(item_id, str(file), codec, ladder, better, file.stem)
        full_height, full_width = _load_reference(item).shape[:2]  # also checks that the image can be read
        if crop_size is not None:
            width, height = (int(v) for v in crop_size)
            if not (0 < width <= full_width and 0 < height <= full_height):
                raise JndViewerError(f"{file.name} is {full_width}x{full_height}, too small for a {width}x{height} "
                                     f"crop.")
            item = replace(item, crop=((full_width - width) // 2, (full_height - height) // 2, width, height))
        items.append(item)
    study_set = StudySet(folder.name, tuple(items), f"{len(items)} images of {folder}, codec {codec}.")
    check_study_set(study_set)
    return study_set


__all__ = ["DEFAULT_SET_FILE", "FORMAT", "PACKAGE_PREFIX", "VERSION", "ItemImages", "StudySet", "check_study_set",
           "default_study_set", "load_study_set", "reference_path", "reference_rgb", "save_study_set",
           "study_set_from_folder", "study_set_from_image"]
