"""Take the README's screenshots of the study mode (run under Xvfb for a real window system)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m jndviewer.app.study.screenshots docs/screenshots

Writes ``study_setup.png`` (the setup dialog), ``study_trial.png`` (a flicker-adjustment trial, the whole full-screen
window: blind) and ``study_results.png`` (the results window). The results come from **scripted observers**, not
people: six pseudonymous observers ``scripted-1`` ... ``scripted-6`` whose first-visible JPEG quality on each image is
drawn from a normal distribution (mean 70, sd 6, seeded), about where the flicker-task proxy labels of Kodak sit
(mean 72.7, sd 5.3); they answer through the same runner as a person. Everything goes to a temporary database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from jndviewer.app.main import create_app


def _wait(app, condition, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the study windows")
        app.processEvents()
        time.sleep(0.01)


def scripted_session(store, observer: str, items, conditions, seed: int, rng) -> None:
    """One flicker-adjustment session answered by a scripted observer (see the module docstring)."""
    from jndviewer.core.study.model import FLICKER_ADJUSTMENT
    from jndviewer.core.study.session import StudyOptions, StudyRunner

    runner = StudyRunner.start(store, observer, FLICKER_ADJUSTMENT, "default", items, conditions, seed,
                               StudyOptions(catch_same=1, catch_obvious=1))
    while not runner.done:
        adjustment = runner.flicker()
        threshold = float(np.clip(rng.normal(70.0, 6.0), 2, 100))
        t = 0.0
        while True:
            level = adjustment.presentation().levels[0]
            if adjustment.spec.kind == "catch-same" and adjustment.slider == adjustment.slider_max:
                runner.record(adjustment.answer("none", t))
                break
            if level is not None and (adjustment.spec.kind == "catch-obvious" or level <= threshold):
                runner.record(adjustment.answer("visible", t))
                break
            t += 0.15
            adjustment.move(adjustment.slider + 1, t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the README screenshots of the study mode.")
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    app = create_app([sys.argv[0]])
    from jndviewer.app.study.results_view import StudyResultsDialog
    from jndviewer.app.study.setup import StudySetupDialog
    from jndviewer.app.study.window import StudyWindow
    from jndviewer.core.study.model import FLICKER_ADJUSTMENT, StudyConditions, mm_per_pixel
    from jndviewer.core.study.session import StudyOptions, StudyRunner
    from jndviewer.core.study.sets import ItemImages, default_study_set
    from jndviewer.core.study.store import StudyStore

    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        store = StudyStore(Path(folder) / "study.sqlite")
        dialog = StudySetupDialog(store)
        dialog.observer.setText("obs-01")
        dialog.card_pixels.setValue(309)
        dialog.resize(640, 760)
        dialog.show()
        _wait(app, lambda: dialog.isVisible())
        for _ in range(20):
            app.processEvents()
        dialog.grab().save(str(args.output / "study_setup.png"))
        print(f"wrote {args.output / 'study_setup.png'}")
        dialog.close()

        study_set = default_study_set()
        conditions = StudyConditions("flicker", 600.0, mm_per_pixel(309), 309.0)
        runner = StudyRunner.start(store, "obs-01", FLICKER_ADJUSTMENT, study_set.name, list(study_set.items[:5]),
                                   conditions, 5, StudyOptions(catch_same=0, catch_obvious=0))
        window = StudyWindow(runner, ItemImages)
        window.setGeometry(app.primaryScreen().geometry())  # full screen (Xvfb has no window manager to ask)
        window.show()
        for _ in range(24):
            window.step(1)
        _wait(app, lambda: window.isVisible() and window.width() >= 1000)
        time.sleep(0.3)
        for _ in range(20):
            app.processEvents()
        window.grab().save(str(args.output / "study_trial.png"))
        print(f"wrote {args.output / 'study_trial.png'} (the slider at step 24, flickering)")
        window.close()

        rng = np.random.default_rng(17)
        items = list(study_set.items[:5])
        for k in range(1, 7):
            scripted_session(store, f"scripted-{k}", items, conditions, 100 + k, rng)
        results = StudyResultsDialog(store)
        results.resize(1000, 720)
        results.show()
        _wait(app, lambda: len(results.predictions) == len(results.keys))
        for _ in range(20):
            app.processEvents()
        results.grab().save(str(args.output / "study_results.png"))
        print(f"wrote {args.output / 'study_results.png'}")
        results.close()
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
