"""The lessons window: interactive pages on the mechanisms of JND (Help > Lessons, ``jndviewer lessons``).

``window.py`` is the window (list, pages, presenter view, slide export); ``figure_view.py`` draws a lesson's figure
with pyqtgraph; ``screenshots.py`` takes the README's screenshots of every lesson.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def open_lessons(
    parent: Any = None,
    image: str | Path | None = None,
    *,
    rgb: np.ndarray | None = None,
    name: str = "",
    present: bool = False,
    lesson: str | None = None,
) -> Any:
    """Show the lessons window on an image file, on ``rgb`` pixels, or on the bundled sample; returns it."""
    from jndviewer.app.lessons.window import LessonsWindow
    from jndviewer.core.lessons import LESSONS, LessonContext

    if rgb is not None:
        context = LessonContext(rgb, name=name)
    elif image is not None:
        context = LessonContext.from_path(image)
    else:
        context = LessonContext()
    window = LessonsWindow(context, parent)
    if lesson is not None:
        window.show_lesson(list(LESSONS).index(lesson))
    window.show()
    if present:
        window.set_presenting(True)
    return window


__all__ = ["open_lessons"]
