"""Choosing a distribution strategy, and two real workers on loopback training to identical weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST, MNIST, SHARED_MNIST  # noqa: E402

from convstudio.cli import EXIT_ERROR, main
from convstudio.core.distribute import DistributionError, choose_strategy, cluster_from_env, is_chief
from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.settings import TrainSettings


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# --------------------------------------------------------------------------- the cluster description


def test_cluster_from_env_reads_tf_config_and_names_what_is_wrong():
    assert cluster_from_env({}) is None
    good = cluster_from_env({"TF_CONFIG": tf_config([2222, 2223], 1)})
    assert good["task"] == {"type": "worker", "index": 1}
    assert is_chief({"TF_CONFIG": tf_config([2222, 2223], 0)}) and not is_chief({"TF_CONFIG": tf_config([1, 2], 1)})
    assert is_chief({})
    bad = {
        "{not json": "not valid JSON",
        json.dumps({"task": {"type": "worker", "index": 0}}): "cluster",
        json.dumps({"cluster": {"worker": ["a:1"]}}): "task",
        json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}): "not in its cluster",
    }
    for raw, words in bad.items():
        with pytest.raises(DistributionError, match=words):
            cluster_from_env({"TF_CONFIG": raw})


def test_one_device_without_a_cluster_and_a_clear_refusal_for_multi_worker(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("TF_CONFIG", raising=False)
    if len(tf.config.list_logical_devices("GPU")) <= 1:
        assert choose_strategy(TrainSettings()) is tf.distribute.get_strategy()
    assert choose_strategy(TrainSettings(distribution="off")) is tf.distribute.get_strategy()
    with pytest.raises(DistributionError, match="TF_CONFIG"):
        choose_strategy(TrainSettings(distribution="multi_worker"))


def test_cli_distributed_without_tf_config_is_one_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    project = save_project(Project(Network.chain(["Input", "Flatten", ("Dense", {"units": 10,
                                                                                  "activation": "softmax"})]),
                                   TrainSettings(), "mnist"), tmp_path / "p.json")
    assert main(["train", str(project), "--distributed", "--out", str(tmp_path / "run")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "TF_CONFIG" in err and "Traceback" not in err


# --------------------------------------------------------------------------- two workers on loopback


@pytest.mark.slow
def test_two_workers_on_loopback_finish_with_identical_weights(tmp_path):
    import keras

    if not MNIST.is_file():
        pytest.skip(f"neither {SHARED_MNIST} nor {BUNDLED_MNIST} is available")
    data = tmp_path / "data"
    data.mkdir()
    with np.load(MNIST) as d:
        np.savez(data / "mnist.npz", x_train=d["x_train"][:256], y_train=d["y_train"][:256],
                 x_test=d["x_test"][:64], y_test=d["y_test"][:64])
    network = Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                             ("Dense", {"units": 10, "activation": "softmax"})])
    project = save_project(Project(network, TrainSettings(epochs=1, batch_size=32, validation_split=0.125, seed=5),
                                   "mnist"), tmp_path / "tiny.json")
    ports = free_ports(2)
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=tf_config(ports, index), CONVSTUDIO_OFFLINE="1",
                   TF_CPP_MIN_LOG_LEVEL="2", KERAS_HOME=str(tmp_path / "keras_home"))
        env.pop("CONVSTUDIO_DATA_DIR", None)
        command = [sys.executable, "-m", "convstudio", "train", str(project), "--distributed", "--offline",
                   "--no-sample", "--data-dir", str(data), "--out", str(tmp_path / f"worker{index}"),
                   "--threads", "1"]
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, cwd=tmp_path))
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=150)[0])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    codes = [w.returncode for w in workers]
    if any(codes) and any("could not join the cluster" in out for out in outputs):
        pytest.skip("the multi-worker runtime cannot start here: " + outputs[0][-300:])
    assert codes == [0, 0], "\n---\n".join(out[-2000:] for out in outputs)
    for index, out in enumerate(outputs):
        assert "2 workers" in out, out[-1000:]
        record = json.loads((tmp_path / f"worker{index}" / "history.json").read_text())
        assert record["status"] == "completed" and record["epochs_done"] == 1
    first, second = (keras.saving.load_model(tmp_path / f"worker{i}" / "model.keras") for i in range(2))
    a, b = first.get_weights(), second.get_weights()
    assert len(a) == len(b) == 4
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a[-1], 0.0)  # the output bias trained away from its zero start
