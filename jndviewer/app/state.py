"""The explorer's observable view model.

:class:`ViewState` holds everything a user chooses (image, codec, level, mode, wipe position, flicker rate, JND model
and its parameters, viewing condition, component, overlay opacity, ...). Widgets bind to it and tests drive the app
through it; it never touches pixels or threads. Every field has a ``<name>_changed`` signal that fires only when the
value really changes, and the persistent fields round-trip through :class:`~PySide6.QtCore.QSettings`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from jndviewer.app.modes import DEFAULT_FLICKER_HZ, CompareMode
from jndviewer.core.catalog import DEFAULT_JND_MODEL, JND_MODEL_NAMES, POOLINGS
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.pwjnd.search import STRATEGIES
from jndviewer.core.viewing import DEFAULT_PPD, DEFAULT_TASK, PPD_RANGE, TASKS

ORGANIZATION = "jndviewer"
APPLICATION = "jndviewer"
MAX_RECENT = 8
#: What the training-free predictor's visibility is relative to, with their labels.
VISIBILITY_MODEL_LABELS = (("subband", "subband contrast"), ("pixel", "JND map (pixel model)"))
VISIBILITY_MODELS = tuple(name for name, _ in VISIBILITY_MODEL_LABELS)


def open_settings() -> QSettings:
    """The user's settings: an INI file in the platform's config folder (tests redirect it with ``setPath``)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _field(name: str, kind: Callable[[Any], Any] | None = None) -> property:
    def getter(self: ViewState) -> Any:
        return self._values[name]

    def setter(self: ViewState, value: Any) -> None:
        if kind is not None and value is not None:
            value = kind(value)
        if _same(self._values[name], value):
            return
        self._values[name] = value
        getattr(self, f"{name}_changed").emit(value)

    return property(getter, setter, doc=f"The ``{name}`` field (emits ``{name}_changed``).")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _clamp(low: float, high: float) -> Callable[[Any], float]:
    return lambda value: min(high, max(low, float(value)))


