"""The canvas scene: one item per block and per connection, kept in step with the network.

The scene follows ``network.events`` (add, remove, connect, move...) and updates only the items
concerned; block text follows the document's analysis, and only items whose content changed are
redrawn. User gestures (moving, connecting, dropping) become document edits, never item edits.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from convstudio.core.blocks import INPUT, get_spec
from convstudio.core.network import NetworkEvent
from convstudio.core.routing import route_edge
from convstudio.core.shapes import Analysis

from ..document import EditorDocument, follow
from .block_item import BLOCK_WIDTH, GRID, BlockItem
from .edge_item import EdgeItem, curve
from .ports import PortItem

__all__ = ["NetworkScene"]


class NetworkScene(QGraphicsScene):
    """Blocks and connections of ``document.network``; emits ``status`` messages for the user."""

    status = Signal(str)

    def __init__(self, document: EditorDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.blocks: dict[str, BlockItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self._touching: dict[str, set[tuple[str, str]]] = {}
        self.snap_to_grid = True
        self._user_drag = False
        self._syncing_selection = False
        self._connect_from: str | None = None
        self._detached: tuple[str, str] | None = None
        self._connect_to: str | None = None  # dragging backwards, from a free input port
        self._rubber: QGraphicsPathItem | None = None
        self._hover_target: PortItem | None = None
        self._dot_color = QColor("#CFD6DD")
        self._reroute_pending = False
        self._plain = False
        self.set_dark(False)
        self.setItemIndexMethod(QGraphicsScene.NoIndex)
        self._rebuild()
        follow(document.network.events, self._on_network_event)
        me = weakref.ref(self)
        document.block_heights = lambda: (me().block_heights() if me() is not None and shiboken6.isValid(me())
                                          else None)
        document.analysisChanged.connect(self._on_analysis)
        document.selectionChanged.connect(self._on_document_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        # Drop the Python wrappers of the items as soon as Qt deletes them with the scene, so no
        # stale wrapper outlives its item (PySide6 could hand it out for a new item at that address).
        blocks, edges, touching = self.blocks, self.edges, self._touching
        self.destroyed.connect(lambda *_: (blocks.clear(), edges.clear(), touching.clear()))

    # ----------------------------------------------------------------- following the model

    def _rebuild(self) -> None:
        for item in list(self.blocks.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.blocks.clear()
        self.edges.clear()
        self._touching.clear()
        net = self.document.network
        for block in net:
            self._add_block_item(block.id)
        for e in net.edges:
            self._add_edge_item(e.src, e.dst)
        self._on_analysis(self.document.analysis)
        self._schedule_reroute()

    def _add_block_item(self, block_id: str) -> None:
        item = BlockItem(self.document, self.document.network.blocks[block_id])
        self.blocks[block_id] = item
        self.addItem(item)

    def _add_edge_item(self, src: str, dst: str) -> None:
        item = EdgeItem(src, dst)
        self.edges[(src, dst)] = item
        self._touching.setdefault(src, set()).add((src, dst))
        self._touching.setdefault(dst, set()).add((src, dst))
        self.addItem(item)
        self._route(item)

    def _route(self, edge: EdgeItem) -> None:
        """Attach ``edge`` to its blocks; it bends around any other block between its two ends."""
        a, b = self.blocks.get(edge.src), self.blocks.get(edge.dst)
        if a is None or b is None:
            return
        start, end = a.output_anchor(), b.input_anchor()
        route = None
        if end.y() > start.y():
            lo, hi = start.y(), end.y()
            others = []
            for bid, item in self.blocks.items():
                if bid in (edge.src, edge.dst):
                    continue
                r = item.body_rect()
                if r.bottom() >= lo and r.top() <= hi:
                    others.append((r.x(), r.y(), r.width(), r.height()))
            points = route_edge((start.x(), start.y()), (end.x(), end.y()), others)
            if len(points) > 2:
                route = [QPointF(*p) for p in points]
        edge.update_path(start, end, route)

    def reroute(self) -> None:
        """Route every connection again (after blocks moved, appeared or changed size)."""
        self._reroute_pending = False
        for edge in self.edges.values():
            self._route(edge)

    def _schedule_reroute(self) -> None:
        if not self._reroute_pending:
            self._reroute_pending = True
            QTimer.singleShot(0, self, self.reroute)

    def _on_network_event(self, event: NetworkEvent) -> None:
        net = self.document.network
        kind = event.kind
        if kind == "added":
            self._add_block_item(event.block_id)
            self._schedule_reroute()
        elif kind == "removed":
            item = self.blocks.pop(event.block_id, None)
            if item is not None:
                self.removeItem(item)
            self._schedule_reroute()
        elif kind == "connected":
            self._add_edge_item(event.src, event.dst)
        elif kind == "disconnected":
            item = self.edges.pop((event.src, event.dst), None)
            for end in (event.src, event.dst):
                self._touching.get(end, set()).discard((event.src, event.dst))
            if item is not None:
                self.removeItem(item)
        elif kind == "moved":
            item = self.blocks.get(event.block_id)
            if item is not None:
                pos = QPointF(*net.blocks[event.block_id].pos)
                if item.pos() != pos:
                    item.setPos(pos)
                    self.block_moved(item)
        elif kind in ("reset", "renamed"):
            self._syncing_selection = True  # removing selected items must not clear the selection
            try:
                self._rebuild()
            finally:
                self._syncing_selection = False
            self._on_document_selection(self.document.selected_ids())  # ids may have changed

    def _on_analysis(self, analysis: Analysis) -> None:
        by_block: dict[str, list] = {}
        for issue in analysis.issues:
            if issue.block_id is not None:
                by_block.setdefault(issue.block_id, []).append(issue)
        net = self.document.network
        for bid, item in self.blocks.items():
            if bid in net.blocks and item.refresh(net.blocks[bid], analysis.info.get(bid), by_block.get(bid, [])):
                for e in self._edges_of(bid):
                    self._route(e)
                self._schedule_reroute()  # a block that grew may now stand in another connection's way
        for edge in self.edges.values():
            bad = analysis.shape(edge.src) is None and net.blocks.get(edge.src) is not None \
                and net.blocks[edge.src].kind != INPUT.kind
            if bad != edge.invalid:
                edge.invalid = bad
                edge.update()

    def _edges_of(self, block_id: str) -> list[EdgeItem]:
        return [self.edges[k] for k in self._touching.get(block_id, ()) if k in self.edges]

    def block_heights(self) -> dict[str, float]:
        """How tall each block is drawn (for the tidy layout)."""
        return {bid: item.height for bid, item in self.blocks.items()}

    def block_moved(self, item: BlockItem) -> None:
        """Called by a block item while it moves: keep its connections attached and clear of it."""
        mine = self._edges_of(item.block_id)
        for e in mine:
            self._route(e)
        area = item.body_rect()
        for e in self.edges.values():
            if e not in mine and (e.route is not None or e.path().boundingRect().intersects(area)):
                self._route(e)

    # ----------------------------------------------------------------- selection

    def _on_scene_selection(self) -> None:
        for item in self.blocks.values():
            item.restack()
        if self._syncing_selection:
            return
        ids = [i.block_id for i in self.selectedItems() if isinstance(i, BlockItem)]
        self._syncing_selection = True
        try:
            self.document.select(ids)
        finally:
            self._syncing_selection = False

    def _on_document_selection(self, ids: list[str]) -> None:
        if self._syncing_selection:
            return
        self._syncing_selection = True
        try:
            wanted = set(ids)
            for bid, item in self.blocks.items():
                item.setSelected(bid in wanted)
        finally:
            self._syncing_selection = False

    def selected_edges(self) -> list[tuple[str, str]]:
        return [i.key for i in self.selectedItems() if isinstance(i, EdgeItem)]

    # ----------------------------------------------------------------- moving blocks

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Ports win over whatever they overlap: an output port starts a connection, an input
        port with a connection picks up its end; anything else is a normal press."""
        if event.button() == Qt.LeftButton:
            ports = [i for i in self.items(event.scenePos()) if isinstance(i, PortItem)]
            out = next((p for p in ports if p.is_output), None)
            if out is not None:
                self.begin_connection(out.block_id, None, event.scenePos())
                event.accept()
                return
            for port in ports:
                if self.begin_detach_at_input(port.block_id, event.scenePos()):
                    event.accept()
                    return
            if ports:  # a free input port: drag backwards to the block that should feed it
                self.begin_reverse_connection(ports[0].block_id, event.scenePos())
                event.accept()
                return
        self._user_drag = event.button() == Qt.LeftButton
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.connecting:
            self.update_connection(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._user_drag and event.buttons() & Qt.LeftButton:
            self._follow_drag()

    def _follow_drag(self) -> None:
        """Snap the blocks being dragged to the grid and keep their connections attached."""
        net = self.document.network
        for item in self.selectedItems():
            if not isinstance(item, BlockItem) or item.block_id not in net.blocks:
                continue
            pos = item.pos()
            if self.snap_to_grid:
                snapped = QPointF(round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)
                if snapped != pos:
                    item.setPos(snapped)
            if item.pos() != QPointF(*net.blocks[item.block_id].pos):
                self.block_moved(item)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.connecting:
            self.end_connection(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._user_drag:
            self._user_drag = False
            self.commit_moves()

    def commit_moves(self) -> None:
        """Turn item positions changed by a drag into one document move (one undo step)."""
        net = self.document.network
        moved = {}
        for bid, item in self.blocks.items():
            pos = (item.pos().x(), item.pos().y())
            if bid in net.blocks and net.blocks[bid].pos != pos:
                moved[bid] = pos
        if moved:
            self.document.move_blocks(moved)
            if self.document.locked:  # refused: put the items back where the model has them
                for bid in moved:
                    self.blocks[bid].setPos(QPointF(*net.blocks[bid].pos))

    # ----------------------------------------------------------------- connecting by dragging

    @property
    def connecting(self) -> bool:
        return self._connect_from is not None or self._connect_to is not None

    def begin_reverse_connection(self, dst: str, pos: QPointF) -> None:
        """Start dragging from ``dst``'s free input port; releasing on a block feeds it into ``dst``."""
        self._connect_to = dst
        self._rubber = QGraphicsPathItem()
        self._rubber.setPen(QPen(QColor("#1E88E5"), 2, Qt.DashLine))
        self._rubber.setZValue(5)
        self.addItem(self._rubber)
        self.update_connection(pos)

    def begin_connection(self, src: str, detached_dst: str | None, pos: QPointF) -> None:
        """Start dragging a connection from ``src``; with ``detached_dst``, an existing edge's end."""
        self._connect_from = src
        self._detached = (src, detached_dst) if detached_dst is not None else None
        if self._detached and self._detached in self.edges:
            self.edges[self._detached].setVisible(False)
        self._rubber = QGraphicsPathItem()
        self._rubber.setPen(QPen(QColor("#1E88E5"), 2, Qt.DashLine))
        self._rubber.setZValue(5)
        self.addItem(self._rubber)
        self.update_connection(pos)

    def begin_detach_at_input(self, dst: str, pos: QPointF) -> bool:
        """A press on an input port picks up the end of its last connection, if it has one."""
        srcs = self.document.network.inputs_of(dst)
        if not srcs:
            return False
        self.begin_connection(srcs[-1], dst, pos)
        return True

    def update_connection(self, pos: QPointF) -> None:
        if self._rubber is None:
            return
        if self._connect_to is not None:
            self._rubber.setPath(curve(pos, self.blocks[self._connect_to].input_anchor()))
            target = self._output_port_at(pos)
        elif self._connect_from is not None:
            self._rubber.setPath(curve(self.blocks[self._connect_from].output_anchor(), pos))
            target = self._input_port_at(pos)
        else:
            return
        if target is not self._hover_target:
            if self._hover_target is not None:
                self._hover_target.set_highlight(False)
            self._hover_target = target
            if target is not None:
                target.set_highlight(True)

    def end_connection(self, pos: QPointF) -> None:
        src, detached, reverse_dst = self._connect_from, self._detached, self._connect_to
        if reverse_dst is not None:
            port = self._output_port_at(pos)
            self._cancel_connection()
            if port is not None and self.document.connect_blocks(port.block_id, reverse_dst):
                self.status.emit(f"Connected {port.block_id} to {reverse_dst}")
            return
        self._cancel_connection()
        if src is None:
            return
        port = self._input_port_at(pos)
        dst = port.block_id if port is not None else None
        if detached is not None:
            old_dst = detached[1]
            if dst == old_dst:
                return
            if dst is None:
                self.document.disconnect_blocks(src, old_dst)
                self.status.emit(f"Disconnected {src} from {old_dst}")
            else:
                self.document.reconnect(src, old_dst, dst)
        elif dst is not None and dst != src:
            if self.document.connect_blocks(src, dst):
                self.status.emit(f"Connected {src} to {dst}")

    def _cancel_connection(self) -> None:
        if self._detached and self._detached in self.edges:
            self.edges[self._detached].setVisible(True)
        if self._rubber is not None:
            self.removeItem(self._rubber)
        if self._hover_target is not None:
            self._hover_target.set_highlight(False)
        self._rubber = None
        self._hover_target = None
        self._connect_from = None
        self._connect_to = None
        self._detached = None

    def _output_port_at(self, pos: QPointF) -> PortItem | None:
        """The output port under ``pos``, or that of the block under it."""
        for item in self.items(pos):
            if isinstance(item, PortItem) and item.is_output and item.block_id != self._connect_to:
                return item
            if isinstance(item, BlockItem) and item.block_id != self._connect_to:
                return item.output_port
        return None

    def _input_port_at(self, pos: QPointF) -> PortItem | None:
        """The input port under ``pos``, or that of the block under it (a forgiving target)."""
        for item in self.items(pos):
            if isinstance(item, PortItem) and not item.is_output:
                return item
            if isinstance(item, BlockItem) and item.block_id != self._connect_from:
                return item.input_port
        return None

    # ----------------------------------------------------------------- dropping blocks

    def drop_target(self, pos: QPointF, kind: str):
        """What a ``kind`` block dropped at ``pos`` lands on: a BlockItem, an EdgeItem or None."""
        takes_input = get_spec(kind).max_inputs > 0
        if not takes_input:
            return None
        for item in self.items(pos):
            if isinstance(item, PortItem):
                item = item.block_item
            if isinstance(item, BlockItem):
                return item
            if isinstance(item, EdgeItem) and item.isVisible():
                return item
        return None

    def drop_block(self, kind: str, pos: QPointF) -> str | None:
        """Add ``kind`` where it is dropped: into a connection, after a block, or on empty space.

        On empty space the block is centred on ``pos`` and, if the network ends in one working
        block, connected below it.
        """
        target = self.drop_target(pos, kind)
        doc = self.document
        label = get_spec(kind).label
        if isinstance(target, EdgeItem):
            new = doc.insert_between(target.src, target.dst, kind)
            if new:
                self.status.emit(f"Inserted {label} between {target.src} and {target.dst}")
        elif isinstance(target, BlockItem):
            new = doc.append_after(target.block_id, kind)
            if new:
                self.status.emit(f"Added {label} after {target.block_id}")
        else:
            src = doc.auto_connect_source(kind)
            at = (round((pos.x() - BLOCK_WIDTH / 2) / 10) * 10, round((pos.y() - 20) / 10) * 10)
            new = doc.add_block(kind, at, connect_from=src)
            if new:
                self.status.emit(f"Added {label}" + (f", connected after {src}" if src else ""))
        if new:
            doc.select([new])
        return new

    def highlight_drop(self, pos: QPointF | None, kind: str | None) -> None:
        """Show what a drag in progress would land on."""
        target = self.drop_target(pos, kind) if pos is not None and kind else None
        for item in list(self.blocks.values()) + list(self.edges.values()):
            item.set_drop_highlight(item is target)

    def set_dark(self, dark: bool) -> None:
        """Canvas colours for a dark or a light theme (blocks stay light cards on both)."""
        self.setBackgroundBrush(QColor("#23272B") if dark else QColor("#F4F6F8"))
        self._dot_color = QColor("#3B4249") if dark else QColor("#CFD6DD")
        self.update()

    @contextlib.contextmanager
    def plain_rendering(self) -> Iterator[None]:
        """Render without the dot grid and the selection (a diagram export), keeping the document's selection."""
        selected = self.selectedItems()
        self._plain = self._syncing_selection = True
        try:
            for item in selected:
                item.setSelected(False)
            yield
        finally:
            for item in selected:
                item.setSelected(True)
            self._plain = self._syncing_selection = False

    def items_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.blocks.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """A dot grid that thins out when zoomed out, so it stays cheap and calm."""
        super().drawBackground(painter, rect)
        if self._plain:
            return
        scale = painter.transform().m11() or 1.0
        step = 20
        while step * scale < 14:
            step *= 2
        left = int(rect.left()) - int(rect.left()) % step
        top = int(rect.top()) - int(rect.top()) % step
        cols = int((rect.right() - left) // step) + 1
        rows = int((rect.bottom() - top) // step) + 1
        while cols * rows > 6000:  # a very large view: fewer, wider-spaced dots
            step *= 2
            left = int(rect.left()) - int(rect.left()) % step
            top = int(rect.top()) - int(rect.top()) % step
            cols = int((rect.right() - left) // step) + 1
            rows = int((rect.bottom() - top) // step) + 1
        if cols <= 0 or rows <= 0:
            return
        painter.setPen(QPen(self._dot_color, 1.6 / scale if scale < 1 else 1.6))
        # One drawPoint per dot: drawPoints() with a Python sequence crashed PySide6 6.11 here.
        for j in range(rows):
            y = top + j * step
            for i in range(cols):
                painter.drawPoint(QPointF(left + i * step, y))
