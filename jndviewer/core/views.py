"""What the explorer shows, computed without Qt: JND maps at the viewing condition, visibility and difference
pictures, the rate curve's levels, and any registered predictor's prediction.

The explorer's jobs call these on worker threads; tests call them headless. torch is imported only inside functions,
so that the window appears before it is loaded.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from jndviewer.core.colormap import apply_colormap, visibility_colors
from jndviewer.core.viewing import SIDE_BY_SIDE, ViewingCondition

#: Codecs fast enough to sweep every level for the rate curve; slower ones are subsampled.
FAST_CODECS = frozenset({"jpeg", "jpeg422", "jpeg444", "webp", "folder"})
#: How many points a subsampled rate curve has at most.
SLOW_CODEC_POINTS = 21
#: The difference picture is computed in strips of about this many pixels (its float temporaries stay that small).
DIFFERENCE_STRIP_PIXELS = 1 << 20


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


def predictor_params(*, jnd_model: str, pooling: str, threshold: float | None, task: str = SIDE_BY_SIDE) -> Any:
    """The training-free predictor's parameters: the calibration's best variant of ``jnd_model`` (``subband`` or a
    pixel model) for the viewing ``task``, with the user's pooling and threshold on top."""
    from jndviewer.core.pwjnd.pooled_visibility import default_params

    return replace(default_params(jnd_model, task), pooling=pooling, threshold=threshold)


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
    condition: ViewingCondition,
    model_params: dict[str, Any] | None = None,
    device: str = "auto",
    pixel_model: str | None = None,
) -> JndResult:
    """The JND map (and components) of an image as the PW-JND predictor sees it under ``condition``, and its scorer.

    The reference is resampled by ``params.model_ppd / condition.ppd`` exactly as
    :class:`~jndviewer.core.visibility.scorer.VisibilityScorer` does (it is built here and its luma reused); the model
    is run once, with ``model_params``, and the scorer keeps that map (with its components), so that pooled scores and
    the displayed visibility agree. When the predictor uses the subband model
    (``params.jnd_model == "subband"``) the scorer keeps its subband visibility, and the map shown is that of
    ``pixel_model`` at the image's own resolution.
    """
    import torch

    from jndviewer.core.device import describe_device, select_device
    from jndviewer.core.jnd import compiled, create_model
    from jndviewer.core.visibility.scorer import VisibilityScorer

    started = time.perf_counter()
    torch_device = select_device(device)
    model = create_model(pixel_model or params.jnd_model, **(model_params or {}))
    # One map per image: below the size where the compiled kernels pay for their loading (about half a second,
    # numba's import and cache) the torch path shows the first map sooner (768x512 wu2017: 52 ms against 536 ms in
    # a fresh process); once loaded, or for large images, the kernels serve.
    with compiled.for_one_map(model.name, reference_rgb.shape[0] * reference_rgb.shape[1]):
        scorer = VisibilityScorer(reference_rgb, params, condition, torch_device, model=model)
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
    colors: np.ndarray  # h x w x 3 uint8 on the fixed diverging scale, or over the luma (``over_luma``)
    fraction_visible: float
    minkowski: float
    max_window_mean: float
    score: float
    seconds: float
    over_luma: bool = False


def visibility_view(level: int, decoded_rgb: np.ndarray, jnd: JndResult, over_luma: bool = False) -> VisibilityView:
    """|distortion| / JND of a decoded image at the analysis scale, its colours (on their own, or over the reference's
    luma at that scale: :mod:`jndviewer.core.visibility_picture`) and its pooled scores."""
    from jndviewer.core.visibility.pixel import pool_visibility
    from jndviewer.core.visibility_picture import visibility_over_luma

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
        colors=visibility_over_luma(values, _luma_of(scorer)) if over_luma else visibility_colors(values),
        fraction_visible=pooled.fraction_visible,
        minkowski=pooled.minkowski,
        max_window_mean=pooled.max_window_mean,
        score=score.get(scorer.params.pooling, pooled.minkowski),
        seconds=time.perf_counter() - started,
        over_luma=over_luma,
    )


def _luma_of(scorer: Any) -> np.ndarray:
    """The reference's luma the scorer analyses (at the analysis scale), as an ``h x w`` array."""
    return scorer.reference[0, 0].float().cpu().numpy()


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


def difference_range(gain: float) -> float:
    """The luma difference (gray levels) that the explorer's difference mode draws at full colour: ``128 / gain``."""
    return 128.0 / max(float(gain), 1e-6)


