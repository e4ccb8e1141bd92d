"""The block palette: every block kind, grouped by category, ready to drag onto the canvas.

A drag carries the kind as ``application/x-convstudio-block``; the canvas decides where it lands.
Double-clicking (or Enter on) a block emits :attr:`PaletteWidget.blockActivated` instead.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from convstudio.core.blocks import BLOCKS, CATEGORIES, BlockSpec

from .document import AUTO_CONNECT_HELP, BLOCK_MIME
from .icons import block_icon

__all__ = ["PaletteWidget", "block_tooltip"]

KIND_ROLE = Qt.UserRole + 1


def block_tooltip(spec: BlockSpec) -> str:
    """A short explanation of a block kind: its help, plus what stride and padding do where it has them."""
    lines = [f"<b>{spec.label}</b>", spec.help]
    for name in ("stride_h", "padding"):
        try:
            p = spec.param(name)
        except KeyError:
            continue
        lines.append(f"<i>{p.title.replace(' height', '')}:</i> {p.help}")
    return "<br>".join(lines)


class _Tree(QTreeWidget):
    def startDrag(self, supported_actions) -> None:  # noqa: N802
        # Copy only: a move would make the view remove the dragged item from the palette.
        super().startDrag(Qt.CopyAction)

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [BLOCK_MIME]

    def mimeData(self, items) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        kinds = [i.data(0, KIND_ROLE) for i in items if i.data(0, KIND_ROLE)]
        if kinds:
            mime.setData(BLOCK_MIME, kinds[0].encode("utf-8"))
            mime.setText(kinds[0])
        return mime


class PaletteWidget(QWidget):
    """Block kinds grouped by category, with a filter box; a drag source for the canvas."""

    blockActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter blocks")
        self.filter.setClearButtonEnabled(True)
        self.tree = _Tree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(24, 24))
        self.tree.setIndentation(8)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.tree.setDefaultDropAction(Qt.CopyAction)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setToolTip(AUTO_CONNECT_HELP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.no_match = QLabel(self)
        self.no_match.setWordWrap(True)
        self.no_match.setStyleSheet("QLabel { color: palette(placeholder-text); padding: 6px; }")
        self.no_match.hide()
        layout.addWidget(self.filter)
        layout.addWidget(self.no_match)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._groups: dict[str, QTreeWidgetItem] = {}
        for category in CATEGORIES:
            specs = [s for s in BLOCKS.values() if s.category == category]
            if not specs:
                continue
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self._groups[category] = group
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.label])
                item.setIcon(0, block_icon(spec.kind))
                item.setToolTip(0, block_tooltip(spec))
                item.setData(0, KIND_ROLE, spec.kind)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
                self._items[spec.kind] = item
        self.tree.expandAll()
        self.tree.itemActivated.connect(self._activated)
        self.filter.textChanged.connect(self.set_filter)

    def kinds(self) -> list[str]:
        """The kinds shown (not hidden by the filter), in palette order."""
        return [k for k, item in self._items.items() if not item.isHidden()]

    def item_for(self, kind: str) -> QTreeWidgetItem:
        return self._items[kind]

    def mime_for(self, kind: str) -> QMimeData:
        """The drag payload for ``kind``, as a drag from the palette makes it."""
        return self.tree.mimeData([self._items[kind]])

    def set_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for kind, item in self._items.items():
            spec = BLOCKS[kind]
            hay = f"{spec.label} {spec.kind} {spec.category} {spec.help}".lower()
            item.setHidden(bool(needle) and needle not in hay)
        for group in self._groups.values():
            group.setHidden(all(group.child(i).isHidden() for i in range(group.childCount())))
        nothing = bool(needle) and not self.kinds()
        self.no_match.setText(f"No block matches '{text.strip()}'" if nothing else "")
        self.no_match.setVisible(nothing)

    def _activated(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.blockActivated.emit(kind)
