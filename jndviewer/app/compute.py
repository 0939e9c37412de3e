"""Qt-free work the explorer's jobs run: JND maps at the viewing condition, visibility, difference, export.

Nothing here imports Qt, and torch only inside functions, so these helpers could move into :mod:`jndviewer.core`
unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from jndviewer.core.colormap import apply_colormap, visibility_colors
from jndviewer.core.errors import JndViewerError

#: Codecs fast enough to sweep every level for the rate curve; slower ones are subsampled.
FAST_CODECS = frozenset({"jpeg", "jpeg422", "jpeg444", "webp", "folder"})
#: How many points a subsampled rate curve has at most.
SLOW_CODEC_POINTS = 21


# --------------------------------------------------------------------------------------------------------------------
# Viewing condition
# --------------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------------
# JND maps and visibility
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamField:
    """One model parameter as an editor shows it."""

    name: str
    kind: str  # "float", "int" or "choice"
    default: Any
    choices: tuple[str, ...] = ()


@dataclass
class ModelInfo:
    """What the controls need to know about a JND model (known only once torch is imported)."""

    name: str
    title: str
    citation: str
    component_names: tuple[str, ...]
    fields: tuple[ParamField, ...]


def predictor_params(
    *, jnd_model: str, ppd: float, pooling: str, strategy: str, threshold: float | None
) -> Any:
    """The PW-JND predictor's parameters: the calibration's best variant of ``jnd_model`` (``subband`` or a pixel
    model) with the user's choices on top."""
    from jndviewer.core.pwjnd.visibility import default_params

    return replace(
        default_params(jnd_model), ppd=float(ppd), pooling=pooling, strategy=strategy, threshold=threshold
    )


@dataclass
class JndResult:
    """A JND map computed at the simulated viewing condition, with its components and a scorer for any level.

    Attributes
    ----------
    threshold : numpy.ndarray
        ``h x w`` float32 threshold in gray levels, at the predictor's analysis scale (``model_ppd / ppd`` times the
        image size; the image size itself when the scale is 1).
    components : dict of numpy.ndarray
        The model's named parts at the same scale.
    scale : float
        ``model_ppd / ppd``.
    scorer : VisibilityScorer
        Scores decoded images against this map (the predictor's pooling).
    """

    model: str
    title: str
    threshold: np.ndarray
    components: dict[str, np.ndarray]
    scale: float
    scorer: Any
    info: ModelInfo
    model_params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    seconds: float = 0.0

    def layer(self, name: str) -> np.ndarray:
        """``"threshold"`` or a component by name (the threshold when the name is unknown)."""
        return self.components.get(name, self.threshold) if name != "threshold" else self.threshold

    def layer_label(self, name: str) -> str:
        if name == "pattern_complexity":
            return "orientation bins"
        if name in ("edge_weight", "edge_protection"):
            return "weight"
        return "gray levels"


def compute_jnd(
    reference_rgb: np.ndarray,
    params: Any,
    model_params: dict[str, Any] | None = None,
    device: str = "auto",
    pixel_model: str | None = None,
) -> JndResult:
    """The JND map (and components) of an image as the PW-JND predictor sees it at ``params.ppd``, and its scorer.

    The reference is resampled by ``params.model_ppd / params.ppd`` exactly as
    :class:`~jndviewer.core.pwjnd.visibility.VisibilityScorer` does (it is built here and its luma reused); the model
    is run once, with ``model_params``, and the scorer keeps that map (with its components), so that pooled scores and
    the displayed visibility agree. When the predictor uses the subband model
    (``params.jnd_model == "subband"``) the scorer keeps its subband visibility, and the map shown is that of
    ``pixel_model`` at the image's own resolution.
    """
    import torch

    from jndviewer.core.device import describe_device, select_device
    from jndviewer.core.jnd import create_model
    from jndviewer.core.pwjnd.visibility import VisibilityScorer

    started = time.perf_counter()
    torch_device = select_device(device)
    model = create_model(pixel_model or params.jnd_model, **(model_params or {}))
    scorer = VisibilityScorer(reference_rgb, params, torch_device, model=model)
    jnd = scorer.jnd_map if scorer.jnd_map is not None else model(scorer.reference)
    if torch_device.type == "cuda":
        torch.cuda.synchronize(torch_device)
    threshold = jnd.threshold[0, 0].float().cpu().numpy()
    components = {name: value[0, 0].float().cpu().numpy() for name, value in jnd.components.items()}
    info = describe_model(type(model))
    return JndResult(
        model=model.name,
        title=model.title,
        threshold=threshold,
        components=components,
        scale=scorer.scale,
        scorer=scorer,
        info=info,
        model_params=dict(model_params or {}),
        device=describe_device(torch_device),
        seconds=time.perf_counter() - started,
    )


