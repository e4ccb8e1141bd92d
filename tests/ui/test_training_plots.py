"""The live curves: points land in the lines, repaints are throttled and mostly cheap blits."""

from __future__ import annotations

import pytest

from convstudio.core.training_events import BatchEnd, EpochEnd
from convstudio.ui.plots import X_ROOM, TrainingPlots


def _plots(qtbot) -> TrainingPlots:
    plots = TrainingPlots(redraw_interval_ms=20)
    qtbot.addWidget(plots)
    plots.resize(440, 220)
    plots.show()
    qtbot.waitExposed(plots)
    qtbot.waitUntil(lambda: plots.full_draw_count >= 1, timeout=3000)  # the first paint
    return plots


def test_points_reach_the_lines_and_repaints_are_blits(qtbot):
    plots = _plots(qtbot)
    plots.clear(epochs=2)  # new x limits: one full redraw
    plots.add_batch(BatchEnd(0, 1, 10, 2.0, 0.1, 0.1))
    qtbot.waitUntil(lambda: plots.full_draw_count >= 2, timeout=3000)
    assert plots.loss_ax.get_xlim() == pytest.approx((0.0, 2.0 * (1 + X_ROOM)))
    full = plots.full_draw_count
    for step in range(2, 11):
        plots.add_batch(BatchEnd(0, step, 10, 2.0 / step, step / 10, 0.1 * step))
        drawn = plots.draw_count
        qtbot.waitUntil(lambda d=drawn: plots.draw_count > d, timeout=2000)
    plots.add_epoch(EpochEnd(0, 2, {"loss": 0.3, "val_loss": 0.4, "val_accuracy": 0.8}, 1.0))
    qtbot.waitUntil(lambda: list(plots._val_loss_pts.get_xdata()) == [1.0], timeout=2000)
    assert plots.full_draw_count == full  # within the limits: blits only
    x, y = plots._loss_line.get_data()
    assert list(x) == [s / 10 for s in range(1, 11)] and y[-1] == 0.2
    assert list(plots._acc_line.get_ydata())[-1] == 1.0


def test_limits_grow_with_a_full_redraw_and_idle_ticks_draw_nothing(qtbot):
    plots = _plots(qtbot)
    plots.add_batch(BatchEnd(0, 1, 10, 1.0, 0.5, 0.1))
    qtbot.waitUntil(lambda: plots.draw_count >= 1, timeout=3000)
    full, drawn = plots.full_draw_count, plots.draw_count
    qtbot.wait(150)
    assert plots.draw_count == drawn  # nothing new: no repaint

    plots.add_batch(BatchEnd(2, 5, 10, 9.0, 0.5, 0.1))  # beyond both limits
    qtbot.waitUntil(lambda: plots.loss_ax.get_ylim()[1] >= 9.0, timeout=3000)
    assert plots.loss_ax.get_xlim()[1] >= 2.5
    qtbot.waitUntil(lambda: plots.full_draw_count > full, timeout=3000)


def test_a_new_run_reuses_the_artists_and_redraws_fully_only_for_new_limits(qtbot):
    plots = _plots(qtbot)
    artists = [plots._loss_line, plots._acc_line, plots._val_loss_pts, plots._val_acc_pts]
    assert plots.figure.get_layout_engine() is None  # fixed margins: no layout pass per draw
    for step in range(1, 6):
        plots.add_batch(BatchEnd(0, step, 10, 1.0, 0.5, 0.1))
    qtbot.waitUntil(lambda: len(plots._loss_line.get_xdata()) == 5, timeout=2000)
    full = plots.full_draw_count

    plots.clear(epochs=1)  # the same limits: the old points go by a blit
    qtbot.waitUntil(lambda: len(plots._loss_line.get_xdata()) == 0, timeout=2000)
    assert plots.full_draw_count == full
    plots.clear(epochs=3)  # new x limits: one full redraw
    qtbot.waitUntil(lambda: plots.full_draw_count > full, timeout=3000)
    assert plots.loss_ax.get_xlim() == pytest.approx((0.0, 3.0 * (1 + X_ROOM)))
    assert [plots._loss_line, plots._acc_line, plots._val_loss_pts, plots._val_acc_pts] == artists
    assert all(a.axes is not None for a in artists)  # still in their axes, not rebuilt


def test_saved_png_includes_the_blitted_curves_and_live_drawing_goes_on(qtbot, tmp_path):
    import numpy as np
    from matplotlib.image import imread

    plots = _plots(qtbot)
    empty, full = tmp_path / "empty.png", tmp_path / "curves.png"
    plots.save_png(str(empty))
    plots.clear(epochs=1)
    for step in range(1, 11):
        plots.add_batch(BatchEnd(0, step, 10, 2.0 / step, step / 10, 0.1 * step))
    plots.save_png(str(full))

    def curve_pixels(path) -> int:
        rgb = (imread(path)[..., :3] * 255).round()
        return int(np.sum(np.all(np.abs(rgb - [0x1F, 0x77, 0xB4]) < 30, axis=-1)))

    legend_only = curve_pixels(empty)  # the legends show the training colour too
    assert curve_pixels(full) > legend_only + 100
    drawn = plots.full_draw_count
    plots.add_batch(BatchEnd(0, 10, 10, 0.1, 0.99, 1.0))
    qtbot.waitUntil(lambda: plots.full_draw_count > drawn, timeout=3000)  # back to live drawing


def test_the_last_validation_point_is_drawn_whole(qtbot):
    plots = _plots(qtbot)
    plots.clear(epochs=2)
    for epoch in (0, 1):
        plots.add_epoch(EpochEnd(epoch, 2, {"loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.8}, 1.0))
    qtbot.waitUntil(lambda: list(plots._val_acc_pts.get_xdata()) == [1.0, 2.0], timeout=2000)
    for ax, pts in ((plots.loss_ax, plots._val_loss_pts), (plots.acc_ax, plots._val_acc_pts)):
        x, _ = ax.transData.transform((2.0, 0.5))
        radius = pts.get_markersize() / 2 * plots.figure.dpi / 72
        assert x + radius <= ax.bbox.x1  # not cut at the plot's right edge
