"""The window's file operations on the session: New, Open, Save, Save As, recent files, Import and
Export of Keras models, the unsaved-changes prompt, recovery of an autosave, and loading a project's
trained model in the background."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from convstudio.core.atomic import atomic_write_with
from convstudio.core.layout import lay_out
from convstudio.core.network import Network
from convstudio.core.project import WEIGHTS_SUFFIX, Project, ProjectError, load_project, save_project
from convstudio.core.session import Session, TrainedOn, model_input_shape

from . import dialogs
from . import settings as app_settings
from .autosave import Autosaver
from .worker import run_worker

__all__ = ["ProjectFiles"]


class ProjectFiles(QObject):
    """File operations of ``window`` on its ``session``; the document keeps the network's undo history.

    Signals ``weightsLoaded`` when a trained model from disk (a project's, an import) is in the session.
    """

    weightsLoaded = Signal()

    def __init__(self, window: Any, session: Session) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.document = window.document
        self.controller = window.controller
        self.tensorflow_ready = False

    def _message(self, text: str, timeout_ms: int = 4000) -> None:
        self.window.show_message(text, timeout_ms)

    def refuse_while_training(self, what: str) -> bool:
        if self.controller.is_running:
            dialogs.show_error(self.window, what, "Training is running: stop it first.")
            return True
        return False

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        session = self.session
        if not session.is_modified:
            return True
        what = ("The network has unsaved changes" if session.network_modified
                else "The trained weights are not saved" if session.model_unsaved
                else "The choice of data is not saved")
        name = session.display_name  # the name the window title shows
        B = QMessageBox.StandardButton
        answer = dialogs.ask(self.window, "Unsaved changes", f"{what} ({name}). Save them first?",
                             B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    # ----------------------------------------------------------------- loading

    def load(self, project: Project, path: str | None, clean: bool = True) -> None:
        """Make ``project`` the open one (``clean=False``: not saved anywhere yet)."""
        self.document.load_network(project.network, clean=clean)
        self.session.load(project, path, clean=clean)
        QTimer.singleShot(0, self.window.canvas.fit_to_view)
        self.load_saved_weights()

    def new_document(self, preset: str | None = None) -> bool:
        """New from ``preset`` (an id, "" for empty); asks which one when None."""
        if self.refuse_while_training("New network") or not self.maybe_save():
            return False
        if preset is None:
            preset = dialogs.NewDialog.choose(self.window)
            if preset is None:
                return False
        if preset:
            try:
                from convstudio.core.presets import load_preset

                project = load_preset(preset)
                lay_out(project.network, view=self.window.canvas.layout_view())  # wrapped to show at once
            except (ProjectError, OSError) as exc:
                dialogs.show_error(self.window, "Cannot load the preset", str(exc))
                return False
        else:
            project = Project(Network())
        self.load(project, path=None)
        self._message(f"New network: {project.title or 'empty'}")
        return True

    def open_file(self, path: str | None = None) -> bool:
        if self.refuse_while_training("Open") or not self.maybe_save():
            return False
        if not path:
            current = self.session.path
            start = os.path.dirname(current) if current else os.path.expanduser("~")
            path, _ = QFileDialog.getOpenFileName(self.window, "Open project", start, dialogs.PROJECT_FILTER)
            if not path:
                return False
        try:
            project = load_project(path)
        except ProjectError as exc:
            dialogs.show_error(self.window, "Cannot open the project", str(exc))
            app_settings.remove_recent_file(path)
            return False
        self.load(project, path=str(path))
        app_settings.add_recent_file(path)
        self._message(f"Opened {path}")
        return True

    def offer_recovery(self, autosaver: Autosaver) -> bool:
        """On start: offer an autosave newer than the last clean exit; True when one was loaded."""
        candidate = autosaver.recovery_candidate()
        if candidate is None:
            return False
        B = QMessageBox.StandardButton
        answer = dialogs.ask(self.window, "Recover unsaved work?",
                             "ConvStudio did not close normally last time. Recover the automatically saved "
                             "network?", B.Yes | B.No, B.Yes, {B.Yes: "Recover", B.No: "Discard"})
        if answer != B.Yes:
            autosaver.discard()
            return False
        try:
            project = load_project(candidate)
        except ProjectError as exc:
            dialogs.show_error(self.window, "Cannot recover", str(exc))
            return False
        self.load(project, path=project.source_path, clean=False)  # Save goes to the project's own file
        self.session.mark_model_unsaved(bool(project.weights_path))
        self._message("Recovered the autosaved network; save it to keep it")
        return True

    def load_saved_weights(self) -> None:
        """Load the project's trained model off the GUI thread (once TensorFlow is ready), so the
        insight views can look inside it without training again."""
        session = self.session
        path = session.weights_path
        if not path or not self.tensorflow_ready or session.model is not None:
            return
        trained_on = TrainedOn.describe(session.dataset_name, session.network,  # as saved with the project
                                        folders=session.data_source[1:])

        def work(_state: Any) -> Any:
            from convstudio.core.project import load_project_model

            return load_project_model(Project(Network(), weights_path=path))

        def failed(error: str) -> None:
            if session.weights_path == path and not self.controller.is_running:
                self._message(f"Trained weights not loaded: {error}", 8000)

        def done(model: Any) -> None:
            if session.weights_path != path or self.controller.is_running:
                return  # another project or a run replaced them meanwhile
            session.set_model(model, trained_on, unsaved=False)
            self.weightsLoaded.emit()

        run_worker(self.window, "load-weights", work, done, failed)

    # ----------------------------------------------------------------- saving

    def save(self) -> bool:
        if not self.session.path:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        start = self.session.path or os.path.join(os.path.expanduser("~"), "network.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", start, dialogs.PROJECT_FILTER)
        if not path:
            return False
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        session = self.session
        if session.settings_error:  # the panel's settings cannot be used
            dialogs.show_error(self.window, "Cannot save", session.settings_error)
            return False
        project = session.to_project()
        model = session.unsaved_model()
        try:
            if model is None:
                project.weights_path = self.weights_beside(path)
            written = save_project(project, path, model=model)
        except (ProjectError, OSError) as exc:
            dialogs.show_error(self.window, "Cannot save the project", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - e.g. the model cannot be serialized
            dialogs.show_error(self.window, "Cannot save the project", f"Saving to {path} failed: {exc}")
            return False
        self.document.undo_stack.setClean()
        session.saved_as(str(written), project.weights_path)
        app_settings.add_recent_file(written)
        self._message(f"Saved {written}")
        return True

    def weights_beside(self, path: str) -> str | None:
        """Keep a project self-contained: copy weights saved elsewhere (an autosave, another
        folder) beside the project file being written; returns the weights path to record."""
        source = self.session.weights_path
        if not source or not os.path.isfile(source):
            return None
        target = Path(path)
        if target.suffix.lower() != ".json":
            target = target.with_name(target.name + ".json")
        beside = target.with_name(target.stem + WEIGHTS_SUFFIX)
        if beside.resolve() != Path(source).resolve():
            atomic_write_with(beside, lambda tmp: shutil.copyfile(source, tmp), suffix=".keras")
        return str(beside.resolve())

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = app_settings.recent_files()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_file(p))
        if not files:
            menu.addAction("(none)").setEnabled(False)

    # ----------------------------------------------------------------- Keras models

    def export_model(self) -> None:
        """File > Export: the trained model in another format, checked against it before it is written."""
        if self.refuse_while_training("Export"):
            return
        from .export_dialog import ExportDialog

        session = self.session
        name, options = session.dataset_name, self.window.training_panel.load_options()

        def dataset() -> Any:  # loaded in the export's worker thread, for verification images
            from convstudio.core.datasets import load_dataset

            return load_dataset(name, allow_download=False, **options)

        settings = None if session.settings_error else session.settings
        ExportDialog(session.model, self.document.network, dataset, settings, self.window,
                     project_path=session.path).exec()

    def import_model(self, path: str | None = None) -> bool:
        """File > Import: a .keras model becomes the network, and its weights the trained model.

        The file loads in a worker; returns True once the import has started."""
        if self.refuse_while_training("Import") or not self.maybe_save():
            return False
        from .model_import import choose_keras_file, import_in_background

        path = path or choose_keras_file(self.window)
        if not path:
            return False
        self._message(f"Importing {path}...")
        import_in_background(self.window, path, self._use_imported_model)
        return True

    def _use_imported_model(self, imported: tuple[Network, Any]) -> None:
        if self.refuse_while_training("Import"):
            return
        network, model = imported
        lay_out(network, view=self.window.canvas.layout_view())
        session = self.session
        project = Project(network, dataset_name=session.dataset_name, data_dir=session.data_dir,
                          test_dir=session.test_dir, resize=session.resize)  # the data stays as chosen
        if not session.settings_error:
            project.settings = session.settings
        self.load(project, None, clean=False)
        trained_on = TrainedOn.describe(None, session.network, source="imported",
                                        input_shape=model_input_shape(model))
        session.set_model(model, trained_on, unsaved=True)
        self.weightsLoaded.emit()
        self._message(f"Imported a Keras model as {len(network)} blocks, with its trained weights")
