"""The viewing condition: what every predictor and visibility model is told about how the images are seen.

A picture-wise JND is a threshold of a viewer, so it depends on how the images are viewed. Today the condition holds
the viewing distance as pixels per degree of visual angle (ppd): at more pixels per degree each pixel covers a
smaller angle and fine distortions fade. Every prediction records the condition it was made for
(:attr:`jndviewer.core.pwjnd.result.PWJND.condition`), and a predictor that cannot take a field into account says
so in one sentence instead of ignoring it (:func:`jndviewer.core.pwjnd.registry.create_predictor`).
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


@dataclass(frozen=True)
class ViewingCondition:
    """How the reference and the distorted image are viewed.

    Attributes
    ----------
    ppd
        Pixels per degree of visual angle at the centre of the screen (38: a 24-inch 1080p monitor at 60 cm).
    """

    ppd: float = DEFAULT_PPD

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
        """One phrase for readouts and logs, e.g. ``38 ppd``."""
        return f"{self.ppd:g} ppd"


#: Words for each condition field in sentences ("cannot take the viewing distance (ppd) into account").
FIELD_WORDS = {"ppd": "the viewing distance (ppd)"}


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
    return distance_cm * math.tan(math.radians(1.0)) * width_px / width_cm


#: Display presets for the viewing-condition dialog: (label, diagonal in inches, width px, height px, distance cm).
DISPLAY_PRESETS: tuple[tuple[str, float, int, int, float], ...] = (
    ("24-inch 1920x1080 monitor at 60 cm", 24.0, 1920, 1080, 60.0),
    ("27-inch 3840x2160 monitor at 60 cm", 27.0, 3840, 2160, 60.0),
    ("14-inch 2560x1600 laptop at 50 cm", 14.0, 2560, 1600, 50.0),
    ("6.1-inch 2532x1170 phone at 30 cm", 6.1, 2532, 1170, 30.0),
    ("55-inch 3840x2160 TV at 2 m", 55.0, 3840, 2160, 200.0),
)

__all__ = ["DEFAULT_PPD", "DISPLAY_PRESETS", "FIELD_WORDS", "PPD_RANGE", "ViewingCondition", "ppd_from_display"]
