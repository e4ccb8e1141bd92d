"""The Runs window: the open project's recorded runs, their curves, a comparison, and what to do with them.

The list is read off the GUI thread (:func:`~convstudio.ui.worker.run_worker`) when the window opens, when a
run starts or ends and when another project is opened; the chosen runs' records are read the same way
when the selection changes. Results are delivered through a :class:`~convstudio.ui.result_guard.ResultGuard`
keyed by the project's runs folder (and the chosen runs), so a list or a curve read for another project
or another choice is never shown; on a project change the list is cleared at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.provenance import ResultKey
from convstudio.core.runs import DamagedRun, RunError, RunRecord, RunSummary, compare_runs, load_run, scan_runs

from ..result_guard import ResultGuard
from ..worker import run_worker
from .compare_view import ComparisonView
from .details import describe_run
from .overlay import RunCurves
from .run_actions import continue_training, delete_runs, reopen_run
from .table import COLUMNS, RunRow, RunsTableModel, run_label, sorted_model

__all__ = ["RunsWindow", "load_records"]

_STARTED_COLUMN = [c.key for c in COLUMNS].index("started")


def load_records(folders: list[Path]) -> list[RunRecord | str]:
    """Each folder's whole record, or the reason it cannot be read (runs in a worker thread)."""
    out: list[RunRecord | str] = []
    for folder in folders:
        try:
            out.append(load_run(folder))
        except RunError as exc:
            out.append(str(exc))
    return out


