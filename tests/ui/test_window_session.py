"""The window is a view of its session: the panel writes the session, the title and the panel follow
it, and a finished run makes its model the session's with what it was trained on."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from windows import discard_window  # noqa: E402

from convstudio.core.network import Network
from convstudio.core.project import Project
from convstudio.core.session import SessionEvent, network_fingerprint
from convstudio.core.settings import TrainSettings
from convstudio.core.training_events import EpochEnd, TrainFinished, TrainStarted
from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.training_controller import RunRequest


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(dialogs, "show_error", lambda *_a, **_k: None)
    win = mw.MainWindow()
    win.document.load_network(Network.chain(["Input", ("Conv2D", {"filters": 4}), "Flatten",
                                             ("Dense", {"units": 10, "activation": "softmax"})]))
    yield win
    discard_window(win)
    app_settings.use_storage_root(None)


def test_the_panel_writes_settings_and_dataset_into_the_session(window):
    panel, session = window.training_panel, window.session
    panel.epochs_spin.setValue(13)
    panel.lr_spin.setValue(0.05)
    assert session.settings.epochs == 13 and session.settings.learning_rate == pytest.approx(0.05)
    panel.set_dataset_name("fashion_mnist")
    assert session.dataset_name == "fashion_mnist"
    assert window.current_project().settings.epochs == 13  # what Save writes comes from the session


def test_a_loaded_project_shows_in_the_panel_and_the_title(window, tmp_path):
    seen: list[SessionEvent] = []
    window.session.events.connect(seen.append)
    project = Project(Network(), TrainSettings(epochs=4, batch_size=32), "fashion_mnist", title="Mine")
    window.files.load(project, str(tmp_path / "mine.json"))
    panel = window.training_panel
    assert panel.epochs_spin.value() == 4 and panel.batch_spin.value() == 32
    assert panel.dataset_name() == "fashion_mnist"
    assert window.windowTitle().startswith("mine.json") and not window.isWindowModified()
    # Showing the loaded settings in the panel does not echo back as edits.
    assert [e.kind for e in seen] == ["loaded", "dataset"]
    window.session.set_path(str(tmp_path / "renamed.json"))
    assert window.windowTitle().startswith("renamed.json")


def test_a_finished_run_gives_the_session_its_model_and_what_it_was_trained_on(window):
    controller, session = window.controller, window.session
    model = object()
    controller.last_request = RunRequest("mnist", TrainSettings(epochs=2))
    controller.network_snapshot = window.document.network.copy()
    started = TrainStarted("CPU", 2, 0, 10, 100, 0, dataset_source="bundled sample", is_sample=True)
    controller.last_started = started
    controller.runStarted.emit(started)
    controller.epochEnded.emit(EpochEnd(1, 2, {"loss": 1.5, "accuracy": 0.4}, 0.1))
    controller.epochEnded.emit(EpochEnd(2, 2, {"loss": 0.9, "accuracy": 0.7}, 0.1))
    controller.model = model
    controller.runFinished.emit(TrainFinished("completed", "done", 2, {}))

    assert session.model is model and session.model_unsaved and window.isWindowModified()
    on = session.trained_on
    assert on.dataset == "mnist" and on.is_sample and on.source == "bundled sample"
    assert len(on.class_names) == 10 and on.input_shape == (28, 28, 1)
    assert on.network == network_fingerprint(window.document.network)
    assert [h["loss"] for h in session.history] == [1.5, 0.9]
    assert session.staleness is None
    window.training_panel.set_dataset_name("fashion_mnist")
    assert "trained on mnist" in session.staleness


def test_a_failed_run_gives_the_session_no_model(window, monkeypatch):
    controller, session = window.controller, window.session
    monkeypatch.setattr(window.training_panel, "_report_error", lambda *_a: None)  # its modal box
    controller.model = object()
    controller.runFinished.emit(TrainFinished("error", "Training failed", 0, {}))
    assert session.model is None and not session.model_unsaved


def test_opening_another_project_forgets_the_last_runs_model(window):
    controller = window.controller
    controller.model = object()
    controller.runFinished.emit(TrainFinished("completed", "done", 1, {}))
    window.model_unsaved = False
    assert window.new_document("")
    assert window.session.model is None and controller.model is None


def test_runs_are_recorded_beside_the_open_project(window, tmp_path):
    controller = window.controller
    assert controller.project_path is None  # never saved: runs go to the data folder
    project = Project(Network(), TrainSettings(), "mnist", title="Digits")
    window.files.load(project, str(tmp_path / "digits.json"))
    assert controller.project_path == str(tmp_path / "digits.json") and controller.project_title == "Digits"
    assert controller.runs_dir() == tmp_path / "digits.runs"
    window.session.set_path(str(tmp_path / "moved.json"))  # Save As
    assert controller.runs_dir() == tmp_path / "moved.runs"


def test_choosing_a_dataset_gives_the_input_its_shape_and_the_output_its_classes(window):
    document = window.document
    window.training_panel.set_dataset_name("colour_shapes_by_colour")  # 32x32x3, 4 classes
    assert document.input_shape == (32, 32, 3) and document.num_classes == 4
    document.undo_stack.undo()  # the Input's new shape was one step: undone, it is an error with a fix
    assert document.input_shape == (28, 28, 1)
    [issue] = [i for i in document.analysis.issues if i.block_id in document.network.input_blocks()]
    assert issue.fix is not None and "dataset" in issue.fix.label.lower()
    window.training_panel.set_dataset_name("mnist")
    assert document.num_classes == 10
