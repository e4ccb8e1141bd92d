"""The memory estimate refuses what cannot fit before TensorFlow allocates anything, with the right advice."""

from __future__ import annotations

import numpy as np

from convstudio.core import memory, training
from convstudio.core.datasets import Dataset
from convstudio.core.memory import estimate_training_memory, memory_problem
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.shapes import analyze
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel

GB = 1024**3
BIG_CONV = {"filters": 2048, "kernel_h": 28, "kernel_w": 28, "padding": "full"}


def huge_net() -> Network:
    """905,770,668,042 parameters: two 2048-filter full convolutions grow 28x28 to 82x82, then 65,536 units."""
    return Network.chain(["Input", ("Conv2D", BIG_CONV), ("Conv2D", BIG_CONV), "Flatten",
                          ("Dense", {"units": 65536}), ("Dense", {"units": 10, "activation": "softmax"})])


def large_net() -> Network:
    """411,058,186 parameters, nearly all in the Dense block after a 512-filter 28x28 convolution."""
    return Network.chain(["Input", ("Conv2D", {"filters": 512, "padding": "same"}), "Flatten",
                          ("Dense", {"units": 1024}), ("Dense", {"units": 10, "activation": "softmax"})])


def test_the_estimate_adds_weights_gradients_adam_slots_and_activations():
    net = Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 3}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    analysis = analyze(net)
    est = estimate_training_memory(analysis, 32, "adam")
    params = analysis.total_params  # 40 + 26*26*4*10 + 10
    assert params == 27090
    assert est.weight_bytes == 4 * params and est.state_bytes == 3 * 4 * params  # gradient + 2 Adam slots
    per_image = (28 * 28 + 26 * 26 * 4 * 2 + 10) * 4  # input, conv, flatten, dense outputs (float32)
    assert est.activation_bytes_per_image == 2 * per_image  # kept for backprop, plus their gradients
    assert est.total_bytes == est.fixed_bytes + 32 * 2 * per_image
    assert estimate_training_memory(analysis, 32, "sgd", momentum=0.0).state_bytes == 4 * params


def test_a_905_billion_parameter_network_is_refused_as_too_big_naming_its_blocks():
    est = estimate_training_memory(analyze(huge_net()), 64)
    assert est.params == 905_770_668_042
    problem = memory_problem(est, 64 * GB)
    assert problem.startswith("The network is too big for this machine")
    assert "905,770,668,042 parameters" in problem and "dense_1 (902,480,068,608 parameters)" in problem
    assert "batch" not in problem  # a smaller batch cannot help


def test_a_411_million_parameter_network_fits_a_big_machine_and_is_refused_clearly_on_a_small_one():
    est = estimate_training_memory(analyze(large_net()), 64)
    assert est.params == 411_058_186
    assert 6 * GB < est.fixed_bytes < 7 * GB  # 4 bytes x (weights + gradients + 2 Adam slots)
    assert memory_problem(est, 64 * GB) is None
    assert "too big" in memory_problem(est, 4 * GB) and "dense_1" in memory_problem(est, 4 * GB)


def test_when_only_the_batch_does_not_fit_the_advice_is_a_batch_that_does():
    est = estimate_training_memory(analyze(large_net()), 4096)
    available = est.fixed_bytes + 100 * est.activation_bytes_per_image
    problem = memory_problem(est, available)
    assert "batch size 4096" in problem and "at most 100" in problem
    assert estimate_training_memory(analyze(large_net()), 100).total_bytes <= available


def test_the_trainer_refuses_before_building_anything(monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("the model must not be built")

    monkeypatch.setattr(training, "build_model", no_build)
    monkeypatch.setattr(training, "available_memory", lambda on_gpu: (16 * GB, "available RAM"))
    rng = np.random.default_rng(0)
    data = Dataset("mnist", rng.integers(0, 255, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64),
                   rng.integers(0, 255, (8, 28, 28), dtype=np.uint8), rng.integers(0, 10, 8),
                   [str(i) for i in range(10)])
    channel = EventChannel()
    finished = Trainer(huge_net(), data, TrainSettings(epochs=1, batch_size=32), channel).run()
    assert finished.status == "error" and finished.message.startswith("The network is too big")
    assert "16.0 GB of available RAM" in finished.message
    assert channel.drain()[-1] == finished


def test_out_of_memory_during_training_blames_the_network_when_its_weights_cannot_fit():
    settings = TrainSettings(batch_size=64)
    est = estimate_training_memory(analyze(large_net()), 64)
    oom = MemoryError()
    assert "smaller batch size (e.g. 32)" in training._error_message(oom, settings, (est, 64 * GB, "RAM"))
    message = training._error_message(oom, settings, (est, 2 * GB, "RAM"))
    assert message.startswith("The network is too big") and "smaller batch" not in message


def test_available_memory_reads_ram_without_tensorflow():
    free, where = memory.available_memory(on_gpu=False)
    assert where == "available RAM" and (free is None or free > 0)