class RunsWindow(QWidget):
    """The runs of main window ``w``'s project (``w`` has ``controller``, ``session``, ``document``, ...)."""

    def __init__(self, w: Any) -> None:
        super().__init__(w, Qt.WindowType.Window)
        self.w = w
        self.setWindowTitle("Runs - ConvStudio")
        self.resize(1200, 760)
        self.model = RunsTableModel(self)
        self.proxy = sorted_model(self.model)
        self.records: dict[str, RunRecord] = {}
        self.loading = 0  # list reads in flight
        self._root = ""
        self._dirty = True
        self._selected: list[str] = []
        self.list_guard = ResultGuard(lambda: ResultKey(detail=str(w.controller.runs_dir())))
        self.choice_guard = ResultGuard(lambda: ResultKey(detail=f"{w.controller.runs_dir()}|{self._selected}"))
        self._build()
        self._select_timer = QTimer(self, singleShot=True, interval=120)
        self._select_timer.timeout.connect(self._load_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._on_selection())
        w.fileChanged.connect(lambda _path: self.project_changed())
        w.controller.runStarted.connect(lambda _event: self.refresh_if_shown())
        w.controller.runFinished.connect(lambda _event: self.refresh_if_shown())
        w.controller.runningChanged.connect(lambda _running: self._update_buttons())
        self._update_buttons()

    # ----------------------------------------------------------------- building

    def _build(self) -> None:
        self.header = QLabel()
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence.StandardKey.Refresh, self, self.refresh)
        self.folder_button = QPushButton("Open Folder")
        self.folder_button.setToolTip("Show the runs folder in the file manager")
        self.folder_button.clicked.connect(self.open_folder)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.folder_button)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(_STARTED_COLUMN, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.doubleClicked.connect(lambda _index: self.reopen())

        self.reopen_button = QPushButton("Reopen Network")
        self.reopen_button.setToolTip("Put the run's network, data and settings in the editor (undoable)")
        self.reopen_button.clicked.connect(self.reopen)
        self.continue_button = QToolButton()
        self.continue_button.setText("Continue Training")
        self.continue_button.setToolTip("Train more from the run's final model (the Training panel's "
                                        "\"more epochs\"); the arrow offers its best model")
        self.continue_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.continue_button.clicked.connect(lambda: self.continue_training("final"))
        menu = QMenu(self.continue_button)
        menu.addAction("From the Final Model", lambda: self.continue_training("final"))
        menu.addAction("From the Best Model", lambda: self.continue_training("best"))
        self.continue_button.setMenu(menu)
        self.delete_button = QPushButton("Delete...")
        self.delete_button.setToolTip("Delete the selected runs' folders (asks first)")
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.reopen_button, self.continue_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addWidget(self.hint, 1)

        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.table, 1)
        upper_layout.addLayout(buttons)

        self.curves = RunCurves()
        self.comparison = ComparisonView()
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(self.comparison, "Compare")
        self.tabs.addTab(self.details, "Details")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

    # ----------------------------------------------------------------- the list

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty or self._root != str(self.w.controller.runs_dir()):
            self.refresh()

    def refresh_if_shown(self) -> None:
        """Read the list again now if the window is open, else when it opens."""
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def project_changed(self) -> None:
        """Another project (or the same one under another name): forget what is shown, then read its runs."""
        self._selected = []
        self.records.clear()
        self.model.set_rows([])
        self._show_choice([])
        self.refresh_if_shown()

    def refresh(self) -> None:
        """Read the project's runs folder in a worker; the list is replaced when it arrives."""
        root = self.w.controller.runs_dir()
        self._dirty = False
        if str(root) != self._root:
            self._root = str(root)
            self.model.set_rows([])
        self._show_header(root)
        self.loading += 1
        key = self.list_guard.key(per_sample=True)

        def finished(_result: Any = None) -> None:
            self.loading -= 1

        worker = run_worker(self, "runs-list", lambda _state: scan_runs(root), self.list_guard.deliver(key, self._show_list),
                            self._list_failed)
        worker.finished.connect(finished)

    def _show_header(self, root: Path) -> None:
        where = self.w.session.display_name
        self.header.setText(f"<b>Runs of {where}</b><br><span>{root}</span>")
        self.setWindowTitle(f"Runs of {where} - ConvStudio")

    def _list_failed(self, error: str) -> None:
        self.hint.setText(f"The runs could not be read: {error}")

    def _show_list(self, scanned: tuple[list[RunSummary], list[DamagedRun]]) -> None:
        runs, damaged = scanned
        keep, first_fill = list(self._selected), not self.model.rows
        rows: list[RunRow] = [*runs, *damaged]
        self.model.set_rows(rows)
        known = {str(r.folder) for r in rows}
        self.records = {k: v for k, v in self.records.items() if k in known}
        if first_fill:  # later refreshes keep the widths the user chose
            self.table.resizeColumnsToContents()
            for column in range(self.model.columnCount() - 1):
                self.table.setColumnWidth(column, min(self.table.columnWidth(column) + 8, 240))
        self.select_folders([f for f in keep if f in known])
        if not rows:
            self.hint.setText("No runs yet: every training run of this project is recorded here.")
        self._on_selection()

    # ----------------------------------------------------------------- selection

    def select_folders(self, folders: list[str]) -> None:
        """Select the runs in ``folders`` (str paths)."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for folder in folders:
            row = self.model.row_of(folder)
            if row >= 0:
                selection.select(self.proxy.mapFromSource(self.model.index(row, 0)), flags)

    def selected_rows(self) -> list[RunRow]:
        """The chosen rows in the order shown."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()},
                      key=lambda r: self.proxy.mapFromSource(self.model.index(r, 0)).row())
        return [self.model.rows[r] for r in rows]

    def _on_selection(self) -> None:
        self._selected = [str(r.folder) for r in self.selected_rows()]
        self._update_buttons()
        self._select_timer.start()

    def _load_selected(self) -> None:
        """Read the chosen runs' records (cached ones are reused) and show them."""
        rows = self.selected_rows()
        wanted = [r.folder for r in rows if isinstance(r, RunSummary) and not self._cached(r)]
        if not wanted:
            self._show_choice(rows)
            return
        key = self.choice_guard.key(per_sample=True)

        def loaded(records: list[RunRecord | str]) -> None:
            for record in records:
                if isinstance(record, RunRecord):
                    self.records[str(record.summary.folder)] = record
            self._show_choice(self.selected_rows())
            problems = [r for r in records if isinstance(r, str)]
            if problems:  # changed on disk since the list was read
                self.hint.setText(f"{problems[0][:1].upper()}{problems[0][1:]}; press Refresh.")

        run_worker(self, "runs-records", lambda _state: load_records(wanted), self.choice_guard.deliver(key, loaded),
                   self._list_failed)

    def _cached(self, row: RunSummary) -> bool:
        record = self.records.get(str(row.folder))
        return record is not None and record.summary == row  # a run that went on has a new summary

    def _show_choice(self, rows: list[RunRow]) -> None:
        """Curves, comparison and details of the chosen rows (from the records read so far)."""
        records = [self.records.get(str(r.folder)) for r in rows]
        runs = [r for r in records if r is not None]
        self.curves.show_runs([(run_label(r.summary), r.metrics.get("epochs") or []) for r in runs],
                              "" if rows else "Select runs in the list to see their curves here")
        if len(runs) == 2:
            first, second = sorted(runs, key=lambda r: (r.summary.started, r.summary.id))  # A is the older
            self.comparison.show_comparison(compare_runs(first, second), run_label(first.summary),
                                            run_label(second.summary))
        else:
            self.comparison.show_note(f"Select two runs to compare them ({len(rows)} selected)")
        self.details.setHtml(describe_run(rows[0], records[0]) if len(rows) == 1 else
                             "<p>Select one run to see its details.</p>")
        self._update_buttons()

    def _one_record(self) -> RunRecord | None:
        rows = self.selected_rows()
        if len(rows) != 1 or not isinstance(rows[0], RunSummary):
            return None
        return self.records.get(str(rows[0].folder))

    def _update_buttons(self) -> None:
        rows = self.selected_rows()
        one = self._one_record()
        running = self.w.controller.is_running
        self.reopen_button.setEnabled(one is not None and not running)
        self.continue_button.setEnabled(one is not None and not running and
                                        (one.model_path("final") or one.model_path("best")) is not None)
        self.delete_button.setEnabled(bool(rows))
        if rows or self.model.rows:
            self.hint.setText("One run: reopen or continue it. Two: compare them. Any: their curves. "
                              "Click a column to sort.")

    # ----------------------------------------------------------------- actions

    def reopen(self) -> bool:
        record = self._one_record()
        return record is not None and reopen_run(self.w, record)

    def continue_training(self, which: str = "final") -> bool:
        record = self._one_record()
        return record is not None and continue_training(self.w, record, which)

    def delete_selected(self) -> list[Path]:
        deleted = delete_runs(self.w, self.selected_rows(), self)
        if deleted:
            gone = {str(f) for f in deleted}
            self._selected = [f for f in self._selected if f not in gone]
            self.refresh()
        return deleted

    def open_folder(self) -> None:
        root = self.w.controller.runs_dir()
        if not os.path.isdir(root):
            self.hint.setText(f"{root} does not exist yet: it is made by the first run.")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(root)))
