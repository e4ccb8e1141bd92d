"""The gradient-flow view: per block, how large the loss gradient that backpropagation brings back
to its weights is (log scale), beside the share of its ReLU units that never fire.

Bars run from the input (top) to the output (bottom), like the network on the canvas; the lines are
the monitor's own thresholds (:mod:`convstudio.core.health.monitor`), so a bar past a line is what a
warning speaks of. It is redrawn once per epoch, only while it is visible; Matplotlib is imported
when the plot is first built.
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from convstudio.core.health import HealthProbe
from convstudio.core.health.monitor import DEAD_SHARE, EXPLODING_NORM, VANISHING_RATIO

from ..insight.plots import label_room
from ..insight.render import add_save_png_menu
from ..theme import follow_theme

__all__ = ["DETAIL", "EXPLANATION", "GradientFlowPlot", "GradientFlowView", "block_order"]

EXPLANATION = "Backpropagation: the loss gradient that reaches each block's weights, once per epoch."
DETAIL = ("Backpropagation carries the loss gradient from the output back to every block; each bar is its size "
          "(L2 norm) at that block's weights on the probe images, on a log scale. A bar left of the vanishing line "
          "barely learns, one right of the exploding line takes wild steps. Right: the share of a ReLU block's "
          "units that never fire on the probe images (they get no gradient).")
_FLOOR = 1e-12  # a zero gradient is drawn at this height on the log axis
_OK, _LOW, _HIGH = "#4C8BF5", "#F29900", "#E8453C"
_FONT = 8


def block_order(probe: HealthProbe, order: list[str] | None = None) -> list[str]:
    """The probe's blocks (with a gradient, or a ReLU, or both) in ``order`` (the network's), else as probed."""
    probed = list(dict.fromkeys([*probe.gradient_norms, *probe.dead_relu]))
    if order:
        known = [b for b in order if b in probed]
        return known + [b for b in probed if b not in known]
    return probed


def _bar_color(norm: float, vanishing: float) -> str:
    if not math.isfinite(norm) or norm > EXPLODING_NORM:
        return _HIGH
    return _LOW if norm < vanishing else _OK


class GradientFlowPlot(QWidget):
    """Two axes sharing the blocks: gradient norm (log) and dead-ReLU share, for one probe."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4.0, 2.6), dpi=100, layout="none")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        add_save_png_menu(self.canvas, self.save_png, "gradient_flow.png")
        self.grad_ax, self.dead_ax = self.figure.subplots(1, 2, sharey=True, width_ratios=[3, 2])
        self.blocks: list[str] = []
        self.gradient_bars: list = []
        self.dead_bars: list = []
        self.thresholds: dict[str, float] = {}
        self.probe: HealthProbe | None = None
        self._order: list[str] | None = None
        self._drawn: tuple | None = None
        follow_theme(self.canvas)

    def set_probe(self, probe: HealthProbe | None, order: list[str] | None = None) -> None:
        """Show ``probe`` (None: nothing); drawn now when visible, else when next shown."""
        self.probe, self._order = probe, order
        if self.isVisible():
            self.redraw()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._drawn != (self.probe, self._order):
            self.redraw()

    def redraw(self) -> None:
        self._drawn = (self.probe, self._order)
        for ax in (self.grad_ax, self.dead_ax):
            ax.clear()
        self.gradient_bars, self.dead_bars, self.thresholds = [], [], {}
        probe = self.probe
        self.blocks = block_order(probe, self._order) if probe is not None else []
        if self.blocks:
            self._draw_gradients(probe)
            self._draw_dead(probe)
            self._frame(probe)
        self.canvas.draw_idle()

    def _draw_gradients(self, probe: HealthProbe) -> None:
        ax, rows = self.grad_ax, {b: i for i, b in enumerate(self.blocks)}
        norms = probe.gradient_norms
        finite = [v for v in norms.values() if math.isfinite(v)]
        largest = max(finite, default=0.0)
        vanishing = VANISHING_RATIO * largest
        self.thresholds = {"vanishing": vanishing, "exploding": EXPLODING_NORM}
        low = max(min([v for v in finite if v > 0] + [vanishing or 1e-6]) / 10, _FLOOR)
        for block, norm in norms.items():
            shown = norm if math.isfinite(norm) else EXPLODING_NORM * 10
            self.gradient_bars.append(ax.barh(rows[block], max(shown, _FLOOR), height=0.6,
                                              color=_bar_color(norm, vanishing))[0])
            if not shown > 0:
                ax.text(low, rows[block], " 0: no gradient", color=_LOW, fontsize=_FONT - 1, va="center")
        ax.set_xscale("log")
        ax.set_xlim(low, EXPLODING_NORM * 30)
        ax.axvline(EXPLODING_NORM, color=_HIGH, ls="--", lw=1)
        ax.text(EXPLODING_NORM, 0.98, " exploding", color=_HIGH, fontsize=_FONT - 1, ha="left", va="top",
                rotation=90, transform=ax.get_xaxis_transform())
        if vanishing > 0:
            ax.axvline(vanishing, color=_LOW, ls="--", lw=1)
            ax.text(vanishing, 0.98, " vanishing", color=_LOW, fontsize=_FONT - 1, ha="left", va="top",
                    rotation=90, transform=ax.get_xaxis_transform())
        ax.set_title("Gradient norm per block", fontsize=_FONT + 1)

    def _draw_dead(self, probe: HealthProbe) -> None:
        ax, rows = self.dead_ax, {b: i for i, b in enumerate(self.blocks)}
        for block, share in probe.dead_relu.items():
            color = _HIGH if share >= DEAD_SHARE else _OK
            self.dead_bars.append(ax.barh(rows[block], max(share, 0.004), height=0.6, color=color)[0])
        ax.set_xlim(0.0, 1.0)
        ax.axvline(DEAD_SHARE, color=_HIGH, ls="--", lw=1)
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.set_xticks([0.0, DEAD_SHARE, 1.0])
        if not probe.dead_relu:
            ax.text(0.5, 0.5, "no ReLU blocks", transform=ax.transAxes, ha="center", va="center", fontsize=_FONT)
        ax.set_title("Dead ReLUs", fontsize=_FONT + 1)

    def _frame(self, probe: HealthProbe) -> None:
        ax = self.grad_ax
        ax.set_yticks(range(len(self.blocks)), self.blocks)
        ax.set_ylim(len(self.blocks) - 0.5, -0.5)  # the input at the top
        for axes in (self.grad_ax, self.dead_ax):
            axes.tick_params(labelsize=_FONT - 1)
            axes.grid(True, axis="x", alpha=0.3)
        width = max(self.canvas.width(), 200)
        left = label_room(self.blocks, _FONT - 1, width)
        self.figure.subplots_adjust(left=left, right=0.97, top=0.88, bottom=0.16, wspace=0.08)
        self.figure.suptitle(f"Epoch {probe.epoch + 1}", x=0.01, ha="left", fontsize=_FONT)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.blocks:
            self.figure.subplots_adjust(left=label_room(self.blocks, _FONT - 1, max(self.canvas.width(), 200)))

    def save_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=120)


