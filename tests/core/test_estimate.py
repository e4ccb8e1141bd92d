"""The time-per-epoch estimate: per-image work from shapes, epoch arithmetic, calibration kept per device."""

from __future__ import annotations

import json
import math

import pytest
from datafiles import mnist_slice  # noqa: E402

from convstudio.core.blocks import BLOCKS, COSTS, get_spec
from convstudio.core.estimate import (
    FORWARD_SHARE,
    OPTIMIZER_TRAFFIC,
    Calibration,
    Workload,
    calibrate,
    calibration_key,
    describe_estimate,
    estimate_epoch,
    format_rough_duration,
    load_or_calibrate,
    store_calibration,
    stored_calibration,
    workload,
)
from convstudio.core.memory import estimate_training_memory
from convstudio.core.network import Network
from convstudio.core.shapes import analyze

KEY = calibration_key("CPU (2 threads)", 1, 2, "2.99.0")


def _calibration(key: str = KEY, **prices: float) -> Calibration:
    values = {"step_s": 2e-3, "mac_s": 5e-11, "light_s": 1e-9, "heavy_s": 5e-9, "resample_s": 2e-8,
              "multiply_s": 3e-9, **prices}
    return Calibration(key, key.split(" | ")[0], **values)


def _net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "BatchNorm", "MaxPool2D", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


def test_every_block_kind_has_a_cost_class_and_a_wrong_one_is_refused():
    assert {spec.cost for spec in BLOCKS.values()} <= set(COSTS)
    assert get_spec("BatchNorm").cost == "heavy" and get_spec("RandomRotation").cost == "resample"
    assert get_spec("Flatten").cost == "free" and get_spec("MaxPool2D").cost == "light"
    assert get_spec("Conv2D").cost == get_spec("Dense").cost == "multiply"
    from dataclasses import replace

    from convstudio.core.blocks import register

    with pytest.raises(ValueError, match="cost"):
        register(replace(get_spec("Add"), kind="AddTooCostly", imports={}, cost="expensive"))
    assert "AddTooCostly" not in BLOCKS


def test_the_workload_counts_the_elements_each_block_reads_and_writes_by_cost_class():
    net = _net()
    analysis = analyze(net)
    work = workload(net, analysis)
    maps, pooled = 26 * 26 * 4, 13 * 13 * 4
    conv_macs, dense_macs = maps * 3 * 3, pooled * 10
    # the convolution reads a 3x3 window (of one channel) at each of its 26x26 output positions and writes
    # its maps; Dense reads the flattened (free) pooled maps at one go and writes 10 scores
    assert work.multiply == (26 * 26 * 3 * 3 + maps) + (1 + 10)
    assert work.heavy == maps + maps  # BatchNorm reads and writes every map element
    assert work.light == maps + pooled  # pooling reads the maps and writes a quarter
    assert work.resample == 0 and work.trainable_params == analysis.trainable_params
    assert work.macs == conv_macs + dense_macs < analysis.total_macs  # BatchNorm and pooling: per element


def test_an_epoch_is_steps_times_the_step_cost_plus_images_times_the_image_cost_and_a_third_for_validation():
    work = Workload(macs=1_000_000, light=10_000, heavy=2_000, multiply=3_000, trainable_params=50_000)
    cal = _calibration()
    per_image = 1e6 * 5e-11 + 1e4 * 1e-9 + 2e3 * 5e-9 + 3e3 * 3e-9
    per_step = 2e-3 + 50_000 * OPTIMIZER_TRAFFIC * 1e-9
    est = estimate_epoch(work, 1000, 64, 0.1, cal)
    assert (est.train_images, est.val_images, est.train_steps, est.val_steps) == (900, 100, 15, 2)
    assert est.train_seconds == pytest.approx(15 * per_step + 900 * per_image)
    assert est.val_seconds == pytest.approx(2 * 2e-3 + 100 * per_image * FORWARD_SHARE)
    assert est.seconds == pytest.approx(est.train_seconds + est.val_seconds)
    assert est.device == "CPU (2 threads)"


def test_the_estimate_grows_with_images_and_shrinks_with_bigger_batches_when_steps_cost_something():
    work = workload(_net(), analyze(_net()))
    cal = _calibration()
    small, big = (estimate_epoch(work, n, 64, 0.1, cal).seconds for n in (6_000, 60_000))
    assert 9.5 < big / small < 10.5
    by_batch = [estimate_epoch(work, 60_000, b, 0.1, cal).seconds for b in (8, 64, 512)]
    assert by_batch[0] > by_batch[1] > by_batch[2]
    free_steps = _calibration(step_s=0.0)
    assert estimate_epoch(work, 60_000, 8, 0.0, free_steps).seconds < by_batch[0]
    assert estimate_epoch(work, 0, 64, 0.1, cal).seconds == 0


def test_the_line_says_time_device_memory_and_batch():
    net = _net()
    analysis = analyze(net)
    memory = estimate_training_memory(analysis, 64)
    epoch = estimate_epoch(workload(net, analysis), 60_000, 64, 0.1, _calibration(mac_s=4e-9))
    line = describe_estimate(epoch, memory)
    assert line.startswith("\u2248 ") and "per epoch on CPU (2 threads)" in line
    assert "for weights, optimizer and activations at batch 64" in line
    assert format_rough_duration(epoch.seconds) in line
    assert "per epoch" not in describe_estimate(None, memory) and describe_estimate(epoch, None).endswith("threads)")


