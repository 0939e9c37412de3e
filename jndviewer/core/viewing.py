"""The viewing condition: what every predictor and visibility model is told about how the images are seen.

A picture-wise JND is a threshold of a viewer, so it depends on how the images are viewed:

- **the viewing distance**, as pixels per degree of visual angle (ppd): at more pixels per degree each pixel covers a
  smaller angle and fine distortions fade;
- **the viewing task**: people see distortion at much better quality when the reference and the distorted image
  alternate in place than when they sit side by side. KonJND-1k's flicker test (Lin et al., IEEE TCSVT 32(9),
  2022: the two images alternate every 125 ms, 8 switches per second) "doubles the perceptual sensitivity compared to
  the standard binary search approach that successively compares a test image side by side with its reference";
  MCL-JCI (Jin et al., 2016) was measured side by side. The reference labels read ColorVideoVDP's JOD curves at a
  threshold per task (:data:`jndviewer.core.pwjnd.labels.TASK_JOD_THRESHOLD`).

Every prediction records the condition it was made for (:attr:`jndviewer.core.pwjnd.result.PWJND.condition`), and a
predictor that cannot take a field into account says so in one sentence instead of ignoring it
(:func:`jndviewer.core.pwjnd.registry.create_predictor`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from jndviewer.core.errors import JndViewerError

#: Pixels per degree of the default condition: cvvdp's ``standard_fhd`` display, a 24-inch 1920x1080 monitor at about
#: 60 cm, at which the reference labels were made and the training-free predictor was calibrated.
DEFAULT_PPD = 38.0
#: The viewing conditions the explorer offers, in pixels per degree (a phone at arm's length to a TV far away).
PPD_RANGE = (5.0, 760.0)
#: The viewing tasks: the two images side by side (MCL-JCI's protocol), or alternating in place 8 times a second
#: (KonJND-1k's flicker test).
SIDE_BY_SIDE = "side-by-side"
FLICKER = "flicker"
TASKS = (SIDE_BY_SIDE, FLICKER)
#: The default task: side by side, what a user of jndviewer sees first (the explorer opens side by side, and the
#: predictions were calibrated for it first); README "Viewing condition" says why.
DEFAULT_TASK = SIDE_BY_SIDE
#: How readouts name each task.
TASK_WORDS = {SIDE_BY_SIDE: "side by side", FLICKER: "flicker"}
#: A's and B's switches per second in KonJND-1k's flicker test (each image shown for 125 ms): the explorer's Flicker
#: mode shows the flicker task at this rate by default.
FLICKER_SWITCHES_PER_SECOND = 8.0


@dataclass(frozen=True)
class ViewingCondition:
    """How the reference and the distorted image are viewed.

    Attributes
    ----------
    ppd
        Pixels per degree of visual angle at the centre of the screen (38: a 24-inch 1080p monitor at 60 cm).
    task
        ``side-by-side`` or ``flicker`` (:data:`TASKS`).
    """

    ppd: float = DEFAULT_PPD
    task: str = DEFAULT_TASK

    def __post_init__(self) -> None:
        try:
            ppd = float(self.ppd)
        except (TypeError, ValueError):
            raise JndViewerError(
                f"A viewing condition needs a number of pixels per degree, not {self.ppd!r}."
            ) from None
        if not math.isfinite(ppd) or ppd <= 0:
            raise JndViewerError(f"A viewing condition of {ppd:g} pixels per degree is not possible.")
        object.__setattr__(self, "ppd", ppd)
        if self.task not in TASKS:
            raise JndViewerError(f"Unknown viewing task {self.task!r}; choose {' or '.join(TASKS)}.")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The condition's fields, in order (what a predictor may or may not honour)."""
        return tuple(f.name for f in fields(cls))

    def non_default_fields(self) -> tuple[str, ...]:
        """The fields set to something other than the default condition's value."""
        default = ViewingCondition()
        return tuple(name for name in self.field_names() if getattr(self, name) != getattr(default, name))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ViewingCondition:
        """A condition from its dict (fields it does not name take the default; unknown keys are ignored)."""
        known = cls.field_names()
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def describe(self) -> str:
        """One phrase for readouts and logs, e.g. ``38 ppd, side by side``."""
        return describe_condition(self.to_dict())


