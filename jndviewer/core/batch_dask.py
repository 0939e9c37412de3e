"""Batch picture-wise JND on Dask distributed: ``predict`` and ``export`` with ``--scheduler tcp://HOST:PORT`` or
``--dask-local N``.

- **Where.** An existing scheduler and its workers (started by hand with ``dask scheduler`` and ``dask worker``, or by
  a launcher such as dask-jobqueue or the Dask Kubernetes operator), or a LocalCluster of N worker processes with one
  thread each, listening on 127.0.0.1 only.
- **What runs there.** One task per image: :func:`jndviewer.core.batch.predict_one` for ``predict`` (the very
  function of the local worker processes, so both give the same results) and :func:`export_one` for ``export``. The
  results stream back as they finish (``as_completed``) and the calling process alone writes them, into the same
  resumable output as the local path; the workers read the images and write nothing.
- **A worker that dies.** The scheduler runs its tasks again on another worker (up to its
  ``distributed.scheduler.allowed-failures``, 3 by default; a nanny restarts the worker), and a task that raised is
  retried :data:`RETRIES` times. An image that still fails is one error line, like an unreadable file. The output is
  written only by the calling process, after each image, so it stays valid whatever happens to the workers.
- **Threads.** Dask's nannies start workers with ``OMP_NUM_THREADS=1``, so each task uses one torch thread; run one
  single-threaded worker process per core (``dask worker --nworkers N --nthreads 1``).
- **Imports.** dask is imported here only, and only when asked for: the CLI's startup does not pay for it. Without
  dask, one sentence says to install ``jndviewer[dask]``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from jndviewer.core.batch import predict_one, unique_images
from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.registry import PredictorInfo, check_request, create_predictor
from jndviewer.core.pwjnd.result import PWJND
from jndviewer.core.viewing import ViewingCondition

if TYPE_CHECKING:
    from distributed import Client, Future

#: Times a task that raised runs again (a worker that died is the scheduler's ``allowed-failures``).
RETRIES = 2
#: Times a LocalCluster's scheduler runs a task again whose worker died before it gives up on the image.
LOCAL_ALLOWED_FAILURES = 3
#: A LocalCluster's settings, held while it runs (the workers its nannies restart get them too): a task whose worker
#: died runs again up to LOCAL_ALLOWED_FAILURES times; the workers' allocator keeps glibc's defaults, as the local
#: worker processes have them (Dask's MALLOC_TRIM_THRESHOLD_ fixes the mmap threshold: 4x the page faults and 2.5 to
#: 4 times the system time on four Kodak predictions); no statistical profiler sampling the workers' threads.
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}
#: Seconds to reach a scheduler (``distributed`` would try for 30).
CONNECT_TIMEOUT = 10
#: What the user installs to run on Dask.
INSTALL = "install jndviewer[dask] (pip install 'jndviewer[dask]')"


@dataclass(frozen=True)
class DaskTarget:
    """Where a batch runs on Dask: an existing scheduler's address, or a LocalCluster of ``local_workers``."""

    scheduler: str | None = None
    local_workers: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> DaskTarget | None:
        """The target of ``--scheduler`` / ``--dask-local`` (None: neither given, the local worker processes)."""
        scheduler, workers = getattr(args, "scheduler", None), getattr(args, "dask_local", None)
        if scheduler is None and workers is None:
            return None
        if scheduler is not None and workers is not None:
            raise JndViewerError("Give --scheduler or --dask-local, not both.")
        require_dask()  # before any output is checked or made
        return cls(scheduler=scheduler, local_workers=workers)


class WorkerRequest(NamedTuple):
    """What workers need to export an image: names and values, not the calling process's codec and predictor."""

    codec_spec: str
    predictor: str
    options: dict[str, Any]
    condition: ViewingCondition
    decoded: bool = False  # export --decoded: the decoded pixels as PNG


