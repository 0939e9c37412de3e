"""The noise-injection experiment, live: random-sign noise shaped by a JND map against flat noise of the same PSNR.

``shaped = clip(Y + alpha S JND)``, ``flat = clip(Y + c S)`` with the same signs S (+-1, equiprobable, fixed seed),
both rounded to 8 bits as a screen shows them, with the same random dither (plain rounding would leave flat noise
only whole gray levels, so its PSNR could not be set finer than about 0.5 dB); alpha and c are found by bisection so
that each PSNR
(:func:`jndviewer.core.metrics.psnr`) is the target within :data:`PSNR_TOLERANCE_DB`. The field's standard test of a
pixel JND model (docs: /work/shared/references/pixel_jnd_models.md §8.1; ``benchmarks/noise_injection.py`` runs it
on Kodak).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.lessons.model import Control, Lesson, LessonContext, LessonFigure, Picture
from jndviewer.core.lessons.pixel_lessons import PIXEL_MODELS
from jndviewer.core.metrics import psnr

#: Each noise's PSNR lands within this many dB of the target (so the two are within twice this of each other).
PSNR_TOLERANCE_DB = 0.01
MAX_BISECTIONS = 80
#: The seed of the random signs, shared by both noises.
SIGN_SEED = 20


@dataclass
class Injection:
    """Noise added to reach a PSNR: the scale found (alpha or c), the PSNR reached and the 8-bit result."""

    scale: float
    psnr: float
    distorted: np.ndarray


def random_signs(shape: tuple[int, ...], seed: int = SIGN_SEED) -> np.ndarray:
    """S in {-1, +1}, independent and equiprobable, from a fixed seed."""
    return np.random.default_rng(seed).integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0


def dither(shape: tuple[int, ...], seed: int = SIGN_SEED + 1) -> np.ndarray:
    """Uniform offsets in [0, 1) added before rounding down (the same for both noises)."""
    return np.random.default_rng(seed).random(shape)


def inject(reference: np.ndarray, pattern: np.ndarray, target_psnr: float) -> Injection:
    """The scale k for which ``clip(floor(reference + k pattern + dither))`` has PSNR ``target_psnr`` against
    ``reference`` (8-bit gray), within :data:`PSNR_TOLERANCE_DB`.

    The error of each pixel grows with k (clipping and rounding down keep it monotone), so bisection finds k;
    without clipping or rounding k = sqrt(MSE / mean(pattern^2)), where the search starts.
    """
    reference = np.asarray(reference)
    base = reference.astype(np.float64) + dither(reference.shape)
    energy = float(np.mean(pattern**2))
    if energy <= 0.0:
        raise JndViewerError("The noise pattern is zero everywhere.")
    target_mse = 255.0**2 / 10.0 ** (target_psnr / 10.0)

    def distort(k: float) -> tuple[np.ndarray, float]:
        out = np.clip(np.floor(base + k * pattern), 0, 255).astype(np.uint8)
        return out, psnr(reference, out)

    low, high = 0.0, math.sqrt(target_mse / energy)
    out, reached = distort(high)
    while reached > target_psnr:  # clipping or rounding lowered the error: widen
        low, high = high, 2.0 * high
        if high > 1e4:
            raise JndViewerError(f"A PSNR of {target_psnr:g} dB cannot be reached on this image: the noise clips.")
        out, reached = distort(high)
    best = Injection(high, reached, out)
    for _ in range(MAX_BISECTIONS):
        if abs(best.psnr - target_psnr) <= PSNR_TOLERANCE_DB:
            return best
        middle = 0.5 * (low + high)
        out, reached = distort(middle)
        if abs(reached - target_psnr) < abs(best.psnr - target_psnr):
            best = Injection(middle, reached, out)
        if reached > target_psnr:
            low = middle
        else:
            high = middle
    if abs(best.psnr - target_psnr) <= 2 * PSNR_TOLERANCE_DB:
        return best
    raise JndViewerError(f"The noise could not be set to {target_psnr:g} dB (closest {best.psnr:.3f} dB).")


def ms_ssim(reference: np.ndarray, distorted: np.ndarray) -> tuple[str, float]:
    """MS-SSIM (pytorch_msssim, 5 scales) of two 8-bit gray images; single-scale SSIM
    (:func:`jndviewer.core.metrics.ssim`) when the image is too small for five scales. Returns (name, value)."""
    if min(reference.shape) <= 160:
        from jndviewer.core.metrics import ssim

        return "SSIM", ssim(reference, distorted)
    import torch
    from pytorch_msssim import ms_ssim as msssim

    x = torch.from_numpy(distorted.astype(np.float32))[None, None]
    y = torch.from_numpy(reference.astype(np.float32))[None, None]
    with torch.no_grad():
        return "MS-SSIM", float(msssim(x, y, data_range=255.0, size_average=True))


def shaped_and_flat(context: LessonContext, model: str, target_psnr: float) -> dict[str, Injection]:
    """The two noisy versions of the image's 8-bit luma at ``target_psnr`` (cached per model and PSNR)."""

    def make() -> dict[str, Injection]:
        reference = context.gray_rgb()[..., 0]
        signs = random_signs(reference.shape)
        jnd = context.jnd_component(model)
        return {"shaped": inject(reference, signs * jnd, target_psnr), "flat": inject(reference, signs, target_psnr)}

    return context.cached(("noise", model, round(target_psnr, 3)), make)


