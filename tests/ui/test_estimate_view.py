"""The estimate line of the training panel: measuring once, following the settings, and Start's memory check."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from convstudio.core.estimate import Calibration, estimate_epoch, format_rough_duration, workload
from convstudio.core.memory import estimate_training_memory, format_bytes
from convstudio.core.network import Network
from convstudio.core.resources import resource_path
from convstudio.core.settings import TrainSettings
from convstudio.ui import estimate_view
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel

IMAGES = 600
CALIBRATION = Calibration("CPU (3 threads) | test", "CPU (3 threads)", step_s=4e-3, mac_s=5e-11, light_s=1e-9,
                          heavy_s=5e-9, resample_s=2e-8, multiply_s=3e-9, measured_at="today")


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    """A panel on a small network whose data folder holds 600 real MNIST images."""
    with np.load(resource_path("datasets") / "mnist_sample.npz") as data:
        arrays = {k: data[k][:IMAGES if k.endswith("train") else 100] for k in ("x_train", "y_train", "x_test", "y_test")}
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **arrays)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")
    network = Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                             ("Dense", {"units": 10, "activation": "softmax"})])
    controller = TrainingController(EditorDocument(network), checkpoint_dir=str(tmp_path / "checkpoints"))
    widget = TrainingPanel(controller)
    qtbot.addWidget(widget)
    widget.set_settings(TrainSettings(epochs=1, batch_size=64, validation_split=0.1))
    widget.set_tensorflow_ready(True)
    qtbot.waitUntil(lambda: widget._images == IMAGES, timeout=10_000)  # the data was found
    yield widget
    if controller.is_running:
        controller.stop_and_wait(5.0)
    app_settings.use_storage_root(None)


def _measured_on_release(monkeypatch, free: int = 64 * 1024**3) -> threading.Event:
    """Make measuring the device wait for the returned event, then report ``CALIBRATION``."""
    release = threading.Event()

    def measure(path, again, state):
        release.wait(10)
        return CALIBRATION, free, "available RAM", False

    monkeypatch.setattr(estimate_view, "measure_device", measure)
    return release


def _expected(panel: TrainingPanel, batch: int, split: float = 0.1) -> str:
    document = panel.controller.document
    epoch = estimate_epoch(workload(document.network, document.analysis), IMAGES, batch, split, CALIBRATION)
    return f"\u2248 {format_rough_duration(epoch.seconds)} per epoch on CPU (3 threads)"


def test_the_line_says_measuring_then_the_time_and_follows_batch_size_and_validation(qtbot, panel, monkeypatch):
    line = panel.estimate.label
    memory = estimate_training_memory(panel.controller.document.analysis, 64)
    assert f"{format_bytes(memory.total_bytes)} for weights, optimizer and activations at batch 64" in line.text()
    assert "per epoch" not in line.text()  # not measured: no time is made up

    release = _measured_on_release(monkeypatch)
    panel.estimate.measure()
    assert line.text().startswith("Measuring this device")
    release.set()
    qtbot.waitUntil(lambda: "per epoch" in line.text(), timeout=5000)
    assert line.text().startswith(_expected(panel, 64))
    assert panel.estimate.measure_button.isEnabled()

    panel.batch_spin.setValue(4)  # many more steps, each with its fixed cost: a longer epoch
    assert line.text().startswith(_expected(panel, 4)) and "at batch 4" in line.text()
    assert _expected(panel, 4) != _expected(panel, 64)
    panel.val_spin.setValue(0.5)
    assert line.text().startswith(_expected(panel, 4, 0.5))

    panel.controller.document.add_block("Dense", (0.0, 0.0))  # a loose block: the network cannot train
    assert line.text() == estimate_view.NO_ESTIMATE


def test_measuring_waits_for_a_run_to_end(qtbot, panel, monkeypatch):
    release = _measured_on_release(monkeypatch)
    release.set()
    panel.estimate.set_training(True)
    panel.estimate.measure()
    assert not panel.estimate.measuring  # a run is going on: it would time the run, not the device
    assert not panel.estimate.measure_button.isEnabled()
    panel.estimate.set_training(False)
    assert panel.estimate.measuring
    qtbot.waitUntil(lambda: panel.estimate.calibration == CALIBRATION, timeout=5000)


@pytest.mark.slow
def test_a_batch_too_big_for_memory_asks_for_a_smaller_one_before_starting(qtbot, panel, monkeypatch):
    memory = estimate_training_memory(panel.controller.document.analysis, 64)
    free = memory.fixed_bytes + 20 * memory.activation_bytes_per_image  # room for 20 images, not 64
    monkeypatch.setattr(estimate_view, "available_memory", lambda on_gpu: (free, "available RAM"))
    asked: list[tuple[str, int]] = []
    answer = [False]
    monkeypatch.setattr("convstudio.ui.training_panel.ask_smaller_batch",
                        lambda _parent, problem, batch: asked.append((problem, batch)) or answer[0])

    assert panel.start() is False  # declined: nothing starts, nothing changes
    assert asked and "batch size 64" in asked[0][0] and "at most 20" in asked[0][0] and asked[0][1] == 16
    assert not panel.controller.is_running and panel.batch_spin.value() == 64

    answer[0] = True
    assert panel.start() is True
    assert panel.controller.is_running and panel.batch_spin.value() == 16
    assert panel.controller.last_request.settings.batch_size == 16


def test_a_network_whose_weights_cannot_fit_is_refused_naming_the_blocks_to_shrink(qtbot, panel, monkeypatch):
    document = panel.controller.document
    big = Network.chain(["Input", ("Conv2D", {"filters": 64, "padding": "same"}), "Flatten",
                         ("Dense", {"units": 4096}), ("Dense", {"units": 10, "activation": "softmax"})])
    document.network.replace_with(big)
    qtbot.waitUntil(lambda: document.analysis.total_params > 200_000_000, timeout=2000)
    monkeypatch.setattr(estimate_view, "available_memory", lambda on_gpu: (1024**3, "available RAM"))
    refused: list[tuple[str, str]] = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, text: refused.append((title, text)))
    monkeypatch.setattr("convstudio.ui.training_panel.ask_smaller_batch",
                        lambda *_args: pytest.fail("a smaller batch cannot help"))
    assert panel.start() is False
    assert not panel.controller.is_running
    title, text = refused[0]
    assert title == "Too big for this machine" and "too big for this machine" in text and "dense_1" in text
    panel.estimate.refresh()
    assert "more than the 1.0 GB of available RAM" in panel.estimate.label.text()
