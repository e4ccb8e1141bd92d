"""Vector icons drawn with QPainter: crisp at any size and device pixel ratio.

Each block kind has a glyph in white on a rounded tile of its category's colour, so icons read the
same on light and dark themes.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

from convstudio.core.blocks import get_spec

__all__ = ["CATEGORY_COLORS", "app_icon", "block_icon", "category_color", "paint_glyph"]

CATEGORY_COLORS = {
    "Input": "#3F51B5",
    "Convolution": "#1E88E5",
    "Pooling": "#00897B",
    "Dense": "#8E24AA",
    "Regularisation": "#546E7A",
    "Merge": "#43A047",
}


def category_color(kind: str) -> QColor:
    """The colour of ``kind``'s category (grey for unknown kinds)."""
    try:
        return QColor(CATEGORY_COLORS.get(get_spec(kind).category, "#757575"))
    except KeyError:
        return QColor("#757575")


def paint_glyph(painter: QPainter, rect: QRectF, kind: str, color: QColor = QColor("white")) -> None:
    """Draw ``kind``'s glyph in ``rect`` (a square), in ``color``, with no background."""
    s = min(rect.width(), rect.height())
    c = rect.center()
    pen = QPen(color, max(1.0, s * 0.075), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(pen)
    painter.setBrush(Qt.NoBrush)

    def r(x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(c.x() + x * s, c.y() + y * s, w * s, h * s)

    def p(x: float, y: float) -> QPointF:
        return QPointF(c.x() + x * s, c.y() + y * s)

    filled = QBrush(color)
    if kind == "Input":
        painter.drawRoundedRect(r(-0.32, -0.32, 0.64, 0.64), s * 0.06, s * 0.06)
        painter.drawLine(p(0, -0.16), p(0, 0.18))
        painter.drawLine(p(-0.12, 0.06), p(0, 0.18))
        painter.drawLine(p(0.12, 0.06), p(0, 0.18))
    elif kind == "Conv2D":
        painter.drawRect(r(-0.34, -0.34, 0.5, 0.5))
        painter.drawRect(r(-0.16, -0.16, 0.5, 0.5))
        painter.setBrush(filled)
        painter.drawRect(r(0.04, 0.04, 0.18, 0.18))
    elif kind in ("MaxPool2D", "AvgPool2D"):
        # a 2x2 window: max keeps one cell, average blends all four; then the single output cell
        cells = [r(-0.36 + i * 0.22, -0.36 + j * 0.22, 0.2, 0.2) for j in range(2) for i in range(2)]
        half = QColor(color)
        half.setAlphaF(0.45)
        for n, cell in enumerate(cells):
            if kind == "MaxPool2D":
                painter.setBrush(filled if n == 0 else Qt.NoBrush)
            else:
                painter.setBrush(half)
            painter.drawRect(cell)
        painter.setBrush(Qt.NoBrush)
        painter.drawLine(p(0.1, 0.1), p(0.2, 0.2))
        painter.setBrush(filled)
        painter.drawRect(r(0.16, 0.16, 0.2, 0.2))
    elif kind in ("GlobalAvgPool2D", "GlobalMaxPool2D"):
        # a whole map reduced to one value per channel
        half = QColor(color)
        half.setAlphaF(0.45)
        painter.setBrush(half if kind == "GlobalAvgPool2D" else Qt.NoBrush)
        painter.drawRect(r(-0.36, -0.36, 0.46, 0.46))
        if kind == "GlobalMaxPool2D":
            painter.setBrush(filled)
            painter.drawRect(r(-0.1, -0.32, 0.16, 0.16))
        painter.setBrush(Qt.NoBrush)
        painter.drawLine(p(0.12, 0.12), p(0.2, 0.2))
        painter.setBrush(filled)
        painter.drawEllipse(p(0.26, 0.26), s * 0.09, s * 0.09)
    elif kind == "Flatten":
        painter.drawRect(r(-0.34, -0.34, 0.3, 0.3))
        painter.drawLine(p(-0.02, -0.19), p(0.16, -0.19))
        for i in range(4):
            painter.drawRect(r(0.2, -0.34 + i * 0.17, 0.14, 0.13))
    elif kind == "Dense":
        left = [p(-0.28, -0.24 + i * 0.24) for i in range(3)]
        right = [p(0.28, -0.12 + i * 0.24) for i in range(2)]
        thin = QPen(color, max(1.0, s * 0.04))
        painter.setPen(thin)
        for a in left:
            for b in right:
                painter.drawLine(a, b)
        painter.setPen(Qt.NoPen)
        painter.setBrush(filled)
        for q in left + right:
            painter.drawEllipse(q, s * 0.08, s * 0.08)
    elif kind == "Dropout":
        for i in range(3):
            for j in range(3):
                q = p(-0.24 + i * 0.24, -0.24 + j * 0.24)
                if (i + 2 * j) % 3 == 1:
                    painter.setBrush(Qt.NoBrush)
                    painter.drawEllipse(q, s * 0.07, s * 0.07)
                else:
                    painter.setBrush(filled)
                    painter.drawEllipse(q, s * 0.08, s * 0.08)
    elif kind == "BatchNorm":
        path = QPainterPath(p(-0.36, 0.24))
        for i in range(1, 41):
            x = -0.36 + 0.72 * i / 40
            path.lineTo(p(x, 0.24 - 0.5 * math.exp(-((x / 0.15) ** 2))))
        painter.drawPath(path)
        painter.drawLine(p(-0.36, 0.3), p(0.36, 0.3))
    elif kind == "Activation":
        painter.drawLine(p(-0.34, 0.2), p(0.0, 0.2))
        painter.drawLine(p(0.0, 0.2), p(0.32, -0.3))
        painter.setPen(QPen(color, max(1.0, s * 0.03), Qt.DashLine))
        painter.drawLine(p(-0.36, 0.2), p(0.36, 0.2))
    elif kind == "Add":
        painter.drawEllipse(c, s * 0.32, s * 0.32)
        painter.drawLine(p(-0.16, 0), p(0.16, 0))
        painter.drawLine(p(0, -0.16), p(0, 0.16))
    elif kind == "Concatenate":
        painter.drawRect(r(-0.34, -0.3, 0.2, 0.6))
        painter.drawRect(r(-0.1, -0.3, 0.2, 0.6))
        painter.setBrush(filled)
        painter.drawRect(r(0.14, -0.3, 0.2, 0.6))
    else:
        painter.drawEllipse(c, s * 0.3, s * 0.3)
    painter.restore()


def _paint_tile(painter: QPainter, rect: QRectF, kind: str, disabled: bool) -> None:
    """A rounded tile in the kind's category colour with the kind's glyph on it."""
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing)
    tile = rect.adjusted(0.5, 0.5, -0.5, -0.5)
    side = min(tile.width(), tile.height())
    tile = QRectF(tile.center().x() - side / 2, tile.center().y() - side / 2, side, side)
    color = QColor("#9E9E9E") if disabled else (category_color(kind) if kind != "app" else QColor("#1E88E5"))
    painter.setPen(Qt.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(tile, side * 0.22, side * 0.22)
    glyph = tile.adjusted(side * 0.1, side * 0.1, -side * 0.1, -side * 0.1)
    paint_glyph(painter, glyph, "Conv2D" if kind == "app" else kind)
    painter.restore()


# Rendered once per size and pixel ratio: a QIcon made of pixmaps holds no Python object, so Qt can
# keep it in its global state (the application icon) past interpreter shutdown without crashing.
_SIZES = (16, 24, 32, 48, 64)
_RATIOS = (1.0, 2.0)


def _render(kind: str, size: int, ratio: float, disabled: bool) -> QPixmap:
    side = max(1, round(size * ratio))
    image = QImage(side, side, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    _paint_tile(painter, QRectF(0, 0, side, side), kind, disabled)
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


_CACHE: dict[str, QIcon] = {}


def block_icon(kind: str) -> QIcon:
    """The icon of a block kind: its glyph on its category's colour, sharp at 1x and 2x."""
    if kind not in _CACHE:
        icon = QIcon()
        for size in _SIZES + ((128, 256) if kind == "app" else ()):
            for ratio in _RATIOS:
                icon.addPixmap(_render(kind, size, ratio, False), QIcon.Normal)
            icon.addPixmap(_render(kind, size, 1.0, True), QIcon.Disabled)
        _CACHE[kind] = icon
    return _CACHE[kind]


def app_icon() -> QIcon:
    """ConvStudio's application icon."""
    return block_icon("app")
