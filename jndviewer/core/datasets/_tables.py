"""Small CSV helpers shared by the dataset readers: tolerant column names and one-sentence errors naming the file."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import IMAGE_SUFFIXES

_NUMBER_SPLIT = re.compile(r"[\s,;]+")
# Preferred extensions of a pristine image, best first (lossless first); any other image extension follows.
_SOURCE_RANK = (".png", ".bmp", ".tif", ".tiff", ".ppm", ".pnm", ".webp", ".jpg", ".jpeg")


def column_key(name: str) -> str:
    """A column name reduced to lower-case letters and digits (``"No. of ratings"`` -> ``"noofratings"``)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def existing_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path; raises a one-sentence :class:`JndViewerError` when it is missing or not a file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise JndViewerError(f"The {what} {path} does not exist.")
    if not path.is_file():
        raise JndViewerError(f"The {what} {path} is not a file.")
    return path


def existing_folder(path: str | Path, what: str) -> Path:
    """``path`` as a Path; raises a one-sentence :class:`JndViewerError` when it is missing or not a folder."""
    path = Path(path).expanduser()
    if not path.exists():
        raise JndViewerError(f"The {what} {path} does not exist.")
    if not path.is_dir():
        raise JndViewerError(f"The {what} {path} is not a folder.")
    return path


def read_rows(path: Path) -> list[list[str]]:
    """All rows of a CSV file (blank rows dropped, cells stripped); unreadable or empty files raise."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [[cell.strip() for cell in row] for row in csv.reader(handle)]
    except UnicodeDecodeError as err:
        raise JndViewerError(f"{path} is not a text CSV file ({err.reason}).") from err
    except csv.Error as err:
        raise JndViewerError(f"{path} is not a readable CSV file ({err}).") from err
    except OSError as err:
        raise JndViewerError(f"{path} cannot be read: {err.strerror or type(err).__name__}.") from err
    rows = [row for row in rows if any(row)]
    if not rows:
        raise JndViewerError(f"{path} is empty.")
    return rows


def find_columns(
    path: Path,
    header: Sequence[str],
    wanted: Mapping[str, Iterable[str]],
    required: Iterable[str],
) -> dict[str, int]:
    """Indices of the wanted columns in ``header``, matched by :func:`column_key` against each name's aliases.

    Parameters
    ----------
    path : pathlib.Path
        The file (named in the error).
    header : sequence of str
        The header row.
    wanted : mapping
        Canonical name -> aliases (already in :func:`column_key` form).
    required : iterable of str
        Canonical names that must be present.

    Returns
    -------
    dict
        Canonical name -> column index, for the names found.
    """
    keys = [column_key(name) for name in header]
    found: dict[str, int] = {}
    for name, aliases in wanted.items():
        for alias in aliases:
            if alias in keys:
                found[name] = keys.index(alias)
                break
    missing = [name for name in required if name not in found]
    if missing:
        shown = ", ".join(missing)
        raise JndViewerError(f"{path} lacks the column(s) {shown} (its header is {', '.join(header) or 'empty'}).")
    return found


def cell(path: Path, row: Sequence[str], index: int, line: int, name: str) -> str:
    """The cell ``index`` of ``row``; a short row raises an error naming the file and line."""
    if index >= len(row):
        raise JndViewerError(f"{path} line {line} has no {name} value.")
    return row[index]


def parse_float(path: Path, text: str, line: int, name: str) -> float:
    """A finite float from a cell, or an error naming the file, line and column."""
    try:
        value = float(text)
    except ValueError:
        raise JndViewerError(f"{path} line {line} has a {name} that is not a number ({text!r}).") from None
    if not math.isfinite(value):
        raise JndViewerError(f"{path} line {line} has a {name} that is not finite ({text!r}).")
    return value


def parse_number_list(path: Path, text: str, line: int, name: str) -> tuple[float, ...]:
    """A list of numbers written as a JSON list (``"[12, 15]"``) or separated by spaces, commas or semicolons."""
    stripped = text.strip()
    values: list[object]
    if stripped.startswith("["):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            values = loaded
        else:
            values = [part for part in _NUMBER_SPLIT.split(stripped.strip("[]")) if part]
    else:
        values = [part for part in _NUMBER_SPLIT.split(stripped) if part]
    numbers = []
    for value in values:
        if isinstance(value, bool):
            raise JndViewerError(f"{path} line {line} has a {name} list with a non-number ({value!r}).")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise JndViewerError(f"{path} line {line} has a {name} list with a non-number ({value!r}).") from None
        if not math.isfinite(number):
            raise JndViewerError(f"{path} line {line} has a {name} list with a non-finite value ({value!r}).")
        numbers.append(number)
    return tuple(numbers)


def _source_rank(path: Path) -> tuple[int, str]:
    suffix = path.suffix.lower()
    return (_SOURCE_RANK.index(suffix) if suffix in _SOURCE_RANK else len(_SOURCE_RANK)), path.name


def images_by_stem(folder: Path) -> dict[str, Path]:
    """Lower-case stem -> image file of ``folder`` with that stem (lossless formats first); ``{}`` if unreadable."""
    found: dict[str, Path] = {}
    try:
        entries = [path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()]
    except OSError:
        return found
    for path in sorted(entries, key=_source_rank):
        if not path.name.startswith("."):
            found.setdefault(path.stem.lower(), path)
    return found
