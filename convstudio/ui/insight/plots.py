"""Matplotlib views: class probabilities, the confusion matrix with its samples, Grad-CAM overlays.

Every figure has fixed margins (no layout pass per draw), and a view that is not visible (another
tab) only records what to show and draws when it is shown, so the end of a training run does not
spend the GUI thread on figures nobody is looking at.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from convstudio.core.inspection import Evaluation

from ..theme import follow_theme
from .render import add_save_png_menu, colormap_rgba, qimage_from_rgba

__all__ = ["ConfusionView", "GradCamView", "PredictionView"]


def _canvas(width: float, height: float):
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="none")
    canvas = FigureCanvasQTAgg(figure)
    follow_theme(canvas)
    return figure, canvas


def label_room(names: list[str], fontsize: float, figure_px: float, dpi: float = 100.0) -> float:
    """The figure fraction that tick labels ``names`` need beside an axis (plus the axis label).

    An estimate from the longest name (0.62 em per character), so full names such as
    "T-shirt/top" fit without a layout pass; capped at 45 % of the figure.
    """
    longest = max((len(n) for n in names), default=1)
    needed = longest * fontsize * 0.62 * dpi / 72 + 22
    return min(0.45, needed / max(figure_px, 1.0))


def _default_names(n: int) -> list[str]:
    return [str(i) for i in range(n)]


class PredictionView(QWidget):
    """Horizontal bars of the class probabilities; the top class and the true class stand out.

    The bars are made once per set of classes and then only resized; an update repaints the bars,
    their labels and the title over a cached background (a blit), and a hidden view waits until it
    is shown to draw, so live updates during training stay cheap.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure, self.canvas = _canvas(3.6, 2.8)
        self.figure.subplots_adjust(left=0.2, right=0.95, top=0.9, bottom=0.14)
        self.canvas.setMinimumSize(220, 200)
        self.ax = self.figure.add_subplot()
        self.class_names: list[str] = []
        self.probabilities: np.ndarray | None = None
        self.draw_count = 0
        self._bars: list = []
        self._labels: list = []
        self._dirty = False
        self._background = None  # the figure without the live artists, after a full draw
        self._saving = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        add_save_png_menu(self.canvas, self.save_png, "prediction.png")
        self.canvas.mpl_connect("draw_event", self._on_full_draw)
        self.set_probabilities(None)

    def set_class_names(self, names: list[str]) -> None:
        self.class_names = list(names)
        self._bars = []

    def set_probabilities(self, probabilities: np.ndarray | None, true_class: int | None = None,
                          note: str = "") -> None:
        self.probabilities = None if probabilities is None else np.asarray(probabilities, dtype=np.float32).ravel()
        self._update_artists(self.probabilities, true_class, note)
        self._dirty = True
        if self.isVisible():
            self._redraw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        self._dirty = False
        self.draw_count += 1
        if self._background is None:
            self.canvas.draw_idle()  # the draw_event paints the live artists
            return
        self.canvas.restore_region(self._background)
        self._draw_live()
        self.canvas.blit(self.figure.bbox)

    def _live_artists(self) -> list:
        return [*self._bars, *self._labels, self.ax.title]

    def _draw_live(self) -> None:
        for artist in self._live_artists():
            self.figure.draw_artist(artist)

    def _on_full_draw(self, _event) -> None:
        if self._saving:
            return
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_live()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._background = None  # the canvas redraws itself fully on resize

    def _clear_axes(self) -> None:
        """Start the axes afresh (a full draw follows); the title is repainted with the bars."""
        self.ax.clear()
        self.ax.title.set_animated(True)
        self._background = None

    def _make_bars(self, n: int) -> None:
        ax = self.ax
        self._clear_axes()
        ax.set_xlim(0, 1)
        ax.set_xlabel("probability", fontsize=8)
        ax.tick_params(labelsize=8)
        names = self.class_names if len(self.class_names) == n else _default_names(n)
        width = self.figure.get_size_inches()[0] * self.figure.dpi
        self.figure.subplots_adjust(left=max(0.12, label_room(names, 8, width, self.figure.dpi)))
        y = np.arange(n)
        self._bars = list(ax.barh(y, np.zeros(n), color="#9db4cc", animated=True))
        ax.set_yticks(y, names)
        ax.set_ylim(n - 0.5, -0.5)
        self._labels = [ax.text(0.02, yi, "", va="center", fontsize=7, animated=True) for yi in y]

    def _update_artists(self, probs: np.ndarray | None, true_class: int | None, note: str) -> None:
        if probs is None:
            self._clear_axes()
            self._bars, self._labels = [], []
            self.ax.set_yticks([])
            self.ax.set_title("No prediction yet", fontsize=9, y=1.0)
            return
        n = len(probs)
        if len(self._bars) != n:
            self._make_bars(n)
        names = self.class_names if len(self.class_names) == n else _default_names(n)
        top = int(np.argmax(probs))
        has_truth = true_class is not None and 0 <= true_class < n
        for i, (bar, label, p) in enumerate(zip(self._bars, self._labels, probs)):
            bar.set_width(float(p))
            color = "#9db4cc"
            if has_truth and i == true_class:
                color = "#2ca02c"
            if i == top:
                color = "#1f77b4" if not has_truth or top == true_class else "#d62728"
            bar.set_color(color)
            label.set_x(min(float(p) + 0.02, 0.86))
            label.set_text(f"{p:.0%}")
        verdict = f"predicted {names[top]} ({probs[top]:.0%})"
        if has_truth:
            verdict += f", true {names[true_class]}"
        self.ax.set_title(verdict + (f" — {note}" if note else ""), fontsize=9, y=1.0)

    def save_png(self, path: str) -> bool:
        live = self._live_artists()
        self._saving = True
        for artist in live:
            artist.set_animated(False)  # a saved figure includes what blitting paints
        try:
            self.figure.savefig(path, dpi=120)
        finally:
            for artist in live:
                artist.set_animated(True)
            self._saving = False
            self._background = None
        return True


