"""The kernel as an editable table of numbers, coloured on a diverging map (zero = white)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from convstudio.ui.insight.render import colormap_rgba, symmetric_limits

from .grid_view import cell_text

__all__ = ["KernelTable"]


class KernelTable(QTableWidget):
    """Shows one 2-D kernel slice; a typed number emits ``edited(row, col, value)``.

    Colours are symmetric about zero ('RdBu_r': negative blue, positive red), so zero is always white.
    """

    edited = Signal(int, int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self._values = np.zeros((3, 3))
        self.horizontalHeader().setVisible(False)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setToolTip("The kernel's weights: double-click a number to change it (the preset becomes 'Custom')")
        self.itemChanged.connect(self._on_item_changed)

    def values(self) -> np.ndarray:
        return self._values.copy()

    def set_values(self, values: np.ndarray) -> None:
        """Show ``values`` (2-D)."""
        self._values = np.asarray(values, dtype=np.float64).copy()
        self._filling = True
        try:
            rows, cols = self._values.shape
            self.setRowCount(rows)
            self.setColumnCount(cols)
            self._fit_cells(rows, cols)
            lo, hi = symmetric_limits([self._values])
            rgba = colormap_rgba(self._values, "RdBu_r", lo, hi)
            for r in range(rows):
                for c in range(cols):
                    item = self.item(r, c) or QTableWidgetItem()
                    item.setText(cell_text(float(self._values[r, c])))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    red, green, blue = (int(v) for v in rgba[r, c, :3])
                    item.setBackground(QColor(red, green, blue))
                    dark = 0.299 * red + 0.587 * green + 0.114 * blue > 120
                    item.setForeground(QColor(Qt.GlobalColor.black if dark else Qt.GlobalColor.white))
                    item.setToolTip(f"weight [{r}, {c}] = {self._values[r, c]:g}")
                    if self.item(r, c) is None:
                        self.setItem(r, c, item)
        finally:
            self._filling = False

    def _fit_cells(self, rows: int, cols: int) -> None:
        """Square cells, smaller for larger kernels, and a table exactly their size."""
        cell = max(30, min(56, 230 // max(rows, cols)))
        for r in range(rows):
            self.setRowHeight(r, cell)
        for c in range(cols):
            self.setColumnWidth(c, cell)
        frame = 2 * self.frameWidth()
        self.setFixedSize(cols * cell + frame, rows * cell + frame)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        r, c = item.row(), item.column()
        try:
            value = float(item.text().replace("−", "-"))
            if not np.isfinite(value):
                raise ValueError
        except ValueError:
            self.set_values(self._values)  # not a number: put the old weight back
            return
        self._values[r, c] = value
        self.set_values(self._values)
        self.edited.emit(r, c, value)
