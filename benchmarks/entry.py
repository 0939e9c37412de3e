"""How the benchmark scripts that use it end: a user's error (a label file that is not there, a wrong checkpoint, a
bad option value the project's code checks) is printed as its one clear sentence, not as a traceback, as the CLI
does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def run_script(main: Callable[[], int | None]) -> int:
    """``main()``'s exit status; a :class:`~jndviewer.core.errors.JndViewerError` becomes one line on stderr and the
    usage status (2), as for ``jndviewer``'s commands."""
    from jndviewer.core.errors import EXIT_USAGE, JndViewerError

    try:
        return main() or 0
    except JndViewerError as err:
        print(f"{Path(sys.argv[0]).name}: error: {err}", file=sys.stderr)
        return EXIT_USAGE


__all__ = ["run_script"]