def require_dask() -> None:
    """One sentence when dask or distributed cannot be imported."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as err:
        raise JndViewerError(f"Running on Dask needs dask and distributed ({err.name or 'dask'} is not installed "
                             f"here): {INSTALL}.") from None


@contextlib.contextmanager
def dask_client(target: DaskTarget) -> Iterator[Client]:
    """A client of the target's scheduler (a LocalCluster started for it, closed at the end); one sentence when dask
    is not installed, the scheduler cannot be reached or the cluster cannot start."""
    require_dask()
    import dask
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:  # closed in reverse: the client, the cluster, the settings
        try:
            if target.local_workers is not None:
                stack.enter_context(dask.config.set(LOCAL_CONFIG))  # the cluster's whole life: restarts too
                stack.callback(_restore_environment, dict(os.environ))  # its nannies set their workers' here
                # No dashboard; the scheduler's HTTP routes (health, metrics) on any free port of 127.0.0.1. The
                # batch reports failed images itself: distributed's own log lines (a worker's heartbeat to a
                # scheduler that is closing, a worker restarted) would only break into the progress bar.
                cluster = LocalCluster(n_workers=target.local_workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None, silence_logs=logging.CRITICAL,
                                       scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                                       preload=[__name__])  # dask_setup below, in every worker it (re)starts
                stack.callback(_quietly, cluster.close, timeout=CONNECT_TIMEOUT)
                client = Client(cluster, set_as_default=False)
            else:
                client = Client(_address(str(target.scheduler)), timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, ValueError, TypeError) as err:
            if target.local_workers is not None:
                raise JndViewerError(f"Cannot start a Dask LocalCluster of {target.local_workers} workers: "
                                     f"{str(err).rstrip('.') or type(err).__name__}.") from None
            raise JndViewerError(f"Cannot reach the Dask scheduler at {target.scheduler} within {CONNECT_TIMEOUT} s "
                                 "(is `dask scheduler` running there, and its port open?).") from None
        stack.callback(_quietly, client.close, timeout=CONNECT_TIMEOUT)
        yield client


def _restore_environment(saved: dict[str, str]) -> None:
    """Put back this process's environment as it was before a LocalCluster's nannies added to it (OMP_NUM_THREADS=1,
    PYTHONHASHSEED, ...), so that processes started later do not inherit it."""
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def _quietly(close: Callable[..., Any], **kwargs: Any) -> None:
    """Close a client or cluster; what goes wrong while closing is not the batch's concern any more."""
    with contextlib.suppress(Exception):
        close(**kwargs)


@contextlib.contextmanager
def connected(target: DaskTarget, say: Callable[[str], None]) -> Iterator[Client]:
    """:func:`dask_client`, after saying where the batch runs."""
    with dask_client(target) as client:
        say(describe(client, target))
        yield client


@contextlib.contextmanager
def runner(target: DaskTarget | None, pending: int, local: Callable[..., None],
           say: Callable[[str], None]) -> Iterator[Callable[..., None]]:
    """What runs a ``predict`` batch: ``local`` (:func:`jndviewer.core.batch.run_batch`) without a target or work,
    else :func:`run_dask_batch` on the target, connected here (before a progress bar is drawn)."""
    if target is None or not pending:
        yield local
        return
    with connected(target, say) as client:
        yield functools.partial(run_dask_batch, client)


def dask_setup(worker: Any) -> None:
    """A LocalCluster's worker processes leave Ctrl-C to the calling process (the terminal sends it to the whole
    process group): it stops the batch and closes the cluster, as with the local worker processes. Called by Dask
    when a worker starts (this module is their preload); the workers of an existing cluster are not touched."""
    with contextlib.suppress(ValueError):  # not the main thread: nothing to do
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _address(address: str) -> str:
    """A scheduler address as given (``tcp://`` when it names no protocol); one sentence when it is none."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import backends

    try:
        scheme, where = parse_address(address)
    except ValueError:
        scheme, where = "", ""
    if scheme not in backends or not where:
        raise JndViewerError(f"--scheduler {address!r} is not a Dask scheduler address such as tcp://HOST:8786.")
    return address


def describe(client: Client, target: DaskTarget) -> str:
    """One line on where the batch runs: the scheduler, its workers and their threads."""
    workers = client.nthreads()  # worker address -> its threads, every worker
    threads = sum(workers.values())
    where = (f"a Dask LocalCluster on {client.scheduler.address}" if target.local_workers is not None
             else f"the Dask scheduler at {client.scheduler.address}")
    if not workers:
        return f"running on {where}, which has no workers yet (the images wait for them)"
    return (f"running on {where}: {len(workers)} worker{'s' if len(workers) != 1 else ''}, "
            f"{threads} thread{'s' if threads != 1 else ''}")


# ------------------------------------------------------------------------------------------------------------------
# Tasks streamed back as they finish
# ------------------------------------------------------------------------------------------------------------------


def _outcome(future: Future) -> dict[str, Any]:
    """A finished task's ``{"result": ...}`` or ``{"error": sentence}``; a dropped task stops the batch."""
    from distributed import CancelledError, KilledWorker

    try:
        return future.result()
    except KilledWorker as err:
        tries = getattr(err, "allowed_failures", -2) + 1
        times = f" {tries} time{'s' if tries != 1 else ''}" if tries > 0 else ""
        return {"error": f"The Dask workers running it died{times}, so the scheduler gave up on it (is it too large "
                         "for their memory?)."}
    except CancelledError:
        raise JndViewerError("The Dask cluster dropped the work (did the scheduler stop?); the finished results "
                             "are kept, and running the command again resumes.") from None
    except Exception as err:  # the task raised on the worker, RETRIES + 1 times
        return {"error": f"It failed on the Dask cluster ({type(err).__name__}: {err})."}


