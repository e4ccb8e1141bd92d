"""A grid of values painted cell by cell: colours from a colour map, numbers when the cells are large.

Used for the explorer's input (as numbers around the window, and as a whole image), its output,
and its kernel. Padding cells are hatched; the window's span is outlined and its taps marked.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from convstudio.ui.insight.render import colormap_rgba, qimage_from_rgba

__all__ = ["GridView", "cell_text"]

_WINDOW = QColor(255, 140, 0)
_CURRENT = QColor(220, 30, 30)


def cell_text(x: float) -> str:
    """A value short enough for a cell: whole numbers as they are, others to two decimals."""
    if x == int(x) and abs(x) < 1e5:
        return str(int(x))
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.3g}"


class GridView(QWidget):
    """Paints a 2-D array (or a viewport of it) as square cells; reports clicks in array coordinates."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, numbers: bool = True, min_number_cell: int = 22) -> None:
        super().__init__(parent)
        self.numbers = numbers
        self.min_number_cell = min_number_cell
        self.values = np.zeros((1, 1))
        self.pad_mask: np.ndarray | None = None
        self.window_box: tuple[int, int, int, int] | None = None
        self.window_cells: list[tuple[int, int]] = []
        self.current: tuple[int, int] | None = None
        self.viewport: tuple[int, int, int, int] | None = None
        self._image: QImage | None = None
        self._rgba: np.ndarray | None = None
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    # ------------------------------------------------------------------ data

    def set_values(self, values: np.ndarray, cmap: str = "gray", limits: tuple[float, float] | None = None,
                   pad_mask: np.ndarray | None = None) -> None:
        """Show ``values`` (2-D) through ``cmap`` between ``limits`` (default: their range)."""
        self.values = np.asarray(values, dtype=np.float64)
        lo, hi = limits if limits is not None else (float(self.values.min()), float(self.values.max()))
        self._rgba = colormap_rgba(self.values, cmap, lo, hi)
        self.pad_mask = pad_mask
        self._image = qimage_from_rgba(self._rgba)
        self.update()

    def set_window(self, box: tuple[int, int, int, int] | None, cells: list[tuple[int, int]] | None = None) -> None:
        """Outline ``box`` = (row, col, rows, cols) and mark ``cells`` (the kernel's taps)."""
        self.window_box = box
        self.window_cells = list(cells or [])
        self.update()

    def set_current(self, cell: tuple[int, int] | None) -> None:
        self.current = cell
        self.update()

    def set_viewport(self, viewport: tuple[int, int, int, int] | None) -> None:
        """Show only rows ``r0 .. r0+rows`` and columns ``c0 .. c0+cols``; None shows everything."""
        self.viewport = viewport
        self.update()

    # ------------------------------------------------------------------ geometry

    def _view(self) -> tuple[int, int, int, int]:
        h, w = self.values.shape
        return self.viewport if self.viewport is not None else (0, 0, h, w)

    def _layout(self) -> tuple[float, float, float]:
        """Cell size and the top-left corner of the drawn grid."""
        _, _, rows, cols = self._view()
        cell = max(min((self.width() - 2) / cols, (self.height() - 2) / rows), 1.0)
        return cell, (self.width() - cell * cols) / 2, (self.height() - cell * rows) / 2

    def cell_size(self) -> float:
        return self._layout()[0]

    def shows_numbers(self) -> bool:
        return self.numbers and self.cell_size() >= self.min_number_cell

    def mousePressEvent(self, event) -> None:
        cell, x0, y0 = self._layout()
        r0, c0, rows, cols = self._view()
        col = int((event.position().x() - x0) // cell)
        row = int((event.position().y() - y0) // cell)
        if 0 <= row < rows and 0 <= col < cols:
            self.cellClicked.emit(r0 + row, c0 + col)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        if self._image is None:
            return
        painter = QPainter(self)
        cell, x0, y0 = self._layout()
        r0, c0, rows, cols = self._view()
        source = QRectF(c0, r0, cols, rows)
        painter.drawImage(QRectF(x0, y0, cell * cols, cell * rows), self._image, source)
        self._paint_padding(painter, cell, x0, y0)
        if cell >= 6:
            painter.setPen(QPen(QColor(0, 0, 0, 50), 1))
            for r in range(rows + 1):
                painter.drawLine(int(x0), int(y0 + r * cell), int(x0 + cols * cell), int(y0 + r * cell))
            for c in range(cols + 1):
                painter.drawLine(int(x0 + c * cell), int(y0), int(x0 + c * cell), int(y0 + rows * cell))
        if self.shows_numbers():
            self._paint_numbers(painter, cell, x0, y0)
        self._paint_window(painter, cell, x0, y0)
        painter.end()

    def _rect(self, r: int, c: int, cell: float, x0: float, y0: float, rows: int = 1, cols: int = 1) -> QRectF:
        vr, vc, _, _ = self._view()
        return QRectF(x0 + (c - vc) * cell, y0 + (r - vr) * cell, cols * cell, rows * cell)

    def _visible(self):
        r0, c0, rows, cols = self._view()
        for r in range(r0, r0 + rows):
            for c in range(c0, c0 + cols):
                yield r, c

    def _paint_padding(self, painter: QPainter, cell: float, x0: float, y0: float) -> None:
        if self.pad_mask is None or not self.pad_mask.any():
            return
        brush = QBrush(QColor(120, 120, 160, 110), Qt.BrushStyle.BDiagPattern)
        for r, c in self._visible():
            if self.pad_mask[r, c]:
                painter.fillRect(self._rect(r, c, cell, x0, y0), QColor(235, 235, 245))
                painter.fillRect(self._rect(r, c, cell, x0, y0), brush)

    def _paint_numbers(self, painter: QPainter, cell: float, x0: float, y0: float) -> None:
        font = QFont(self.font())
        font.setPixelSize(max(8, min(int(cell * 0.36), 18)))
        painter.setFont(font)
        assert self._rgba is not None
        for r, c in self._visible():
            red, green, blue = (int(v) for v in self._rgba[r, c, :3])
            padded = self.pad_mask is not None and self.pad_mask[r, c]
            dark = padded or 0.299 * red + 0.587 * green + 0.114 * blue > 140
            painter.setPen(QColor(90, 90, 120) if padded else (Qt.GlobalColor.black if dark else Qt.GlobalColor.white))
            painter.drawText(self._rect(r, c, cell, x0, y0), Qt.AlignmentFlag.AlignCenter,
                             cell_text(float(self.values[r, c])))

    def _paint_window(self, painter: QPainter, cell: float, x0: float, y0: float) -> None:
        if self.window_box is not None:
            r, c, rows, cols = self.window_box
            if len(self.window_cells) < rows * cols:  # dilated: mark the taps the kernel uses
                painter.setPen(QPen(_WINDOW, max(1.5, cell * 0.08)))
                for tr, tc in self.window_cells:
                    painter.drawRect(self._rect(tr, tc, cell, x0, y0).adjusted(2, 2, -2, -2))
            painter.setPen(QPen(_WINDOW, max(2.0, cell * 0.1)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._rect(r, c, cell, x0, y0, rows, cols))
        if self.current is not None:
            painter.setPen(QPen(_CURRENT, max(2.0, cell * 0.12)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._rect(*self.current, cell, x0, y0))
