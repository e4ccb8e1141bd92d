"""A run that diverges or stays at chance level is reported as such, with advice, not as a success."""

from __future__ import annotations

import math

import numpy as np
import pytest
from datafiles import mnist_slice  # noqa: E402

from convstudio.core.datasets import Dataset
from convstudio.core.diagnosis import DIVERGED, NOT_LEARNING, diagnose
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel

GUESS = math.log(10)


def test_a_healthy_history_has_no_diagnosis():
    history = {"loss": [2.1, 1.2, 0.6], "accuracy": [0.4, 0.7, 0.85], "val_accuracy": [0.5, 0.75, 0.86]}
    assert diagnose(history, 10, 1e-3, steps=1000) is None


def test_a_loss_stuck_at_a_uniform_guess_with_chance_accuracy_is_not_learning():
    history = {"loss": [2.35, 2.303, 2.302], "accuracy": [0.098, 0.101, 0.099], "val_accuracy": [0.1, 0.1, 0.1]}
    found = diagnose(history, 10, 10.0, steps=2500)
    assert found.kind == NOT_LEARNING
    assert "did not learn" in found.message and "10%" in found.message and "1 instead of 10" in found.message


def test_chance_accuracy_after_a_few_batches_is_too_early_to_judge():
    history = {"loss": [2.41], "accuracy": [0.08], "val_accuracy": [0.0]}
    assert diagnose(history, 10, 1e-3, steps=6) is None


@pytest.mark.parametrize("loss, why", [([2.2, 2.9, 4.1], "rose from 2.2 to 4.1"),
                                       ([447.8, 11.2], "exploded to 447.8")])
def test_a_rising_or_exploding_loss_is_divergence(loss, why):
    found = diagnose({"loss": loss, "accuracy": [0.3] * len(loss)}, 10, 0.5, steps=10)
    assert found.kind == DIVERGED and why in found.message and "0.05 instead of 0.5" in found.message


@pytest.fixture(scope="module")
def small() -> Dataset:
    """256 training and 64 test images of real MNIST."""
    return mnist_slice()


def tiny_net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 3}), "MaxPool2D",
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


@pytest.mark.slow
def test_learning_rate_10_is_reported_as_diverged_by_the_trainer(small):
    settings = TrainSettings(epochs=2, batch_size=32, validation_split=0.125, learning_rate=10.0, seed=7)
    finished = Trainer(tiny_net(), small, settings, EventChannel()).run()
    assert finished.status == "completed" and finished.diagnosis == DIVERGED and not finished.learned
    assert "Training diverged" in finished.message and "Lower the learning rate, e.g. 1 instead of 10" in finished.message
    healthy = Trainer(tiny_net(), small, TrainSettings(epochs=2, batch_size=32, validation_split=0.125, seed=7),
                      EventChannel()).run()
    assert healthy.diagnosis == "" and healthy.learned


@pytest.mark.slow
def test_the_cli_prints_the_diagnosis_and_exits_non_zero(small, tmp_path, monkeypatch, capsys):
    from convstudio.cli import EXIT_INVALID, main
    from convstudio.core.project import Project, save_project

    data = tmp_path / "data"
    data.mkdir()
    np.savez(data / "mnist.npz", x_train=small.x_train, y_train=small.y_train, x_test=small.x_test,
             y_test=small.y_test)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(data))
    settings = TrainSettings(epochs=2, batch_size=32, validation_split=0.125, learning_rate=10.0, seed=7)
    project = save_project(Project(tiny_net(), settings, "mnist"), tmp_path / "steep.json")
    assert main(["train", str(project)]) == EXIT_INVALID
    out, err = capsys.readouterr()
    assert "Training diverged" in out and "Lower the learning rate" in out
    assert "training did not learn (diverged)" in err and "Traceback" not in out + err
