"""A block on the canvas: kind, id, key parameters, output shape, parameter count and issues.

The item holds only its block id; it redraws from the network and the document's analysis. A block
with an error is drawn red with the reason wrapped on it (amber for warnings); when the issue has a
fix, a button on the block applies it in one click.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QGraphicsSceneMouseEvent, QStyle

from convstudio.core.blocks import Fix, get_spec
from convstudio.core.network import Block
from convstudio.core.shapes import BlockInfo, Issue, format_shape

from ..icons import category_color, paint_glyph
from .ports import PortItem

__all__ = ["BlockItem", "FixButton", "param_summary", "BLOCK_WIDTH", "GRID"]

BLOCK_WIDTH = 216.0
HEADER = 28.0
PAD = 9.0
GRID = 10.0
ERROR = QColor("#D32F2F")
WARNING = QColor("#EF8F00")


def param_summary(block: Block) -> str:
    """The parameters that matter at a glance, e.g. ``16 @ 3x3, s1, same · relu`` (the kind's own summary)."""
    return get_spec(block.kind).summary(block.params)


def _count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f}M"
    if n >= 10_000:
        return f"{n / 1000:.1f}k"
    return f"{n:,}"


class FixButton(QGraphicsObject):
    """A small clickable button on a block that applies an issue's fix."""

    def __init__(self, parent: "BlockItem") -> None:
        super().__init__(parent)
        self.fix: Fix | None = None
        self._hover = False
        self._size = QRectF(0, 0, 10, 22)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.PointingHandCursor)
        self.setZValue(3)

    def set_fix(self, fix: Fix | None, font: QFont) -> None:
        self.prepareGeometryChange()
        self.fix = fix
        self.setVisible(fix is not None)
        if fix is not None:
            w = QFontMetricsF(font).horizontalAdvance(fix.label) + 22
            self._size = QRectF(0, 0, w, 22)
            self.setToolTip(f"Apply the fix: {fix.label}")
        self.update()

    @property
    def label(self) -> str:
        return self.fix.label if self.fix else ""

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._size

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        color = self.parentItem().issue_color()
        painter.setPen(Qt.NoPen)
        painter.setBrush(color.darker(115) if self._hover else color)
        painter.drawRoundedRect(self._size, 4, 4)
        painter.setPen(QColor("white"))
        painter.setFont(self.parentItem().small_bold)
        painter.drawText(self._size, Qt.AlignCenter, "\u2192 " + self.label)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        event.accept() if event.button() == Qt.LeftButton else event.ignore()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.boundingRect().contains(event.pos()):
            self.click()

    def click(self) -> None:
        """Apply the fix through the document (one undo step)."""
        block = self.parentItem()
        if self.fix is not None and block.document is not None:
            block.document.apply_fix(block.block_id, self.fix)


