"""What defines the pixel JND models, without torch: the papers' kernels and constants, each model's parameters,
and the small NumPy helpers that build filter taps.

The torch models (:mod:`~jndviewer.core.jnd.ops`, :mod:`~jndviewer.core.jnd.canny` and the model modules) and their
NumPy forms for one-shot maps (:mod:`~jndviewer.core.jnd.numpy_models`) both read them from here, so that importing
them costs no torch import. Every constant is cited where it is defined; docs/jnd_models.md has the definitions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jndviewer.core.errors import ModelError

BORDER_MODES: tuple[str, ...] = ("replicate", "zero")

# ---------------------------------------------------------------------------------------------------------------
# Kernels defined by the papers
# ---------------------------------------------------------------------------------------------------------------

#: Background-luminance weights B (Chou & Li 1995, Eq. 9); sum 32, centre excluded.
BACKGROUND_KERNEL = (
    (1, 1, 1, 1, 1),
    (1, 2, 2, 2, 1),
    (1, 2, 0, 2, 1),
    (1, 2, 2, 2, 1),
    (1, 1, 1, 1, 1),
)
BACKGROUND_KERNEL_SUM = 32.0

#: Chou & Li 1995 directional high-pass operators G1..G4 (Eq. 7-8), each applied with weight 1/16.
GRADIENT_KERNELS = (
    ((0, 0, 0, 0, 0), (1, 3, 8, 3, 1), (0, 0, 0, 0, 0), (-1, -3, -8, -3, -1), (0, 0, 0, 0, 0)),
    ((0, 0, 1, 0, 0), (0, 8, 3, 0, 0), (1, 3, 0, -3, -1), (0, 0, -3, -8, 0), (0, 0, -1, 0, 0)),
    ((0, 0, 1, 0, 0), (0, 0, 3, 8, 0), (-1, -3, 0, 3, 1), (0, -8, -3, 0, 0), (0, 0, -1, 0, 0)),
    ((0, 1, 0, -1, 0), (0, 3, 0, -3, 0), (0, 8, 0, -8, 0), (0, 3, 0, -3, 0), (0, 1, 0, -1, 0)),
)
GRADIENT_KERNEL_SCALE = 1.0 / 16.0

#: Luminance-adaptation curve constants (Chou & Li 1995, Eq. 5-6): T0, gamma and the knee at 127.
LA_T0 = 17.0
LA_GAMMA = 3.0 / 128.0
LA_KNEE = 127.0

#: Chou & Li 1995 contrast-masking line (Eq. 2-4): alpha(bg) = 0.0001 bg + 0.115, beta(bg) = lambda - 0.01 bg.
CM_ALPHA_SLOPE = 0.0001
CM_ALPHA_INTERCEPT = 0.115
CM_LAMBDA = 0.5
CM_BETA_SLOPE = 0.01

#: NAMM overlap coefficient for luminance (Yang et al. 2005), used by every successor.
NAMM_OVERLAP = 0.3

#: Dark-region remap of Wu et al.'s reference code (``func_bg_adjust``): bg <= 127 is mapped onto [32, 127].
DARK_REMAP_MIN_LUMINANCE = 32.0


def check_border(border: str) -> None:
    """Raise :class:`ModelError` unless ``border`` is a supported border mode."""
    if border not in BORDER_MODES:
        raise ModelError(f"Unknown border mode {border!r}; use one of {', '.join(BORDER_MODES)}.")




def gaussian_taps(size: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB ``fspecial('gaussian', size, sigma)`` (integer offsets, normalised to sum 1).

    ``fspecial``'s 2-D kernel is the outer product of this vector with itself.
    """
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    return taps / taps.sum()


def disk_row_half_widths(radius: int) -> list[int]:
    """Half-width of ``disk(radius)`` (offsets with dy^2 + dx^2 <= r^2) on each row dy = -r..r."""
    return [math.isqrt(radius * radius - dy * dy) for dy in range(-radius, radius + 1)]


# ---------------------------------------------------------------------------------------------------------------
# Canny (MATLAB edge(I, 'canny', T))
# ---------------------------------------------------------------------------------------------------------------

#: MATLAB ``edge(I, 'canny', T)``: default sigma and the low/high threshold ratio.
CANNY_SIGMA = math.sqrt(2.0)
CANNY_LOW_RATIO = 0.4
#: Gradient magnitudes below this (gray levels per pixel) are rounding residue of the smoothing and count as 0.
CANNY_MIN_MAGNITUDE = 1e-3


