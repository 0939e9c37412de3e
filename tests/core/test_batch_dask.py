"""``predict`` and ``export`` on Dask distributed (``--scheduler``, ``--dask-local``): the same results as the local
worker processes, resumed, nothing lost when a worker dies, one sentence when dask is missing or unreachable, and
workers that end with the command.

The cluster tests share one 2-worker LocalCluster on 127.0.0.1 (started as ``--dask-local`` starts it) and reach it
with ``--scheduler``; two tests start their own through ``--dask-local 2``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from jndviewer.cli import main
from jndviewer.core import batch_dask
from jndviewer.core.batch import predict_one
from jndviewer.core.errors import JndViewerError
from jndviewer.core.report import read_document, read_results

#: The training-free predictor: no weights, fast on tiny images.
FAST = ["--codec", "jpeg", "--predictor", "visibility"]
#: The image whose first task kills its worker in the killed-worker tests.
VICTIM = "im02.png"


def _images(folder: Path, count: int, seed: int = 0) -> Path:
    """``count`` small PNGs (a gradient with a noisy patch), named im00.png, im01.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        base = np.linspace(30, 220, 64)[None, :, None] * np.ones((48, 1, 3))
        base[12:36, 16:48] += rng.normal(0, 4 + 8 * (i % 6), (24, 32, 3))  # PW-JNDs from quality 8 to 28
        Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(folder / f"im{i:02d}.png")
    return folder


def _one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("jndviewer: error: ") and "Traceback" not in err
    return lines[0]


def _by_image(path: Path) -> dict[str, dict[str, Any]]:
    """The results of a file by image name: what a prediction decided (its time aside)."""
    return {Path(r.image).name: {"level": r.level, "trace": r.trace, "nbytes": r.nbytes, "bpp": r.bpp,
                                 "psnr": r.psnr, "condition": r.condition, "request": r.request}
            for r in read_results(path)}


