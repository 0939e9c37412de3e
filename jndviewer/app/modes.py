"""The comparison modes of the explorer: one enum, each with a one-key shortcut, a label and a tooltip."""

from __future__ import annotations

import enum


class CompareMode(enum.Enum):
    """What the image canvas shows.

    A is the reference (the original image), B the distorted image (the codec's decoded output at the current level).
    Each member carries ``key`` (its one-key shortcut), ``label`` (toolbar text) and ``tooltip``.
    """

    ORIGINAL = ("original", "O", "Original", "Show the reference image (A)")
    DISTORTED = ("distorted", "D", "Distorted", "Show the decoded image at the current level (B)")
    SIDE_BY_SIDE = ("side_by_side", "S", "Side by side", "A and B next to each other, zoom and pan linked")
    WIPE = ("wipe", "W", "Wipe", "A left of a draggable divider, B right of it (keys 1/2/3: all A, half, all B)")
    FLICKER = (
        "flicker", "F", "Flicker",
        "Alternate A and B in place (each shown 125 ms by default, KonJND-1k's flicker test) to spot changes; the "
        "flicker task's predictions are for this view",
    )  # fmt: skip
    DIFFERENCE = (
        "difference", "X", "Difference",
        "The signed luma difference B − A on a diverging scale, amplified by the difference gain: white where A and B "
        "agree, red where B is brighter, blue where it is darker (colour bar in gray levels)",
    )  # fmt: skip
    VISIBILITY = (
        "visibility", "V", "Visibility",
        "Distortion over its visibility threshold (the predictor's subband or pixel model): blue is below the "
        "threshold (invisible), white at 1, red above it (visible)",
    )  # fmt: skip
    JND = ("jnd", "J", "JND map", "The JND map (or one of its components) over the image, with opacity and colour bar")

    def __init__(self, token: str, key: str, label: str, tooltip: str) -> None:
        self.token = token
        self.key = key
        self.label = label
        self.tooltip = tooltip

    @classmethod
    def from_token(cls, token: str, default: CompareMode | None = None) -> CompareMode:
        """The mode whose ``token`` (its settings name) is ``token``; ``default`` (or SIDE_BY_SIDE) otherwise."""
        for mode in cls:
            if mode.token == token:
                return mode
        return default if default is not None else cls.SIDE_BY_SIDE

    @property
    def needs_distorted(self) -> bool:
        """Whether the mode shows the decoded image (or something derived from it)."""
        return self is not CompareMode.ORIGINAL and self is not CompareMode.JND

    @property
    def has_colorbar(self) -> bool:
        return self in (CompareMode.DIFFERENCE, CompareMode.VISIBILITY, CompareMode.JND)


class WipeStop(enum.Enum):
    """The wipe divider's key stops (as in squoosh): all A, half, all B."""

    ALL_A = ("1", 1.0, "Wipe: all A")
    HALF = ("2", 0.5, "Wipe: half")
    ALL_B = ("3", 0.0, "Wipe: all B")

    def __init__(self, key: str, position: float, label: str) -> None:
        self.key = key
        self.position = position
        self.label = label


#: Default flicker rate in Hz: full A-B cycles per second (each image is shown for 1 / (2 rate) seconds). 4 cycles are
#: KonJND-1k's 8 switches per second (each image 125 ms), the flicker task the predictors are calibrated for.
DEFAULT_FLICKER_HZ = 4.0
