"""The trainer on a few hundred real MNIST images: events, throttling, control from another thread,
divergence, checkpoints and resume, repeatability, and the probe."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from datafiles import mnist_slice  # noqa: E402

from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.shapes import analyze
from convstudio.core.training import CheckpointError, Trainer, read_checkpoint_state
from convstudio.core.training_events import BatchEnd, EpochEnd, EventChannel, ProbeUpdate, TrainFinished, TrainStarted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small() -> Dataset:
    """256 training and 64 test images of real MNIST."""
    return mnist_slice()


def tiny_net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 3}), "MaxPool2D",
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


def settings(**kw) -> TrainSettings:
    base = dict(epochs=1, batch_size=32, validation_split=0.125, batch_event_interval_s=0.0, seed=7)
    base.update(kw)
    return TrainSettings(**base)


def start_in_thread(trainer: Trainer) -> tuple[threading.Thread, list[TrainFinished]]:
    result: list[TrainFinished] = []
    thread = threading.Thread(target=lambda: result.append(trainer.run()), daemon=True)
    thread.start()
    return thread, result


def wait_for(channel: EventChannel, kind: type, timeout: float = 30.0) -> list:
    """Drain until an event of ``kind`` arrives; returns everything drained."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += channel.drain()
        if any(isinstance(e, kind) for e in seen):
            return seen
        time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} within {timeout} s")


def test_events_arrive_in_order(small):
    channel = EventChannel()
    finished = Trainer(tiny_net(), small, settings(epochs=2), channel).run()
    events = [e for e in channel.drain() if not isinstance(e, ProbeUpdate)]
    assert finished.status == "completed", finished.message
    assert isinstance(events[0], TrainStarted) and events[-1] == finished
    started = events[0]
    assert (started.train_samples, started.val_samples, started.epochs) == (224, 32, 2)
    assert started.steps_per_epoch == 7 and started.device
    kinds = [type(e).__name__ for e in events[1:-1]]
    assert kinds == (["BatchEnd"] * 7 + ["EpochEnd"]) * 2
    for epoch in (0, 1):
        batches = [e for e in events if isinstance(e, BatchEnd) and e.epoch == epoch]
        assert [b.step for b in batches] == list(range(1, 8)) and batches[0].steps == 7
    ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in ends] == [0, 1]
    assert set(ends[0].metrics) >= {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert finished.history["loss"] == [e.metrics["loss"] for e in ends]
    assert finished.epochs_done == 2 and 0.0 <= finished.test_accuracy <= 1.0


def test_batch_events_are_throttled(small):
    channel = EventChannel()
    Trainer(tiny_net(), small, settings(epochs=2, batch_event_interval_s=60.0), channel).run()
    batches = [e for e in channel.drain() if isinstance(e, BatchEnd)]
    assert len(batches) == 1  # 14 batches, but only the first falls outside the 60 s interval


def test_stop_from_another_thread_keeps_weights(small):
    import keras

    channel = EventChannel()
    trainer = Trainer(tiny_net(), small, settings(epochs=500, batch_size=8), channel)
    thread, result = start_in_thread(trainer)
    wait_for(channel, BatchEnd)
    asked = time.monotonic()
    trainer.stop()
    thread.join(15)
    assert not thread.is_alive() and time.monotonic() - asked < 5
    finished = result[0]
    assert finished.status == "stopped" and finished.epochs_done < 500
    keras.utils.set_random_seed(7)
    from convstudio.core.builder import build_model

    fresh = build_model(tiny_net())
    trained = trainer.model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(trained, fresh.get_weights()))
    assert all(np.isfinite(w).all() for w in trained)


