"""One results schema for picture-wise JND predictions, written by the CLI and the explorer alike.

JSON::

    {"format": "jndviewer.results", "version": 1, "jndviewer": "0.1.0",
     "results": [<PWJND.to_dict()>, ...], "errors": [{"image": "...", "error": "one sentence"}, ...]}

CSV: one row per result with the flat fields of :data:`CSV_FIELDS` (the trace as ``;``-separated levels, the request
as compact JSON, the prediction's caveats as a JSON list, empty when it has none), written like every table of
jndviewer (:func:`csv_text`): LF line endings, ``true``/``false``, and the measured columns rounded to
:data:`COLUMN_DECIMALS` places (the JSON keeps full precision). Both are read back by :func:`read_results` so that a
batch can resume where it stopped; a file is read only when it is a regular file of at most
:data:`MAX_RESULTS_BYTES`, and written through a temporary file of its own, so that readers never see half a file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import stat
import tempfile
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
    "trace", "request", "caveats",
)
#: Decimal places of the measured columns, the same in every table (results CSV, ladder CSV and JSON); inputs such
#: as ppd and threshold are written as given, so that a resumed request matches.
COLUMN_DECIMALS = {"bpp": 4, "bitrate_saving": 4, "psnr": 2, "ssim": 4, "seconds": 3, "encode_ms": 1}
#: The largest results file read back (a results file of a million images is far smaller).
MAX_RESULTS_BYTES = 512 << 20


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
        "request": json.dumps(result.request, sort_keys=True) if result.request else "",
        "caveats": json.dumps(list(params["caveats"])) if params.get("caveats") else "",
    }


def rounded(column: str, value: Any) -> Any:
    """A value as the tables write it: a measured column to :data:`COLUMN_DECIMALS` places; a float that is not
    finite (the PSNR of a lossless level) as None."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if column in COLUMN_DECIMALS:
            return round(value, COLUMN_DECIMALS[column])
    return value


def csv_cell(column: str, value: Any) -> Any:
    """A value as a CSV cell: ``true``/``false``, measured columns with a fixed number of decimals, None empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    value = rounded(column, value)
    if value is None:
        return ""
    if isinstance(value, (float, int)) and column in COLUMN_DECIMALS:
        return f"{value:.{COLUMN_DECIMALS[column]}f}"
    return value


def csv_text(fields: Sequence[str], rows: Sequence[dict[str, Any]], *, header: bool = True) -> str:
    """Rows as CSV the way every table of jndviewer is written: LF line endings and :func:`csv_cell` values."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows({key: csv_cell(key, value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file of this write's own, then replace ``path`` with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, _file_mode(path))  # mkstemp's files are private; keep the file's mode or the umask's
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _file_mode(path: Path) -> int:
    """The mode a rewritten file keeps (its own), or a new file gets (0o666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def check_results_file(path: str | Path) -> bool:
    """Whether a results file is there to be read (False: nothing there); one sentence when what is there is not a
    regular file of a sane size, so that neither a device nor a FIFO is ever read."""
    path = Path(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False  # nothing there, or a link to nothing: written as a new file
    except OSError as err:
        raise JndViewerError(f"Cannot read {path}: {err.strerror or err}.") from err
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
        raise JndViewerError(f"{path} is {kind}, not a regular file.")
    if info.st_size > MAX_RESULTS_BYTES:
        raise JndViewerError(f"{path} is too large ({info.st_size >> 20} MB) to be a results file of jndviewer.")
    return True


def write_results(path: str | Path, results: Sequence[PWJND], errors: Sequence[dict[str, str]] = ()) -> None:
    """Write results as ``.json`` (full schema) or ``.csv`` (flat rows), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_text_atomic(path, json.dumps(results_document(results, errors), indent=1))
    elif suffix == ".csv":
        write_text_atomic(path, csv_text(CSV_FIELDS, [csv_row(result) for result in results]))
    else:
        raise JndViewerError(f"Cannot write results to {path.name}: use .json or .csv.")


def read_results(path: str | Path) -> list[PWJND]:
    """Read results written by :func:`write_results` (a missing file is no results; a broken one is one sentence)."""
    return read_document(path)[0]


def read_document(path: str | Path) -> tuple[list[PWJND], list[dict[str, str]]]:
    """The results and the errors of a results file (CSV files hold no errors); one sentence when it is not one."""
    path = Path(path)
    if not check_results_file(path):
        return [], []
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or document.get("format") != FORMAT:
                raise JndViewerError(f"{path.name} is not a jndviewer results file.")
            items, errors = document.get("results", []), document.get("errors", [])
            if not all(isinstance(part, list) and all(isinstance(i, dict) for i in part) for part in (items, errors)):
                raise JndViewerError(f"{path.name} is not a jndviewer results file (its results are not a list).")
            return [PWJND.from_dict(item) for item in items], errors
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = set(reader.fieldnames or ())
        if columns and not columns >= REQUIRED_CSV_COLUMNS:  # also a header alone: it would be overwritten
            raise JndViewerError(f"{path.name} is not a jndviewer results file (its columns are not the results').")
        return [_from_row(row) for row in rows], []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise JndViewerError(f"{path.name} is not a readable results file ({type(err).__name__}: {err}).") from err


#: Columns a results CSV may lack and still be read: added after the first files (task, request, caveats), or not
#: read back (encodes).
OPTIONAL_CSV_COLUMNS = frozenset({"encodes", "task", "request", "caveats"})
#: The columns every results CSV has had: a CSV without them is not a results file.
REQUIRED_CSV_COLUMNS = frozenset(CSV_FIELDS) - OPTIONAL_CSV_COLUMNS


def _from_row(row: dict[str, str]) -> PWJND:
    return PWJND(
        image=row["image"], codec=row["codec"], predictor=row["predictor"], level=int(row["level"]),
        nbytes=int(row["nbytes"]), bpp=float(row["bpp"]), best_level=int(row["best_level"]),
        best_nbytes=int(row["best_nbytes"]), bitrate_saving=float(row["bitrate_saving"]),
        psnr=float(row["psnr"]) if row["psnr"] not in ("", "None") else float("inf"),
        all_visible=row["all_visible"].strip().lower() == "true",  # true/false; True/False before
        trace=[int(v) for v in row["trace"].split(";") if v],
        params={"jnd_model": row["jnd_model"], "threshold": row["threshold"], "strategy": row["strategy"],
                **({"caveats": json.loads(row["caveats"])} if row.get("caveats") else {})},  # none: an older file
        condition={**({"ppd": float(row["ppd"])} if row["ppd"] else {}),
                   **({"task": row["task"]} if row.get("task") else {})},
        width=int(row["width"]), height=int(row["height"]), seconds=float(row["seconds"]),
        request=json.loads(row["request"]) if row.get("request") else {},
    )
