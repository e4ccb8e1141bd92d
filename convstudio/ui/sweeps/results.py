"""A sweep's results: a sortable table of the trials and a plot of each trial's best validation accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView, QVBoxLayout, QWidget

from convstudio.core.sweeps import TrialRow, best_row, format_value

from ..insight.render import add_save_png_menu
from ..theme import follow_theme, plot_colors, style_figure

__all__ = ["ROW_ROLE", "SORT_ROLE", "TrialPlot", "TrialTable"]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
_BEST = "#2ca02c"
_OTHER = "#1f77b4"


def _item(text: str, sort: Any, row: TrialRow) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(sort, SORT_ROLE)
    item.setData(row, ROW_ROLE)
    if isinstance(sort, int | float):
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


class TrialTable(QTableView):
    """One line per trial (sortable by any column, numbers as numbers); the best trial is in bold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # in trial order until the user sorts
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.targets: tuple[str, ...] = ()

    def set_rows(self, rows: Sequence[TrialRow], targets: Sequence[str], score_name: str = "Val acc") -> None:
        """Show ``rows`` (replacing what was shown) under columns for ``targets``."""
        self.targets = tuple(targets)
        self.source.clear()
        self.source.setHorizontalHeaderLabels(["Trial", *self.targets, score_name, "Test acc", "Params", "Time (s)",
                                               "Outcome", "Run"])
        best = best_row(rows)
        for row in rows:
            values = row.value_map
            items = [_item(str(row.number), row.number, row)]
            items += [_item(format_value(values.get(t, "-")), values.get(t, 0), row) for t in self.targets]
            items += [_item(_percent(row.score), -1.0 if row.score is None else row.score, row),
                      _item(_percent(row.test_accuracy), -1.0 if row.test_accuracy is None else row.test_accuracy,
                            row),
                      _item("-" if row.parameters is None else f"{row.parameters:,}", row.parameters or 0, row),
                      _item(f"{row.seconds:.1f}", row.seconds, row), _item(row.outcome, row.outcome, row),
                      _item(row.run_id or "-", row.run_id, row)]
            if row is best:
                for item in items:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
            self.source.appendRow(items)
        self.resizeColumnsToContents()

    def row_count(self) -> int:
        return self.proxy.rowCount()

    def row_at(self, view_row: int) -> TrialRow:
        """The trial shown on line ``view_row`` (as sorted now)."""
        return self.proxy.index(view_row, 0).data(ROW_ROLE)

    def column_of(self, title: str) -> int:
        for column in range(self.source.columnCount()):
            if self.source.horizontalHeaderItem(column).text() == title:
                return column
        raise KeyError(title)

    def selected_row(self) -> TrialRow | None:
        indexes = self.selectionModel().selectedRows() if self.selectionModel() else []
        return indexes[0].data(ROW_ROLE) if indexes else None


class TrialPlot(QWidget):
    """Each trial's best validation accuracy as a bar, the best trial's in green."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4.0, 2.4), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        add_save_png_menu(self.canvas, lambda path: self.figure.savefig(path, dpi=150), "sweep.png")
        self.ax = self.figure.add_subplot(1, 1, 1)
        self.bars: list[tuple[int, float, bool]] = []  # (trial number, score, is best) as drawn
        follow_theme(self.canvas)
        self.set_rows([], "val accuracy")

    def set_rows(self, rows: Sequence[TrialRow], score_name: str = "val accuracy") -> None:
        """Redraw for ``rows`` (trials without a score are left out)."""
        best = best_row(rows)
        scored = sorted((r for r in rows if r.score is not None), key=lambda r: r.number)
        self.bars = [(r.number, float(r.score), r is best) for r in scored]
        ax = self.ax
        ax.clear()
        ax.set_xlabel("trial", fontsize=8)
        ax.set_ylabel(f"best {score_name}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(0.0, 1.0)
        ax.grid(True, axis="y", alpha=0.3)
        if self.bars:
            ax.bar([b[0] for b in self.bars], [b[1] for b in self.bars],
                   color=[_BEST if b[2] else _OTHER for b in self.bars])
            ax.set_xticks([b[0] for b in self.bars])
        else:
            ax.text(0.5, 0.5, "No trial has ended yet", transform=ax.transAxes, ha="center", va="center",
                    fontsize=8)
        style_figure(self.figure, plot_colors())
        self.canvas.draw_idle()
