"""What ``jndviewer predict``, ``export`` and ``ladder`` write, and how they end.

- **Checked before any work:** an output must be a regular file (or not there yet) in a folder that can be written;
  a device, a FIFO, a folder, a path under a file or an unwritable place is one sentence before anything is computed.
- **Shared safely:** every write of a results file takes a lock beside it (``.NAME.lock``), reads what other runs
  wrote meanwhile, merges and replaces the file through a temporary file of its own, so that two runs writing one file
  keep all their results.
- **Resumed by what was asked:** a result is "already there" only for the same resolved image path *and* the same
  request: codec, predictor, its options and the viewing condition (:func:`request_key`); results for different
  requests live side by side, and a file named under several spellings is predicted once.
- **Never lost:** a result that cannot be written is kept and written again with the next one; if the output still
  cannot be written at the end, the results go to a file in the temporary folder, and the command says where.
- **In input order:** results are written in the order the images were given (folders expanded, sorted), whatever
  order they finish in; each request's rows together, in the order the requests first appear in the file.
- **Or to stdout:** ``-o -`` writes CSV to stdout, each row as soon as the images before it are done; there is then
  nothing to resume from and no lock, and errors are on stderr only.
- **Never over an input:** ``export`` refuses an output that resolves to one of its inputs.
- **Ended cleanly:** SIGTERM is handled like Ctrl-C (the finished results are kept) and ends with
  :data:`~jndviewer.core.errors.EXIT_TERMINATED`; Ctrl-C with :data:`~jndviewer.core.errors.EXIT_INTERRUPTED`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jndviewer.core import report
from jndviewer.core.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    JndViewerError,
)
from jndviewer.core.pwjnd.result import PWJND
from jndviewer.core.result_keys import (
    error_key,
    request_key,
    request_of,
    result_key,
)
from jndviewer.core.result_keys import resolved_path as _resolved
from jndviewer.core.viewing import ViewingCondition

if TYPE_CHECKING:
    from jndviewer.core.batch_dask import DaskTarget, WorkerRequest

#: How long a write waits for another run's write of the same results file (seconds).
LOCK_TIMEOUT = 120.0
#: Worker processes of ``predict`` when ``--jobs`` is not given (capped at the images and cores, silently).
DEFAULT_JOBS = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM wait; one that came is raised again at its end. Yields the list of those
    that came so far (a test can wait for one, however slowly the machine delivers it).

    Blocking them in this thread alone is not enough: the process has other threads (the worker pool's), the kernel
    hands the signal to one of those, and Python then runs its handler in the main thread all the same, in the
    middle of the write (a run stopped so left its temporary file beside the results). So in the main thread the
    handlers are replaced for the block by one that only remembers the signal.
    """
    waiting = {signal.SIGINT, signal.SIGTERM}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, waiting) if hasattr(signal, "pthread_sigmask") else None
    came: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, lambda signum, frame: came.append(signum)) for signum in waiting}
    try:
        yield came
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if came:
            signal.raise_signal(came[0])  # handled as if it came now


def stopped(stop: KeyboardInterrupt) -> tuple[str, int]:
    """What an interrupted command says and its exit status."""
    return ("terminated", EXIT_TERMINATED) if isinstance(stop, Terminated) else ("interrupted", EXIT_INTERRUPTED)


def say(message: str) -> None:
    """One line on stderr that starts its own line, also while a progress bar is shown."""
    from tqdm import tqdm

    tqdm.write(f"jndviewer: {message}", file=sys.stderr)


def about(path: str, message: str) -> str:
    """``message`` about the image ``path``, led by its path, which names the file once: the loader's sentences
    begin with the file's name ("trunc.png is truncated or corrupt"), which the path then replaces."""
    name = Path(path).name
    if message.startswith(name):
        return f"{path}{message[len(name):]}"
    return message if name in message else f"{path}: {message}"


