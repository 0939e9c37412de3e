"""The readouts: every registered predictor's PW-JND, details of the one Go/Export uses, the current level, times."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.viewing import describe_condition


def format_bytes(nbytes: float) -> str:
    if nbytes < 1000:
        return f"{nbytes:.0f} B"
    if nbytes < 1_000_000:
        return f"{nbytes / 1000:.1f} kB"
    return f"{nbytes / 1_000_000:.2f} MB"


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def short_name(predictor: str) -> str:
    """How readouts and plots name a predictor (its registry name when it is not registered)."""
    info = PREDICTORS.get(predictor)
    return info.short if info is not None else predictor


def summary_key(predictor: str) -> str:
    """The readout row of a predictor's one-line PW-JND."""
    return f"pwjnd:{predictor}"


def here_key(predictor: str) -> str:
    """The readout row of a predictor's verdict at the level shown."""
    return f"here:{predictor}"


def describe_search(result: Any) -> str:
    """How a prediction searched: encodes, time, the predictor's own parameters and the condition, in one line."""
    info = PREDICTORS.get(result.predictor)
    detail = info.describe(result.params) if info is not None else str(result.params.get("strategy", ""))
    where = f" for {describe_condition(result.condition)}" if result.condition else ""
    return f"{result.encodes} encodes in {format_ms(result.seconds)} ({detail}{where})"


def caveats_of(result: Any) -> list[str]:
    """The sentences a result carries about what its PW-JND rests on (``params["caveats"]``; none for None)."""
    return list((getattr(result, "params", None) or {}).get("caveats", ())) if result is not None else []


