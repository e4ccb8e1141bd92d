"""The canvas view: drop target for palette blocks, zoom, pan, keyboard edits and an issue banner.

Zoom with Ctrl+wheel or +/-, pan with the middle button or Space+drag, rubber-band select with the
left button on empty space, Delete removes the selection (blocks and connections), Ctrl+C / Ctrl+V
copy and paste, arrow keys nudge, right-click opens a menu for what is under the mouse. Network-wide
problems show in a banner at the top, with their fix as a link.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QTextDocument,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsView, QLabel, QMenu, QWidget

from convstudio.core.blocks import BLOCKS
from convstudio.core.shapes import Analysis

from ..document import AUTO_CONNECT_HELP, BLOCK_MIME, CLIPBOARD_MIME, EditorDocument, follow
from ..explorer import can_explore
from ..icons import block_icon
from .block_item import BLOCK_WIDTH, FIT_MIN_ZOOM, BlockItem
from .edge_item import EdgeItem
from .scene import NetworkScene

__all__ = ["EXPLORE_TEXT", "CanvasView"]

MIN_ZOOM, MAX_ZOOM = 0.05, 3.0
EXPLORE_TEXT = "Open in convolution explorer"


class CanvasView(QGraphicsView):
    """The network editor canvas over ``document``; ``status`` carries short user messages."""

    status = Signal(str)

    def __init__(self, document: EditorDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        # A view does not own the scene it shows: parent it to the view so they go away together.
        self._scene = NetworkScene(document, self)
        self.setScene(self._scene)
        self._scene.status.connect(self.status)
        self._follow_theme()
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setToolTip("")
        self._pan_from: QPoint | None = None
        self._space = False
        self._internal_clipboard: dict | None = None
        self._paste_count = 0
        self._rect_pending = False
        self._reveal: str | None = None  # the block last added, shown once the scene has it
        self.explore_block: Callable[[str], None] | None = None
        """Opens a block in the convolution explorer; set by the window, offered in a block's menu."""
        self._update_scene_rect()

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.RichText)
        self.banner.linkActivated.connect(self._banner_link)
        self._banner_fixes: list = []
        self.banner.setContentsMargins(12, 7, 12, 7)
        self.banner.hide()
        self._on_analysis(document.analysis)
        document.analysisChanged.connect(self._on_analysis)
        follow(document.network.events, self._on_network_event)
        self._keys = [
            (QKeySequence.Delete, self.delete_selection),
            (QKeySequence(Qt.Key_Backspace), self.delete_selection),
            (QKeySequence.Copy, self.copy_selection),
            (QKeySequence.Paste, self.paste),
            (QKeySequence.SelectAll, self.select_all),
            (QKeySequence.ZoomIn, self.zoom_in),
            (QKeySequence(Qt.Key_Plus), self.zoom_in),
            (QKeySequence(Qt.Key_Equal), self.zoom_in),
            (QKeySequence.ZoomOut, self.zoom_out),
            (QKeySequence(Qt.Key_Minus), self.zoom_out),
            (QKeySequence("Ctrl+0"), self.fit_to_view),
        ]

    @property
    def network_scene(self) -> NetworkScene:
        return self._scene

    # ----------------------------------------------------------------- banner

    def _on_analysis(self, analysis: Analysis) -> None:
        issues = [i for i in analysis.issues if i.block_id is None]
        if not issues:
            self.banner.hide()
            return
        error = any(i.severity == "error" for i in issues)
        hint = all(i.severity == "hint" for i in issues)
        self.banner.setProperty("severity", "error" if error else "hint" if hint else "warning")
        self._banner_fixes = [i.fix for i in issues]
        lines = []
        for n, issue in enumerate(issues):
            line = html.escape(issue.message)
            if issue.fix is not None:
                line += f" &nbsp;<a href='fix:{n}' style='color:#0D47A1'>{html.escape(issue.fix.label)}</a>"
            lines.append(line)
        self.banner.setText("<br>".join(lines))
        bg, fg, border = ("#FDECEA", "#B71C1C", "#EF9A9A") if error else ("#FFF4E5", "#8A4B00", "#FFCC80")
        if hint:
            bg, fg, border = ("#EEF3F7", "#37474F", "#B0BEC5")  # guidance, not a fault
        self.banner.setStyleSheet(f"QLabel {{ background: {bg}; color: {fg}; border: 1px solid {border};"
                                  " border-radius: 6px; font-weight: 600; }")
        self._place_banner()
        self.banner.show()

    def banner_text(self) -> str:
        """The banner's message as plain text ('' when hidden)."""
        if self.banner.isHidden():
            return ""
        doc = QTextDocument()
        doc.setHtml(self.banner.text())
        return doc.toPlainText()

    def _banner_link(self, link: str) -> None:
        """A fix link in the banner: apply that network-wide fix (one undo step)."""
        if link.startswith("fix:"):
            n = int(link[4:])
            if 0 <= n < len(self._banner_fixes) and self._banner_fixes[n] is not None:
                self.document.apply_fix(None, self._banner_fixes[n])

    def _place_banner(self) -> None:
        width = max(120, min(self.viewport().width() - 24, 640))
        self.banner.setFixedWidth(width)
        # A word-wrapped label's adjustSize() keeps one line's height; ask for the wrapped height.
        wrapped = self.banner.heightForWidth(width)
        self.banner.setFixedHeight(wrapped if wrapped > 0 else self.banner.sizeHint().height())
        self.banner.move((self.width() - self.banner.width()) // 2, 12)

    def _follow_theme(self) -> None:
        self._scene.set_dark(self.palette().color(QPalette.Base).lightness() < 128)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.PaletteChange:
            self._follow_theme()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_banner()

    def _on_network_event(self, event) -> None:
        if event.kind == "added":
            self._reveal = event.block_id  # a block added off screen (by a fix, a paste, an undo) is scrolled to
        elif event.kind == "reset":
            self._reveal = None
        if event.kind in ("added", "moved", "reset") and not self._rect_pending:
            self._rect_pending = True  # once per burst of events, not once per block
            QTimer.singleShot(0, self._update_scene_rect)

    def _update_scene_rect(self) -> None:
        self._rect_pending = False
        rect = self._scene.items_rect()
        if rect.isNull():
            rect = QRectF(-400, -300, 800, 600)
        self.setSceneRect(rect.adjusted(-2000, -2000, 2000, 2000).united(self.sceneRect()))
        item = self._scene.blocks.get(self._reveal) if self._reveal else None
        self._reveal = None
        if item is not None:
            self.ensureVisible(item.body_rect(), 40, 40)

    # ----------------------------------------------------------------- zoom and pan

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1) > 1e-6:
            self.scale(factor, factor)

    def zoom_in(self) -> None:
        self.zoom_by(1.2)

    def zoom_out(self) -> None:
        self.zoom_by(1 / 1.2)

    def layout_view(self) -> tuple[float, float]:
        """The size in pixels a tidy layout should fit (the visible canvas)."""
        size = self.viewport().size()
        return float(max(size.width(), 200)), float(max(size.height(), 150))

    def fit_to_view(self) -> None:
        """Show every block, at no more than 100 %, and never so small that names are unreadable.

        A network too large for that opens at the readable floor, from its top (the Input).
        """
        rect = self._scene.items_rect()
        if rect.isNull():
            return
        self.fitInView(rect.adjusted(-40, -60, 40, 40), Qt.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.zoom_by(1.0 / self.zoom())
        if self.zoom() < FIT_MIN_ZOOM:
            self.zoom_by(FIT_MIN_ZOOM / self.zoom())
            half = self.viewport().height() / 2 / self.zoom()
            self.centerOn(QPointF(rect.center().x(), rect.top() - 60 + half))
            return
        self.centerOn(rect.center())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.ControlModifier:
            steps = event.angleDelta().y() / 120
            self.zoom_by(1.15 ** steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _key_slot(self, event: QKeyEvent):
        for keys, slot in self._keys:
            if isinstance(keys, QKeySequence.StandardKey):
                if event.matches(keys):
                    return slot
            elif QKeySequence(event.keyCombination()) == keys:
                return slot
        return None

    def event(self, event) -> bool:
        # The canvas's own keys win over window shortcuts while it has focus: it knows about
        # selected connections too, and no key is claimed twice.
        if event.type() == QEvent.ShortcutOverride and self._key_slot(event) is not None:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        slot = self._key_slot(event)
        if slot is not None:
            slot()
            event.accept()
            return
        arrows = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}
        if event.key() in arrows and self.document.selected_ids():
            self.nudge(*arrows[event.key()], big=bool(event.modifiers() & Qt.ShiftModifier))
            event.accept()
            return
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def nudge(self, dx: int, dy: int, big: bool = False) -> None:
        """Move the selected blocks one grid step (five with ``big``); repeated nudges are one undo step."""
        step = 50.0 if big else 10.0
        net = self.document.network
        self.document.move_blocks({bid: (net.blocks[bid].pos[0] + dx * step, net.blocks[bid].pos[1] + dy * step)
                                   for bid in self.document.selected_ids()}, merge=True)

    def add_kind(self, kind: str) -> str | None:
        """Add ``kind`` without a drag (e.g. double-click in the palette).

        Like a drop on empty space: below the network's single open end when there is one
        (and connected to it), otherwise in the middle of the view.
        """
        if self.document.locked:
            self.document.editRefused.emit(self.document.lock_reason)
            return None
        src = self.document.auto_connect_source(kind)
        if src is not None:
            item = self._scene.blocks[src]
            at = (item.pos().x(), item.pos().y() + item.height + 60)
        else:
            centre = self.mapToScene(self.viewport().rect().center())
            at = (round((centre.x() - BLOCK_WIDTH / 2) / 10) * 10, round(centre.y() / 10) * 10)
        new = self.document.add_block(kind, at, connect_from=src)
        if new:
            self.document.select([new])
            self.centerOn(self._scene.blocks[new].sceneBoundingRect().center())
        return new

    # ----------------------------------------------------------------- context menu

    def context_menu(self, scene_pos: QPointF) -> QMenu:
        """The right-click menu for what is under ``scene_pos`` (a block, a connection or the canvas)."""
        menu = QMenu(self)
        doc = self.document
        hit = next((i for i in self._scene.items(scene_pos) if isinstance(i, (BlockItem, EdgeItem))), None)
        if isinstance(hit, BlockItem):
            self._block_menu(menu, hit)
        elif isinstance(hit, EdgeItem):
            src, dst = hit.src, hit.dst
            menu.addAction("Disconnect", lambda: doc.disconnect_blocks(src, dst))
            insert = menu.addMenu("Insert")
            for kind, spec in BLOCKS.items():
                if spec.max_inputs >= 1 and spec.min_inputs <= 1:
                    insert.addAction(block_icon(kind), spec.label,
                                     lambda k=kind: doc.insert_between(src, dst, k))
        else:
            paste = menu.addAction("Paste", self.paste)
            mime = QApplication.clipboard().mimeData()
            paste.setEnabled(self._internal_clipboard is not None
                             or (mime is not None and mime.hasFormat(CLIPBOARD_MIME)))
            menu.addAction("Select all", self.select_all)
            menu.addSeparator()
            menu.addAction("Tidy layout", lambda: doc.tidy(self.layout_view()))
            menu.addAction("Fit to view", self.fit_to_view)
        for action in menu.actions():
            action.setEnabled(action.isEnabled() and not (doc.locked and action.text() not in
                                                           ("Copy", "Select all", "Fit to view", EXPLORE_TEXT)))
        return menu

    def _block_menu(self, menu: QMenu, hit: BlockItem) -> None:
        """The entries for a right-click on a block (it joins the selection if it was not in it)."""
        doc = self.document
        if hit.block_id not in doc.selected_ids():
            doc.select([hit.block_id])
        ids = doc.selected_ids()
        menu.addAction("Delete" if len(ids) == 1 else f"Delete {len(ids)} blocks", self.delete_selection)
        menu.addAction("Copy", self.copy_selection)
        menu.addAction("Duplicate", lambda: doc.paste(doc.copy(ids)))
        srcs = doc.network.inputs_of(hit.block_id)
        if srcs:
            menu.addAction("Disconnect inputs",
                           lambda: doc.remove_blocks([], [(s, hit.block_id) for s in srcs]))
        if hit.issue is not None and hit.issue.fix is not None:
            menu.addSeparator()
            menu.addAction(hit.issue.fix.label, hit.fix_button.click)
        explore, bid = self.explore_block, hit.block_id
        if explore is not None and can_explore(doc.network, bid):
            menu.addSeparator()
            menu.addAction(EXPLORE_TEXT, lambda: explore(bid))

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        self.context_menu(self.mapToScene(event.pos())).exec(event.globalPos())

    # ----------------------------------------------------------------- drops from the palette

    @staticmethod
    def _kind_of(mime: QMimeData) -> str | None:
        if not mime.hasFormat(BLOCK_MIME):
            return None
        kind = bytes(mime.data(BLOCK_MIME)).decode("utf-8", "replace").strip()
        return kind if kind in BLOCKS else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        kind = self._kind_of(event.mimeData())
        if kind is None:
            event.ignore()
            return
        event.setDropAction(Qt.CopyAction)
        event.accept()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        kind = self._kind_of(event.mimeData())
        if kind is None:
            event.ignore()
            return
        self._scene.highlight_drop(self.mapToScene(event.position().toPoint()), kind)
        event.setDropAction(Qt.CopyAction)
        event.accept()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._scene.highlight_drop(None, None)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        kind = self._kind_of(event.mimeData())
        self._scene.highlight_drop(None, None)
        if kind is None:
            event.ignore()
            return
        if self.document.locked:
            self.document.editRefused.emit(self.document.lock_reason)
            event.ignore()
            return
        new = self._scene.drop_block(kind, self.mapToScene(event.position().toPoint()))
        if new:
            event.setDropAction(Qt.CopyAction)
            event.accept()
            self.setFocus()
        else:
            event.ignore()

    # ----------------------------------------------------------------- keyboard edits

    def delete_selection(self) -> None:
        ids = self.document.selected_ids()
        edges = self._scene.selected_edges()
        if ids or edges:
            from ..delete_join import delete_selection

            delete_selection(self, self.document, ids, edges)

    def select_all(self) -> None:
        self.document.select(list(self.document.network.blocks))

    def copy_selection(self) -> dict | None:
        ids = self.document.selected_ids()
        if not ids:
            return None
        data = self.document.copy(ids)
        self._internal_clipboard = data
        self._paste_count = 0
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, json.dumps(data).encode("utf-8"))
        mime.setText(json.dumps(data, indent=1))
        QApplication.clipboard().setMimeData(mime)
        self.status.emit(f"Copied {len(ids)} block(s)")
        return data

    def paste(self) -> list[str]:
        data = None
        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasFormat(CLIPBOARD_MIME):
            try:
                data = json.loads(bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8"))
            except ValueError:
                data = None
        if data is None:
            data = self._internal_clipboard
        if not data:
            self.status.emit("Nothing to paste: copy blocks first (Ctrl+C)")
            return []
        self._paste_count += 1
        step = 40.0 * self._paste_count
        new = self.document.paste(data, (step, step))
        if new:
            self.status.emit(f"Pasted {len(new)} block(s)")
        return new

    def scene_pos_of_block(self, block_id: str) -> QPointF:
        """Scene position of a block's top-left corner (for tests and tools)."""
        return self._scene.blocks[block_id].scenePos()

    def help_text(self) -> str:
        return AUTO_CONNECT_HELP
