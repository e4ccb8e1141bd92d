"""``convstudio-cli sweep``: a 6-trial sweep prints its table; distributed, a chief and two workers on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datafiles import MNIST

from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.runs import list_runs, load_run
from convstudio.core.settings import TrainSettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path) -> tuple[Path, Path]:
    """A tiny project and a data folder holding a 96-image mnist.npz (so every process loads the same slice)."""
    if not MNIST.is_file():
        pytest.skip(f"no MNIST at {MNIST}")
    data = tmp_path / "data"
    data.mkdir()
    with np.load(MNIST) as d:
        np.savez(data / "mnist.npz", x_train=d["x_train"][:96], y_train=d["y_train"][:96], x_test=d["x_test"][:32],
                 y_test=d["y_test"][:32])
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    settings = TrainSettings(epochs=3, batch_size=32, validation_split=0.25, seed=5)
    return save_project(Project(net, settings, "mnist"), tmp_path / "digits.json"), data


def test_a_six_trial_sweep_prints_its_table_and_records_every_trial(project, capsys):
    from convstudio.cli import EXIT_OK, main

    path, data = project
    code = main(["sweep", str(path), "--data-dir", str(data), "--lr", "0.01,0.003", "--set", "conv2d_1.filters=1,2,3",
                 "--epochs", "1", "--name", "s1"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("trial  learning_rate"))
    table = lines[header + 2:header + 8]
    assert sum(line.split()[1] == "*" for line in table) == 1  # one best trial, starred
    cells = [line.replace(" * ", "   ").split() for line in table]
    assert [c[0] for c in cells] == ["1", "2", "3", "4", "5", "6"]
    assert {(c[1], c[2]) for c in cells} == {(lr, f) for lr in ("0.01", "0.003") for f in ("1", "2", "3")}
    assert "Sweep s1 ran 6 trial(s)" in out and "best: trial" in out
    runs = [s for s in list_runs(path.parent / "digits.runs") if s.sweep == "s1"]
    assert len(runs) == 6 and all(s.epochs_done == 1 and s.outcome == "finished" for s in runs)
    assert {r.id for r in runs} == {c[-2] for c in cells}
    best = next(c for line, c in zip(table, cells) if line.split()[1] == "*")
    assert main(["runs", "show", str(path), best[-2]]) == EXIT_OK  # the run says which trial it was
    assert f"sweep s1: trial {best[0]} (learning_rate {best[1]}, conv2d_1.filters {best[2]}), tuner tuner0" \
        in capsys.readouterr().out


def test_a_sweep_of_a_block_that_does_not_exist_is_one_line_and_trains_nothing(project, capsys):
    from convstudio.cli import EXIT_ERROR, main

    path, data = project
    assert main(["sweep", str(path), "--data-dir", str(data), "--set", "conv9.filters=1,2"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: conv9.filters: there is no block 'conv9'") and "Traceback" not in err
    assert main(["sweep", str(path), "--data-dir", str(data), "--lr", "0.1", "--epochs", "0"]) == EXIT_ERROR
    assert capsys.readouterr().err.strip() == "error: epochs must be at least 1; got 0"
    assert list_runs(path.parent / "digits.runs") == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_chief_and_two_workers_on_loopback_split_the_trials_and_record_them(project):
    path, data = project
    port = _free_port()
    args = [sys.executable, "-m", "convstudio", "sweep", str(path), "--data-dir", str(data), "--lr",
            "0.05,0.02,0.01,0.005", "--batch", "16,32,64", "--mode", "random", "--trials", "6", "--seed", "3",
            "--epochs", "1", "--name", "spread"]
    base = {**os.environ, "PYTHONPATH": str(ROOT), "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(port), "CONVSTUDIO_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    procs = {}
    try:
        for tuner_id, extra in (("chief", ["--workers", "2"]), ("worker0", []), ("worker1", [])):
            procs[tuner_id] = subprocess.Popen(args + extra, env={**base, "KERASTUNER_TUNER_ID": tuner_id},
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        outputs = {name: proc.communicate(timeout=150)[0] for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name}:\n{outputs[name]}"
    runs = [load_run(s.folder) for s in list_runs(path.parent / "digits.runs") if s.sweep == "spread"]
    trials = {r.record["sweep"]["trial"]: r.record["sweep"]["tuner"] for r in runs}
    assert len(runs) == 6 and len(trials) == 6  # every trial ran once
    assert set(trials.values()) == {"worker0", "worker1"}  # on both workers, none on the chief
    values = {tuple(sorted(r.record["sweep"]["values"].items())) for r in runs}
    assert len(values) == 6
    for run in runs:  # each run trained with its trial's values
        assert run.settings.learning_rate == run.record["sweep"]["values"]["learning_rate"]
        assert run.settings.batch_size == run.record["sweep"]["values"]["batch_size"]
    assert "Sweep spread ran 6 trial(s)" in outputs["chief"]
    for worker in ("worker0", "worker1"):
        mine = sum(1 for t in trials.values() if t == worker)
        assert f"Sweep spread ran {mine} trial(s) on this worker" in outputs[worker]
