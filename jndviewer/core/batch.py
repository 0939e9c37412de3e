"""Batch picture-wise JND: many images, several in parallel, resumable, one error line per bad file.

Shared by ``jndviewer predict`` and ``jndviewer export DIR``. Work runs in worker processes (each with one torch
thread) so that images are predicted in parallel; results are written after every image, so a stopped batch
resumes where it stopped (images already in the output are skipped). Workers end with their parent however it ends
(even ``kill -9``), and an interrupted batch stops its workers at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError
from jndviewer.core.image import IMAGE_SUFFIXES
from jndviewer.core.pwjnd.registry import PredictorInfo, check_request, create_predictor
from jndviewer.core.viewing import ViewingCondition


def collect_images(paths: Iterable[str | Path]) -> list[Path]:
    """Image files named directly or found (recursively, sorted) in the named folders."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


#: Linux's prctl option that sends a signal to a process when its parent ends.
PR_SET_PDEATHSIG = 1


def unique_images(images: Iterable[str | Path]) -> list[tuple[str, str]]:
    """``(path as given, resolved path)`` of each image, a file named twice (under any spelling) once."""
    seen: set[str] = set()
    unique = []
    for image in images:
        resolved = str(Path(image).resolve())
        if resolved not in seen:
            seen.add(resolved)
            unique.append((str(image), resolved))
    return unique


