"""Sweeps: the spec is checked against the network, every trial is a recorded run, random draws repeat with a seed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datafiles import mnist_slice

from convstudio.core.network import Network
from convstudio.core.runs import list_runs, load_run
from convstudio.core.settings import TrainSettings
from convstudio.core.sweeps import (
    SWEEP_FILE,
    SweepAxis,
    SweepError,
    SweepJob,
    SweepSpec,
    TrialEnded,
    TrialProgress,
    TrialRow,
    TrialStarted,
    apply_trial,
    base_fingerprint,
    parse_axis,
    parse_values,
    run_sweep,
    sweep_rows,
    sweepable_params,
    table_cells,
    validate_spec,
)
from convstudio.core.training_events import BatchEnd


def tiny_net(filters: int = 2) -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": filters}), "MaxPool2D", "Flatten", ("Dropout", {"rate": 0.1}),
                          ("Dense", {"units": 10, "activation": "softmax"})])


SETTINGS = TrainSettings(epochs=1, batch_size=32, validation_split=0.25, batch_event_interval_s=0.0, seed=3)


class Task:
    """A sweep handle that keeps what was reported and can cancel itself on a condition."""

    def __init__(self, cancel_on=None) -> None:
        self.items: list = []
        self.cancelled = False
        self.cancel_on = cancel_on

    def report(self, item) -> None:
        self.items.append(item)
        if self.cancel_on is not None and self.cancel_on(item):
            self.cancelled = True


# ----------------------------------------------------------------------------- the spec


def test_values_and_axes_parse_from_text():
    assert parse_values("0.01, 1e-3,") == (0.01, 0.001)
    assert parse_values("8,16") == (8, 16) and all(isinstance(v, int) for v in parse_values("8,16"))
    assert parse_axis("conv2d_1.filters=8,16") == SweepAxis("conv2d_1.filters", (8, 16))
    for bad in ("8,x", "", "nan", "1,inf"):
        with pytest.raises(SweepError):
            parse_values(bad)
    with pytest.raises(SweepError, match="BLOCK.PARAMETER=VALUES"):
        parse_axis("conv2d_1.filters")


def test_validation_names_every_problem_and_converts_values():
    net = tiny_net()
    spec = SweepSpec((SweepAxis("learning_rate", (0.01, 0)), SweepAxis("batch_size", (32, 0)),
                      SweepAxis("nope.filters", (8,)), SweepAxis("conv2d_1.padding", ("same",)),
                      SweepAxis("conv2d_1.filters", (0, 8)), SweepAxis("dropout_1.rate", (0.5, 0.5)),
                      SweepAxis("epochs", (1, 2))), mode="grid", seed=1)
    with pytest.raises(SweepError) as err:
        validate_spec(spec, net, SETTINGS)
    lines = str(err.value).splitlines()
    assert any(line.startswith("learning_rate: learning_rate must be greater than 0") for line in lines)
    assert any(line.startswith("batch_size: batch_size must be at least 1") for line in lines)
    assert any("there is no block 'nope'" in line and "conv2d_1" in line for line in lines)
    assert any("conv2d_1.padding" in line and "filters" in line for line in lines)  # says what it does have
    assert any(line.startswith("conv2d_1.filters: Filters must be at least 1") for line in lines)
    assert any(line == "dropout_1.rate: a value is given twice" for line in lines)
    assert any(line.startswith("'epochs'") for line in lines)
    ok = validate_spec(SweepSpec((SweepAxis("learning_rate", (1, 0.5)), SweepAxis("conv2d_1.filters", ("4", 8.0)))),
                       net, SETTINGS)
    assert ok.axes[0].values == (1.0, 0.5) and isinstance(ok.axes[0].values[0], float)
    assert ok.axes[1].values == (4, 8) and all(isinstance(v, int) for v in ok.axes[1].values)


def test_validation_refuses_a_combination_whose_network_does_not_work_and_an_oversized_grid():
    net = tiny_net()
    with pytest.raises(SweepError, match=r"with conv2d_1.kernel_h=28 the network does not work: maxpool2d_1"):
        validate_spec(SweepSpec((SweepAxis("conv2d_1.kernel_h", (3, 28)),)), net, SETTINGS)
    huge = SweepSpec(tuple(SweepAxis(t, tuple(range(1, 12))) for t in ("batch_size", "conv2d_1.filters",
                                                                        "dense_1.units")))
    with pytest.raises(SweepError, match="1,331 combinations; at most 1,000"):
        validate_spec(huge, net, SETTINGS)
    with pytest.raises(SweepError, match="mode must be grid or random"):
        validate_spec(SweepSpec((SweepAxis("batch_size", (8,)),), mode="bayes"), net, SETTINGS)
    with pytest.raises(SweepError, match="at least one thing to vary"):
        validate_spec(SweepSpec(()), net, SETTINGS)


def test_spec_round_trips_and_counts_its_trials():
    spec = SweepSpec((SweepAxis("learning_rate", (0.1, 0.01)), SweepAxis("dense_1.units", (10, 20, 30))), "random",
                     4, 9)
    again = SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert spec.grid_size == 6 and spec.planned_trials == 4
    assert SweepSpec(spec.axes, "grid").planned_trials == 6
    assert SweepSpec(spec.axes, "random", 50).planned_trials == 6  # never more than the combinations
    assert list(SweepSpec(spec.axes).combinations())[:2] == [{"learning_rate": 0.1, "dense_1.units": 10},
                                                              {"learning_rate": 0.1, "dense_1.units": 20}]
    with pytest.raises(SweepError):
        SweepSpec.from_dict({"axes": [{"target": "x"}]})


def test_applying_a_trial_changes_a_copy_only_and_the_fingerprint_ignores_swept_values():
    net = tiny_net()
    spec = SweepSpec((SweepAxis("conv2d_1.filters", (2, 8)), SweepAxis("batch_size", (16, 32))))
    trial_net, trial_settings = apply_trial(net, SETTINGS, {"conv2d_1.filters": 8, "batch_size": 16,
                                                            "learning_rate": 0.05})
    assert trial_net.blocks["conv2d_1"].params["filters"] == 8 and net.blocks["conv2d_1"].params["filters"] == 2
    assert (trial_settings.batch_size, trial_settings.learning_rate, trial_settings.epochs) == (16, 0.05, 1)
    assert base_fingerprint(trial_net, spec) == base_fingerprint(net, spec)
    other = net.copy()
    other.set_param("dense_1", "units", 12)
    assert base_fingerprint(other, spec) != base_fingerprint(net, spec)
    with pytest.raises(SweepError, match="cannot apply"):
        apply_trial(net, SETTINGS, {"conv2d_1.filters": 0})
    assert "conv2d_1.filters" in sweepable_params(net) and "conv2d_1.padding" not in sweepable_params(net)


# ----------------------------------------------------------------------------- running


@pytest.fixture(scope="module")
def data():
    return mnist_slice(96, 32)


@pytest.fixture(scope="module")
def grid(data, tmp_path_factory):
    """A grid sweep of 6 trials (2 learning rates x 3 filter counts), 1 epoch on 96 images."""
    root = tmp_path_factory.mktemp("proj") / "digits.runs"
    spec = SweepSpec((SweepAxis("learning_rate", (0.01, 0.003)), SweepAxis("conv2d_1.filters", (1, 2, 3))), "grid")
    task = Task()
    result = run_sweep(SweepJob(spec, tiny_net(), SETTINGS, data, root, title="digits", name="grid1"), task)
    return result, task, root


def test_a_grid_of_six_trials_runs_every_combination_each_as_a_recorded_run(grid):
    result, task, root = grid
    assert len(result.rows) == 6 and not result.cancelled and result.role == "local"
    wanted = [{"learning_rate": lr, "conv2d_1.filters": f} for lr in (0.01, 0.003) for f in (1, 2, 3)]
    assert [r.value_map for r in result.rows] == wanted
    runs = [s for s in list_runs(root) if s.sweep == "grid1"]
    assert sorted(s.id for s in runs) == sorted(r.run_id for r in result.rows)
    for row in result.rows:  # each run records exactly the network and settings of its trial
        run = load_run(root / row.run_id)
        assert run.record["sweep"] == {"name": "grid1", "trial": row.trial, "values": row.value_map,
                                       "tuner": "tuner0"}
        assert run.settings.learning_rate == row.value_map["learning_rate"]
        assert run.network.blocks["conv2d_1"].params["filters"] == row.value_map["conv2d_1.filters"]
        assert row.outcome == "finished" and row.score is not None and row.test_accuracy is not None
        assert row.parameters == (9 + 1) * row.value_map["conv2d_1.filters"] + (13 * 13 * row.value_map[
            "conv2d_1.filters"] + 1) * 10
    assert result.best is max(result.rows, key=lambda r: r.score)
    started = [i for i in task.items if isinstance(i, TrialStarted)]
    ended = [i for i in task.items if isinstance(i, TrialEnded)]
    assert [s.number for s in started] == [1, 2, 3, 4, 5, 6] and [e.done for e in ended] == [1, 2, 3, 4, 5, 6]
    assert any(isinstance(i, TrialProgress) and isinstance(i.event, BatchEnd) for i in task.items)


def test_the_sweep_folder_holds_its_table_and_the_rows_read_back_from_the_runs(grid):
    result, _task, root = grid
    saved = json.loads((result.folder / SWEEP_FILE).read_text())
    assert saved["format"] == "convstudio-sweep" and saved["status"] == "finished"
    assert [t["run_id"] for t in saved["trials"]] == [r.run_id for r in result.rows]
    assert (result.folder / "tuner0").is_dir()  # KerasTuner's own files, in the folder the app owns
    assert sweep_rows(root, "grid1") == list(result.rows)
    cells = table_cells(result.rows, result.spec.targets)
    assert cells[0][:4] == ["trial", "learning_rate", "conv2d_1.filters", "val acc"]
    best_line = next(c for c in cells[1:] if c[0].endswith("*"))
    assert best_line[0] == f"{result.best.number} *"
    with pytest.raises(SweepError, match="already a sweep named grid1"):
        run_sweep(SweepJob(result.spec, tiny_net(), SETTINGS, mnist_slice(96, 32), root, name="grid1"))


def test_cancelling_stops_the_running_trial_and_asks_for_no_other(data, tmp_path):
    spec = SweepSpec((SweepAxis("batch_size", (8, 16, 24)),), "grid")
    task = Task(cancel_on=lambda item: isinstance(item, TrialProgress) and isinstance(item.event, BatchEnd))
    result = run_sweep(SweepJob(spec, tiny_net(), SETTINGS, data, tmp_path / "p.runs"), task)
    assert result.cancelled and len(result.rows) == 1
    assert result.rows[0].outcome == "stopped"
    assert json.loads((result.folder / SWEEP_FILE).read_text())["status"] == "cancelled"


class _ScoreOnly:
    """Stands in for the trainer to watch which values KerasTuner's oracle picks (no training)."""

    cancelled_error = RuntimeError

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def cancelled(self) -> bool:
        return False

    def run(self, trial, values, tuner):
        self.seen.append(dict(values))
        return TrialRow(trial, tuple(values.items()), "finished", float(values["dense_1.units"]) / 100)


