"""The chosen runs' curves in one figure: loss and accuracy per epoch, training solid, validation dashed.

Each run keeps one colour in both axes; the legend names the runs. Matplotlib is imported when the
widget is built; the figure follows the light or dark theme (:func:`~convstudio.ui.theme.follow_theme`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..insight.render import add_save_png_menu
from ..theme import follow_theme, plot_colors

__all__ = ["RunCurves", "epoch_series"]

_MARGINS = {"left": 0.07, "right": 0.985, "bottom": 0.14, "top": 0.9, "wspace": 0.2}


def epoch_series(epochs: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(epoch numbers from 1, values)`` of metric ``key`` in a run's per-epoch records (gaps skipped)."""
    xs, ys = [], []
    for record in epochs:
        value = record.get(key)
        if isinstance(value, (int, float)) and isinstance(record.get("epoch"), int):
            xs.append(float(record["epoch"] + 1))
            ys.append(float(value))
    return xs, ys


class RunCurves(QWidget):
    """Loss and accuracy of several runs against epochs; :meth:`show_runs` redraws it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(8.0, 3.2), dpi=100, layout="none")
        self.figure.subplots_adjust(**_MARGINS)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        add_save_png_menu(self.canvas, self.save_png, "run_curves.png")
        self.loss_ax, self.acc_ax = self.figure.subplots(1, 2)
        self.labels: list[str] = []
        self.show_runs([])
        follow_theme(self.canvas)

    def show_runs(self, runs: list[tuple[str, list[dict[str, Any]]]], note: str = "") -> None:
        """Draw ``(label, per-epoch records)`` for each run; with none, ``note`` (or a hint) instead."""
        from matplotlib.lines import Line2D

        self.labels = [label for label, _ in runs]
        colors = plot_colors()
        for ax, title in ((self.loss_ax, "Loss"), (self.acc_ax, "Accuracy")):
            ax.clear()
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
        self.acc_ax.set_ylim(0.0, 1.0)
        for i, (label, epochs) in enumerate(runs):
            color = f"C{i % 10}"
            for ax, key in ((self.loss_ax, "loss"), (self.acc_ax, "accuracy")):
                ax.plot(*epoch_series(epochs, key), color=color, lw=1.4, marker="o", ms=3,
                        label=label if ax is self.loss_ax else "_nolegend_")
                ax.plot(*epoch_series(epochs, f"val_{key}"), color=color, lw=1.2, ls="--", marker="o", ms=3,
                        label="_nolegend_")
        for ax in (self.loss_ax, self.acc_ax):
            ax.xaxis.get_major_locator().set_params(integer=True)
        if runs:
            self.loss_ax.legend(fontsize=7, loc="upper right", title="runs", title_fontsize=7)
            styles = [Line2D([], [], color=colors.muted, lw=1.4, label="training"),
                      Line2D([], [], color=colors.muted, lw=1.2, ls="--", label="validation")]
            self.acc_ax.legend(handles=styles, fontsize=7, loc="lower right")
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_visible(bool(runs))
        for text in list(self.figure.texts):
            text.remove()
        if not runs:
            self.figure.text(0.5, 0.5, note or "Select runs in the list to see their curves here",
                             ha="center", va="center", fontsize=10)
        self.canvas.draw_idle()

    def run_lines(self) -> list[Any]:
        """The training-loss line of each run drawn (one per run, named after it)."""
        return [line for line in self.loss_ax.get_lines() if not line.get_label().startswith("_")]

    def save_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=120)
