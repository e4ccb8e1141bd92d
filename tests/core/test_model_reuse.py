"""A fresh run of an unchanged network re-uses the last run's traced model and trains exactly as a new one."""

from __future__ import annotations

import numpy as np
from datafiles import mnist_slice

from convstudio.core.model_reuse import ModelReuse
from convstudio.core.network import Network
from convstudio.core.settings import ReduceLROnPlateau, TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel


def net(filters: int = 4) -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": filters}), "MaxPool2D", "Flatten", ("Dropout", {"rate": 0.3}),
                          ("Dense", {"units": 10, "activation": "softmax"})])


SETTINGS = TrainSettings(epochs=2, batch_size=32, validation_split=0.25, seed=7,
                         reduce_lr_on_plateau=ReduceLROnPlateau(enabled=True, factor=0.5, patience=0))


def train(network: Network, settings: TrainSettings, reuse: ModelReuse | None, data) -> Trainer:
    trainer = Trainer(network, data, settings, EventChannel(), reuse=reuse)
    finished = trainer.run()
    assert finished.status == "completed", finished.message
    return trainer


def state(trainer: Trainer) -> list[np.ndarray]:
    model = trainer.model
    return [v.numpy() for v in model.variables] + [v.numpy() for v in model.optimizer.variables]


def assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_a_fresh_run_of_the_same_network_reuses_the_traced_model_and_trains_exactly_as_a_new_one():
    data = mnist_slice(192, 32)
    reuse = ModelReuse()
    first = train(net(), SETTINGS, reuse, data)
    kept = reuse.kept
    assert kept is not None and kept is not first.model  # the run handed out a copy
    handed_out = state(first)
    trace = kept.train_function
    second = train(net(), SETTINGS, reuse, data)
    assert reuse.kept is kept and kept.train_function is trace  # trained again, not traced again
    assert second.model is not first.model and second.model is not kept
    anew = train(net(), SETTINGS, None, data)
    assert_same(state(second), state(anew))  # weights, Dropout's generator, optimizer state, learning rate
    assert_same(state(first), state(anew))
    assert_same(state(first), handed_out)  # the first run's model was left alone by the second run
    assert [layer.name for layer in second.model.layers] == [layer.name for layer in kept.layers]
    assert second.history == anew.history


def test_a_changed_network_or_compiled_step_is_built_anew():
    data = mnist_slice(96, 16)
    reuse = ModelReuse()
    one = SETTINGS.replace(epochs=1, reduce_lr_on_plateau=ReduceLROnPlateau())
    handed_out = train(net(), one, reuse, data).model
    kept = reuse.kept
    for network, settings in [(net(filters=5), one), (net(), one.replace(learning_rate=0.01)),
                              (net(), one.replace(optimizer="sgd")), (net(), one.replace(batch_size=16)),
                              (net(), one.replace(seed=8))]:
        train(network, settings, reuse, data)
        assert reuse.kept is not None and reuse.kept is not kept
        kept = reuse.kept
    continued = Trainer(net(), data, one, EventChannel(), model=handed_out, reuse=reuse)  # not a fresh run
    continued.run()
    assert continued.model is handed_out and reuse.kept is kept