def test_a_stop_in_the_first_epoch_says_so_and_leaves_a_checkpoint_to_continue(small, tmp_path):
    channel = EventChannel()
    trainer = Trainer(tiny_net(), small, settings(epochs=500, batch_size=8), channel, tmp_path / "run")
    thread, result = start_in_thread(trainer)
    wait_for(channel, BatchEnd)
    trainer.stop()
    thread.join(15)
    finished = result[0]
    assert finished.status == "stopped" and finished.epochs_done == 0
    assert finished.message.startswith("Stopped during the first epoch; the weights trained so far are kept.")
    assert finished.checkpoint == str(tmp_path / "run")
    assert read_checkpoint_state(tmp_path / "run")["epoch"] == 0
    more = Trainer.resume_from(tmp_path / "run", tiny_net(), small, settings(epochs=1), EventChannel()).run()
    assert more.status == "completed" and more.epochs_done == 1


def test_stopped_message_counts_epochs():
    from convstudio.core.training import stopped_message

    assert stopped_message(1) == "Stopped after 1 epoch; the weights trained so far are kept."
    assert stopped_message(3).startswith("Stopped after 3 epochs;")


def test_pause_and_resume_from_another_thread(small):
    channel = EventChannel()
    trainer = Trainer(tiny_net(), small, settings(epochs=3, batch_size=16), channel)
    began = time.monotonic()
    thread, result = start_in_thread(trainer)
    wait_for(channel, BatchEnd)
    trainer.pause()
    time.sleep(0.3)
    channel.drain()  # a batch that was running when pause was asked may still report
    time.sleep(1.0)
    held = channel.drain()
    assert held == [] and thread.is_alive() and trainer.paused
    trainer.resume()
    thread.join(30)
    wall = time.monotonic() - began
    assert result[0].status == "completed" and result[0].epochs_done == 3
    events = channel.drain()
    last = [e for e in events if isinstance(e, BatchEnd)][-1]
    assert last.seconds < wall - 1.0  # the time spent paused is not counted
    assert sum(e.seconds for e in events if isinstance(e, EpochEnd)) < wall - 1.0


def test_nan_loss_stops_with_advice(small, monkeypatch, tmp_path):
    import keras

    from convstudio.core import training

    def nan_loss(y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")

    monkeypatch.setattr(training, "compile_model",
                        lambda model, s: model.compile(optimizer="sgd", loss=nan_loss, metrics=["accuracy"]))
    channel = EventChannel()
    finished = Trainer(tiny_net(), small, settings(epochs=3), channel, tmp_path / "ck").run()
    assert finished.status == "nan"
    assert "learning rate" in finished.message and finished.epochs_done == 0
    assert not (tmp_path / "ck" / "latest.json").exists()
    assert not any(isinstance(e, EpochEnd) for e in channel.drain())


def test_checkpoint_and_resume_continue_epochs_and_history(small, tmp_path):
    ck = tmp_path / "ck"
    first = Trainer(tiny_net(), small, settings(epochs=1), EventChannel(), ck).run()
    state = read_checkpoint_state(ck)
    assert state["epoch"] == 1 and state["history"]["loss"] == first.history["loss"]
    channel = EventChannel()
    trainer = Trainer.resume_from(ck, tiny_net(), small, settings(epochs=2), channel)
    assert int(trainer.model.optimizer.iterations.numpy()) == 7  # optimizer state came back
    second = trainer.run()
    events = channel.drain()
    started = next(e for e in events if isinstance(e, TrainStarted))
    assert (started.initial_epoch, started.epochs) == (1, 3)
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1, 2]
    assert second.epochs_done == 3 and len(second.history["loss"]) == 3
    assert second.history["loss"][0] == first.history["loss"][0]
    assert read_checkpoint_state(ck)["epoch"] == 3


def test_resume_with_a_new_learning_rate_uses_it_and_keeps_optimizer_state(small, tmp_path):
    ck = tmp_path / "ck"
    Trainer(tiny_net(), small, settings(epochs=1), EventChannel(), ck).run()
    trainer = Trainer.resume_from(ck, tiny_net(), small, settings(epochs=1, learning_rate=2.5e-4), EventChannel())
    assert int(trainer.model.optimizer.iterations.numpy()) == 7
    finished = trainer.run()
    assert finished.history["learning_rate"] == pytest.approx([1e-3, 2.5e-4])


