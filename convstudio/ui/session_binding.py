"""Keeps the training panel, the training controller and the insight views in step with the session.

The panel writes the settings and the dataset the user edits into the session, and shows what the
session loads; the controller's runs add to the session's history and, when they end with a model,
make it the session's trained model together with what it was trained on; the insight views follow
the session's model and dataset.
"""

from __future__ import annotations

from typing import Any

from convstudio.core.datasets import dataset_geometry
from convstudio.core.history import history_to_columns
from convstudio.core.session import Session, SessionEvent, TrainedOn, model_input_shape
from convstudio.core.settings import SettingsError

__all__ = ["MODEL_STATUSES", "SessionBinding", "bind_insight"]

MODEL_STATUSES = ("completed", "stopped", "early_stopped")
"""How a run ends when its model is worth keeping."""

_VALUE_WIDGETS = ("lr_spin", "momentum_spin", "batch_spin", "epochs_spin", "val_spin", "patience_spin")
_TOGGLE_WIDGETS = ("nesterov_check", "early_check")


class SessionBinding:
    """Connects ``panel`` (a TrainingPanel) and ``controller`` (a TrainingController) to ``session``."""

    def __init__(self, session: Session, panel: Any, controller: Any) -> None:
        self.session = session
        self.panel = panel
        self.controller = controller
        self._pushing = False
        self._adopted_folder: str | None = None  # the image folder whose shape the Input block last took
        for name in _VALUE_WIDGETS:
            getattr(panel, name).valueChanged.connect(self._pull_settings)
        for name in _TOGGLE_WIDGETS:
            getattr(panel, name).toggled.connect(self._pull_settings)
        panel.optimizer_combo.currentIndexChanged.connect(self._pull_settings)
        panel.dataset_combo.currentIndexChanged.connect(self._pull_dataset)
        panel.folderEdited.connect(self._pull_data_source)
        panel.folderGeometry.connect(self._on_folder_geometry)
        session.events.connect(self._on_session_event)
        controller.runStarted.connect(self._on_run_started)
        controller.epochEnded.connect(lambda event: session.record_epoch(event.metrics))
        controller.runFinished.connect(self._on_run_finished)
        self._pull_settings()
        self._pull_dataset()
        self._sync_project()

    # ----------------------------------------------------------------- panel

    def _pull_settings(self, *_args: Any) -> None:
        if self._pushing:
            return
        try:
            self.session.set_settings(self.panel.settings())
        except (SettingsError, ValueError) as exc:
            self.session.set_settings(self.session.settings, error=str(exc))

    def _pull_dataset(self, *_args: Any) -> None:
        if not self._pushing:
            self._pull_data_source()
            self._check_against_dataset(adopt=True)

    def _pull_data_source(self) -> None:
        """The panel's data source into the session. For datasets other than an image folder the panel
        reads the folder of the app's settings; a folder the project holds for them stays with them."""
        if self._pushing:
            return
        name, folder, test_folder, resize = self.panel.data_source()
        session = self.session
        if name != "image_folder":
            folder = session.data_dir if name == session.dataset_name else None
        session.set_data_source(name, folder, test_folder, resize)

    def _check_against_dataset(self, adopt: bool) -> None:
        """The editor checks the network against the chosen dataset's image shape and classes; a choice
        made in the panel gives the Input block that shape (one undo step), a loaded project is only checked."""
        geometry = dataset_geometry(self.session.dataset_name)
        document = getattr(self.controller, "document", None)
        if geometry is not None and document is not None:
            document.set_dataset_shape(geometry[0], geometry[1], adopt=adopt)

    def _on_folder_geometry(self, geometry: tuple[tuple[int, int, int], int]) -> None:
        """A scanned image folder's image shape and classes: the editor checks the network against them
        before any run (the output must have as many units as the folder has classes). A folder chosen
        anew gives the Input block its shape (one undo step); the folder a project was saved with is
        only checked, and so is the same folder scanned again (another fitting, a test folder)."""
        document = getattr(self.controller, "document", None)
        if document is None or self.session.dataset_name != "image_folder":
            return
        folder = self.session.data_dir
        shape, classes = geometry
        document.set_dataset_shape(shape, classes, adopt=folder != self._adopted_folder)
        self._adopted_folder = folder

    def _sync_project(self) -> None:
        """Runs are recorded beside the project file, under the project's title."""
        self.controller.project_path = self.session.path
        self.controller.project_title = self.session.title

    def _on_session_event(self, event: SessionEvent) -> None:
        if event.kind == "model":
            self._on_model(event.value)
        if event.kind in ("path", "title", "loaded"):
            self._sync_project()
        if event.kind != "loaded":
            return
        self._pushing = True
        try:
            self.panel.set_settings(self.session.settings)
            self.panel.set_data_source(self.session.dataset_name, self.session.data_dir, self.session.test_dir,
                                       self.session.resize)
        finally:
            self._pushing = False
        self._adopted_folder = self.session.data_dir  # the project's own folder: checked, not adopted
        self._check_against_dataset(adopt=False)
        self.controller.model = None  # the last run's model belongs to the project that was open
        self.controller.adopt_model(None, {}, self.session.dataset_name)
        self.panel.clear_results()  # so do its curves and its test accuracy

    def _on_model(self, model: Any) -> None:
        """A model that no run here made (a project's saved weights, an import): show its own history
        (none for an import) instead of the last run's, and let Train more continue it."""
        if model is None or model is self.controller.model or self.controller.is_running:
            return
        columns = history_to_columns(self.session.history)
        self.controller.adopt_model(model, columns, self.session.dataset_name)
        self.panel.show_history(columns)

    # ----------------------------------------------------------------- runs

    def _on_run_started(self, _event: Any) -> None:
        request = self.controller.last_request
        self.session.start_history(resumed=bool(request is not None and request.resume_from))

    def _on_run_finished(self, event: Any) -> None:
        model = self.controller.model
        if model is not None and event.status in MODEL_STATUSES:
            self.session.set_model(model, self.trained_on(model), unsaved=True)
        else:
            self.session.changes_since_autosave = True

    def trained_on(self, model: Any) -> TrainedOn:
        """What the controller's last run trained on."""
        controller, session = self.controller, self.session
        request, started = controller.last_request, controller.last_started
        network = controller.network_snapshot if controller.network_snapshot is not None else session.network
        folders = ((request.data_dir, request.test_dir, request.resize) if request is not None
                   else session.data_source[1:])
        return TrainedOn.describe(request.dataset if request is not None else session.dataset_name, network,
                                  source=started.dataset_source if started is not None else "",
                                  is_sample=bool(started is not None and started.is_sample),
                                  input_shape=model_input_shape(model), folders=folders)


def bind_insight(panel: Any, session: Session, controller: Any, training_panel: Any) -> None:
    """The insight views follow the session's trained model and dataset, and watch the runs."""
    panel.set_network(session.network)
    panel.probeImageChanged.connect(controller.set_probe)
    controller.runStarted.connect(panel.on_run_started)
    # A sample chosen before the run started: the new trainer watches it too.
    controller.runStarted.connect(lambda _e: controller.set_probe(panel.current_image()))
    controller.probeUpdated.connect(panel.on_probe)

    def load_dataset(*_args: Any) -> None:
        panel.load_dataset(session.dataset_name, **training_panel.load_options())

    def follow(event: SessionEvent) -> None:
        if event.kind == "model" and event.value is not None:
            panel.set_model(event.value, session.trained_on)
        elif event.kind == "dataset":
            load_dataset()

    session.events.connect(follow)
    training_panel.dataChanged.connect(load_dataset)  # another data folder in the app's settings
    load_dataset()
