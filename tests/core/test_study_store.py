"""The study database: round trips, migrations, refusals, resuming, threads, and no answer lost to ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    BINARY_SEARCH,
    CATCH_SAME,
    FLICKER_ADJUSTMENT,
    RunResult,
    RunSpec,
    ScreenGeometry,
    StudyConditions,
    StudyItem,
    Trial,
)
from jndviewer.core.study.store import MIGRATIONS, SCHEMA_VERSION, StudyStore, default_database

ITEM = StudyItem("kodim04-face", "package:kodim04-face.png", "jpeg", tuple(range(1, 101)), "higher", "kodim04")
OTHER = StudyItem("b", "/images/b.png", "webp", (10, 20, 30, 40), "higher", "b", (0, 0, 64, 48))
CONDITIONS = StudyConditions("flicker", 600.0, 0.25, 342.4, ScreenGeometry("DP-1", 2560, 1440, 1.25, 144.0))
PLAN = (RunSpec(ITEM, start=3), RunSpec(OTHER), RunSpec(ITEM, CATCH_SAME))


def _one_sentence(error: pytest.ExceptionInfo[JndViewerError]) -> str:
    text = str(error.value)
    assert text.endswith(".") and "\n" not in text, text
    return text


def _trial(run: int, index: int, trace: bool = False) -> Trial:
    points = tuple((0.05 * i, 50 + i % 7) for i in range(200)) if trace else ()
    return Trial(run, index, 40 + index, "different" if index % 2 else "same", None if index % 3 else bool(index % 2),
                 1.5 * index, 1.5 * index + 0.75, points, {"bounds": [0, 99], "interval": index % 2 + 1})


def _result(session: str, run_index: int, critical: int | None, correct: bool | None = None) -> RunResult:
    spec = PLAN[run_index]
    return RunResult(session, "obs-01", run_index, spec.item, spec.kind, FLICKER_ADJUSTMENT, "flicker", CONDITIONS.ppd,
                     critical, correct, {"reversals": 3})


def test_session_trials_runs_and_events_round_trip(tmp_path: Path) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store:
        assert store.version == SCHEMA_VERSION
        session = store.start_session("obs-01", FLICKER_ADJUSTMENT, "default", 1234, CONDITIONS, list(PLAN),
                                      {"rest_every": 20})
        trials = [_trial(0, 0, trace=True), _trial(0, 1), _trial(1, 0), _trial(1, 1)]
        store.record_trial(session, trials[0])
        store.record_trial(session, trials[1], _result(session, 0, 37))
        store.record_trial(session, trials[2])
        store.record_trial(session, trials[3], _result(session, 1, None))
        store.add_event(session, "rest", {"seconds": 30})
    with StudyStore(tmp_path / "study.sqlite") as store:  # a new connection reads what the first one wrote
        info = store.session(session)
        assert (info.observer, info.protocol, info.study_set, info.seed) == ("obs-01", FLICKER_ADJUSTMENT, "default",
                                                                             1234)
        assert info.conditions == CONDITIONS and info.plan == PLAN
        assert info.options == {"rest_every": 20} and info.runs_done == 2 and info.finished is None
        assert store.trials(session) == trials
        assert store.trials(session, run_index=1) == trials[2:]
        results = store.run_results(session)
        assert [(r.run_index, r.critical_level, r.item) for r in results] == [(0, 37, ITEM), (1, None, OTHER)]
        assert results[0] == _result(session, 0, 37)
        assert [(kind, detail) for _, kind, detail in store.events(session)] == [("rest", {"seconds": 30})]
        assert store.observers() == ["obs-01"]
        store.finish_session(session)
        assert store.session(session).finished is not None
        with pytest.raises(JndViewerError) as error:
            store.session("nope")
        _one_sentence(error)


def test_resume_lists_unfinished_sessions_and_their_runs(tmp_path: Path) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store:
        done = store.start_session("obs-01", BINARY_SEARCH, "default", 1, CONDITIONS, PLAN)
        store.record_trial(done, _trial(0, 0), _result(done, 0, 60))
        store.finish_session(done)
        open_one = store.start_session("obs-01", BINARY_SEARCH, "default", 2, CONDITIONS, PLAN)
        store.record_trial(open_one, _trial(0, 0), _result(open_one, 0, 55))
        store.record_trial(open_one, _trial(1, 0))
        other = store.start_session("obs-02", BINARY_SEARCH, "default", 3, CONDITIONS, PLAN)
        unfinished = store.sessions(observer="obs-01", unfinished=True)
        assert [s.session_id for s in unfinished] == [open_one]
        assert unfinished[0].runs_done == 1 and unfinished[0].seed == 2  # resume at run 1 with the same plan
        assert [s.session_id for s in store.sessions(unfinished=True)] == [open_one, other]
        assert [r.critical_level for r in store.run_results(open_one)] == [55]
        assert len(store.trials(open_one, run_index=1)) == 1  # the half-done run's answers are kept
        assert {r.session_id for r in store.run_results(include_unfinished_sessions=False)} == {done}
        assert {r.session_id for r in store.run_results()} == {done, open_one}


@pytest.mark.parametrize("observer", ["", "Jane Doe", "a" * 41, "-lead", "name@example.org", "émile"])
def test_observer_ids_are_pseudonyms(tmp_path: Path, observer: str) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store, pytest.raises(JndViewerError, match="pseudonym") as error:
        store.start_session(observer, BINARY_SEARCH, "default", 1, CONDITIONS, PLAN)
    _one_sentence(error)


def test_good_observer_ids(tmp_path: Path) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store:
        for observer in ("obs-01", "P7", "a" * 40, "x_y.z"):
            store.start_session(observer, BINARY_SEARCH, "default", 1, CONDITIONS, PLAN)
        assert sorted(store.observers()) == sorted(["obs-01", "P7", "a" * 40, "x_y.z"])


def test_a_failed_write_is_one_sentence_and_rolled_back(tmp_path: Path) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store:
        session = store.start_session("obs-01", BINARY_SEARCH, "default", 1, CONDITIONS, PLAN)
        store.record_trial(session, _trial(0, 0))
        store.record_trial(session, _trial(0, 1), _result(session, 0, 5))
        with pytest.raises(JndViewerError, match="could not be written") as error:  # run 0 is already finished
            store.record_trial(session, _trial(0, 2), _result(session, 0, 9))
        _one_sentence(error)
        # The trial and the run's result are one transaction: the trial written before the failure is gone too.
        assert [t.trial_index for t in store.trials(session)] == [0, 1]
        assert store.run_results(session)[0].critical_level == 5
        store.record_trial(session, _trial(1, 0))  # the store is still usable
        assert len(store.trials(session)) == 3


def test_threads_share_one_store(tmp_path: Path) -> None:
    with StudyStore(tmp_path / "study.sqlite") as store:
        session = store.start_session("obs-01", BINARY_SEARCH, "default", 1, CONDITIONS, PLAN)
        errors: list[BaseException] = []

        def write(run: int) -> None:
            try:
                for index in range(25):
                    store.record_trial(session, _trial(run, index))
                    store.add_event(session, "tick", {"run": run})
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=write, args=(run,)) for run in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors and len(store.trials(session)) == 75 and len(store.events(session)) == 75


# --- migrations and refusals ---------------------------------------------------------------------------------------


def _version_1_database(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO observers VALUES ('obs-01', '2024-01-01T00:00:00.000+00:00')")
    plan = json.dumps([{"item": ITEM.to_dict(), "kind": "test", "start": 0}])
    db.execute("INSERT INTO sessions VALUES ('s1', 'obs-01', ?, 'default', 7, ?, ?, '2024-01-01T00:00:01.000+00:00', "
               "NULL)", (BINARY_SEARCH, json.dumps(CONDITIONS.to_dict()), plan))
    for index in range(3):
        db.execute("INSERT INTO trials VALUES ('s1', 0, ?, 50, 'same', NULL, 1.0, 2.0, '[]', '{}', 'now')", (index,))
    db.execute("INSERT INTO runs VALUES ('s1', 0, 42, NULL, '{}', 'now')")
    db.execute("COMMIT")
    db.close()


def test_version_1_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _version_1_database(path)
    with StudyStore(path) as store:
        assert store.version == SCHEMA_VERSION == 2
        (info,) = store.sessions()
        assert info.session_id == "s1" and info.options == {} and info.plan == (RunSpec(ITEM),)
        assert len(store.trials("s1")) == 3 and store.run_results("s1")[0].critical_level == 42
        store.add_event("s1", "resume")  # the version-2 table is there
        store.record_trial("s1", _trial(0, 3))
    with StudyStore(path) as store:  # opening again migrates nothing and keeps everything
        assert store.version == 2 and len(store.trials("s1")) == 4 and len(store.events("s1")) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite"
    with StudyStore(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JndViewerError, match="newer jndviewer") as error:
        StudyStore(path)
    _one_sentence(error)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    with pytest.raises(JndViewerError, match="not a jndviewer study database") as error:
        StudyStore(path)
    _one_sentence(error)
    assert path.read_bytes() == b"These are my notes, not a database.\n" * 200


def test_another_sqlite_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(JndViewerError, match="not a jndviewer study database") as error:
        StudyStore(path)
    _one_sentence(error)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is the Linux convention")
def test_default_database_honours_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_database() == tmp_path / "data" / "jndviewer" / "study.sqlite"
    with StudyStore() as store:
        assert store.path == default_database() and store.path.is_file()


# --- kill -9 ---------------------------------------------------------------------------------------------------------

WRITER = """
import sys
from jndviewer.core.study.model import RunResult, RunSpec, StudyConditions, StudyItem, Trial
from jndviewer.core.study.store import StudyStore

