"""Checkpoints are one atomic unit, resuming is exact, and a full disk loses no finished epoch.

A tiny network (with Dropout, so random-generator state matters) on 256 real MNIST images.
"""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
from datafiles import MNIST, mnist_slice  # noqa: E402

from convstudio.core import checkpoint
from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.training import Trainer, read_checkpoint_state
from convstudio.core.training_events import EventChannel, TrainWarning

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small() -> Dataset:
    """256 training and 64 test images of real MNIST."""
    return mnist_slice()


def net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 3}), "MaxPool2D",
                          "Flatten", ("Dropout", {"rate": 0.3}), ("Dense", {"units": 10, "activation": "softmax"})])


def settings(**kw) -> TrainSettings:
    base = dict(epochs=1, batch_size=32, validation_split=0.125, batch_event_interval_s=0.0, seed=7)
    base.update(kw)
    return TrainSettings(**base)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_two_epochs_and_a_resumed_third_equal_three_uninterrupted(small, tmp_path):
    whole = Trainer(net(), small, settings(epochs=3), EventChannel())
    straight = whole.run()
    ck = tmp_path / "ck"
    Trainer(net(), small, settings(epochs=2), EventChannel(), ck).run()
    resumed_trainer = Trainer.resume_from(ck, net(), small, settings(epochs=1), EventChannel())
    resumed = resumed_trainer.run()
    assert resumed.epochs_done == 3
    for a, b in zip(whole.model.get_weights(), resumed_trainer.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)  # bit-identical on a CPU
    assert resumed.history["loss"] == pytest.approx(straight.history["loss"], rel=1e-6)
    assert resumed.test_accuracy == straight.test_accuracy


def test_a_kill_while_writing_a_checkpoint_leaves_the_previous_one_whole(small, tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    first = Trainer(net(), small, settings(epochs=1), EventChannel(), ck)
    first.run()
    weights_after_1 = first.model.get_weights()

    def killed(model):  # the model is written, then the process dies before the state
        raise SystemExit("killed")

    monkeypatch.setattr(checkpoint, "random_state", killed)
    with pytest.raises(SystemExit):
        Trainer.resume_from(ck, net(), small, settings(epochs=1), EventChannel()).run()
    monkeypatch.undo()
    # what a kill -9 at that moment leaves on disk: a half-written epoch folder under a temporary name
    leftover = ck / ".epoch-0002.abcd1234.tmp"
    leftover.mkdir()
    (leftover / "model.keras").write_bytes(b"half")
    assert read_checkpoint_state(ck)["epoch"] == 1
    trainer = Trainer.resume_from(ck, net(), small, settings(epochs=1), EventChannel())
    assert not leftover.exists()  # our temporaries are cleaned up when training starts again
    for a, b in zip(weights_after_1, trainer.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert trainer.initial_epoch == 1


def test_a_full_disk_keeps_the_last_good_checkpoint_and_says_where(small, tmp_path, monkeypatch):
    import keras

    ck = tmp_path / "ck"
    real_save = keras.Model.save
    calls = []

    def save_once(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:
            disk_full()
        return real_save(self, path, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", save_once)
    channel = EventChannel()
    finished = Trainer(net(), small, settings(epochs=3), channel, ck).run()
    assert finished.status == "completed" and finished.epochs_done == 3  # training went on
    assert len(finished.warnings) == 2
    assert f"checkpoint of epoch 2 to {ck}: No space left on device" in finished.warnings[0]
    assert "the checkpoint of epoch 1 is kept" in finished.warnings[0]
    assert [e.message for e in channel.drain() if isinstance(e, TrainWarning)] == list(finished.warnings)
    assert read_checkpoint_state(ck)["epoch"] == 1
    assert sorted(p.name for p in ck.iterdir()) == ["epoch-0001", "latest.json"]  # no half-written folder


def test_cli_full_disk_keeps_the_earlier_model_and_ends_with_a_message(tmp_path, monkeypatch, capsys):
    import keras

    from convstudio.cli import EXIT_ERROR, EXIT_OK, main
    from convstudio.core import atomic
    from convstudio.core.project import Project, save_project

    data = tmp_path / "data"
    data.mkdir()
    with np.load(MNIST) as d:
        np.savez(data / "mnist.npz", x_train=d["x_train"][:256], y_train=d["y_train"][:256],
                 x_test=d["x_test"][:64], y_test=d["y_test"][:64])
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(data))
    project = save_project(Project(net(), settings(epochs=1, batch_event_interval_s=0.1), "mnist"),
                           tmp_path / "tiny.json")
    run = tmp_path / "tiny.run"
    assert main(["train", str(project)]) == EXIT_OK
    model_bytes, history = (run / "model.keras").read_bytes(), (run / "history.json").read_text()
    (run / ".model.keras.zzzz9999.tmp.keras").write_bytes(b"left by a killed save")
    capsys.readouterr()

    monkeypatch.setattr(keras.Model, "save", disk_full)
    monkeypatch.setattr(atomic, "atomic_write_bytes", disk_full)
    code = main(["train", str(project)])
    out, err = capsys.readouterr()
    assert code == EXIT_ERROR and "Traceback" not in out + err
    assert f"could not write the trained model to {run / 'model.keras'}: No space left on device" in err
    assert "the previous model.keras is unchanged" in err
    assert f"could not write the history to {run / 'history.json'}" in err
    assert "warning: Could not write the checkpoint of epoch 1" in out
    assert (run / "model.keras").read_bytes() == model_bytes and (run / "history.json").read_text() == history
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # the stale temporary is gone
    assert json.loads(history)["status"] == "completed"