#: A distance within this factor of the nearest one a threshold or a network was fitted at counts as fitted there.
FITTED_DISTANCE_MARGIN = 1.1


def beyond_distances(ppd: float, fitted: tuple[float, ...]) -> bool:
    """Whether ``ppd`` lies outside the distances something was fitted at (by more than
    :data:`FITTED_DISTANCE_MARGIN`); never for an empty ``fitted``."""
    return bool(fitted) and not min(fitted) / FITTED_DISTANCE_MARGIN <= ppd <= max(fitted) * FITTED_DISTANCE_MARGIN


def describe_condition(condition: dict[str, Any]) -> str:
    """The phrase of a recorded condition (a result's ``condition``): ``38 ppd, flicker``; fields it lacks are left
    out (results from before the task was recorded were side by side, but say only their ppd)."""
    parts = []
    if "ppd" in condition:
        parts.append(f"{float(condition['ppd']):g} ppd")
    if "task" in condition:
        parts.append(TASK_WORDS.get(condition["task"], str(condition["task"])))
    return ", ".join(parts)


#: Words for each condition field in sentences ("cannot take the viewing distance (ppd) into account").
FIELD_WORDS = {"ppd": "the viewing distance (ppd)", "task": "the viewing task (flicker or side by side)"}


def ppd_from_display(diagonal_inches: float, width_px: int, height_px: int, distance_cm: float) -> float:
    """Pixels per degree of visual angle at the centre of a screen.

    ``ppd = d tan(1 deg) W_px / W_cm``, where ``d`` is the viewing distance, ``W_px`` the horizontal resolution and
    ``W_cm = D 2.54 W_px / sqrt(W_px^2 + H_px^2)`` the screen width from its diagonal ``D`` in inches (square pixels).
    A 24-inch 1920x1080 monitor at 60 cm gives 37.8 ppd.

    Raises
    ------
    JndViewerError
        If any input is not positive.
    """
    if min(diagonal_inches, width_px, height_px, distance_cm) <= 0:
        raise JndViewerError("The screen size, resolution and viewing distance must all be positive.")
    width_cm = diagonal_inches * 2.54 * width_px / math.hypot(width_px, height_px)
    return ppd_from_pixel_size(distance_cm, width_cm / width_px)


def ppd_from_pixel_size(distance: float, pixel_size: float) -> float:
    """Pixels per degree at the centre of a screen seen from ``distance`` whose pixels are ``pixel_size`` wide (both
    in one unit): ``d tan(1 deg) / p``. The study mode measures the pixel size with a card on screen."""
    return distance * math.tan(math.radians(1.0)) / pixel_size


#: Display presets for the viewing-condition dialog: (label, diagonal in inches, width px, height px, distance cm).
DISPLAY_PRESETS: tuple[tuple[str, float, int, int, float], ...] = (
    ("24-inch 1920x1080 monitor at 60 cm", 24.0, 1920, 1080, 60.0),
    ("27-inch 3840x2160 monitor at 60 cm", 27.0, 3840, 2160, 60.0),
    ("14-inch 2560x1600 laptop at 50 cm", 14.0, 2560, 1600, 50.0),
    ("6.1-inch 2532x1170 phone at 30 cm", 6.1, 2532, 1170, 30.0),
    ("55-inch 3840x2160 TV at 2 m", 55.0, 3840, 2160, 200.0),
)

__all__ = [
    "DEFAULT_PPD", "DEFAULT_TASK", "DISPLAY_PRESETS", "FIELD_WORDS", "FLICKER", "FLICKER_SWITCHES_PER_SECOND",
    "PPD_RANGE", "SIDE_BY_SIDE", "TASKS", "TASK_WORDS", "ViewingCondition", "describe_condition", "ppd_from_display",
]
