"""What the explorer's background jobs produce, the typed keys of its cached pictures, and the jobs themselves.

Jobs run on pool threads (:class:`~jndviewer.app.workers.JobRunner`) and touch no Qt object; the Qt-free work they
do is in :mod:`jndviewer.core.views`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from jndviewer.app.workers import JobContext
from jndviewer.core import views
from jndviewer.core.errors import JndViewerError
from jndviewer.core.viewing import ViewingCondition

#: Rung cache of a ladder in MiB (about 60 decoded 1080p levels).
LADDER_CACHE_MB = 384


@dataclass
class LoadedImage:
    path: str
    image: Any  # jndviewer.core.image.Image
    rgb: np.ndarray  # read-only H x W x 3 uint8
    seconds: float


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
    """The visibility map of ``level`` against the JND map number ``jnd_serial``."""

    level: int
    jnd_serial: int


@dataclass(frozen=True)
class JndLayerKey:
    """A component (or the threshold) of the JND map number ``jnd_serial``, coloured."""

    component: str
    jnd_serial: int


DerivedKey = DifferenceKey | VisibilityKey | JndLayerKey


@dataclass(frozen=True)
class PatchKey:
    """SG-JND's patch report of one level of one image through one codec, seen under one viewing condition."""

    image_serial: int
    codec: str
    level: int
    condition: ViewingCondition


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
    return LoadedImage(path, image, rgb, time.perf_counter() - started)


def codec_job(context: JobContext, rgb: np.ndarray, spec: str) -> tuple[Any, LadderInfo]:
    from jndviewer.core.codecs import create_codec
    from jndviewer.core.ladder import Ladder

    codec = create_codec(spec)
    ordered = tuple(int(v) for v in codec.ordered_worst_to_best())
    context.check()
    ladder = Ladder(rgb, codec, cache_megabytes=LADDER_CACHE_MB, prefetch_radius=2)
    info = LadderInfo(
        codec=spec,
        title=codec.title or spec,
        level_name=codec.level_name,
        better=codec.better,
        ordered=ordered,
        best=int(codec.best_level()),
        curve_levels=tuple(views.curve_levels(codec)),
    )
    return ladder, info


def rung_job(context: JobContext, ladder: Any, level: int) -> Frame:
    return frame_of(ladder.rung(level, cancel=context.cancel), cached=False)


def derived_job(context: JobContext, key: DerivedKey, reference: np.ndarray, ladder: Any, jnd: Any) -> Derived:
    if isinstance(key, DifferenceKey):
        rung = ladder.rung(key.level, cancel=context.cancel)
        return Derived(key, views.signed_difference_image(reference, rung.decoded, key.gain))
    if isinstance(key, VisibilityKey):
        rung = ladder.rung(key.level, cancel=context.cancel)
        return Derived(key, views.visibility_view(key.level, rung.decoded, jnd))
    values = jnd.layer(key.component)
    colors, low, high = views.colorize(values)
    return Derived(key, JndLayer(key.component, values, colors, low, high, jnd.layer_label(key.component)))


def jnd_job(
    context: JobContext, rgb: np.ndarray, params: Any, condition: ViewingCondition, model_params: dict[str, Any],
    device: str, pixel_model: str,
) -> Any:
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
    condition: ViewingCondition, device: str,
) -> Any:
    """Any registered predictor's PW-JND through the explorer's ladder (or ``views.Unavailable``)."""
    from jndviewer.core.device import select_device

    def progress(done: int, level: int) -> None:
        context.progress(done, 0, f"{short}: {done} levels, now level {level}")

    return views.run_prediction(
        name, loaded.image, ladder, options=options, condition=condition, device=select_device(device),
        progress=progress, cancel=context.cancel, label=loaded.path,
    )


def patch_job(context: JobContext, key: PatchKey, reference: np.ndarray, decoded: np.ndarray) -> Any:
    context.check()
    return views.patch_report(key, key.level, reference, decoded, key.codec, key.condition)


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
