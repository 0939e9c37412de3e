"""``jndviewer study``: run a study, see and report its results, export the answers (the study mode's front door).

    jndviewer study run [--db DB] [--set default|IMAGE|FOLDER|SET.json]    the setup dialog, then the trials
    jndviewer study results [--db DB]                                       the results window
    jndviewer study report [DB] -o report.html                              self-contained HTML with plots
    jndviewer study export [DB] --sureal F.json --csv F.csv --konjnd F.csv  the answers for other tools
    jndviewer study where                                                   where the default database is

The database defaults to the user's (:func:`jndviewer.core.study.store.default_database`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError


def add_study_parser(commands: Any) -> None:
    """Register ``study`` and its subcommands on the main parser's subcommands."""
    study = commands.add_parser(
        "study", help="measure your own JND, blind, and compare it with the predictors",
        description="The study mode: a person measures their own JND (flicker adjustment, side-by-side binary search "
        "or forced choice), every answer kept in an SQLite database; results, reports and exports from it.",
    )
    actions = study.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="set up and run a study session (a window)")
    run.add_argument("--db", type=Path, help="study database (default: the user's; see 'study where')")
    run.add_argument("--set", dest="study_set", default=None,
                     help="default (the shipped 8 crops), an image, a folder of images, or a study set .json; "
                          "preselected in the setup dialog")
    results = actions.add_parser("results", help="the results window: SUR curves beside the predictors")
    results.add_argument("--db", type=Path)
    report = actions.add_parser("report", help="write a self-contained HTML report (plots inside, no network)")
    report.add_argument("db", type=Path, nargs="?", help="study database (default: the user's)")
    report.add_argument("-o", "--output", type=Path, required=True, help="report.html")
    report.add_argument("--predictors", help="comma-separated predictor names (default: all registered)")
    export = actions.add_parser("export", help="export the answers: SUREAL JSON, critical-point CSV, KonJND-1k rows")
    export.add_argument("db", type=Path, nargs="?", help="study database (default: the user's)")
    export.add_argument("--sureal", type=Path, help="SUREAL dataset JSON (per observer and level: 1 = no difference)")
    export.add_argument("--csv", type=Path, help="one row per run with its critical level")
    export.add_argument("--konjnd", type=Path, help="KonJND-1k-style rating rows (readable as konjnd:PATH)")
    actions.add_parser("where", help="print where the default study database is")


def _database(path: Path | None) -> Path:
    from jndviewer.core.study.store import default_database

    return path if path is not None else default_database()


def _existing(path: Path | None) -> Path:
    database = _database(path)
    if not database.is_file():
        raise JndViewerError(f"There is no study database at {database}; run a study first (jndviewer study run).")
    return database


def run_study(args: argparse.Namespace) -> int:
    """Dispatch ``jndviewer study ACTION``."""
    action = args.study_command
    if action == "where":
        print(_database(None))
        return 0
    if action == "report":
        from jndviewer.core.study.report import write_report

        predictors = args.predictors.split(",") if args.predictors else None
        written = write_report(_existing(args.db), args.output, predictors=predictors)
        print(f"wrote {written}")
        return 0
    if action == "export":
        return _export(args)
    return _window(args)


def _export(args: argparse.Namespace) -> int:
    from jndviewer.core.study.exports import export_critical_csv, export_konjnd_rows, export_sureal_json

    database = _existing(args.db)
    wanted = [(args.sureal, export_sureal_json), (args.csv, export_critical_csv), (args.konjnd, export_konjnd_rows)]
    if not any(path for path, _ in wanted):
        raise JndViewerError("Name at least one export: --sureal FILE.json, --csv FILE.csv or --konjnd FILE.csv.")
    for path, write in wanted:
        if path is not None:
            print(f"wrote {write(database, path)}")
    return 0


def _set_spec(text: str | None) -> str | None:
    """The setup dialog's spec of a ``--set`` argument (``image:``, ``folder:`` or ``file:`` and its path)."""
    if text is None or text == "default":
        return text
    path = Path(text).expanduser()
    if not path.exists():
        raise JndViewerError(f"--set {text}: there is no such file or folder.")
    if path.is_dir():
        return f"folder:{path}"
    return f"file:{path}" if path.suffix.lower() == ".json" else f"image:{path}"


def _window(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    from jndviewer.app.main import create_app

    app = create_app()
    if args.study_command == "results":
        from jndviewer.app.study import show_results
        from jndviewer.core.study.store import StudyStore

        dialog = show_results(None, StudyStore(_existing(args.db)))
        dialog.finished.connect(QApplication.quit)
        return app.exec()
    from jndviewer.app.study import open_study

    window = open_study(None, args.db, preset=_set_spec(args.study_set))
    if window is None:
        return 1
    return app.exec()
