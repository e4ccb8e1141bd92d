"""A run trained from the app is recorded in the project's run folder; health records reach the GUI thread."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.health import HealthProbe
from convstudio.core.network import Network
from convstudio.core.resources import resource_path
from convstudio.core.runs import list_runs, load_run
from convstudio.core.settings import TrainSettings
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import RunRequest, TrainingController

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    """256 images of the bundled MNIST sample in a folder found through CONVSTUDIO_DATA_DIR."""
    with np.load(resource_path("datasets") / "mnist_sample.npz") as data:
        arrays = {k: data[k][:256] for k in ("x_train", "y_train", "x_test", "y_test")}
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **arrays)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")
    yield folder
    app_settings.use_storage_root(None)


def _net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


def _run(qtbot, controller: TrainingController, tiny_data) -> None:
    settings = TrainSettings(epochs=2, batch_size=64, validation_split=0.25)
    assert controller.start(RunRequest("mnist", settings, str(tiny_data))) is None
    qtbot.waitUntil(lambda: not controller.is_running, timeout=120_000)


def test_a_run_of_a_saved_project_is_recorded_beside_it(qtbot, tiny_data, tmp_path):
    controller = TrainingController(EditorDocument(_net()), checkpoint_dir=str(tmp_path / "ck"))
    controller.project_path = str(tmp_path / "digits.json")
    probes: list[HealthProbe] = []
    controller.healthProbed.connect(probes.append)
    _run(qtbot, controller, tiny_data)
    assert controller.last_finished.status == "completed"
    [summary] = list_runs(tmp_path / "digits.runs")
    assert summary.folder == controller.last_run_folder and summary.outcome == "finished"
    run = load_run(summary.folder)
    assert run.record["origin"] == "gui" and run.record["title"] == "digits" and run.network.to_dict() == _net().to_dict()
    assert [p.epoch for p in probes] == [0, 1]  # emitted on the GUI thread from the drained channel


def test_a_run_of_an_unsaved_project_goes_to_the_data_folder(qtbot, tiny_data, tmp_path):
    controller = TrainingController(EditorDocument(_net()))
    _run(qtbot, controller, tiny_data)
    [summary] = list_runs(app_settings.app_data_dir() / "runs")
    assert summary.outcome == "finished" and load_run(summary.folder).record["title"] == "Untitled"