item = StudyItem("a", "package:kodim04-face.png", "jpeg", tuple(range(1, 101)))
conditions = StudyConditions("flicker", 600.0, 0.25)
store = StudyStore(sys.argv[1])
session = store.start_session("obs-kill", "flicker-adjustment", "default", 1, conditions, [RunSpec(item)] * 10000)
print("session", session, flush=True)
for index in range(100000):
    run, step = divmod(index, 5)
    trace = tuple((0.02 * i, i % 100) for i in range(200))
    result = RunResult(session, "obs-kill", run, item, "test", "flicker-adjustment", "flicker", 40.0, 50) \\
        if step == 4 else None
    store.record_trial(session, Trial(run, step, 50, "visible", None, 1.0, 2.0, trace, {"i": index}), result)
    print(index, flush=True)
"""


def test_no_confirmed_answer_is_lost_to_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "study.sqlite"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=Path(__file__).resolve().parents[2],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    confirmed: list[int] = []
    session = ""
    deadline = time.monotonic() + 120
    try:
        while len(confirmed) < 30 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("session"):
                session = line.split()[1]
            else:
                confirmed.append(int(line))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        stderr = child.stderr.read()
        child.stdout.close()
        child.stderr.close()
    assert len(confirmed) >= 30, f"the writer confirmed {len(confirmed)} trials\n{stderr}"
    assert child.returncode == -signal.SIGKILL
    db = sqlite3.connect(path)  # recovery from the WAL happens here
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with StudyStore(path) as store:
        stored = {trial.extra["i"] for trial in store.trials(session)}
        assert set(confirmed) <= stored and len(stored) >= len(confirmed)
        finished_runs = {index // 5 for index in confirmed if index % 5 == 4}
        assert finished_runs <= {result.run_index for result in store.run_results(session)}
        assert store.sessions(unfinished=True)[0].runs_done >= len(finished_runs)
