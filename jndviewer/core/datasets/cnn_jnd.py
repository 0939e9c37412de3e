"""The CNN-oriented JND dataset (Shen et al., IEEE TMM 2025): 500 sources x 9 autoencoder distortion levels.

No file of this dataset is public in git (the downloads are on BaiduNetDisk only), so the layout read here is **our
assumption** pending the real files; see :func:`read_cnn_jnd`.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from jndviewer.core.datasets._tables import (
    cell,
    column_key,
    existing_file,
    existing_folder,
    find_columns,
    images_by_stem,
    parse_float,
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

__all__ = ["CNN_JND_LEVELS", "read_cnn_jnd"]

#: Distortion levels, 1 = least distorted ... 9 = most (lower is better).
CNN_JND_LEVELS: tuple[int, ...] = tuple(range(1, 10))
JUDGEMENTS_FILE = "jnd_judgements.csv"

_DISTORTED = re.compile(r"^(?P<source>.+)_L(?P<level>\d+)$", re.IGNORECASE)
_COLUMNS = {
    "source": ("source", "sourceid", "image", "imageid", "id", "name", "original"),
    "subject": ("subject", "subjectid", "participant", "viewer", "observer", "worker"),
    "jnd": ("jndlevel", "jnd", "level", "jndimage"),
}


def read_cnn_jnd(
    root: str | Path,
    *,
    judgements_csv: str | Path | None = None,
    aggregate: str = "mean",
    jnd_point: str = "last-invisible",
    require_images: bool = False,
) -> list[JNDSample]:
    """Read the CNN-oriented JND dataset: one ``"autoencoder"`` sample per source, levels 1..9, lower is better.

    **The layout is our assumption** (the real label files are not public; adapt this reader when they are)::

        ROOT/
            originals/{id}.png             (any image extension)
            distorted/{id}_L{level}.png    (level 1..9; flat, or in one subfolder per source)
            jnd_judgements.csv

    ``jnd_judgements.csv`` has a header and either one row per participant and source (``source, subject,
    jnd_level``: the outcome of that participant's double-stimulus binary search) or one row per source
    (``source, jnd_level``, an already aggregated label). Column names are matched ignoring case and punctuation
    (``participant`` for ``subject``, ``jnd`` for ``jnd_level``, ...).

    Label convention. The dataset's per-source "JND image" serves as perceptually lossless pseudo-ground-truth, so a
    ``jnd_level`` value is taken to be the **most distorted level still judged identical** to the original
    (``jnd_point="last-invisible"``; 0 when even level 1 was noticed, 9 when nothing was); pass
    ``"first-visible"`` if the files turn out to give the first noticed level (the lossless level is then one less).
    ``jnd_per_subject`` keeps the per-participant values as given; ``jnd_level`` is their mean (default) or median
    snapped to the nearest level with ties to the less distorted level, or ``"surP"``; a per-source value is
    snapped the same way. Outlier removal is not done here.

    Labels-only mode: without ``originals/`` and ``distorted/`` the samples have ``reference=None`` and
    ``distorted={}``.

    Parameters
    ----------
    root : str or pathlib.Path
        The dataset folder.
    judgements_csv : str or pathlib.Path, optional
        The label file (``ROOT/jnd_judgements.csv`` by default).
    aggregate : str
        ``"mean"`` (default), ``"median"`` or ``"surP"``.
    jnd_point : {"last-invisible", "first-visible"}
        What a ``jnd_level`` value means.
    require_images : bool
        Raise when a source has no original or no distorted files.

    Returns
    -------
    list of JNDSample
        Sorted by source id. ``meta``: ``labels_file``, ``subjects``, ``jnd_point``, ``aggregate``,
        ``subject_ids`` (per-participant files), ``jnd_mean`` (mean raw value).

    Raises
    ------
    JndViewerError
        Missing or malformed files (one sentence naming the file).
    """
    check_label_options(aggregate, jnd_point)
    root_path = existing_folder(root, "CNN-JND folder")
    labels_path = existing_file(
        judgements_csv if judgements_csv is not None else root_path / JUDGEMENTS_FILE, "CNN-JND judgements file"
    )
    judgements, per_subject = _read_judgements(labels_path)
    originals = images_by_stem(root_path / "originals")
    distorted_index = _index_distorted(root_path / "distorted")

    samples = []
    for source, values in sorted(judgements.items()):
        reference = originals.get(source.lower())
        distorted = distorted_index.get(source.lower(), {})
        if require_images and (reference is None or not distorted):
            what = "original" if reference is None else "distorted files"
            raise JndViewerError(f"The CNN-JND folder {root_path} has no {what} for source {source}.")
        if per_subject:
            subject_ids = tuple(values)
            raw = tuple(values.values())
            jnd_level = pwjnd_from_subjects(raw, CNN_JND_LEVELS, "lower", jnd_point=jnd_point, aggregate=aggregate)
        else:
            subject_ids, raw = (), ()
            jnd_level = snap_level(lossless_level(values[""], "lower", jnd_point), CNN_JND_LEVELS, "lower")
        meta: dict[str, object] = {
            "labels_file": labels_path,
            "subjects": len(raw),
            "jnd_point": jnd_point,
            "aggregate": aggregate if per_subject else "given",
            "jnd_mean": statistics.fmean(raw) if raw else values[""],
        }
        if subject_ids:
            meta["subject_ids"] = subject_ids
        samples.append(
            JNDSample(
                source=source, reference=reference, codec="autoencoder", levels=CNN_JND_LEVELS, better="lower",
                distorted=dict(sorted(distorted.items())), jnd_level=jnd_level, jnd_per_subject=raw, meta=meta,
            )
        )  # fmt: skip
    return samples


def _read_judgements(path: Path) -> tuple[dict[str, dict[str, float]], bool]:
    """Source -> subject -> value (subject ``""`` for a per-source file), and whether the file is per subject."""
    rows = read_rows(path)
    per_subject = bool({column_key(name) for name in rows[0]} & set(_COLUMNS["subject"]))
    columns = find_columns(path, rows[0], _COLUMNS, ("source", "subject", "jnd") if per_subject else ("source", "jnd"))
    found: dict[str, dict[str, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        source = cell(path, row, columns["source"], line, "source")
        if Path(source).suffix.lower() in IMAGE_SUFFIXES:
            source = Path(source).stem
        if not source:
            raise JndViewerError(f"{path} line {line} has an empty source.")
        subject = cell(path, row, columns["subject"], line, "subject") if per_subject else ""
        value = parse_float(path, cell(path, row, columns["jnd"], line, "jnd_level"), line, "jnd_level")
        if not 0 <= value <= CNN_JND_LEVELS[-1] + 1:
            raise JndViewerError(f"{path} line {line} has a jnd_level outside 0..{CNN_JND_LEVELS[-1] + 1} ({value:g}).")
        per_source = found.setdefault(source, {})
        if subject in per_source:
            who = f"subject {subject} of source {source}" if per_subject else f"source {source}"
            raise JndViewerError(f"{path} line {line} repeats {who}.")
        per_source[subject] = value
    if not found:
        raise JndViewerError(f"{path} has a header but no rows.")
    return found, per_subject


def _index_distorted(folder: Path) -> dict[str, dict[int, Path]]:
    """Lower-case source id -> level -> file under ``distorted/`` (flat or one subfolder per source)."""
    index: dict[str, dict[int, Path]] = {}
    if not folder.is_dir():
        return index
    candidates: list[Path] = []
    for entry in sorted(folder.iterdir()):
        candidates.extend(sorted(entry.iterdir()) if entry.is_dir() else [entry])
    for path in candidates:
        if path.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        match = _DISTORTED.match(path.stem)
        if match is None:
            continue
        level = int(match["level"])
        if level not in CNN_JND_LEVELS:
            raise JndViewerError(f"{path} has distortion level {level}, outside 1..{CNN_JND_LEVELS[-1]}.")
        per_source = index.setdefault(match["source"].lower(), {})
        if level in per_source:
            raise JndViewerError(
                f"The CNN-JND folder {folder} has two files for level {level} of {match['source']} "
                f"({per_source[level].name} and {path.name})."
            )
        per_source[level] = path
    return index