def _end_with_parent(parent: int) -> None:
    """End this worker process when ``parent`` ends, even by SIGKILL: the kernel's parent-death signal on Linux, and
    a thread that watches the parent elsewhere (and covers the moment before the signal was set up)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before the signal was set up
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="jndviewer-parent-watch", daemon=True).start()


def _worker_init(threads: int, parent: int | None = None) -> None:
    if parent is not None:  # a worker process: the parent decides when to stop (Ctrl-C reaches the whole group)
        _end_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)


def predict_one(
    path: str, codec_spec: str, predictor: PredictorInfo, options: dict[str, Any], condition: dict[str, Any],
    max_pixels: int | None = None,
) -> dict[str, Any]:
    """Predict one image; returns ``{"result": dict}`` or ``{"error": sentence}`` (runs in a worker). ``max_pixels``
    limits the image and a folder ladder's files alike (None: the environment's or the default limit).

    The worker is handed the predictor's registry entry, not its name, so that a predictor registered only in the
    calling process runs too.
    """
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load

    try:
        image = load(path, max_pixels=max_pixels)
        predictor = create_predictor(predictor, options, condition=ViewingCondition.from_dict(condition))
        result = predictor.predict(image, create_codec(codec_spec, max_pixels=max_pixels), name=path)
        return {"result": result.to_dict()}
    except JndViewerError as err:
        return {"error": str(err)}


def run_batch(
    images: Sequence[Path],
    codec_spec: str,
    predictor_name: str,
    options: dict[str, Any],
    *,
    condition: ViewingCondition | None = None,
    jobs: int,
    done: set[str],
    on_result: Callable[[dict[str, Any]], None],
    on_error: Callable[[str, str], None],
    progress: Callable[[], None] | None = None,
    max_pixels: int | None = None,
) -> None:
    """Predict every image whose resolved path is not in ``done`` (a file named twice once) with ``jobs`` worker
    processes, calling back as each finishes.

    The predictor, its options and the condition are checked before any work starts (one sentence when wrong). An
    exception here (Ctrl-C, SIGTERM turned into one) stops the workers at once; finished images were delivered.
    """
    pending = [given for given, resolved in unique_images(images) if resolved not in done]
    if not pending:
        return
    condition = condition or ViewingCondition()
    info, _ = check_request(predictor_name, options, condition)  # a bad option or condition: one sentence, at once
    where = condition.to_dict()
    if jobs <= 1:
        _worker_init(max(1, os.cpu_count() or 1))
        for path in pending:
            outcome = predict_one(path, codec_spec, info, options, where, max_pixels)
            _deliver(path, outcome, on_result, on_error, progress)
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)
    # Fresh interpreters, not forks: a fork of a process whose OpenMP thread pools (torch's, numba's) are running
    # cannot use them.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, context, initializer=_worker_init, initargs=(threads, os.getpid()))
    try:
        futures = {pool.submit(predict_one, p, codec_spec, info, options, where, max_pixels): p for p in pending}
        for future in as_completed(futures):
            _deliver(futures[future], future.result(), on_result, on_error, progress)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: queued images are dropped and running ones abandoned (their workers end)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=5)


def _deliver(path: str, outcome: dict[str, Any], on_result: Callable, on_error: Callable, progress: Any) -> None:
    if "error" in outcome:
        on_error(path, outcome["error"])
    else:
        on_result(outcome["result"])
    if progress is not None:
        progress()


#: What every sidecar holds (:func:`sidecar`); a JSON without them is not one (:func:`foreign_sidecar`).
SIDECAR_KEYS = frozenset({"source", "output", "metadata_kept", "pwjnd"})


def sidecar(result: dict[str, Any], *, output: Path, metadata_kept: bool, source: Path) -> str:
    """The JSON written next to an exported JND image."""
    return json.dumps({"source": str(source), "output": str(output), "metadata_kept": metadata_kept,
                       "pwjnd": result}, indent=1)


def foreign_sidecar(path: Path) -> bool:
    """Whether ``path`` exists and is anything but a :func:`sidecar` (``export`` rewrites its own on a rerun, and
    must not replace another file, a results file for instance)."""
    if not path.exists():
        return False
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return True
    return not (isinstance(document, dict) and document.keys() >= SIDECAR_KEYS)


def file_at_level(image: Any, codec: Any, level: Any, *, decoded: bool = False) -> tuple[bytes, bool]:
    """``(file bytes, metadata kept)`` of ``image`` at ``level``: the codec's own file (EXIF and ICC kept where the
    format can), or with ``decoded`` its decoded pixels as a PNG carrying both (``export --decoded``: JND images for
    training sets, also of codecs whose bitstream no image viewer reads, such as the learned ones)."""
    if not decoded:
        return codec.encode_with_metadata(image.rgb8(), level, exif=image.exif, icc_profile=image.icc_profile)
    import io

    from PIL import Image

    buffer = io.BytesIO()
    extra = {key: value for key, value in (("exif", image.exif), ("icc_profile", image.icc_profile)) if value}
    Image.fromarray(codec.encode(image.rgb8(), level).decoded).save(buffer, "PNG", **extra)
    return buffer.getvalue(), True


def write_image_at_level(
    image: Any, codec: Any, result: Any, target: str | Path, source: str | Path, *, decoded: bool = False
) -> tuple[Path, Path]:
    """Write the image encoded at ``result.level`` (:func:`file_at_level`) and its JSON sidecar.

    The same steps as ``jndviewer export`` for one image. Returns the image path and the sidecar path.
    """
    data, kept = file_at_level(image, codec, result.level, decoded=decoded)
    return write_encoded(data, kept, result.to_dict(), target, source)


def write_encoded(data: bytes, metadata_kept: bool, result: dict[str, Any], target: str | Path,
                  source: str | Path) -> tuple[Path, Path]:
    """Write an image encoded at its PW-JND and its JSON sidecar (also for images encoded on Dask workers)."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sidecar_path = target.with_name(target.name + ".json")
        # Each file whole or absent (also on kill -9); the sidecar last, so a sidecar always describes its image.
        for path, content in ((target, data), (sidecar_path, sidecar(result, output=target,
                                                                      metadata_kept=metadata_kept,
                                                                      source=Path(source)).encode())):
            temporary = path.with_name(path.name + ".part")
            temporary.write_bytes(content)
            os.replace(temporary, path)
    except OSError as err:
        raise JndViewerError(f"Cannot write {target}: {err.strerror or err}.") from err
    return target, sidecar_path


__all__ = ["collect_images", "file_at_level", "foreign_sidecar", "predict_one", "run_batch", "sidecar",
           "unique_images", "write_encoded", "write_image_at_level"]


def effective_jobs(requested: int, images: int, cores: int | None) -> tuple[int, str | None]:
    """How many worker processes to start for ``images`` images on ``cores`` CPU cores when ``requested`` were asked.

    More workers than images would idle, and more than cores would only share them (each holds its own models, a
    few hundred MB), so the count is capped at both. Returns ``(jobs, note)``: ``note`` is one sentence to show the
    user when the request was capped, else None. ``cores`` is ``os.cpu_count()``, which may be None (taken as 1).
    """
    requested = max(1, int(requested))
    cores = max(1, int(cores or 1))
    if images < 1:
        return 1, None
    jobs = min(requested, images, cores)
    if jobs == requested:
        return jobs, None
    workers = f"{jobs} worker process{'' if jobs == 1 else 'es'}"
    if jobs == images and images <= cores:
        reason = f"there {'is 1 image' if images == 1 else f'are {images} images'}"
    else:
        reason = f"this machine has {cores} core{'' if cores == 1 else 's'}"
    return jobs, f"--jobs {requested} is capped at {workers}: {reason}."
