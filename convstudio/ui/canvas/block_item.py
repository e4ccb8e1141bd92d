"""A block on the canvas: kind, id, key parameters, output shape, parameter count and issues.

The item holds only its block id; it redraws from the network and the document's analysis. A block
with an error is drawn red, its reason on a card beside it (amber for warnings, neutral grey for a
hint about the next step), so the block keeps its height and covers nothing below it; when the issue
has a fix, a button on the card applies it in one click.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QGraphicsSceneMouseEvent, QStyle, QStyleOptionGraphicsItem

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
HINT = QColor("#546E7A")
OVERVIEW_LOD = 0.6
"""Below this zoom a block's small print is unreadable: it shows only its name, large (overview)."""
READABLE_PX = 12.0
FIT_MIN_ZOOM = 0.35
"""Fit to View goes no lower: a block's name in the overview is still ``READABLE_PX`` tall on screen."""
CARD_GAP = 12.0
CARD_WIDTH = 220.0


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

    def __init__(self, parent: BlockItem) -> None:
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
        if QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()) < OVERVIEW_LOD:
            return  # the overview shows names only; the card and its button come back when zoomed in
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
        self._card = QRectF()
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
            color = self.issue_color().name()
            text += f"<br><br><span style='color:{color}'><b>{self.issue.severity.title()}:</b> {self.issue.message}</span>"
        return text

    def restack(self) -> None:
        """Selected blocks, then blocks with issues (taller, they may overlap a neighbour), on top."""
        self.setZValue(1 + (0.5 if self.issue is not None else 0) + (1 if self.isSelected() else 0))

    def issue_color(self) -> QColor:
        if self.issue is None:
            return QColor("#607D8B")
        return {"error": ERROR, "hint": HINT}.get(self.issue.severity, WARNING)

    @property
    def is_error(self) -> bool:
        return self.issue is not None and self.issue.severity == "error"

    def card_rect(self) -> QRectF:
        """Where the issue card is drawn, beside the block (empty without an issue)."""
        return QRectF(self._card)

    def _relayout(self) -> None:
        """The block keeps one height; an issue goes on a card beside it, never over the block below."""
        self.prepareGeometryChange()
        h = HEADER + PAD + 16 + 18 + PAD - 4
        self._issue_rect = QRectF()
        self._card = QRectF()
        if self.issue is not None:
            fm = QFontMetricsF(self.small)
            left, width = BLOCK_WIDTH + CARD_GAP, CARD_WIDTH - 2 * PAD
            rect = fm.boundingRect(QRectF(0, 0, width, 1000), Qt.TextWordWrap, self.issue.message)
            self._issue_rect = QRectF(left + PAD, PAD, width, min(rect.height(), fm.lineSpacing() * 6) + 2)
            bottom = self._issue_rect.bottom() + 6
            self.fix_button.set_fix(self.issue.fix, self.small_bold)
            if self.issue.fix is not None:
                self.fix_button.setPos(left + PAD, bottom)
                bottom += self.fix_button.boundingRect().height() + 6
            self._card = QRectF(left, 0, CARD_WIDTH, bottom + PAD - 6)
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

    def body_rect(self) -> QRectF:
        """The block itself in scene coordinates (without its issue card)."""
        return QRectF(self.scenePos(), QSizeF(BLOCK_WIDTH, self._height))

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-3, -3, BLOCK_WIDTH + 6, self._height + 6).united(self._card.adjusted(-3, -3, 3, 3))

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, BLOCK_WIDTH, self._height), 8, 8)
        return path

    # ----------------------------------------------------------------- painting

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < OVERVIEW_LOD:
            self._paint_overview(painter, lod)
            return
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
        if self.is_error:
            body = QColor("#FFF5F5")
        elif self.issue is not None and self.issue.severity == "warning":
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
        painter.setBrush(ERROR if self.is_error else color)
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
            self._paint_card(painter)

    def _paint_card(self, painter: QPainter) -> None:
        """The issue card beside the block, with a pointer towards it: red, amber, or a neutral hint."""
        color = self.issue_color()
        fill = {"error": QColor("#FFF5F5"), "hint": QColor("#F5F8FA")}.get(self.issue.severity, QColor("#FFFBF2"))
        card = self._card
        pointer = QPolygonF([QPointF(card.left(), 10), QPointF(card.left() - CARD_GAP + 2, 17),
                             QPointF(card.left(), 24)])
        painter.setPen(QPen(color.lighter(130) if self.issue.severity == "hint" else color, 1.2))
        painter.setBrush(fill)
        painter.drawRoundedRect(card, 6, 6)
        painter.drawPolygon(pointer)
        painter.setPen(color.darker(110))
        painter.setFont(self.small)
        painter.drawText(self._issue_rect, Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop, self.issue.message)

    def overview_font(self, lod: float) -> QFont:
        """The name's font at zoom ``lod``: at least ``READABLE_PX`` on screen while it fits the block."""
        font = QFont(self.title_font)
        font.setPixelSize(int(min(self._height * 0.5, max(13.0, READABLE_PX / max(lod, 1e-3)))))
        return font

    def overview_lines(self, lod: float) -> list[str]:
        """What the overview writes at zoom ``lod``: the name, and below it the output shape (with the
        parameters when they fit) while the block is tall enough on screen for two readable lines."""
        return self._overview_lines(self.two_line_font(lod))

    def _overview_lines(self, font: QFont | None) -> list[str]:
        if font is None or not self.shape_text or self.is_error:
            return [self.block_id]
        metrics = QFontMetricsF(font)
        width = BLOCK_WIDTH - 12
        detail = self.shape_text
        if self.params_text and metrics.horizontalAdvance(f"{detail} \u00b7 {self.params_text}") <= width:
            detail = f"{detail} \u00b7 {self.params_text}"
        return [metrics.elidedText(self.block_id, Qt.ElideRight, width), metrics.elidedText(detail, Qt.ElideRight, width)]

    def two_line_font(self, lod: float) -> QFont | None:
        """The overview's font for a name and a shape line at zoom ``lod``; None when two lines would not
        be readable (under ``READABLE_PX`` - 1 on screen)."""
        font = self.overview_font(lod)
        size = min(font.pixelSize(), int(self._height / 2.3))
        if size * lod < READABLE_PX - 1:
            return None
        font.setPixelSize(size)
        return font

    def _paint_overview(self, painter: QPainter, lod: float) -> None:
        """Zoomed far out: the block in its colour with its name in a large font (red if in error), and its
        output shape below the name when there is room for it."""
        rect = QRectF(0, 0, BLOCK_WIDTH, self._height)
        painter.setPen(QPen(QColor("#1565C0") if self.isSelected() else self.issue_color(),
                            max(2.0, 1.5 / max(lod, 1e-3)) if self.isSelected() or self.is_error else 1.0))
        painter.setBrush(ERROR if self.is_error else category_color(self.kind))
        painter.drawRoundedRect(rect, 10, 10)
        painter.setPen(QColor("white"))
        room = rect.adjusted(6, 2, -6, -2)
        two_lines = self.two_line_font(lod)
        lines = self._overview_lines(two_lines)
        if two_lines is not None and len(lines) == 2:
            painter.setFont(two_lines)
            line = two_lines.pixelSize() * 1.15
            painter.drawText(QRectF(room.left(), room.center().y() - line, room.width(), line), Qt.AlignCenter,
                             lines[0])
            painter.drawText(QRectF(room.left(), room.center().y(), room.width(), line), Qt.AlignCenter, lines[1])
            return
        font = self.overview_font(lod)
        painter.setFont(font)
        name = self.block_id
        if QFontMetricsF(font).horizontalAdvance(name) > room.width():
            name = name.replace("_", "_\u200b")  # a long name may break after its underscores
        painter.drawText(room, Qt.AlignCenter | Qt.TextWordWrap, name)

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