def _draws(seed: int, tmp_path) -> list[dict]:
    from convstudio.core.sweeps.tuner import SweepHyperModel, SweepTuner, make_oracle

    spec = SweepSpec((SweepAxis("learning_rate", (0.1, 0.01, 0.001)), SweepAxis("dense_1.units", (10, 20, 30, 40))),
                     "random", 5, seed)
    runner = _ScoreOnly()
    tuner = SweepTuner(runner, make_oracle(spec, "val_accuracy"), SweepHyperModel(spec, tiny_net(), SETTINGS,
                                                                                  None, 10),
                       directory=str(tmp_path / f"seed{seed}-{len(list(tmp_path.iterdir()))}"), project_name="t")
    tuner.oracle.verbose = 0
    tuner.search()
    return runner.seen


def test_a_random_sweep_draws_the_same_trials_for_the_same_seed(tmp_path):
    first, again, other = _draws(5, tmp_path), _draws(5, tmp_path), _draws(6, tmp_path)
    assert len(first) == 5 and len({tuple(sorted(d.items())) for d in first}) == 5  # distinct combinations
    assert first == again
    assert other != first
    assert all(np.isclose(d["learning_rate"], (0.1, 0.01, 0.001)).any() for d in first)


def test_a_trial_whose_values_do_not_fit_this_network_is_an_error_row_not_a_crash(data, tmp_path):
    from convstudio.core.sweeps import TrialRunner

    spec = SweepSpec((SweepAxis("conv2d_1.filters", (2, 3)),))
    task = Task()
    runner = TrialRunner(SweepJob(spec, tiny_net(), SETTINGS, data, tmp_path / "p.runs"), spec, "s", task)
    row = runner.run("1", {"conv2d_1.filters": 0}, "worker3")  # e.g. a worker's project differs from the chief's
    assert (row.outcome, row.score, row.tuner, row.run_id) == ("error", None, "worker3", "")
    assert "cannot apply" in row.message and runner.rows == [row]
    assert [type(i).__name__ for i in task.items] == ["TrialStarted", "TrialEnded"]
    assert list_runs(tmp_path / "p.runs") == []