@pytest.mark.parametrize(("seconds", "text"), [(0.02, "under 0.1 s"), (0.44, "0.4 s"), (12.4, "12 s"), (210, "3.5 min"),
                                               (1500, "25 min"), (7560, "2.1 h")])
def test_rough_durations(seconds, text):
    assert format_rough_duration(seconds) == text


def test_calibrations_are_kept_per_key_and_a_damaged_store_is_ignored(tmp_path):
    path = tmp_path / "cal" / "device_calibration.json"
    assert stored_calibration(path, KEY) is None  # nothing stored yet
    other_key = calibration_key("GPU: NVIDIA H200", 1, 15, "2.99.0")
    store_calibration(path, _calibration())
    store_calibration(path, _calibration(other_key, mac_s=1e-13))
    assert stored_calibration(path, KEY) == _calibration()
    assert stored_calibration(path, other_key).mac_s == 1e-13
    assert stored_calibration(path, calibration_key("CPU (2 threads)", 1, 1, "2.99.0")) is None  # other threads
    store_calibration(path, _calibration(mac_s=7e-11))  # measured again: replaces only its own key
    assert stored_calibration(path, KEY).mac_s == 7e-11 and stored_calibration(path, other_key) is not None

    data = json.loads(path.read_text())
    data[KEY]["step_s"] = -1.0
    path.write_text(json.dumps(data))
    assert stored_calibration(path, KEY) is None  # not a time
    path.write_text("{not json")
    assert stored_calibration(path, KEY) is None


def test_a_stored_calibration_is_used_and_measuring_again_replaces_it(tmp_path, monkeypatch):
    from convstudio.core import estimate

    monkeypatch.setattr(estimate, "current_key", lambda: (KEY, "CPU (2 threads)"))
    measured: list[int] = []

    def fake_calibrate(cancelled=None):
        measured.append(1)
        return _calibration(mac_s=len(measured) * 1e-11)

    monkeypatch.setattr(estimate, "calibrate", fake_calibrate)
    path = tmp_path / "device_calibration.json"
    first = load_or_calibrate(path)
    assert len(measured) == 1 and stored_calibration(path, KEY) == first
    assert load_or_calibrate(path) == first and len(measured) == 1  # remembered: not measured again
    again = load_or_calibrate(path, again=True)
    assert len(measured) == 2 and again.mac_s == 2e-11 and stored_calibration(path, KEY) == again


@pytest.mark.slow
def test_calibrating_this_device_prices_every_kind_of_work_in_a_few_seconds():
    pytest.importorskip("tensorflow")
    cancelled = calibrate(cancelled=lambda: True)
    assert cancelled is None
    cal = calibrate()
    assert cal.took_s < 10
    prices = [cal.step_s, cal.mac_s, cal.light_s, cal.heavy_s, cal.resample_s, cal.multiply_s]
    assert all(math.isfinite(p) and p > 0 for p in prices)
    # what the classes stand for: normalising or drawing a random number per element costs more than a
    # ReLU or a max, interpolating a rotation more again; one element moved costs more than one MAC
    assert cal.resample_s > cal.light_s and cal.heavy_s > cal.light_s > cal.mac_s and cal.multiply_s > cal.mac_s
    assert cal.key.startswith(cal.device) and "TensorFlow" in cal.key


@pytest.mark.slow
def test_the_estimate_is_within_a_factor_of_two_of_a_measured_epoch_of_lenet5():
    """The claim the estimate makes, on a small preset: measured on this machine, epochs after the first."""
    pytest.importorskip("tensorflow")
    from convstudio.core.presets import load_preset
    from convstudio.core.settings import TrainSettings
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import EpochEnd, EventChannel

    dataset = mnist_slice(3000, 100)
    network = load_preset("lenet5").network
    settings = TrainSettings(epochs=3, batch_size=64)
    estimate = estimate_epoch(workload(network, analyze(network)), len(dataset.x_train), settings.batch_size,
                              settings.validation_split, calibrate())
    channel = EventChannel()
    assert Trainer(network, dataset, settings, channel).run().status == "completed"
    later = [e.seconds for e in channel.drain() if isinstance(e, EpochEnd)][1:]
    assert 0.5 < min(later) / estimate.seconds < 2.0, (later, estimate)


def test_a_sweep_is_priced_per_combination_and_trial():
    from convstudio.core.settings import TrainSettings
    from convstudio.core.sweeps.cost import sweep_seconds
    from convstudio.core.sweeps.spec import SweepAxis, SweepSpec

    net, cal, settings = _net(), _calibration(), TrainSettings(batch_size=64, validation_split=0.1)
    conv = next(b for b in net.blocks if net.blocks[b].kind == "Conv2D")

    def epoch(filters: int, batch: int) -> float:
        trial = net.copy()
        trial.set_param(conv, "filters", filters)
        return estimate_epoch(workload(trial, analyze(trial)), 6000, batch, 0.1, cal).seconds

    grid = SweepSpec((SweepAxis(f"{conv}.filters", (4, 32)), SweepAxis("batch_size", (32, 128))), "grid")
    expected = (epoch(4, 32) + epoch(4, 128) + epoch(32, 32) + epoch(32, 128)) / 4 * 3 * 4
    assert sweep_seconds(grid, net, settings, 6000, 3, cal) == pytest.approx(expected)
    assert epoch(32, 32) > epoch(4, 32)  # more filters cost more: the combinations are priced one by one
    two = SweepSpec(grid.axes, "random", max_trials=2)
    assert sweep_seconds(two, net, settings, 6000, 3, cal) == pytest.approx(expected / 2)
