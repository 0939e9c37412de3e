"""What a lesson is, and the figure it computes, without any drawing library.

A :class:`Lesson` is a short teaching page: a title, three to six plain sentences, the formula in words, the
citation, one or two "try this" prompts, the controls a teacher can move (sliders, choices, toggles), and a function
that computes the page's figure from the real core models for a :class:`LessonContext` (one image, reduced for
speed, with its maps cached) and the controls' values.

The figure is plain data (:class:`LessonFigure`: plots of curves and marks, pictures as RGB arrays, readout lines and
the numbers behind them), so that the explorer draws it live with pyqtgraph, :mod:`.render` draws it to PNG for the
handout and slides, and the tests read its numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError

#: The longer side, in pixels, to which a lesson's image is reduced: every lesson then computes in well under a
#: second on two cores (wu2013's map of a 512 x 341 image takes about 0.15 s), and a class sees the same picture.
LESSON_MAX_SIDE = 512

#: Colours of the four pixel models' curves (and of other series by index), readable on white and on slides.
MODEL_COLOURS = {"chou1995": "#1f77b4", "yang2005": "#ff7f0e", "wu2013": "#2ca02c", "wu2017": "#d62728"}
SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
VISIBLE_COLOUR = "#d62728"
INVISIBLE_COLOUR = "#2ca02c"


# --------------------------------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """One thing a teacher can change on a lesson page.

    Attributes
    ----------
    name
        The parameter's key in the values given to :meth:`Lesson.figure`.
    label
        What the control is called on the page.
    kind
        ``slider`` (a number between ``minimum`` and ``maximum`` in steps of ``step``), ``choice`` (one of
        ``choices``) or ``toggle`` (True or False).
    default
        The value the page opens with (None: the lesson picks it from the image, e.g. the threshold).
    unit
        Words after a slider's value (``gray levels``, ``dB``, ``ppd``).
    """

    name: str
    label: str
    kind: str
    default: Any
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 1.0
    choices: tuple[str, ...] = ()
    unit: str = ""

    def check(self, value: Any) -> Any:
        """``value`` as this control's type, within its range; one sentence when it cannot be."""
        if self.kind == "toggle":
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                raise JndViewerError(f"{self.label}: choose one of {', '.join(self.choices)}, not {value!r}.")
            return value
        if value is None:
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise JndViewerError(f"{self.label} takes a number, not {value!r}.") from None
        return min(max(number, self.minimum), self.maximum)


# --------------------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Series:
    """One curve, set of points or bars of a plot.

    ``kind``: ``line``, ``points`` or ``bars``; ``point_colours`` (one per point) and ``point_labels`` (text drawn
    beside each point, e.g. the search step) are optional.
    """

    x: np.ndarray
    y: np.ndarray
    label: str = ""
    kind: str = "line"
    colour: str = SERIES_COLOURS[0]
    width: float = 2.0
    dashed: bool = False
    point_colours: tuple[str, ...] = ()
    point_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        if self.x.shape != self.y.shape:
            raise ValueError(f"series {self.label!r}: x and y differ in shape ({self.x.shape}, {self.y.shape})")


@dataclass
class Mark:
    """A straight line across a plot: ``vertical`` at x = value or horizontal at y = value, with its label."""

    value: float
    label: str = ""
    vertical: bool = True
    colour: str = "#555555"
    dashed: bool = True


@dataclass
class Plot:
    """A plot panel: axes with their labels, series and marks."""

    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    log_x: bool = False
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None

    def find(self, label: str) -> Series:
        """The series called ``label`` (tests and readouts look curves up by name)."""
        for series in self.series:
            if series.label == label:
                return series
        raise KeyError(label)


@dataclass
class Box:
    """A labelled rectangle over a picture: ``(x, y, width, height)`` in the picture's pixels."""

    x: float
    y: float
    width: float
    height: float
    label: str = ""
    colour: str = "#ffd400"


@dataclass
class Picture:
    """An image panel: ``pixels`` is H x W x 3 uint8 RGB; ``scale`` says what its colours mean (a colour map's
    range), ``boxes`` outline regions. ``alternate`` (the same size) asks a live view to flicker between the two
    at :data:`jndviewer.core.viewing.FLICKER_SWITCHES_PER_SECOND`; a still picture shows ``pixels``."""

    title: str
    pixels: np.ndarray
    scale: str = ""
    boxes: list[Box] = field(default_factory=list)
    alternate: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.pixels = _rgb(self.pixels, self.title)
        if self.alternate is not None:
            self.alternate = _rgb(self.alternate, self.title)
            if self.alternate.shape != self.pixels.shape:
                raise ValueError(f"picture {self.title!r}: the alternate image differs in size")


def _rgb(pixels: np.ndarray, title: str) -> np.ndarray:
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=-1)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"picture {title!r} must be H x W x 3 uint8, not {pixels.shape} {pixels.dtype}")
    return pixels


Panel = Plot | Picture


@dataclass
class LessonFigure:
    """What a lesson shows for one image and one setting of its controls.

    Attributes
    ----------
    panels
        Plots and pictures, left to right (two or three fit a slide).
    readout
        Short lines of numbers under the figure ("PSNR 30.00 dB both; MS-SSIM 0.981 shaped, 0.957 flat").
    numbers
        The numbers behind the readout, by name, for tests and exports.
    """

    panels: list[Panel]
    readout: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    def plot(self, title_start: str) -> Plot:
        """The first plot whose title starts with ``title_start``."""
        for panel in self.panels:
            if isinstance(panel, Plot) and panel.title.startswith(title_start):
                return panel
        raise KeyError(title_start)

    def picture(self, title_start: str) -> Picture:
        """The first picture whose title starts with ``title_start``."""
        for panel in self.panels:
            if isinstance(panel, Picture) and panel.title.startswith(title_start):
                return panel
        raise KeyError(title_start)


