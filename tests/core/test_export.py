"""Every export format round-trips: the written artefact, loaded with its own runtime, gives the
in-app model's outputs; failed or unwritable exports leave nothing behind and say why."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.datasets import Dataset
from convstudio.core.export import FORMATS, ExportError, export_model
from convstudio.core.export.formats import ExportFormat
from convstudio.core.export.staging import MARKER
from convstudio.core.network import Network
from convstudio.core.settings import EarlyStopping, ReduceLROnPlateau, TrainSettings


def synthetic_dataset(n_train: int = 640, n_test: int = 300, seed: int = 0) -> Dataset:
    """Ten easy classes: class k is a bright 7x7 square at its own place on a noisy background."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            r, c = 2 + (k // 5) * 13, 1 + (k % 5) * 5
            images[i, r:r + 7, c:c + 5] = rng.integers(180, 256, (7, 5))
        return images, labels

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return Dataset("mnist", x_train, y_train, x_test, y_test, [str(i) for i in range(10)], source="synthetic")


def small_cnn() -> Network:
    return Network.chain([
        "Input",
        ("Conv2D", {"filters": 6, "kernel_h": 3, "kernel_w": 3, "padding": "full"}),
        "MaxPool2D",
        "BatchNorm",
        ("Conv2D", {"filters": 8, "kernel_h": 3, "kernel_w": 3, "stride_h": 2, "stride_w": 2}),
        "Flatten",
        ("Dropout", {"rate": 0.25}),
        ("Dense", {"units": 10, "activation": "linear"}),  # build_model appends the softmax
    ])


@pytest.fixture(scope="module")
def trained():
    """A small CNN trained for a few batches on the synthetic set (well above chance)."""
    import keras

    keras.utils.set_random_seed(1)
    data = synthetic_dataset()
    net = small_cnn()
    model = build_model(net)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train[..., None] / 255.0, data.y_train, batch_size=32, epochs=2, verbose=0)
    return model, net, data


def _normalised(images: np.ndarray) -> np.ndarray:
    return images[..., None].astype(np.float32) / 255.0


def _reload_outputs(fmt: str, path: Path, images: np.ndarray) -> np.ndarray:
    """Run the written artefact with its own runtime, independently of the exporter's own check."""
    if fmt in ("keras", "predict"):
        import keras

        file = path / "model.keras" if fmt == "predict" else path
        return np.asarray(keras.saving.load_model(file)(_normalised(images)))
    if fmt == "savedmodel":
        import tensorflow as tf

        serve = tf.saved_model.load(str(path)).signatures["serve"]
        return serve(images=tf.constant(images))["probabilities"].numpy()  # raw uint8 in
    if fmt in ("tflite", "tflite_int8"):
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interp = tf.lite.Interpreter(model_path=str(path))
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        x = _normalised(images) if fmt == "tflite" else images[..., None]  # int8 model takes raw pixels
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
        interp.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interp.invoke()
        y = interp.get_tensor(out["index"]).astype(np.float32)
        if fmt == "tflite_int8":
            scale, zero = out["quantization"]
            y = (y - zero) * scale
        return y
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: _normalised(images)})[0]
    raise AssertionError(fmt)


def _available(fmt: str) -> bool:
    return FORMATS[fmt].availability() is None


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "script"])
def test_every_format_round_trips_with_the_same_outputs(trained, tmp_path, fmt):
    if not _available(fmt):
        pytest.skip(FORMATS[fmt].availability())
    model, net, data = trained
    target = tmp_path / ("export" + FORMATS[fmt].suffix)
    report = export_model(model, fmt, target, network=net, dataset=data, settings=TrainSettings())

    assert report.verified and report.path == str(target) and target.exists()
    assert report.compared_images == 256 and report.size_bytes > 0
    assert report.max_abs_diff is not None and report.max_abs_diff <= FORMATS[fmt].tolerance
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no staging left behind
    images = data.x_test[:64]
    expected = np.asarray(model(_normalised(images), training=False))
    diff = np.abs(_reload_outputs(fmt, target, images) - expected).max()
    assert diff <= FORMATS[fmt].tolerance, f"{fmt}: {diff}"
    assert "max |difference|" in report.summary and "test images" in report.summary


