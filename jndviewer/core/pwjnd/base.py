"""The interface every picture-wise JND predictor implements, and the one skeleton that runs them.

A predictor supplies only its *decision*: for one reference image, seen under one viewing condition and compressed
by one codec, is the distortion of a decoded level visible, and on what score was that decided
(:class:`LevelDecider`)? :meth:`LadderPredictor.predict` does the rest for every predictor alike: it builds (or
takes) the image's ladder, lets a search strategy of :mod:`jndviewer.core.pwjnd.search` ask for decisions level by
level, and assembles the :class:`~jndviewer.core.pwjnd.result.PWJND` with the visited levels, their decisions,
scores and sizes, the viewing condition and the predictor's own parameters.

A new predictor is a subclass of :class:`LadderPredictor` with a ``name`` and a :meth:`~LadderPredictor.decider`,
registered in :mod:`jndviewer.core.pwjnd.registry`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from jndviewer.core.errors import JndViewerError
from jndviewer.core.pwjnd.result import PWJND, LevelRecord
from jndviewer.core.viewing import ViewingCondition

#: ``progress(levels decided so far, the level just decided)``.
Progress = Callable[[int, int], None]

#: The shortest side, in pixels, of an image a predictor judges. Below it there is nothing to judge: the subband
#: model has no band below 4 pixels a side (16 gives two), a 4:2:0 JPEG block is 16 x 16, and the pooling window
#: is 16 pixels; such images used to get the worst level, decided on a score of 0 at every level.
MIN_PREDICT_SIDE = 16


@dataclass(frozen=True)
class LevelDecision:
    """A predictor's verdict on one level: visible or not, and the score it was decided on (for plots and tables)."""

    visible: bool
    score: float


class LevelDecider(Protocol):
    """A predictor's state for one reference image, codec and viewing condition."""

    def decide(self, level: int, decoded_rgb: np.ndarray) -> LevelDecision:
        """Whether the distortion of ``decoded_rgb`` (the image at ``level``) is visible."""
        ...

    def result_params(self, level: int, decoded_rgb: np.ndarray) -> dict[str, Any]:
        """What the result records of the predictor's parameters, once ``level`` is the PW-JND."""
        ...


class LadderPredictor(ABC):
    """A picture-wise JND predictor that decides level by level and searches a ladder with a strategy.

    Parameters
    ----------
    condition
        The viewing condition the prediction is for (default: 38 pixels per degree).
    strategy
        A search strategy of :data:`jndviewer.core.pwjnd.search.STRATEGIES` (default: the predictor's own).
    """

    #: The registry name, recorded in every result.
    name: ClassVar[str] = ""
    #: The search strategy used unless another is asked for.
    default_strategy: ClassVar[str] = "block"

    def __init__(self, *, condition: ViewingCondition | None = None, strategy: str | None = None) -> None:
        self.condition = condition or ViewingCondition()
        self.strategy = strategy or self.default_strategy

    def caveats(self, codec: str) -> list[str]:
        """Sentences a user should read beside this predictor's PW-JND for codec family ``codec`` at
        :attr:`condition`: where what it rests on was not made for them (none by default). A result records them
        (``params["caveats"]``); ``predict`` and ``export`` say them before any work, the explorer beside the PW-JND."""
        return []

    def caveats_for(self, codec: Any) -> list[str]:
        """Everything to say beside a PW-JND over ``codec``'s levels: the codec's own caveats (a folder of unknown
        family), then this predictor's for its family (:meth:`caveats`)."""
        return [*codec.caveats(), *self.caveats(codec.family)]

    @abstractmethod
    def decider(self, reference_rgb: np.ndarray, codec: str) -> LevelDecider:
        """The per-level decision for one reference image compressed by a codec of family ``codec`` (``jpeg``,
        ``webp``, ..., :attr:`jndviewer.core.codecs.base.Codec.family`), under :attr:`condition`."""

    def predict(
        self,
        image: Any,
        codec_or_ladder: Any,
        *,
        name: str = "",
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> PWJND:
        """Predict the PW-JND of ``image`` (an Image or RGB array) over a codec's (or a Ladder's) levels.

        ``progress`` is called after each decision; ``cancel`` stops the encodes (raising ``Cancelled``).
        """
        from jndviewer.core.ladder import Ladder
        from jndviewer.core.metrics import psnr
        from jndviewer.core.pwjnd.search import search

        started = time.perf_counter()
        own_ladder = not isinstance(codec_or_ladder, Ladder)
        ladder = Ladder(image, codec_or_ladder) if own_ladder else codec_or_ladder
        try:
            codec, reference = ladder.codec, ladder.reference
            check_predictable(reference)
            decider = self.decider(reference, codec.family)  # whose calibration applies (a folder's: its files')
            ordered = codec.ordered_worst_to_best()
            records: dict[int, LevelRecord] = {}

            def decide(position: int) -> bool:
                level = ordered[position]
                rung = ladder.rung(level, cancel=cancel)
                decision = decider.decide(level, rung.decoded)
                records[level] = LevelRecord(level, decision.visible, decision.score, rung.nbytes, rung.bpp)
                if progress is not None:
                    progress(len(records), level)
                return decision.visible

            found = search(len(ordered), decide, self.strategy)
            level = ordered[found.position]
            rung = ladder.rung(level, cancel=cancel)
            best = ladder.rung(codec.best_level(), cancel=cancel)
            trace = [ordered[p] for p in found.visited]
            height, width = reference.shape[:2]
            return PWJND(
                image=name,
                codec=codec.name,
                predictor=self.name,
                level=int(level),
                nbytes=rung.nbytes,
                bpp=rung.bpp,
                best_level=int(codec.best_level()),
                best_nbytes=best.nbytes,
                bitrate_saving=1.0 - rung.nbytes / best.nbytes,
                psnr=float(psnr(reference, rung.decoded)),
                all_visible=found.all_visible,
                trace=trace,
                records=[records[lv] for lv in trace],
                params={"strategy": self.strategy, **decider.result_params(int(level), rung.decoded),
                        **({"caveats": caveats} if (caveats := self.caveats_for(codec)) else {})},
                condition=self.condition.to_dict(),
                width=int(width),
                height=int(height),
                seconds=time.perf_counter() - started,
            )
        finally:
            if own_ladder:
                ladder.close()


def check_predictable(rgb: np.ndarray) -> None:
    """Raise a one-sentence JndViewerError when an image is smaller than :data:`MIN_PREDICT_SIDE` on a side."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_PREDICT_SIDE:
        raise JndViewerError(
            f"A {width}×{height}-pixel image is too small to predict a JND for: the predictors need at least "
            f"{MIN_PREDICT_SIDE}×{MIN_PREDICT_SIDE} pixels."
        )


__all__ = ["MIN_PREDICT_SIDE", "LadderPredictor", "LevelDecider", "LevelDecision", "Progress", "check_predictable"]
