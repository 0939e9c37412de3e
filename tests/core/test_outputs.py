"""What ``predict``, ``export`` and ``ladder`` write: checked before any work, merged under a lock, never lost, never
over an input; resumed by image and condition; workers that end with their parent; exit statuses."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jndviewer.cli import main
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.report import read_results
from tests.toy_predictor import TOY_INFO

psutil = pytest.importorskip("psutil")

FAST = ["--codec", "jpeg", "--jnd-model", "chou1995", "--threshold", "1.5"]


def _image(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    base = np.linspace(30, 220, 64)[None, :, None] * np.ones((48, 1, 3))
    base[12:36, 16:48] += rng.normal(0, 20, (24, 32, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


def _images(folder: Path, count: int, seed: int = 0) -> Path:
    for i in range(count):
        _image(folder / f"im{i:02d}.png", seed + i)
    return folder


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PREDICTORS, TOY_INFO.name, TOY_INFO)


def _one_sentence(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("jndviewer: error: ") and "Traceback" not in err
    return lines[0]


def _limit_memory() -> None:  # a regression must not read /dev/full until the machine runs out of memory
    resource.setrlimit(resource.RLIMIT_DATA, (3 << 29, 3 << 29))


def _cli(*args: str, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jndviewer", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, preexec_fn=_limit_memory)


def _not_glued(err: str) -> None:
    """Every message starts its own line on a terminal (what follows the last carriage return of a line)."""
    for line in err.split("\n"):
        if "jndviewer:" in line:
            assert line.split("\r")[-1].startswith("jndviewer:"), repr(line)


# 1. an output that is not a regular file --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dev-full-link", "fifo", "folder"])
def test_an_output_that_is_not_a_regular_file_is_one_sentence(tmp_path: Path, kind: str) -> None:
    image = _image(tmp_path / "a.png")
    output = tmp_path / "r.json"
    if kind == "dev-full-link":
        output.symlink_to("/dev/full")
    elif kind == "fifo":
        os.mkfifo(output)
    else:
        output.mkdir()
    done = _cli("predict", str(image), *FAST, "--jobs", "1", "-o", str(output), timeout=30)
    assert done.returncode == 2
    assert "regular file" in _one_sentence(done.stderr)
    assert output.is_symlink() if kind == "dev-full-link" else not output.is_file()


def test_an_oversized_results_file_is_not_read(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jndviewer.core.report.MAX_RESULTS_BYTES", 1000)
    output = tmp_path / "r.json"
    output.write_text(json.dumps({"format": "jndviewer.results", "results": [], "pad": "x" * 2000}))
    assert main(["predict", str(_image(tmp_path / "a.png")), *FAST, "--jobs", "1", "-o", str(output)]) == 2
    assert "too large" in _one_sentence(capsys.readouterr().err)


def test_a_symlink_to_a_results_file_is_followed(tmp_path: Path, capsys) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert main(["predict", str(_image(tmp_path / "a.png")), *FAST, "--jobs", "1", "-o", str(link)]) == 0
    assert link.is_symlink() and len(read_results(real)) == 1


# 2. concurrent runs onto one output ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_two_concurrent_runs_keep_all_results(tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"r{suffix}"
    runs = [
        subprocess.Popen([sys.executable, "-m", "jndviewer", "predict", str(_images(tmp_path / name, 6, seed)),
                          *FAST, "--jobs", "1", "-o", str(output)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for name, seed in (("one", 0), ("two", 10))
    ]
    for run in runs:
        _, err = run.communicate(timeout=180)
        assert run.returncode == 0, err
    assert len(read_results(output)) == 12
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [f".r{suffix}.lock", f"r{suffix}"]


def test_every_write_merges_what_another_run_wrote_meanwhile(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, toy
) -> None:
    """A second run that starts, and writes, while the first is between two images keeps the first's results."""
    from jndviewer.core import batch

    output = tmp_path / "r.json"
    one, two = _images(tmp_path / "one", 2), _images(tmp_path / "two", 1, seed=5)
    real = batch.run_batch
    nested: list[int] = []

    def interleaved(*args, on_result, **kwargs):
        def deliver(data):
            on_result(data)
            if not nested:  # between the first run's two images, another run writes its own
                nested.append(-1)
                nested[0] = main(["predict", str(two), "--predictor", "toy", "--jobs", "1", "-o", str(output)])

        return real(*args, on_result=deliver, **kwargs)

    monkeypatch.setattr(batch, "run_batch", interleaved)
    assert main(["predict", str(one), "--predictor", "toy", "--jobs", "1", "-o", str(output)]) == 0
    assert nested == [0]
    assert sorted(Path(r.image).name for r in read_results(output)) == ["im00.png", "im00.png", "im01.png"]