class GradCamView(QWidget):
    """The sample with a Grad-CAM heat map on top, for a chosen class and conv block.

    Asks for a map with ``requested(class_index or -1 for the predicted class, block_id)``; the
    panel computes it off the GUI thread and calls :meth:`set_cam`.
    """

    requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Which class's evidence to show")
        self.block_combo = QComboBox()
        self.block_combo.setToolTip("Grad-CAM looks at this Conv2D block's maps (the last one is usual)")
        self.class_combo.currentIndexChanged.connect(lambda _i: self.request())
        self.block_combo.currentIndexChanged.connect(lambda _i: self.request())
        self.figure, self.canvas = _canvas(3.0, 2.8)
        self.canvas.setMinimumSize(200, 200)
        self.ax = self.figure.add_axes((0.02, 0.03, 0.76, 0.86))
        self._cax = self.figure.add_axes((0.8, 0.15, 0.04, 0.66))  # the colour bar, once there is a map
        self._cax.set_visible(False)
        self._bar = None
        self.cam: np.ndarray | None = None
        self.draw_count = 0
        self._shown: tuple | None = None  # (image, cam, title) to draw when visible
        top = QHBoxLayout()
        top.addWidget(QLabel("Evidence for:"))
        top.addWidget(self.class_combo, 1)
        top.addWidget(QLabel("at:"))
        top.addWidget(self.block_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        add_save_png_menu(self.canvas, self.save_png, "grad_cam.png")
        self.set_cam(None, None, "Grad-CAM appears after training")

    def set_choices(self, class_names: list[str], conv_blocks: list[str]) -> None:
        for combo, items in ((self.class_combo, ["predicted class", *class_names]), (self.block_combo, conv_blocks)):
            keep = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            if keep in items:
                combo.setCurrentIndex(items.index(keep))
            elif combo is self.block_combo and items:
                combo.setCurrentIndex(len(items) - 1)
            combo.blockSignals(False)

    def chosen_class(self) -> int:
        return self.class_combo.currentIndex() - 1

    def request(self) -> None:
        if self.block_combo.count():
            self.requested.emit(self.chosen_class(), self.block_combo.currentText())

    def set_cam(self, image: np.ndarray | None, cam: np.ndarray | None, title: str) -> None:
        """Show ``cam`` over ``image``; drawn now if visible, else when the view is shown."""
        self.cam = cam
        self._shown = (image, cam, title)
        if self.isVisible():
            self._render()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._shown is not None:
            self._render()

    def _build(self) -> None:
        if self._shown is None:
            return
        image, cam, title = self._shown
        self._shown = None
        ax = self.ax
        ax.clear()
        ax.set_axis_off()
        if image is not None:
            ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if cam is not None:
            import matplotlib

            # Colour from 'jet', opacity growing with the evidence: weak regions leave the image visible.
            overlay = matplotlib.colormaps["jet"](np.clip(cam, 0, 1))
            overlay[..., 3] = 0.15 + 0.55 * np.clip(cam, 0, 1)
            ax.imshow(overlay, interpolation="bilinear")
            if self._bar is None:
                mappable = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 1), "jet")
                self._bar = self.figure.colorbar(mappable, cax=self._cax, label="evidence")
                self._bar.ax.tick_params(labelsize=7)
        self._cax.set_visible(self._bar is not None)
        ax.set_title(title, fontsize=9)

    def _render(self) -> None:
        self._build()
        self.draw_count += 1
        self.canvas.draw_idle()

    def save_png(self, path: str) -> bool:
        self._build()  # what a hidden view has not drawn yet
        self.figure.savefig(path, dpi=120)
        return True