def test_int8_keeps_accuracy_and_takes_raw_pixels(trained, tmp_path):
    import tensorflow as tf

    model, net, data = trained
    report = export_model(model, "tflite_int8", tmp_path / "q", network=net, dataset=data)
    assert report.path.endswith("q.tflite")
    assert report.accuracy_model is not None and report.accuracy_model > 0.5  # trained, so it means something
    assert abs(report.accuracy_change) <= 0.05
    assert f"accuracy {report.accuracy_model:.1%} -> {report.accuracy_export:.1%}" in report.summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interp = tf.lite.Interpreter(model_path=report.path)
    inp = interp.get_input_details()[0]
    assert inp["dtype"] == np.uint8
    assert inp["quantization"][0] == pytest.approx(1 / 255, rel=1e-3) and inp["quantization"][1] == 0
    float_size = export_model(model, "tflite", tmp_path / "f", network=net, dataset=data).size_bytes
    assert report.size_bytes < float_size / 2


def test_keras_export_keeps_optimizer_state(trained, tmp_path):
    import keras

    model, net, data = trained
    report = export_model(model, "keras", tmp_path / "m.keras", network=net, dataset=data)
    loaded = keras.saving.load_model(report.path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert [np.asarray(v).tolist() for v in loaded.optimizer.variables[:3]] == \
        [np.asarray(v).tolist() for v in model.optimizer.variables[:3]]
    assert any("optimizer state saved" in n for n in report.notes)


def _no_convstudio_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import convstudio`` fails, to prove a script is standalone."""
    fake = tmp_path / "shadow" / "convstudio"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('convstudio is not available here')\n")
    return {**os.environ, "PYTHONPATH": str(fake.parent), "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_generated_script_trains_the_same_network_without_convstudio(trained, tmp_path):
    model, net, data = trained
    settings = TrainSettings(optimizer="sgd", learning_rate=0.05, batch_size=16, epochs=3,
                             early_stopping=EarlyStopping(enabled=True, patience=1),
                             reduce_lr_on_plateau=ReduceLROnPlateau(enabled=True, factor=0.2))
    report = export_model(model, "script", tmp_path / "train_digits", network=net, dataset=data, settings=settings)
    script = Path(report.path)
    assert script.name == "train_digits.py" and report.max_abs_diff == 0.0
    source = script.read_text()
    assert "convstudio" not in re.sub(r"#.*|\"\"\"[\s\S]*?\"\"\"|\"[^\"\n]*\"", "", source).lower()
    assert "SGD(learning_rate=LEARNING_RATE, momentum=0.9" in source and "BATCH_SIZE = 16" in source
    assert 'EarlyStopping(monitor="val_loss", patience=1' in source and "ReduceLROnPlateau(" in source

    npz = tmp_path / "small.npz"
    np.savez(npz, x_train=data.x_train[:96], y_train=data.y_train[:96], x_test=data.x_test[:32],
             y_test=data.y_test[:32])
    summary = tmp_path / "summary.json"
    run = subprocess.run(
        [sys.executable, str(script), "--data", str(npz), "--epochs", "1", "--max-steps", "2", "--limit", "64",
         "--summary-json", str(summary), "--out", str(tmp_path / "trained.keras")],
        cwd=tmp_path, env=_no_convstudio_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(summary.read_text())
    assert result["params"] == model.count_params()
    assert result["output_shape"] == [10]
    assert result["layers"] == {layer.name: layer.count_params() for layer in model.layers}
    assert result["epochs_run"] == 1 and (tmp_path / "trained.keras").exists()


def test_script_rebuilds_a_branching_network_exactly(tmp_path):
    """A branching network (residual and inception joins, keyword and builtin ids) exports to a script
    that rebuilds it exactly; test_block_kinds.py checks the script for every registered kind."""
    import keras

    net = Network()
    i = net.add_block("Input", block_id="input")  # a Python builtin, and below a keyword, as block ids
    a = net.add_block("Conv2D", {"filters": 4, "padding": "same", "activation": "elu"})
    b = net.add_block("Conv2D", {"filters": 4, "kernel_h": 1, "kernel_w": 1, "use_bias": False})
    add = net.add_block("Add")
    act = net.add_block("Activation", {"function": "leaky_relu"})
    mp = net.add_block("MaxPool2D", {"padding": "same"})
    ap = net.add_block("AvgPool2D", {"pool_h": 3, "pool_w": 3, "stride_h": 1, "stride_w": 1, "padding": "same"})
    cat = net.add_block("Concatenate")
    bn = net.add_block("BatchNorm", {"momentum": 0.9})
    g1 = net.add_block("GlobalAvgPool2D")
    g2 = net.add_block("GlobalMaxPool2D")
    cat2 = net.add_block("Concatenate", block_id="merge")
    flat = net.add_block("Flatten")
    drop = net.add_block("Dropout", {"rate": 0.1})
    dense = net.add_block("Dense", {"units": 10, "activation": "tanh"}, block_id="lambda")
    for s, d in [(i, a), (i, b), (a, add), (b, add), (add, act), (act, mp), (mp, ap), (mp, cat), (ap, cat),
                 (cat, bn), (bn, g1), (bn, g2), (g1, cat2), (g2, cat2), (cat2, flat), (flat, drop), (drop, dense)]:
        net.connect(s, d)
    keras.utils.set_random_seed(3)
    model = build_model(net)
    report = export_model(model, "script", tmp_path / "all.py", network=net)
    assert report.max_abs_diff <= 1e-6 and "random images" in " ".join(report.notes)


def test_predict_script_classifies_image_files_like_the_app(trained, tmp_path):
    from PIL import Image

    model, net, data = trained
    report = export_model(model, "predict", tmp_path / "bundle", network=net, dataset=data)
    bundle = Path(report.path)
    assert sorted(p.name for p in bundle.iterdir()) == [MARKER, "model.keras", "predict.py"]
    files = []
    for k in range(3):
        files.append(tmp_path / f"img{k}.png")
        Image.fromarray(data.x_test[k]).save(files[-1])
    (tmp_path / "x.png").write_text("not an image, whatever the name says")
    files.insert(1, tmp_path / "x.png")
    run = subprocess.run([sys.executable, str(bundle / "predict.py"), *map(str, files), "--top", "1"],
                         cwd=tmp_path, env=_no_convstudio_env(tmp_path), capture_output=True, text=True, timeout=120)
    # the file that is not an image is named and skipped; the others are classified
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert f"{tmp_path / 'x.png'}: not an image (PNG, JPEG, ...) that can be read; skipped" in run.stderr
    predicted = [line.split(": ")[1].split(" ")[0] for line in run.stdout.strip().splitlines()]
    expected = np.argmax(model(_normalised(data.x_test[:3]), training=False), axis=-1)
    assert predicted == [data.class_names[k] for k in expected]

    # dark ink on white paper, at another size: --invert and resizing bring it to the model's input
    from convstudio.core.export.codegen import load_module

    predict = load_module(bundle / "predict.py")
    Image.fromarray(255 - data.x_test[3]).save(tmp_path / "paper.png")
    assert np.array_equal(predict.load_image(tmp_path / "paper.png", invert=True), data.x_test[3])
    Image.fromarray(data.x_test[3]).resize((56, 56), Image.NEAREST).save(tmp_path / "big.png")
    assert predict.load_image(tmp_path / "big.png").shape == (28, 28)


# --------------------------------------------------------------------------- failures leave nothing


def test_missing_folder_is_refused_and_nothing_is_created(trained, tmp_path):
    model, net, data = trained
    with pytest.raises(ExportError, match="does not exist"):
        export_model(model, "keras", tmp_path / "nope" / "m.keras", network=net, dataset=data)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_a_file_goes_is_refused(trained, tmp_path):
    model, net, data = trained
    (tmp_path / "m.tflite").mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        export_model(model, "tflite", tmp_path / "m.tflite", network=net, dataset=data)
    (tmp_path / "sm").write_text("keep me")
    with pytest.raises(ExportError, match="a file with that name exists"):
        export_model(model, "savedmodel", tmp_path / "sm", network=net, dataset=data)
    assert (tmp_path / "sm").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite", "sm"]
    assert list((tmp_path / "m.tflite").iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_permission_denied_is_explained(trained, tmp_path):
    model, net, data = trained
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="permission denied"):
            export_model(model, "keras", locked / "m.keras", network=net, dataset=data)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_unwritable_disk_is_explained(trained, tmp_path, monkeypatch):
    """Where the folder refuses writes (here: simulated, as root ignores permissions), the reason is given."""
    import tempfile

    model, net, data = trained

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(ExportError, match=r"cannot write to .*: permission denied"):
        export_model(model, "keras", tmp_path / "m.keras", network=net, dataset=data)
    assert list(tmp_path.iterdir()) == []


def test_failed_verification_keeps_the_old_file_and_leaves_no_partial_one(trained, tmp_path, monkeypatch):
    from convstudio.core.export import savedmodel
    from convstudio.core.export.verify import Check

    model, net, data = trained
    first = export_model(model, "savedmodel", tmp_path / "sm", network=net, dataset=data)
    before = {p: p.read_bytes() for p in Path(first.path).rglob("*") if p.is_file()}
    monkeypatch.setattr(savedmodel, "verify", lambda ctx, path: Check(0.5, len(ctx.images)))
    with pytest.raises(ExportError, match=r"does not match .* max \|difference\| 0\.5 .*nothing was written"):
        export_model(model, "savedmodel", tmp_path / "sm", network=net, dataset=data, overwrite=True)
    assert {p: p.read_bytes() for p in Path(first.path).rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]


def test_converter_failure_is_reported_without_a_traceback_or_partial_file(trained, tmp_path, monkeypatch):
    from convstudio.core.export import tflite

    model, net, data = trained

    def half_written(ctx, path):
        path.write_bytes(b"partial")
        raise RuntimeError("converter exploded\nwith a long trace")

    monkeypatch.setattr(tflite, "write", half_written)
    with pytest.raises(ExportError) as info:
        export_model(model, "tflite", tmp_path / "m.tflite", network=net, dataset=data)
    assert str(info.value) == "TensorFlow Lite (float) export failed: converter exploded"
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_and_missing_model_are_explained(trained, tmp_path):
    model, net, data = trained
    with pytest.raises(ExportError, match="unknown export format 'pt'; choose one of keras, savedmodel"):
        export_model(model, "pt", tmp_path / "x", network=net)
    with pytest.raises(ExportError, match="train the network first"):
        export_model(None, "keras", tmp_path / "x", network=net)
    with pytest.raises(ExportError, match="choose where to save"):
        export_model(model, "keras", "", network=net)


def test_a_format_whose_packages_are_missing_says_how_to_install_them(trained, tmp_path, monkeypatch):
    model, net, _ = trained
    missing = dataclasses.replace(FORMATS["onnx"], requires=("no_such_package_for_export",))
    monkeypatch.setitem(FORMATS, "onnx", missing)
    reason = missing.availability()
    assert reason == ("ONNX export is not available because no_such_package_for_export is not installed; "
                      "install it with: pip install \"convstudio[onnx]\"")
    with pytest.raises(ExportError, match=re.escape(reason)):
        export_model(model, "onnx", tmp_path / "m.onnx", network=net)
    assert list(tmp_path.iterdir()) == []


def test_every_format_explains_itself():
    for fmt in FORMATS.values():
        assert isinstance(fmt, ExportFormat)
        assert fmt.label and len(fmt.description) > 40 and 0 < fmt.tolerance < 1


def test_a_script_for_a_network_edited_after_training_is_refused(trained, tmp_path):
    model, net, data = trained
    edited = net.copy()
    conv = next(b.id for b in edited if b.kind == "Conv2D")
    edited.set_param(conv, "filters", 7)
    with pytest.raises(ExportError, match="trained before the network was edited; train it again"):
        export_model(model, "script", tmp_path / "train.py", network=edited, dataset=data)
    assert list(tmp_path.iterdir()) == []
