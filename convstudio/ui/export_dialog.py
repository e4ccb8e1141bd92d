"""The Export dialog: pick a format and a path, export in a worker, show the verification.

The export itself is :func:`convstudio.core.export.export_model`, a plain function run by a
:class:`~convstudio.ui.worker.Worker`; it reports progress lines (the newest is shown), then the
report or a one-line error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.export import (
    FORMATS,
    ExportError,
    ExportExists,
    ExportReport,
    check_target,
    default_export_path,
    export_model,
)
from convstudio.core.network import Network

from .worker import TaskState, Worker

__all__ = ["ExportDialog"]


class ExportDialog(QDialog):
    """Lists the export formats with a line on each, exports the chosen one and shows how it verified."""

    exported = Signal(object)  # ExportReport
    failed = Signal(str)

    def __init__(self, model: Any, network: Network, dataset: Any = None, settings: Any = None,
                 parent: QWidget | None = None, project_path: str | None = None) -> None:
        """``dataset`` is a :class:`~convstudio.core.datasets.Dataset`, None, or a function returning
        one (called in the worker thread, so loading never blocks the window). Default paths follow
        ``project_path`` (beside the project file, named after it), else the home folder."""
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.model, self.network, self.dataset, self.settings = model, network, dataset, settings
        self.report: ExportReport | None = None
        self.error: str | None = None
        self._worker: Worker[ExportReport] | None = None
        self._close_when_done = False
        self._overwrite = False
        self._project_path = project_path
        self._default_path = ""

        self.formats = QListWidget()
        for fmt in FORMATS.values():
            item = QListWidgetItem(fmt.label)
            item.setData(Qt.ItemDataRole.UserRole, fmt.name)
            reason = fmt.availability()
            if reason:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(reason)
            else:
                item.setToolTip(fmt.description)
            self.formats.addItem(item)
        rows = self.formats.sizeHintForRow(0) * self.formats.count() + 2 * self.formats.frameWidth() + 4
        self.formats.setMaximumHeight(rows)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setMinimumHeight(60)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("Where to save the export")
        self.browse_button = QPushButton("Browse...")
        self.browse_button.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(QLabel("Save to:"))
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Format:"))
        layout.addWidget(self.formats)
        layout.addWidget(self.description)
        layout.addLayout(path_row)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.formats.currentItemChanged.connect(self._on_format_changed)
        self.path_edit.textChanged.connect(self._update_buttons)
        self.formats.setCurrentRow(0)
        self._set_default_path()
        if model is None:
            self._set_status("There is no trained model yet: train the network first.", error=True)
        self._update_buttons()
        self.resize(580, 420)

    # ----------------------------------------------------------------- choosing

    @property
    def format_name(self) -> str:
        item = self.formats.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else "keras"

    def select_format(self, name: str) -> None:
        for row in range(self.formats.count()):
            if self.formats.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.formats.setCurrentRow(row)
                return
        raise KeyError(name)

    def _on_format_changed(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is None:
            return
        fmt = FORMATS[item.data(Qt.ItemDataRole.UserRole)]
        if self.report is not None or self.error is not None:  # that result was another format's
            self.report, self.error = None, None
            self._set_status("")
        reason = fmt.availability()
        self.description.setText(fmt.description + (f"\n\n{reason}" if reason else ""))
        text = self.path_edit.text().strip()
        if text == self._default_path:  # still the default: this format's own default (no two collide)
            self._set_default_path()
        elif text:  # keep the name the user chose, with this format's suffix
            path = Path(text)
            stem = path.name[:-len(path.suffix)] if path.suffix in {f.suffix for f in FORMATS.values() if f.suffix} \
                else path.name
            self.path_edit.setText(str(path.with_name(stem + fmt.suffix)))
        self._update_buttons()

    def _set_default_path(self) -> None:
        self._default_path = default_export_path(self.format_name, self._project_path,
                                                 getattr(self.model, "name", "") or "model", folder=Path.home())
        self.path_edit.setText(self._default_path)

    def browse(self) -> None:
        fmt = FORMATS[self.format_name]
        title = f"Export as {fmt.label}"
        if fmt.suffix:
            path, _ = QFileDialog.getSaveFileName(self, title, self.path_edit.text(), f"{fmt.label} (*{fmt.suffix})",
                                                  options=QFileDialog.Option.DontConfirmOverwrite)  # Export asks
        else:
            path, _ = QFileDialog.getSaveFileName(self, title + " (a folder is created)", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def _update_buttons(self) -> None:
        fmt = FORMATS[self.format_name]
        idle = self._worker is None
        self.export_button.setEnabled(idle and self.model is not None and fmt.availability() is None
                                      and bool(self.path_edit.text().strip()))
        for widget in (self.formats, self.path_edit, self.browse_button):
            widget.setEnabled(idle)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "")
        self.status.setText(text)

    # ----------------------------------------------------------------- exporting

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start_export(self) -> None:
        """Run the export in a worker; its progress, then the report or the error, arrive here."""
        if self._worker is not None or self.model is None:
            return
        fmt, path = self.format_name, self.path_edit.text().strip()
        self._overwrite = False
        try:
            check_target(path, FORMATS[fmt])
        except ExportExists:
            if not self._confirm_overwrite(path, fmt):
                self._set_status("Not exported: the existing export was kept as it is.")
                return
            self._overwrite = True
        except ExportError:
            pass  # the export itself reports why, like any other failure
        self.report, self.error = None, None
        self._set_status(f"Exporting {FORMATS[fmt].label}...")
        self._worker = Worker(lambda state: self._work(state, fmt, path), self, name="convstudio-export",
                              latest_only=True, delete_when_finished=True)
        self._worker.progress.connect(self._set_status)
        self._worker.done.connect(self._on_done)
        self._worker.error.connect(self._on_failed)
        self._update_buttons()
        self._worker.start()

    def _confirm_overwrite(self, path: str, fmt: str) -> bool:
        """Ask before replacing an existing file, or a folder that is an earlier export of this format."""
        target = check_target(path, FORMATS[fmt], overwrite=True)
        what = "folder (an earlier ConvStudio export)" if FORMATS[fmt].is_folder else "file"
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Replace the existing export?",
                                      f"The {what} {target} already exists.\n\nReplace it with this export?",
                                      B.Yes | B.No, B.No)
        return answer == B.Yes

    def _dataset(self, state: TaskState) -> Any:
        """The dataset for verification; a callable is loaded here, in the worker, once."""
        if callable(self.dataset):
            state.report("Loading test images for verification...")
            try:
                self.dataset = self.dataset()
            except Exception:  # noqa: BLE001 - without data the export verifies on other images
                self.dataset = None
        return self.dataset

    def _work(self, state: TaskState, fmt: str, path: str) -> ExportReport:
        try:
            return export_model(self.model, fmt, path, network=self.network, dataset=self._dataset(state),
                                settings=self.settings, overwrite=self._overwrite, progress=state.report)
        except ExportError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the user instead of a traceback
            raise ExportError(f"the export failed unexpectedly: {exc}") from exc

    def _on_done(self, report: ExportReport) -> None:
        self._finish("done", report)

    def _on_failed(self, message: str) -> None:
        self._finish("failed", message)

    def _finish(self, kind: str, value: Any) -> None:
        self._worker = None
        self._update_buttons()
        if kind == "done":
            self.report = value
            lines = [f"Exported to {value.path}", f"Verified: {value.verification}"]
            lines += value.notes
            self._set_status("\n".join(lines))
            self.exported.emit(value)
        else:
            self.error = value
            self._set_status(f"Export failed: {value}", error=True)
            self.failed.emit(value)
        if self._close_when_done:
            QDialog.reject(self)

    def reject(self) -> None:
        if self._worker is not None:  # a converter cannot be interrupted; let it finish cleanly
            self._close_when_done = True
            self._set_status("The export is still running; the dialog closes when it is done.")
            return
        super().reject()