def describe_model(cls: type) -> ModelInfo:
    """The :class:`ModelInfo` of a JND model class (its parameter dataclass becomes editor fields)."""
    fields = []
    defaults = cls.params_type()
    for item in dataclasses.fields(cls.params_type):
        value = getattr(defaults, item.name)
        if item.name == "border":
            fields.append(ParamField(item.name, "choice", value, ("replicate", "zero")))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            fields.append(ParamField(item.name, "int", value))
        elif isinstance(value, float):
            fields.append(ParamField(item.name, "float", value))
    return ModelInfo(cls.name, cls.title, getattr(cls, "citation", ""), tuple(cls.component_names), tuple(fields))


@dataclass
class VisibilityView:
    """The visibility map of one level, ready to show."""

    level: int
    values: np.ndarray  # h x w float32, |distortion| / JND
    colors: np.ndarray  # h x w x 3 uint8 on the fixed diverging scale
    fraction_visible: float
    minkowski: float
    max_window_mean: float
    score: float
    seconds: float


def visibility_view(level: int, decoded_rgb: np.ndarray, jnd: JndResult) -> VisibilityView:
    """|distortion| / JND of a decoded image at the analysis scale, its colours and its pooled scores."""
    from jndviewer.core.visibility import pool_visibility

    started = time.perf_counter()
    scorer = jnd.scorer
    v = scorer.visibility(decoded_rgb)
    # Pooled exactly as VisibilityScorer.score pools, so the score here is the one the predictor decides on.
    (pooled,) = pool_visibility(v, minkowski_exponent=scorer.params.minkowski_exponent, window=scorer.params.window)
    values = v[0, 0].float().cpu().numpy()
    score = {"minkowski": pooled.minkowski, "max_window": pooled.max_window_mean, "fraction": pooled.fraction_visible}
    return VisibilityView(
        level=level,
        values=values,
        colors=visibility_colors(values),
        fraction_visible=pooled.fraction_visible,
        minkowski=pooled.minkowski,
        max_window_mean=pooled.max_window_mean,
        score=score.get(scorer.params.pooling, pooled.minkowski),
        seconds=time.perf_counter() - started,
    )


def map_range(values: np.ndarray) -> tuple[float, float]:
    """The colour range of a map: 0 (or its minimum when negative) to its 99.9th percentile (as ``jndviewer map``)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low = min(0.0, float(finite.min()))
    high = float(np.percentile(finite, 99.9))
    if not high > low:
        high = low + 1.0
    return low, high


def colorize(values: np.ndarray, colormap: str = "inferno") -> tuple[np.ndarray, float, float]:
    """A map as ``h x w x 3`` uint8 colours with the range used."""
    low, high = map_range(values)
    return apply_colormap(values, low, high, colormap), low, high


def difference_image(reference: np.ndarray, distorted: np.ndarray, gain: float) -> np.ndarray:
    """``min(255, gain |B - A|)`` per channel as uint8 (rounded to nearest)."""
    diff = np.abs(distorted.astype(np.int16) - reference.astype(np.int16)).astype(np.float32)
    return np.clip(np.rint(diff * np.float32(gain)), 0, 255).astype(np.uint8)


def curve_levels(codec: Any) -> list[int]:
    """The levels the rate curve samples, worst to best: all of them for fast codecs, about 21 for slow ones."""
    ordered = list(codec.ordered_worst_to_best())
    name = codec.name or "folder"
    if name in FAST_CODECS or len(ordered) <= SLOW_CODEC_POINTS:
        return ordered
    step = max(1, math.ceil((len(ordered) - 1) / (SLOW_CODEC_POINTS - 1)))
    picked = ordered[::step]
    if picked[-1] != ordered[-1]:
        picked.append(ordered[-1])
    return picked


def default_level(ordered_worst_to_best: tuple[int, ...] | list[int]) -> int:
    """The level shown first: three quarters of the way from worst to best (JPEG quality 75)."""
    return ordered_worst_to_best[round(0.75 * (len(ordered_worst_to_best) - 1))]


# --------------------------------------------------------------------------------------------------------------------
# SG-JND (the trained predictor beside the training-free one)
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unavailable:
    """SG-JND cannot run here (no trained weights): the one sentence to show instead of its results."""

    reason: str


def sgjnd_available() -> tuple[bool, str]:
    """Whether the SG-JND weights exist, and why not (read at call time, so a finished training is picked up)."""
    from jndviewer.core.pwjnd import sgjnd

    return sgjnd.is_available()


def predict_sgjnd(image: Any, ladder: Any, *, name: str = "", progress: Any = None, cancel: Any = None) -> Any:
    """SG-JND's PW-JND through ``ladder`` (its own sliding-window search), or :class:`Unavailable`."""
    from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor

    available, reason = sgjnd_available()
    if not available:
        return Unavailable(reason)
    return SGJNDPredictor().predict(image, ladder, name=name, progress=progress, cancel=cancel)