# 3. an unwritable output --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_an_unwritable_output_is_refused_before_any_work(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    from jndviewer.core import batch
    from jndviewer.core.ladder import Ladder

    def no_work(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(batch, "run_batch", no_work)
    monkeypatch.setattr(Ladder, "table", no_work)
    (tmp_path / "file").write_text("")
    folder = Path("/proc") if where == "proc" else tmp_path / "file"
    image = _image(tmp_path / "a.png")
    assert main(["predict", str(image), *FAST, "-o", str(folder / "r.json")]) == 2
    assert "Cannot write" in _one_sentence(capsys.readouterr().err)
    assert main(["ladder", str(image), "--codec", "jpeg", "-o", str(folder / "t.csv")]) == 2
    assert "Cannot write" in _one_sentence(capsys.readouterr().err)


def test_results_are_kept_when_the_output_fails_mid_run(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, toy
) -> None:
    import tempfile

    from jndviewer.core import report

    real = report.write_text_atomic
    output = tmp_path / "out" / "r.json"

    def failing(path, text):
        if Path(path).parent == output.parent:
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(report, "write_text_atomic", failing)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "rescue"))
    (tmp_path / "rescue").mkdir()
    images = _images(tmp_path / "images", 2)
    assert main(["predict", str(images), "--predictor", "toy", "--jobs", "1", "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "No space left on device" in err
    (rescued,) = (tmp_path / "rescue").iterdir()
    assert str(rescued) in err and len(read_results(rescued)) == 2


# 4. workers end with their parent; SIGTERM is Ctrl-C ---------------------------------------------------------------


def _start_batch(tmp_path: Path, count: int = 16) -> tuple[subprocess.Popen, Path, Path]:
    """``predict --jobs 2`` in a process of its own, once its workers have delivered a first result. Its output goes
    to a file, not a pipe, which workers left behind would keep open."""
    output, log = tmp_path / "r.json", tmp_path / "log" / "stderr.txt"
    log.parent.mkdir()
    with log.open("w") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-m", "jndviewer", "predict", str(_images(tmp_path / "images", count)), *FAST,
             "--jobs", "2", "-o", str(output)], stdout=stderr, stderr=stderr, text=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert run.poll() is None, log.read_text()
        try:
            if read_results(output):
                return run, output, log
        except Exception:
            pass
        time.sleep(0.1)
    run.kill()
    pytest.fail("no result within two minutes")


def _gone(processes: list) -> list:
    _, alive = psutil.wait_procs(processes, timeout=10)
    for process in alive:  # do not leave them behind for the next test
        process.kill()
    return alive


@pytest.mark.slow
def test_workers_end_when_the_parent_is_killed(tmp_path: Path) -> None:
    run, _, _ = _start_batch(tmp_path)
    children = psutil.Process(run.pid).children(recursive=True)
    assert len(children) >= 2
    run.kill()
    run.wait(timeout=10)
    assert _gone(children) == []


@pytest.mark.slow
def test_sigterm_keeps_the_finished_results_and_exits_143(tmp_path: Path) -> None:
    run, output, log = _start_batch(tmp_path)
    children = psutil.Process(run.pid).children(recursive=True)
    before = len(read_results(output))
    run.send_signal(signal.SIGTERM)
    try:
        status = run.wait(timeout=30)
    finally:
        alive = _gone([*children, psutil.Process(run.pid)] if run.poll() is None else children)
    err = log.read_text()
    assert status == 143, err
    assert alive == []
    kept = read_results(output)
    assert before <= len(kept) < 16
    assert f"{len(kept)} results in the file" in err and "Traceback" not in err
    _not_glued(err)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [".r.json.lock", "r.json"]


@pytest.fixture
def command_signal_handling() -> Iterator[None]:
    """What a command starts with: Python's Ctrl-C handler and neither signal blocked, whatever an earlier test or
    library left. (Two full runs saw the SIGINT case below not raise at the write's end; never alone. This guard was
    the first guess; a diagnostic full run found both already at their defaults there, so the cause is open.)"""
    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@pytest.mark.usefixtures("command_signal_handling")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_write_waits_for_its_end_while_other_threads_run(signum: int) -> None:
    """The worker pool's threads do not block the signals: the kernel may hand one to them, and Python then runs
    the handler in the main thread, in the middle of a write, unless the write defers it itself."""
    import threading

    from jndviewer.core.outputs import Terminated, _signals_deferred, sigterm_as_interrupt

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    steps = []
    with sigterm_as_interrupt():
        other.start()  # started before the write: its signal mask is the process's
        try:
            with pytest.raises(Terminated if signum == signal.SIGTERM else KeyboardInterrupt):
                with _signals_deferred() as came:
                    os.kill(os.getpid(), signum)
                    deadline = time.monotonic() + 30  # a loaded machine may take long to run the other thread
                    while not came and time.monotonic() < deadline:  # until the signal reached a thread and the
                        time.sleep(0.002)  # handler ran in this one (in the middle of the write: what is tested)
                    assert came == [signum]
                    steps.append("written")
                steps.append("after the write")  # not reached: the signal is raised at the write's end
        finally:
            release.set()
            other.join()
    assert steps == ["written"]


# 5. resume by resolved path and whole condition -------------------------------------------------------------------


def test_resume_matches_the_resolved_image_and_the_whole_condition(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, toy
) -> None:
    image = _image(tmp_path / "a.png")
    output = tmp_path / "r.json"

    def predict(*args: str) -> str:
        assert main(["predict", *args, "--jobs", "1", "-o", str(output)]) == 0
        return capsys.readouterr().out

    assert "(0 already there)" in predict(str(image), *FAST)
    assert "(0 already there)" in predict(str(image), *FAST[:2], "--jnd-model", "chou1995", "--threshold", "2")
    assert "(0 already there)" in predict(str(image), "--codec", "webp", "--jnd-model", "chou1995",
                                          "--threshold", "1.5")
    assert "(0 already there)" in predict(str(image), *FAST, "--ppd", "60")
    assert "(0 already there)" in predict(str(image), *FAST, "--task", "flicker")
    assert "(0 already there)" in predict(str(image), "--predictor", "toy")
    assert len(read_results(output)) == 6
    monkeypatch.chdir(tmp_path)
    assert "(1 already there)" in predict("a.png", "./a.png", str(image), *FAST)
    assert "(1 already there)" in predict("a.png", "--predictor", "toy")
    assert len(read_results(output)) == 6


def test_one_file_under_three_spellings_is_one_row(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                   toy) -> None:
    image = _image(tmp_path / "sub" / "a.png")
    monkeypatch.chdir(tmp_path)
    args = ["sub/a.png", "./sub/../sub/a.png", str(image), "--predictor", "toy", "--jobs", "1", "-o", "r.csv"]
    assert main(["predict", *args]) == 0
    assert len(read_results(tmp_path / "r.csv")) == 1
    assert main(["predict", *args]) == 0
    assert "(1 already there)" in capsys.readouterr().out
    assert len(read_results(tmp_path / "r.csv")) == 1


# 6. export never writes over its input ----------------------------------------------------------------------------


def test_export_refuses_to_write_over_its_input(tmp_path: Path, capsys) -> None:
    source = tmp_path / "self.jpg"
    Image.open(_image(tmp_path / "a.png")).save(source, quality=98)
    original = source.read_bytes()
    assert main(["export", str(source), *FAST, "-o", str(source)]) == 2
    assert "input" in _one_sentence(capsys.readouterr().err)
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "b.jpg").write_bytes(original)
    assert main(["export", str(folder), *FAST, "-o", str(tmp_path / "set" / ".." / "set")]) == 2
    assert "input" in _one_sentence(capsys.readouterr().err)
    assert source.read_bytes() == original and (folder / "b.jpg").read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == ["b.jpg"]