class ConfusionView(QWidget):
    """Confusion matrix of the test set; click a cell to list its samples, most confident first.

    Choosing a listed sample emits ``sampleChosen(test_index)``.
    """

    sampleChosen = Signal(int)
    cellChosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure, self.canvas = _canvas(4.2, 3.8)
        self.figure.subplots_adjust(left=0.17, right=0.97, bottom=0.2, top=0.93)
        self.canvas.setMinimumSize(260, 240)
        self.ax = self.figure.add_subplot()
        self.draw_count = 0
        self._stale = True
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.canvas.mpl_connect("motion_notify_event", self._on_hover)
        self.evaluation: Evaluation | None = None
        self.images: np.ndarray | None = None
        self.class_names: list[str] = []
        self.cell: tuple[int, int] | None = None
        self.title = QLabel("Samples in the chosen cell (most confident first):")
        self.title.setWordWrap(True)  # a narrow side column wraps the header instead of cutting it
        self.list = QListWidget()
        self.list.setIconSize(QSize(28, 28))
        self.list.setMinimumWidth(170)
        self.list.currentRowChanged.connect(self._on_row)
        self.status = QLabel("The confusion matrix is computed on the test set after training.")
        self.status.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.list, 1)
        body = QHBoxLayout()
        body.addWidget(self.canvas, 3)
        body.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)
        add_save_png_menu(self.canvas, self.save_png, "confusion.png")
        self._draw()

    def set_evaluation(self, evaluation: Evaluation | None, images: np.ndarray | None = None,
                       class_names: list[str] | None = None) -> None:
        self.evaluation = evaluation
        self.images = images
        self.class_names = list(class_names or [])
        self.cell = None
        self.list.clear()
        if evaluation is not None:
            self.status.setText(f"Test set: {int(evaluation.matrix.sum())} images, accuracy "
                                f"{evaluation.accuracy:.2%}. Rows: true class; columns: predicted class. "
                                "Click a cell to list its samples.")
        self._draw()

    def _names(self, n: int) -> list[str]:
        return self.class_names if len(self.class_names) == n else _default_names(n)

    def _draw(self) -> None:
        """Draw now if visible; a hidden view draws when it is shown."""
        self._stale = True
        if self.isVisible():
            self._build()
            self.draw_count += 1
            self.canvas.draw_idle()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _build(self) -> None:
        if not self._stale:
            return
        self._stale = False
        ax = self.ax
        ax.clear()
        ev = self.evaluation
        if ev is None:
            ax.set_axis_off()
            ax.set_title("No evaluation yet", fontsize=9)
            return
        m = ev.matrix
        n = len(m)
        names = self._names(n)
        rates = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for t in range(n):
            for p in range(n):
                if m[t, p]:
                    ax.text(p, t, str(m[t, p]), ha="center", va="center", fontsize=6.5,
                            color="white" if rates[t, p] > 0.5 else ("#b00000" if t != p else "black"))
        width, height = self.figure.get_size_inches() * self.figure.dpi
        self.figure.subplots_adjust(left=max(0.12, label_room(names, 7, width, self.figure.dpi)),
                                    bottom=max(0.14, label_room(names, 7, height, self.figure.dpi)))
        ax.set_xticks(range(n), names, rotation=90, fontsize=7)  # full names: nothing cut
        ax.set_yticks(range(n), names, fontsize=7)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        if self.cell is not None:
            t, p = self.cell
            from matplotlib.patches import Rectangle

            ax.add_patch(Rectangle((p - 0.5, t - 0.5), 1, 1, fill=False, edgecolor="#ff9900", linewidth=2))
        ax.set_title(f"accuracy {ev.accuracy:.1%}", fontsize=9, y=1.0)  # fixed height: no placement pass

    def _on_click(self, event) -> None:
        if event.inaxes is not self.ax or self.evaluation is None or event.xdata is None:
            return
        n = len(self.evaluation.matrix)
        p, t = int(round(event.xdata)), int(round(event.ydata))
        if 0 <= t < n and 0 <= p < n:
            self.select_cell(t, p)

    def cell_tip(self, true_class: int, pred_class: int) -> str:
        """The hover text of one cell, with the full class names."""
        ev = self.evaluation
        if ev is None:
            return ""
        names = self._names(len(ev.matrix))
        return (f"true {names[true_class]}, predicted {names[pred_class]}: "
                f"{int(ev.matrix[true_class, pred_class])} image(s)")

    def _on_hover(self, event) -> None:
        tip = ""
        if event.inaxes is self.ax and self.evaluation is not None and event.xdata is not None:
            n = len(self.evaluation.matrix)
            p, t = int(round(event.xdata)), int(round(event.ydata))
            if 0 <= t < n and 0 <= p < n:
                tip = self.cell_tip(t, p)
        if tip != self.canvas.toolTip():
            self.canvas.setToolTip(tip)

    def select_cell(self, true_class: int, pred_class: int) -> np.ndarray:
        """List the samples of one cell, most confident first; returns their test indices."""
        ev = self.evaluation
        if ev is None:
            return np.zeros(0, dtype=np.int64)
        self.cell = (true_class, pred_class)
        indices = ev.samples(true_class, pred_class)
        names = self._names(len(ev.matrix))
        self.title.setText(f"True {names[true_class]}, predicted {names[pred_class]}: {len(indices)} sample(s), "
                           "most confident first")
        self.list.blockSignals(True)
        self.list.clear()
        for i in indices[:500]:
            item = QListWidgetItem(f"#{i}   {ev.probabilities[i, pred_class]:.1%}")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            if self.images is not None:
                rgba = colormap_rgba(self.images[i].astype(np.float32), "gray", 0, 255)
                item.setIcon(QIcon(QPixmap.fromImage(qimage_from_rgba(rgba))))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._draw()
        self.cellChosen.emit(true_class, pred_class)
        return indices

    def listed_indices(self) -> list[int]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.sampleChosen.emit(int(self.list.item(row).data(Qt.ItemDataRole.UserRole)))

    def save_png(self, path: str) -> bool:
        self._build()  # what a hidden view has not drawn yet
        self.figure.savefig(path, dpi=120)
        return True
