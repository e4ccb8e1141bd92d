"""Training health: each warning is produced on purpose, with a tiny model, and says what to do."""

from __future__ import annotations

import math

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST

from convstudio.core.datasets import Dataset
from convstudio.core.health import HealthMonitor, HealthProbe, HealthWarning, gradient_warning, overfitting_onset
from convstudio.core.health.events import (
    DEAD_RELU,
    DIVERGING,
    EXPLODING,
    LR_TOO_HIGH,
    LR_TOO_LOW,
    NAN,
    NOT_LEARNING,
    OVERFITTING,
    VANISHING,
)
from convstudio.core.network import Network
from convstudio.core.runs import RunRecorder, load_run
from convstudio.core.settings import TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EpochEnd, EventChannel, TrainFinished, TrainStarted

CLASSES = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def sample() -> Dataset:
    with np.load(BUNDLED_MNIST) as d:
        return Dataset("mnist", d["x_train"][:256], d["y_train"][:256], d["x_test"][:32], d["y_test"][:32],
                       CLASSES, source="bundled sample slice", is_sample=True)


def dense_net(*hidden: tuple[int, str]) -> Network:
    layers = ["Input", "Flatten"] + [("Dense", {"units": u, "activation": a}) for u, a in hidden]
    return Network.chain(layers + [("Dense", {"units": 10, "activation": "softmax"})])


def train(net: Network, data: Dataset, tmp_path, **kw) -> tuple[TrainFinished, list, dict]:
    """Train with a recorder; returns how it ended, the published events and the run record."""
    base = dict(epochs=1, batch_size=32, validation_split=0.0, batch_event_interval_s=0.0, seed=3)
    base.update(kw)
    channel = EventChannel()
    trainer = Trainer(net, data, TrainSettings(**base), channel, recorder=RunRecorder(tmp_path / "runs", tensorboard=False))
    finished = trainer.run()
    return finished, channel.drain(), load_run(trainer.recorder.folder).record


def warnings_of(events: list) -> dict[str, HealthWarning]:
    return {e.kind: e for e in events if isinstance(e, HealthWarning)}


# --------------------------------------------------------------------------- from the trainer's events


@pytest.mark.slow
def test_a_nan_loss_is_warned_about_before_the_run_ends(sample, tmp_path):
    finished, events, record = train(dense_net((256, "linear"), (256, "linear")), sample, tmp_path, optimizer="sgd",
                                     learning_rate=10.0, momentum=0.9)
    assert finished.status == "nan"
    found = warnings_of(events)
    assert "NaN" in found[NAN].message and "Lower the learning rate" in found[NAN].advice
    assert events.index(found[NAN]) < events.index(finished)
    assert [w["kind"] for w in record["health"]] == [NAN] and record["status"] == "nan"


@pytest.mark.slow
def test_a_diverging_loss_is_warned_about_while_training(sample, tmp_path):
    finished, events, record = train(dense_net(), sample, tmp_path, epochs=2, optimizer="sgd", learning_rate=10.0)
    assert finished.diagnosis == "diverged"
    warning = warnings_of(events)[DIVERGING]
    first_epoch_end = next(e for e in events if isinstance(e, EpochEnd))
    assert warning.epoch == first_epoch_end.epoch  # noticed after the first epoch, not at the end
    assert "diverged" in warning.message and "learning rate" in warning.advice
    assert DIVERGING in [w["kind"] for w in record["health"]]


@pytest.mark.slow
def test_accuracy_stuck_at_chance_is_warned_about(sample, tmp_path):
    finished, events, _ = train(dense_net(), sample, tmp_path, batch_size=2, optimizer="sgd", learning_rate=1e-9)
    assert finished.diagnosis == "chance_level"
    warning = warnings_of(events)[NOT_LEARNING]
    assert "did not learn" in warning.message and "10%" in warning.message


@pytest.mark.slow
def test_overfitting_onset_is_found_with_its_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (96, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 96)  # random labels: the network can only memorise
    noise = Dataset("mnist", x, y, x[:8], y[:8], CLASSES, source="random noise")
    finished, events, record = train(dense_net((256, "relu")), noise, tmp_path, epochs=12, batch_size=32,
                                     validation_split=1 / 3, learning_rate=3e-3)
    warning = warnings_of(events)[OVERFITTING]
    val_loss, loss = finished.history["val_loss"], finished.history["loss"]
    best = int(np.argmin(val_loss[:warning.epoch + 1]))
    assert warning.epoch == best + 1 and val_loss[warning.epoch] > val_loss[best]
    assert loss[-1] < loss[best] and f"since epoch {warning.epoch + 1}" in warning.message
    assert OVERFITTING in [w["kind"] for w in record["health"]]


def test_overfitting_needs_the_validation_loss_to_keep_rising_while_training_loss_falls():
    assert overfitting_onset([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 1.0, 1.1]) == 2
    assert overfitting_onset([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 1.0, 0.95]) is None  # not rising every epoch
    assert overfitting_onset([1.0, 0.8, 0.9, 1.0], [1.0, 0.9, 1.0, 1.1]) is None  # training loss rose too
    assert overfitting_onset([1.0, 0.8, 0.6], [1.0, 0.9, 1.0]) is None  # one rise is noise


def test_each_kind_of_warning_is_given_once_per_run():
    monitor = HealthMonitor(10, 10.0)
    monitor.observe(TrainStarted("CPU", 5, 0, 100, 100, 0))
    first = monitor.observe(EpochEnd(0, 5, {"loss": 40.0, "accuracy": 0.1}, 1.0))
    again = monitor.observe(EpochEnd(1, 5, {"loss": 45.0, "accuracy": 0.1}, 1.0))
    assert [w.kind for w in first] == [DIVERGING] and again == []


