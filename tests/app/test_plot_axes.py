"""The two plots share their level axis: a level sits at the same x in both, whatever their tick texts, and the
plots do not shift sideways as a sweep's curve comes in."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from jndviewer.app.jobs import LadderInfo


def _x_of_level(plot, level: float) -> float:
    return plot.getViewBox().mapViewToScene(QPointF(level, 0.0)).x()


def test_a_level_sits_at_the_same_x_in_both_plots_throughout_a_sweep(qtbot) -> None:
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    plots.resize(460, 420)
    plots.show()
    qtbot.waitExposed(plots)
    ordered = tuple(range(1, 101))
    plots.reset(LadderInfo("jpeg", "JPEG 4:2:0", "quality", "higher", ordered, 100, ordered))
    positions = []
    for upto in (6, 30, 100):  # the sweep's first points (PSNR 22-23.5 dB, bpp to 0.28), then more, then all
        for level in range(1, upto + 1):
            plots.add_point({"level": level, "bpp": 0.1 + 0.03 * level, "psnr": 22 + 0.25 * level + 8 * (level > 95),
                             "score": 3.0 / level})
        plots.flush()
        QApplication.processEvents()
        qtbot.wait(50)
        for level in (20, 80):
            top, bottom = _x_of_level(plots.rate, level), _x_of_level(plots.vis, level)
            assert abs(top - bottom) < 1.0, f"level {level} at x {top:.1f} in the rate plot, {bottom:.1f} below it"
        positions.append(_x_of_level(plots.rate, 20))
    assert max(positions) - min(positions) < 1.0, f"the plots moved sideways during the sweep: {positions}"


def test_the_legend_wraps_in_a_narrow_panel_instead_of_being_cut_off(qtbot) -> None:
    from jndviewer.app.plots import PlotsPanel

    plots = PlotsPanel()
    qtbot.addWidget(plots)
    rows = {}
    for width in (900, 460, 900):
        plots.resize(width, 420)
        plots.show()
        qtbot.waitExposed(plots)
        QApplication.processEvents()
        qtbot.wait(50)
        legend = plots.legend.sceneBoundingRect()
        assert len(plots.legend.items) == len(plots.legend_entries) == 5  # 3 kinds of mark, SG-JND, VP-JNDnet
        assert legend.left() >= 0 and legend.right() <= width, f"the legend {legend} is cut off at {width} px"
        assert plots.ci.layout.rowMinimumHeight(1) >= legend.height() - 0.5  # its row holds all of it
        rows[width] = plots.legend.layout.rowCount()
    assert rows[900] == 1 and rows[460] > 1