def pooled_visibility(context: LessonContext, distorted: np.ndarray) -> float:
    """The training-free predictor's pooled visibility (its default map and pooling, side by side at 38 ppd)."""
    from jndviewer.core.pwjnd.pooled_visibility import default_params
    from jndviewer.core.viewing import ViewingCondition
    from jndviewer.core.visibility.scorer import VisibilityScorer

    scorer = context.cached(
        "gray_scorer", lambda: VisibilityScorer(context.gray_rgb(), default_params(), ViewingCondition())
    )
    return scorer.score(np.repeat(distorted[..., None], 3, axis=-1))


def _noise(context: LessonContext, values: Mapping[str, Any]) -> LessonFigure:
    model, target, show = values["model"], float(values["psnr"]), values["show"]
    noises = shaped_and_flat(context, model, target)
    reference = context.gray_rgb()[..., 0]
    numbers: dict[str, Any] = {"target_psnr": target}
    for kind, injection in noises.items():
        name, similarity = ms_ssim(reference, injection.distorted)
        numbers[kind] = {
            "psnr": injection.psnr, "scale": injection.scale, name.lower(): similarity,
            "visibility": pooled_visibility(context, injection.distorted),
        }  # fmt: skip
    numbers["similarity_name"] = name
    titles = {"shaped": f"Noise shaped by the {model} JND map", "flat": "Flat noise (the same everywhere)"}
    kinds = ("shaped", "flat") if show == "both" else (show,)
    panels = [Picture(f"{titles[kind]}, PSNR {noises[kind].psnr:.2f} dB", noises[kind].distorted) for kind in kinds]
    shaped, flat = numbers["shaped"], numbers["flat"]
    key = name.lower()
    readout = [
        f"PSNR {shaped['psnr']:.2f} dB shaped, {flat['psnr']:.2f} dB flat (target {target:g} dB): the same error "
        "energy.",
        f"{name} {shaped[key]:.4f} shaped, {flat[key]:.4f} flat (1 = identical).",
        f"Pooled visibility (subband model, 38 ppd, side by side) {shaped['visibility']:.3f} shaped, "
        f"{flat['visibility']:.3f} flat (lower: less visible).",
        f"Noise scale: alpha = {shaped['scale']:.3f} times the JND, c = {flat['scale']:.2f} gray levels.",
    ]
    return LessonFigure(panels, readout, numbers)


NOISE = Lesson(
    name="noise",
    title="Shaped vs flat noise at equal PSNR",
    sentences=(
        "PSNR counts every gray level of error alike, wherever it is.",
        "A JND model says where error is hard to see; putting the noise there should make it less visible at the "
        "same PSNR.",
        "Both pictures carry the same random signs and the same mean squared error: one has the noise scaled by the "
        "JND map, the other spread evenly.",
        "Toggle between them: the flat noise shows in the smooth areas, the shaped noise hides in texture.",
        "This is how the field tests a pixel JND model: the better the model, the better the shaped noise scores "
        "at equal PSNR.",
    ),
    formula=(
        "shaped = clip(Y + alpha S JND), flat = clip(Y + c S), S = +1 or -1 at random, alpha and c chosen so that "
        "both PSNR = 10 log10(255^2 / MSE) equal the target. Better masking shows as higher MS-SSIM and lower "
        "pooled visibility for the shaped noise."
    ),
    citation=(
        "The noise-injection test of pixel JND models, e.g. J. Wu et al., IEEE TIP 26(6):2682-2693, 2017 (demo: "
        "alpha = 0.7); MS-SSIM: Z. Wang, E. Simoncelli, A. Bovik, Asilomar 2003; PSNR and SSIM: "
        "jndviewer/core/metrics.py."
    ),
    try_this=(
        "Lower the PSNR to 26 dB and toggle between shaped and flat: where do you first see the noise in each?",
        "Compare the four models at the same PSNR: which one's shaped noise has the highest MS-SSIM on this image?",
    ),
    compute=_noise,
    controls=(
        Control("show", "Show", "choice", "both", choices=("both", "shaped", "flat")),
        Control("psnr", "PSNR", "slider", 30.0, 20, 45, 0.5, unit="dB"),
        Control("model", "JND model", "choice", "wu2017", choices=PIXEL_MODELS),
    ),
)

__all__ = ["NOISE", "Injection", "dither", "inject", "ms_ssim", "pooled_visibility", "random_signs", "shaped_and_flat"]
