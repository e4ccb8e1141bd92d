"""The runs list as a Qt table model: one row per run (or damaged run folder), sortable by any column.

Each column gives a display text and a sort key (:data:`SORT_ROLE`): numbers sort as numbers (a test
accuracy of 9% comes before 85%), a missing figure sorts below every real one, and dates sort in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from convstudio.core.provenance import dataset_title
from convstudio.core.runs import DamagedRun, RunSummary

from ..theme import is_dark
from ..training_panel import format_duration

__all__ = ["COLUMNS", "SORT_ROLE", "RunsTableModel", "RunRow", "run_label", "short_device",
           "sorted_model", "started_text"]

RunRow = RunSummary | DamagedRun
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_MISSING = -math.inf
_BAD_OUTCOMES = {"nan", "diverged", "chance_level", "error", "damaged"}
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    numeric: bool = False


COLUMNS = (
    Column("started", "Started", "When the run started (local time)"),
    Column("run", "Run", "The project's title and the run's short id"),
    Column("outcome", "Outcome", "Why the run ended"),
    Column("test", "Test acc.", "Accuracy on the test images", True),
    Column("val", "Best val. acc.", "Highest validation accuracy of any epoch", True),
    Column("params", "Parameters", "Trainable and fixed parameters of the network", True),
    Column("epochs", "Epochs", "Epochs completed", True),
    Column("duration", "Duration", "Time the run took", True),
    Column("data", "Data", "The dataset it trained on"),
    Column("device", "Device", "Where it trained"),
    Column("note", "Note", "How it ended, health warnings, or why the folder is damaged"),
)


def short_id(run_id: str) -> str:
    """The last part of a run's folder name (``20261202-150612-a3f09c`` -> ``a3f09c``)."""
    return run_id.rsplit("-", 1)[-1]


def run_label(row: RunRow) -> str:
    """How a run is named in the list, the legend and the comparison: ``digits a3f09c``."""
    title = row.title if isinstance(row, RunSummary) else ""
    return f"{title} {short_id(row.id)}".strip()


def started_text(row: RunRow) -> str:
    """When the run started, in local time (``2026-12-02 15:06``)."""
    return _started(row)[0]


def _started(row: RunRow) -> tuple[str, str]:
    """(shown text, sort key) of when the run started; a damaged folder's name says when it was made."""
    if isinstance(row, RunSummary) and row.started:
        try:
            when = datetime.fromisoformat(row.started.replace("Z", "+00:00")).astimezone()
        except ValueError:
            return row.started, row.started
        return when.strftime("%Y-%m-%d %H:%M"), when.isoformat()
    name = row.id
    try:
        when = datetime.strptime(name[:15], "%Y%m%d-%H%M%S").astimezone()
    except ValueError:
        return "", ""
    return when.strftime("%Y-%m-%d %H:%M"), when.isoformat()


def _percent(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.2%}"


def _note(s: RunSummary) -> str:
    """Health warnings, and the message of a run that did not simply finish (a finished run's repeats the row)."""
    health = ", ".join(dict.fromkeys(k.replace("_", " ") for k in s.health))
    message = s.message.splitlines()[0] if s.message and s.outcome != "finished" else ""
    return "; ".join(p for p in (message, health) if p)


def short_device(device: str) -> str:
    """``CPU (2 threads; no GPU found)`` of ``CPU (2 threads; no GPU found); XLA off, ...`` (the rest is a tooltip)."""
    end = device.find(")")
    return device[:end + 1] if end > 0 else device


def _cells(row: RunRow) -> dict[str, tuple[str, Any]]:
    """Every column's (text, sort key) for one row."""
    started = _started(row)
    if isinstance(row, DamagedRun):
        empty = ("\u2013", _MISSING)
        return {"started": started, "run": (run_label(row), row.id), "outcome": ("damaged", "damaged"),
                "test": empty, "val": empty, "params": empty, "epochs": empty, "duration": empty,
                "data": ("", ""), "device": ("", ""), "note": (row.reason, row.reason)}
    data = dataset_title(row.dataset) + (" (sample)" if row.is_sample else "") if row.dataset else ""
    return {
        "started": started, "run": (run_label(row), row.id), "outcome": (row.outcome_label, row.outcome_label),
        "test": (_percent(row.test_accuracy), _num(row.test_accuracy)),
        "val": (_percent(row.best_val_accuracy), _num(row.best_val_accuracy)),
        "params": ("\u2013" if row.parameters is None else f"{row.parameters:,}", _num(row.parameters)),
        "epochs": (str(row.epochs_done), float(row.epochs_done)),
        "duration": (format_duration(row.duration_s), float(row.duration_s)),
        "data": (data, data), "device": (short_device(row.device), row.device), "note": (_note(row), _note(row)),
    }


def _num(value: float | int | None) -> float:
    return _MISSING if value is None else float(value)


class RunsTableModel(QAbstractTableModel):
    """Rows of :class:`RunSummary` and :class:`DamagedRun`, one column per :data:`COLUMNS` entry."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[RunRow] = []
        self._cells: list[dict[str, tuple[str, Any]]] = []

    def set_rows(self, rows: list[RunRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._cells = [_cells(r) for r in self.rows]
        self.endResetModel()

    def row_of(self, folder: str) -> int:
        """The row of the run in ``folder``, or -1."""
        return next((i for i, r in enumerate(self.rows) if str(r.folder) == folder), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's name and default
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt's name
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], COLUMNS[index.column()]
        text, key = self._cells[index.row()][column.key]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return key
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(row.folder) if column.key == "run" else str(key) if column.key == "device" else text or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.key == "outcome":
            return _outcome_colour(row)
        return None


def _outcome_colour(row: RunRow) -> QColor | None:
    """Red for a run that failed, did not learn or is damaged; the palette's text colour otherwise."""
    outcome = "damaged" if isinstance(row, DamagedRun) else row.outcome
    return QColor("#FF8A80" if is_dark() else "#C62828") if outcome in _BAD_OUTCOMES else None


def sorted_model(model: RunsTableModel) -> QSortFilterProxyModel:
    """A proxy that sorts ``model`` by each column's sort key (numbers as numbers)."""
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    return proxy
