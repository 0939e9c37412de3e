"""A study's answers in other tools' formats: SUREAL's dataset JSON, a CSV of critical points, KonJND-1k rating rows.

Catch runs are left out of every export (they check the observer, not the image). Every function takes a
:class:`~jndviewer.core.study.store.StudyStore` or the path of its database, and writes atomically: a temporary file
in the target's folder, then :func:`os.replace`, so a reader never sees half a file. The HTML report is
:mod:`.report`.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import StudyItem
from jndviewer.core.study.results import (
    GroupKey,
    critical_levels,
    items_by_key,
    last_invisible_level,
    measured_runs,
    opened_store,
    position,
)

#: The columns of :func:`export_critical_csv`.
CRITICAL_COLUMNS = (
    "session", "observer", "run_index", "item_id", "source", "codec", "task", "ppd", "protocol", "critical_level",
    "jnd_level",
)  # fmt: skip
#: The header of :func:`export_konjnd_rows`: KonJND-1k's ``subjective_ratings.csv``.
KONJND_COLUMNS = ("image_id", "Compression type", "No. of ratings", "mean", "std", "ratings")


def write_atomic(path: str | Path, text: str) -> Path:
    """:func:`jndviewer.core.report.write_text_atomic` (a temporary file of its own, then :func:`os.replace`; the
    file keeps its mode, a new one gets the umask's), with a failure as one sentence."""
    from jndviewer.core.report import write_text_atomic

    path = Path(path).expanduser()
    try:
        write_text_atomic(path, text)
    except OSError as error:
        raise JndViewerError(f"{path} cannot be written ({error.strerror or type(error).__name__}).") from None
    return path


def _condition_words(key: GroupKey) -> str:
    return f"{key[2]}@{key[3]:g}"


# --------------------------------------------------------------------------------------------------------------------
# SUREAL
# --------------------------------------------------------------------------------------------------------------------


def sureal_dataset(store_or_path: Any) -> dict[str, Any]:
    """The SUREAL dataset of :func:`export_sureal_json` as a dict."""
    with opened_store(store_or_path) as store:
        results = store.run_results()
        name = Path(store.path).stem
    groups = critical_levels(results)
    items = items_by_key(results)
    contents: dict[tuple[str, str, tuple[int, ...] | None], int] = {}
    ref_videos: list[dict[str, Any]] = []
    dis_videos: list[dict[str, Any]] = []
    for key, runs in groups.items():
        item = items[key]
        content = (item.item_id, item.reference, item.crop)
        if content not in contents:
            contents[content] = len(ref_videos)
            ref_videos.append({"content_id": contents[content], "content_name": item.item_id,
                               "path": _reference_path(item)})  # fmt: skip
        for level in item.levels:
            at = item.position_of(level)
            scores: dict[str, list[int]] = defaultdict(list)
            for observer, critical in runs:
                scores[observer].append(int(at < position(item, critical)))
            dis_videos.append({
                "content_id": contents[content], "asset_id": len(dis_videos),
                "os": {o: (s[0] if len(s) == 1 else s) for o, s in sorted(scores.items())},
                "path": f"{item.item_id}/{item.codec}/{_condition_words(key)}/{level}",
                "item_id": item.item_id, "codec": item.codec, "level": level, "task": key[2], "ppd": key[3],
            })  # fmt: skip
    if not dis_videos:
        raise JndViewerError(f"The study database {name} has no finished runs to export.")
    return {"dataset_name": name, "ref_videos": ref_videos, "dis_videos": dis_videos, "ref_score": 1.0}


def _reference_path(item: StudyItem) -> str:
    if item.crop is None:
        return item.reference
    return f"{item.reference}#crop={','.join(str(v) for v in item.crop)}"


def export_sureal_json(store_or_path: Any, path: str | Path) -> Path:
    """Write the study as a SUREAL dataset (``sureal.dataset_reader.RawDatasetReader``).

    One reference per item (``path``: the item's reference, ``#crop=x,y,w,h`` appended when cropped); one distorted
    asset per (item, codec, task, ppd, level), whose opinion score for an observer is 1 when the level is strictly
    better than that observer's critical level (no difference seen) and 0 otherwise, a list when the observer did
    the item more than once. SUREAL's MOS of an asset is then the satisfied-user ratio at that level
    (:func:`jndviewer.core.study.results.sur_curve`). Assets carry ``item_id``, ``codec``, ``level``, ``task`` and
    ``ppd`` as well; ``ref_score`` is 1 (nobody sees the reference differ from itself).
    """
    return write_atomic(path, json.dumps(sureal_dataset(store_or_path), indent=1))


# --------------------------------------------------------------------------------------------------------------------
# CSV of critical points
# --------------------------------------------------------------------------------------------------------------------


def export_critical_csv(store_or_path: Any, path: str | Path) -> Path:
    """Write one row per finished non-catch run (columns :data:`CRITICAL_COLUMNS`).

    ``critical_level`` is the first level seen as different (empty: no difference anywhere on the ladder);
    ``jnd_level`` the worst level still seen as no different, one ladder level better (the worst level when nothing
    was seen; empty when even the best level was seen). ``ppd`` is the session's, unrounded.
    """
    with opened_store(store_or_path) as store:
        results = measured_runs(store.run_results())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CRITICAL_COLUMNS)
    for r in results:
        item = r.item
        jnd = "" if position(item, r.critical_level) == 0 else f"{last_invisible_level(item, r.critical_level):g}"
        writer.writerow([
            r.session_id, r.observer, r.run_index, item.item_id, item.source, item.codec, r.task, f"{r.ppd:.4g}",
            r.protocol, "" if r.critical_level is None else r.critical_level, jnd,
        ])  # fmt: skip
    return write_atomic(path, buffer.getvalue())


