"""The learning-rate range test as the GUI runs it: on a fresh model of a network, with the chosen
optimizer and batch size, stoppable after any batch, refusing empty data and invalid networks in words."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST

from convstudio.core.builder import BuildError
from convstudio.core.datasets import Dataset
from convstudio.core.health.lr_range import find_learning_rate
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings

CLASSES = [str(i) for i in range(10)]
NET = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


@pytest.fixture(scope="module")
def sample() -> Dataset:
    with np.load(BUNDLED_MNIST) as d:
        return Dataset("mnist", d["x_train"][:128], d["y_train"][:128], d["x_test"][:8], d["y_test"][:8], CLASSES)


def test_the_sweep_reports_each_batch_and_stops_when_asked(sample):
    seen = []

    def step(index: int, rate: float, loss: float) -> bool:
        seen.append((index, rate, loss))
        return index < 2  # stop after the third batch

    result = find_learning_rate(NET, sample, TrainSettings(optimizer="rmsprop", momentum=0.5, batch_size=16),
                                steps=30, step=step)
    assert [i for i, _, _ in seen] == [0, 1, 2]
    assert result.learning_rates == [r for _, r, _ in seen] and result.losses == [v for _, _, v in seen]
    assert result.learning_rates[0] == pytest.approx(1e-6) and result.suggested <= result.learning_rates[-1]


def test_no_images_or_an_invalid_network_is_refused_in_words(sample):
    empty = Dataset("mnist", sample.x_train[:0], sample.y_train[:0], sample.x_test, sample.y_test, CLASSES)
    with pytest.raises(ValueError, match="MNIST has no training images"):
        find_learning_rate(NET, empty, TrainSettings())
    broken = Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 28, "kernel_w": 28}), "MaxPool2D",
                            "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    with pytest.raises(BuildError, match="cannot be built"):
        find_learning_rate(broken, sample, TrainSettings())
