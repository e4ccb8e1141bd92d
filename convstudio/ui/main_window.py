"""The main window: the canvas in the middle, docks around it, menus, files, autosave, status.

It wires the editor widgets and the training panel to one :class:`EditorDocument` and one
:class:`TrainingController`, and owns everything about files: New (empty or from a preset), Open,
Save, recent files, the unsaved-changes prompt, autosave and its recovery.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.network import Network
from convstudio.core.atomic import atomic_write_with
from convstudio.core.project import WEIGHTS_SUFFIX, Project, ProjectError, load_project, save_project

from . import settings as app_settings
from .autosave import Autosaver
from .background import run_in_thread
from .canvas.view import CanvasView
from .document import CLIPBOARD_MIME, EditorDocument
from .icons import app_icon
from .inspector import InspectorWidget
from .palette import PaletteWidget
from .summary_view import SummaryWidget
from .training_controller import TrainingController
from .training_panel import TrainingPanel

__all__ = ["MainWindow", "NewDialog", "PROJECT_FILTER", "ask", "show_error"]

PROJECT_FILTER = "ConvStudio projects (*.json);;All files (*)"
_STOP_AND_QUIT = QMessageBox.StandardButton.Yes


def ask(parent: QWidget | None, title: str, text: str, buttons: QMessageBox.StandardButton,
        default: QMessageBox.StandardButton, labels: dict[QMessageBox.StandardButton, str] | None = None,
        ) -> QMessageBox.StandardButton:
    """A modal question; ``labels`` renames standard buttons. Returns the button chosen."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
    box.setDefaultButton(default)
    for button, label in (labels or {}).items():
        if box.button(button) is not None:
            box.button(button).setText(label)
    box.exec()
    clicked = box.clickedButton()
    return box.standardButton(clicked) if clicked is not None else QMessageBox.StandardButton.Cancel


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal error message (never a silent failure)."""
    QMessageBox.critical(parent, title, text)


class NewDialog(QDialog):
    """Choose what a new document starts from: an empty canvas or one of the bundled presets."""

    EMPTY = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New network")
        self.resize(560, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from:"))
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setMinimumHeight(60)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.description)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        empty = QListWidgetItem("Empty network")
        empty.setData(Qt.ItemDataRole.UserRole, (self.EMPTY, "A blank canvas: drag blocks from the palette."))
        self.list.addItem(empty)
        try:
            from convstudio.core.presets import list_presets

            presets = list_presets()
        except (ProjectError, OSError) as exc:
            presets = []
            self.description.setText(f"The bundled presets cannot be read: {exc}")
        for preset_id, title, description in presets:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, (preset_id, description))
            item.setToolTip(description)
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._show_description)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)

    def _show_description(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.description.setText(item.data(Qt.ItemDataRole.UserRole)[1])

    def chosen(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole)[0] if item is not None else self.EMPTY

    @classmethod
    def choose(cls, parent: QWidget | None = None) -> str | None:
        """The chosen preset id ("" for empty), or None when cancelled."""
        dialog = cls(parent)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


class MainWindow(QMainWindow):
    """ConvStudio's window.

    Signals ``fileChanged(str)`` with the current project path ("" for none) and ``weightsLoaded``
    when an opened project's trained model has been loaded in the background.
    """

    fileChanged = Signal(str)
    weightsLoaded = Signal()  # a saved project's trained model is in ``controller.model``

    def __init__(self, document: EditorDocument | None = None, autosave_interval_ms: int = 30_000,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowIcon(app_icon())
        self.document = document if document is not None else EditorDocument(parent=self)
        self.controller = TrainingController(self.document, self)
        self.current_path: str | None = None
        self.project_title = ""
        self.project_description = ""
        self.weights_path: str | None = None
        self.model_unsaved = False
        self._changes_since_autosave = False
        self._autosave_thread: threading.Thread | None = None
        self._closing = False
        self.tensorflow_ready = False

        self.canvas = CanvasView(self.document, self)
        self.setCentralWidget(self.canvas)
        self.palette = PaletteWidget(self)
        self.inspector = InspectorWidget(self.document, self)
        self.summary = SummaryWidget(self.document, self)
        self.training_panel = TrainingPanel(self.controller, self)
        self.insight: Any = None  # built just after the window appears (see build_insight)
        self._insight_placeholder = QLabel("Loading the views that look inside the network...")
        self._insight_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.docks: dict[str, QDockWidget] = {}
        self._make_docks()
        self._make_status_bar()
        self._make_actions()
        self._make_menus()
        self._default_state = self.saveState()
        self.resize(1400, 900)
        self._restore_window_state()

        self.autosaver = Autosaver(self._write_autosave, lambda: self._changes_since_autosave,
                                   interval_ms=autosave_interval_ms, parent=self)
        self.autosaver.failed.connect(lambda text: self.show_message(text, 8000))
        self.autosaver.start()

        doc = self.document
        doc.modifiedChanged.connect(lambda _m: self._update_title())
        doc.editRefused.connect(lambda reason: self.show_message(reason, 5000))
        doc.selectionChanged.connect(self._on_selection)
        doc.network.events.connect(self._on_network_event)
        self.training_panel.message.connect(self.show_message)
        self.canvas.status.connect(self.show_message)
        self.training_panel.sourceChanged.connect(self.dataset_label.setText)
        self.controller.runningChanged.connect(self._on_running_changed)
        self.controller.runStarted.connect(self._on_run_started)
        self.controller.runFinished.connect(self._on_run_finished)
        self._update_title()
        self._update_edit_actions()

    # ----------------------------------------------------------------- construction

    def _make_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        training_scroll = QScrollArea()
        training_scroll.setWidgetResizable(True)
        training_scroll.setFrameShape(QFrame.Shape.NoFrame)
        training_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        training_scroll.setWidget(self.training_panel)
        # The insight views share the training dock as a second tab (two groups of tabified docks
        # leave a stray tab bar behind in Qt 6.11, so only the inspector and summary are tabified).
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.right_tabs.addTab(training_scroll, "Training")
        self.right_tabs.addTab(self._insight_placeholder, "Inside the network")
        specs = [
            ("palette", "Blocks", self.palette, left),
            ("inspector", "Inspector", self.inspector, left),
            ("summary", "Summary", self.summary, left),
            ("training", "Training", self.right_tabs, right),
        ]
        for name, title, widget, area in specs:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{name}_dock")
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.docks[name] = dock
            if name == "summary":
                self.tabifyDockWidget(self.docks["inspector"], dock)
                self.docks["inspector"].raise_()
            else:
                self.addDockWidget(area, dock)
        self.docks["training"].dockLocationChanged.connect(self._on_training_dock_moved)
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.resizeDocks([self.docks["palette"], self.docks["inspector"]], [400, 450], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["palette"], self.docks["training"]], [300, 470], Qt.Orientation.Horizontal)

    def build_insight(self) -> None:
        """Create the insight panel (feature maps, filters, predictions) in its dock and wire it up."""
        if self.insight is not None:
            return
        from .insight import InsightPanel

        panel = InsightPanel(self)
        self.insight = panel
        # Its views want about 800 px: scroll inside the tab rather than squeeze the canvas.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        index = self.right_tabs.indexOf(self._insight_placeholder)
        self.right_tabs.removeTab(index)
        self.right_tabs.insertTab(index, scroll, "Inside the network")
        self._insight_placeholder.deleteLater()
        panel.set_network(self.document.network)
        panel.filters.useKernelsRequested.connect(self._use_hand_kernels)
        panel.probeImageChanged.connect(self.controller.set_probe)
        self.controller.runStarted.connect(panel.on_run_started)
        # A sample chosen before the run started: the new trainer watches it too.
        self.controller.runStarted.connect(lambda _e: self.controller.set_probe(panel.current_image()))
        self.controller.probeUpdated.connect(panel.on_probe)
        self.controller.runFinished.connect(self._insight_model)
        self.training_panel.dataset_combo.currentIndexChanged.connect(self._insight_dataset)
        self.training_panel.dataChanged.connect(self._insight_dataset)
        self._insight_dataset()

    def _insight_dataset(self, *_args: Any) -> None:
        if self.insight is not None:
            self.insight.load_dataset(self.training_panel.dataset_name(), app_settings.data_dir())

    def _insight_model(self, event: Any) -> None:
        if self.insight is not None and self.controller.model is not None and \
                event.status in ("completed", "stopped", "early_stopped"):
            self.insight.set_model(self.controller.model)

    def _use_hand_kernels(self, block_id: str, kernel_init: str) -> None:
        """The Filters view's "Use these kernels in <block>": one undoable parameter edit."""
        reason = self.document.set_param(block_id, "kernel_init", kernel_init)
        if reason:
            self.show_message(f"{block_id} keeps its kernels: {reason}", 8000)
        else:
            self.show_message(f"{block_id} now starts from {kernel_init} kernels; train again to use them "
                              "(untick Trainable in the inspector to keep them fixed)", 8000)

    def _on_training_dock_moved(self, area: Qt.DockWidgetArea) -> None:
        horizontal = area in (Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.TopDockWidgetArea)
        self.training_panel.set_orientation(Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.dataset_label = QLabel("")
        self.device_label = QLabel("Loading TensorFlow...")
        self.device_label.setToolTip("Where training runs")
        bar.addPermanentWidget(self.dataset_label)
        bar.addPermanentWidget(self.device_label)

    def _action(self, text: str, slot, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())  # slots take no "checked" flag
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.new_action = self._action("&New...", self.new_document, K.New, "Start a new network")
        self.open_action = self._action("&Open...", self.open_file, K.Open, "Open a project")
        self.save_action = self._action("&Save", self.save, K.Save, "Save the project")
        self.save_as_action = self._action("Save &As...", self.save_as, K.SaveAs, "Save under a new name")
        self.import_action = self._action("&Import Keras Model...", self.import_model, None,
                                          "Open a .keras model as an editable network with its weights")
        self.export_action = self._action("&Export Model...", self.export_model, "Ctrl+E",
                                          "Export the trained model: .keras, SavedModel, TFLite, ONNX, script")
        self.quit_action = self._action("&Quit", self.close, K.Quit, "Quit ConvStudio")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo_action = self._action("&Undo", self.document.undo, K.Undo)
        self.redo_action = self._action("&Redo", self.document.redo, K.Redo)
        stack = self.document.undo_stack
        stack.canUndoChanged.connect(self.undo_action.setEnabled)
        stack.canRedoChanged.connect(self.redo_action.setEnabled)
        stack.undoTextChanged.connect(self._on_undo_text)
        stack.redoTextChanged.connect(self._on_redo_text)
        self.undo_action.setEnabled(stack.canUndo())
        self.redo_action.setEnabled(stack.canRedo())
        self.cut_action = self._action("Cu&t", self.cut, K.Cut)
        self.copy_action = self._action("&Copy", self.copy, K.Copy)
        self.paste_action = self._action("&Paste", self.paste, K.Paste)
        self.delete_action = self._action("&Delete", self.delete_selection, K.Delete)
        self.select_all_action = self._action("Select &All", self.select_all, K.SelectAll)
        self.tidy_action = self._action("&Tidy Layout", self.document.tidy, "Ctrl+L", "Arrange blocks in layers")
        self.fit_action = self._action("&Fit to View", self.canvas.fit_to_view, "Ctrl+0",
                                       "Show the whole network")
        self.zoom_in_action = self._action("Zoom &In", self.canvas.zoom_in, K.ZoomIn)
        self.zoom_out_action = self._action("Zoom O&ut", self.canvas.zoom_out, K.ZoomOut)
        self.reset_layout_action = self._action("&Reset Layout", self.reset_layout,
                                                tip="Put the panels back where they started")
        self.about_action = self._action("&About ConvStudio", self.about)

    def _on_undo_text(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}".rstrip())

    def _on_redo_text(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}".rstrip())

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.cut_action, self.copy_action,
                       self.paste_action, self.delete_action, None, self.select_all_action, None,
                       self.tidy_action, self.fit_action):
            edit.addSeparator() if action is None else edit.addAction(action)

        view = bar.addMenu("&View")
        view.addAction(self.fit_action)
        view.addAction(self.zoom_in_action)
        view.addAction(self.zoom_out_action)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        view.addAction(self.reset_layout_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)
        self._fill_recent_menu()

    # ----------------------------------------------------------------- window state

    def _restore_window_state(self) -> None:
        store = app_settings.app_settings()
        geometry = store.value("window/geometry")
        state = store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_window_state(self) -> None:
        store = app_settings.app_settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()

    # ----------------------------------------------------------------- status and title

    def show_message(self, text: str, timeout_ms: int = 4000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def set_tensorflow_ready(self, device: str) -> None:
        self.tensorflow_ready = True
        self.device_label.setText(device)
        self.training_panel.set_tensorflow_ready(True)
        self.show_message("TensorFlow is ready", 3000)
        self.load_saved_weights()

    def set_tensorflow_failed(self, reason: str) -> None:
        self.device_label.setText("TensorFlow unavailable")
        self.show_message(reason, 0)
        show_error(self, "TensorFlow could not be loaded", f"{reason}\n\nEditing works; training is disabled.")

    @property
    def is_modified(self) -> bool:
        return not self.document.undo_stack.isClean() or self.model_unsaved

    def _update_title(self) -> None:
        name = Path(self.current_path).name if self.current_path else (self.project_title or "Untitled")
        self.setWindowTitle(f"{name}[*] - ConvStudio")
        self.setWindowModified(self.is_modified)

    def _on_network_event(self, _event: Any) -> None:
        self._changes_since_autosave = True

    def _on_running_changed(self, running: bool) -> None:
        for action in (self.new_action, self.open_action):
            action.setEnabled(not running)
        self._update_edit_actions()

    def _on_run_started(self, event: Any) -> None:
        self.device_label.setText(event.device)

    def _on_run_finished(self, event: Any) -> None:
        if self.controller.model is not None and event.status in ("completed", "stopped", "early_stopped"):
            self.model_unsaved = True
        self._changes_since_autosave = True
        self._autosave_in_background()
        self._update_title()

    def _autosave_in_background(self) -> None:
        """Write the autosave, trained model included, off the GUI thread (saving a model waits for
        TensorFlow). A synchronous autosave (its timer, closing) first waits for this one."""
        self._wait_for_background_autosave()
        project = self.current_project()
        project.title = project.title or (Path(self.current_path).stem if self.current_path else "")
        model = self.controller.model if self.model_unsaved else None
        target = str(self.autosaver.path)
        self._changes_since_autosave = False

        def done(_result: Any, error: Exception | None) -> None:
            if self._autosave_thread is thread:
                self._autosave_thread = None
            if error is not None:
                self._changes_since_autosave = True
                self.show_message(f"Autosave to {target} failed: {error}", 8000)

        thread = run_in_thread(self, "autosave", lambda: save_project(project, target, model=model), done)
        self._autosave_thread = thread

    def _wait_for_background_autosave(self) -> None:
        thread, self._autosave_thread = self._autosave_thread, None
        if thread is not None:
            thread.join()

    def _on_selection(self, ids: list) -> None:
        self._update_edit_actions()
        inspector = self.docks["inspector"]
        if ids and inspector.isVisible() and self.tabifiedDockWidgets(inspector):
            inspector.raise_()  # bring the inspector's tab forward to show the selected block

    def _update_edit_actions(self) -> None:
        has_selection = bool(self.document.selected_ids())
        editable = not self.controller.is_running
        for action in (self.cut_action, self.delete_action):
            action.setEnabled(has_selection and editable)
        self.copy_action.setEnabled(has_selection)
        self.paste_action.setEnabled(editable)
        self.tidy_action.setEnabled(editable)

    # ----------------------------------------------------------------- edit

    def copy(self) -> None:
        ids = self.document.selected_ids()
        if not ids:
            return
        data = self.document.copy(ids)
        mime = QMimeData()
        payload = json.dumps(data).encode("utf-8")
        mime.setData(CLIPBOARD_MIME, payload)
        mime.setText(payload.decode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)

    def cut(self) -> None:
        if self.document.locked:
            self.document.editRefused.emit(self.document.lock_reason)
            return
        self.copy()
        self.delete_selection()

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(CLIPBOARD_MIME):
            self.show_message("There are no copied blocks to paste", 3000)
            return
        try:
            data = json.loads(bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.show_message("The clipboard does not hold blocks ConvStudio can read", 4000)
            return
        self.document.paste(data)

    def delete_selection(self) -> None:
        ids = self.document.selected_ids()
        if ids:
            self.document.remove_blocks(ids)

    def select_all(self) -> None:
        self.document.select(list(self.document.network.blocks))

    # ----------------------------------------------------------------- files

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        if not self.is_modified:
            return True
        what = "The network has unsaved changes" if not self.document.undo_stack.isClean() else \
            "The trained weights are not saved"
        name = Path(self.current_path).name if self.current_path else "Untitled"
        B = QMessageBox.StandardButton
        answer = ask(self, "Unsaved changes", f"{what} ({name}). Save them first?",
                     B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    def export_model(self) -> None:
        """File > Export: the trained model in another format, checked against it before it is written."""
        if self._refuse_while_training("Export"):
            return
        from .export_dialog import ExportDialog

        name, data_dir = self.training_panel.dataset_name(), app_settings.data_dir()

        def dataset() -> Any:  # loaded in the export's worker thread, for verification images
            from convstudio.core.datasets import load_dataset

            return load_dataset(name, data_dir, allow_download=False)

        try:
            settings = self.training_panel.settings()
        except ValueError:
            settings = None
        ExportDialog(self.controller.model, self.document.network, dataset, settings, self,
                     project_path=self.current_path).exec()

    def import_model(self, path: str | None = None) -> bool:
        """File > Import: a .keras model becomes the network, and its weights the trained model."""
        if self._refuse_while_training("Import") or not self.maybe_save():
            return False
        from .export_dialog import import_keras_file

        result = import_keras_file(self, path)
        if result is None:
            return False
        network, model = result
        try:
            settings = self.training_panel.settings()
        except ValueError:
            settings = None
        project = Project(network, dataset_name=self.training_panel.dataset_name())
        if settings is not None:
            project.settings = settings
        self._load_project(project, None, clean=False)
        self.controller.model = model
        self.model_unsaved = True
        self.weightsLoaded.emit()
        if self.insight is not None:
            self.insight.set_model(model)
        self.show_message(f"Imported a Keras model as {len(network)} blocks, with its trained weights")
        return True

    def _refuse_while_training(self, what: str) -> bool:
        if self.controller.is_running:
            show_error(self, what, "Training is running: stop it first.")
            return True
        return False

    def new_document(self, preset: str | None = None) -> bool:
        """New from ``preset`` (an id, "" for empty); asks which one when None."""
        if self._refuse_while_training("New network") or not self.maybe_save():
            return False
        if preset is None:
            preset = NewDialog.choose(self)
            if preset is None:
                return False
        if preset:
            try:
                from convstudio.core.presets import load_preset

                project = load_preset(preset)
            except (ProjectError, OSError) as exc:
                show_error(self, "Cannot load the preset", str(exc))
                return False
        else:
            project = Project(Network())
        self._load_project(project, path=None)
        self.show_message(f"New network: {project.title or 'empty'}")
        return True

    def open_file(self, path: str | None = None) -> bool:
        if self._refuse_while_training("Open") or not self.maybe_save():
            return False
        if not path:
            start = os.path.dirname(self.current_path) if self.current_path else os.path.expanduser("~")
            path, _ = QFileDialog.getOpenFileName(self, "Open project", start, PROJECT_FILTER)
            if not path:
                return False
        try:
            project = load_project(path)
        except ProjectError as exc:
            show_error(self, "Cannot open the project", str(exc))
            app_settings.remove_recent_file(path)
            return False
        self._load_project(project, path=str(path))
        app_settings.add_recent_file(path)
        self.show_message(f"Opened {path}")
        return True

    def _load_project(self, project: Project, path: str | None, clean: bool = True) -> None:
        self.document.load_network(project.network, clean=clean)
        self.training_panel.set_settings(project.settings)
        self.training_panel.set_dataset_name(project.dataset_name)
        self.project_title = project.title
        self.project_description = project.description
        self.weights_path = project.weights_path
        self.controller.model = None
        self.model_unsaved = False
        self.current_path = path
        self._changes_since_autosave = not clean
        self._update_title()
        self.fileChanged.emit(path or "")
        QTimer.singleShot(0, self.canvas.fit_to_view)
        self.load_saved_weights()

    def load_saved_weights(self) -> None:
        """Load the project's trained model off the GUI thread (once TensorFlow is ready), so the
        insight views can look inside it without training again."""
        path = self.weights_path
        if not path or not self.tensorflow_ready or self.controller.model is not None:
            return

        def work() -> Any:
            from convstudio.core.project import load_project_model

            return load_project_model(Project(Network(), weights_path=path))

        def done(model: Any, error: Exception | None) -> None:
            if self.weights_path != path or self.controller.is_running:
                return  # another project or a run replaced them meanwhile
            if error is not None:
                self.show_message(f"Trained weights not loaded: {error}", 8000)
                return
            self.controller.model = model
            self.weightsLoaded.emit()
            if self.insight is not None:
                self.insight.set_model(model)

        run_in_thread(self, "load-weights", work, done)

    def current_project(self) -> Project:
        return Project(network=self.document.network.copy(), settings=self.training_panel.settings(),
                       dataset_name=self.training_panel.dataset_name(), data_dir=None,
                       weights_path=self.weights_path, title=self.project_title,
                       description=self.project_description)

    def save(self) -> bool:
        if not self.current_path:
            return self.save_as()
        return self._save_to(self.current_path)

    def save_as(self) -> bool:
        start = self.current_path or os.path.join(os.path.expanduser("~"), "network.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            project = self.current_project()
        except ValueError as exc:  # the panel's settings cannot be used
            show_error(self, "Cannot save", str(exc))
            return False
        model = self.controller.model if self.model_unsaved else None
        try:
            if model is None:
                project.weights_path = self._weights_beside(path)
            written = save_project(project, path, model=model)
        except (ProjectError, OSError) as exc:
            show_error(self, "Cannot save the project", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - e.g. the model cannot be serialized
            show_error(self, "Cannot save the project", f"Saving to {path} failed: {exc}")
            return False
        self.weights_path = project.weights_path
        self.model_unsaved = False
        self.current_path = str(written)
        self.document.undo_stack.setClean()
        app_settings.add_recent_file(written)
        self._update_title()
        self.fileChanged.emit(self.current_path)
        self.show_message(f"Saved {written}")
        return True

    def _weights_beside(self, path: str) -> str | None:
        """Keep a project self-contained: copy weights saved elsewhere (an autosave, another
        folder) beside the project file being written; returns the weights path to record."""
        source = self.weights_path
        if not source or not os.path.isfile(source):
            return None
        target = Path(path)
        if target.suffix.lower() != ".json":
            target = target.with_name(target.name + ".json")
        beside = target.with_name(target.stem + WEIGHTS_SUFFIX)
        if beside.resolve() != Path(source).resolve():
            atomic_write_with(beside, lambda tmp: shutil.copyfile(source, tmp), suffix=".keras")
        return str(beside.resolve())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = app_settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_file(p))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ----------------------------------------------------------------- autosave

    def _write_autosave(self, path: str) -> None:
        self._wait_for_background_autosave()
        project = self.current_project()
        model = self.controller.model if self.model_unsaved else None
        project.title = project.title or (Path(self.current_path).stem if self.current_path else "")
        save_project(project, path, model=model)
        self._changes_since_autosave = False

    def offer_recovery(self) -> bool:
        """On start: offer an autosave newer than the last clean exit; True when one was loaded."""
        candidate = self.autosaver.recovery_candidate()
        if candidate is None:
            return False
        B = QMessageBox.StandardButton
        answer = ask(self, "Recover unsaved work?",
                     "ConvStudio did not close normally last time. Recover the automatically saved network?",
                     B.Yes | B.No, B.Yes, {B.Yes: "Recover", B.No: "Discard"})
        if answer != B.Yes:
            self.autosaver.discard()
            return False
        try:
            project = load_project(candidate)
        except ProjectError as exc:
            show_error(self, "Cannot recover", str(exc))
            return False
        self._load_project(project, path=None, clean=False)
        self.model_unsaved = bool(project.weights_path)
        self._update_title()
        self.show_message("Recovered the autosaved network; save it to keep it")
        return True

    # ----------------------------------------------------------------- closing

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.controller.is_running:
            B = QMessageBox.StandardButton
            answer = ask(self, "Training is running",
                         "Training is still running. Stop it and quit? The weights trained so far are kept.",
                         B.Yes | B.Cancel, B.Cancel, {B.Yes: "Stop and quit"})
            if answer != _STOP_AND_QUIT:
                event.ignore()
                return
            self.show_message("Stopping training...")
            stopped = self.controller.stop_and_wait(2.0)
            if not stopped:  # e.g. still building the model: give it a little longer
                self.show_message("Still stopping training (finishing the current step)...")
                stopped = self.controller.stop_and_wait(8.0)
            if not stopped:
                show_error(self, "Training did not stop",
                           "Training has not stopped yet; try closing again in a moment.")
                event.ignore()
                return
        if self.is_modified:
            self.autosaver.save_now()
        if not self.maybe_save():
            event.ignore()
            return
        self.autosaver.stop()
        self._wait_for_background_autosave()
        self.save_window_state()
        self.autosaver.mark_clean_exit()
        event.accept()

    def about(self) -> None:
        QMessageBox.about(self, "About ConvStudio",
                          "ConvStudio: build convolutional neural networks from blocks, train them, "
                          "and look inside them.")
