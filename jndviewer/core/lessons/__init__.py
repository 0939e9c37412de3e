"""Lessons: short interactive pages on the mechanisms of JND, driven by the real models (Qt-free).

>>> from jndviewer.core.lessons import LESSONS, LessonContext
>>> context = LessonContext()                                    # the sample image  # doctest: +SKIP
>>> figure = LESSONS["luminance_adaptation"].figure(context, {"background": 40})  # doctest: +SKIP
>>> figure.readout                                               # doctest: +SKIP

The explorer draws the figures live (``jndviewer/app/lessons/``), :mod:`.render` draws them to PNG and
:mod:`.handout` writes every lesson of one image into a self-contained HTML file (``jndviewer lessons IMAGE -o``).
"""

from __future__ import annotations

from jndviewer.core.errors import JndViewerError
from jndviewer.core.lessons.model import Control, Lesson, LessonContext, LessonFigure, Mark, Picture, Plot, Series
from jndviewer.core.lessons.noise_lesson import NOISE
from jndviewer.core.lessons.pixel_lessons import COMPLEXITY, LUMINANCE_ADAPTATION, MASKING
from jndviewer.core.lessons.pwjnd_lesson import PWJND_LESSON
from jndviewer.core.lessons.viewing_lessons import DISTANCE, TASK

#: Every lesson by name, in teaching order (a 20-minute class takes them top to bottom).
LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (LUMINANCE_ADAPTATION, MASKING, COMPLEXITY, NOISE, DISTANCE, TASK, PWJND_LESSON)
}


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name``; one sentence naming the others when there is none."""
    try:
        return LESSONS[name]
    except KeyError:
        raise JndViewerError(f"There is no lesson {name!r}; the lessons are {', '.join(LESSONS)}.") from None


__all__ = [
    "LESSONS", "Control", "Lesson", "LessonContext", "LessonFigure", "Mark", "Picture", "Plot", "Series", "get_lesson",
]
