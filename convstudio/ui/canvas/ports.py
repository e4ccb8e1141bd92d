"""Ports: the input (top) and output (bottom) handles of a block, and connection dragging.

Dragging from an output port to a block's input port (or anywhere on that block) connects them.
The scene handles the presses (ports win over blocks they overlap) and asks the document.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneHoverEvent

__all__ = ["PortItem", "PORT_RADIUS"]

PORT_RADIUS = 6.0


class PortItem(QGraphicsItem):
    """A round handle on a block; ``is_output`` says which side it is."""

    def __init__(self, block_item: QGraphicsItem, is_output: bool) -> None:
        super().__init__(block_item)
        self.block_item = block_item
        self.is_output = is_output
        self._hover = False
        self.highlight = False
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        self.setCursor(Qt.CrossCursor if is_output else Qt.ArrowCursor)
        self.setToolTip("Output: drag to another block to feed it" if is_output
                        else "Input: drag to the block that should feed it, or drag a connection's "
                             "end away from here to disconnect")

    @property
    def block_id(self) -> str:
        return self.block_item.block_id

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        r = PORT_RADIUS + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        r = PORT_RADIUS + 4  # a generous hit area
        path.addEllipse(QRectF(-r, -r, 2 * r, 2 * r))
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        big = self._hover or self.highlight
        r = PORT_RADIUS + (2 if big else 0)
        accent = QColor("#1E88E5") if not self.highlight else QColor("#43A047")
        painter.setPen(QPen(accent if big else QColor("#607D8B"), 2))
        painter.setBrush(QBrush(accent if self.is_output or big else QColor("white")))
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.update()
