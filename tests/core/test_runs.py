"""Run records: every run is written to the project's run folder, survives a crash, lists, compares, deletes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST

from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.runs import (
    RunError,
    RunRecorder,
    compare_runs,
    delete_run,
    find_run,
    format_comparison,
    list_runs,
    load_run,
    runs_root,
)
from convstudio.core.runs.layout import RUN_FILE
from convstudio.core.settings import TrainSettings
from convstudio.core.training import Trainer
from convstudio.core.training_events import EpochEnd, EventChannel, TrainFinished, TrainStarted

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def sample() -> Dataset:
    """192 training and 64 test images of the bundled MNIST sample."""
    with np.load(BUNDLED_MNIST) as d:
        return Dataset("mnist", d["x_train"][:192], d["y_train"][:192], d["x_test"][:64], d["y_test"][:64],
                       [str(i) for i in range(10)], source="bundled sample slice", is_sample=True)


def tiny_net(filters: int = 4) -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": filters, "kernel_h": 3, "kernel_w": 3}), "MaxPool2D",
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


def settings(**kw) -> TrainSettings:
    base = dict(epochs=2, batch_size=32, validation_split=0.25, batch_event_interval_s=0.0, seed=7)
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture(scope="module")
def two_runs(sample, tmp_path_factory):
    """Two recorded runs of the tiny network (the second with 8 filters and another learning rate)."""
    root = tmp_path_factory.mktemp("proj") / "digits.runs"
    channel = EventChannel()
    first = Trainer(tiny_net(), sample, settings(), channel, root.parent / "ck1", recorder=RunRecorder(root, title="digits"))
    done1 = first.run()
    events = channel.drain()
    second = Trainer(tiny_net(8), sample, settings(learning_rate=3e-3, epochs=1), EventChannel(), None,
                     recorder=RunRecorder(root, title="digits"))
    done2 = second.run()
    return root, first, done1, events, second, done2


@pytest.mark.slow
def test_a_run_is_recorded_with_everything_needed_to_repeat_and_judge_it(two_runs, sample):
    root, trainer, finished, _, _, _ = two_runs
    run = load_run(trainer.recorder.folder)
    r = run.record
    assert finished.status == "completed" and run.summary.outcome == "finished"
    assert run.network.to_dict() == tiny_net().to_dict() and r["project"]["dataset"]["name"] == "mnist"
    assert run.settings == settings()
    assert r["dataset"] == {"name": "mnist", "source": "bundled sample slice", "is_sample": True}
    assert r["device"] and r["parameters"] == 4 * 10 + 13 * 13 * 4 * 10 + 10
    assert run.summary.test_accuracy == pytest.approx(finished.test_accuracy)
    assert run.history["loss"] == pytest.approx(finished.history["loss"]) and len(run.history["val_loss"]) == 2
    assert run.metrics["batches"] and all(len(b) == 5 for b in run.metrics["batches"])
    assert run.summary.duration_s > 0 and r["epochs_done"] == 2
    assert run.model_path("final").is_file() and run.model_path("best").is_file() and r["best_epoch"] in (1, 2)
    assert len(run.metrics["probes"]) == 2 and set(run.metrics["probes"][0]["gradient_norms"]) == {"conv2d_1", "dense_1"}


@pytest.mark.slow
def test_the_final_model_is_the_trained_model(two_runs):
    import keras

    _, trainer, _, _, _, _ = two_runs
    saved = keras.saving.load_model(load_run(trainer.recorder.folder).model_path("final"))
    for a, b in zip(saved.get_weights(), trainer.model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_runs_are_listed_sorted_and_found_by_short_id(two_runs):
    root, first, _, _, second, _ = two_runs
    by_params = list_runs(root, sort="parameters")
    assert [s.folder for s in by_params] == [second.recorder.folder, first.recorder.folder]
    assert [s.parameters for s in list_runs(root, sort="parameters", descending=False)] == sorted(
        s.parameters for s in by_params)
    short = first.recorder.folder.name.rsplit("-", 1)[1]
    assert find_run(root, short) == first.recorder.folder
    with pytest.raises(RunError, match="no run"):
        find_run(root, "zzzzzz")
    with pytest.raises(RunError, match="sort"):
        list_runs(root, sort="colour")


@pytest.mark.slow
def test_two_runs_compare_block_by_block_and_by_settings(two_runs):
    _, first, _, _, second, _ = two_runs
    c = compare_runs(load_run(first.recorder.folder), load_run(second.recorder.folder))
    assert not c.network.added and not c.network.removed
    assert [(ch.block_id, ch.params) for ch in c.network.changed] == [("conv2d_1", {"filters": (4, 8)})]
    assert ("learning_rate", 1e-3, 3e-3) in c.settings and ("epochs", 2, 1) in c.settings
    text = format_comparison(c)
    assert "~ conv2d_1 (Conv2D): filters 4 -> 8" in text and "learning_rate: 0.001 -> 0.003" in text


@pytest.mark.slow
def test_the_recorder_publishes_the_events_unchanged_and_in_order(two_runs):
    _, _, finished, events, _, _ = two_runs
    kinds = [type(e) for e in events if isinstance(e, TrainStarted | EpochEnd | TrainFinished)]
    assert kinds == [TrainStarted, EpochEnd, EpochEnd, TrainFinished]
    assert [e for e in events if isinstance(e, TrainFinished)] == [finished]


@pytest.mark.slow
def test_tensorboard_reads_the_scalars_and_filter_images(two_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, trainer, finished, _, _, _ = two_runs
    acc = EventAccumulator(str(trainer.recorder.folder / "tensorboard"), size_guidance={"tensors": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()["tensors"]
    assert {"batch/loss", "batch/accuracy", "epoch/loss", "epoch/val_loss", "filters/conv2d_1"} <= set(tags)
    epoch_loss = [(e.step, float(np.asarray(tf_value(e)))) for e in acc.Tensors("epoch/loss")]
    assert [s for s, _ in epoch_loss] == [1, 2]
    assert [v for _, v in epoch_loss] == pytest.approx(finished.history["loss"], rel=1e-5)
    image = acc.Tensors("filters/conv2d_1")
    assert len(image) == 2  # one filter image per epoch


def tf_value(event):
    from tensorboard.util import tensor_util

    return tensor_util.make_ndarray(event.tensor_proto)


@pytest.mark.slow
def test_delete_removes_only_run_folders(two_runs, tmp_path):
    root, _, _, _, second, _ = two_runs
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / RUN_FILE).write_text(json.dumps({"format": "something else"}))
    with pytest.raises(RunError, match="not a ConvStudio run"):
        delete_run(foreign)
    assert foreign.is_dir()
    delete_run(second.recorder.folder)
    assert not second.recorder.folder.exists() and len(list_runs(root)) == 1


@pytest.mark.parametrize("total, every", [(12, 1), (399, 1), (1000, 5), (8440, 5), (100_000, 50)])
def test_batch_points_are_decimated_to_at_most_a_few_thousand(total, every):
    from convstudio.core.runs.recorder import MAX_BATCH_POINTS, batch_stride

    assert batch_stride(total) == every and total // every <= MAX_BATCH_POINTS


def test_runs_live_beside_the_project_or_in_the_data_folder(tmp_path):
    assert runs_root(tmp_path / "digits.json", tmp_path / "data") == tmp_path.resolve() / "digits.runs"
    assert runs_root(None, tmp_path / "data") == tmp_path / "data" / "runs"


_CRASHING_RECORDER = r"""
import os, sys
from types import SimpleNamespace
import numpy as np
from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.runs import RunRecorder
from convstudio.core.settings import TrainSettings
from convstudio.core.training_events import EpochEnd, EventChannel, TrainStarted

