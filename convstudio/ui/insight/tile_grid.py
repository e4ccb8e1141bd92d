"""A fast grid of colour-mapped 2-D arrays (feature maps, kernels) painted with QPainter.

Each tile is mapped to colours once when the data or the scale changes; painting only scales
those images (pixelated, so single units stay visible). Clicking reports the tile and the unit.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .render import (
    add_save_png_menu,
    colormap_rgba,
    qimage_from_rgba,
    rgb_to_rgba,
    symmetric_limits,
)

__all__ = ["TileGrid"]

_GAP = 4
_LABEL = 13
_BAR = 58


class TileGrid(QWidget):
    """Tiles of 2-D arrays in a grid, with a shared, per-tile or fixed colour scale.

    ``scale`` is ``"shared"`` (one range for all tiles), ``"per_tile"`` or ``"fixed"`` (use
    ``limits``); ``symmetric`` centres the range on zero (for diverging colour maps).
    """

    tileClicked = Signal(int)
    unitClicked = Signal(int, int, int)  # tile, row, column

    def __init__(self, parent: QWidget | None = None, cmap: str = "viridis", scale: str = "shared",
                 symmetric: bool = False, colorbar: bool = False, labels: bool = True,
                 save_name: str = "tiles.png") -> None:
        super().__init__(parent)
        self.cmap = cmap
        self.scale = scale
        self.symmetric = symmetric
        self.colorbar = colorbar
        self.labels = labels
        self.limits: tuple[float, float] | None = None
        self._arrays: list[np.ndarray] = []
        self._titles: list[str] = []
        self._images: list[QImage] | None = []
        self._tile_limits: list[tuple[float, float]] = []
        self._highlight: tuple[int, tuple[int, int, int, int]] | None = None
        self._marker: tuple[int, int, int] | None = None
        self._selected: int | None = None
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        add_save_png_menu(self, self.save_png, save_name)

    # ------------------------------------------------------------------ data

    def set_arrays(self, arrays: list[np.ndarray], titles: list[str] | None = None) -> None:
        """Show these arrays (one tile each): 2-D values through the colour map, or colour images
        ``(h, w, 3)`` with values in [0, 1] as they are; titles default to their index."""
        self._arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
        self._titles = list(titles) if titles is not None else [str(i) for i in range(len(arrays))]
        if self._highlight and self._highlight[0] >= len(self._arrays):
            self._highlight = None
        self._marker = None
        self._render()

    def set_scale(self, scale: str, limits: tuple[float, float] | None = None) -> None:
        self.scale = scale
        self.limits = limits
        self._render()

    def set_highlight(self, tile: int | None, box: tuple[int, int, int, int] | None = None) -> None:
        """Outline ``box`` = (y0, x0, y1, x1), ends exclusive, on ``tile`` (None clears it)."""
        self._highlight = None if tile is None or box is None else (tile, box)
        self.update()

    def set_marker(self, tile: int | None, y: int = 0, x: int = 0) -> None:
        self._marker = None if tile is None else (tile, y, x)
        self.update()

    def set_selected(self, tile: int | None) -> None:
        self._selected = tile
        self.update()

    def tile_count(self) -> int:
        return len(self._arrays)

    def arrays(self) -> list[np.ndarray]:
        return list(self._arrays)

    def color_limits(self) -> list[tuple[float, float]]:
        """The (vmin, vmax) each tile is drawn with."""
        return list(self._tile_limits)

    def _render(self) -> None:
        arrays = self._arrays
        if self.scale == "fixed" and self.limits is not None:
            limits = [self.limits] * len(arrays)
        elif self.scale == "per_tile":
            limits = [self._range([a]) for a in arrays]
        else:
            shared = self._range(arrays)
            limits = [shared] * len(arrays)
        self._tile_limits = limits
        self._images = None  # made when painted: hidden grids cost nothing
        self.update()

    def _ensure_images(self) -> list[QImage]:
        if self._images is None:
            arrays, limits = self._arrays, self._tile_limits
            if arrays and all(a.ndim == 3 and a.shape[-1] == 3 for a in arrays):
                self._images = [qimage_from_rgba(rgb_to_rgba(a)) for a in arrays]
            elif arrays and all(a.shape == arrays[0].shape for a in arrays):
                lo = np.array([lim[0] for lim in limits], dtype=np.float32)[:, None, None]
                hi = np.array([lim[1] for lim in limits], dtype=np.float32)[:, None, None]
                stack = np.stack(arrays)
                norm = np.where(hi > lo, (stack - lo) / np.where(hi > lo, hi - lo, 1), 0.5)
                norm[np.isnan(stack)] = np.nan
                rgba = colormap_rgba(norm, self.cmap, 0.0, 1.0)
                self._images = [qimage_from_rgba(t) for t in rgba]
            else:
                self._images = [qimage_from_rgba(colormap_rgba(a, self.cmap, *lim)) for a, lim in zip(arrays, limits)]
        return self._images

    def _range(self, arrays: list[np.ndarray]) -> tuple[float, float]:
        if self.symmetric:
            return symmetric_limits(arrays)
        finite = [a[np.isfinite(a)] for a in arrays if np.size(a)]
        finite = [f for f in finite if f.size]
        if not finite:
            return 0.0, 1.0
        lo = min(float(f.min()) for f in finite)
        hi = max(float(f.max()) for f in finite)
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    # ------------------------------------------------------------------ geometry

    def _layout(self) -> tuple[int, float, int, int]:
        """(columns, pixels per unit, tile height, tile width in units)."""
        n = len(self._arrays)
        if not n:
            return 1, 1.0, 1, 1
        th, tw = self._arrays[0].shape[:2]
        width = self.width() - (_BAR if self.colorbar else 0) - _GAP
        height = self.height() - _GAP
        label = _LABEL if self.labels else 0
        best = (1, 0.0)
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            scale = min((width / cols - _GAP) / tw, ((height / rows) - _GAP - label) / th)
            if scale > best[1]:
                best = (cols, scale)
        cols, scale = best
        if scale >= 1:
            scale = math.floor(scale)
        return cols, max(scale, 0.25), th, tw

    def tile_rect(self, index: int) -> QRect:
        """Where tile ``index``'s image is drawn, in widget coordinates."""
        cols, scale, th, tw = self._layout()
        label = _LABEL if self.labels else 0
        w, h = tw * scale, th * scale
        r, c = divmod(index, cols)
        x = _GAP + c * (w + _GAP)
        y = _GAP + r * (h + _GAP + label) + label
        return QRect(int(x), int(y), max(1, int(w)), max(1, int(h)))

    def sizeHint(self) -> QSize:
        return QSize(420, 320)

    # ------------------------------------------------------------------ painting and input

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        font = QFont(self.font())
        font.setPointSizeF(7.5)
        painter.setFont(font)
        text = self.palette().text().color()
        images = self._ensure_images()
        for i, image in enumerate(images):
            rect = self.tile_rect(i)
            painter.drawImage(rect, image)
            if self.labels:
                painter.setPen(text)
                painter.drawText(QRect(rect.x(), rect.y() - _LABEL, max(rect.width(), 40), _LABEL),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self._titles[i])
            if self._selected == i:
                painter.setPen(QPen(QColor("#ff9900"), 2))
                painter.drawRect(rect.adjusted(-1, -1, 1, 1))
        if self._highlight is not None and self._highlight[0] < len(images):
            tile, (y0, x0, y1, x1) = self._highlight
            painter.setPen(QPen(QColor("#ff3030"), 2))
            painter.drawRect(self._unit_rect(tile, y0, x0, y1, x1))
        if self._marker is not None and self._marker[0] < len(images):
            tile, y, x = self._marker
            painter.setPen(QPen(QColor("#ff3030"), 2))
            painter.drawRect(self._unit_rect(tile, y, x, y + 1, x + 1))
        if self.colorbar and self._tile_limits:
            self._paint_colorbar(painter, text)
        painter.end()

    def _unit_rect(self, tile: int, y0: int, x0: int, y1: int, x1: int) -> QRectF:
        rect = self.tile_rect(tile)
        th, tw = self._arrays[tile].shape[:2]
        sy, sx = rect.height() / th, rect.width() / tw
        return QRectF(QPointF(rect.x() + x0 * sx, rect.y() + y0 * sy), QPointF(rect.x() + x1 * sx, rect.y() + y1 * sy))

    def _paint_colorbar(self, painter: QPainter, text: QColor) -> None:
        vmin, vmax = self._tile_limits[0]
        top, bottom = _GAP + _LABEL, max(_GAP + _LABEL + 40, self.height() - _GAP - _LABEL)
        ramp = np.linspace(1.0, 0.0, 128, dtype=np.float32)[:, None].repeat(8, axis=1)
        image = qimage_from_rgba(colormap_rgba(ramp, self.cmap, 0.0, 1.0))
        bar = QRect(self.width() - _BAR + 6, top, 12, bottom - top)
        painter.drawImage(bar, image)
        painter.setPen(text)
        painter.drawRect(bar)
        ticks = [(vmax, top), (vmin, bottom)]
        if vmin < 0 < vmax:
            ticks.append((0.0, top + (bottom - top) * vmax / (vmax - vmin)))
        for value, y in ticks:
            painter.drawText(QRectF(bar.right() + 3, y - 7, _BAR - 20, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{value:.3g}")

    def hit(self, pos) -> tuple[int, int, int] | None:
        """(tile, row, column) under a widget position, or None."""
        for i in range(len(self._arrays)):
            rect = self.tile_rect(i)
            if rect.contains(pos):
                th, tw = self._arrays[i].shape[:2]
                y = min(th - 1, int((pos.y() - rect.y()) * th / rect.height()))
                x = min(tw - 1, int((pos.x() - rect.x()) * tw / rect.width()))
                return i, y, x
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        found = self.hit(event.position().toPoint())
        if found is not None:
            self.tileClicked.emit(found[0])
            self.unitClicked.emit(*found)

    def save_png(self, path: str) -> bool:
        return self.grab().save(path, "PNG")
