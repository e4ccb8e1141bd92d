"""The session model: the open project's state without Qt, its events, and what a model was trained on."""

from __future__ import annotations

import json

from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.session import Session, SessionEvent, TrainedOn, network_fingerprint
from convstudio.core.settings import TrainSettings


def _net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "Flatten", ("Dense", {"units": 10})])


def _recording(session: Session) -> list[SessionEvent]:
    seen: list[SessionEvent] = []
    session.events.connect(seen.append)
    return seen


def test_open_reads_a_project_file_into_the_session(tmp_path):
    project = Project(_net(), TrainSettings(epochs=7), "fashion_mnist", title="Tiny", description="d")
    target = save_project(project, tmp_path / "tiny.json")
    session = Session.open(target)
    assert session.path == str(target) and session.title == "Tiny" and session.description == "d"
    assert session.settings.epochs == 7 and session.dataset_name == "fashion_mnist"
    assert session.network.to_dict() == project.network.to_dict()
    assert not session.is_modified and session.display_name == "tiny.json"
    round_trip = session.to_project()
    assert round_trip.network is not session.network  # a copy: saving never shares the live network
    assert round_trip.network.to_dict() == project.network.to_dict() and round_trip.settings.epochs == 7


def test_loading_forgets_the_model_and_reports_it(tmp_path):
    session = Session(_net())
    session.set_model(object(), TrainedOn.describe("mnist", session.network))
    session.record_epoch({"loss": 1.0})
    seen = _recording(session)
    session.load(Project(Network(), title="Other"), None, clean=False)
    assert session.model is None and session.trained_on is None and session.history == []
    assert session.is_modified and not session.model_unsaved and session.display_name == "Other"
    assert [e.kind for e in seen] == ["loaded"]  # the model was not stale, so staleness is unchanged


def test_dirty_state_follows_the_network_and_the_model(tmp_path):
    session = Session(_net())
    seen = _recording(session)
    session.set_network_modified(True)
    assert session.is_modified and seen[-1] == SessionEvent("modified", True)
    session.set_network_modified(False)
    assert not session.is_modified
    session.set_model(object())
    assert session.is_modified and session.model_unsaved and session.unsaved_model() is session.model
    session.saved_as(tmp_path / "x.json", None)
    assert not session.is_modified and session.path == str(tmp_path / "x.json")
    assert seen[-1] == SessionEvent("modified", False)


def test_the_model_records_what_it_was_trained_on():
    session = Session(_net())
    on = TrainedOn.describe("fashion_mnist", session.network, source="/data/f.npz", is_sample=True)
    assert on.class_names[0] == "T-shirt/top" and len(on.class_names) == 10
    assert on.input_shape == (28, 28, 1) and on.network == network_fingerprint(session.network)
    session.set_model(object(), on)
    assert session.trained_on is on and session.trained_on.is_sample


def test_staleness_follows_dataset_and_network_changes_but_not_moves():
    session = Session(_net(), dataset_name="mnist")
    session.set_model(object(), TrainedOn.describe("mnist", session.network))
    seen = _recording(session)
    assert session.staleness is None
    conv = list(session.network.blocks)[1]
    session.network.move_block(conv, (500.0, 500.0))
    assert session.staleness is None and not seen  # positions do not change a model
    session.set_dataset("fashion_mnist")
    assert "trained on mnist" in session.staleness
    session.set_dataset("mnist")
    assert session.staleness is None
    session.network.set_param(conv, "filters", 8)
    assert "network has changed" in session.staleness
    session.network.set_param(conv, "filters", 4)
    assert session.staleness is None
    assert [e.kind for e in seen if e.kind == "stale"] == ["stale"] * 4


def test_a_model_trained_on_one_image_folder_is_stale_for_another():
    session = Session(_net())
    session.set_data_source("image_folder", "/data/flowers", None, "crop")
    session.set_model(object(), TrainedOn.describe("image_folder", session.network,
                                                   folders=session.data_source[1:]))
    assert session.staleness is None
    session.set_data_source("image_folder", "/data/cars", None, "crop")
    assert "images in /data/flowers, not on those in /data/cars" in session.staleness
    session.set_data_source("image_folder", "/data/flowers", None, "pad")
    assert "another test folder or another fitting" in session.staleness
    session.set_data_source("image_folder", "/data/flowers", None, "crop")
    assert session.staleness is None
    session.set_data_source("mnist", None)  # other datasets are told apart by name, as before
    assert "trained on image_folder" in session.staleness


def test_history_restarts_with_a_fresh_run_and_continues_a_resumed_one():
    session = Session(_net())
    session.record_epoch({"loss": 2.0})
    session.start_history(resumed=True)
    session.record_epoch({"loss": 1.0})
    assert [h["loss"] for h in session.history] == [2.0, 1.0]
    session.start_history(resumed=False)
    assert session.history == []


def test_settings_changes_are_reported_once_and_errors_kept():
    session = Session(_net())
    seen = _recording(session)
    session.set_settings(TrainSettings(epochs=3))
    session.set_settings(TrainSettings(epochs=3), error="the learning rate must be positive")
    assert [e.kind for e in seen] == ["settings"]
    assert session.settings.epochs == 3 and session.settings_error


def test_the_autosave_copy_is_titled_after_the_file_and_clears_the_flag(tmp_path):
    session = Session(_net(), path=str(tmp_path / "mine.json"))
    session.network.set_param(list(session.network.blocks)[1], "filters", 6)
    assert session.changes_since_autosave
    written = session.write_autosave(str(tmp_path / "autosave.json"))
    assert json.loads(written.read_text())["title"] == "mine" and not session.changes_since_autosave


def test_the_command_line_loads_projects_into_a_session(tmp_path):
    from convstudio.cli import _load_project

    session, path = _load_project("lenet5")
    assert isinstance(session, Session) and session.path == str(path) and len(session.network) > 0
    target = save_project(Project(_net(), TrainSettings(epochs=2), title="Two"), tmp_path / "two.json")
    session, _ = _load_project(str(target))
    assert session.title == "Two" and session.settings.epochs == 2 and session.weights_path is None


def test_a_models_input_shape_is_read_without_the_batch_axis():
    from types import SimpleNamespace

    from convstudio.core.session import model_input_shape

    assert model_input_shape(SimpleNamespace(input_shape=(None, 32, 32, 3))) == (32, 32, 3)
    assert model_input_shape(SimpleNamespace(input_shape=[(None, 28, 28, 1), (None, 4)])) is None  # two inputs
    assert model_input_shape(object()) is None