def as_finished(client: Client, function: Callable[..., dict[str, Any]],
                calls: Sequence[tuple[Any, tuple[Any, ...]]]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Submit ``function(*args)`` for each ``(name, args)``; yield ``(name, outcome)`` as each finishes.

    Closing the iterator early (use :func:`contextlib.closing`; Ctrl-C, SIGTERM turned into an exception, a failing
    caller) cancels the tasks not finished, so that an existing cluster does not go on working for nobody.
    """
    from distributed import as_completed

    if not calls:
        return
    token = _token()
    keys = [f"jndviewer-{index}-{token}" for index in range(len(calls))]
    columns = zip(*(args for _, args in calls), strict=True)  # one map: many thousand tasks sent at once
    futures = dict(zip(client.map(function, *columns, key=keys, retries=RETRIES), (name for name, _ in calls),
                       strict=True))
    try:
        for future in as_completed(futures, loop=client.loop):
            name = futures.pop(future)
            outcome = _outcome(future)
            future.release()  # the scheduler forgets the result: nothing piles up in the workers' memory
            yield name, outcome
    finally:
        if futures:
            with contextlib.suppress(Exception):
                client.cancel(list(futures), force=True)


def _token() -> str:
    import uuid

    return uuid.uuid4().hex[:12]


def run_dask_batch(
    client: Client,
    images: Sequence[Path],
    codec_spec: str,
    predictor_name: str,
    options: dict[str, Any],
    *,
    condition: ViewingCondition | None = None,
    jobs: int = 1,
    done: set[str],
    on_result: Callable[[dict[str, Any]], None],
    on_error: Callable[[str, str], None],
    progress: Callable[[], None] | None = None,
    max_pixels: int | None = None,
) -> None:
    """:func:`jndviewer.core.batch.run_batch` on a Dask cluster: every image whose resolved path is not in ``done``
    is one task, delivered as it finishes. ``jobs`` is not used (the cluster's workers are the parallelism)."""
    pending = [given for given, resolved in unique_images(images) if resolved not in done]
    if not pending:
        return
    condition = condition or ViewingCondition()
    info, _ = check_request(predictor_name, options, condition)  # a bad option or condition: one sentence, at once
    where = condition.to_dict()

    calls = [(path, (path, codec_spec, info, options, where, max_pixels)) for path in pending]
    with contextlib.closing(as_finished(client, predict_one, calls)) as finished:
        for path, outcome in finished:
            if "error" in outcome:
                on_error(path, outcome["error"])
            else:
                on_result(outcome["result"])
            if progress is not None:
                progress()


# ------------------------------------------------------------------------------------------------------------------
# Export: predicted and encoded on the workers, written by the calling process
# ------------------------------------------------------------------------------------------------------------------


def export_one(path: str, codec_spec: str, predictor: PredictorInfo, options: dict[str, Any],
               condition: dict[str, Any], max_pixels: int | None = None, decoded: bool = False) -> dict[str, Any]:
    """Predict one image and encode it at its PW-JND (:func:`jndviewer.core.batch.file_at_level`; runs on a worker);
    ``{"result": dict, "data": bytes, "metadata_kept": bool}`` or ``{"error": sentence}``."""
    from jndviewer.core.batch import file_at_level
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import load

    try:
        image = load(path, max_pixels=max_pixels)
        codec = create_codec(codec_spec, max_pixels=max_pixels)
        model = create_predictor(predictor, options, condition=ViewingCondition.from_dict(condition))
        result = model.predict(image, codec, name=path)
        data, kept = file_at_level(image, codec, result.level, decoded=decoded)
        return {"result": result.to_dict(), "data": data, "metadata_kept": kept}
    except JndViewerError as err:
        return {"error": str(err)}


def export_on(target: DaskTarget, images: Sequence[Path], targets: Sequence[Path], request: WorkerRequest | None,
              max_pixels: int | None, say: Callable[[str], None]) -> Iterator[tuple[Path, Path, Any]]:
    """``export`` on the target: ``(image, written target, PWJND or the JndViewerError it failed with)`` as each
    finishes there (connected first; one sentence when it cannot be). Closing the iterator cancels what is not
    finished and closes the connection (and a LocalCluster)."""
    from jndviewer.core.batch import write_encoded

    if request is None:
        raise JndViewerError("An export on Dask needs the request its workers make their codec and predictor from.")
    info, _ = check_request(request.predictor, request.options, request.condition)
    where = request.condition.to_dict()
    calls = [(i, (str(path), request.codec_spec, info, request.options, where, max_pixels, request.decoded))
             for i, path in enumerate(images)]
    with connected(target, say) as client, contextlib.closing(as_finished(client, export_one, calls)) as finished:
        for index, outcome in finished:
            path, written = images[index], targets[index]
            try:
                if "error" in outcome:
                    raise JndViewerError(outcome["error"])
                write_encoded(outcome["data"], outcome["metadata_kept"], outcome["result"], written, path)
            except JndViewerError as err:
                yield path, written, err
                continue
            yield path, written, PWJND.from_dict(outcome["result"])


__all__ = ["DaskTarget", "WorkerRequest", "as_finished", "connected", "dask_client", "dask_setup", "describe",
           "export_on", "export_one", "require_dask", "run_dask_batch", "runner"]
