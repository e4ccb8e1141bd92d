"""The main window: the canvas in the middle, docks around it, menus and the status bar.

The open project's state lives in a core :class:`~convstudio.core.session.Session` (file, title,
settings, dataset, trained model, history, dirty state); the window shows it and follows its events.
It wires the editor widgets and the training panel to one :class:`EditorDocument` and one
:class:`TrainingController`, and hands the work to focused pieces: :class:`ProjectFiles` (New, Open,
Save, Import, Export, recovery), :class:`SessionAutosave`, :class:`WindowLayout` (docks, window state),
``window_actions`` (actions and menus) and :class:`SessionBinding` (panel and runs to the session).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from convstudio.core.network import Network
from convstudio.core.project import Project
from convstudio.core.session import Session, SessionEvent

from . import dialogs
from .autosave import SessionAutosave
from .canvas.view import CanvasView
from .dialogs import PROJECT_FILTER, NewDialog, ask, show_error
from .document import CLIPBOARD_MIME, EditorDocument
from .icons import app_icon
from .inspector import InspectorWidget
from .lessons import LessonLauncher
from .palette import PaletteWidget
from .project_files import ProjectFiles
from .screen_fit import fit_to_screen
from .session_binding import SessionBinding, bind_insight
from .summary_view import SummaryWidget
from .sweeps import add_sweep_menu
from .training_controller import TrainingController
from .training_menu import add_run_actions, training_menu
from .training_panel import TrainingPanel
from .window_actions import make_actions, make_menus, update_edit_actions
from .window_extras import show_about
from .window_layout import WindowLayout

__all__ = ["MainWindow", "NewDialog", "PROJECT_FILTER", "ask", "show_error"]

_STOP_AND_QUIT = QMessageBox.StandardButton.Yes
_TITLE_EVENTS = ("loaded", "path", "modified")


class MainWindow(QMainWindow):
    """ConvStudio's window, a view of one :class:`Session`.

    Signals ``fileChanged(str)`` with the current project path ("" for none) and ``weightsLoaded``
    when a trained model from disk (an opened project's, an import) is in the session.
    """

    fileChanged = Signal(str)
    weightsLoaded = Signal()  # a saved project's trained model is in ``session.model``

    def __init__(self, document: EditorDocument | None = None, autosave_interval_ms: int = 30_000,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowIcon(app_icon())
        self.document = document if document is not None else EditorDocument(parent=self)
        self.session = Session(network=self.document.network)
        self.controller = TrainingController(self.document, self)

        self.canvas = CanvasView(self.document, self)
        self.setCentralWidget(self.canvas)
        self.palette = PaletteWidget(self)
        self.inspector = InspectorWidget(self.document, self)
        self.summary = SummaryWidget(self.document, self)
        self.training_panel = TrainingPanel(self.controller, self)
        self.insight: Any = None  # built just after the window appears (see build_insight)
        self.window_layout = WindowLayout(self, self.palette, self.inspector, self.summary, self.training_panel)
        self.docks, self.right_tabs = self.window_layout.docks, self.window_layout.right_tabs
        self.dataset_label, self.device_label = self.window_layout.dataset_label, self.window_layout.device_label
        self.files = ProjectFiles(self, self.session)
        self.files.weightsLoaded.connect(self.weightsLoaded)
        make_actions(self)
        make_menus(self, self.files.fill_recent_menu)
        self.run_actions = add_run_actions(self)  # Training > Start, Pause, Stop, Train More, Find Learning Rate
        add_sweep_menu(self)  # Training > Sweep...
        training_menu(self).addAction(self.runs_action)  # Training > Runs... (also under View)
        self.lessons = LessonLauncher(self, self.document, self.open_lesson_network, lambda: self.session.model,
                                      lambda: self.insight.current_image() if self.insight is not None else None)
        self.lessons.add_to_help_menu(self.menuBar())
        self.canvas.explore_block = self.lessons.explore_block
        self._default_state = self.saveState()
        self.resize(1400, 900)
        self._fitted_to_screen = False
        self.window_layout.restore()

        self.autosave = SessionAutosave(self.session, self, lambda text: self.show_message(text, 8000),
                                        interval_ms=autosave_interval_ms)
        self.autosaver = self.autosave.autosaver
        self.autosaver.start()
        self.binding = SessionBinding(self.session, self.training_panel, self.controller)
        self._connect()
        self._update_title()
        self._update_edit_actions()

    def _connect(self) -> None:
        doc, controller = self.document, self.controller
        doc.modifiedChanged.connect(self.session.set_network_modified)
        doc.editRefused.connect(lambda reason: self.show_message(reason, 5000))
        doc.selectionChanged.connect(self._on_selection)
        self.session.events.connect(self._on_session_event)
        self.training_panel.message.connect(self.show_message)
        self.canvas.status.connect(self.show_message)
        self.training_panel.sourceChanged.connect(self.dataset_label.setText)
        controller.runningChanged.connect(lambda _running: self._update_edit_actions())
        controller.runStarted.connect(lambda event: self.device_label.setText(event.device))
        controller.runFinished.connect(self._on_run_finished)

    def build_insight(self) -> None:
        """Create the insight panel (feature maps, filters, predictions) in its tab and wire it up."""
        if self.insight is not None:
            return
        from .insight import InsightPanel

        panel = InsightPanel(self)
        self.insight = panel
        self.window_layout.place_insight(panel)
        panel.filters.useKernelsRequested.connect(self._use_hand_kernels)
        bind_insight(panel, self.session, self.controller, self.training_panel)

    def _use_hand_kernels(self, block_id: str, kernel_init: str) -> None:
        """The Filters view's "Use these kernels in <block>": one undoable parameter edit."""
        reason = self.document.set_param(block_id, "kernel_init", kernel_init)
        if reason:
            self.show_message(f"{block_id} keeps its kernels: {reason}", 8000)
        else:
            self.show_message(f"{block_id} now starts from {kernel_init} kernels; train again to use them "
                              "(untick Trainable in the inspector to keep them fixed)", 8000)

    # ----------------------------------------------------------------- the session, as before

    @property
    def current_path(self) -> str | None:
        return self.session.path

    @property
    def weights_path(self) -> str | None:
        return self.session.weights_path

    @property
    def project_title(self) -> str:
        return self.session.title

    @property
    def model_unsaved(self) -> bool:
        return self.session.model_unsaved

    @model_unsaved.setter
    def model_unsaved(self, unsaved: bool) -> None:
        self.session.mark_model_unsaved(unsaved)

    @property
    def is_modified(self) -> bool:
        return self.session.is_modified

    @property
    def tensorflow_ready(self) -> bool:
        return self.files.tensorflow_ready

    def current_project(self) -> Project:
        return self.session.to_project()

    # ----------------------------------------------------------------- files (see ProjectFiles)

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        return self.files.maybe_save()

    def new_document(self, preset: str | None = None) -> bool:
        """New from ``preset`` (an id, "" for empty); asks which one when None."""
        return self.files.new_document(preset)

    def open_lesson_network(self, network: Network, title: str, dataset: str) -> bool:
        """A lesson's network in the editor, as a new unsaved project (False if the user keeps the current one)."""
        if self.files.refuse_while_training("Start a lesson") or not self.files.maybe_save():
            return False
        self.files.load(Project(network, dataset_name=dataset, title=title), path=None)
        self.show_message(f"{title}: its network is in the editor")
        return True

    def open_file(self, path: str | None = None) -> bool:
        return self.files.open_file(path)

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def import_model(self, path: str | None = None) -> bool:
        """File > Import: a .keras model becomes the network, and its weights the trained model."""
        return self.files.import_model(path)

    def export_model(self) -> None:
        """File > Export: the trained model in another format."""
        self.files.export_model()

    def load_saved_weights(self) -> None:
        """Load the project's trained model in the background (once TensorFlow is ready)."""
        self.files.load_saved_weights()

    def offer_recovery(self) -> bool:
        """On start: offer an autosave newer than the last clean exit; True when one was loaded."""
        return self.files.offer_recovery(self.autosaver)

    # ----------------------------------------------------------------- window state

    def save_window_state(self) -> None:
        self.window_layout.save()

    def reset_layout(self) -> None:
        self.window_layout.reset(self._default_state)

    # ----------------------------------------------------------------- status and title

    def show_message(self, text: str, timeout_ms: int = 4000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def set_tensorflow_ready(self, device: str) -> None:
        self.files.tensorflow_ready = True
        self.device_label.setText(device)
        self.training_panel.set_tensorflow_ready(True)
        self.show_message("TensorFlow is ready", 3000)
        self.load_saved_weights()

    def set_tensorflow_failed(self, reason: str) -> None:
        self.device_label.setText("TensorFlow unavailable")
        self.show_message(reason, 0)
        dialogs.show_error(self, "TensorFlow could not be loaded",
                           f"{reason}\n\nEditing works; training is disabled.")

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.session.display_name}[*] - ConvStudio")
        self.setWindowModified(self.session.is_modified)

    def _on_session_event(self, event: SessionEvent) -> None:
        if event.kind in _TITLE_EVENTS:
            self._update_title()
        if event.kind in ("loaded", "path"):
            self.fileChanged.emit(self.session.path or "")

    def _on_run_finished(self, _event: Any) -> None:
        """The session has taken the run's model (see SessionBinding): keep a copy, off the GUI thread."""
        self.autosave.write_in_background()
        self._update_title()

    def _on_selection(self, ids: list) -> None:
        self._update_edit_actions()
        if ids:
            self.window_layout.raise_inspector()

    def _update_edit_actions(self) -> None:
        update_edit_actions(self, bool(self.document.selected_ids()), not self.controller.is_running)

    # ----------------------------------------------------------------- edit

    def copy(self) -> None:
        ids = self.document.selected_ids()
        if not ids:
            return
        payload = json.dumps(self.document.copy(ids)).encode("utf-8")
        mime = QMimeData()
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
            from .delete_join import delete_selection

            delete_selection(self, self.document, ids)

    def select_all(self) -> None:
        self.document.select(list(self.document.network.blocks))

    # ----------------------------------------------------------------- closing

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.controller.is_running and not self._stop_training_to_quit():
            event.ignore()
            return
        if self.is_modified:
            self.autosaver.save_now()
        if not self.maybe_save():
            event.ignore()
            return
        self.autosaver.stop()
        self.autosave.wait()
        self.save_window_state()
        self.autosaver.mark_clean_exit()
        event.accept()

    def _stop_training_to_quit(self) -> bool:
        """Ask to stop the run, then stop it within a bounded time; True when it has stopped."""
        B = QMessageBox.StandardButton
        answer = dialogs.ask(self, "Training is running",
                             "Training is still running. Stop it and quit? The weights trained so far are kept.",
                             B.Yes | B.Cancel, B.Cancel, {B.Yes: "Stop and quit"})
        if answer != _STOP_AND_QUIT:
            return False
        self.show_message("Stopping training...")
        stopped = self.controller.stop_and_wait(2.0)
        if not stopped:  # e.g. still building the model: give it a little longer
            self.show_message("Still stopping training (finishing the current step)...")
            stopped = self.controller.stop_and_wait(8.0)
        if not stopped:
            dialogs.show_error(self, "Training did not stop",
                               "Training has not stopped yet; try closing again in a moment.")
        return stopped

    def about(self) -> None:
        show_about(self)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._fitted_to_screen:  # the frame (title bar, borders) is known once shown
            self._fitted_to_screen = True
            QTimer.singleShot(0, lambda: fit_to_screen(self))
