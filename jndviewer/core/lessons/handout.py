"""The lessons' handout: every lesson of one image in a self-contained HTML file (``jndviewer lessons IMAGE -o``).

Per lesson: its title, sentences, the formula in words, the citation, the "try this" prompts, its figure at the
default settings (a PNG data URI; nothing is fetched from the network) and the readout of its numbers.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from pathlib import Path

from jndviewer.core.errors import JndViewerError
from jndviewer.core.lessons.model import Lesson, LessonContext
from jndviewer.core.lessons.render import figure_png

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2.2em; border-bottom: 1px solid #ddd; }
.formula { background: #f5f5f0; border-left: 4px solid #9a9; padding: 0.5em 0.8em; font-family: ui-monospace,
  monospace; font-size: 0.9em; }
.citation { color: #555; font-size: 0.9em; }
.try { background: #fff8e0; padding: 0.4em 0.8em; }
.readout { font-size: 0.9em; color: #333; }
img { max-width: 100%; height: auto; }
section { page-break-inside: avoid; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def lesson_html(lesson: Lesson, context: LessonContext) -> str:
    """One lesson's section of the handout."""
    figure = lesson.figure(context)
    escape = html.escape
    sentences = " ".join(escape(sentence) for sentence in lesson.sentences)
    prompts = "".join(f"<li>{escape(prompt)}</li>" for prompt in lesson.try_this)
    readout = "".join(f"<li>{escape(line)}</li>" for line in figure.readout)
    image = _data_uri(figure_png(figure))
    return (
        f'<section id="{escape(lesson.name)}"><h2>{escape(lesson.title)}</h2>\n<p>{sentences}</p>\n'
        f'<p class="formula">{escape(lesson.formula)}</p>\n'
        f'<img alt="{escape(lesson.title)}: figure" src="{image}">\n<ul class="readout">{readout}</ul>\n'
        f'<div class="try"><b>Try this</b><ul>{prompts}</ul></div>\n'
        f'<p class="citation">{escape(lesson.citation)}</p></section>\n'
    )


def build_handout(
    context: LessonContext, lessons: Sequence[Lesson], progress: Callable[[str], None] | None = None
) -> str:
    """The handout's HTML text for ``lessons`` on the context's image."""
    escape = html.escape
    width, height = context.original_size
    scale = (
        f" (shown at {context.rgb.shape[1]} x {context.rgb.shape[0]} pixels)" if context.reduced else ""
    )
    contents = "".join(f'<li><a href="#{escape(lesson.name)}">{escape(lesson.title)}</a></li>' for lesson in lessons)
    sections = []
    for lesson in lessons:
        if progress is not None:
            progress(lesson.title)
        sections.append(lesson_html(lesson, context))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>JND lessons: {escape(context.name)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>Just-noticeable distortion: {len(lessons)} lesson{'s' * (len(lessons) != 1)} on "
        f"{escape(context.name)}</h1>\n"
        f"<p>Every figure is computed by jndviewer's own models on {escape(context.name)}, {width} x {height} pixels"
        f"{scale}, at the lessons' default settings; open <code>jndviewer lessons</code> to move the controls.</p>\n"
        f"<ol>{contents}</ol>\n{''.join(sections)}</body></html>\n"
    )


def write_handout(
    context: LessonContext,
    lessons: Sequence[Lesson],
    output: str | Path,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the handout to ``output`` (a new or replaced file; its folder must exist) and return its path."""
    path = Path(output).expanduser()
    if path.is_dir():
        raise JndViewerError(f"{path} is a folder; name the handout file, e.g. {path / 'handout.html'}.")
    if not path.parent.is_dir():
        raise JndViewerError(f"The folder {path.parent} does not exist.")
    text = build_handout(context, lessons, progress)
    from jndviewer.core.report import write_text_atomic

    write_text_atomic(path, text)
    return path


__all__ = ["build_handout", "lesson_html", "write_handout"]