class ViewState(QObject):
    """The explorer's observable state.

    Fields
    ------
    image_path : str
        The file shown ("" before one is loaded).
    codec : str
        Codec spec (registry name or ``folder:PATH``).
    level : int or None
        The codec level shown as B (None: the codec's default, chosen when the ladder is built).
    mode : CompareMode
        What the canvas shows.
    wipe : float
        Divider position as a fraction of the image width (A left of it, B right): 1 all A, 0 all B.
    flicker_hz : float
        Full A-B cycles per second in flicker mode.
    difference_gain : float
        Amplification of the signed difference B - A in difference mode (full colour at 128 / gain gray levels).
    jnd_model : str
        Pixel-wise JND model (``core.jnd`` registry name).
    model_params : dict
        Overrides of the model's parameters (empty: the published values).
    ppd : float
        Viewing condition in pixels per degree.
    task : str
        Viewing task the predictions are for: ``side-by-side`` or ``flicker``.
    component : str
        ``"threshold"`` or one of the model's component names, shown in JND mode.
    overlay_opacity : float
        Opacity of the JND map over the image in JND mode, 0..1.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``mps``.
    threshold : float or None
        Decision threshold of the PW-JND predictor (None: the calibrated one).
    visibility_model : str
        What the training-free predictor's visibility is relative to: ``subband`` (band-limited contrast
        thresholds, the calibrated default) or ``pixel`` (the JND map of ``jnd_model``).
    pooling, strategy : str
        Pooling and search strategy of the predictor.
    go_predictor : str
        Whose PW-JND "Go to JND" and the exports use: a registered predictor (``visibility``, ``sgjnd``, ...).
    patch_overlay : bool
        Draw a patch predictor's patch weights of the current level over the image.
    patch_predictor : str
        Whose patches the overlay draws: a registered predictor that judges patches (``sgjnd``, ``vpjnd``).
    visibility_over_luma : bool
        Draw the visibility map over the reference's luma (as ColorVideoVDP and HDR-VDP do) instead of on its own.
    """

    image_path_changed = Signal(str)
    codec_changed = Signal(str)
    level_changed = Signal(object)
    mode_changed = Signal(object)
    wipe_changed = Signal(float)
    flicker_hz_changed = Signal(float)
    difference_gain_changed = Signal(float)
    jnd_model_changed = Signal(str)
    model_params_changed = Signal(object)
    ppd_changed = Signal(float)
    task_changed = Signal(str)
    component_changed = Signal(str)
    overlay_opacity_changed = Signal(float)
    device_changed = Signal(str)
    threshold_changed = Signal(object)
    visibility_model_changed = Signal(str)
    pooling_changed = Signal(str)
    strategy_changed = Signal(str)
    go_predictor_changed = Signal(str)
    patch_overlay_changed = Signal(bool)
    patch_predictor_changed = Signal(str)
    visibility_over_luma_changed = Signal(bool)

    #: Fields written to and read from the settings (image_path and level are session-only).
    PERSISTENT = (
        "codec", "mode", "wipe", "flicker_hz", "difference_gain", "jnd_model", "model_params", "ppd", "task",
        "component", "overlay_opacity", "device", "threshold", "visibility_model", "pooling", "strategy",
        "go_predictor", "patch_overlay", "patch_predictor", "visibility_over_luma",
    )  # fmt: skip

    image_path = _field("image_path", str)
    codec = _field("codec", str)
    level = _field("level", int)
    mode = _field("mode")
    wipe = _field("wipe", _clamp(0.0, 1.0))
    flicker_hz = _field("flicker_hz", _clamp(0.5, 30.0))
    difference_gain = _field("difference_gain", _clamp(1.0, 64.0))
    jnd_model = _field("jnd_model", str)
    model_params = _field("model_params", dict)
    ppd = _field("ppd", _clamp(*PPD_RANGE))
    task = _field("task", str)
    component = _field("component", str)
    overlay_opacity = _field("overlay_opacity", _clamp(0.0, 1.0))
    device = _field("device", str)
    threshold = _field("threshold", float)
    visibility_model = _field("visibility_model", str)
    pooling = _field("pooling", str)
    strategy = _field("strategy", str)
    go_predictor = _field("go_predictor", str)
    patch_overlay = _field("patch_overlay", bool)
    patch_predictor = _field("patch_predictor", str)
    visibility_over_luma = _field("visibility_over_luma", bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, Any] = self.defaults()

    @staticmethod
    def defaults() -> dict[str, Any]:
        """The value of every field in a fresh state."""
        return {
            "image_path": "",
            "codec": "jpeg",
            "level": None,
            "mode": CompareMode.SIDE_BY_SIDE,
            "wipe": 0.5,
            "flicker_hz": DEFAULT_FLICKER_HZ,
            "difference_gain": 8.0,
            "jnd_model": DEFAULT_JND_MODEL,
            "model_params": {},
            "ppd": DEFAULT_PPD,
            "task": DEFAULT_TASK,
            "component": "threshold",
            "overlay_opacity": 0.75,
            "device": "auto",
            "threshold": None,
            "visibility_model": "subband",
            "pooling": "minkowski",
            "strategy": "block",
            "go_predictor": "visibility",
            "patch_overlay": False,
            "patch_predictor": "sgjnd",
            "visibility_over_luma": False,
        }

    def as_dict(self) -> dict[str, Any]:
        """A plain copy of every field (the mode as its token)."""
        values = dict(self._values)
        values["mode"] = values["mode"].token
        values["model_params"] = dict(values["model_params"])
        return values

    # ------------------------------------------------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------------------------------------------------

    def save(self, settings: QSettings) -> None:
        """Write the persistent fields under ``state/``."""
        values = self.as_dict()
        settings.beginGroup("state")
        try:
            for name in self.PERSISTENT:
                value = values[name]
                if name == "model_params":
                    value = json.dumps(value)
                elif value is None:
                    value = ""
                settings.setValue(name, value)
        finally:
            settings.endGroup()

    def restore(self, settings: QSettings) -> None:
        """Read the persistent fields written by :meth:`save`; missing or unreadable values keep their defaults."""
        defaults = self.defaults()
        settings.beginGroup("state")
        try:
            for name in self.PERSISTENT:
                if not settings.contains(name):
                    continue
                raw = settings.value(name)
                try:
                    value = self._parse(name, raw, defaults[name])
                except (TypeError, ValueError):
                    continue
                setattr(self, name, value)
        finally:
            settings.endGroup()

    @staticmethod
    def _parse(name: str, raw: Any, default: Any) -> Any:
        if name == "mode":
            return CompareMode.from_token(str(raw), default)
        if name == "model_params":
            value = json.loads(str(raw) or "{}")
            if not isinstance(value, dict):
                raise ValueError(name)
            return value
        if name == "threshold":
            return None if raw in ("", None) else float(raw)
        if name == "jnd_model":
            return str(raw) if str(raw) in JND_MODEL_NAMES else default
        if name == "go_predictor":
            return str(raw) if str(raw) in PREDICTORS else default
        if name == "patch_predictor":
            return str(raw) if str(raw) in PREDICTORS and PREDICTORS[str(raw)].patches else default
        if name == "task":
            return str(raw) if str(raw) in TASKS else default
        if name == "pooling":
            return str(raw) if str(raw) in POOLINGS else default
        if name == "strategy":
            return str(raw) if str(raw) in STRATEGIES else default
        if name == "visibility_model":
            return str(raw) if str(raw) in VISIBILITY_MODELS else default
        if isinstance(default, bool):  # INI files give "true" / "false"
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1", "yes")
        if isinstance(default, float):
            return float(raw)
        return str(raw)


def recent_files(settings: QSettings) -> list[str]:
    """The recently opened files, newest first."""
    value = settings.value("recent_files", [])
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v) for v in (value or [])][:MAX_RECENT]


def remember_file(settings: QSettings, path: str) -> list[str]:
    """Put ``path`` first in the recent files (without duplicates) and return the new list."""
    files = [path] + [p for p in recent_files(settings) if p != path]
    files = files[:MAX_RECENT]
    settings.setValue("recent_files", files)
    return files
