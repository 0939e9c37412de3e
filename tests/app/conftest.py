"""Fixtures of the GUI tests: an offscreen QApplication, temporary settings, windows checked for leaks, fakes."""

from __future__ import annotations

import gc
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
def garbage_on_the_gui_thread() -> Iterator[None]:
    """No automatic garbage collection during a GUI test, as in the explorer (``create_app``), so that no worker
    thread collects a widget; collected here on the main thread after the test, and switched on again for the tests
    that follow outside tests/app."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


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
    import shiboken6
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
    # a widget Qt deletes while the list is read (a closing popup or tooltip) is gone, not leaked
    leaked = [w for w in QApplication.topLevelWidgets() if shiboken6.isValid(w) and w.isVisible()]
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
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    return float(default_params("flat").model_ppd)


# --------------------------------------------------------------------------------------------------------------------
# SG-JND
# --------------------------------------------------------------------------------------------------------------------

#: The JPEG quality at which the tiny SG-JND network's image logit on ``scene`` is 0 (its decision flips there).
TINY_SGJND_CROSSING = 30


@pytest.fixture(autouse=True)
def no_shipped_sgjnd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SG-JND never sees the shipped weights (``sgjnd.pt`` may or may not be packaged): by default its weights are
    missing, so GUI tests behave the same either way; ``sgjnd_weights`` points it at tiny ones instead."""
    from jndviewer.core.pwjnd.sgjnd import predictor

    missing = tmp_path / "no-sgjnd.pt"
    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", missing)
    return missing


@pytest.fixture
def one_torch_thread():
    """Small networks on small patches (the patch-network tests): more intra-op threads only contend with each other
    (and with other work)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def no_shipped_vpjnd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """VP-JNDnet never sees the shipped weights either (``vpjnd_weights`` points it at tiny ones)."""
    from jndviewer.core.pwjnd.vpjnd import predictor

    missing = tmp_path / "no-vpjnd.pt"
    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", missing)
    return missing


@pytest.fixture(scope="session")
def tiny_vpjnd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny VP-JNDnet weights (width 4, 64-pixel patches, 6 of them, seeded random) in the real export format."""
    import torch

    from jndviewer.core.pwjnd.vpjnd import EXPORT_FORMAT, VPJNDConfig
    from jndviewer.core.pwjnd.vpjnd.network import VPJNDNet

    torch.manual_seed(1)
    config = VPJNDConfig(width=4, hidden=8, patch=64, patches=6, jnd_model="chou1995")
    path = tmp_path_factory.mktemp("vpjnd") / "tiny.pt"
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(),
                "state": VPJNDNet(config).state_dict()}, path)
    return path


@pytest.fixture
def vpjnd_weights(tiny_vpjnd: Path, no_shipped_vpjnd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app's VP-JNDnet (its default weights) at the tiny weights for this test."""
    from jndviewer.core.pwjnd.vpjnd import predictor

    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", tiny_vpjnd)
    return tiny_vpjnd


@pytest.fixture
def vpjnd_ensemble_weights(tiny_vpjnd: Path, no_shipped_vpjnd: Path, monkeypatch: pytest.MonkeyPatch,
                           tmp_path: Path) -> Path:
    """Point the app's VP-JNDnet at an ensemble of the tiny weights and a second tiny network (another seed)."""
    import torch

    from jndviewer.core.pwjnd.vpjnd import EXPORT_FORMAT, VPJNDConfig, predictor
    from jndviewer.core.pwjnd.vpjnd.network import VPJNDNet
    from jndviewer.core.train.vpjnd_ensemble import write_ensemble

    config = VPJNDConfig.from_dict(torch.load(tiny_vpjnd, weights_only=True)["config"])
    torch.manual_seed(2)
    torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(),
                "state": VPJNDNet(config).state_dict()}, tmp_path / "second.pt")
    ensemble = write_ensemble([tiny_vpjnd, tmp_path / "second.pt"], tmp_path / "ensemble.pt")
    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", ensemble)
    return ensemble


def scene_rgb() -> np.ndarray:
    """A 256 x 192 test picture: gradients, a noisy texture, stripes and a flat band (SG-JND needs some content)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:192, 0:256].astype(float)
    base = np.stack([40 + 0.7 * x, 60 + 0.6 * y, 180 - 0.4 * x], axis=-1)
    base[40:150, 30:200] += rng.normal(0, 25, (110, 170, 3))
    base += 30 * np.sin(x / 6.0)[..., None] * (y > 120)[..., None]
    base[:, 220:] = 235
    return np.clip(base, 0, 255).astype(np.uint8)


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    path = tmp_path / "scene.png"
    Image.fromarray(scene_rgb()).save(path)
    return path


@pytest.fixture(scope="session")
def tiny_sgjnd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny SG-JND weights (64-pixel patches, 6 of them) in the real export format, as ``tests/core/test_sgjnd.py``
    makes them, but with a hand-set quality head so that the decisions follow the distortion.

    A random head's logit hardly depends on the level (every level is "not visible"). Here the projections read only
    the |distorted - reference| feature channels and the quality head averages them, so a patch's logit grows with
    its distortion; the bias puts the image logit of ``scene`` at 0 at JPEG quality 30, so worse levels are visible
    and better ones are not. The weight head stays random (seeded), so the patch weights differ.
    """
    import torch

    from jndviewer.core.codecs import create_codec
    from jndviewer.core.pwjnd.sgjnd import EXPORT_FORMAT, SGJNDConfig, SGJNDHead, load_network
    from jndviewer.core.viewing import ViewingCondition

    torch.manual_seed(0)
    config = SGJNDConfig(patch=64, patches=6, patch_visibility="none", backbone_differences=True,
                         codec_families=(), patch_layout="tiles", tasks=(), distance_offset=False, distance_experts=())
    channels = (24, 40, 112, 320)
    head = SGJNDHead(channels, config.width)
    with torch.no_grad():
        for conv, c in zip(head.attention.project, channels, strict=True):
            conv.weight.zero_()
            conv.weight[:, c:, 0, 0] = 4.0 / c  # the difference half of the pooled features
            conv.bias.zero_()
        first, last = head.quality[0], head.quality[2]
        first.weight.fill_(1.0 / first.in_features)
        first.bias.zero_()
        last.weight.fill_(1e-3)
        last.bias.zero_()
    folder = tmp_path_factory.mktemp("sgjnd")

    def export(path: Path) -> Path:
        torch.save({"format": EXPORT_FORMAT, "version": 1, "config": config.to_dict(), "head": head.state_dict()},
                   path)  # fmt: skip
        return path

    network = load_network(export(folder / "uncalibrated.pt"))
    rgb = scene_rgb()
    positions, reference = network.reference_state(rgb, ViewingCondition())
    decoded = create_codec("jpeg").encode(rgb, TINY_SGJND_CROSSING).decoded
    with torch.no_grad():
        last.bias.fill_(-network.evaluate(reference, positions, decoded)["logit"])
    return export(folder / "tiny.pt")


@pytest.fixture
def sgjnd_weights(tiny_sgjnd: Path, no_shipped_sgjnd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app's SG-JND (its default weights) at the tiny weights for this test."""
    from jndviewer.core.pwjnd.sgjnd import predictor

    monkeypatch.setattr(predictor, "DEFAULT_WEIGHTS", tiny_sgjnd)
    return tiny_sgjnd