class GradientFlowView(QWidget):
    """One line saying what the plot shows, above the plot (built on first use) or a note in its place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        self.explanation.setToolTip(DETAIL)
        self.setToolTip(DETAIL)
        self.note = QLabel("The gradient flow appears after the first epoch of a run.")
        self.note.setWordWrap(True)
        self._plot: GradientFlowPlot | None = None
        self._stack = QStackedLayout()
        holder = QWidget()
        holder.setLayout(self._stack)
        self._stack.addWidget(self.note)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.explanation)
        column.addWidget(holder, 1)

    @property
    def plot(self) -> GradientFlowPlot:
        """The plot (built on first use)."""
        if self._plot is None:
            self._plot = GradientFlowPlot()
            self._stack.addWidget(self._plot)
        return self._plot

    @property
    def showing_plot(self) -> bool:
        return self._plot is not None and self._stack.currentWidget() is self._plot

    def show_probe(self, probe: HealthProbe, order: list[str] | None = None) -> None:
        self.plot.set_probe(probe, order)
        self._stack.setCurrentWidget(self.plot)

    def show_note(self, text: str) -> None:
        """``text`` in place of the plot (which forgets what it showed)."""
        if self._plot is not None:
            self._plot.set_probe(None)
        self.note.setText(text)
        self._stack.setCurrentWidget(self.note)
