"""Fixtures of the GUI tests: an offscreen QApplication, temporary settings, windows checked for leaks, fakes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

APP_TESTS = Path(__file__).resolve().parent
# Every GUI test module starts with ``pytest.importorskip("PySide6", ...)``, so that where Qt is not installed it is
# skipped with a reason; this conftest imports Qt only inside fixtures, so it loads without Qt too.


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if APP_TESTS in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session")
def app(qapp: Any) -> Any:
    """pytest-qt's QApplication, set up as ``jndviewer`` sets it up (Fusion, row-major pyqtgraph images)."""
    from jndviewer.app.main import create_app

    return create_app()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Path]:
    """Every QSettings in user scope goes to a temporary folder: tests never touch the user's settings."""
    folder = tmp_path / "settings"
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # no Qt: nothing can write settings
        yield folder
        return
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(folder))
    yield folder


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "jndviewer.ini"


def _jndviewer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("jndviewer-") and t.is_alive()]


@pytest.fixture
def make_window(app: Any, qtbot: Any, settings_path: Path) -> Iterator[Callable[..., Any]]:
    """Build main windows; at the end close them and fail on leaked pool threads, Python threads or windows.

    ``make_window(path=None, settings=None, **state)`` sets the given state fields before opening ``path``.
    """
    from PySide6.QtCore import QSettings, QThreadPool
    from PySide6.QtWidgets import QApplication

    from jndviewer.app.main_window import MainWindow

    windows: list[MainWindow] = []

    def factory(path: str | Path | None = None, *, settings: Any = None, **state: Any) -> MainWindow:
        settings = settings if settings is not None else QSettings(str(settings_path), QSettings.Format.IniFormat)
        window = MainWindow(None, settings=settings)
        for name, value in state.items():
            setattr(window.state, name, value)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        if path is not None:
            window.open_path(path)
        return window

    yield factory

    for window in windows:
        if window.isVisible():
            window.close()
        pools = (window.session.interactive_pool, window.session.background_pool)
        assert all(pool.waitForDone(10_000) for pool in pools)
        assert [pool.activeThreadCount() for pool in pools] == [0, 0], "worker threads still running"
    assert QThreadPool.globalInstance().waitForDone(5_000)
    deadline = time.monotonic() + 5.0
    while _jndviewer_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _jndviewer_threads(), f"threads leaked: {_jndviewer_threads()}"
    app.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for widget in leaked:
        widget.close()
    for window in windows:
        window.deleteLater()
    app.processEvents()
    assert not leaked, f"top-level widgets left open: {leaked}"


def wait_idle(qtbot: Any, window: Any, timeout: int = 120_000) -> None:
    """Wait until every background job of the window has answered."""
    qtbot.waitUntil(lambda: not window.session.busy, timeout=timeout)


@pytest.fixture
def idle(qtbot: Any) -> Callable[[Any], None]:
    return lambda window, timeout=120_000: wait_idle(qtbot, window, timeout)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small natural-ish test image (gradient, texture and an edge), 96 x 64."""
    rng = np.random.default_rng(5)
    _, x = np.mgrid[0:64, 0:96]
    base = 40 + 1.6 * x[..., None] + np.array([0.0, 20.0, 40.0])
    base[16:48, 30:70] += rng.normal(0, 30, (32, 40, 3))
    base[:, 80:] = 230
    path = tmp_path / "photo.png"
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def gray(tmp_path: Path) -> Path:
    """A flat gray (128) image, 96 x 48."""
    path = tmp_path / "gray.png"
    Image.fromarray(np.full((48, 96, 3), 128, np.uint8)).save(path)
    return path


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Register the exact test codec ``steps`` and JND model ``flat`` in the core registries (for this test)."""
    from jndviewer.core.codecs import CODECS
    from jndviewer.core.jnd import MODELS
    from tests.app import fakes as module

    monkeypatch.setitem(CODECS, "steps", module.StepCodec)
    monkeypatch.setitem(CODECS, "never", module.UnavailableCodec)
    monkeypatch.setitem(MODELS, "flat", module.FlatJND)
    return module


@pytest.fixture
def unit_ppd() -> float:
    """The viewing condition at which the predictor analyses the image at its own size (scale 1)."""
    from jndviewer.core.pwjnd.visibility import default_params

    return float(default_params().model_ppd)
