"""MCL-JCI (Jin et al., IS&T Electronic Imaging 2016): 50 JPEG ladders (QF 1..100) with 30 viewers' first JNDs.

The images cannot be had offline, so the reader also works on the labels alone (see :func:`read_mcl_jci`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from pathlib import Path

from jndviewer.core.codecs.folder_scan import scan_folder
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
from jndviewer.core.datasets.sample import JNDSample, check_label_options, pwjnd_from_subjects
from jndviewer.core.errors import JndViewerError

__all__ = [
    "MCL_JCI_LEVELS",
    "MCL_JCI_SUBJECTS",
    "mcl_jci_fold_split",
    "mcl_jci_folds",
    "mcl_jci_source",
    "read_first_jnd",
    "read_mcl_jci",
]

#: JPEG quality factors of the ladder (higher is better; QF 100 is the anchor the viewers compared against).
MCL_JCI_LEVELS: tuple[int, ...] = tuple(range(1, 101))
#: Viewers per image.
MCL_JCI_SUBJECTS = 30
#: Label files looked for in the root when ``labels_csv`` is not given, in this order.
DEFAULT_LABEL_FILES = ("first_jnd_fraction_by_qf.csv", "jnd_pairs_npy.csv", "first_jnd_per_subject.csv")

# The commonly used 10-fold split by source (SUR-FeatNet's csv_file/jnd_10_fold.csv), 5 sources per fold.
_FOLDS = (
    (16, 21, 35, 41, 45), (2, 6, 9, 32, 40), (10, 15, 29, 38, 49), (11, 14, 22, 43, 50), (4, 5, 8, 13, 27),
    (18, 20, 23, 24, 46), (25, 26, 28, 30, 39), (7, 33, 36, 47, 48), (12, 17, 31, 37, 44), (1, 3, 19, 34, 42),
)  # fmt: skip

_LEVEL_NAME = re.compile(r"(ImageJND_SRC\d+)_(\d+)", re.IGNORECASE)
_SOURCE_NAME = re.compile(r"^(?:ImageJND_)?SRC[ _-]?(\d+)(?:\.\w+)?$", re.IGNORECASE)
_SUBJECT_COLUMNS = {
    "source": ("source", "src", "sourceid", "image", "imageid", "ref", "reference", "name"),
    "subject": ("subject", "subjectid", "viewer", "observer", "participant", "worker"),
    "jnd": ("jndqf", "firstjndqf", "firstjnd", "jnd", "qf", "jndlevel", "level"),
}


def mcl_jci_source(number: int) -> str:
    """The source id of MCL-JCI image ``number`` (``7`` -> ``"ImageJND_SRC07"``)."""
    return f"ImageJND_SRC{int(number):02d}"


def mcl_jci_folds() -> tuple[tuple[str, ...], ...]:
    """The 10-fold split by source used by SUR-FeatNet and others: fold k (1-based) is ``mcl_jci_folds()[k - 1]``.

    Returns
    -------
    tuple of tuple of str
        Ten folds of five source ids each (``"ImageJND_SRC16"``, ...); together the 50 sources, once each.
    """
    return tuple(tuple(mcl_jci_source(number) for number in fold) for fold in _FOLDS)


def mcl_jci_fold_split(
    samples: Sequence[JNDSample], test_fold: int, validation_fold: int | None = None
) -> tuple[list[JNDSample], list[JNDSample], list[JNDSample]]:
    """``(train, validation, test)`` for one fold of :func:`mcl_jci_folds`.

    Parameters
    ----------
    samples : sequence of JNDSample
        MCL-JCI samples.
    test_fold : int
        The test fold, 1..10.
    validation_fold : int, optional
        The validation fold; by default the next one (fold 10 -> fold 1), SUR-FeatNet's convention.
    """
    if not 1 <= test_fold <= len(_FOLDS):
        raise ValueError(f"test_fold must be 1..{len(_FOLDS)}, not {test_fold}.")
    if validation_fold is None:
        validation_fold = test_fold % len(_FOLDS) + 1
    if not 1 <= validation_fold <= len(_FOLDS) or validation_fold == test_fold:
        raise ValueError(f"validation_fold must be 1..{len(_FOLDS)} and differ from test_fold, not {validation_fold}.")
    folds = mcl_jci_folds()
    test_ids, validation_ids = set(folds[test_fold - 1]), set(folds[validation_fold - 1])
    train = [s for s in samples if s.source not in test_ids and s.source not in validation_ids]
    validation = [s for s in samples if s.source in validation_ids]
    test = [s for s in samples if s.source in test_ids]
    return train, validation, test


# --------------------------------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------------------------------


def read_first_jnd(
    labels_csv: str | Path, subjects: int | None = MCL_JCI_SUBJECTS
) -> dict[str, tuple[tuple[float, ...], tuple[str, ...]]]:
    """Per-subject first-JND quality factors from either label format (see :func:`read_mcl_jci`).

    Parameters
    ----------
    labels_csv : str or pathlib.Path
        A D-JNDQ-style fraction file or a per-subject file.
    subjects : int or None
        Viewers per image in a fraction file (30 for MCL-JCI); ``None`` infers the smallest count that makes every
        fraction a whole number of viewers. Ignored for a per-subject file.

    Returns
    -------
    dict
        Source id -> ``(first-JND QFs, subject ids)``; for a fraction file the QFs are ascending and the subject
        ids are empty (the file does not keep who is who).
    """
    path = existing_file(labels_csv, "MCL-JCI label file")
    rows = read_rows(path)
    keys = {column_key(name) for name in rows[0]}
    if keys & set(_SUBJECT_COLUMNS["subject"]):
        return _read_per_subject(path, rows)
    return _read_fractions(path, rows, subjects)


def _read_per_subject(path: Path, rows: list[list[str]]) -> dict[str, tuple[tuple[float, ...], tuple[str, ...]]]:
    columns = find_columns(path, rows[0], _SUBJECT_COLUMNS, ("source", "subject", "jnd"))
    found: dict[str, dict[str, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        source = _normalise_source(path, cell(path, row, columns["source"], line, "source"), line)
        subject = cell(path, row, columns["subject"], line, "subject")
        value = parse_float(path, cell(path, row, columns["jnd"], line, "JND QF"), line, "JND QF")
        if not 0 <= value <= 100:
            raise JndViewerError(f"{path} line {line} has a JND QF outside 0..100 ({value:g}).")
        per_source = found.setdefault(source, {})
        if subject in per_source:
            raise JndViewerError(f"{path} line {line} repeats subject {subject} of {source}.")
        per_source[subject] = value
    if not found:
        raise JndViewerError(f"{path} has a header but no rows.")
    return {source: (tuple(values.values()), tuple(values)) for source, values in sorted(found.items())}


def _normalise_source(path: Path, text: str, line: int) -> str:
    match = _SOURCE_NAME.match(text.strip())
    if match is not None:
        return mcl_jci_source(int(match[1]))
    if text.strip().isdigit():
        return mcl_jci_source(int(text))
    raise JndViewerError(f"{path} line {line} names a source that is not an MCL-JCI image ({text!r}).")


def _read_fractions(
    path: Path, rows: list[list[str]], subjects: int | None
) -> dict[str, tuple[tuple[float, ...], tuple[str, ...]]]:
    start = 0
    if len(rows[0]) >= 3 and not _is_number(rows[0][2]) and _LEVEL_NAME.search(rows[0][1]) is None:
        start = 1  # a header such as "ref,test,value"
    fractions: dict[str, dict[int, float]] = {}
    for line, row in enumerate(rows[start:], start=start + 1):
        if len(row) < 3:
            raise JndViewerError(
                f"{path} line {line} does not have the three columns of an MCL-JCI fraction file (ref, test, value)."
            )
        match = _LEVEL_NAME.search(row[1])
        if match is None:
            raise JndViewerError(f"{path} line {line} has a test name that is not ImageJND_SRCxx_QQQ ({row[1]!r}).")
        source, quality = mcl_jci_source(int(match[1][len("ImageJND_SRC") :])), int(match[2])
        value = parse_float(path, row[2], line, "fraction")
        if not 0.0 <= value <= 1.0:
            raise JndViewerError(f"{path} line {line} has a fraction outside 0..1 ({value:g}).")
        if not 1 <= quality <= 100:
            raise JndViewerError(f"{path} line {line} has a quality factor outside 1..100 ({quality}).")
        per_source = fractions.setdefault(source, {})
        if quality in per_source:
            raise JndViewerError(f"{path} line {line} repeats QF {quality} of {source}.")
        per_source[quality] = value
    if not fractions:
        raise JndViewerError(f"{path} has a header but no rows.")
    count = subjects if subjects is not None else _infer_subjects(path, fractions)
    if count < 1:
        raise JndViewerError(f"The subject count for {path} must be positive, not {count}.")
    return {source: (_differences(path, source, values, count), ()) for source, values in sorted(fractions.items())}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _infer_subjects(path: Path, fractions: dict[str, dict[int, float]]) -> int:
    values = {value for per_source in fractions.values() for value in per_source.values()}
    for count in range(1, 1001):
        if all(abs(value * count - round(value * count)) < 1e-4 for value in values):
            return count
    raise JndViewerError(f"The fractions in {path} are not whole numbers of subjects for any count up to 1000.")


def _differences(path: Path, source: str, values: dict[int, float], subjects: int) -> tuple[float, ...]:
    """Per-subject first-JND QFs from ``f(q)`` = share of subjects whose first JND is at or above QF q."""
    qualities = sorted(values)
    if qualities != list(range(1, qualities[-1] + 1)):
        missing = sorted(set(range(1, qualities[-1] + 1)) - set(qualities))
        raise JndViewerError(f"{path} lacks QF {missing[0]} of {source}; the QFs must run from 1 without gaps.")
    counts: list[tuple[int, int]] = []
    previous = 0.0  # f above the last QF given: nobody's first JND lies higher
    for quality in reversed(qualities):
        share = values[quality]
        step = (share - previous) * subjects
        whole = round(step)
        if abs(step - whole) > 1e-3 * max(1, subjects):
            raise JndViewerError(
                f"{path} gives {source} at QF {quality} a fraction that is not a whole number of {subjects} subjects."
            )
        if whole < 0:
            raise JndViewerError(f"{path} gives {source} fractions that grow with the QF (at QF {quality}).")
        counts.append((quality, whole))
        previous = share
    rest = round((1.0 - values[1]) * subjects)  # subjects who saw no difference even at QF 1
    if rest > 0:
        counts.append((0, rest))
    return tuple(float(quality) for quality, count in sorted(counts) for _ in range(count))


# --------------------------------------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------------------------------------


def read_mcl_jci(
    root: str | Path | None = None,
    labels_csv: str | Path | None = None,
    *,
    subjects: int | None = MCL_JCI_SUBJECTS,
    aggregate: str = "mean",
    require_images: bool = False,
) -> list[JNDSample]:
    """Read MCL-JCI: one ``"jpeg"`` sample per labelled source, QF 1..100, higher is better.

    Expected layout (all optional except the labels)::

        ROOT/
            ImageJND_SRC01/ImageJND_SRC01_001.jpg ... ImageJND_SRC01_100.jpg
            ImageJND_SRC01.bmp          (the source, or .png; in ROOT, in the folder, or a sibling such as source/)
            ...
            first_jnd_fraction_by_qf.csv (or jnd_pairs_npy.csv, first_jnd_per_subject.csv, or labels_csv=)

    Two label formats are read, told apart by the header:

    * **Fraction file** (D-JNDQ's ``jnd_pairs_npy.csv``; no header, or a header such as ``ref,test,value``): one row
      per (source, QF) with ``ImageJND_SRCxx_100.npy, ImageJND_SRCxx_QQQ.npy, value``, QF 1..99 (any extension);
      the value is the fraction f(q) of the viewers whose first JND lies at or above QF q. The per-viewer first-JND
      QFs are rebuilt exactly by differencing along QF: ``subjects * (f(q) - f(q + 1))`` viewers (a whole number,
      checked) have their first JND at QF q, with f = 0 above the last QF given; ``subjects * (1 - f(1))`` viewers
      who saw nothing even at QF 1 get the value 0.
    * **Per-subject file**: a header with ``source, subject, jnd_qf`` (variants such as ``image``, ``viewer``,
      ``first_jnd`` are accepted); sources written ``ImageJND_SRC07``, ``SRC07`` or ``7``.

    Label convention. A viewer's *first JND* is the highest QF at which the viewer notices the difference to the
    QF 100 anchor when going down the ladder, so the viewer's worst perceptually lossless QF is that QF + 1
    (``meta["jnd_point"] = "first-visible"``). ``jnd_per_subject`` keeps the first-JND QFs as the dataset gives
    them; ``jnd_level`` = the worst lossless QF aggregated over the viewers: by default ``round(mean first-JND QF)
    + 1`` (the mean of the per-viewer lossless QFs, snapped to the nearest QF, ties to the higher QF), so that
    :func:`~jndviewer.core.datasets.sample.level_labels` calls QF > mean first JND invisible and QF <= it visible,
    the PW-JND papers' binary labels. ``aggregate="median"`` or ``"sur75"`` (the lowest QF that at least 75 % of the
    viewers see as lossless) are alternatives.

    Labels-only mode: when ``root`` is ``None`` (or a source's folder is missing and ``require_images`` is false),
    the sample has ``distorted = {}``, ``levels`` 1..100 and ``reference`` = ``ROOT/ImageJND_SRCxx.bmp|png`` when
    that exists, else ``None``: still fine for statistics and the sanity check of predicted distributions.

    Parameters
    ----------
    root : str or pathlib.Path, optional
        The dataset folder; ``None`` for labels only.
    labels_csv : str or pathlib.Path, optional
        The label file; looked for in ``root`` (:data:`DEFAULT_LABEL_FILES`) when omitted.
    subjects : int or None
        Viewers per image in a fraction file (30); ``None`` infers it.
    aggregate : str
        ``"mean"`` (default), ``"median"`` or ``"surP"``.
    require_images : bool
        Raise when a labelled source has no image folder under ``root``.

    Returns
    -------
    list of JNDSample
        Sorted by source id. ``meta``: ``labels_file``, ``subjects``, ``first_jnd_mean``, ``first_jnd_median``,
        ``jnd_point``, ``aggregate``, ``fold`` (1..10), ``subject_ids`` (per-subject files only).

    Raises
    ------
    JndViewerError
        Missing or malformed files (one sentence naming the file).
    """
    check_label_options(aggregate)
    root_path = existing_folder(root, "MCL-JCI folder") if root is not None else None
    if labels_csv is None:
        if root_path is None:
            raise JndViewerError("MCL-JCI needs a label file (labels_csv) or a dataset folder holding one.")
        candidates = [root_path / name for name in DEFAULT_LABEL_FILES if (root_path / name).is_file()]
        if not candidates:
            raise JndViewerError(
                f"The MCL-JCI folder {root_path} holds no label file ({', '.join(DEFAULT_LABEL_FILES)}); pass "
                "labels_csv."
            )
        labels_csv = candidates[0]
    labels_path = Path(labels_csv).expanduser()
    per_source = read_first_jnd(labels_path, subjects)
    folds = {source: index for index, fold in enumerate(mcl_jci_folds(), start=1) for source in fold}
    root_sources = images_by_stem(root_path) if root_path is not None else {}

    samples = []
    for source, (first_jnd, subject_ids) in per_source.items():
        reference: Path | None = None
        distorted: dict[int, Path] = {}
        levels = MCL_JCI_LEVELS
        if root_path is not None:
            folder = root_path / source
            if folder.is_dir():
                scan = scan_folder(folder, scheme="mcl-jci")
                if scan.base.lower() != source.lower():
                    raise JndViewerError(f"The MCL-JCI folder {folder} holds the files of {scan.base}, not {source}.")
                distorted = dict(scan.files)
                levels = tuple(distorted)
                reference = scan.source
            elif require_images:
                raise JndViewerError(f"The MCL-JCI folder {root_path} has no image folder {source}.")
            else:
                reference = root_sources.get(source.lower())
        meta: dict[str, object] = {
            "labels_file": labels_path,
            "subjects": len(first_jnd),
            "first_jnd_mean": statistics.fmean(first_jnd),
            "first_jnd_median": statistics.median(first_jnd),
            "jnd_point": "first-visible",
            "aggregate": aggregate,
            "fold": folds.get(source),
        }
        if subject_ids:
            meta["subject_ids"] = subject_ids
        jnd_level = pwjnd_from_subjects(first_jnd, levels, "higher", jnd_point="first-visible", aggregate=aggregate)
        samples.append(
            JNDSample(
                source=source, reference=reference, codec="jpeg", levels=levels, better="higher",
                distorted=distorted, jnd_level=jnd_level, jnd_per_subject=first_jnd, meta=meta,
            )
        )  # fmt: skip
    return samples
