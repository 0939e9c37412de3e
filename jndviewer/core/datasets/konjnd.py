"""KonJND-1k (Lin et al., IEEE TCSVT 2022): 1,008 sources, JPEG and BPG ladders, crowdsourced per-worker PJNDs."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from jndviewer.core.datasets._tables import (
    cell,
    existing_file,
    existing_folder,
    find_columns,
    images_by_stem,
    parse_float,
    parse_number_list,
    read_rows,
)
from jndviewer.core.datasets.sample import (
    JNDSample,
    check_label_options,
    lossless_level,
    pwjnd_from_subjects,
    snap_level,
)
from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import IMAGE_SUFFIXES

__all__ = ["KONJND_CODECS", "KonJndCodec", "read_konjnd"]

RATINGS_FILE = "subjective_ratings.csv"


@dataclass(frozen=True)
class KonJndCodec:
    """One KonJND compression type: its name in the CSV, file naming, levels and better end."""

    name: str  # our codec name
    label: str  # the "Compression type" value and the file-name tag
    folder: str
    suffixes: frozenset[str]
    better: str
    default_levels: tuple[int, ...]


#: ``jpeg``: QF 1..100, higher is better. ``bpg``: the bpgenc quantiser, LOWER is better; without files the ladder is
#: assumed to be bpgenc's -q range 0..51 (an assumption to check against the real data).
KONJND_CODECS: dict[str, KonJndCodec] = {
    "jpeg": KonJndCodec("jpeg", "JPEG", "jpeg", frozenset({".jpg", ".jpeg"}), "higher", tuple(range(1, 101))),
    "bpg": KonJndCodec("bpg", "BPG", "bpg", frozenset({".png"}), "lower", tuple(range(0, 52))),
}
_LEVEL_FILE = {
    codec.name: re.compile(rf"^(?P<base>.+)_{codec.label}_(?P<level>\d+)$", re.IGNORECASE)
    for codec in KONJND_CODECS.values()
}
_COLUMNS = {
    "image": ("imageid", "image", "imagename", "id", "name", "source", "filename"),
    "compression": ("compressiontype", "compression", "codec", "type", "format"),
    "count": ("noofratings", "numberofratings", "numratings", "nratings", "ratingscount", "count"),
    "mean": ("mean", "meanpjnd", "pjndmean", "meanrating"),
    "std": ("std", "stdpjnd", "stddev", "sd"),
    "ratings": ("ratings", "pjnd", "pjnds", "samples", "ratinglist"),
}


def read_konjnd(
    root: str | Path,
    *,
    compression: str | None = None,
    ratings_csv: str | Path | None = None,
    aggregate: str = "mean",
    jnd_point: str = "first-visible",
    require_images: bool = False,
) -> list[JNDSample]:
    """Read KonJND-1k: one sample per (image, compression type).

    Expected layout::

        ROOT/
            subjective_ratings.csv
            source_image/{base}.png          (any image extension)
            jpeg/{base}_JPEG_{QF:03d}.jpg    (flat, or in one subfolder per image)
            bpg/{base}_BPG_{level:03d}.png   (BPG decoded and stored as PNG)

    ``subjective_ratings.csv`` has the columns ``image_id``, ``Compression type`` (``JPEG`` or ``BPG``), ``No. of
    ratings``, ``mean``, ``std`` and ``ratings`` (per-worker PJND levels as a JSON list, or separated by spaces,
    commas or semicolons). Column names are matched ignoring case, spaces and punctuation (``imageId``,
    ``compression_type``, ...); ``image_id`` may carry an image extension, which is dropped to give ``{base}``, the
    sample's source id (so an image's JPEG and BPG samples share a source and a split). Either ``ratings`` or
    ``mean`` must be present in a row.

    Codecs: JPEG levels are quality factors (higher is better); BPG levels are the bpgenc quantiser (``-q``, LOWER
    is better). **Assumption to check on the real files:** the BPG values in the CSV and in the file names are that
    quantiser; third-party scripts disagree (one caps it at 53, another uses ``round(mean / 2)``). The ladder is the
    levels of the files found for the sample, or, without files, QF 1..100 (JPEG) and quantiser 0..51 (BPG).

    Label convention. Each worker's PJND is taken to be the first level at which the worker notices the distortion
    (``jnd_point="first-visible"``; pass ``"last-invisible"`` if the real data turn out to give the last invisible
    level). ``jnd_per_subject`` keeps the workers' values as given; ``jnd_level`` (the worst perceptually lossless
    level) is aggregated from the workers' lossless levels (PJND + 1 for JPEG, PJND - 1 for BPG): their mean
    snapped to the nearest ladder level (ties to the better level) by default, or ``"median"`` / ``"surP"``. When a
    row has no ratings, the CSV's ``mean`` is used the same way and ``jnd_per_subject`` is empty.

    Labels-only mode: without ``jpeg/`` or ``bpg/`` files for a sample, ``distorted`` is empty; without
    ``source_image/{base}.*``, ``reference`` is ``None``.

    Parameters
    ----------
    root : str or pathlib.Path
        The dataset folder.
    compression : {"jpeg", "bpg"}, optional
        Read only one compression type (both by default).
    ratings_csv : str or pathlib.Path, optional
        The ratings file (``ROOT/subjective_ratings.csv`` by default).
    aggregate : str
        ``"mean"`` (default), ``"median"`` or ``"surP"``.
    jnd_point : {"first-visible", "last-invisible"}
        What a worker's PJND value means.
    require_images : bool
        Raise when a sample has no source image or no distorted files.

    Returns
    -------
    list of JNDSample
        In file order. ``meta``: ``ratings_file``, ``image_id``, ``compression``, ``mean``, ``std``,
        ``ratings_reported`` (the CSV's count, or ``None``), ``jnd_point``, ``aggregate``.

    Raises
    ------
    JndViewerError
        Missing or malformed files (one sentence naming the file).
    """
    check_label_options(aggregate, jnd_point)
    wanted = _wanted_codecs(compression)
    root_path = existing_folder(root, "KonJND-1k folder")
    ratings_path = existing_file(
        ratings_csv if ratings_csv is not None else root_path / RATINGS_FILE, "KonJND-1k ratings file"
    )
    rows = read_rows(ratings_path)
    columns = find_columns(ratings_path, rows[0], _COLUMNS, ("image", "compression"))
    if "ratings" not in columns and "mean" not in columns:
        raise JndViewerError(f"{ratings_path} has neither a ratings nor a mean column.")

    sources = images_by_stem(_child(root_path, "source_image", "source_images", "source", "sources"))
    files = {name: _index_files(root_path, KONJND_CODECS[name]) for name in wanted}
    seen: set[tuple[str, str]] = set()
    samples = []
    for line, row in enumerate(rows[1:], start=2):
        image_id = cell(ratings_path, row, columns["image"], line, "image_id")
        if not image_id:
            raise JndViewerError(f"{ratings_path} line {line} has an empty image_id.")
        label = cell(ratings_path, row, columns["compression"], line, "compression type").upper()
        codec = next((c for c in KONJND_CODECS.values() if c.label == label), None)
        if codec is None:
            raise JndViewerError(
                f"{ratings_path} line {line} has an unknown compression type ({label!r}; JPEG or BPG)."
            )
        if codec.name not in wanted:
            continue
        base = Path(image_id).stem if Path(image_id).suffix.lower() in IMAGE_SUFFIXES else image_id
        if (base, codec.name) in seen:
            raise JndViewerError(f"{ratings_path} line {line} repeats {codec.label} of image {image_id}.")
        seen.add((base, codec.name))

        ratings = _optional_list(ratings_path, row, columns, line)
        mean = _optional_float(ratings_path, row, columns, "mean", line)
        std = _optional_float(ratings_path, row, columns, "std", line)
        reported = _optional_float(ratings_path, row, columns, "count", line)
        if not ratings and mean is None:
            raise JndViewerError(f"{ratings_path} line {line} has neither ratings nor a mean.")

        distorted = files[codec.name].get(base.lower(), {})
        reference = sources.get(base.lower())
        if require_images and (not distorted or reference is None):
            what = "distorted files" if not distorted else "source image"
            raise JndViewerError(f"The KonJND-1k folder {root_path} has no {what} for {codec.label} image {base}.")
        levels = tuple(sorted(distorted)) if distorted else codec.default_levels
        if ratings:
            jnd_level = pwjnd_from_subjects(ratings, levels, codec.better, jnd_point=jnd_point, aggregate=aggregate)
        else:
            assert mean is not None
            jnd_level = snap_level(lossless_level(mean, codec.better, jnd_point), levels, codec.better)
        samples.append(
            JNDSample(
                source=base, reference=reference, codec=codec.name, levels=levels, better=codec.better,
                distorted=dict(sorted(distorted.items())), jnd_level=jnd_level, jnd_per_subject=ratings,
                meta={
                    "ratings_file": ratings_path, "image_id": image_id, "compression": codec.label,
                    "mean": mean if mean is not None else statistics.fmean(ratings),
                    "std": std, "ratings_reported": None if reported is None else int(reported),
                    "jnd_point": jnd_point, "aggregate": aggregate,
                },
            )
        )  # fmt: skip
    if not samples:
        raise JndViewerError(f"{ratings_path} has no rows for {' or '.join(KONJND_CODECS[n].label for n in wanted)}.")
    return samples


def _wanted_codecs(compression: str | None) -> tuple[str, ...]:
    if compression is None:
        return tuple(KONJND_CODECS)
    key = str(compression).strip().lower()
    if key not in KONJND_CODECS:
        raise JndViewerError(f"KonJND-1k compression must be 'jpeg' or 'bpg', not {compression!r}.")
    return (key,)


def _child(root: Path, *names: str) -> Path:
    """The first child folder of ``root`` named (ignoring case) one of ``names``; a missing path otherwise."""
    try:
        children = {path.name.lower(): path for path in root.iterdir() if path.is_dir()}
    except OSError:
        children = {}
    for name in names:
        if name in children:
            return children[name]
    return root / names[0]


def _index_files(root: Path, codec: KonJndCodec) -> dict[str, dict[int, Path]]:
    """Lower-case base -> level -> file for one compression type (flat folder or one subfolder per image)."""
    folder = _child(root, codec.folder)
    index: dict[str, dict[int, Path]] = {}
    if not folder.is_dir():
        return index
    pattern = _LEVEL_FILE[codec.name]
    candidates: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            candidates.extend(sorted(entry.iterdir()))
        else:
            candidates.append(entry)
    for path in candidates:
        if path.name.startswith(".") or path.suffix.lower() not in codec.suffixes:
            continue
        match = pattern.match(path.stem)
        if match is None or not path.is_file():
            continue
        per_image = index.setdefault(match["base"].lower(), {})
        level = int(match["level"])
        if level in per_image:
            raise JndViewerError(
                f"The KonJND-1k folder {folder} has two files for {codec.label} level {level} of {match['base']} "
                f"({per_image[level].name} and {path.name})."
            )
        per_image[level] = path
    return index


def _optional_float(path: Path, row: list[str], columns: dict[str, int], name: str, line: int) -> float | None:
    if name not in columns or columns[name] >= len(row) or not row[columns[name]]:
        return None
    return parse_float(path, row[columns[name]], line, name)


def _optional_list(path: Path, row: list[str], columns: dict[str, int], line: int) -> tuple[float, ...]:
    if "ratings" not in columns or columns["ratings"] >= len(row):
        return ()
    return parse_number_list(path, row[columns["ratings"]], line, "ratings")
