"""What the explorer's background jobs produce, the typed keys of its cached pictures, and the jobs themselves.

Jobs run on pool threads (:class:`~jndviewer.app.workers.JobRunner`) and touch no Qt object; the Qt-free work they
do is in :mod:`jndviewer.core.views`.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from jndviewer.app.workers import JobContext
from jndviewer.core import preview, views
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import ViewingCondition

#: Rung cache of a ladder in MiB (about 60 decoded 1080p levels).
LADDER_CACHE_MB = 384


@dataclass
class LoadedImage:
    """A loaded image, and the preview the whole-image jobs run on (:mod:`jndviewer.core.preview`)."""

    path: str
    image: Any  # jndviewer.core.image.Image
    rgb: np.ndarray  # read-only H x W x 3 uint8
    seconds: float
    scale: int = 1  # the preview is ``rgb`` reduced by this factor (1: no preview, everything at full resolution)
    preview: np.ndarray | None = None  # read-only; None when ``scale`` is 1

    @property
    def analysed(self) -> np.ndarray:
        """The reference the JND map, the curve and the predictions judge against: the preview, or the image."""
        return self.rgb if self.preview is None else self.preview


@dataclass
class LadderInfo:
    """What the level controls need to know about the current codec."""

    codec: str
    title: str
    level_name: str
    better: str
    ordered: tuple[int, ...]  # worst to best
    best: int
    curve_levels: tuple[int, ...]


@dataclass
class Frame:
    """The decoded image at one level."""

    level: int
    rgb: np.ndarray
    nbytes: int
    bpp: float
    encode_ms: float
    cached: bool


@dataclass
class JndLayer:
    """A JND map or component coloured for display."""

    component: str
    values: np.ndarray
    colors: np.ndarray
    vmin: float
    vmax: float
    label: str


# -- typed keys of the derived pictures: the kind is the key's type ---------------------------------------------


@dataclass(frozen=True)
class DifferenceKey:
    """|B - A| of ``level``, amplified by ``gain``."""

    level: int
    gain: float


@dataclass(frozen=True)
class VisibilityKey:
    """The visibility map of ``level`` against the JND map number ``jnd_serial`` (drawn over the luma or not)."""

    level: int
    jnd_serial: int
    over_luma: bool = False


@dataclass(frozen=True)
class JndLayerKey:
    """A component (or the threshold) of the JND map number ``jnd_serial``, coloured."""

    component: str
    jnd_serial: int


DerivedKey = DifferenceKey | VisibilityKey | JndLayerKey


@dataclass(frozen=True)
class PatchKey:
    """A patch predictor's report of one level of one image through one codec, seen under one viewing condition."""

    image_serial: int
    codec: str
    level: int
    condition: ViewingCondition
    predictor: str = "sgjnd"


@dataclass
class Derived:
    """A picture derived from the reference, a level and/or the JND map."""

    key: DerivedKey
    value: Any  # numpy array (difference), views.VisibilityView or JndLayer


# -- jobs ------------------------------------------------------------------------------------------------------------


def frame_of(rung: Any, *, cached: bool) -> Frame:
    return Frame(rung.level, rung.decoded, rung.nbytes, rung.bpp, 1000.0 * rung.encode_seconds, cached)


def load_job(context: JobContext, path: str) -> LoadedImage:
    from jndviewer.core.image import load

    started = time.perf_counter()
    image = load(path)
    rgb = np.ascontiguousarray(image.rgb8())
    rgb.setflags(write=False)
    scale = preview.preview_factor(*rgb.shape[:2])
    reduced = preview.downscale(rgb, scale) if scale > 1 else None
    return LoadedImage(path, image, rgb, time.perf_counter() - started, scale, reduced)


def codec_job(
    context: JobContext, rgb: np.ndarray, spec: str, reduced: np.ndarray | None = None, factor: int = 1
) -> tuple[Any, LadderInfo, Any, Any]:
    """The ladder of the image shown, its :class:`LadderInfo`, the ladder the curve and most predictions judge, and
    the one of the predictors that judge full-resolution patches (``PredictorInfo.full_resolution``).

    Without a preview all three are one ladder. With one (``reduced`` by ``factor``), the ladder shown keeps at most
    :data:`~jndviewer.core.preview.FULL_RESOLUTION_RUNGS` rungs and prefetches none; the judged ladder holds the
    full-resolution encodes reduced as the preview was, the patch predictors' ladder the same encodes as they are
    (one rung kept), both through :class:`~jndviewer.core.preview.ReducedEncodes` sharing one lock (one full-size
    encode in the background at a time); and the curve samples about 21 levels."""
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.image import Image
    from jndviewer.core.ladder import Ladder

    codec = create_codec(spec)
    ordered = tuple(int(v) for v in codec.ordered_worst_to_best())
    context.check()
    if reduced is None:
        ladder = analysed = patches = Ladder(rgb, codec, cache_megabytes=LADDER_CACHE_MB, prefetch_radius=2)
    else:
        bound = preview.full_resolution_cache_megabytes(*rgb.shape[:2])
        ladder = Ladder(Image(rgb), codec, cache_megabytes=bound, prefetch_radius=0)  # an Image: not copied
        lock = threading.Lock()
        encodes = preview.ReducedEncodes(ladder, factor, lock)
        analysed = Ladder(Image(reduced), encodes, cache_megabytes=LADDER_CACHE_MB, prefetch_radius=0)
        patches = Ladder(Image(rgb), preview.ReducedEncodes(ladder, 1, lock), cache_megabytes=bound / 2,
                         prefetch_radius=0)  # fmt: skip
    info = LadderInfo(
        codec=spec,
        title=codec.title or spec,
        level_name=codec.level_name,
        better=codec.better,
        ordered=ordered,
        best=int(codec.best_level()),
        curve_levels=tuple(views.curve_levels(codec, subsample=reduced is not None)),
    )
    return ladder, info, analysed, patches


