"""Batch picture-wise JND: many images, several in parallel, resumable, one error line per bad file.

Shared by ``jndviewer predict`` and ``jndviewer export DIR``. Work runs in worker processes (each with one torch
thread) so that images are predicted in parallel; results are written after every image, so a stopped batch
resumes where it stopped (images already in the output are skipped).
"""

from __future__ import annotations

import json
import multiprocessing
import os
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


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def predict_one(
    path: str, codec_spec: str, predictor: PredictorInfo, options: dict[str, Any], condition: dict[str, Any]
) -> dict[str, Any]:
    """Predict one image; returns ``{"result": dict}`` or ``{"error": sentence}`` (runs in a worker).

    The worker is handed the predictor's registry entry, not its name, so that a predictor registered only in the
    calling process runs too.
    """
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load

    try:
        image = load(path)
        predictor = create_predictor(predictor, options, condition=ViewingCondition.from_dict(condition))
        result = predictor.predict(image, create_codec(codec_spec), name=path)
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
) -> None:
    """Predict every image not in ``done`` with ``jobs`` worker processes, calling back as each finishes.

    The predictor, its options and the condition are checked before any work starts (one sentence when wrong).
    """
    pending = [str(p) for p in images if str(p) not in done]
    if not pending:
        return
    condition = condition or ViewingCondition()
    info, _ = check_request(predictor_name, options, condition)  # a bad option or condition: one sentence, at once
    where = condition.to_dict()
    if jobs <= 1:
        _worker_init(max(1, os.cpu_count() or 1))
        for path in pending:
            _deliver(path, predict_one(path, codec_spec, info, options, where), on_result, on_error, progress)
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)
    # Fresh interpreters, not forks: a fork of a process whose OpenMP thread pools (torch's, numba's) are running
    # cannot use them.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, context, initializer=_worker_init, initargs=(threads,)) as pool:
        futures = {pool.submit(predict_one, p, codec_spec, info, options, where): p for p in pending}
        for future in as_completed(futures):
            _deliver(futures[future], future.result(), on_result, on_error, progress)


def _deliver(path: str, outcome: dict[str, Any], on_result: Callable, on_error: Callable, progress: Any) -> None:
    if "error" in outcome:
        on_error(path, outcome["error"])
    else:
        on_result(outcome["result"])
    if progress is not None:
        progress()


def sidecar(result: dict[str, Any], *, output: Path, metadata_kept: bool, source: Path) -> str:
    """The JSON written next to an exported JND image."""
    return json.dumps({"source": str(source), "output": str(output), "metadata_kept": metadata_kept,
                       "pwjnd": result}, indent=1)


def write_image_at_level(
    image: Any, codec: Any, result: Any, target: str | Path, source: str | Path
) -> tuple[Path, Path]:
    """Write the image encoded at ``result.level`` (EXIF and ICC kept where the format can) and its JSON sidecar.

    The same steps as ``jndviewer export`` for one image: ``codec.encode_with_metadata`` and
    :func:`jndviewer.core.batch.sidecar`. Returns the image path and the sidecar path.
    """
    target = Path(target)
    data, kept = codec.encode_with_metadata(image.rgb8(), result.level, exif=image.exif, icc_profile=image.icc_profile)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        sidecar_path = target.with_name(target.name + ".json")
        sidecar_path.write_text(sidecar(result.to_dict(), output=target, metadata_kept=kept, source=Path(source)))
    except OSError as err:
        raise JndViewerError(f"Cannot write {target}: {err.strerror or err}.") from err
    return target, sidecar_path


__all__ = ["collect_images", "predict_one", "run_batch", "sidecar", "write_image_at_level"]
