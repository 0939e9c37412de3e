"""The view state, the job runners and the small pure helpers, without a window."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")
pytest.importorskip("pytestqt", reason="PySide6 and pytest-qt are not installed: the GUI tests need Qt")

from PySide6.QtCore import QSettings, QThreadPool

from jndviewer.app.modes import CompareMode, WipeStop
from jndviewer.app.state import ViewState
from jndviewer.app.workers import JobRunner, Notifier
from jndviewer.core.errors import JndViewerError


def test_modes_have_unique_one_key_shortcuts() -> None:
    keys = [m.key for m in CompareMode] + [s.key for s in WipeStop]
    assert len(set(keys)) == len(keys) and all(len(k) == 1 for k in keys)
    assert [m.key for m in CompareMode] == ["O", "D", "S", "W", "F", "X", "V", "J"]
    assert CompareMode.from_token("wipe") is CompareMode.WIPE
    assert CompareMode.from_token("nonsense") is CompareMode.SIDE_BY_SIDE


def test_state_signals_fire_once_per_real_change(app) -> None:
    state = ViewState()
    seen: list[object] = []
    state.mode_changed.connect(seen.append)
    state.wipe_changed.connect(seen.append)
    state.mode = CompareMode.WIPE
    state.mode = CompareMode.WIPE
    state.wipe = 0.25
    state.wipe = 7.0  # clamped
    state.wipe = 1.0
    assert seen == [CompareMode.WIPE, 0.25, 1.0]
    state.ppd = 1.0
    assert state.ppd == 5.0  # lower end of the supported range


def test_state_round_trips_through_settings(app, tmp_path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    state = ViewState()
    state.mode, state.codec, state.ppd, state.threshold = CompareMode.FLICKER, "webp", 52.5, 0.9
    state.model_params = {"border": "zero"}
    state.save(settings)
    settings.sync()
    restored = ViewState()
    restored.restore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert restored.as_dict() == state.as_dict() | {"image_path": "", "level": None}
    settings.setValue("state/ppd", "not a number")
    settings.setValue("state/jnd_model", "unknown-model")
    fallback = ViewState()
    fallback.restore(settings)
    assert fallback.ppd == ViewState.defaults()["ppd"] and fallback.jnd_model == ViewState.defaults()["jnd_model"]


@pytest.fixture
def runner(app):
    pool = QThreadPool()
    pool.setMaxThreadCount(2)  # a superseded job may still run while the next one does
    notifier = Notifier()
    messages: list[str] = []
    notifier.message.connect(lambda level, text: messages.append(text))
    job_runner = JobRunner("test", pool, notifier)
    job_runner.messages = messages
    yield job_runner
    job_runner.cancel()
    assert pool.waitForDone(5000)


def test_a_newer_job_supersedes_the_older_one(runner, qtbot) -> None:
    release = threading.Event()
    results: list[object] = []
    runner.finished.connect(results.append)

    def slow(context, value):
        release.wait(5)
        return value

    runner.submit(slow, "old")
    runner.submit(lambda context: "new")
    qtbot.waitUntil(lambda: results == ["new"])
    release.set()
    qtbot.waitUntil(lambda: runner.in_flight == 0)
    qtbot.wait(50)
    assert results == ["new"] and not runner.busy


def test_generator_jobs_stream_partial_results(runner, qtbot) -> None:
    partial: list[int] = []
    progress: list[tuple[int, int, str]] = []
    runner.partial.connect(partial.append)
    runner.progress.connect(lambda *args: progress.append(args))

    def stream(context):
        for index in range(5):
            context.progress(index + 1, 5, "step")
            yield index * index

    with qtbot.waitSignal(runner.finished):
        runner.submit(stream)
    assert partial == [0, 1, 4, 9, 16] and progress[-1] == (5, 5, "step")


def test_errors_become_one_sentence_in_the_notifier(runner, qtbot) -> None:
    failures: list[str] = []
    runner.failed.connect(failures.append)

    def user_error(context):
        raise JndViewerError("The file is not an image.")

    def bug(context):
        raise RuntimeError("boom")

    with qtbot.waitSignal(runner.idle):
        runner.submit(user_error)
    with qtbot.waitSignal(runner.idle):
        runner.submit(bug)
    assert failures == ["The file is not an image.", "test failed unexpectedly (RuntimeError: boom)."]
    assert runner.messages == failures


def test_cancel_drops_the_result(runner, qtbot) -> None:
    results: list[object] = []
    runner.finished.connect(results.append)
    started = threading.Event()

    def job(context):
        started.set()
        while not context.cancelled:
            context.cancel.wait(0.01)
        context.check()
        return "never"

    runner.submit(job)
    started.wait(5)
    with qtbot.waitSignal(runner.idle):
        runner.cancel()
    qtbot.waitUntil(lambda: runner.in_flight == 0)
    assert results == [] and not runner.busy