@dataclass
class PatchReport:
    """SG-JND's patches of one distorted version: where they are, their weights and their quality logits.

    ``positions`` are ``(top, left)`` in image pixels, each patch ``patch`` pixels square; ``weights`` are normalised
    (they sum to 1); ``quality[i] > 0`` means the distortion is predicted visible in patch ``i``; ``logit`` is the
    weighted image logit (> 0: visible at this level).
    """

    key: tuple[Any, ...]
    level: int
    positions: list[tuple[int, int]]
    patch: int
    weights: list[float]
    quality: list[float]
    logit: float
    seconds: float = 0.0

    def cells(self) -> list[tuple[float, float, float, float]]:
        """Each patch's cell on screen, ``(top, left, height, width)``: the patch itself, except that where two
        neighbouring patches of the grid overlap, the overlap is split at its middle, so the cells tile the covered
        image and every point belongs to one patch."""
        rows = _axis_cells([top for top, _ in self.positions], self.patch)
        cols = _axis_cells([left for _, left in self.positions], self.patch)
        cells = []
        for top, left in self.positions:
            (row_start, row_end), (col_start, col_end) = rows[top], cols[left]
            cells.append((row_start, col_start, row_end - row_start, col_end - col_start))
        return cells

    def index_at(self, x: float, y: float) -> int | None:
        """The patch whose cell holds image point (x, y), or None."""
        for index, (top, left, height, width) in enumerate(self.cells()):
            if left <= x < left + width and top <= y < top + height:
                return index
        return None

    def describe(self, index: int) -> str:
        """One line about a patch, numbered from 1: ``patch 5: weight 0.143, quality +1.20 (visible)``."""
        quality = self.quality[index]
        verdict = "visible" if quality > 0 else "not visible"
        return f"patch {index + 1}: weight {self.weights[index]:.3f}, quality {quality:+.2f} ({verdict})"


def _axis_cells(starts: list[int], patch: int) -> dict[int, tuple[float, float]]:
    """Start and end of each distinct patch start along one axis, overlaps with the neighbours split in the middle."""
    ordered = sorted(set(starts))
    cells = {}
    for index, start in enumerate(ordered):
        low, high = float(start), float(start + patch)
        if index > 0 and ordered[index - 1] + patch > start:
            low = (start + ordered[index - 1] + patch) / 2
        if index + 1 < len(ordered) and ordered[index + 1] < start + patch:
            high = (ordered[index + 1] + start + patch) / 2
        cells[start] = (low, high)
    return cells


def patch_report(key: tuple[Any, ...], level: int, reference: Any, decoded_rgb: np.ndarray) -> Any:
    """SG-JND's :class:`PatchReport` of a decoded level (``SGJNDPredictor.patch_report``), or :class:`Unavailable`."""
    from jndviewer.core.pwjnd.sgjnd import SGJNDPredictor

    available, reason = sgjnd_available()
    if not available:
        return Unavailable(reason)
    started = time.perf_counter()
    report = SGJNDPredictor().patch_report(reference, decoded_rgb, codec=str(key[1]))  # key: (image, codec, level)
    return PatchReport(
        key=key,
        level=int(level),
        positions=[(int(top), int(left)) for top, left in report["positions"]],
        patch=int(report["patch"]),
        weights=[float(w) for w in report["weight"]],
        quality=[float(q) for q in report["quality"]],
        logit=float(report["logit"]),
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------------------------