def canny_taps(sigma: float = CANNY_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D Gaussian and derivative-of-Gaussian taps of MATLAB's ``edge(..., 'canny')`` (``smoothGradient``).

    Returns ``(gauss, deriv)`` as *correlation* taps: ``deriv`` is already flipped, so correlating with it gives
    MATLAB's convolution, positive where the image increases.
    """
    extent = math.ceil(4.0 * sigma)
    offsets = np.arange(-extent, extent + 1, dtype=np.float64)
    gauss = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    gauss /= gauss.sum()
    deriv = np.gradient(gauss)
    positive, negative = deriv > 0, deriv < 0
    deriv[positive] /= deriv[positive].sum()
    deriv[negative] /= -deriv[negative].sum()
    return gauss, deriv[::-1].copy()



#: Non-maximum suppression sectors of MATLAB's ``cannyFindLocalMaxima``: for each, which ratio interpolates
#: (``"y/x"`` = |iy/ix|, ``"x/y"`` = |ix/iy|) and the (dy, dx) neighbours weighted (1 - d) and d on either side.
CANNY_SECTORS = (
    ("y/x", ((0, 1), (-1, 1)), ((0, -1), (1, -1))),
    ("x/y", ((-1, 0), (-1, 1)), ((1, 0), (1, -1))),
    ("x/y", ((-1, 0), (-1, -1)), ((1, 0), (1, 1))),
    ("y/x", ((0, -1), (-1, -1)), ((0, 1), (1, 1))),
)
#: The same sectors as arrays for the compiled NMS: 0 for |iy/ix|, 1 for |ix/iy|; (sector, side, neighbour, dy/dx).
CANNY_SECTOR_RATIO_KINDS = np.array([0 if kind == "y/x" else 1 for kind, _, _ in CANNY_SECTORS], dtype=np.int64)
CANNY_SECTOR_SIDES = np.array([[side1, side2] for _, side1, side2 in CANNY_SECTORS], dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------------
# Parameters of the models
# ---------------------------------------------------------------------------------------------------------------

#: The smallest image side the models accept (the 5x5 operators and Canny's 13-tap filters need some room).
MIN_IMAGE_SIDE = 8


@dataclass(frozen=True)
class BorderParams:
    """Parameters every model has.

    Attributes
    ----------
    border
        ``"replicate"`` (default: every pixel computed alike) or ``"zero"`` (the zero padding and border masks of
        the public reference implementations, for numeric cross-checks).
    """

    border: str = "replicate"


# ---------------------------------------------------------------------------------------------------------------
# Wu et al. 2017 (pattern complexity)
# ---------------------------------------------------------------------------------------------------------------

#: Luminance-contrast window radius R = 2, i.e. a 5x5 window (Eq. 7).
CONTRAST_WINDOW = 5
#: Gradient magnitude under which a pixel is "plain" and has no orientation (reference code: ``Cimg >= 5``).
ORIENTATION_MIN_GRADIENT = 5.0
#: Orientation bin width 2 * otr = 12 degrees (otr = 6); bins 0..15 for valid pixels, 16 for plain ones.
ORIENTATION_BIN_DEGREES = 12
PLAIN_BIN = 16
#: Smoothing of the per-pixel complexity count: 3x3 Gaussian, sigma 1 (reference ``func_ori_cmlx_compute``).
COMPLEXITY_BLUR = (3, 1.0)
#: Edge protection: Canny edges dilated by disk(3), then a 5x5 Gaussian with sigma 0.8 (``func_edge_protect``).
EDGE_DILATION_RADIUS = 3
EDGE_PROTECTION_BLUR = (5, 0.8)


@dataclass(frozen=True)
class Wu2017Params(BorderParams):
    """Parameters of the pattern-complexity model (defaults: the paper's and the released code's).

    Attributes
    ----------
    luminance_scale
        Factor on the luminance-adaptation curve (0.7 in the released code, Eq. 13).
    contrast_gain, contrast_knee
        a1 = 0.115 * 16 = 1.84 and a2 = 26 of the contrast-masking transducer (Eq. 11).
    complexity_gain, complexity_exponent, complexity_offset
        a3 = 0.3, a4 = 2.7, a5 = 1 of the complexity transducer (Eq. 10).
    edge_height
        Edge height (in gray levels) that sets the relative Canny threshold 60 / max(edge height).
    max_canny_threshold
        Upper bound of that threshold (0.8).
    overlap
        NAMM overlap coefficient (0.3, Eq. 14).
    """

    luminance_scale: float = 0.7
    contrast_gain: float = 0.115 * 16
    contrast_knee: float = 26.0
    complexity_gain: float = 0.3
    complexity_exponent: float = 2.7
    complexity_offset: float = 1.0
    edge_height: float = 60.0
    max_canny_threshold: float = 0.8
    overlap: float = NAMM_OVERLAP


# ---------------------------------------------------------------------------------------------------------------
# Yang et al. 2005 (NAMM)
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Yang2005Params(BorderParams):
    """Parameters of the NAMM model.

    Attributes
    ----------
    texture_gain
        eta, the texture-masking gain (0.117 in the paper).
    edge_weight
        Weight of Canny edge pixels in W_e before low-pass filtering (0.1 in the paper; 1 elsewhere).
    canny_threshold
        MATLAB-style relative Canny threshold; the paper gives none, 0.5 is that of the circulating implementation.
    overlap
        NAMM overlap coefficient C (0.3 for luminance).
    """

    texture_gain: float = 0.117
    edge_weight: float = 0.1
    canny_threshold: float = 0.5
    overlap: float = NAMM_OVERLAP


#: W_e low-pass filter: 7x7 Gaussian with sigma 0.8 (Yang et al. 2005).
EDGE_WEIGHT_BLUR = (7, 0.8)