# --------------------------------------------------------------------------------------------------------------------
# KonJND-1k rows
# --------------------------------------------------------------------------------------------------------------------


def konjnd_compression(item: StudyItem) -> str | None:
    """KonJND-1k's compression type of an item's codec (``JPEG`` or ``BPG``), None for any other codec."""
    codec = item.codec.strip().lower()
    if codec == "jpeg":
        return "JPEG"
    if codec == "bpg":
        return "BPG"
    if codec.startswith("folder:"):
        from jndviewer.core.codecs import parse_folder_spec

        _, options = parse_folder_spec(item.codec)
        family = (options.get("family") or options.get("scheme") or "").lower()
        return {"jpeg": "JPEG", "bpg": "BPG"}.get(family)
    return None


def _konjnd_value(item: StudyItem, critical: int | None) -> float:
    """A run's KonJND-1k PJND value: its critical level; one unit beyond the worst level when nothing was seen, so
    that the reader's lossless level (first-visible + 1 for JPEG, - 1 for BPG) is the worst level shown."""
    if critical is not None:
        return float(critical)
    worst = item.ladder()[-1]
    return float(worst - 1 if item.better == "higher" else worst + 1)


def export_konjnd_rows(store_or_path: Any, path: str | Path) -> Path:
    """Write the study as KonJND-1k's ``subjective_ratings.csv`` (:data:`KONJND_COLUMNS`), one row per (item,
    condition) of a JPEG or BPG item, read back by ``read_dataset("konjnd:FOLDER")`` (or ``...,ratings=CSV``).

    ``ratings`` are the runs' critical levels as a JSON list: first-visible levels, the reader's default
    ``jnd_point``; a run that saw nothing counts as one unit beyond the worst level (:func:`_konjnd_value`).
    ``image_id`` is the item id, with ``__<task>_<ppd>ppd`` appended when the study has the item (and compression)
    under more than one condition (KonJND-1k has one row per image and compression; a further clash gets ``_2``,
    ``_3``, ...). ``mean`` and ``std`` (sample, 0 for one rating) are of the ratings. Items of other codecs are
    left out; one sentence when nothing is left.
    """
    with opened_store(store_or_path) as store:
        results = store.run_results()
        name = Path(store.path).name
    groups = critical_levels(results)
    items = items_by_key(results)
    conditions: dict[tuple[str, str | None], int] = defaultdict(int)
    for key in groups:
        conditions[(key[0], konjnd_compression(items[key]))] += 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KONJND_COLUMNS)
    rows = 0
    used: set[tuple[str, str]] = set()
    for key, runs in groups.items():
        item = items[key]
        compression = konjnd_compression(item)
        if compression is None:
            continue
        image_id = item.item_id
        if conditions[(key[0], compression)] > 1:
            image_id += f"__{key[2]}_{key[3]:g}ppd"
        base, clash = image_id, 1
        while (image_id.lower(), compression) in used:
            clash += 1
            image_id = f"{base}_{clash}"
        used.add((image_id.lower(), compression))
        ratings = [_konjnd_value(item, critical) for _, critical in runs]
        std = statistics.stdev(ratings) if len(ratings) > 1 else 0.0
        writer.writerow([image_id, compression, len(ratings), f"{statistics.fmean(ratings):.6g}", f"{std:.6g}",
                         json.dumps([int(v) for v in ratings])])  # fmt: skip
        rows += 1
    if not rows:
        raise JndViewerError(f"The study database {name} has no finished JPEG or BPG runs to write as KonJND-1k rows.")
    return write_atomic(path, buffer.getvalue())


__all__ = [
    "CRITICAL_COLUMNS", "KONJND_COLUMNS", "export_critical_csv", "export_konjnd_rows", "export_sureal_json",
    "konjnd_compression", "sureal_dataset", "write_atomic",
]
