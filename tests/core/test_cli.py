"""The command line on a tiny project and a few hundred real MNIST images in a temporary data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST, MNIST, SHARED_MNIST  # noqa: E402

from convstudio.cli import EXIT_DATA, EXIT_ERROR, EXIT_INVALID, EXIT_OK, EXIT_PIPE, main
from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.settings import TrainSettings
from convstudio.core.tflog import is_noise


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder holding a 400 + 100 image slice of real MNIST as ``mnist.npz``."""
    if not MNIST.is_file():
        pytest.skip(f"neither {SHARED_MNIST} nor {BUNDLED_MNIST} is available")
    folder = tmp_path_factory.mktemp("data")
    with np.load(MNIST) as d:
        np.savez(folder / "mnist.npz", x_train=d["x_train"][:400], y_train=d["y_train"][:400],
                 x_test=d["x_test"][:100], y_test=d["y_test"][:100])
    return folder


@pytest.fixture
def env(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CONVSTUDIO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return data_dir


def tiny_project(folder: Path, valid: bool = True) -> Path:
    layers = ["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten"]
    if valid:
        layers.append(("Dense", {"units": 10, "activation": "softmax"}))
    settings = TrainSettings(epochs=1, batch_size=64, validation_split=0.1, seed=3)
    return save_project(Project(Network.chain(layers), settings, "mnist"), folder / "tiny.json")


@pytest.mark.slow
def test_train_resume_and_export(env, tmp_path, capsys):
    project = tiny_project(tmp_path)
    assert main(["train", str(project), "--epochs", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    run = tmp_path / "tiny.run"
    record = json.loads((run / "history.json").read_text())
    assert record["status"] == "completed" and record["epochs_done"] == 1
    assert 0.0 <= record["test_accuracy"] <= 1.0 and f"test accuracy: {record['test_accuracy']:.2%}" in out
    assert "epoch 1/1 done" in out and (run / "model.keras").is_file()
    from convstudio.core.checkpoint import read_checkpoint_state

    assert read_checkpoint_state(run / "checkpoint")["epoch"] == 1

    assert main(["train", str(project), "--resume", "--epochs", "1", "--batch-size", "32"]) == EXIT_OK
    record = json.loads((run / "history.json").read_text())
    assert record["epochs_done"] == 2 and len(record["history"]["loss"]) == 2
    assert "continuing after epoch 1" in capsys.readouterr().out

    import keras

    target = tmp_path / "exported.keras"
    code = main(["export", str(project), "--format", "keras", "--model", str(run / "model.keras"),
                 "--out", str(target)])
    assert code == EXIT_OK, capsys.readouterr().err
    original, exported = keras.saving.load_model(run / "model.keras"), keras.saving.load_model(target)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(original.predict(x, verbose=0), exported.predict(x, verbose=0), atol=1e-6)


def test_info_prints_summary_and_exit_codes(env, tmp_path, capsys):
    assert main(["info", str(tiny_project(tmp_path))]) == EXIT_OK
    out = capsys.readouterr().out
    assert "conv2d_1" in out and "dense_1" in out and "valid" in out
    bad = tiny_project(tmp_path / "bad", valid=False)
    assert main(["info", str(bad)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert "error: flatten_1:" in captured.out and "cannot be trained" in captured.err


def test_train_refuses_an_invalid_network(env, tmp_path, capsys):
    assert main(["train", str(tiny_project(tmp_path, valid=False))]) == EXIT_INVALID
    assert "has errors" in capsys.readouterr().err
    assert not (tmp_path / "tiny.run").exists()


def test_missing_files_give_clear_errors(env, tmp_path, capsys):
    assert main(["info", str(tmp_path / "nothing.json")]) == EXIT_ERROR
    assert "no project file" in capsys.readouterr().err
    assert main(["train", "no_such_preset"]) == EXIT_ERROR
    assert "no preset called" in capsys.readouterr().err
    project = tiny_project(tmp_path)
    assert main(["export", str(project), "--model", str(tmp_path / "missing.keras"), "--out",
                 str(tmp_path / "x.keras")]) == EXIT_ERROR
    assert "no trained model" in capsys.readouterr().err
    assert main(["train", str(project), "--resume"]) == EXIT_ERROR
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["train", str(project), "--epochs", "0"]) == EXIT_ERROR
    assert "epochs must be at least 1" in capsys.readouterr().err


def test_missing_data_lists_what_was_tried(env, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(empty))
    code = main(["train", str(tiny_project(tmp_path)), "--no-sample", "--offline"])
    err = capsys.readouterr().err
    assert code == EXIT_DATA
    assert "Tried:" in err and str(empty) in err and "bundled sample: not allowed" in err


def test_presets_listed_by_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "convstudio", "presets"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    for preset_id in ("lenet5", "vgg_small", "resnet_small", "inception_small", "mnist_classic", "sobel_vs_learned"):
        assert preset_id in done.stdout


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_works_with_and_without_a_terminal(tty):
    import io

    from convstudio.cli import _Progress
    from convstudio.core.training_events import BatchEnd, EpochEnd, TrainFinished, TrainStarted

    out = io.StringIO()
    progress = _Progress(out, tty=tty)
    progress.handle(TrainStarted("CPU (2 threads)", 1, 0, 100, 6400, 0))
    for step in range(1, 101):
        progress.handle(BatchEnd(0, step, 100, 0.5, 0.9, step / 10, 640.0))
    progress.handle(EpochEnd(0, 1, {"loss": 0.5, "accuracy": 0.9}, 10.0))
    progress.handle(TrainFinished("completed", "Finished 1 epochs.", 1, {}))
    text = out.getvalue()
    assert "epoch 1/1 done in 10.0 s: loss 0.5000, acc 90.00%" in text and text.endswith("Finished 1 epochs.\n")
    if tty:
        assert text.count("\r") >= 100  # one bar redrawn in place
    else:
        assert "\r" not in text and "\033" not in text
        assert text.count("[") == 4  # one line per quarter epoch


def test_presets_train_into_the_current_folder_not_the_bundle(tmp_path, monkeypatch):
    from convstudio.cli import _default_run_dir
    from convstudio.core.presets import preset_path

    monkeypatch.chdir(tmp_path)
    assert _default_run_dir(preset_path("lenet5")) == tmp_path / "lenet5.run"
    assert _default_run_dir(tmp_path / "sub" / "mine.json") == tmp_path / "sub" / "mine.run"


# --------------------------------------------------------------------------- pipes, log noise, import, data


def _cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "convstudio", *args], env=environment, cwd=root, **kwargs)


def test_output_into_a_closed_pipe_ends_quietly():
    """``convstudio-cli info lenet5 | head -1``: the reader is gone before the output is written."""
    proc = _cli("info", "lenet5", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == EXIT_PIPE
    assert err == ""


TF_NOISE = ("cuInit", "cudart_stub", "oneDNN", "absl::InitializeLog", "CUDA error", "TF_ENABLE_ONEDNN_OPTS",
            "cuda_platform", "This TensorFlow binary")


def _noise(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(p in line for p in TF_NOISE) or is_noise(line)]


@pytest.mark.slow
def test_training_shows_no_tensorflow_log_noise(env, tmp_path):
    project = tiny_project(tmp_path)
    proc = _cli("train", str(project), "--out", str(tmp_path / "run"), env={"TF_CPP_MIN_LOG_LEVEL": "0"},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == EXIT_OK, err
    assert _noise(err) == [] and _noise(out) == []
    assert "Training on CPU" in out or "Training on GPU" in out


@pytest.mark.slow
def test_verbose_lets_tensorflow_speak(tmp_path):
    """With ``--verbose`` TensorFlow's lines show (where it has any), and the error is still one clean line."""
    missing = str(tmp_path / "missing.keras")
    loud = _cli("import", missing, "--out", str(tmp_path / "p.json"), "--verbose", stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
    err = loud.communicate(timeout=300)[1]
    assert loud.returncode == EXIT_ERROR
    assert f"error: cannot import {missing}: there is no such file" in err.splitlines()
    if not _noise(err):
        pytest.skip("TensorFlow logs nothing at start-up on this machine")


def test_verbose_is_accepted_before_and_after_the_command():
    from convstudio.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--verbose", "info", "x"]).verbose
    assert parser.parse_args(["info", "x", "-v"]).verbose
    assert not parser.parse_args(["info", "x"]).verbose


def _keras_model(path: Path, lambda_layer: bool = False, reshape: bool = False) -> Path:
    import keras

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    if lambda_layer:
        x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    x = keras.layers.Flatten(name="flat")(x)
    if reshape:
        x = keras.layers.Reshape((-1,), name="squash")(x)
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x), name="small").save(path)
    return path


def test_import_writes_a_project_with_weights_and_never_overwrites_without_force(tmp_path, capsys):
    from convstudio.core.project import load_project, load_project_model

    model = _keras_model(tmp_path / "small.keras")
    target = tmp_path / "small.json"
    assert main(["import", str(model), "--out", str(target)]) == EXIT_OK
    out = capsys.readouterr().out
    project = load_project(target)
    assert {b.id for b in project.network} >= {"conv", "flat", "out"}
    assert project.weights_path and Path(project.weights_path).is_file() and str(target) in out
    assert load_project_model(project) is not None

    before = target.read_bytes(), Path(project.weights_path).read_bytes()
    assert main(["import", str(model), "--out", str(target)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "already exist" in err and "--force" in err and "Traceback" not in err
    assert (target.read_bytes(), Path(project.weights_path).read_bytes()) == before
    assert main(["import", str(model), "--out", str(target), "--force"]) == EXIT_OK


@pytest.mark.parametrize("kind", ["lambda", "reshape"])
def test_an_import_refusal_is_the_importers_message_as_one_error(tmp_path, capsys, kind):
    from convstudio.core.importer import ModelImportError, import_keras_model

    model = _keras_model(tmp_path / f"{kind}.keras", lambda_layer=kind == "lambda", reshape=kind == "reshape")
    with pytest.raises(ModelImportError) as refused:
        import_keras_model(model)
    target = tmp_path / "p.json"
    assert main(["import", str(model), "--out", str(target)]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.err == f"error: {refused.value}\n" and captured.out == ""
    assert not target.exists() and not (tmp_path / "p.weights.keras").exists()
    if kind == "reshape":
        assert "squash" in captured.err


def test_info_says_the_sample_is_used_and_why(env, tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_stat = Path.stat

    def stat(self, *args, **kwargs):  # what a folder without read/search permission does
        if str(self).startswith(str(locked) + os.sep):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    from convstudio.core.datasets import clear_cache

    clear_cache()
    assert main(["info", str(tiny_project(tmp_path)), "--data-dir", str(locked)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "data: SAMPLE: results come from the bundled sample" in out
    assert f"data:   - {locked}: cannot be read (Permission denied)" in out

    assert main(["info", str(tiny_project(tmp_path)), "--data-dir", str(env)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"data: {env / 'mnist.npz'}" in out and "SAMPLE" not in out


def test_info_estimates_time_and_memory_and_measures_the_machine_once(tmp_path, capsys, monkeypatch):
    from convstudio.core import estimate

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    measured: list[bool] = []
    calibrate = estimate.calibrate
    monkeypatch.setattr(estimate, "calibrate", lambda *a, **k: measured.append(True) or calibrate(*a, **k))
    for _ in range(2):
        assert main(["info", "lenet5", "--estimate"]) == EXIT_OK
        out = capsys.readouterr().out
        assert "estimate: \u2248 " in out and " per epoch on CPU" in out and "at batch 64" in out
        assert "estimate: 8 epochs \u2248 " in out
    assert measured == [True]  # remembered in the cache folder, not measured again
    assert (tmp_path / "cache" / "convstudio" / "device_calibration.json").is_file()
    assert main(["info", "lenet5", "--measure-again"]) == EXIT_OK and measured == [True, True]