# --------------------------------------------------------------------------------------------------------------------
# The image a lesson works on
# --------------------------------------------------------------------------------------------------------------------


class LessonContext:
    """One image for the lessons, reduced to at most :data:`LESSON_MAX_SIDE` pixels a side, with a cache.

    Parameters
    ----------
    rgb
        H x W x 3 uint8 pixels; None takes the bundled sample image (Kodak kodim23).
    name
        What the handout and window call the image.
    max_side
        The longer side after reduction (area averaging, as a viewer's screen would show a fitted image).
    study_database
        A study database for the satisfied-user-ratio curve; None looks for the user's default one.
    """

    def __init__(
        self,
        rgb: np.ndarray | None = None,
        name: str = "",
        max_side: int = LESSON_MAX_SIDE,
        study_database: Path | None = None,
    ) -> None:
        if rgb is None:
            from jndviewer.core.assets import sample_image
            from jndviewer.core.image import load

            path = sample_image()
            rgb = load(path).rgb8()
            name = name or path.stem
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise JndViewerError(f"A lesson takes an H x W x 3 8-bit RGB image, not {rgb.shape} {rgb.dtype}.")
        if min(rgb.shape[:2]) < 32:
            raise JndViewerError("A lesson needs an image of at least 32 x 32 pixels.")
        self.original_size = (int(rgb.shape[1]), int(rgb.shape[0]))
        self.rgb = _reduce(rgb, max_side)
        self.name = name or "image"
        self.study_database = study_database
        self._cache: dict[Any, Any] = {}

    @classmethod
    def from_path(cls, path: str | Path, **options: Any) -> LessonContext:
        """The lessons' context of an image file (any format :func:`jndviewer.core.image.load` reads)."""
        from jndviewer.core.image import load

        return cls(load(path).rgb8(), name=Path(path).name, **options)

    @property
    def reduced(self) -> bool:
        return (self.rgb.shape[1], self.rgb.shape[0]) != self.original_size

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` computed once per key for this image (maps, encodes, predictions)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def luma(self) -> np.ndarray:
        """BT.601 luma of the image, float32 on the 8-bit scale."""
        from jndviewer.core.image import rgb_to_luma

        return self.cached("luma", lambda: rgb_to_luma(self.rgb).astype(np.float32))

    def gray_rgb(self) -> np.ndarray:
        """The luma rounded to 8 bits as an RGB image (R = G = B): the lessons that add noise to the luma show and
        measure this."""
        return self.cached("gray", lambda: np.repeat(to_uint8(self.luma())[..., None], 3, axis=-1))

    def jnd_map(self, model: str) -> Any:
        """The pixel model's :class:`~jndviewer.core.jnd.base.JNDMap` of the luma (computed once)."""

        def make() -> Any:
            import torch

            from jndviewer.core.jnd import create_model

            return create_model(model)(torch.from_numpy(self.luma())[None, None])

        return self.cached(("jnd", model), make)

    def jnd_component(self, model: str, component: str | None = None) -> np.ndarray:
        """One map of a pixel model as an H x W float64 array: the threshold, or the component named."""
        jnd = self.jnd_map(model)
        tensor = jnd.threshold if component is None else jnd.components[component]
        return tensor[0, 0].double().numpy()


def _reduce(rgb: np.ndarray, max_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    factor = max(height, width) / float(max_side)
    if factor <= 1.0:
        return np.ascontiguousarray(rgb)
    from PIL import Image as PilImage

    size = (max(32, round(width / factor)), max(32, round(height / factor)))
    return np.asarray(PilImage.fromarray(rgb).resize(size, PilImage.Resampling.BOX))


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Float gray levels rounded and clipped to 8 bits (what a screen shows)."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------------------------------------------------

Compute = Callable[[LessonContext, Mapping[str, Any]], LessonFigure]


@dataclass(frozen=True)
class Lesson:
    """A teaching page (see the module docstring)."""

    name: str
    title: str
    sentences: tuple[str, ...]
    formula: str
    citation: str
    try_this: tuple[str, ...]
    compute: Compute
    controls: tuple[Control, ...] = ()

    def __post_init__(self) -> None:
        if not 3 <= len(self.sentences) <= 6:
            raise ValueError(f"lesson {self.name!r} needs 3-6 sentences, has {len(self.sentences)}")
        if not 1 <= len(self.try_this) <= 2:
            raise ValueError(f"lesson {self.name!r} needs one or two 'try this' prompts")

    def control(self, name: str) -> Control:
        for control in self.controls:
            if control.name == name:
                return control
        raise JndViewerError(f"The lesson {self.title!r} has no control {name!r}.")

    def defaults(self) -> dict[str, Any]:
        """Every control's default value."""
        return {control.name: control.default for control in self.controls}

    def values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults with ``overrides`` applied and checked (an unknown name is one sentence)."""
        values = self.defaults()
        for name, value in (overrides or {}).items():
            values[name] = self.control(name).check(value)
        return values

    def figure(self, context: LessonContext, overrides: Mapping[str, Any] | None = None) -> LessonFigure:
        """The lesson's figure for ``context`` with its controls at their defaults, changed by ``overrides``."""
        return self.compute(context, self.values(overrides))


__all__ = [
    "INVISIBLE_COLOUR", "LESSON_MAX_SIDE", "MODEL_COLOURS", "SERIES_COLOURS", "VISIBLE_COLOUR", "Box", "Control",
    "Lesson", "LessonContext", "LessonFigure", "Mark", "Panel", "Picture", "Plot", "Series", "to_uint8",
]
