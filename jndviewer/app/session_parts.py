"""Two parts of :class:`jndviewer.app.session.Session` kept here so that each module stays small: what a preview's
scale means for the analysis (images over the preview budget, :mod:`jndviewer.core.preview`) and SG-JND's patch
reports of the level shown. A mixin: it uses the session's state, runners and caches and defines nothing else.
"""

from __future__ import annotations

from typing import Any

from jndviewer.app import jobs
from jndviewer.app.jobs import PatchKey
from jndviewer.core import preview, views
from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.viewing import ViewingCondition

#: How many patch-network reports (one per image, codec, level and condition) are kept.
PATCH_CACHE_ENTRIES = 64


class SessionScaleAndPatches:
    """The preview scale and the patch-network reports of :class:`~jndviewer.app.session.Session`."""

    # Provided by Session.
    loaded: Any
    state: Any
    ladder_info: Any
    predictions: Any
    frame: Any
    patch_runner: Any
    patches_ready: Any
    patches_unavailable: Any
    _patches: Any
    _patches_wanted: Any
    _image_serial: int

    @property
    def scale(self) -> int:
        """The factor by which the preview is reduced (1: no preview; everything is at full resolution)."""
        return self.loaded.scale if self.loaded is not None else 1

    def analysis_condition(self) -> ViewingCondition:
        """The condition the JND map, the curve and the predictions are computed for: the state's, or for a preview
        at 1/k scale the same at ppd / k (raises a one-sentence JndViewerError below the models' range)."""
        return preview.preview_condition(self.condition(), self.scale)

    def scale_note(self) -> str:
        """One sentence on what is computed at which scale (empty without a preview)."""
        loaded = self.loaded
        if loaded is None or loaded.preview is None:
            return ""
        height, width = loaded.rgb.shape[:2]
        small_h, small_w = loaded.preview.shape[:2]
        ppd, k = self.state.ppd, self.scale
        return (
            f"{width}×{height} is over {preview.PREVIEW_MAX_PIXELS / 1e6:g} MP: every level is encoded at full "
            f"resolution (B, sizes, bpp) and judged on a {preview.scale_words(k)} ({small_w}×{small_h}; the ppd is "
            f"scaled accordingly, {ppd:g} → {ppd / k:.3g} ppd; detail finer than {k} pixels is not judged): the JND "
            f"and visibility maps, PSNR, the pooled visibility and the decisions of {self._preview_predictors()}. "
            f"{self._full_predictors()}The curve samples "
            f"{len(self.ladder_info.curve_levels) if self.ladder_info else 'about 21'} levels. View > Full resolution "
            "here (R) computes the maps of the region in view at full resolution."
        )

    def _preview_predictors(self) -> str:
        names = [PREDICTORS[n].label for n in self.predictions.names if not self.judged_at_full_resolution(n)]
        return f"the {' and '.join(names)} predictor{'s' if len(names) > 1 else ''}" if names else "no predictor"

    def _full_predictors(self) -> str:
        names = [PREDICTORS[n].short for n in self.predictions.names if PREDICTORS[n].full_resolution]
        verb = "judge" if len(names) > 1 else "judges"
        return f"{' and '.join(names)} {verb} full-resolution patches at {self.state.ppd:g} ppd. " if names else ""

    # ------------------------------------------------------------------------------------------------------------
    # A patch network's weights of the level shown
    # ------------------------------------------------------------------------------------------------------------

    def wanted_patches(self) -> PatchKey | None:
        """The cache key (image, codec, level, condition) of the patch report the overlay needs now, or None."""
        frame = self.frame
        if not self.state.patch_overlay or self.loaded is None or self.ladder_info is None or frame is None:
            return None
        if frame.level != self.state.level:
            return None  # asked again when the level's frame is shown
        return PatchKey(self._image_serial, self.ladder_info.codec, frame.level, self.condition(),
                        self.state.patch_predictor)

    def refresh_patches(self) -> None:
        """Give the overlay the current level's patch report: from the cache, or computed in the background."""
        key = self.wanted_patches()
        if key is None:
            return
        cached = self._patches.get(key)
        if cached is not None:
            self._patches.move_to_end(key)
            self.patches_ready.emit(cached)
            return
        if self.patch_runner.busy:
            self._patches_wanted = key
            return
        self._patches_wanted = None
        assert self.loaded is not None and self.frame is not None
        self.patch_runner.submit(
            jobs.patch_job, key, self.loaded.rgb, self.frame.rgb,
            description=f"{PREDICTORS[key.predictor].short} patch weights at level {self.frame.level}",
        )  # fmt: skip

    def _on_patches(self, result: Any) -> None:
        if isinstance(result, views.Unavailable):
            self._patches_wanted = None  # no weights: asking again for another level would say the same
            self.patches_unavailable.emit(result.reason)
            return
        if result.key.image_serial == self._image_serial:
            self._patches[result.key] = result
            while len(self._patches) > PATCH_CACHE_ENTRIES:
                self._patches.popitem(last=False)
        if result.key == self.wanted_patches():
            self.patches_ready.emit(result)
        self._next_patches()

    def _next_patches(self) -> None:
        wanted, self._patches_wanted = self._patches_wanted, None
        if wanted is not None and wanted == self.wanted_patches():
            self.refresh_patches()

