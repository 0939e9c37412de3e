"""One results schema for picture-wise JND predictions, written by the CLI and the explorer alike.

JSON::

    {"format": "jndviewer.results", "version": 1, "jndviewer": "0.1.0",
     "results": [<PWJND.to_dict()>, ...], "errors": [{"image": "...", "error": "one sentence"}, ...]}

CSV: one row per result with the flat fields of :data:`CSV_FIELDS` (the trace as ``;``-separated levels). Both are
read back by :func:`read_results` so that a batch can resume where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jndviewer import __version__
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.result import PWJND

FORMAT = "jndviewer.results"
VERSION = 1
CSV_FIELDS = (
    "image", "codec", "predictor", "level", "nbytes", "bpp", "best_level", "best_nbytes", "bitrate_saving", "psnr",
    "all_visible", "encodes", "seconds", "width", "height", "jnd_model", "ppd", "task", "threshold", "strategy",
    "trace",
)


def results_document(results: Sequence[PWJND], errors: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "jndviewer": __version__,
        "results": [r.to_dict() for r in results],
        "errors": list(errors),
    }


def csv_row(result: PWJND) -> dict[str, Any]:
    data = result.to_dict()
    params = result.params
    return {
        **{k: data[k] for k in CSV_FIELDS if k in data and k != "trace"},
        "jnd_model": params.get("jnd_model", ""),
        "ppd": result.condition.get("ppd", params.get("ppd", "")),
        "task": result.condition.get("task", ""),
        "threshold": params.get("threshold", ""),
        "strategy": params.get("strategy", ""),
        "trace": ";".join(str(level) for level in result.trace),
    }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def write_results(path: str | Path, results: Sequence[PWJND], errors: Sequence[dict[str, str]] = ()) -> None:
    """Write results as ``.json`` (full schema) or ``.csv`` (flat rows), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        _atomic_write(path, json.dumps(results_document(results, errors), indent=1))
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for result in results:
            writer.writerow(csv_row(result))
        _atomic_write(path, buffer.getvalue())
    else:
        raise JndViewerError(f"Cannot write results to {path.name}: use .json or .csv.")


def read_results(path: str | Path) -> list[PWJND]:
    """Read results written by :func:`write_results` (a missing file is no results; a broken one is one sentence)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(path.read_text())
            if document.get("format") != FORMAT:
                raise JndViewerError(f"{path.name} is not a jndviewer results file.")
            return [PWJND.from_dict(item) for item in document.get("results", [])]
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            PWJND(
                image=row["image"], codec=row["codec"], predictor=row["predictor"], level=int(row["level"]),
                nbytes=int(row["nbytes"]), bpp=float(row["bpp"]), best_level=int(row["best_level"]),
                best_nbytes=int(row["best_nbytes"]), bitrate_saving=float(row["bitrate_saving"]),
                psnr=float(row["psnr"]) if row["psnr"] not in ("", "None") else float("inf"),
                all_visible=row["all_visible"] == "True",
                trace=[int(v) for v in row["trace"].split(";") if v],
                params={"jnd_model": row["jnd_model"], "threshold": row["threshold"], "strategy": row["strategy"]},
                condition={**({"ppd": float(row["ppd"])} if row["ppd"] else {}),
                           **({"task": row["task"]} if row.get("task") else {})},
                width=int(row["width"]), height=int(row["height"]), seconds=float(row["seconds"]),
            )
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise JndViewerError(f"{path.name} is not a readable results file ({type(err).__name__}: {err}).") from err
