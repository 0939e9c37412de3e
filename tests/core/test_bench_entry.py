"""How the benchmark scripts end on a user's error (benchmarks/entry.py): one sentence and status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.entry import run_script
from jndviewer.core.errors import EXIT_USAGE, JndViewerError

REPO = Path(__file__).resolve().parents[2]


def test_a_user_error_is_one_line_and_the_usage_status(capsys: pytest.CaptureFixture[str]) -> None:
    def main() -> int:
        raise JndViewerError("Reference-label file x.csv does not exist.")

    assert run_script(main) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"{Path(sys.argv[0]).name}: error: Reference-label file x.csv does not exist."]


def test_statuses_pass_through_and_none_is_success() -> None:
    assert run_script(lambda: 1) == 1
    assert run_script(lambda: None) == 0


def test_other_exceptions_are_not_swallowed() -> None:
    def main() -> int:
        raise ValueError("a bug, not a user's error")

    with pytest.raises(ValueError, match="a bug"):
        run_script(main)


def test_eval_pwjnd_with_a_missing_label_file_says_so_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.csv"
    command = [sys.executable, str(REPO / "benchmarks" / "eval_pwjnd.py"), "--train-labels", str(missing),
               "--no-cvvdp", "--images", "1", "--shared", str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == EXIT_USAGE
    expected = f"eval_pwjnd.py: error: Reference-label file {missing} does not exist."
    assert run.stderr.strip().splitlines()[-1] == expected
    assert "Traceback" not in run.stderr
