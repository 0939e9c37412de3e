"""A study's results in the explorer: per image, the satisfied-user-ratio points of the observers, the fitted normal
with its confidence band, and each predictor's level for the session's ppd and viewing task; per observer, the
reliability from catch runs and the bias against each predictor.

The predictions are computed in a background thread (each predictor searches the image's own ladder), so the window
stays responsive; the plot says "predicting…" until they are in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from jndviewer.core.pwjnd.registry import PREDICTORS
from jndviewer.core.study import results as study_results
from jndviewer.core.viewing import TASK_WORDS

#: Colours of the predictors' lines, in registry order (the explorer's: visibility green, SG-JND purple).
PREDICTOR_COLOURS = ("#2a9d3a", "#8e44ad", "#d35400", "#2c7fb8")


class _Signals(QObject):
    done = Signal(object, object)  # group key, {predictor: level or reason}


class _Predict(QRunnable):
    def __init__(self, key: Any, item: Any, signals: _Signals) -> None:
        super().__init__()
        self.key, self.item, self.signals = key, item, signals

    def run(self) -> None:
        _, _, task, ppd = self.key
        try:
            levels = study_results.predictor_levels(self.item, task, ppd)
        except Exception as error:
            levels = {"predictors": f"The predictions failed: {error}"}
        self.signals.done.emit(self.key, levels)


class StudyResultsDialog(QDialog):
    """The results of every finished run in a study database (the items of ``session_id`` first)."""

    def __init__(self, store: Any, session_id: str | None = None, parent: QWidget | None = None,
                 predict: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Study results")
        self.resize(900, 640)
        self.store = store
        self.results = store.run_results()
        self.groups = study_results.critical_levels(self.results)
        self.items = study_results.items_by_key(self.results)
        self.predictions: dict[Any, dict[str, Any]] = {}
        first = {r.item.item_id for r in self.results if r.session_id == session_id}
        self.keys = sorted(self.groups, key=lambda k: (k[0] not in first, k))
        self.chooser = QComboBox()
        for key in self.keys:
            item_id, codec, task, ppd = key
            count = len({o for o, _ in self.groups[key]})
            self.chooser.addItem(f"{item_id} · {codec} · {TASK_WORDS[task]} · {ppd:g} ppd · {count} observer(s)", key)
        self.chooser.currentIndexChanged.connect(self._draw)
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("left", "satisfied-user ratio (no difference seen)")
        self.plot.addLegend(offset=(70, 10), labelTextColor="k")  # top left: a SUR curve rises to the right
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget()
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Image and condition"))
        top.addWidget(self.chooser, 1)
        layout.addLayout(top)
        layout.addWidget(self.plot, 3)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self._signals = _Signals()
        self._signals.done.connect(self._predicted)
        if predict:
            for key in self.keys:
                QThreadPool.globalInstance().start(_Predict(key, self.items[key], self._signals))
        self._fill_table()
        self._draw()

    def _predicted(self, key: Any, levels: dict[str, Any]) -> None:
        self.predictions[key] = levels
        self._fill_table()
        if self.keys and key == self.chooser.currentData():
            self._draw()

    def _draw(self) -> None:
        self.plot.clear()
        key = self.chooser.currentData()
        if key is None:
            self.status.setText("No finished runs yet: run a study first (Study > Run a study).")
            return
        item = self.items[key]
        curve = study_results.sur_curve(item, self.groups[key])
        _, codec, task, ppd = key
        levels = np.asarray(curve.levels, dtype=float)
        self.plot.setTitle(f"{item.item_id}: {TASK_WORDS[task]} at {ppd:g} ppd", color="k")
        self.plot.setLabel("bottom", f"{codec} level (better: {item.better})")
        band_low = pg.PlotDataItem(levels, np.asarray(curve.band_low))
        band_high = pg.PlotDataItem(levels, np.asarray(curve.band_high))
        self.plot.addItem(pg.FillBetweenItem(band_low, band_high, brush=pg.mkBrush(40, 90, 200, 50)))
        fitted = curve.fitted(np.linspace(levels.min(), levels.max(), 400))
        if fitted is not None:
            self.plot.plot(np.linspace(levels.min(), levels.max(), 400), fitted, pen=pg.mkPen("#1f4e9c", width=2),
                           name=f"fitted normal (mean {curve.mean:.1f}, sd {curve.sd:.1f})")
        self.plot.plot(levels, np.asarray(curve.sur), pen=None, symbol="o", symbolSize=6,
                       symbolBrush="#1f4e9c", name=f"observers ({curve.observers}, {curve.runs} runs)")
        predicted = self.predictions.get(key)
        notes = []
        if predicted is None:
            notes.append("predicting…")
        else:
            for index, (name, level) in enumerate(predicted.items()):
                if isinstance(level, str):
                    notes.append(f"{name}: {level}")
                    continue
                if level is None:
                    notes.append(f"{name}: nothing visible on this ladder")
                    continue
                pen = pg.mkPen(PREDICTOR_COLOURS[index % len(PREDICTOR_COLOURS)], width=2, style=pg.QtCore.Qt.DashLine)
                label = PREDICTORS[name].short if name in PREDICTORS else name
                line = pg.InfiniteLine(pos=level, angle=90, pen=pen, label=f"{label} {level}",
                                       labelOpts={"position": 0.1 + 0.12 * index, "color": "k"})
                self.plot.addItem(line)
        self.plot.setYRange(-0.02, 1.02)
        self.status.setText(
            f"Points: the share of runs that saw no difference at each level; band: 95 % bootstrap over observers. "
            f"Predictor lines: the first level each predictor calls visible, for {TASK_WORDS[task]} at {ppd:g} ppd. "
            f"Bias: the person's first visible level minus the predictor's, towards the worse end (+: the person "
            f"sees the distortion later than predicted)."
            + ("  " + "; ".join(notes) if notes else "")
        )

    def _fill_table(self) -> None:
        observers = sorted({r.observer for r in self.results})
        levels = {k: {n: v for n, v in p.items() if not isinstance(v, str)} for k, p in self.predictions.items()}
        bias = study_results.observer_bias(self.results, levels)
        names = sorted({n for b in bias.values() for n in b})
        self.table.setColumnCount(2 + len(names))
        self.table.setHorizontalHeaderLabels(["observer", "reliability (catch runs)",
                                              *[f"bias vs {PREDICTORS[n].short if n in PREDICTORS else n}"
                                                f" (levels)" for n in names]])
        self.table.setRowCount(len(observers))
        for row, observer in enumerate(observers):
            reliability = study_results.observer_reliability(self.results, observer)
            cells = [observer, "no catch runs" if reliability is None else f"{reliability:.0%}"]
            for name in names:
                entry = bias.get(observer, {}).get(name)
                cells.append("" if entry is None else f"{entry.levels:+.1f} ({entry.runs} runs)")
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
