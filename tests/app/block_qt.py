"""A pytest plugin that makes every Qt binding (and pyqtgraph, pytest-qt) unimportable.

``python -m pytest tests/core -p no:pytest-qt -p tests.app.block_qt`` proves that the core and its tests run without
Qt, as napari's headless CI job does by uninstalling Qt. When ``JNDVIEWER_BLOCK_QT_REPORT`` names a file, the plugin
writes there (as JSON) the imports it refused and the Qt modules loaded at the end of the session (none, when the
split holds).
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys

BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "pytestqt", "PyQt5", "PyQt6", "PySide2", "shiboken2", "qtpy")
REPORT_ENV = "JNDVIEWER_BLOCK_QT_REPORT"
refused: list[str] = []


class QtBlocker(importlib.abc.MetaPathFinder):
    """Refuses the blocked top-level packages."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in BLOCKED:
            refused.append(name)
            raise ModuleNotFoundError(f"{name} is blocked by tests.app.block_qt (as if not installed)", name=name)
        return None


def loaded_qt_modules() -> list[str]:
    return sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)


if loaded_qt_modules():  # pragma: no cover - only when loaded too late
    raise RuntimeError(f"Qt was imported before the blocker: {loaded_qt_modules()}")
sys.meta_path.insert(0, QtBlocker())


def pytest_report_header(config: object) -> str:
    return f"Qt import blocker active: {', '.join(BLOCKED)}"


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "w") as handle:
            json.dump({"refused": refused, "loaded": loaded_qt_modules(), "exitstatus": int(exitstatus)}, handle)
