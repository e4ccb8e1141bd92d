"""Live loss and accuracy curves: a batch-level training line and per-epoch validation points.

Points are appended as events arrive; a timer repaints at most ten times a second and only when
something changed. Repaints blit the curves over a cached background, so the GUI thread spends a
few milliseconds per tick; the whole figure (axes, ticks) is redrawn only when the axis limits have
to change or the widget is resized, and never with a layout pass (the margins are fixed). A new run
reuses the same line artists. Matplotlib is imported when the widget is built, not when this module
is imported, to keep the window's start-up fast.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from convstudio.core.training_events import BatchEnd, EpochEnd

from .insight.render import add_save_png_menu
from .theme import follow_theme

__all__ = ["TrainingPlots"]

_TRAIN = "#1f77b4"
_VAL = "#d62728"
_LOSS_TOP = 2.5  # cross-entropy of a 10-class guess is about 2.3
# Fixed margins (figure fractions) for two axes side by side with 7-9 pt text: no layout engine
# runs on the redraws during a run.
X_ROOM = 0.05
"""Room right of the last epoch (a fraction of the run), so its validation point is drawn whole."""
_MARGINS = {"left": 0.09, "right": 0.98, "bottom": 0.2, "top": 0.88, "wspace": 0.3}


class TrainingPlots(QWidget):
    """Two small axes (loss, accuracy) against epochs, fed with training events."""

    def __init__(self, parent: QWidget | None = None, redraw_interval_ms: int = 100) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4.0, 2.4), dpi=100, layout="none")
        self.figure.subplots_adjust(**_MARGINS)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        add_save_png_menu(self.canvas, self.save_png, "training_curves.png")

        self.loss_ax, self.acc_ax = self.figure.subplots(1, 2)
        self.train_x: list[float] = []
        self.train_loss: list[float] = []
        self.train_acc: list[float] = []
        self.val_x: list[float] = []
        self.val_loss: list[float] = []
        self.val_acc: list[float] = []
        self.draw_count = 0  # repaints (blits or full draws)
        self.full_draw_count = 0
        self._epochs = 1.0
        self._loss_top = _LOSS_TOP
        self._background = None
        self._dirty = False
        self._drawn_limits: tuple[float, float] | None = None  # (epochs, loss top) of the last full draw
        self._saving = False
        self._setup_axes()
        self.canvas.mpl_connect("draw_event", self._on_full_draw)
        follow_theme(self.canvas)

        self._timer = QTimer(self)
        self._timer.setInterval(redraw_interval_ms)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def _setup_axes(self) -> None:
        from matplotlib.ticker import MaxNLocator

        # Text is most of a full redraw's cost: titles at a fixed height and the x label as plain
        # text skip Matplotlib's placement passes over the tick labels, and fewer ticks mean fewer labels.
        for ax, title in ((self.loss_ax, "Loss"), (self.acc_ax, "Accuracy")):
            ax.clear()
            ax.set_title(title, fontsize=9, y=1.0)
            ax.text(0.5, -0.17, "epoch", transform=ax.transAxes, ha="center", va="top", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.grid(True, alpha=0.3)
        (self._loss_line,) = self.loss_ax.plot([], [], color=_TRAIN, lw=1.2, label="training", animated=True)
        (self._acc_line,) = self.acc_ax.plot([], [], color=_TRAIN, lw=1.2, label="training", animated=True)
        (self._val_loss_pts,) = self.loss_ax.plot([], [], "o-", color=_VAL, ms=4, lw=1, label="validation",
                                                  animated=True)
        (self._val_acc_pts,) = self.acc_ax.plot([], [], "o-", color=_VAL, ms=4, lw=1, label="validation",
                                                animated=True)
        self.acc_ax.legend(fontsize=7, loc="lower right")  # one legend serves both axes
        self._apply_limits()

    def _apply_limits(self) -> None:
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlim(0.0, self._epochs * (1.0 + X_ROOM))
        self.loss_ax.set_ylim(0.0, self._loss_top)
        self.acc_ax.set_ylim(0.0, 1.0)

    # ------------------------------------------------------------------ data

    def clear(self, epochs: int = 1) -> None:
        """Forget all points; the x axis spans ``epochs``. Redraws fully only if the limits change."""
        for values in (self.train_x, self.train_loss, self.train_acc, self.val_x, self.val_loss, self.val_acc):
            values.clear()
        self._epochs, self._loss_top = float(max(1, epochs)), _LOSS_TOP
        self._dirty = True

    def set_epochs(self, epochs: int) -> None:
        """Fix the x axis to the run's length (full redraw only when it changes)."""
        epochs = float(max(1, epochs))
        if epochs != self._epochs:
            self._epochs = epochs
            self._dirty = True

    def add_batch(self, event: BatchEnd) -> None:
        """One training point at fractional epoch ``epoch + step / steps``."""
        steps = max(1, event.steps)
        self.train_x.append(event.epoch + event.step / steps)
        self.train_loss.append(float(event.loss))
        self.train_acc.append(float(event.accuracy))
        self._grow_limits(self.train_x[-1], self.train_loss[-1])
        self._dirty = True

    def add_epoch(self, event: EpochEnd) -> None:
        """Validation points at the end of the epoch (when the run has a validation split)."""
        metrics = event.metrics
        if "val_loss" not in metrics:
            return
        self.val_x.append(float(event.epoch + 1))
        self.val_loss.append(float(metrics["val_loss"]))
        self.val_acc.append(float(metrics.get("val_accuracy", float("nan"))))
        self._grow_limits(self.val_x[-1], self.val_loss[-1])
        self._dirty = True

    def _grow_limits(self, x: float, loss: float) -> None:
        if x > self._epochs:
            self._epochs = float(math.ceil(x))
        if math.isfinite(loss) and loss > self._loss_top:
            self._loss_top = loss * 1.25

    # ------------------------------------------------------------------ drawing

    def _on_full_draw(self, _event) -> None:
        """After a full draw: cache the background and paint the curves over it."""
        if self._saving:
            return
        self._update_data()  # a draw Qt asked for (first show, resize) paints the latest points too
        drawn_epochs = round(self.loss_ax.get_xlim()[1] / (1.0 + X_ROOM), 6)  # the axis adds X_ROOM
        self._drawn_limits = (drawn_epochs, self.loss_ax.get_ylim()[1])
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_curves()
        self.full_draw_count += 1

    def _draw_curves(self) -> None:
        for artist in (self._loss_line, self._acc_line, self._val_loss_pts, self._val_acc_pts):
            self.figure.draw_artist(artist)

    def _update_data(self) -> None:
        self._loss_line.set_data(self.train_x, self.train_loss)
        self._acc_line.set_data(self.train_x, self.train_acc)
        self._val_loss_pts.set_data(self.val_x, self.val_loss)
        self._val_acc_pts.set_data(self.val_x, self.val_acc)

    def _redraw(self, now: bool = False) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        self._update_data()
        if self._background is None or self._drawn_limits != (self._epochs, self._loss_top):
            self._apply_limits()
            # the draw_event paints the curves
            self.canvas.draw() if now else self.canvas.draw_idle()
        else:
            self.canvas.restore_region(self._background)
            self._draw_curves()
            self.canvas.blit(self.figure.bbox)
        self.draw_count += 1

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._background = None  # the canvas redraws itself fully on resize

    def save_png(self, path: str) -> None:
        """Write both plots with the latest points to ``path``."""
        self._update_data()
        self._apply_limits()
        self._saving = True  # the save's draw must not replace the cached on-screen background
        try:
            self.figure.savefig(path, dpi=120)
        finally:
            self._saving = False
            self._background = None
            self._dirty = True

    def flush(self) -> None:
        """Show the latest points now (end of a run, screenshots): a blit unless the limits changed.

        A hidden widget draws when it is shown.
        """
        self._dirty = True
        self._redraw(now=True)
