"""The explorer's study mode (Study menu, ``jndviewer study run``): it drives :mod:`jndviewer.core.study`.

- :mod:`.setup`: observer, images, protocol, task, viewing distance and the on-screen card calibration;
- :mod:`.window`: the blind trials, full screen;
- :mod:`.stimulus`: images at one image pixel per device pixel, flicker on counted frames;
- :mod:`.results_view`: each image's satisfied-user-ratio points beside the predictors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import QMessageBox, QWidget

from jndviewer.core.errors import JndViewerError


def start_runner(choice: Any, store: Any, screen: Any) -> Any:
    """The runner of a setup choice: a resumed session, or a new one once its images are known to fit ``screen``
    at 1:1 (refused in one sentence otherwise, before anything is stored)."""
    from jndviewer.core.study.session import StudyRunner
    from jndviewer.core.study.sets import reference_rgb

    from .setup import resolve_study_set
    from .window import check_display, stimulus_size

    if choice.resume:
        runner = StudyRunner(store, choice.resume)
        items = [spec.item for spec in runner.session.plan]
        protocol, task = runner.session.protocol, runner.session.conditions.task
    else:
        study_set = resolve_study_set(choice.study_set)
        items, protocol, task, runner = list(study_set.items), choice.protocol, choice.conditions.task, None
        if choice.limit and choice.limit < len(items):  # a seeded random choice of the set's images
            chosen = np.random.default_rng(choice.seed).choice(len(items), choice.limit, replace=False)
            items = [items[int(i)] for i in sorted(chosen)]
    sizes = []
    for item in {i.item_id: i for i in items}.values():
        h, w = reference_rgb(item).shape[:2]
        sizes.append(stimulus_size(protocol, task, (w, h)))
    available = screen.availableGeometry()
    check_display(screen.devicePixelRatio(), (available.width(), available.height()),
                  (max(w for w, _ in sizes), max(h for _, h in sizes)))
    if runner is None:
        runner = StudyRunner.start(store, choice.observer, protocol, study_set.name, items, choice.conditions,
                                   choice.seed)
    return runner


def open_study(parent: QWidget | None = None, database: Path | None = None, current_image: Path | None = None,
               preset: str | None = None, current_codec: str = "jpeg") -> Any:
    """Set up and run a study; returns the study window (or None when cancelled or refused). ``preset``: a study
    set spec to preselect (``default``, ``image:PATH``, ``folder:PATH``, ``file:PATH``)."""
    from jndviewer.core.study.sets import ItemImages
    from jndviewer.core.study.store import StudyStore

    from .setup import StudySetupDialog
    from .window import StudyWindow

    try:
        store = StudyStore(database)
    except JndViewerError as error:
        QMessageBox.warning(parent, "Study", str(error))
        return None
    dialog = StudySetupDialog(store, current_image, parent, preset=preset, current_codec=current_codec)
    if not dialog.exec() or dialog.choice is None:
        return None
    try:
        runner = start_runner(dialog.choice, store, dialog.screen())
    except JndViewerError as error:
        QMessageBox.warning(parent, "Study", str(error))
        return None
    window = StudyWindow(runner, ItemImages)
    window.finished.connect(lambda session_id: show_results(window, store, session_id))
    window.showFullScreen()
    return window


def show_results(parent: QWidget | None, store: Any, session_id: str | None = None) -> Any:
    """The results of a study database (the images of ``session_id`` first) beside the predictors."""
    from .results_view import StudyResultsDialog

    dialog = StudyResultsDialog(store, session_id, parent)
    dialog.show()
    return dialog
