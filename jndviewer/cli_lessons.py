"""``jndviewer lessons``: the interactive lessons on the mechanisms of JND, as a window or as a handout.

    jndviewer lessons [IMAGE]                         the lessons window (default image: the bundled sample)
    jndviewer lessons [IMAGE] --present               the same, full screen in the presenter view
    jndviewer lessons [IMAGE] -o handout.html         every lesson in one self-contained HTML file
    jndviewer lessons [IMAGE] --slides DIR            every lesson's figure as a 1920x1080 PNG slide
    jndviewer lessons --list                          the lessons, one a line

``--lesson NAME`` (repeatable) keeps only the lessons named, in teaching order.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jndviewer.core.errors import JndViewerError


def add_lessons_parser(commands: Any) -> None:
    """Register ``lessons`` on the main parser's subcommands."""
    lessons = commands.add_parser(
        "lessons", help="short interactive lessons on how JND works, driven by the real models (window or handout)",
        description="Lessons on luminance adaptation, masking, pattern complexity, shaped noise, viewing distance, the "
        "viewing task and the picture-wise JND, each computed by jndviewer's own models on IMAGE. Without -o or "
        "--slides, the lessons window opens.",
    )  # fmt: skip
    lessons.add_argument("image", type=Path, nargs="?", help="the image to teach on (default: the bundled sample)")
    lessons.add_argument("-o", "--output", type=Path, help="write a self-contained HTML handout (handout.html)")
    lessons.add_argument("--slides", type=Path, metavar="DIR", help="write each lesson's figure as a 1920x1080 PNG")
    lessons.add_argument("--lesson", action="append", metavar="NAME", help="only this lesson (repeatable)")
    lessons.add_argument("--present", action="store_true", help="open the window in the presenter view")
    lessons.add_argument("--list", action="store_true", help="list the lessons and exit")


def _selected(names: list[str] | None) -> list[Any]:
    from jndviewer.core.lessons import LESSONS, get_lesson

    if not names:
        return list(LESSONS.values())
    wanted = {get_lesson(name).name for name in names}
    return [lesson for lesson in LESSONS.values() if lesson.name in wanted]


def run_lessons(args: argparse.Namespace) -> int:
    """Dispatch ``jndviewer lessons``."""
    lessons = _selected(args.lesson)
    if args.list:
        print("\n".join(f"{lesson.name:<22} {lesson.title}" for lesson in lessons))
        return 0
    if args.image is not None and not args.image.is_file():
        raise JndViewerError(f"There is no image file {args.image}.")
    if args.slides is not None and args.slides.exists() and not args.slides.is_dir():
        raise JndViewerError(f"--slides {args.slides}: that is a file; name a folder.")
    if args.output is None and args.slides is None:
        return _window(args, lessons)
    from jndviewer.core.lessons import LessonContext

    context = LessonContext.from_path(args.image) if args.image is not None else LessonContext()
    if args.output is not None:
        from jndviewer.core.lessons.handout import write_handout

        written = write_handout(context, lessons, args.output, progress=lambda title: print(f"  {title}", flush=True))
        print(f"wrote {written}")
    if args.slides is not None:
        _write_slides(context, lessons, args.slides)
    return 0


def _write_slides(context: Any, lessons: list[Any], folder: Path) -> None:
    from jndviewer.core.lessons.render import SLIDE_SIZE, figure_png

    folder.mkdir(parents=True, exist_ok=True)
    for index, lesson in enumerate(lessons, start=1):
        png = figure_png(lesson.figure(context), SLIDE_SIZE, title=lesson.title, readout=True, font_scale=1.6)
        path = folder / f"{index:02d}_{lesson.name}.png"
        path.write_bytes(png)
        print(f"wrote {path}", flush=True)


def _window(args: argparse.Namespace, lessons: list[Any]) -> int:
    from jndviewer.app.lessons import open_lessons
    from jndviewer.app.main import create_app

    app = create_app()
    window = open_lessons(None, args.image, present=args.present, lesson=lessons[0].name if args.lesson else None)
    window.destroyed.connect(app.quit)
    return app.exec()