def rung_job(context: JobContext, ladder: Any, level: int) -> Frame:
    return frame_of(ladder.rung(level, cancel=context.cancel), cached=False)


def derived_job(
    context: JobContext, key: DerivedKey, reference: np.ndarray, ladder: Any, jnd: Any, analysed: Any = None
) -> Derived:
    """A derived picture: the difference of the level shown (full resolution, ``ladder``), or a map of the JND
    map's scale (the visibility of ``analysed``'s rung: the preview's when there is one)."""
    if isinstance(key, DifferenceKey):
        rung = ladder.rung(key.level, cancel=context.cancel)
        return Derived(key, views.signed_difference_image(reference, rung.decoded, key.gain))
    if isinstance(key, VisibilityKey):
        rung = (analysed or ladder).rung(key.level, cancel=context.cancel)
        return Derived(key, views.visibility_view(key.level, rung.decoded, jnd, key.over_luma))
    values = jnd.layer(key.component)
    colors, low, high = views.colorize(values)
    return Derived(key, JndLayer(key.component, values, colors, low, high, jnd.layer_label(key.component)))


def jnd_job(
    context: JobContext, rgb: np.ndarray, params: Any, condition: ViewingCondition, model_params: dict[str, Any],
    device: str, pixel_model: str, scale: int = 1,
) -> Any:
    """The JND map of ``rgb``; a preview at 1/``scale`` is seen at ``ppd / scale`` (:mod:`jndviewer.core.preview`)."""
    condition = preview.preview_condition(condition, scale)
    return views.compute_jnd(rgb, params, condition, model_params, device, pixel_model)


def curve_job(context: JobContext, ladder: Any, levels: tuple[int, ...], scorer: Any) -> Any:
    total = len(levels)
    for done, level in enumerate(levels, start=1):
        rung = ladder.rung(level, cancel=context.cancel)
        psnr = rung.psnr
        point = {
            "level": level,
            "nbytes": rung.nbytes,
            "bpp": rung.bpp,
            "psnr": None if not np.isfinite(psnr) else float(psnr),
            "score": None if scorer is None else float(scorer.score(rung.decoded)),
        }
        context.progress(done, total, f"level {level}")
        yield point


def predict_job(
    context: JobContext, name: str, short: str, loaded: LoadedImage, ladder: Any, options: dict[str, Any],
    condition: ViewingCondition, device: str, scale: int = 1,
) -> Any:
    """Any registered predictor's PW-JND through ``ladder`` (or ``views.Unavailable``); a ladder judged on a preview
    at 1/``scale`` is judged at ``ppd / scale`` (:mod:`jndviewer.core.preview`)."""
    from jndviewer.core.device import select_device

    condition = preview.preview_condition(condition, scale)

    def progress(done: int, level: int) -> None:
        context.progress(done, 0, f"{short}: {done} levels, now level {level}")

    return views.run_prediction(
        name, loaded.image, ladder, options=options, condition=condition, device=select_device(device),
        progress=progress, cancel=context.cancel, label=loaded.path,
    )


def patch_job(context: JobContext, key: PatchKey, reference: np.ndarray, decoded: np.ndarray) -> Any:
    context.check()
    return views.patch_report(key, key.level, reference, decoded, key.codec, key.condition, key.predictor)


def probe_job(context: JobContext, preference: str) -> tuple[list[str], str, list[Any]]:
    from jndviewer.core.device import describe_device, select_device

    devices, codecs = machine_catalog()
    try:
        description = describe_device(select_device(preference))
    except JndViewerError as err:
        description = str(err)
    return devices, description, codecs


@functools.cache
def machine_catalog() -> tuple[list[str], list[Any]]:
    """The devices and codecs of this machine (they do not change while the process runs)."""
    from jndviewer.core.codecs import codec_catalog
    from jndviewer.core.device import available_devices

    return available_devices(), codec_catalog()
