"""A connection on the canvas: a curve from a block's output port to another block's input port.

Edges are selectable (Delete disconnects) and their ends can be dragged away to disconnect or
onto another block to reconnect. A block dropped on an edge is inserted into it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSceneMouseEvent, QStyle

__all__ = ["EdgeItem", "curve", "polyline"]

END_GRAB = 22.0


def curve(a: QPointF, b: QPointF) -> QPainterPath:
    """A vertical S-curve from ``a`` (an output, above) to ``b`` (an input, below)."""
    path = QPainterPath(a)
    bend = max(40.0, abs(b.y() - a.y()) * 0.5)
    path.cubicTo(QPointF(a.x(), a.y() + bend), QPointF(b.x(), b.y() - bend), b)
    return path


def polyline(points: list[QPointF], radius: float = 12.0) -> QPainterPath:
    """A path through ``points`` with rounded corners (a connection routed around blocks)."""
    path = QPainterPath(points[0])
    for prev, corner, nxt in zip(points, points[1:], points[2:]):
        def toward(p: QPointF, q: QPointF) -> QPointF:
            d = q - p
            length = max(1e-6, (d.x() ** 2 + d.y() ** 2) ** 0.5)
            r = min(radius, length / 2)
            return p + d * (r / length)
        path.lineTo(toward(corner, prev))
        path.quadTo(corner, toward(corner, nxt))
    path.lineTo(points[-1])
    return path


class EdgeItem(QGraphicsPathItem):
    """The view of ``src -> dst``; ``update_path`` follows the two blocks."""

    def __init__(self, src: str, dst: str) -> None:
        super().__init__()
        self.src = src
        self.dst = dst
        self.drop_highlight = False
        self.invalid = False
        self.route: list[QPointF] | None = None
        self._hover = False
        self.setFlags(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.setToolTip(f"{src} \u2192 {dst}\nSelect and press Delete, or drag its end away, to disconnect.\n"
                        "Drop a block here to insert it.")

    @property
    def key(self) -> tuple[str, str]:
        return (self.src, self.dst)

    def update_path(self, a: QPointF, b: QPointF, route: list[QPointF] | None = None) -> None:
        """Follow the ports ``a`` and ``b``: an S-curve, or the corner points ``route`` when given."""
        self._a, self._b = QPointF(a), QPointF(b)
        self.route = route
        self.setPath(polyline(route) if route and len(route) > 2 else curve(a, b))

    def end_point(self) -> QPointF:
        return self._b

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(14)
        return stroker.createStroke(self.path())

    def boundingRect(self):  # noqa: N802
        return super().boundingRect().adjusted(-8, -8, 8, 8)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        selected = bool(option.state & QStyle.State_Selected)
        color = QColor("#78909C")
        width = 2.0
        if self.invalid:
            color = QColor("#E57373")
        if self._hover:
            color, width = QColor("#1E88E5"), 2.5
        if selected:
            color, width = QColor("#1565C0"), 3.0
        if self.drop_highlight:
            color, width = QColor("#43A047"), 4.0
        painter.setPen(QPen(color, width, Qt.SolidLine, Qt.RoundCap))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())
        # arrow head just above the input port
        tip = QPointF(self._b.x(), self._b.y() - 7)
        head = QPolygonF([tip, QPointF(tip.x() - 5, tip.y() - 9), QPointF(tip.x() + 5, tip.y() - 9)])
        painter.setPen(Qt.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(head)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def set_drop_highlight(self, on: bool) -> None:
        if on != self.drop_highlight:
            self.drop_highlight = on
            self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """A press near the input end picks the end up; elsewhere it selects the edge."""
        near_end = (event.scenePos() - self._b).manhattanLength() < END_GRAB
        if event.button() == Qt.LeftButton and near_end and self.scene() is not None:
            self.scene().begin_connection(self.src, self.dst, event.scenePos())
            event.accept()
            return
        super().mousePressEvent(event)
