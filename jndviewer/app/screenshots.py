"""Take the README's screenshots of the explorer (run under Xvfb for a real window system).

::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m jndviewer.app.screenshots docs/screenshots

Writes ``side_by_side.png``, ``wipe.png``, ``visibility.png``, ``visibility_over_luma.png`` (the same view over the
reference's luma), ``line_profile.png`` (the whole window with a line profile), ``jnd_overlay.png`` and
``flicker_task.png`` (the
Flicker mode with its bar and the flicker task's predictions; the whole window), ``caveat.png`` (the rate/visibility
dock for the flicker task at 75 ppd, where the training-free JPEG fit is weak: its ⚠ and Caveat row) and
``plots.png`` (the rate/visibility dock), grabbed by Qt, on the bundled sample image, and ``patch_weights.png`` (the
window with SG-JND's patch-weight overlay, after every prediction) when SG-JND's packaged weights exist (otherwise it
says so and skips it). ``--only NAME[,NAME]`` takes just those. The window uses temporary settings,
never the user's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRectF, QSettings

from jndviewer.app.main import create_app
from jndviewer.app.modes import CompareMode

#: Screenshots larger than this are reduced to 256 colours (the views are zoomed in so that they rarely are).
MAX_BYTES = 590 * 1024


def _wait(app, condition, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the explorer")
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the README screenshots of the explorer.")
    parser.add_argument("output", type=Path)
    parser.add_argument("--image", type=Path, default=None, help="default: the bundled sample")
    parser.add_argument("--threshold", type=float, default=None, help="decision threshold (default: calibrated)")
    parser.add_argument("--size", default="1480x960", help="window size WIDTHxHEIGHT")
    parser.add_argument("--only", default="", help="comma-separated names of the screenshots to take (default: all)")
    args = parser.parse_args(argv)
    wanted = {name.strip().removesuffix(".png") for name in args.only.split(",") if name.strip()}
    app = create_app([sys.argv[0]])
    from jndviewer.app.main_window import MainWindow
    from jndviewer.core.assets import sample_image

    width, height = (int(v) for v in args.size.split("x"))
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(None, settings=settings, restore=False)
        window.state.threshold = args.threshold
        window.resize(width, height)
        window.show()
        window.open_path(args.image or sample_image())
        session, state, canvas = window.session, window.state, window.canvas
        _wait(app, lambda: session.loaded is not None and not session.busy)

        def shoot(name: str, settle: float = 0.6, widget=None) -> None:
            if wanted and name not in wanted:
                return
            _wait(app, lambda: not session.busy)
            end = time.monotonic() + settle
            while time.monotonic() < end:
                app.processEvents()
                time.sleep(0.01)
            path = args.output / f"{name}.png"
            (widget or window).grab().save(str(path))
            with Image.open(path) as picture:
                picture.convert("RGB").save(path, optimize=True)
            if path.stat().st_size > MAX_BYTES:  # last resort (bands colour bars): 256 colours
                with Image.open(path) as picture:
                    picture.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")

        tuned = session.predictions.results.get("visibility")
        jnd_level = tuned.level if tuned is not None else 30
        state.level = max(5, jnd_level - 12)  # visibly past the JND, so the modes have something to show
        state.mode = CompareMode.SIDE_BY_SIDE
        canvas.show_region(QRectF(230, 40, 300, 220))
        shoot("side_by_side")
        state.mode = CompareMode.WIPE
        state.wipe = 0.75  # across the scarlet macaw's face: original left of the divider, JPEG right
        canvas.show_region(QRectF(440, 40, 290, 190))
        shoot("wipe")
        state.mode = CompareMode.VISIBILITY
        canvas.show_region(QRectF(420, 30, 320, 240))
        shoot("visibility")
        if not wanted or "visibility_over_luma" in wanted:
            state.level = jnd_level  # over the reference's luma (as ColorVideoVDP draws it), at the predicted JND
            state.visibility_over_luma = True
            shoot("visibility_over_luma")
            state.visibility_over_luma = False
            state.level = max(5, jnd_level - 12)
        if not wanted or "line_profile" in wanted:
            _line_profile(app, window, shoot)
        state.mode = CompareMode.JND
        state.overlay_opacity = 0.8
        canvas.show_region(QRectF(160, 20, 480, 330))
        shoot("jnd_overlay")
        _shoot_dock(window, shoot, "plots")
        if not wanted or "patch_weights" in wanted:
            _patch_weights(app, window, shoot)
        if not wanted or "flicker_task" in wanted:
            _flicker_task(app, window, shoot)
        if not wanted or "caveat" in wanted:
            _caveat(app, window, shoot)
        window.close()
    return 0


def _line_profile(app, window, shoot) -> None:
    """The line profile across the scarlet macaw's face (background, beak, white face, eye, red feathers) in B."""
    state, canvas, tool = window.state, window.canvas, window.profile
    state.mode = CompareMode.DISTORTED
    canvas.show_region(QRectF(300, 60, 400, 240))
    tool.set_active(True)
    tool.set_line((330.0, 172.0), (650.0, 172.0))
    _wait(app, lambda: tool.profile is not None and "visibility" in tool.profile.values)
    shoot("line_profile")
    tool.set_active(False)


