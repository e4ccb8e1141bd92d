"""The training panel's texts follow the run: paused, stopped mid-epoch, results on sample data,
a cleared result, and Start on a trained model asks first."""

from __future__ import annotations

import pytest

from convstudio.core.network import Network
from convstudio.core.training import stopped_message
from convstudio.core.training_events import BatchEnd, TrainFinished, TrainStarted
from convstudio.ui import settings as app_settings
from convstudio.ui import training_panel
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel


@pytest.fixture
def panel(qtbot, tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    widget = TrainingPanel(TrainingController(EditorDocument(net), checkpoint_dir=str(tmp_path / "ck")))
    qtbot.addWidget(widget)
    yield widget
    app_settings.use_storage_root(None)


def started(is_sample: bool = False) -> TrainStarted:
    return TrainStarted("CPU", 3, 0, 10, 900, 100, "sample" if is_sample else "full", is_sample, 1000)


def batch(step: int, seconds: float) -> BatchEnd:
    return BatchEnd(0, step, 10, 0.5, 0.8, seconds)


def test_pause_stops_the_countdown_and_says_paused(panel):
    c = panel.controller
    c.runStarted.emit(started())
    c.batchEnded.emit(batch(2, 4.0))
    assert "left" in panel.eta_label.text()
    c.pausedChanged.emit(True)
    assert panel.eta_label.text() == "Paused"
    c.batchEnded.emit(batch(3, 6.0))  # reported just before the pause took hold
    assert panel.eta_label.text() == "Paused"
    c.pausedChanged.emit(False)
    c.batchEnded.emit(batch(4, 8.0))
    assert "left" in panel.eta_label.text()


def test_a_stop_mid_epoch_reads_right_once(panel):
    panel.controller.runStarted.emit(started())
    panel._on_finished(TrainFinished("stopped", stopped_message(0), 0, {}))
    text = panel.result_label.text()
    assert text == "Training stopped during the first epoch; the weights trained so far are kept."
    assert "0 epoch" not in text


def test_a_test_accuracy_on_the_bundled_sample_says_so(panel):
    panel.controller.runStarted.emit(started(is_sample=True))
    panel._on_finished(TrainFinished("completed", "Finished 3 epochs.", 3, {}, 0.4, 0.847))
    assert "Test accuracy: 84.70% (bundled sample, 1,000 images)" in panel.result_label.text()
    panel.controller.runStarted.emit(started(is_sample=False))
    panel._on_finished(TrainFinished("completed", "Finished 3 epochs.", 3, {}, 0.4, 0.9902))
    assert "Test accuracy: 99.02%" in panel.result_label.text()
    assert "sample" not in panel.result_label.text()


def test_clear_results_forgets_the_previous_run(panel):
    c = panel.controller
    c.runStarted.emit(started())
    c.batchEnded.emit(batch(2, 4.0))
    panel._on_finished(TrainFinished("completed", "Finished 3 epochs.", 3, {}, 0.1, 0.99))
    assert panel.result_label.text() and panel.plots.train_x
    panel.clear_results()
    assert panel.result_label.text() == "" and panel.eta_label.text() == ""
    assert not panel.plots.train_x and not panel.plots.val_x
    assert panel.epoch_bar.format() == "Epoch: not started"


def test_a_saved_history_is_drawn_again(panel):
    history = {"loss": [0.9, 0.5], "accuracy": [0.7, 0.85], "val_loss": [0.6, 0.4], "val_accuracy": [0.8, 0.88]}
    panel.show_history(history)
    assert panel.plots.train_x == [1.0, 2.0] and panel.plots.train_loss == [0.9, 0.5]
    assert panel.plots.val_x == [1.0, 2.0] and panel.plots.val_acc == [0.8, 0.88]
    assert "2 epochs" in panel.result_label.text()
    panel.show_history({})
    assert not panel.plots.train_x and panel.result_label.text() == ""


@pytest.mark.parametrize("choice,expected", [("cancel", None), ("keep", 2), ("restart", None)])
def test_start_on_a_trained_model_asks_first(panel, monkeypatch, choice, expected):
    asked: list[str] = []
    monkeypatch.setattr(training_panel, "ask_keep_or_start_over", lambda _p: asked.append("asked") or choice)
    calls: list = []
    monkeypatch.setattr(panel, "_start", lambda more: calls.append(more) or True)
    panel.epochs_spin.setValue(2)
    panel.start()
    assert asked == [] and calls == [None]  # nothing to continue: no question
    calls.clear()
    monkeypatch.setattr(TrainingController, "checkpoint", property(lambda _self: "/somewhere"))
    panel.start()
    assert asked == ["asked"]
    assert calls == ([] if choice == "cancel" else [expected])


def test_a_result_on_other_data_than_the_chosen_says_so(panel):
    from convstudio.core.settings import TrainSettings
    from convstudio.ui.training_controller import RunRequest

    panel.controller.last_request = RunRequest("mnist", TrainSettings())
    panel.controller.runStarted.emit(started())
    panel._on_finished(TrainFinished("completed", "Finished 3 epochs.", 3, {}, 0.4, 0.9902))
    assert "Stale" not in panel.result_label.text()
    panel.set_dataset_name("fashion_mnist")
    assert panel.result_label.text().endswith(
        "Stale: The model was trained on MNIST; train again for Fashion-MNIST.")
    panel.set_dataset_name("mnist")
    assert "Stale" not in panel.result_label.text() and "99.02%" in panel.result_label.text()
