"""Live loss and accuracy curves: a batch-level training line and per-epoch validation points.

Points are appended as events arrive; the figure is redrawn from a timer (``draw_idle``) at most
ten times a second, and only when something changed. Matplotlib is imported when the widget is
built, not when the module is imported, to keep the window's start-up fast.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from convstudio.core.training_events import BatchEnd, EpochEnd

__all__ = ["TrainingPlots"]

_TRAIN = "#1f77b4"
_VAL = "#d62728"


class TrainingPlots(QWidget):
    """Two small axes (loss, accuracy) against epochs, fed with training events."""

    def __init__(self, parent: QWidget | None = None, redraw_interval_ms: int = 100) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4.0, 2.4), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(170)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

        self.loss_ax, self.acc_ax = self.figure.subplots(1, 2)
        self.train_x: list[float] = []
        self.train_loss: list[float] = []
        self.train_acc: list[float] = []
        self.val_x: list[float] = []
        self.val_loss: list[float] = []
        self.val_acc: list[float] = []
        self.draw_count = 0
        self._dirty = False
        self._setup_axes()

        self._timer = QTimer(self)
        self._timer.setInterval(redraw_interval_ms)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()

    def _setup_axes(self) -> None:
        for ax, title in ((self.loss_ax, "Loss"), (self.acc_ax, "Accuracy")):
            ax.clear()
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
        self.acc_ax.set_ylim(0.0, 1.0)
        self.loss_ax.set_ylim(0.0, 2.5)
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlim(0.0, 1.0)
        (self._loss_line,) = self.loss_ax.plot([], [], color=_TRAIN, lw=1.2, label="training")
        (self._acc_line,) = self.acc_ax.plot([], [], color=_TRAIN, lw=1.2, label="training")
        (self._val_loss_pts,) = self.loss_ax.plot([], [], "o-", color=_VAL, ms=4, lw=1, label="validation")
        (self._val_acc_pts,) = self.acc_ax.plot([], [], "o-", color=_VAL, ms=4, lw=1, label="validation")
        self.loss_ax.legend(fontsize=7, loc="upper right")
        self.acc_ax.legend(fontsize=7, loc="lower right")

    # ------------------------------------------------------------------ data

    def clear(self) -> None:
        for values in (self.train_x, self.train_loss, self.train_acc, self.val_x, self.val_loss, self.val_acc):
            values.clear()
        self._setup_axes()
        self._dirty = True

    def add_batch(self, event: BatchEnd) -> None:
        """One training point at fractional epoch ``epoch + step / steps``."""
        steps = max(1, event.steps)
        self.train_x.append(event.epoch + event.step / steps)
        self.train_loss.append(float(event.loss))
        self.train_acc.append(float(event.accuracy))
        self._dirty = True

    def add_epoch(self, event: EpochEnd) -> None:
        """Validation points at the end of the epoch (when the run has a validation split)."""
        metrics = event.metrics
        if "val_loss" not in metrics:
            return
        self.val_x.append(float(event.epoch + 1))
        self.val_loss.append(float(metrics["val_loss"]))
        self.val_acc.append(float(metrics.get("val_accuracy", float("nan"))))
        self._dirty = True

    # ------------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        self._loss_line.set_data(self.train_x, self.train_loss)
        self._acc_line.set_data(self.train_x, self.train_acc)
        self._val_loss_pts.set_data(self.val_x, self.val_loss)
        self._val_acc_pts.set_data(self.val_x, self.val_acc)
        xs = self.train_x + self.val_x
        right = max(1.0, max(xs)) if xs else 1.0
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlim(0.0, right * 1.02)
        losses = [v for v in self.train_loss + self.val_loss if v == v]
        if losses:
            top = max(losses)
            self.loss_ax.set_ylim(0.0, top * 1.1 if top > 0 else 1.0)
        self.canvas.draw_idle()
        self.draw_count += 1

    def flush(self) -> None:
        """Redraw now if needed (tests, screenshots)."""
        self._redraw()
        self.canvas.draw()
