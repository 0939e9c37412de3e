"""``jndviewer [IMAGE]``: start the explorer.

Set ``JNDVIEWER_EXIT_AFTER_SHOW=1`` to print ``jndviewer-shown <unix time>`` when the main window is first painted
and quit at once (``benchmarks/bench_gui.py`` times the start-up with it).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

EXIT_AFTER_SHOW_ENV = "JNDVIEWER_EXIT_AFTER_SHOW"

#: Python's cyclic garbage collection, run on the GUI thread only (see :func:`collect_garbage_on_the_gui_thread`).
_garbage_collector: object | None = None


def configure_pyqtgraph() -> None:
    """Row-major images (``H x W x 3`` arrays, as numpy and Pillow give them) and antialiased plots."""
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)


class _FirstPaint(QObject):
    """Prints the time of the window's first paint and quits (start-up benchmark)."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            print(f"jndviewer-shown {time.time():.6f}", flush=True)
            QTimer.singleShot(0, self._app.closeAllWindows)
        return False


def collect_garbage_on_the_gui_thread() -> None:
    """Switch Python's automatic garbage collection off and collect every second from a timer on the GUI thread
    instead (pyqtgraph's ``GarbageCollector``).

    Otherwise a collection can start in whichever thread allocates, such as a prediction worker, and destroy there
    a widget whose Python wrapper became garbage: Qt's destructor then waits for the GIL while the GUI thread, holding
    it, waits for the same Qt lock. A GUI test hung so (a ``QMenu`` collected inside a VP-JNDnet prediction job).
    """
    global _garbage_collector
    if _garbage_collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _garbage_collector = GarbageCollector(interval=1.0)


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once, Fusion style, named for QSettings)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName("jndviewer")
    app.setApplicationName("jndviewer")
    app.setApplicationDisplayName("jndviewer")
    app.setStyle("Fusion")
    from PySide6.QtGui import QIcon

    from jndviewer.core.assets import asset

    app.setWindowIcon(QIcon(str(asset("icon.png"))))
    configure_pyqtgraph()
    collect_garbage_on_the_gui_thread()
    return app  # type: ignore[return-value]


def run_app(path: str | Path | None = None, argv: Sequence[str] | None = None, *, codec: str | None = None,
            level: int | None = None) -> int:
    """Open the main window on ``path`` (default: the bundled sample image), with ``codec`` and ``level`` when given,
    and run the event loop.

    Returns the event loop's exit status.
    """
    app = create_app(argv)
    from jndviewer.app.main_window import MainWindow

    if path is None:
        from jndviewer.core.assets import sample_image

        path = sample_image()
    window = MainWindow(path)
    if codec is not None:
        window.state.codec = codec
    if level is not None:
        window.state.level = level
    if os.environ.get(EXIT_AFTER_SHOW_ENV):
        window.installEventFilter(_FirstPaint(app))
    window.show()
    return app.exec()


def main() -> int:  # pragma: no cover - thin wrapper
    return run_app(sys.argv[1] if len(sys.argv) > 1 else None)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