def test_export_decoded_writes_the_decoded_pixels_at_the_jnd_as_png(tmp_path: Path, capsys) -> None:
    from jndviewer.core.codecs import create_codec

    images = _images(tmp_path / "set", 2)
    assert main(["export", str(images), *FAST, "--decoded", "-o", str(tmp_path / "jnd")]) == 0
    written = sorted((tmp_path / "jnd").glob("*.png"))
    assert [p.stem for p in written] == sorted(p.stem for p in images.iterdir())
    codec = create_codec("jpeg")
    for path in written:
        level = json.loads(path.with_name(path.name + ".json").read_text())["pwjnd"]["level"]
        source = np.asarray(Image.open(images / path.name).convert("RGB"))
        with Image.open(path) as image:
            assert image.format == "PNG"
            np.testing.assert_array_equal(np.asarray(image), codec.encode(source, level).decoded)
    assert not list((tmp_path / "jnd").glob("*.part"))  # written through a temporary name, none left behind
    capsys.readouterr()
    single = images / sorted(p.name for p in images.iterdir())[0]
    assert main(["export", str(single), *FAST, "--decoded", "-o", str(tmp_path / "one.jpg")]) == 2
    assert "one.png" in _one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "one.jpg").exists()
    # The learned codecs' bitstream is no image: a .png name without --decoded would mislabel it.
    assert main(["export", str(single), "--codec", "autoencoder", "-o", str(tmp_path / "two.png")]) == 2
    assert "--decoded" in _one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "two.png").exists()