def _patch_weights(app, window, shoot) -> None:
    """SG-JND's patch weights over the image a few levels below its PW-JND (where the patches differ most)."""
    from jndviewer.core.pwjnd.registry import PREDICTORS

    available, reason = PREDICTORS["sgjnd"].weights_status()
    if not available:
        print(f"skipped patch_weights.png: {reason}")
        return
    session, state, canvas = window.session, window.state, window.canvas
    predictions = session.predictions
    _wait(app, lambda: "sgjnd" in predictions.results or "sgjnd" in predictions.errors)
    if "sgjnd" not in predictions.results:
        print(f"skipped patch_weights.png: {predictions.errors['sgjnd']}")
        return
    state.level = max(5, predictions.results["sgjnd"].level - 8)
    state.mode = CompareMode.DISTORTED
    state.patch_overlay = True
    canvas.fit()
    _wait(app, lambda: canvas.patches is not None and canvas.patches.level == state.level)
    shoot("patch_weights")
    if PREDICTORS["vpjnd"].weights_status()[0]:  # VP-JNDnet's patches at the same level, chosen beside the overlay
        _wait(app, lambda: "vpjnd" in predictions.results or "vpjnd" in predictions.errors)
        state.patch_predictor = "vpjnd"
        _wait(app, lambda: canvas.patches is not None and canvas.patches.key.predictor == "vpjnd"
              and canvas.patches.level == state.level)
        shoot("patch_weights_vpjnd")
        state.patch_predictor = "sgjnd"


def _flicker_task(app, window, shoot) -> None:
    """The Flicker mode after one click on its bar: every prediction for the flicker task, at its PW-JND."""
    session, state, canvas = window.session, window.state, window.canvas
    state.patch_overlay = False
    state.mode = CompareMode.FLICKER
    window.task_bar.button.click()
    _wait(app, lambda: not session.busy and "visibility" in session.predictions.results)
    state.level = session.predictions.results["visibility"].level
    canvas.show_region(QRectF(230, 40, 300, 220))
    shoot("flicker_task")


def _caveat(app, window, shoot) -> None:
    """The readouts where a prediction says it rests on a weak fit: JPEG, flicker at 75 ppd."""
    session, state = window.session, window.state
    state.task = "flicker"
    state.ppd = 75.0

    def at_75() -> bool:
        result = session.predictions.results.get("visibility")
        return not session.busy and result is not None and result.condition.get("ppd") == 75.0

    _wait(app, at_75)
    state.level = session.predictions.results["visibility"].level
    _shoot_dock(window, shoot, "caveat")


def _shoot_dock(window, shoot, name: str) -> None:
    """The rate/visibility dock alone, 380 pixels high, then back at the height the window lays it out at."""
    height = window.analysis_dock.height()
    window.analysis_dock.resize(window.analysis_dock.width(), 380)
    shoot(name, widget=window.analysis_dock)
    window.analysis_dock.resize(window.analysis_dock.width(), height)


if __name__ == "__main__":
    raise SystemExit(main())