def signed_difference_image(reference: np.ndarray, distorted: np.ndarray, gain: float) -> np.ndarray:
    """The signed luma difference ``Y(B) - Y(A)`` on the diverging scale, amplified by ``gain``: white where the images
    agree, red where B is brighter, blue where it is darker, full colour at ``±difference_range(gain)`` gray levels
    (h x w x 3 uint8). Luma, as the JND maps and the cursor readout measure it."""
    from jndviewer.core.image import LUMA_WEIGHTS

    weights = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    limit = difference_range(gain)
    height, width = reference.shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    rows = max(1, DIFFERENCE_STRIP_PIXELS // max(1, width))  # strips: the float temporaries stay small on big images
    for top in range(0, height, rows):
        part = slice(top, top + rows)
        delta = (distorted[part].astype(np.float32) - reference[part].astype(np.float32)) @ weights
        out[part] = apply_colormap(delta, -limit, limit, "diverging")
    return out


def difference_image(reference: np.ndarray, distorted: np.ndarray, gain: float) -> np.ndarray:
    """``min(255, gain |B - A|)`` per channel as uint8 (rounded to nearest)."""
    diff = np.abs(distorted.astype(np.int16) - reference.astype(np.int16)).astype(np.float32)
    return np.clip(np.rint(diff * np.float32(gain)), 0, 255).astype(np.uint8)


def curve_levels(codec: Any, *, subsample: bool = False) -> list[int]:
    """The levels the rate curve samples, worst to best: all of them for fast codecs, about 21 for slow ones (and for
    any codec with ``subsample``: a very large image, each of whose levels is a full-size encode)."""
    ordered = list(codec.ordered_worst_to_best())
    name = codec.name or "folder"
    if (name in FAST_CODECS and not subsample) or len(ordered) <= SLOW_CODEC_POINTS:
        return ordered
    step = max(1, math.ceil((len(ordered) - 1) / (SLOW_CODEC_POINTS - 1)))
    picked = ordered[::step]
    if picked[-1] != ordered[-1]:
        picked.append(ordered[-1])
    return picked


def default_level(ordered_worst_to_best: tuple[int, ...] | list[int], swept: Sequence[int] | None = None) -> int:
    """The level shown first: three quarters of the way from worst to best (JPEG quality 75); with ``swept`` (the
    levels the rate curve samples), the nearest of those, so that the first readout has its PSNR and score."""
    ordered = list(ordered_worst_to_best)
    wanted = round(0.75 * (len(ordered) - 1))
    if swept:
        candidates = [ordered.index(level) for level in swept if level in ordered]
        if candidates:
            wanted = min(candidates, key=lambda position: (abs(position - wanted), -position))
    return ordered[wanted]


# --------------------------------------------------------------------------------------------------------------------
# Predictions of any registered predictor
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unavailable:
    """A predictor cannot run here (e.g. its weights were never trained): the one sentence to show instead."""

    predictor: str
    reason: str


def run_prediction(
    name: str,
    image: Any,
    ladder: Any,
    *,
    options: dict[str, Any] | None = None,
    condition: ViewingCondition | None = None,
    device: Any = None,
    progress: Any = None,
    cancel: Any = None,
    label: str = "",
) -> Any:
    """The PW-JND of a registered predictor through ``ladder``, or :class:`Unavailable` when it cannot run here.

    Its weights are looked for at call time, so a finished training is picked up.
    """
    from jndviewer.core.pwjnd.registry import create_predictor, predictor_info

    info = predictor_info(name)
    available, reason = info.weights_status()
    if not available:
        return Unavailable(name, reason)
    predictor = create_predictor(info, options, condition=condition, device=device)
    return predictor.predict(image, ladder, name=label, progress=progress, cancel=cancel)


def patch_report(
    key: Any, level: int, reference: Any, decoded_rgb: np.ndarray, codec: str, condition: ViewingCondition,
    predictor: str = "sgjnd",
) -> Any:
    """A patch predictor's (SG-JND's, VP-JNDnet's) :class:`~jndviewer.core.pwjnd.sgjnd.patches.PatchReport` of a
    decoded level, or :class:`Unavailable`."""
    from jndviewer.core.pwjnd.registry import create_predictor, predictor_info
    from jndviewer.core.pwjnd.sgjnd.patches import PatchReport

    info = predictor_info(predictor)
    available, reason = info.weights_status()
    if not available:
        return Unavailable(predictor, reason)
    if not info.patches:
        return Unavailable(predictor, f"The {info.short} predictor judges no patches.")
    started = time.perf_counter()
    report = create_predictor(info, condition=condition).patch_report(reference, decoded_rgb, codec=codec)
    return PatchReport(
        key=key,
        level=int(level),
        positions=[(int(top), int(left)) for top, left in report["positions"]],
        patch=int(report["patch"]),
        weights=[float(w) for w in report["weight"]],
        quality=[float(q) for q in report["quality"]],
        logit=float(report["logit"]),
        seconds=time.perf_counter() - started,
        member_logits=[float(logit) for logit in report.get("member_logits", [])],
    )
