"""A tiny network trained on coloured shapes classified by colour learns colour-selective first-layer
filters, and the Filters view's analysis (`colour_filters`) names the colour they prefer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.data.synthetic import COLOURS, colour_shapes_dataset
from convstudio.core.explorer.from_block import weights_from_model
from convstudio.core.inspection import colour_filters
from convstudio.core.inspection.colour_filters import PREFERENCE_MARGIN
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel

pytestmark = pytest.mark.slow

SIZE = 32


@pytest.fixture(scope="module")
def trained():
    """Six 5x5 RGB filters, global max pooling and a softmax, two epochs on 1,200 generated images."""
    dataset = colour_shapes_dataset(n_train=1200, n_test=300, by="colour", seed=3, size=SIZE)
    network = Network.chain([
        ("Input", {"height": SIZE, "width": SIZE, "channels": 3}),
        ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "activation": "relu"}),
        "GlobalMaxPool2D",
        ("Dense", {"units": len(COLOURS), "activation": "softmax"}),
    ])
    conv = next(b.id for b in network.blocks.values() if b.kind == "Conv2D")
    settings = TrainSettings(epochs=2, batch_size=32, learning_rate=1e-2, validation_split=0.0, seed=5,
                             batch_event_interval_s=0.0, probe_interval_s=60.0,
                             jit_compile="off", mixed_precision="off", distribution="off")
    keras.utils.set_random_seed(5)
    model = build_model(network, dataset.input_shape, dataset.num_classes)
    start, _ = weights_from_model(model, conv)
    trainer = Trainer(network, dataset, settings, EventChannel(), model=model)
    finished = trainer.run()
    assert finished.status == "completed", finished.message
    kernel, _ = weights_from_model(trainer.model, conv)
    return finished, dataset, start.copy(), kernel


def _colour_lead(kernel: np.ndarray) -> np.ndarray:
    """Per filter: how far its top channel's mean weight leads the next, over its mean |weight|."""
    means = np.sort(kernel.mean(axis=(0, 1)), axis=0)
    return (means[-1] - means[-2]) / np.abs(kernel).mean(axis=(0, 1, 2))


def test_test_accuracy_is_far_above_chance(trained):
    finished, dataset, _, _ = trained
    chance = 1.0 / dataset.num_classes
    assert dataset.num_classes == len(COLOURS) and dataset.input_shape == (SIZE, SIZE, 3)
    assert finished.test_accuracy is not None and finished.test_accuracy >= chance + 0.45, finished.message


def test_a_first_layer_filter_clearly_prefers_one_colour_channel(trained):
    _, _, start, kernel = trained
    assert kernel.shape == (5, 5, 3, 6)
    filters = colour_filters(kernel)
    selective = [f for f in filters if f.prefers is not None]
    assert selective, [f.means for f in filters]
    # learned, not left over from the random start: the clearest lead is several preference margins
    # wide and well beyond any the untrained filters had
    assert _colour_lead(kernel).max() >= 4 * PREFERENCE_MARGIN
    assert _colour_lead(kernel).max() >= 2 * _colour_lead(start).max()
    for f in selective:  # the named channel's mean weight really leads the other two
        means = np.array(f.means)
        top = ("red", "green", "blue").index(f.prefers)
        assert means[top] == means.max() and means[top] - np.sort(means)[-2] > 0