def counted(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ------------------------------------------------------------------------------------------------------------------
# Outputs checked before any work
# ------------------------------------------------------------------------------------------------------------------


def check_writable(path: Path, *, folder: bool = False) -> Path:
    """The path to write ``path`` through (symbolic links followed), after checking that what is there is a regular
    file (or nothing) and that its folder exists or can be made and takes a new file; one sentence otherwise."""
    target = Path(os.path.realpath(path))
    if target.exists() and not (target.is_dir() if folder else target.is_file()):
        kind = "a folder" if target.is_dir() else "a device, FIFO or socket"
        raise JndViewerError(f"Cannot write {path}: it is {kind}, not a regular file." if not folder
                             else f"Cannot write into {path}: it is not a folder.")
    where = target if folder else target.parent
    for ancestor in (where, *where.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise JndViewerError(f"Cannot write {path}: {ancestor} is not a folder.")
            break
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".jndviewer-probe-", dir=where)
        os.close(handle)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or str(err)
        if err.errno == errno.ENOENT and where.is_dir():
            reason = f"{where} takes no new files"
        raise JndViewerError(f"Cannot write {path}: {reason}.") from err
    return target


# ------------------------------------------------------------------------------------------------------------------
# Results files: the shared file (the resume key: core/result_keys.py)
# ------------------------------------------------------------------------------------------------------------------


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class ResultsFile:
    """A results file shared with other runs: read when opened (one sentence if it is not ours), then rewritten after
    every result or error with what other runs wrote meanwhile, under a lock. Writes that fail are retried."""

    def __init__(self, path: Path, order: Sequence[str] = ()) -> None:
        if path.suffix.lower() not in (".json", ".csv"):
            raise JndViewerError(f"Cannot write results to {path.name}: use .json or .csv.")
        self.path = path
        self.order = {resolved: index for index, resolved in enumerate(order)}  # resolved image -> input position
        self.target = Path(os.path.realpath(path))
        report.check_results_file(path)  # a device, FIFO or folder is named as given
        self._seen = _signature(self.target)
        self._read_theirs(report.read_document(self.target))  # before anything is written
        check_writable(path)
        from filelock import FileLock

        self._lock = FileLock(str(self.target.with_name(f".{self.target.name}.lock")), timeout=LOCK_TIMEOUT)
        self.results: list[PWJND] = []
        self.errors: list[dict[str, str]] = []
        self._ours: set[tuple[str, ...]] = set()
        self._handled: set[str] = set()  # the images this run predicted or failed on (resolved)
        self.failure: str | None = None
        self.pending = False  # something of this run is not in the file yet

    def _read_theirs(self, document: tuple[list[PWJND], list[dict[str, str]]]) -> None:
        results, errors = document
        self._theirs = [(result_key(r), r) for r in results]
        self._their_errors = [(_resolved(str(e.get("image", ""))), e) for e in errors]

    def done(self, predictor: str, condition: dict[str, Any], request: dict[str, Any]) -> set[str]:
        """The resolved image paths that already have a result for this request."""
        wanted = request_key("", predictor, condition, request)[1:]
        return {key[0] for key, _ in self._theirs if key[1:] == wanted}

    def add(self, result: PWJND) -> bool:
        key = result_key(result)
        self.results = [r for r in self.results if result_key(r) != key] if key in self._ours else self.results
        self.results.append(result)
        self._ours.add(key)
        self._handled.add(key[0])
        return self.write()

    def add_error(self, image: str, message: str, about: dict[str, Any] | None = None) -> bool:
        """Record an image's error; ``about``: the request it failed for (predictor, codec, options, condition)."""
        entry = {"image": image, "error": message, **(about or {})}
        key = error_key(entry)
        self.errors = [e for e in self.errors if key is None or error_key(e) != key]
        self.errors.append(entry)
        self._handled.add(_resolved(image))
        return self.write()

    def merged(self) -> tuple[list[PWJND], list[dict[str, str]]]:
        """Every result and error: other runs' first (less those this run replaced: the same request's, or any of
        an image handled now for an error that does not say its request), then this run's."""
        theirs = [r for key, r in self._theirs if key not in self._ours]
        replaced = self._ours | {error_key(e) for e in self.errors}
        their_errors = [e for image, e in self._their_errors
                        if not (image in self._handled and (error_key(e) is None or error_key(e) in replaced))]
        return in_input_order(theirs + self.results, their_errors + self.errors, self.order)

    def finish(self) -> None:
        """Write what is not in the file yet (at the end, also after Ctrl-C)."""
        if self.pending:
            self.write()

    def write(self) -> bool:
        """Merge and write under the lock; False (and :attr:`failure` says why) when the file cannot be written.
        Ctrl-C and SIGTERM wait until the write is done."""
        self.pending = True
        try:
            with _signals_deferred(), self._lock:
                if _signature(self.target) != self._seen:  # another run wrote meanwhile
                    self._read_theirs(report.read_document(self.target))
                report.write_results(self.target, *self.merged())
                self._seen = _signature(self.target)
        except (OSError, JndViewerError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err).rstrip(".")
            self.failure = f"Cannot write {self.path}: {reason}."
            return False
        self.failure = None
        self.pending = False
        return True

    def rescue(self) -> Path | None:
        """Write everything to a new file in the temporary folder (None when even that fails)."""
        try:
            handle, name = tempfile.mkstemp(prefix="jndviewer-results-", suffix=self.target.suffix)
            os.close(handle)
            report.write_results(name, *self.merged())
        except OSError:
            return None
        return Path(name)


def in_input_order(results: Sequence[PWJND], errors: Sequence[dict[str, str]],
                   order: dict[str, int]) -> tuple[list[PWJND], list[dict[str, str]]]:
    """Results grouped by request (in the order each request first appears), each group in input order; results and
    errors of images not in ``order`` (resolved path -> position) keep their place before the others."""
    groups: dict[tuple[str, ...], int] = {}
    for result in results:
        groups.setdefault(result_key(result)[1:], len(groups))

    def place(result: PWJND) -> tuple[int, int]:
        key = result_key(result)
        return groups[key[1:]], order.get(key[0], -1)

    return (sorted(results, key=place),
            sorted(errors, key=lambda error: order.get(_resolved(str(error.get("image", ""))), -1)))


class StdoutResults:
    """``-o -``: the results as CSV on stdout, each row as soon as every image before it has finished (input order).
    Nothing is read or resumed; errors are on stderr only. Same interface as :class:`ResultsFile`."""

    path = Path("-")

    def __init__(self, order: Sequence[str]) -> None:
        self.order = list(order)
        self._finished: dict[str, PWJND | None] = {}  # resolved image -> result (None: failed), not yet printed
        self._next = 0
        self._header = False
        self.results: list[PWJND] = []
        self.errors: list[dict[str, str]] = []
        self.failure: str | None = None
        self.pending = False

    def done(self, predictor: str, condition: dict[str, Any], request: dict[str, Any]) -> set[str]:
        return set()

    def add(self, result: PWJND) -> bool:
        self.results.append(result)
        self._finished[result_key(result)[0]] = result
        return self.write()

    def add_error(self, image: str, message: str, about: dict[str, Any] | None = None) -> bool:
        self.errors.append({"image": image, "error": message, **(about or {})})
        self._finished[_resolved(image)] = None
        return self.write()

    def merged(self) -> tuple[list[PWJND], list[dict[str, str]]]:
        return in_input_order(self.results, self.errors, {path: i for i, path in enumerate(self.order)})

    def write(self, *, final: bool = False) -> bool:
        """Print the rows whose turn has come (``final``: every finished row left, in input order)."""
        rows: list[PWJND] = []
        while self._next < len(self.order) and (final or self.order[self._next] in self._finished):
            result = self._finished.pop(self.order[self._next], None)
            rows += [] if result is None else [result]
            self._next += 1
        if self.failure is not None:
            return False
        try:
            sys.stdout.write(report.csv_text(report.CSV_FIELDS, [report.csv_row(r) for r in rows],
                                             header=not self._header))
            sys.stdout.flush()
        except OSError as err:
            self.failure = f"Cannot write to stdout: {err.strerror or err}."
            return False
        self._header = True
        return True

    def finish(self) -> None:
        self.write(final=True)

    def rescue(self) -> Path | None:
        try:
            handle, name = tempfile.mkstemp(prefix="jndviewer-results-", suffix=".csv")
            os.close(handle)
            report.write_results(name, self.merged()[0])
        except OSError:
            return None
        return Path(name)


# ------------------------------------------------------------------------------------------------------------------
# The commands
# ------------------------------------------------------------------------------------------------------------------


def predict_to_file(
    output: Path,
    images: Sequence[Path],
    *,
    codec_spec: str,
    predictor: str,
    options: dict[str, Any],
    condition: ViewingCondition,
    jobs: int | None,
    max_pixels: int | None = None,
    dask: DaskTarget | None = None,
) -> int:
    """``jndviewer predict``: every image not yet in ``output`` for this request, merged into it (``-``: CSV on
    stdout); the exit status. ``dask``: on a Dask cluster instead of ``jobs`` local processes (connected only when
    there is work; one sentence when it cannot be)."""
    from tqdm import tqdm

    from jndviewer.core.batch import effective_jobs, run_batch, unique_images
    from jndviewer.core.batch_dask import runner

    unique = unique_images(images)
    order = [resolved for _, resolved in unique]
    results = StdoutResults(order) if str(output) == "-" else ResultsFile(output, order)
    request = request_of(codec_spec, options)
    done = results.done(predictor, condition.to_dict(), request)
    skipped = sum(resolved in done for _, resolved in unique)
    asked = jobs is not None  # the default is capped without a word; a number the user gave is capped with one
    jobs, note = effective_jobs(jobs if asked else DEFAULT_JOBS, len(unique) - skipped, os.cpu_count())
    if note and asked and dask is None:
        say(note)
    warned: list[str] = []

    def written(ok: bool) -> None:
        if not ok and not warned:
            warned.append(str(results.failure))
            again = "saved to a file at the end" if results.path == StdoutResults.path else \
                "written again after the next image"
            say(f"{results.failure} The results are kept and {again}.")

    def on_result(data: dict[str, Any]) -> None:
        data["request"] = {"path": _resolved(data["image"]), **request}
        written(results.add(PWJND.from_dict(data)))

    def on_error(path: str, message: str) -> None:
        say(about(path, message))
        written(results.add_error(path, message, {"predictor": predictor, **request, "condition": condition.to_dict()}))

    status, how = EXIT_OK, ""
    with sigterm_as_interrupt():
        try:
            with runner(dask, len(unique) - skipped, run_batch, say) as run, \
                    tqdm(total=len(unique), initial=skipped, desc="predict", unit="image", file=sys.stderr) as bar:
                run(images, codec_spec, predictor, options, condition=condition, jobs=jobs, done=done,
                    on_result=on_result, on_error=on_error, progress=bar.update, max_pixels=max_pixels)
        except KeyboardInterrupt as stop:
            how, status = stopped(stop)
        results.finish()
    return _predict_summary(results, skipped, len(unique), condition, how, status)


def _predict_summary(results: ResultsFile | StdoutResults, skipped: int, total: int, condition: Any, how: str,
                     status: int) -> int:
    merged, _ = results.merged()
    if results.failure is not None:
        rescued = results.rescue()
        where = f"they are in {rescued} instead" if rescued else "they could not be saved anywhere else either"
        say(f"{results.failure.rstrip('.')}; {where}.")
        status = status or EXIT_FAILED
    elif isinstance(results, StdoutResults):
        errors = counted(len(results.errors), "error")
        say(f"{len(merged)} results for {condition.describe()} written to stdout, {errors}")
    elif not Path(results.path).exists():  # stopped before the first result: nothing was written, say so
        say(f"nothing written to {results.path}: no result finished for {condition.describe()}")
    else:
        print(f"wrote {results.path}: {counted(len(results.results), 'new result')} ({skipped} already there) for "
              f"{condition.describe()}, {counted(len(results.errors), 'error')}; {counted(len(merged), 'result')} in "
              "the file")
    if how:
        kept = "" if results.failure is not None or results.path == StdoutResults.path else \
            f" ({len(merged)} results in the file)"
        say(f"{how}; the {len(results.results)} results finished are kept{kept}.")
    elif results.errors:
        say(f"{len(results.errors)} of {total} images failed (see above).")
        status = status or EXIT_FAILED
    return status


def export_targets(source: Path, output: Path, images: Sequence[Path], suffix: str, folder_mode: bool) -> list[Path]:
    """Where ``export`` writes each image; one sentence (before any work) when an output would overwrite an input,
    two inputs would be written to one file, or the output cannot be written."""
    from jndviewer.core.batch import foreign_sidecar

    if folder_mode:
        if output.resolve() == source.resolve():
            raise JndViewerError(f"The output folder {output} is the input folder; the originals would be "
                                 "overwritten, so choose another -o folder.")
        targets = [(output / path.relative_to(source)).with_suffix(suffix) for path in images]
    else:
        targets = [output]
    inputs = {path.resolve(): path for path in images}
    identities = {(info.st_dev, info.st_ino): path for path in images if (info := _stat(path)) is not None}
    written: dict[Path, Path] = {}
    for path, target in zip(images, targets, strict=True):
        info = _stat(target)
        original = inputs.get(target.resolve()) or (identities.get((info.st_dev, info.st_ino)) if info else None)
        if original is not None:
            raise JndViewerError(f"Refusing to overwrite the input {original} with {target}; choose another -o.")
        if target.resolve() in written:
            raise JndViewerError(f"{written[target.resolve()]} and {path} would both be written to {target}.")
        written[target.resolve()] = path
        sidecar = target.with_name(target.name + ".json")
        if foreign_sidecar(sidecar):
            raise JndViewerError(f"{sidecar} exists and is not an export sidecar; exporting to {target} would "
                                 "overwrite it, so choose another -o.")
    check_writable(output, folder=folder_mode)
    return targets


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def export_images(images: Sequence[Path], targets: Sequence[Path], codec: Any, predictor: Any, *, batch: bool,
                  max_pixels: int | None = None, dask: DaskTarget | None = None,
                  request: WorkerRequest | None = None, decoded: bool = False) -> int:
    """``jndviewer export``: each image at its predicted JND; the exit status (a single image that fails is the
    command's error, a batch where some images failed says how many). ``dask``: predicted and encoded on a Dask
    cluster from ``request`` (the workers make their own codec and predictor), written here as each finishes."""
    from jndviewer.core.batch_dask import export_on
    from jndviewer.core.viewing import describe_condition

    failures = 0
    with sigterm_as_interrupt():
        try:
            with contextlib.closing(_export_here(images, targets, codec, predictor, max_pixels, decoded) if dask is None
                                    else export_on(dask, images, targets, request, max_pixels, say)) as exported:
                for path, target, result in exported:
                    if isinstance(result, JndViewerError):
                        failures += 1
                        say(about(path, str(result)))
                        continue
                    print(f"{path.name}: {codec.level_name} {result.level} for "
                          f"{describe_condition(result.condition)} ({result.nbytes} bytes"
                          f"{' coded, written decoded' if decoded else ''}, {result.bpp:.3f} bpp, "
                          f"{100 * result.bitrate_saving:.1f}% smaller than level {result.best_level}) -> {target}")
        except KeyboardInterrupt as stop:
            how, status = stopped(stop)
            say(f"{how}; the images exported so far are kept.")
            return status
    if failures and not batch:
        return EXIT_USAGE
    if failures:
        say(f"{failures} of {len(images)} images failed (see above).")
        return EXIT_FAILED
    return EXIT_OK


def _export_here(images: Sequence[Path], targets: Sequence[Path], codec: Any, predictor: Any,
                 max_pixels: int | None, decoded: bool = False) -> Iterator[tuple[Path, Path, Any]]:
    from jndviewer.core.batch import write_image_at_level
    from jndviewer.core.image import load

    for path, target in zip(images, targets, strict=True):
        try:
            image = load(path, max_pixels=max_pixels)
            result = predictor.predict(image, codec, name=str(path))
            write_image_at_level(image, codec, result, target, path, decoded=decoded)
        except JndViewerError as err:
            yield path, target, err
            continue
        yield path, target, result


def ladder_to(output: Path | None, image: Any, image_path: Path, codec: Any, levels: Sequence[int]) -> int:
    """``jndviewer ladder``: the rate-distortion table to ``output`` (.csv or .json, checked before any encode) or to
    stdout (None or ``-``); the exit status. A table that cannot be written is printed instead of being lost."""
    from tqdm import tqdm

    from jndviewer.core.ladder import Ladder

    output = None if output is not None and str(output) == "-" else output
    if output is not None:
        if output.suffix.lower() not in (".csv", ".json"):
            raise JndViewerError(f"Cannot write {output.name}: the table is written as .csv or .json.")
        check_writable(output)
    with sigterm_as_interrupt():
        try:
            with tqdm(total=len(levels), desc=f"{codec.name} ladder", unit="level", file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.n = done
                    bar.refresh()

                with Ladder(image, codec) as ladder:
                    rows = ladder.table(levels, progress=progress)
        except KeyboardInterrupt as stop:
            how, status = stopped(stop)
            say(how)
            return status
    # every table's rounding; a lossless rung has infinite PSNR: JSON has no Infinity, so null (CSV: empty) there
    rows = [{key: report.rounded(key, value) for key, value in row.items()} for row in rows]
    meta = {"image": str(image_path), "width": image.width, "height": image.height, "codec": codec.name,
            "level_name": codec.level_name, "better": codec.better}
    if output is not None and output.suffix.lower() == ".json":
        text = json.dumps({**meta, "rungs": rows}, indent=1)
    else:
        text = report.csv_text(list(rows[0]), rows)
    if output is None:
        print(text, end="")
        return EXIT_OK
    try:
        report.write_text_atomic(Path(os.path.realpath(output)), text)
    except OSError as err:
        print(text, end="" if text.endswith("\n") else "\n")
        say(f"Cannot write {output}: {err.strerror or err}; the table is printed above instead.")
        return EXIT_FAILED
    print(f"wrote {output} ({len(rows)} levels of {codec.title} on {image_path.name})")
    return EXIT_OK


__all__ = [
    "ResultsFile", "StdoutResults", "Terminated", "check_writable", "export_images", "export_targets", "ladder_to",
    "predict_to_file", "request_key", "request_of", "result_key", "sigterm_as_interrupt",
]
