"""Run folders for tests, written by the real :class:`RunRecorder` without training (no TensorFlow).

The recorder is attached to a stand-in trainer (the network, a few blank images, the settings) and fed
the events a run publishes, so the folder is exactly what a run of that many epochs would leave.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.runs import RunRecorder
from convstudio.core.settings import TrainSettings
from convstudio.core.training_events import EpochEnd, EventChannel, TrainFinished, TrainStarted


def small_net(filters: int = 4) -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": filters, "kernel_h": 3, "kernel_w": 3}), "MaxPool2D",
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


def record_run(root: Path, network: Network | None = None, *, settings: TrainSettings | None = None,
               losses: tuple[float, ...] = (2.0, 1.5), val_accuracies: tuple[float, ...] | None = None,
               test_accuracy: float | None = 0.6, status: str = "completed", title: str = "digits",
               dataset: str = "mnist", data_source: tuple[str | None, str | None, str] | None = None) -> Path:
    """Record a run of ``len(losses)`` epochs into ``root``; returns its folder.

    Validation accuracy per epoch is ``val_accuracies`` (default: 0.5, 0.6, ...; ``()`` for no validation).
    """
    network = network or small_net()
    settings = settings or TrainSettings(epochs=len(losses))
    blank = np.zeros((4, 28, 28), np.uint8)
    data = Dataset(dataset, blank, np.zeros(4, np.int64), blank, np.zeros(4, np.int64), [str(i) for i in range(10)],
                   source="blank images", is_sample=True)
    trainer = SimpleNamespace(network=network, dataset=data, settings=settings, checkpoint_dir=None, model=None)
    recorder = RunRecorder(root, title=title, health=False, tensorboard=False, data_source=data_source)
    channel = recorder.attach(trainer, EventChannel())
    channel.put(TrainStarted("CPU", len(losses), 0, 10, 4, 1))
    if val_accuracies is None:
        val_accuracies = tuple(0.5 + epoch / 10 for epoch in range(len(losses)))
    for epoch, loss in enumerate(losses):
        metrics = {"loss": loss, "accuracy": 1.0 - loss / 2.5}
        if val_accuracies:
            metrics.update(val_loss=loss + 0.1, val_accuracy=val_accuracies[epoch])
        channel.put(EpochEnd(epoch, len(losses), metrics, 0.5))
        recorder.save()
    history = {"loss": list(losses)}
    channel.put(TrainFinished(status, "", len(losses), history, test_loss=1.0, test_accuracy=test_accuracy))
    assert recorder.folder is not None
    return recorder.folder