class BlockItem(QGraphicsItem):
    """The view of one block; ``refresh`` takes the block, its analysis info and its issues."""

    def __init__(self, document, block: Block) -> None:
        super().__init__()
        self.document = document
        self.block_id = block.id
        self.kind = block.kind
        # No itemChange override: the scene snaps, re-routes edges and restacks. (PySide6 may hand
        # itemChange a stale wrapper for a child still being constructed, and crash.)
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.title_font = QFont()
        self.title_font.setPixelSize(13)
        self.title_font.setBold(True)
        self.small = QFont()
        self.small.setPixelSize(11)
        self.small_bold = QFont(self.small)
        self.small_bold.setBold(True)
        self.body_font = QFont()
        self.body_font.setPixelSize(12)
        self.summary = ""
        self.shape_text = "?"
        self.params_text = ""
        self.issue: Issue | None = None
        self.drop_highlight = False
        self._hover = False
        self._height = 80.0
        self._issue_rect = QRectF()
        self._state: tuple | None = None
        self.input_port = PortItem(self, is_output=False) if get_spec(block.kind).max_inputs > 0 else None
        self.output_port = PortItem(self, is_output=True)
        self.fix_button = FixButton(self)
        self.fix_button.setVisible(False)
        self.setPos(QPointF(*block.pos))
        self.refresh(block, None, [])

    # ----------------------------------------------------------------- content

    def refresh(self, block: Block, info: BlockInfo | None, issues: list[Issue]) -> bool:
        """Update the text from the model; returns whether anything visible changed."""
        issue = next((i for i in issues if i.severity == "error"), None) or (issues[0] if issues else None)
        state = (self.summary_for(block), info, issue)
        if state == self._state:
            return False
        self._state = state
        self.summary = state[0]
        self.shape_text = format_shape(info.shape) if info is not None and info.shape else "?"
        self.params_text = f"{_count(info.params)} params" if info is not None and info.shape else ""
        self.issue = issue
        self.restack()
        self.setToolTip(self._tooltip(block))
        self._relayout()
        self.update()
        return True

    @staticmethod
    def summary_for(block: Block) -> str:
        return param_summary(block)

    def _tooltip(self, block: Block) -> str:
        spec = get_spec(block.kind)
        text = f"<b>{spec.label}</b> ({block.id})<br>{spec.help}"
        if self.issue is not None:
            color = ERROR.name() if self.issue.severity == "error" else WARNING.name()
            text += f"<br><br><span style='color:{color}'><b>{self.issue.severity.title()}:</b> {self.issue.message}</span>"
        return text

    def restack(self) -> None:
        """Selected blocks, then blocks with issues (taller, they may overlap a neighbour), on top."""
        self.setZValue(1 + (0.5 if self.issue is not None else 0) + (1 if self.isSelected() else 0))

    def issue_color(self) -> QColor:
        if self.issue is None:
            return QColor("#607D8B")
        return ERROR if self.issue.severity == "error" else WARNING

    def _relayout(self) -> None:
        self.prepareGeometryChange()
        h = HEADER + PAD + 16 + 18 + PAD - 4
        self._issue_rect = QRectF()
        if self.issue is not None:
            fm = QFontMetricsF(self.small)
            width = BLOCK_WIDTH - 2 * PAD
            rect = fm.boundingRect(QRectF(0, 0, width, 1000), Qt.TextWordWrap, self.issue.message)
            self._issue_rect = QRectF(PAD, h, width, min(rect.height(), fm.lineSpacing() * 5) + 2)
            h += self._issue_rect.height() + 6
            self.fix_button.set_fix(self.issue.fix, self.small_bold)
            if self.issue.fix is not None:
                self.fix_button.setPos(PAD, h)
                h += self.fix_button.boundingRect().height() + 6
            h += 2
        else:
            self.fix_button.set_fix(None, self.small_bold)
        self._height = h
        if self.input_port is not None:
            self.input_port.setPos(BLOCK_WIDTH / 2, 0)
        self.output_port.setPos(BLOCK_WIDTH / 2, h)

    # ----------------------------------------------------------------- geometry

    @property
    def height(self) -> float:
        return self._height

    def input_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(BLOCK_WIDTH / 2, 0))

    def output_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(BLOCK_WIDTH / 2, self._height))

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-3, -3, BLOCK_WIDTH + 6, self._height + 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, BLOCK_WIDTH, self._height), 8, 8)
        return path

    # ----------------------------------------------------------------- painting

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        rect = QRectF(0, 0, BLOCK_WIDTH, self._height)
        selected = bool(option.state & QStyle.State_Selected)
        color = category_color(self.kind)
        # shadow
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(0, 0, 0, 28))
        painter.drawRoundedRect(rect.translated(0, 2), 8, 8)
        # body
        border = QColor("#78909C") if self._hover else QColor("#B0BEC5")
        width = 1.5 if self._hover else 1.0
        if self.issue is not None:
            border, width = self.issue_color(), 2.0
        if self.drop_highlight:
            border, width = QColor("#43A047"), 3.0
        if selected:
            border, width = QColor("#1565C0"), 2.5
        body = QColor("#FFFFFF")
        if self.issue is not None and self.issue.severity == "error":
            body = QColor("#FFF5F5")
        elif self.issue is not None:
            body = QColor("#FFFBF2")
        painter.setBrush(body)
        painter.setPen(QPen(border, width))
        painter.drawRoundedRect(rect, 8, 8)
        # header band
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, BLOCK_WIDTH, HEADER), 8, 8)
        square = QPainterPath()
        square.addRect(QRectF(0, HEADER / 2, BLOCK_WIDTH, HEADER / 2))
        header = header.united(square)
        painter.setPen(Qt.NoPen)
        painter.setBrush(ERROR if self.issue is not None and self.issue.severity == "error" else color)
        painter.drawPath(header)
        painter.setPen(QPen(border, width))
        painter.setBrush(Qt.NoBrush)
        painter.drawRoundedRect(rect, 8, 8)
        paint_glyph(painter, QRectF(6, 4, HEADER - 8, HEADER - 8), self.kind)
        room = BLOCK_WIDTH - HEADER - PAD
        id_width = min(QFontMetricsF(self.small).horizontalAdvance(self.block_id), room * 0.55)
        painter.setFont(self.small)
        painter.setPen(QColor(255, 255, 255, 215))
        painter.drawText(QRectF(HEADER, 0, room, HEADER), Qt.AlignVCenter | Qt.AlignRight,
                         QFontMetricsF(self.small).elidedText(self.block_id, Qt.ElideMiddle, id_width + 1))
        painter.setPen(QColor("white"))
        painter.setFont(self.title_font)
        label = get_spec(self.kind).label
        painter.drawText(QRectF(HEADER, 0, room - id_width - 8, HEADER), Qt.AlignVCenter | Qt.AlignLeft,
                         QFontMetricsF(self.title_font).elidedText(label, Qt.ElideRight, room - id_width - 8))
        # parameters and shape
        y = HEADER + PAD - 2
        painter.setFont(self.body_font)
        painter.setPen(QColor("#37474F"))
        fm = QFontMetricsF(self.body_font)
        painter.drawText(QRectF(PAD, y, BLOCK_WIDTH - 2 * PAD, 16), Qt.AlignLeft | Qt.AlignVCenter,
                         fm.elidedText(self.summary, Qt.ElideRight, BLOCK_WIDTH - 2 * PAD))
        y += 18
        painter.setFont(self.small_bold)
        painter.setPen(QColor("#263238") if self.shape_text != "?" else QColor("#90A4AE"))
        painter.drawText(QRectF(PAD, y, BLOCK_WIDTH - 2 * PAD, 16), Qt.AlignLeft | Qt.AlignVCenter,
                         "\u2192 " + self.shape_text)
        painter.setFont(self.small)
        painter.setPen(QColor("#607D8B"))
        painter.drawText(QRectF(PAD, y, BLOCK_WIDTH - 2 * PAD, 16), Qt.AlignRight | Qt.AlignVCenter, self.params_text)
        if self.issue is not None:
            painter.setPen(self.issue_color().darker(110))
            painter.setFont(self.small)
            painter.drawText(self._issue_rect, Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop, self.issue.message)

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
