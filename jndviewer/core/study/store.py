"""The study database: every answer on disk before the next trial is shown.

SQLite (the standard :mod:`sqlite3`) in WAL mode with ``synchronous=FULL``: one transaction per answered trial (the
trial, and the run's result when the trial ends a run), so a crash or ``kill -9`` loses at most the trial on screen.
The schema carries its version in ``PRAGMA user_version`` and is brought up to date by :data:`MIGRATIONS` when a
database is opened. The default database lives under the user data directory (:func:`default_database`, from
``platformdirs``; ``XDG_DATA_HOME`` moves it on Linux). Observers are pseudonymous IDs chosen by the person running
the study; nothing else about them is stored.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError
from jndviewer.core.study.model import (
    RunResult,
    RunSpec,
    SessionInfo,
    StudyConditions,
    StudyItem,
    Trial,
)

#: The file name of the default database under the user data directory.
DATABASE_NAME = "study.sqlite"
#: Observer IDs are pseudonyms: letters, digits, ``-``, ``_`` and ``.``, 1-40 characters.
OBSERVER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def default_database() -> Path:
    """The study database of this user (``<user data dir>/jndviewer/study.sqlite``)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("jndviewer", appauthor=False)) / DATABASE_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _run(db: sqlite3.Connection, script: str) -> None:
    """Run the statements of a migration inside the caller's transaction (``executescript`` would commit it)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _run(db, """
        CREATE TABLE observers (id TEXT PRIMARY KEY, created TEXT NOT NULL);
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY, observer TEXT NOT NULL REFERENCES observers(id), protocol TEXT NOT NULL,
            study_set TEXT NOT NULL, seed INTEGER NOT NULL, conditions TEXT NOT NULL, plan TEXT NOT NULL,
            started TEXT NOT NULL, finished TEXT);
        CREATE TABLE trials (
            session TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL, trial_index INTEGER NOT NULL,
            level INTEGER, response TEXT NOT NULL, correct INTEGER, presented_at REAL, answered_at REAL,
            trace TEXT NOT NULL, extra TEXT NOT NULL, written TEXT NOT NULL,
            PRIMARY KEY (session, run_index, trial_index));
        CREATE TABLE runs (
            session TEXT NOT NULL REFERENCES sessions(id), run_index INTEGER NOT NULL, critical_level INTEGER,
            correct INTEGER, details TEXT NOT NULL, finished TEXT NOT NULL, PRIMARY KEY (session, run_index));
        """)


def _v2(db: sqlite3.Connection) -> None:
    """Version 2: the session's options (rest interval, flicker timing, ...) and a table of session events (rests,
    resumes, refusals), so that what happened around the answers is kept too."""
    _run(db, """
        ALTER TABLE sessions ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE events (
            session TEXT NOT NULL REFERENCES sessions(id), at TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX trials_by_session ON trials (session, run_index);
        """)


#: Schema migrations in order: ``MIGRATIONS[i]`` brings a database from version i to i + 1.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


class StudyStore:
    """One study database (created and migrated on open).

    Every write is its own transaction, committed before the call returns; reads see everything written before.
    One store may be shared by threads (its writes take turns); a failed write is rolled back and raised as a
    :class:`JndViewerError`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_database()
        # One connection shared by the threads that write (check_same_thread=False): the lock keeps each
        # transaction whole, since two threads interleaving BEGIN ... COMMIT on one connection would fail or mix.
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
            # Refuse other files before switching to WAL: the journal mode is stored in the file, so setting it
            # would change someone else's SQLite database.
            self._check_schema()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException as error:
            if self._db is not None:
                self._db.close()
            if isinstance(error, sqlite3.DatabaseError):
                raise JndViewerError(f"{self.path} is not a jndviewer study database ({error}).") from None
            if isinstance(error, OSError):
                raise JndViewerError(f"The study database {self.path} cannot be opened ({error.strerror}).") from None
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _check_schema(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise JndViewerError(f"{self.path} was written by a newer jndviewer (schema {version}); update jndviewer.")
        if version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise JndViewerError(f"{self.path} is an SQLite database, but not a jndviewer study database.")

    def _migrate(self) -> None:
        for target in range(self.version, SCHEMA_VERSION):
            with self._transaction():
                MIGRATIONS[target](self._db)
                self._db.execute(f"PRAGMA user_version = {target + 1}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failed one (including a failed COMMIT) is rolled back and reported in one
        sentence."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as error:
                if self._db.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                    self._db.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise JndViewerError(f"The study database {self.path} could not be written ({error}).") from error
                raise

    # --- writing ------------------------------------------------------------------------------------------------

    def start_session(
        self, observer: str, protocol: str, study_set: str, seed: int, conditions: StudyConditions,
        plan: list[RunSpec] | tuple[RunSpec, ...], options: dict[str, Any] | None = None,
    ) -> str:
        """Record a new session (and its observer, the first time) and return its id."""
        if not OBSERVER_ID.match(observer):
            raise JndViewerError(f"Observer ID {observer!r} is not a pseudonym of 1-40 letters, digits, '-', '_' or "
                                 f"'.'; do not use a person's name.")
        session_id = uuid.uuid4().hex[:12]
        plan_json = json.dumps([{"item": r.item.to_dict(), "kind": r.kind, "start": r.start} for r in plan])
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO observers VALUES (?, ?)", (observer, _now()))
            db.execute(
                "INSERT INTO sessions (id, observer, protocol, study_set, seed, conditions, plan, started, options) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, observer, protocol, study_set, int(seed), json.dumps(conditions.to_dict()), plan_json,
                 _now(), json.dumps(options or {})),
            )
        return session_id

    def record_trial(self, session_id: str, trial: Trial, run: RunResult | None = None) -> None:
        """Store one answered trial, and the run's result when the trial finished the run, in one transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, trial.run_index, trial.trial_index, trial.level, trial.response,
                 None if trial.correct is None else int(trial.correct), trial.presented_at, trial.answered_at,
                 json.dumps([list(p) for p in trial.trace]), json.dumps(trial.extra), _now()),
            )
            if run is not None:
                db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                    (session_id, run.run_index, run.critical_level, None if run.correct is None else int(run.correct),
                     json.dumps(run.details), _now()),
                )

    def add_event(self, session_id: str, kind: str, detail: dict[str, Any] | None = None) -> None:
        """Note something that happened in a session (a rest, a resume, a refusal)."""
        with self._transaction() as db:
            db.execute("INSERT INTO events VALUES (?, ?, ?, ?)", (session_id, _now(), kind, json.dumps(detail or {})))

    def finish_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE sessions SET finished = ? WHERE id = ?", (_now(), session_id))

    # --- reading ------------------------------------------------------------------------------------------------

    def session(self, session_id: str) -> SessionInfo:
        row = self._db.execute(
            "SELECT id, observer, protocol, study_set, seed, conditions, plan, started, finished, options, "
            "(SELECT count(*) FROM runs WHERE runs.session = sessions.id) FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise JndViewerError(f"There is no session {session_id!r} in {self.path}.")
        return _session(row)

    def sessions(self, observer: str | None = None, unfinished: bool = False) -> list[SessionInfo]:
        """Sessions in the order they started (of one observer; only those not finished)."""
        query = ("SELECT id, observer, protocol, study_set, seed, conditions, plan, started, finished, options, "
                 "(SELECT count(*) FROM runs WHERE runs.session = sessions.id) FROM sessions WHERE 1")
        arguments: list[Any] = []
        if observer is not None:
            query += " AND observer = ?"
            arguments.append(observer)
        if unfinished:
            query += " AND finished IS NULL"
        return [_session(row) for row in self._db.execute(query + " ORDER BY started, rowid", arguments)]

    def observers(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM observers ORDER BY created, id")]

    def trials(self, session_id: str, run_index: int | None = None) -> list[Trial]:
        """A session's answered trials in order (of one run)."""
        query = ("SELECT run_index, trial_index, level, response, correct, presented_at, answered_at, trace, extra "
                 "FROM trials WHERE session = ?")
        arguments: list[Any] = [session_id]
        if run_index is not None:
            query += " AND run_index = ?"
            arguments.append(run_index)
        return [
            Trial(r[0], r[1], r[2], r[3], None if r[4] is None else bool(r[4]), r[5], r[6],
                  tuple((float(t), int(p)) for t, p in json.loads(r[7])), json.loads(r[8]))
            for r in self._db.execute(query + " ORDER BY run_index, trial_index", arguments)
        ]

    def run_results(self, session_id: str | None = None, include_unfinished_sessions: bool = True) -> list[RunResult]:
        """The finished runs (of one session, or all), with their items and the sessions' conditions."""
        results = []
        for info in [self.session(session_id)] if session_id else self.sessions():
            if info.finished is None and not include_unfinished_sessions:
                continue
            rows = self._db.execute(
                "SELECT run_index, critical_level, correct, details FROM runs WHERE session = ? ORDER BY run_index",
                (info.session_id,),
            )
            for run_index, critical, correct, details in rows:
                spec = info.plan[run_index]
                results.append(RunResult(
                    info.session_id, info.observer, run_index, spec.item, spec.kind, info.protocol,
                    info.conditions.task, info.conditions.ppd, critical, None if correct is None else bool(correct),
                    json.loads(details),
                ))
        return results

    def events(self, session_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [(at, kind, json.loads(detail)) for at, kind, detail in
                self._db.execute("SELECT at, kind, detail FROM events WHERE session = ? ORDER BY rowid", (session_id,))]


def _session(row: tuple) -> SessionInfo:
    plan = tuple(RunSpec(StudyItem.from_dict(r["item"]), r["kind"], int(r.get("start", 0))) for r in json.loads(row[6]))
    return SessionInfo(row[0], row[1], row[2], row[3], int(row[4]), StudyConditions.from_dict(json.loads(row[5])),
                       plan, row[7], row[8], int(row[10]), json.loads(row[9] or "{}"))
