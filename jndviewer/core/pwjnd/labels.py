"""Reference picture-wise JND labels from a visibility proxy (ColorVideoVDP JOD curves), and their files.

No human-labelled images can be had offline, so the reference labels come from a human-calibrated proxy:
ColorVideoVDP (``cvvdp`` 0.5.7) scores every level of a ladder in JOD (10 = no visible difference). An image's proxy
PW-JND is the lowest level from which every better level scores at or above a JOD threshold. The threshold depends on
the viewing task (:data:`TASK_JOD_THRESHOLD`), and every label names its task:

- **side by side**: fitted to human statistics (README "Calibration"): with display ``standard_fhd`` (about 38 pixels
  per degree) and 9.0 JOD, the proxy's JPEG PW-JND on BSDS500 has mean QF 28.4 (range 17-51) against MCL-JCI's
  human mean first-JND QF 28.1 (range 16.9-52.1), and MCL-JCI was measured side by side;
- **flicker**: JPEG AIC-3's boosted comparisons (flicker and zoom) put 1 JND near 9.68 JOD of ColorVideoVDP (derived
  from the public JPEG-AIC-4 datasets, ``../shared/references/metric_thresholds_and_numbers.md`` section 5.3); the
  shared labels' README reports that a held-out human flicker check agrees with this reading far better than with
  9.0.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import FLICKER, SIDE_BY_SIDE

#: The fitted proxy (see the module docstring and README "Calibration").
PROXY_DISPLAY = "standard_fhd"
PROXY_JOD_THRESHOLD = 9.0
#: The JOD threshold of each viewing task: side by side fitted to MCL-JCI, flicker JPEG AIC-3's 1 JND.
TASK_JOD_THRESHOLD = {SIDE_BY_SIDE: PROXY_JOD_THRESHOLD, FLICKER: 9.68}
#: Pixels per degree of cvvdp's display models, as stated in the shared labels' README.
DISPLAY_PPD = {"standard_fhd": 38.0, "standard_4k": 75.0}

LABEL_FIELDS = (
    "image", "codec", "display", "ppd", "jod_threshold", "pwjnd_level", "bytes_at_pwjnd", "best_level",
    "bytes_at_best", "levels", "task",
)


def pwjnd_from_scores(
    levels: Sequence[float], jods: Sequence[float], threshold: float, better: str = "higher"
) -> tuple[float, bool]:
    """Worst level from which every better level scores at least ``threshold`` (``better``: which way levels improve;
    the autoencoder's degradation levels improve downwards).

    Returns ``(level, all_visible)``; when even the best level scores below the threshold, the best level is
    returned with ``all_visible=True``.
    """
    order = np.argsort(np.asarray(levels, dtype=np.float64))
    if better == "lower":
        order = order[::-1]
    ordered_levels = np.asarray(levels, dtype=np.float64)[order]  # worst first
    ordered_scores = np.asarray(jods, dtype=np.float64)[order]
    index = len(ordered_levels)
    for i in range(len(ordered_levels) - 1, -1, -1):
        if ordered_scores[i] >= threshold:
            index = i
        else:
            break
    if index == len(ordered_levels):
        return float(ordered_levels[-1]), True
    return float(ordered_levels[index]), False


def codec_better(codec: str) -> str:
    """Which way a registered codec's levels improve (``"higher"`` for unknown names, as for quality factors)."""
    from jndviewer.core.codecs import CODECS

    cls = CODECS.get(codec)
    return str(cls.better) if cls is not None else "higher"


@dataclass(frozen=True)
class ReferenceLabel:
    """One image's proxy PW-JND for one codec and display."""

    image: str
    codec: str
    display: str
    ppd: float
    jod_threshold: float
    pwjnd_level: int
    bytes_at_pwjnd: int
    best_level: int
    bytes_at_best: int
    levels: int
    task: str = SIDE_BY_SIDE


def task_of_threshold(jod_threshold: float) -> str:
    """The task a label file from before the ``task`` column was made for, by its JOD threshold."""
    for task, threshold in TASK_JOD_THRESHOLD.items():
        if abs(threshold - jod_threshold) < 1e-6:
            return task
    raise JndViewerError(f"A JOD threshold of {jod_threshold:g} belongs to no viewing task; add a task column.")


def labels_from_curves(
    rows: Iterable[dict], threshold: float | None = None, displays: Sequence[str] | None = None,
    task: str = SIDE_BY_SIDE,
) -> list[ReferenceLabel]:
    """Proxy labels for ``task`` from JOD-curve rows (``image, codec, level, bytes, display, jod``: the shared CSV's
    format), read at the task's JOD threshold unless ``threshold`` is given."""
    threshold = TASK_JOD_THRESHOLD[task] if threshold is None else threshold
    groups: dict[tuple[str, str, str], list[tuple[int, int, float]]] = {}
    seen: set[tuple[str, str, str, int]] = set()  # rows of several curve files may repeat a level: refused
    for row in rows:
        if displays is not None and row["display"] not in displays:
            continue
        key = (row["image"], row["codec"], row["display"])
        level = int(row["level"])
        if (*key, level) in seen:
            raise JndViewerError(f"{'/'.join(key)}/{level} is in the curves twice; give each level once.")
        seen.add((*key, level))
        groups.setdefault(key, []).append((level, int(row["bytes"]), float(row["jod"])))
    labels = []
    for (image, codec, display), points in sorted(groups.items()):
        better = codec_better(codec)
        points.sort(reverse=better == "lower")  # worst first
        levels = [p[0] for p in points]
        level, _ = pwjnd_from_scores(levels, [p[2] for p in points], threshold, better)
        sizes = {p[0]: p[1] for p in points}
        labels.append(
            ReferenceLabel(
                image, codec, display, DISPLAY_PPD.get(display, float("nan")), threshold, int(level),
                sizes[int(level)], levels[-1], sizes[levels[-1]], len(levels), task,
            )
        )
    return labels


#: The columns of a JOD-curve file (the shared CSV's and tools/cvvdp/jod_curves.py's format).
CURVE_FIELDS = ("image", "codec", "level", "bytes", "display", "jod")


def read_curve_rows(paths: Iterable[str | Path]) -> list[dict[str, str]]:
    """The rows of JOD-curve CSV files (the shared CSV's format), read as one: the grid curves and those of the levels
    between them (tools/cvvdp/README.md) together make the curves of every level."""
    rows: list[dict[str, str]] = []
    for path in paths:
        path = Path(path)
        try:
            with path.open(newline="") as handle:
                for line, row in enumerate(csv.DictReader(handle), 2):
                    try:  # every column there (a torn row has None), the numbers numbers
                        if any(row.get(name) is None for name in CURVE_FIELDS):
                            raise ValueError
                        int(row["level"]), int(row["bytes"]), float(row["jod"])
                    except ValueError:
                        raise JndViewerError(f"{path.name} line {line} is not a JOD-curve row "
                                             f"({', '.join(CURVE_FIELDS)}): {row}.") from None
                    rows.append(row)
        except OSError as err:
            raise JndViewerError(f"Cannot read the JOD curves {path}: {err.strerror or err}.") from err
    return rows


def write_labels(labels: Sequence[ReferenceLabel], path: str | Path) -> None:
    """Write labels as CSV with the columns of :data:`LABEL_FIELDS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_FIELDS)
        for label in labels:
            writer.writerow([getattr(label, name) for name in LABEL_FIELDS])


def read_labels(path: str | Path) -> list[ReferenceLabel]:
    """Read a reference-label CSV written by :func:`write_labels`; a malformed file is one sentence."""
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = set(LABEL_FIELDS) - set(reader.fieldnames or ()) - {"task"}  # files from before the task column
            if missing:
                raise JndViewerError(
                    f"{path.name} is not a reference-label file (missing {', '.join(sorted(missing))})."
                )
            return [
                ReferenceLabel(
                    r["image"], r["codec"], r["display"], float(r["ppd"]), float(r["jod_threshold"]),
                    int(r["pwjnd_level"]), int(r["bytes_at_pwjnd"]), int(r["best_level"]), int(r["bytes_at_best"]),
                    int(r["levels"]), r.get("task") or task_of_threshold(float(r["jod_threshold"])),
                )
                for r in reader
            ]
    except FileNotFoundError as err:
        raise JndViewerError(f"Reference-label file {path} does not exist.") from err
    except OSError as err:  # a folder in its place, no permission
        raise JndViewerError(f"Cannot read the reference-label file {path}: {err.strerror or err}.") from err
    except (KeyError, ValueError) as err:
        raise JndViewerError(f"{path.name} has a malformed row ({err}).") from err