# --------------------------------------------------------------------------- from the probes


def probe_batch(data: Dataset, n: int = 32):
    from convstudio.core.pipeline import normalize

    return normalize(data.x_train[:n]), data.y_train[:n].astype("int64")


def built(net: Network):
    from convstudio.core.builder import build_model

    return build_model(net, (28, 28, 1), 10)


def test_dead_relus_are_counted_per_block_and_warned_about(sample):
    from convstudio.core.health.probes import dead_relu_shares, relu_blocks

    net = dense_net((16, "relu"), (16, "relu"))
    model = built(net)
    kernel, bias = model.get_layer("dense_2").get_weights()
    model.get_layer("dense_2").set_weights([kernel, np.full_like(bias, -100.0)])  # every unit always off
    images, _ = probe_batch(sample)
    blocks = relu_blocks(net, model)
    assert blocks == ["dense_1", "dense_2"]
    shares = dead_relu_shares(model, blocks, images)
    assert shares["dense_2"] == 1.0 and shares["dense_1"] < 0.5
    [warning] = HealthMonitor(10, 1e-3).observe_probe(HealthProbe(3, {}, shares))
    assert warning.kind == DEAD_RELU and warning.blocks == ("dense_2",) and "100% of dense_2" in warning.message
    assert "BatchNorm" in warning.advice and warning.epoch == 3
    no_gradient = {"dense_1": 0.0, "dense_2": 0.0, "dense_3": 0.4}  # nothing flows back through dead units
    found = HealthMonitor(10, 1e-3).observe_probe(HealthProbe(0, no_gradient, {"dense_1": 0.2, "dense_2": 1.0}))
    assert [w.kind for w in found] == [DEAD_RELU, VANISHING]  # dense_1 is alive: its vanishing gradient is news
    found = HealthMonitor(10, 1e-3).observe_probe(HealthProbe(0, no_gradient, {"dense_1": 1.0, "dense_2": 1.0}))
    assert [w.kind for w in found] == [DEAD_RELU]  # the dead units explain the missing gradient


def _scaled(model, factors: dict[str, float]):
    for name, factor in factors.items():
        layer = model.get_layer(name)
        layer.set_weights([w * factor if w.ndim > 1 else w for w in layer.get_weights()])
    return model


def test_vanishing_gradients_are_warned_about(sample):
    from convstudio.core.health.probes import gradient_norms, weighted_blocks

    net = dense_net((16, "relu"), (16, "relu"))
    model = _scaled(built(net), {"dense_2": 1e-6})  # the signal back to dense_1 all but disappears
    images, labels = probe_batch(sample)
    blocks = weighted_blocks(net, model)
    assert blocks == ["dense_1", "dense_2", "dense_3"]
    norms = gradient_norms(model, blocks, images, labels)
    warning = gradient_warning(0, norms)
    assert warning.kind == VANISHING and warning.blocks == ("dense_1",) and "vanish" in warning.message
    healthy = gradient_norms(built(net), blocks, images, labels)
    assert gradient_warning(0, healthy) is None and all(v > 0 for v in healthy.values())


def test_exploding_gradients_are_warned_about(sample):
    from convstudio.core.health.probes import gradient_norms, weighted_blocks

    net = dense_net((16, "linear"), (16, "linear"))
    model = _scaled(built(net), {"dense_1": 100.0, "dense_2": 100.0, "dense_3": 100.0})
    images, labels = probe_batch(sample)
    norms = gradient_norms(model, weighted_blocks(net, model), images, labels)
    warning = gradient_warning(0, norms)
    assert warning.kind == EXPLODING and "dense_1" in warning.blocks and "explode" in warning.message


@pytest.mark.slow
def test_probes_run_each_epoch_and_are_published_and_recorded(sample, tmp_path):
    net = dense_net((16, "relu"))
    finished, events, record = train(net, sample, tmp_path, epochs=2, batch_size=64)
    probes = [e for e in events if isinstance(e, HealthProbe)]
    assert [p.epoch for p in probes] == [0, 1]
    assert list(probes[0].gradient_norms) == ["dense_1", "dense_2"] and set(probes[0].dead_relu) == {"dense_1"}
    run = load_run(tmp_path / "runs" / record["id"])
    assert run.metrics["probes"][1]["gradient_norms"] == pytest.approx(probes[1].gradient_norms)


# --------------------------------------------------------------------------- learning-rate range test


def test_the_learning_rate_range_test_finds_a_rate_and_leaves_the_model_alone(sample):
    from convstudio.core.health.lr_range import advise_learning_rate, lr_range_test

    model = built(dense_net((32, "relu")))
    before = [w.copy() for w in model.get_weights()]
    result = lr_range_test(model, sample.x_train, sample.y_train, steps=40, start=1e-5, end=100.0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    rates, losses = result.learning_rates, result.losses
    assert len(rates) == len(losses) and all(b > a for a, b in zip(rates, rates[1:]))
    assert len(rates) < 40 or not math.isfinite(losses[-1]) or losses[-1] > losses[0]  # it blew up at the top
    assert 1e-5 < result.suggested < 10.0
    high = advise_learning_rate(result, result.suggested * 100)
    low = advise_learning_rate(result, result.suggested / 1000)
    assert high.kind == LR_TOO_HIGH and "too high" in high.message and "Try about" in high.advice
    assert low.kind == LR_TOO_LOW and "too low" in low.message
    assert advise_learning_rate(result, result.suggested) is None
