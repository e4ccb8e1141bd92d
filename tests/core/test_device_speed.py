"""XLA and mixed precision: "auto" resolved per device, and both honoured by the trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST, MNIST, SHARED_MNIST  # noqa: E402

from convstudio.core.builder import build_model
from convstudio.core.datasets import Dataset
from convstudio.core.device import speed_options
from convstudio.core.network import Network
from convstudio.core.settings import SettingsError, TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel, ProbeUpdate, TrainStarted


def net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


def test_auto_is_on_only_for_recent_gpus_and_on_off_force_it():
    auto = TrainSettings()
    assert not speed_options(auto, []).jit_compile and not speed_options(auto, []).mixed_precision
    assert speed_options(auto, []).reason == "XLA off, mixed precision off"
    assert "older than compute capability 7.0" in speed_options(auto, [(6, 1)]).reason
    recent = speed_options(auto, [(8, 0)])
    assert recent.jit_compile and recent.mixed_precision and "8.0" in recent.reason
    assert not speed_options(auto, [(6, 1)]).mixed_precision
    assert not speed_options(auto, [(8, 0), (6, 1)]).jit_compile  # every GPU must qualify
    forced = TrainSettings(jit_compile="on", mixed_precision="off")
    assert speed_options(forced, []).jit_compile and not speed_options(forced, [(9, 0)]).mixed_precision
    with pytest.raises(SettingsError, match="jit_compile"):
        TrainSettings(jit_compile="fast")
    assert TrainSettings.from_dict(TrainSettings(mixed_precision="on").to_dict()).mixed_precision == "on"


def test_mixed_precision_model_computes_in_float16_but_outputs_float32():
    network = net()
    model = build_model(network, mixed_precision=True)
    policies = {layer.name: layer.dtype_policy.name for layer in model.layers}
    conv = next(b.id for b in network if b.kind == "Conv2D")
    output = next(b.id for b in network if b.kind == "Dense")
    assert policies[conv] == "mixed_float16" and policies[output] == "float32"
    assert model.outputs[0].dtype == "float32"
    probs = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    assert probs.dtype == np.float32 and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_trainer_honours_xla_and_mixed_precision(tmp_path):
    import keras

    if not MNIST.is_file():
        pytest.skip(f"neither {SHARED_MNIST} nor {BUNDLED_MNIST} is available")
    with np.load(MNIST) as d:
        data = Dataset("mnist", d["x_train"][:128], d["y_train"][:128], d["x_test"][:32], d["y_test"][:32],
                       [str(i) for i in range(10)], source="MNIST slice")
    runs = {}
    for jit, mixed in (("off", "off"), ("on", "on")):
        channel = EventChannel()
        trainer = Trainer(net(), data, TrainSettings(epochs=1, batch_size=32, validation_split=0.0, seed=1,
                                                     jit_compile=jit, mixed_precision=mixed), channel)
        finished = trainer.run()
        assert finished.status == "completed", finished.message
        events = channel.drain()
        started = next(e for e in events if isinstance(e, TrainStarted))
        probe = next(e for e in events if isinstance(e, ProbeUpdate))
        assert {a.dtype for a in probe.activations.values()} == {np.dtype(np.float32)}  # float16 maps too
        runs[jit] = (trainer.model, started.device, finished)
    plain, plain_device, _ = runs["off"]
    fast, fast_device, fast_finished = runs["on"]
    assert plain.jit_compile is False and fast.jit_compile is True
    assert "XLA off, mixed precision off" in plain_device and "XLA on, mixed precision on" in fast_device
    assert isinstance(fast.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(plain.optimizer, keras.optimizers.LossScaleOptimizer)
    assert math.isfinite(fast_finished.history["loss"][0])