def dies_once(path: str, *args: Any) -> dict[str, Any]:
    """:func:`predict_one`, except that the first task of :data:`VICTIM` kills its worker process (it writes the
    worker's pid first); Dask runs it again on a worker that lives."""
    marker = Path(path).with_suffix(".died")
    if Path(path).name == VICTIM and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return predict_one(path, *args)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a 2-worker LocalCluster on 127.0.0.1, started as ``--dask-local 2`` starts it."""
    pytest.importorskip("distributed")
    with batch_dask.dask_client(batch_dask.DaskTarget(local_workers=2)) as client:
        yield client.scheduler.address


# 1. the same results as the local path ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_local_cluster_is_two_single_threaded_processes_on_localhost(scheduler: str) -> None:
    from distributed import Client

    assert scheduler.startswith("tcp://127.0.0.1:")
    with Client(scheduler, set_as_default=False) as client:
        threads = client.nthreads()
        pids = client.run(os.getpid)
        torch_threads = client.run(lambda: __import__("torch").get_num_threads())
        settings = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                                       __import__("dask").config.get("distributed.worker.profile.enabled")))
    assert len(threads) == 2 and set(threads.values()) == {1}
    assert all(address.startswith("tcp://127.0.0.1:") for address in threads)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(torch_threads.values()) == {1}
    assert set(settings.values()) == {(None, False)}  # glibc's allocator defaults, no profiler


@pytest.mark.slow
def test_predict_on_dask_gives_the_local_results_in_input_order(tmp_path: Path, scheduler: str, capsys) -> None:
    images = _images(tmp_path / "images", 5)
    assert main(["predict", str(images), *FAST, "--jobs", "1", "-o", str(tmp_path / "local.json")]) == 0
    assert main(["predict", str(images), *FAST, "--scheduler", scheduler, "-o", str(tmp_path / "dask.json")]) == 0
    err = capsys.readouterr().err
    assert f"running on the Dask scheduler at {scheduler}: 2 workers, 2 threads" in err
    local, dask = _by_image(tmp_path / "local.json"), _by_image(tmp_path / "dask.json")
    assert list(dask) == [f"im{i:02d}.png" for i in range(5)]  # input order, whatever order they finished in
    assert dask == local
    assert len({result["level"] for result in dask.values()}) > 1  # the images differ: a real comparison


@pytest.mark.slow
def test_export_on_dask_writes_the_local_files(tmp_path: Path, scheduler: str) -> None:
    images = _images(tmp_path / "images", 3)
    assert main(["export", str(images), *FAST, "-o", str(tmp_path / "local")]) == 0
    assert main(["export", str(images), *FAST, "--scheduler", scheduler, "-o", str(tmp_path / "dask")]) == 0
    for i in range(3):
        name = f"im{i:02d}.jpg"
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
        here, there = (json.loads((tmp_path / d / f"{name}.json").read_text()) for d in ("local", "dask"))
        assert there["pwjnd"]["level"] == here["pwjnd"]["level"] and there["metadata_kept"] == here["metadata_kept"]
        assert there["output"] == str(tmp_path / "dask" / name)
    # --decoded travels to the workers: the same decoded PNGs as here
    assert main(["export", str(images), *FAST, "--decoded", "-o", str(tmp_path / "local_png")]) == 0
    assert main(["export", str(images), *FAST, "--decoded", "--scheduler", scheduler, "-o",
                 str(tmp_path / "dask_png")]) == 0
    for i in range(3):
        name = f"im{i:02d}.png"
        assert (tmp_path / "dask_png" / name).read_bytes() == (tmp_path / "local_png" / name).read_bytes()
        assert (tmp_path / "dask_png" / name).read_bytes().startswith(b"\x89PNG")


# 2. resumed: done images are skipped ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_resumed_run_predicts_only_what_is_not_done(tmp_path: Path, scheduler: str, capsys) -> None:
    images, output = _images(tmp_path / "images", 3), tmp_path / "r.json"
    assert main(["predict", str(images), *FAST, "--scheduler", scheduler, "-o", str(output)]) == 0
    first = {r.image: r.seconds for r in read_results(output)}
    _images(images, 5)  # two more images; the first three are rewritten identically
    capsys.readouterr()
    assert main(["predict", str(images), *FAST, "--scheduler", scheduler, "-o", str(output)]) == 0
    assert "2 new results (3 already there)" in capsys.readouterr().out
    again = {r.image: r.seconds for r in read_results(output)}
    assert len(again) == 5 and all(again[image] == seconds for image, seconds in first.items())  # not redone
    # a third run has nothing to do, so it does not even connect (this address answers nobody)
    assert main(["predict", str(images), *FAST, "--scheduler", "tcp://127.0.0.1:1", "-o", str(output)]) == 0
    assert "0 new results (5 already there)" in capsys.readouterr().out


# 3. a worker that dies loses no result ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_worker_loses_no_result(tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys) -> None:
    import psutil

    images, output = _images(tmp_path / "images", 6), tmp_path / "r.json"
    monkeypatch.setattr(batch_dask, "predict_one", dies_once)
    assert main(["predict", str(images), *FAST, "--scheduler", scheduler, "-o", str(output)]) == 0
    killed = int((images / VICTIM).with_suffix(".died").read_text())
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    document = json.loads(output.read_text())  # valid JSON
    assert document["errors"] == []
    assert [Path(r["image"]).name for r in document["results"]] == [f"im{i:02d}.png" for i in range(6)]
    assert "6 new results" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_worker_of_dask_local_loses_no_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    images, output = _images(tmp_path / "images", 4), tmp_path / "r.csv"
    monkeypatch.setattr(batch_dask, "predict_one", dies_once)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # (another test's cluster may have set it meanwhile)
    assert main(["predict", str(images), *FAST, "--dask-local", "2", "-o", str(output)]) == 0
    assert "OMP_NUM_THREADS" not in os.environ  # the nannies' settings for their workers are not left behind
    assert (images / VICTIM).with_suffix(".died").is_file()  # it did die once
    results, errors = read_document(output)
    assert sorted(Path(r.image).name for r in results) == [f"im{i:02d}.png" for i in range(4)] and errors == []


@pytest.mark.parametrize(("raised", "line"), [
    ("killed", "The Dask workers running it died 4 times, so the scheduler gave up on it (is it too large for their "
               "memory?)."),
    ("raised", "It failed on the Dask cluster (ModuleNotFoundError: No module named 'jndviewer')."),
])
def test_an_image_that_keeps_failing_on_the_cluster_is_one_error_line(raised: str, line: str) -> None:
    distributed = pytest.importorskip("distributed")

    class Failed:
        def result(self) -> None:
            if raised == "killed":
                raise distributed.KilledWorker("jndviewer-3-abc", None, 3)
            raise ModuleNotFoundError("No module named 'jndviewer'")

    assert batch_dask._outcome(Failed()) == {"error": line}  # type: ignore[arg-type]


def test_a_cluster_that_drops_the_work_stops_the_batch_in_one_sentence() -> None:
    distributed = pytest.importorskip("distributed")

    class Dropped:
        def result(self) -> None:
            raise distributed.CancelledError("jndviewer-3-abc")

    with pytest.raises(JndViewerError, match=r"^The Dask cluster dropped the work .* running the command again "
                                             r"resumes\.$"):
        batch_dask._outcome(Dropped())  # type: ignore[arg-type]


# 4. one sentence when dask is missing or unreachable --------------------------------------------------------------


@pytest.mark.parametrize("command", ["predict", "export"])
@pytest.mark.parametrize("missing", ["dask", "distributed"])
def test_without_dask_it_is_one_sentence_before_any_work(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                         command: str, missing: str) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # import fails as if it were not installed
    images, output = _images(tmp_path / "images", 2), tmp_path / ("r.json" if command == "predict" else "out")
    assert main([command, str(images), *FAST, "--dask-local", "2", "-o", str(output)]) == 2
    line = _one_sentence(capsys.readouterr().err)
    assert "install jndviewer[dask]" in line and f"({missing} is not installed here)" in line
    assert not output.exists()


@pytest.mark.parametrize(("address", "says"), [
    ("tcp://127.0.0.1:1", "Cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 1 s"),
    ("nonsense://here:8786", "--scheduler 'nonsense://here:8786' is not a Dask scheduler address"),
])
def test_an_unreachable_scheduler_is_one_sentence(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                  address: str, says: str) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(batch_dask, "CONNECT_TIMEOUT", 1)
    output = tmp_path / "r.json"
    start = time.monotonic()
    assert main(["predict", str(_images(tmp_path / "images", 2)), *FAST, "--scheduler", address,
                 "-o", str(output)]) == 2
    assert time.monotonic() - start < 30
    assert says in _one_sentence(capsys.readouterr().err)
    assert not output.exists()
    assert main(["export", str(tmp_path / "images"), *FAST, "--scheduler", address, "-o", str(tmp_path / "x")]) == 2
    assert says in _one_sentence(capsys.readouterr().err)


def test_scheduler_and_dask_local_exclude_each_other(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(tmp_path), "--scheduler", "tcp://h:8786", "--dask-local", "2", "-o", "r.json"])
    assert stop.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_command_line_does_not_import_dask() -> None:
    code = ("import sys; from jndviewer.cli import build_parser; build_parser().parse_args(['predict', 'a.png', "
            "'--dask-local', '2', '-o', 'r.json']); print(sorted(m for m in ('dask', 'distributed') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# 5. the command's workers end with it -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_dask_local_run_keeps_the_results_and_ends_the_workers(tmp_path: Path, stop: int) -> None:
    psutil = pytest.importorskip("psutil")
    pytest.importorskip("distributed")
    output, log = tmp_path / "r.json", tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        run = subprocess.Popen([sys.executable, "-m", "jndviewer", "predict", str(_images(tmp_path / "images", 48)),
                                *FAST, "--dask-local", "2", "-o", str(output)], stdout=stderr, stderr=stderr)
    deadline = time.monotonic() + 120
    while not output.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    workers = psutil.Process(run.pid).children(recursive=True)
    run.send_signal(stop)
    try:
        status = run.wait(timeout=60)
    finally:
        _, alive = psutil.wait_procs(workers, timeout=15)
        for process in alive:
            process.kill()
    err = log.read_text()
    assert len(workers) >= 2 and alive == []  # even after kill -9, the workers end with the command
    kept = read_results(output)  # a valid file, whenever the command was stopped
    assert 1 <= len(kept) < 48
    assert "Traceback" not in err
    if stop == signal.SIGTERM:
        assert status == 143, err
        assert f"terminated; the {len(kept)} results finished are kept ({len(kept)} results in the file)" in err
    else:
        assert status == -signal.SIGKILL