class ReadoutsPanel(QWidget):
    """The numbers: each predictor's PW-JND, details of the one Go/Export uses, the current level, compute times.

    One summary row per registered predictor gives its PW-JND in one line (level, bpp, saving, viewing condition;
    or why there is none). The detail rows (size, saving, PSNR, search) describe the predictor chosen for
    Go/Export, named in their labels. Under the current level, "Visibility here" gives the pooled visibility and one
    row per other predictor its verdict at the level shown.
    """

    DETAIL_KEYS = ("size", "saving", "psnr", "search", "caveat")
    STYLES: ClassVar[dict[str, str]] = {
        "chosen": "font-weight: bold;", "plain": "", "error": "color: #c62828;", "missing": "color: gray;",
        "pending": "",
    }
    PENDING: ClassVar[str] = "predicting…"

    def __init__(self, parent: QWidget | None = None, predictors: tuple[str, ...] | None = None) -> None:
        super().__init__(parent)
        self.predictors = tuple(PREDICTORS) if predictors is None else predictors
        form = QFormLayout(self)
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(3)  # every row in view at 1440 x 920 (the dock is about 300 px high)
        self.form = form
        self.labels: dict[str, QLabel] = {}
        self.titles: dict[str, QLabel] = {}
        self.base_titles: dict[str, str] = {}
        rows = [("scale", "Scale")]  # shown only for an image with a preview: what is computed at which scale
        rows += [(summary_key(name), f"PW-JND ({short_name(name)})") for name in self.predictors]
        rows += [("zoom", "At this zoom")]  # the predictions assume 100 % (see zoom_ppd.ZoomPrediction)
        rows += [("size", "Size at PW-JND"), ("saving", "Saving"), ("psnr", "PSNR at PW-JND"), ("search", "Search"),
                 ("caveat", "Caveat"), ("current", "Current level"), ("visibility", "Visibility here")]
        rows += [(here_key(name), f"{short_name(name)} here") for name in self.predictors if name != "visibility"]
        rows += [("times", "Compute")]
        for key, title in rows:
            label = QLabel("–")
            label.setObjectName(f"readout_{key.replace(':', '_')}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = label
            form.addRow(f"{title}:", label)
            self.titles[key] = form.labelForField(label)
            self.base_titles[key] = title
            if key.startswith("here:"):
                label.setToolTip("The predictor's verdict at the level shown: from the patch overlay's report, or "
                                 "from its search if the search visited this level ('not visited' otherwise)")
        self.times: dict[str, str] = {}
        self.results: dict[str, Any] = dict.fromkeys(self.predictors)
        self.states: dict[str, str] = dict.fromkeys(self.predictors, "plain")  # plain, pending, error or missing
        self.level_name = "level"
        self.chosen = self.predictors[0] if self.predictors else ""
        #: The scale predictions are judged at (``preview at 1/3 scale``); empty at full resolution.
        self.scale_words = ""
        self.full_resolution: tuple[str, ...] = ()  # predictors judged at full resolution even so
        self.set_scale("")
        self._set_row_visible("caveat", False)  # shown only when the chosen prediction has one
        self._restyle()

    def text(self, key: str) -> str:
        return self.labels[key].text()

    def title(self, key: str) -> str:
        """The label of a row, without its colon."""
        return self.titles[key].text().rstrip(":")

    def set_text(self, key: str, text: str) -> None:
        self.labels[key].setText(text)
        self._fit_height()

    def _set_row_visible(self, key: str, visible: bool) -> None:
        """Show or hide a row, and ask for the height the rows now need (a row shown after the last text set would
        otherwise be cut off at the bottom, with no scroll bar)."""
        self.form.setRowVisible(self.labels[key], visible)
        self._fit_height()

    def _fit_height(self) -> None:
        """Ask for the height the wrapped rows need at the current width: a scroll area sizes its widget by the
        size hint, which does not follow word wrap, and would otherwise cut the last rows off."""
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth() and self.width() > 0:
            self.setMinimumHeight(layout.heightForWidth(self.width()))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def set_scale(self, note: str, words: str = "", full_resolution: tuple[str, ...] = ()) -> None:
        """Say what is computed at which scale (the "Scale" row, hidden when ``note`` is empty), and from now on mark
        with ``words`` (``preview at 1/3 scale``) what the predictors decided on the preview: all but those in
        ``full_resolution``."""
        self.scale_words = words
        self.full_resolution = tuple(full_resolution)
        self.set_text("scale", note or "–")
        self._set_row_visible("scale", bool(note))

    def show_prediction(self, predictor: str, result: Any, level_name: str = "") -> None:
        """A predictor's result in its summary row (None: a dash), and in the detail rows if it is the chosen one."""
        if predictor not in self.results:
            return
        if level_name:
            self.level_name = level_name
        self.results[predictor] = result
        self.states[predictor] = "plain"
        text = "–" if result is None else self.summary(result, self.level_name) + self._judged(predictor)
        caveats = caveats_of(result)
        if caveats:
            text += " · ⚠"  # the sentences: its tooltip, and the Caveat row when it is the chosen predictor
        self.labels[summary_key(predictor)].setToolTip("\n".join(caveats))
        self.set_text(summary_key(predictor), text)
        self._restyle()
        if predictor == self.chosen:
            self._show_details()

    def show_prediction_error(self, predictor: str, message: str, *, missing: bool = False) -> None:
        """Why a predictor has no result, in one line (red; grey when it is only ``missing``, e.g. no weights)."""
        if predictor not in self.results:
            return
        self.show_prediction(predictor, None)
        self.set_text(summary_key(predictor), message)
        self.states[predictor] = "missing" if missing else "error"
        self._restyle()

    def set_pending(self, predictor: str) -> None:
        if predictor not in self.results:
            return
        self.show_prediction(predictor, None)
        self.set_text(summary_key(predictor), self.PENDING)
        self.states[predictor] = "pending"

    def cancel_pending(self, predictor: str) -> None:
        """A pending prediction was cancelled: say so (grey) rather than "predicting…" forever."""
        if self.states.get(predictor) == "pending":
            self.show_prediction_error(predictor, "cancelled (P predicts again)", missing=True)

    def set_chosen(self, predictor: str) -> None:
        """The predictor whose details are shown (the one Go/Export uses); its summary row is bold."""
        self.chosen = predictor
        self._restyle()
        self._show_details()

    @staticmethod
    def summary(result: Any, level_name: str) -> str:
        """``quality 31 · 0.620 bpp · 38.0 % saved · 38 ppd, side by side`` (with a note when even the best level is
        visible): the viewing condition it is for is always said."""
        note = " (even the best level is visible)" if result.all_visible else ""
        where = f" · {describe_condition(result.condition)}" if result.condition else ""
        return (
            f"{level_name} {result.level}{note} · {result.bpp:.3f} bpp · {100 * result.bitrate_saving:.1f} % saved"
            f"{where}"
        )

    def _restyle(self) -> None:
        for predictor in self.predictors:
            state = self.states[predictor]
            if state == "plain" and predictor == self.chosen:
                state = "chosen"
            self.labels[summary_key(predictor)].setStyleSheet(self.STYLES[state])

    def _show_details(self) -> None:
        name = short_name(self.chosen)
        for key in self.DETAIL_KEYS:
            self.titles[key].setText(f"{self.base_titles[key]} ({name}):")
        result, level_name = self.results.get(self.chosen), self.level_name
        if result is None:
            for key in self.DETAIL_KEYS:
                self.set_text(key, "–")
            self._set_row_visible("caveat", False)
            return
        self.set_text("size", f"{format_bytes(result.nbytes)}, {result.bpp:.3f} bpp")
        self.set_text(
            "saving",
            f"{100 * result.bitrate_saving:.1f} % fewer bytes than {level_name} {result.best_level} "
            f"({format_bytes(result.best_nbytes)})",
        )
        psnr = "lossless" if math.isinf(result.psnr) else f"{result.psnr:.2f} dB"
        judged = self._judged(self.chosen)
        self.set_text("psnr", psnr + (f" ({self.scale_words})" if judged else ""))
        self.set_text("search", describe_search(result) + judged)
        caveats = caveats_of(result)
        self.set_text("caveat", " ".join(caveats) or "–")
        self._set_row_visible("caveat", bool(caveats))

    def _judged(self, predictor: str) -> str:
        """`` · judged on a preview at 1/3 scale`` for a predictor that was (else nothing)."""
        if not self.scale_words or predictor in self.full_resolution:
            return ""
        return f" · judged on a {self.scale_words}"

    def set_time(self, name: str, text: str) -> None:
        self.times[name] = text
        self.set_text("times", "; ".join(f"{k} {v}" for k, v in self.times.items()))


__all__ = ["ReadoutsPanel", "caveats_of", "describe_search", "format_bytes", "format_ms", "here_key", "short_name",
           "summary_key"]
