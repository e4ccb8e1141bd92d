"""The training panel driving real (tiny) runs through the controller: curves, lock, pause, stop."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from convstudio.core.network import Network
from convstudio.core.resources import resource_path
from convstudio.core.settings import TrainSettings
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import LOCK_REASON, TrainingController
from convstudio.ui.training_panel import TrainingPanel

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    """A 2,000-image slice of the bundled MNIST sample in a folder found through CONVSTUDIO_DATA_DIR."""
    with np.load(resource_path("datasets") / "mnist_sample.npz") as data:
        arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=arrays["x_train"][:2000], y_train=arrays["y_train"][:2000],
             x_test=arrays["x_test"][:200], y_test=arrays["y_test"][:200])
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")
    yield folder
    app_settings.use_storage_root(None)


def _tiny_network() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


@pytest.fixture
def panel(qtbot, tiny_data, tmp_path):
    document = EditorDocument(_tiny_network())
    controller = TrainingController(document, checkpoint_dir=str(tmp_path / "checkpoints"))
    widget = TrainingPanel(controller)
    qtbot.addWidget(widget)
    widget.show()
    widget.set_settings(TrainSettings(epochs=3, batch_size=16, validation_split=0.1))
    widget.set_tensorflow_ready(True)
    yield widget
    if controller.is_running:
        controller.stop_and_wait(5.0)


def test_a_run_started_from_the_panel_draws_curves_locks_edits_and_stops(qtbot, panel, tiny_data):
    controller, document = panel.controller, panel.controller.document
    blocks_before = dict(document.network.blocks)
    assert panel.start_button.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert controller.is_running and document.locked

    with qtbot.waitSignal(document.editRefused, timeout=2000) as refused:
        document.add_block("Dense", (0.0, 0.0))
    assert refused.args == [LOCK_REASON]
    assert document.network.blocks == blocks_before
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()

    qtbot.waitUntil(lambda: len(panel.plots.train_x) >= 2, timeout=60_000)
    assert all(np.isfinite(panel.plots.train_loss))
    assert panel.batch_bar.value() > 0
    assert str(tiny_data) in panel.source_label.text()

    with qtbot.waitSignal(controller.runFinished, timeout=5000) as finished:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].status == "stopped"
    assert not controller.is_running and not document.locked
    assert "stopped" in panel.result_label.text().lower()
    assert panel.start_button.isEnabled()
    if finished.args[0].epochs_done == 0:  # stopped mid-epoch: said once, and the weights can go on
        assert "0 epoch" not in panel.result_label.text()
    assert panel.more_button.isEnabled()
    assert document.add_block("Dense", (0.0, 200.0)) is not None  # editing works again
    qtbot.waitUntil(lambda: panel.plots.draw_count > 0, timeout=2000)


def test_pause_holds_batches_and_resume_continues(qtbot, panel):
    controller = panel.controller
    batches: list = []
    controller.batchEnded.connect(batches.append)
    panel.start()
    qtbot.waitUntil(lambda: len(batches) >= 1, timeout=60_000)

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert controller.is_paused and panel.pause_button.text() == "Resume"
    qtbot.wait(400)  # let an in-flight batch report
    held = len(batches)
    qtbot.wait(600)
    assert len(batches) == held, "batches kept coming while paused"

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert not controller.is_paused and panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(batches) > held, timeout=10_000)
    assert controller.stop_and_wait(5.0)


def test_a_network_with_errors_is_refused_with_the_reason(qtbot, tiny_data, tmp_path, monkeypatch):
    document = EditorDocument(Network.chain(["Input", ("Dense", {"units": 10, "activation": "softmax"}),
                                             ("Conv2D", {"filters": 4})]))
    assert not document.analysis.ok
    controller = TrainingController(document, checkpoint_dir=str(tmp_path / "ck"))
    widget = TrainingPanel(controller)
    qtbot.addWidget(widget)
    widget.set_tensorflow_ready(True)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, text: shown.append((title, text)))
    assert not widget.start_button.isEnabled()
    assert document.analysis.errors[0].message in widget.start_button.toolTip()
    assert widget.start() is False
    assert not controller.is_running and not document.locked
    assert shown and "errors" in shown[0][1] and document.analysis.errors[0].message in shown[0][1]


def test_train_more_continues_from_the_checkpoint(qtbot, panel):
    controller = panel.controller
    panel.set_settings(TrainSettings(epochs=1, batch_size=64, validation_split=0.1))
    assert not panel.more_button.isEnabled()  # nothing to continue yet
    with qtbot.waitSignal(controller.runFinished, timeout=60_000) as first:
        panel.start()
    assert first.args[0].status == "completed" and first.args[0].epochs_done == 1
    assert panel.more_button.isEnabled()
    points = len(panel.plots.train_x)

    panel.more_spin.setValue(1)
    started: list = []
    controller.runStarted.connect(started.append)
    with qtbot.waitSignal(controller.runFinished, timeout=60_000) as more:
        qtbot.mouseClick(panel.more_button, Qt.MouseButton.LeftButton)
    assert started and started[0].initial_epoch == 1 and started[0].epochs == 2
    assert more.args[0].status == "completed" and more.args[0].epochs_done == 2
    assert more.args[0].checkpoint == first.args[0].checkpoint
    assert len(panel.plots.train_x) > points and max(panel.plots.train_x) > 1.0  # curves continue

    controller.document.add_block("Dropout", (300.0, 300.0))  # a changed network cannot continue
    assert controller.checkpoint is None and not panel.more_button.isEnabled()


def test_missing_data_is_reported_with_what_was_tried(qtbot, panel, monkeypatch):
    from convstudio.core import datasets

    def missing(name, **_kwargs):
        raise datasets.DatasetNotFound(f"{name} was not found. Tried:\n  - /nowhere: folder not found")

    monkeypatch.setattr(datasets, "load_dataset", missing)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, text: shown.append((title, text)))
    with qtbot.waitSignal(panel.controller.runFinished, timeout=10_000) as finished:
        panel.start()
    assert finished.args[0].status == "error"
    assert shown and "/nowhere: folder not found" in shown[0][1]
    assert not panel.controller.document.locked and panel.start_button.isEnabled()


def test_a_nan_loss_reaches_the_user_as_a_message_and_unlocks_editing(qtbot, panel, monkeypatch):
    import keras

    from convstudio.core import training

    def nan_loss(y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")

    monkeypatch.setattr(training, "compile_model", lambda model, s, speed=None: model.compile(
        optimizer="sgd", loss=nan_loss, metrics=["accuracy"]))
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, text: shown.append((title, text)))
    with qtbot.waitSignal(panel.controller.runFinished, timeout=30_000) as finished:
        panel.start()
    assert finished.args[0].status == "nan"
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert "learning rate" in shown[0][1].lower()
    assert not panel.controller.document.locked and panel.start_button.isEnabled()


def test_choosing_a_data_folder_updates_the_source_shown(qtbot, panel, tiny_data, tmp_path, monkeypatch):
    monkeypatch.delenv("CONVSTUDIO_DATA_DIR")
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "mnist.npz").write_bytes((tiny_data / "mnist.npz").read_bytes())
    monkeypatch.setattr("convstudio.ui.training_panel.QFileDialog.getExistingDirectory",
                        lambda *a, **k: str(chosen))
    short: list[str] = []
    panel.sourceChanged.connect(short.append)
    qtbot.mouseClick(panel.data_dir_button, Qt.MouseButton.LeftButton)
    assert app_settings.data_dir() == str(chosen)
    qtbot.waitUntil(lambda: str(chosen) in panel.source_label.text(), timeout=10_000)
    assert short and "MNIST" in short[-1] and str(chosen) in short[-1]


def test_settings_round_trip_through_the_panel_keeps_hidden_fields(qtbot, tiny_data, tmp_path):
    from convstudio.core.settings import EarlyStopping, ReduceLROnPlateau

    controller = TrainingController(EditorDocument(_tiny_network()), checkpoint_dir=str(tmp_path / "ck"))
    widget = TrainingPanel(controller)
    qtbot.addWidget(widget)
    original = TrainSettings(optimizer="sgd", learning_rate=0.05, momentum=0.8, nesterov=True, batch_size=32,
                             epochs=7, validation_split=0.2, seed=7,
                             early_stopping=EarlyStopping(True, 4, "val_accuracy", False),
                             reduce_lr_on_plateau=ReduceLROnPlateau(True, 0.3, 1), probe_interval_s=2.0)
    widget.set_settings(original)
    assert widget.settings() == original
    assert widget.momentum_spin.isEnabled() and widget.nesterov_check.isEnabled()
    widget.optimizer_combo.setCurrentIndex(widget.optimizer_combo.findData("adam"))
    assert not widget.momentum_spin.isEnabled() and not widget.nesterov_check.isEnabled()
    widget.epochs_spin.setValue(9)
    changed = widget.settings()
    assert changed.optimizer == "adam" and changed.epochs == 9
    assert changed.early_stopping.monitor == "val_accuracy" and changed.reduce_lr_on_plateau.factor == 0.3


def test_progress_texts_do_not_resize_the_curves(qtbot, panel):
    """Each resize of the curves is a full Matplotlib redraw: the texts that change at the start and
    end of a run keep their room."""
    panel.resize(420, 700)
    plots = panel.plots
    qtbot.waitUntil(lambda: "Looking" not in panel.source_label.text(), timeout=10_000)  # found the data
    qtbot.waitUntil(lambda: plots.width() > 0 and plots.height() > 0, timeout=2000)
    qtbot.wait(50)
    size = plots.size()
    panel.eta_label.setText("Training on CPU (1 thread): 54,000 images, 6,000 for validation, "
                            "and a long tail of words that would not fit in the panel")
    panel.result_label.setText("Training finished after 3 epochs.\nTest accuracy: 97.12%")
    qtbot.wait(50)
    assert plots.size() == size
    panel.eta_label.setText("")
    panel.result_label.setText("")
    qtbot.wait(50)
    assert plots.size() == size


def test_a_model_from_disk_can_be_trained_more_with_its_history(qtbot, panel):
    import keras

    from convstudio.core.builder import build_model

    controller = panel.controller
    keras.utils.set_random_seed(1)
    model = build_model(controller.document.network)
    history = {"loss": [0.9, 0.6], "accuracy": [0.7, 0.8]}
    controller.adopt_model(model, history, "mnist")
    panel.show_history(history)
    assert panel.more_button.isEnabled() and panel.plots.train_x == [1.0, 2.0]
    panel.more_spin.setValue(1)
    started: list = []
    controller.runStarted.connect(started.append)
    with qtbot.waitSignal(controller.runFinished, timeout=60_000) as more:
        qtbot.mouseClick(panel.more_button, Qt.MouseButton.LeftButton)
    assert more.args[0].status == "completed", more.args[0].message
    assert started[0].initial_epoch == 2 and more.args[0].epochs_done == 3
    assert more.args[0].history["loss"][:2] == [0.9, 0.6]


def test_the_status_line_does_not_name_the_kind_of_source_twice(qtbot, panel):
    short: list[str] = []
    panel.sourceChanged.connect(short.append)
    panel.set_dataset_name("image_folder")
    panel._emit_source("image folder /photos: 144 training and 36 test images", False)
    assert short[-1] == "Image folder /photos: 144 training and 36 test images"