net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
z = np.zeros((4, 28, 28), np.uint8)
ds = Dataset("mnist", z, np.zeros(4, np.int64), z, np.zeros(4, np.int64), [str(i) for i in range(10)], source="zeros")
trainer = SimpleNamespace(network=net, dataset=ds, settings=TrainSettings(epochs=5), checkpoint_dir=None, model=None)
recorder = RunRecorder(sys.argv[1], health=False)
channel = recorder.attach(trainer, EventChannel())
channel.put(TrainStarted("CPU", 5, 0, 10, 4, 0))
for epoch in range(2):
    channel.put(EpochEnd(epoch, 5, {"loss": 2.0 - epoch, "accuracy": 0.5}, 1.0))
    recorder.save()
recorder.record_batch(2, 1, 21, 0.5, 0.5)  # the third epoch is under way when the process dies
os._exit(9)
"""


def test_a_run_whose_process_died_is_listed_as_interrupted_with_its_completed_epochs(tmp_path):
    root = tmp_path / "p.runs"
    proc = subprocess.run([sys.executable, "-c", _CRASHING_RECORDER, str(root)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ROOT}, timeout=120)
    assert proc.returncode == 9, proc.stderr
    [summary] = list_runs(root)
    assert summary.outcome == "interrupted" and summary.outcome_label == "interrupted"
    run = load_run(summary.folder)
    assert run.history["loss"] == [2.0, 1.0] and summary.epochs_done == 2
    delete_run(summary.folder)  # an interrupted run can be deleted
    assert list_runs(root) == []


def test_a_run_that_fails_is_recorded_with_why(sample, tmp_path, monkeypatch):
    from convstudio.core import training

    def broken(*args, **kwargs):
        raise RuntimeError("no such layer")

    monkeypatch.setattr(training, "build_model", broken)
    trainer = Trainer(tiny_net(), sample, settings(), EventChannel(), recorder=RunRecorder(tmp_path / "r.runs"))
    finished = trainer.run()
    [summary] = list_runs(tmp_path / "r.runs")
    assert finished.status == "error" and summary.outcome == "error" and summary.outcome_label == "error"
    assert "no such layer" in summary.message and load_run(summary.folder).model_path("final") is None


def test_damaged_run_folders_are_reported_with_why_and_never_break_the_listing(tmp_path):
    from runfiles import record_run

    from convstudio.core.runs import scan_runs

    root = tmp_path / "p.runs"
    good = record_run(root, val_accuracies=(0.4, 0.7, 0.55), losses=(2.0, 1.5, 1.2))
    cut = root / "20261202-101010-abcdef"
    cut.mkdir()
    (cut / RUN_FILE).write_text('{"format": "convstudio-run", "status": "runn')
    empty = root / "20261202-101011-abcdef"
    empty.mkdir()
    wrong = record_run(root)
    record = json.loads((wrong / RUN_FILE).read_text())
    record["parameters"] = "many"
    (wrong / RUN_FILE).write_text(json.dumps(record))
    (root / "notes").mkdir()  # not a run: neither listed nor reported
    runs, damaged = scan_runs(root)
    assert [s.folder for s in runs] == [good] and runs[0].best_val_accuracy == pytest.approx(0.7)
    reasons = {d.folder: d.reason for d in damaged}
    assert set(reasons) == {cut, empty, wrong}
    assert "cannot be read" in reasons[cut] and "no run.json" in reasons[empty] and "wrong kind" in reasons[wrong]
    assert list_runs(root, sort="accuracy") == runs
    with pytest.raises(RunError, match="damaged: its run.json cannot be read"):
        load_run(cut)


def test_runs_list_names_damaged_folders_on_stderr(tmp_path, capsys):
    from runfiles import record_run

    from convstudio.cli import EXIT_OK, main

    root = tmp_path / "digits.runs"
    good = record_run(root)
    (root / "20261202-101010-abcdef").mkdir()
    assert main(["runs", "list", str(root)]) == EXIT_OK
    captured = capsys.readouterr()
    assert good.name in captured.out and "damaged: 20261202-101010-abcdef: it has no run.json" in captured.err


def test_runs_started_within_one_second_list_in_the_order_they_started(tmp_path):
    from runfiles import record_run

    folders = [record_run(tmp_path / "digits.runs") for _ in range(5)]  # a sweep's quick trials
    assert [s.folder for s in list_runs(tmp_path / "digits.runs")] == folders[::-1]  # newest first
