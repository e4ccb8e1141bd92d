"""The model summary: one row per block (type, output shape, parameters, multiply-adds) and totals.

Computed from the document's analysis, so it is current after every edit, before any build.
Clicking a row selects the block on the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.shapes import Analysis, format_shape
from convstudio.core.summary import summary_rows

from .document import EditorDocument
from .icons import block_icon
from .inspector import format_bytes, format_count

__all__ = ["SummaryWidget", "summary_table"]

COLUMNS = ("Block", "Type", "Output shape", "Params", "MACs")


def summary_table(document: EditorDocument) -> list[tuple[str, str, str, int, int]]:
    """Rows ``(block id, type, output shape, params, MACs)`` in the order data flows."""
    return [(r.block_id, r.kind, format_shape(r.shape), r.params, r.macs)
            for r in summary_rows(document.network, document.analysis)]


class SummaryWidget(QWidget):
    """A read-only table like Keras' ``model.summary()``, plus totals."""

    def __init__(self, document: EditorDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setTextElideMode(Qt.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)  # the block name gives way, elided
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(36)
        self.totals = QLabel(self)
        self.totals.setTextFormat(Qt.RichText)
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self._syncing = False
        self._ids: list[str] = []
        self._stale = False
        document.analysisChanged.connect(self._on_analysis)
        document.selectionChanged.connect(self._on_document_selection)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.refresh()

    def _on_analysis(self, *_args) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True  # refreshed when shown: a hidden tab costs nothing per edit

    def showEvent(self, event) -> None:  # noqa: N802
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self, *_args) -> None:
        """Rebuild the rows and totals from the document's current analysis."""
        self._stale = False
        analysis: Analysis = self.document.analysis
        rows = summary_table(self.document)
        bad = {i.block_id for i in analysis.errors if i.block_id}
        self._syncing = True
        try:
            ids = [r[0] for r in rows]
            same_rows = ids == self._ids
            if not same_rows:
                self.table.setRowCount(0)
                self.table.setRowCount(len(rows))
                self._ids = ids
            red = QBrush(QColor("#C62828"))
            for r, (bid, kind, shape, params, macs) in enumerate(rows):
                cells = (bid, kind, shape, format_count(params), format_count(macs))
                for c, text in enumerate(cells):
                    item = self.table.item(r, c) if same_rows else None
                    if item is None:
                        item = QTableWidgetItem(text)
                        if c >= 3:
                            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                        if c == 0:
                            item.setIcon(block_icon(self.document.network.blocks[bid].kind))
                            item.setData(Qt.UserRole, bid)
                            item.setToolTip(f"{bid} ({kind})")
                        self.table.setItem(r, c, item)
                    elif item.text() != text:
                        item.setText(text)
                    if (bid in bad) != (item.data(Qt.UserRole + 1) is True):
                        item.setData(Qt.UserRole + 1, bid in bad)
                        item.setForeground(red if bid in bad else QBrush())
        finally:
            self._syncing = False
        total, trainable = analysis.total_params, analysis.trainable_params
        state = ("<span style='color:#2E7D32'>ready to train</span>" if analysis.ok
                 else f"<span style='color:#C62828'>{len(analysis.errors)} problem(s) to fix</span>")
        self.totals.setText(
            f"<b>Total params:</b> {format_count(total)} &nbsp; (trainable {format_count(trainable)}, "
            f"non-trainable {format_count(total - trainable)})<br>"
            f"<b>Multiply-adds:</b> {format_count(analysis.total_macs)} per image &nbsp; "
            f"<b>Activations:</b> {format_bytes(analysis.activation_bytes)} per image &nbsp; {state}")
        self._on_document_selection(self.document.selected_ids())
        self.fit_columns()

    def fit_columns(self) -> None:
        """Keep Params in view without sideways scrolling: a narrow table drops Type, then MACs.

        The type stays in each block's icon and tooltip; widen the panel to see the columns again.
        """
        header = self.table.horizontalHeader()
        room = self.table.viewport().width()
        name = min(120, max(60, self.table.sizeHintForColumn(0)))
        for c in (1, 4):
            self.table.setColumnHidden(c, False)
        for c in (1, 4):
            needed = name + sum(self.table.sizeHintForColumn(k) + 12 for k in range(1, len(COLUMNS))
                                if not self.table.isColumnHidden(k))
            if needed <= room:
                break
            self.table.setColumnHidden(c, True)
        header.setStretchLastSection(False)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_columns()

    def row_of(self, block_id: str) -> int:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.UserRole) == block_id:
                return r
        return -1

    def _on_table_selection(self) -> None:
        if self._syncing:
            return
        ids = [self.table.item(i.row(), 0).data(Qt.UserRole) for i in self.table.selectionModel().selectedRows()]
        self._syncing = True
        try:
            self.document.select(ids)
        finally:
            self._syncing = False

    def _on_document_selection(self, ids: list[str]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.table.clearSelection()
            model = self.table.selectionModel()
            for bid in ids:
                r = self.row_of(bid)
                if r >= 0:
                    model.select(self.table.model().index(r, 0),
                                 QItemSelectionModel.Select | QItemSelectionModel.Rows)
        finally:
            self._syncing = False