# 7. a results file that is not ours -------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["[]", '["x"]', "{", '{"format": "other"}', '{"format": "jndviewer.results", '
                                     '"results": [1]}', "\x00\x01binary", '"text"'])
def test_an_unreadable_results_file_is_one_sentence(tmp_path: Path, capsys, content: str) -> None:
    output = tmp_path / "r.json"
    output.write_text(content)
    assert main(["predict", str(_image(tmp_path / "a.png")), *FAST, "--jobs", "1", "-o", str(output)]) == 2
    assert "r.json" in _one_sentence(capsys.readouterr().err)
    assert output.read_text() == content


# 13. exit statuses ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [["--codec", "foo"], ["--codec", "folder:/nowhere/at/all"]])
def test_a_usage_error_exits_2_before_any_work_and_writes_nothing(tmp_path: Path, capsys, bad: list[str]) -> None:
    images = _images(tmp_path / "images", 3)
    output = tmp_path / "out" / "r.json"
    assert main(["predict", str(images), "--jobs", "1", *bad, "-o", str(output)]) == 2
    _one_sentence(capsys.readouterr().err)
    assert not output.parent.exists()
    assert main(["export", str(images), "--jobs", "1", *bad, "-o", str(tmp_path / "exported")]) == 2
    _one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "exported").exists()


def test_a_batch_where_some_images_failed_exits_1_and_says_how_many(tmp_path: Path, capsys, toy) -> None:
    images = _images(tmp_path / "images", 2)
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    output = tmp_path / "r.json"
    assert main(["predict", str(images), "--predictor", "toy", "--jobs", "1", "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert "1 of 3 images failed" in err
    _not_glued(err)
    assert len(read_results(output)) == 2
    exported = tmp_path / "exported"
    assert main(["export", str(images), "--predictor", "toy", "-o", str(exported)]) == 1
    err = capsys.readouterr().err
    assert "1 of 3 images failed" in err
    _not_glued(err)
    (images / "broken.png").unlink()
    assert main(["predict", str(images), "--predictor", "toy", "--jobs", "1", "-o", str(output)]) == 0


def test_an_interrupt_is_not_glued_to_the_progress_bar(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                       toy) -> None:
    from jndviewer.core import batch

    real = batch.run_batch

    def interrupted(*args, progress, **kwargs):
        def step():
            progress()
            raise KeyboardInterrupt

        return real(*args, progress=step, **kwargs)

    monkeypatch.setattr(batch, "run_batch", interrupted)
    output = tmp_path / "r.json"
    assert main(["predict", str(_images(tmp_path / "images", 3)), "--predictor", "toy", "--jobs", "1",
                 "-o", str(output)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err
    _not_glued(err)
    assert len(read_results(output)) == 1


def test_an_interrupt_before_any_result_says_nothing_was_written(tmp_path: Path, capsys,
                                                                  monkeypatch: pytest.MonkeyPatch, toy) -> None:
    from jndviewer.core import batch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", interrupted)
    output = tmp_path / "r.json"
    assert main(["predict", str(_images(tmp_path / "images", 2)), "--predictor", "toy", "--jobs", "1",
                 "-o", str(output)]) == 130
    captured = capsys.readouterr()
    assert not output.exists() and "wrote" not in captured.out
    assert f"nothing written to {output}: no result finished" in captured.err


def test_a_broken_image_in_a_batch_is_named_once_and_the_counts_read_well(tmp_path: Path, capsys) -> None:
    good = _image(tmp_path / "good.png")
    broken = tmp_path / "trunc.png"
    broken.write_bytes(good.read_bytes()[:200])
    assert main(["predict", str(good), str(broken), *FAST, "-o", str(tmp_path / "r.json")]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "trunc.png" in line]
    assert len(lines) == 1 and lines[0].count("trunc.png") == 1 and "truncated or corrupt" in lines[0]
    assert f"{broken} is truncated" in lines[0]  # the path as given, to find the file by
    assert "1 error;" in captured.out and "1 errors" not in captured.out
    assert "1 new result (0 already there)" in captured.out and "1 result in the file" in captured.out
    folder = tmp_path / "set"
    folder.mkdir()
    for image in (good, broken):
        image.rename(folder / image.name)
    assert main(["export", str(folder), *FAST, "-o", str(tmp_path / "out")]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if "trunc.png" in line]
    assert len(lines) == 1 and lines[0].count("trunc.png") == 1
