"""Two runs side by side: results, the network block by block, the settings and the data that differ.

Shows a :class:`~convstudio.core.runs.RunComparison` as a tree: one section per part, one row per
change with the first run's value in column A and the second's in column B; a changed block lists each
changed parameter beneath it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from convstudio.core.runs import RunComparison
from convstudio.core.runs.compare import NetworkDiff

__all__ = ["ComparisonView", "format_value"]

_PERCENT = {"test accuracy", "best validation accuracy"}


def format_value(value: Any, label: str = "") -> str:
    """A value as the comparison shows it (accuracies as percentages, other floats to 4 digits)."""
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if label == "duration s":
            return f"{value:.1f} s"
        return f"{value:.2%}" if label in _PERCENT else f"{value:.4g}"
    if isinstance(value, int) and label == "parameters":
        return f"{value:,}"
    return str(value)


class ComparisonView(QTreeWidget):
    """The comparison of run A with run B (:meth:`show_comparison`), or a note saying what to choose."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["", "A", "B"])
        self.setRootIsDecorated(True)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.comparison: RunComparison | None = None
        self.show_note("Select two runs in the list to compare them")

    def show_note(self, text: str) -> None:
        """No comparison: one line of text instead."""
        self.comparison = None
        self.clear()
        self.setHeaderLabels(["", "A", "B"])
        QTreeWidgetItem(self, [text])

    def show_comparison(self, comparison: RunComparison, label_a: str, label_b: str) -> None:
        self.comparison = comparison
        self.clear()
        self.setHeaderLabels(["", f"A: {label_a}", f"B: {label_b}"])
        results = self._section("Results")
        for label, a, b in comparison.results:
            self._row(results, label, format_value(a, label), format_value(b, label), a != b)
        self._network(comparison.network)
        settings = self._section("Training settings")
        for key, a, b in comparison.settings:
            self._row(settings, key, format_value(a), format_value(b), True)
        if not comparison.settings:
            self._row(settings, "same settings", "", "")
        data = self._section("Data")
        for key, a, b in comparison.data:
            self._row(data, key, format_value(a), format_value(b), True)
        if not comparison.data:
            self._row(data, "same data", "", "")
        self.expandAll()
        self.resizeColumnToContents(0)
        self.setColumnWidth(0, min(max(self.columnWidth(0) + 16, 220), 420))
        self.setColumnWidth(1, max(200, self.columnWidth(1)))

    def _network(self, diff: NetworkDiff) -> None:
        section = self._section("Network (A \u2192 B)")
        if diff.same:
            self._row(section, "same network", "", "")
        for block_id, kind in diff.added:
            self._row(section, f"+ {block_id} ({kind})", "\u2013", "added", True)
        for block_id, kind in diff.removed:
            self._row(section, f"\u2212 {block_id} ({kind})", "present", "removed", True)
        for change in diff.changed:
            kind = change.kind_after if change.kind_before == change.kind_after else \
                f"{change.kind_before} \u2192 {change.kind_after}"
            block = self._row(section, f"~ {change.block_id} ({kind})", "", "changed", True)
            if change.kind_before != change.kind_after:
                self._row(block, "kind", change.kind_before, change.kind_after, True)
            for name, (a, b) in change.params.items():
                self._row(block, name, format_value(a), format_value(b), True)
        for src, dst in diff.edges_added:
            self._row(section, f"+ connection {src} \u2192 {dst}", "\u2013", "added", True)
        for src, dst in diff.edges_removed:
            self._row(section, f"\u2212 connection {src} \u2192 {dst}", "present", "removed", True)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        return item

    @staticmethod
    def _row(parent: QTreeWidgetItem, label: str, a: str, b: str, differs: bool = False) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [label, a, b])
        for column, text in ((1, a), (2, b)):
            item.setToolTip(column, text)
        if differs:
            font = item.font(2)
            font.setBold(True)
            item.setFont(2, font)
        return item

    def find_row(self, label: str) -> QTreeWidgetItem | None:
        """The first row whose first column starts with ``label`` (for tests and scripts)."""
        for item in self._walk(self.invisibleRootItem()):
            if item.text(0).startswith(label):
                return item
        return None

    def _walk(self, item: QTreeWidgetItem) -> Any:
        for i in range(item.childCount()):
            child = item.child(i)
            yield child
            yield from self._walk(child)
