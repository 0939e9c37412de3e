"""Take the README's screenshots of every lesson (run under Xvfb for a real window system)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m jndviewer.app.lessons.screenshots docs/screenshots

Writes ``lessons_<name>.png`` for each lesson (the window at 1500 x 900 on the bundled sample image, every control at
its default) and ``lessons_presenter.png`` (the presenter view of the noise lesson at 1600 x 1000).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from jndviewer.app.main import create_app


def wait_for_figure(app: Any, window: Any, timeout: float = 300.0) -> None:
    """Process events until the window's figure is computed and drawn."""
    deadline = time.monotonic() + timeout
    while window.busy or window.figure is None:
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for a lesson's figure")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):  # let the layout settle
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--only", help="one lesson's name")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    app = create_app()
    from jndviewer.app.lessons import open_lessons
    from jndviewer.core.lessons import LESSONS

    window = open_lessons(None)
    window.resize(1500, 900)
    for index, name in enumerate(LESSONS):
        if args.only and name != args.only:
            continue
        window.show_lesson(index)
        wait_for_figure(app, window)
        path = args.folder / f"lessons_{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}", flush=True)
    if not args.only or args.only == "presenter":
        window.show_lesson(list(LESSONS).index("noise"))
        wait_for_figure(app, window)
        window.set_presenting(True)
        window.resize(1600, 1000)
        wait_for_figure(app, window)
        path = args.folder / "lessons_presenter.png"
        window.grab().save(str(path))
        print(f"wrote {path}", flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