def test_early_stopping_reports_its_status(small):
    from convstudio.core.settings import EarlyStopping

    frozen = settings(epochs=5, learning_rate=1e-9, early_stopping=EarlyStopping(True, 0, "val_accuracy"))
    finished = Trainer(tiny_net(), small, frozen, EventChannel()).run()
    assert finished.status == "early_stopped" and finished.epochs_done == 2  # accuracy cannot move at lr 1e-9
    assert "val_accuracy stopped improving" in finished.message and finished.test_accuracy is not None


def test_resume_without_checkpoint_says_so(small, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Trainer.resume_from(tmp_path, tiny_net(), small, settings(), EventChannel())
    (tmp_path / "model.keras").write_bytes(b"x")
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot be read"):
        Trainer.resume_from(tmp_path, tiny_net(), small, settings(), EventChannel())


def test_same_seed_same_weights(small):
    def weights(seed: int) -> list[np.ndarray]:
        trainer = Trainer(tiny_net(), small, settings(seed=seed), EventChannel())
        trainer.run()
        return trainer.model.get_weights()

    a, b, c = weights(3), weights(3), weights(4)
    assert all(np.allclose(x, y, rtol=1e-5, atol=1e-6) for x, y in zip(a, b))
    assert any(not np.allclose(x, y) for x, y in zip(a, c))


def test_probe_activations_match_the_analysis(small):
    net = Network.chain([
        "Input", ("Conv2D", {"filters": 3, "kernel_h": 3, "kernel_w": 3, "padding": "full"}),
        ("MaxPool2D", {}), ("Conv2D", {"filters": 5, "kernel_h": 2, "kernel_w": 3, "stride_h": 2}),
        "BatchNorm", "Flatten", ("Dropout", {"rate": 0.2}), ("Dense", {"units": 10, "activation": "relu"}),
    ])  # ends without softmax: the builder adds one
    channel = EventChannel()
    trainer = Trainer(net, small, settings(probe_interval_s=0.0), channel)
    trainer.set_probe(small.x_test[5])
    assert trainer.run().status == "completed"
    probe = [e for e in channel.drain() if isinstance(e, ProbeUpdate)][-1]
    analysis = analyze(net)
    assert set(probe.activations) == set(net.blocks)
    for bid, act in probe.activations.items():
        assert act.shape == analysis.shape(bid), bid
    assert probe.kernels["conv2d_1"].shape == (3, 3, 1, 3) and probe.kernels["conv2d_2"].shape == (2, 3, 3, 5)
    assert probe.probabilities.shape == (10,) and probe.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(probe.activations["input_1"][..., 0], small.x_test[5] / 255.0, atol=1e-6)
    with pytest.raises(ValueError, match="28x28"):
        trainer.set_probe(np.zeros((10, 10), np.uint8))


def test_invalid_network_finishes_with_an_error_event(small):
    net = Network.chain(["Input", ("Conv2D", {"filters": 4})])  # output is not 10 classes
    channel = EventChannel()
    finished = Trainer(net, small, settings(), channel).run()
    assert finished.status == "error" and "cannot be built" in finished.message
    assert channel.drain()[-1] == finished


def test_out_of_memory_becomes_an_error_event_with_advice(small, monkeypatch):
    from convstudio.core import pipeline

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(pipeline, "make_datasets", no_memory)
    channel = EventChannel()
    finished = Trainer(tiny_net(), small, settings(batch_size=512), channel).run()
    assert finished.status == "error"
    assert "Out of memory" in finished.message and "smaller batch size (e.g. 256)" in finished.message
    assert channel.drain()[-1] == finished


def test_checkpoint_is_an_epoch_folder_with_a_pointer(small, tmp_path):
    Trainer(tiny_net(), small, settings(epochs=2), EventChannel(), tmp_path).run()
    assert json.loads((tmp_path / "latest.json").read_text())["folder"] == "epoch-0002"
    state = json.loads((tmp_path / "epoch-0002" / "state.json").read_text())
    assert state["format"] == "convstudio-checkpoint" and state["epoch"] == 2
    assert (tmp_path / "epoch-0002" / "model.keras").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0002", "latest.json"]  # epoch 1 replaced, no temps
