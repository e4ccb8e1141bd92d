"""Vector icons drawn with QPainter: crisp at any size and device pixel ratio.

Each block kind has a glyph in white on a rounded tile of its category's colour, so icons read the
same on light and dark themes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

from convstudio.core.blocks import BLOCKS, CATEGORIES, get_spec
from convstudio.core.blocks.glyph import Ellipse, Glyph, Line, Rect

__all__ = ["CATEGORY_COLORS", "app_icon", "block_icon", "category_color", "paint_glyph"]

APP_GLYPH_KIND = next(iter(k for k, spec in BLOCKS.items() if spec.category == "Convolution"))
"""The application icon wears the first convolution's glyph."""

CATEGORY_COLORS = dict(zip(CATEGORIES, ("#3F51B5", "#F4511E", "#1E88E5", "#00897B", "#8E24AA", "#546E7A", "#43A047"),
                           strict=True))
"""One colour per block category, in the order of ``CATEGORIES``."""


def category_color(kind: str) -> QColor:
    """The colour of ``kind``'s category (grey for unknown kinds)."""
    try:
        return QColor(CATEGORY_COLORS.get(get_spec(kind).category, "#757575"))
    except KeyError:
        return QColor("#757575")


_UNKNOWN: Glyph = (Ellipse(0, 0, 0.3, 0.3),)


def _pen(style: str, color: QColor, s: float) -> QPen:
    if style == "thin":
        return QPen(color, max(1.0, s * 0.04))
    if style == "dashed":
        return QPen(color, max(1.0, s * 0.03), Qt.DashLine)
    if style == "none":
        return QPen(Qt.NoPen)
    return QPen(color, max(1.0, s * 0.075), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)


def _brush(fill: str, color: QColor) -> QBrush:
    if fill == "none":
        return QBrush(Qt.NoBrush)
    shade = QColor(color)
    if fill == "half":
        shade.setAlphaF(0.45)
    return QBrush(shade)


def paint_glyph(painter: QPainter, rect: QRectF, kind: str, color: QColor | None = None) -> None:
    """Draw ``kind``'s glyph (its spec's primitives) in ``rect`` (a square), in ``color``, with no background."""
    color = QColor("white") if color is None else color
    s = min(rect.width(), rect.height())
    c = rect.center()

    def p(x: float, y: float) -> QPointF:
        return QPointF(c.x() + x * s, c.y() + y * s)

    try:
        glyph = get_spec(kind).glyph
    except KeyError:
        glyph = _UNKNOWN
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing)
    for shape in glyph:
        painter.setPen(_pen(shape.pen, color, s))
        painter.setBrush(_brush(getattr(shape, "fill", "none"), color))
        if isinstance(shape, Rect):
            box = QRectF(p(shape.x, shape.y), QSizeF(shape.w * s, shape.h * s))
            if shape.radius:
                painter.drawRoundedRect(box, shape.radius * s, shape.radius * s)
            else:
                painter.drawRect(box)
        elif isinstance(shape, Ellipse):
            painter.drawEllipse(p(shape.cx, shape.cy), shape.rx * s, shape.ry * s)
        elif isinstance(shape, Line):
            painter.drawLine(p(shape.x1, shape.y1), p(shape.x2, shape.y2))
        else:
            path = QPainterPath(p(*shape.points[0]))
            for point in shape.points[1:]:
                path.lineTo(p(*point))
            painter.drawPath(path)
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
    paint_glyph(painter, glyph, APP_GLYPH_KIND if kind == "app" else kind)
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
