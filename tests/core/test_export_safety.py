"""Exports run nothing a user wrote and lose nothing a user has: user strings are literals in the
generated code, generated files run only in a child process, existing files and folders are
replaced only when confirmed (and folders only when ConvStudio wrote them), and a model that does
not belong to the project, a damaged model file or a non-image file is explained in plain words."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest

from convstudio.core.builder import build_model, model_name
from convstudio.core.datasets import Dataset
from convstudio.core.export import FORMATS, ExportError, ExportExists, default_export_path, export_model
from convstudio.core.export.codegen import check_literals, predict_script, training_script
from convstudio.core.export.loading import load_trained_model
from convstudio.core.export.staging import MARKER, STAGING_MARK
from convstudio.core.network import Network

EVIL = 'x"; import os; os.system("touch PWNED"); _ = "'


def tiny_network(units: int = 10) -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                          ("Dense", {"units": units, "activation": "softmax"})])


def tiny_dataset(is_sample: bool = False, size: int = 28) -> Dataset:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, 24)
    return Dataset("mnist", images, labels, images[:12], labels[:12], [str(i) for i in range(10)],
                   is_sample=is_sample)


@pytest.fixture(scope="module")
def tiny():
    import keras

    keras.utils.set_random_seed(0)
    net = tiny_network()
    return build_model(net), net


def _code_tokens(source: str) -> str:
    """The source without its string literals and comments: what Python would run."""
    kept = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.STRING, tokenize.COMMENT)]
    return " ".join(kept)


# --------------------------------------------------------------------------- no code execution


def test_user_strings_in_generated_code_are_literals():
    """Cheap: every template, with hostile names, parses and holds the names only as literals."""
    hostile = [EVIL, 'a"""b', "c'''d", "back\\slash\\", "line\nbreak", "{script}", "\x1b[31mred"]
    for name in hostile:
        source = training_script(tiny_network(), model_name=name, class_names=hostile + ["z"] * 3,
                                 script_name=name + ".py")
        ast.parse(source)
        check_literals(source, {"MODEL_NAME": model_name(name), "CLASS_NAMES": hostile + ["z"] * 3})
        assert "os.system" not in _code_tokens(source) and "PWNED" not in _code_tokens(source)
        predict = predict_script(hostile, model_file=name)
        ast.parse(predict)
        check_literals(predict, {"CLASS_NAMES": hostile})
        assert "PWNED" not in _code_tokens(predict)


def test_a_hostile_model_name_is_never_run_and_stays_a_literal(tmp_path, monkeypatch):
    """An imported .keras model named like code: exporting it as a script and as predict.py runs
    nothing (the generated files are checked in a child process), and the name stays a literal."""
    import keras

    from convstudio.core.importer import import_keras_model

    keras.utils.set_random_seed(0)
    build_model(tiny_network(), name=EVIL).save(tmp_path / "evil.keras")
    network, model = import_keras_model(tmp_path / "evil.keras")
    assert model.name == model_name(EVIL) == "x_import_os_os.system_touch_PWNED"  # a name Keras can train
    monkeypatch.chdir(tmp_path)
    modules = set(sys.modules)

    script = export_model(model, "script", tmp_path / "train", network=network, dataset=tiny_dataset())
    bundle = export_model(model, "predict", tmp_path / "bundle", network=network, dataset=tiny_dataset())

    assert script.verified and bundle.verified and script.max_abs_diff == 0.0
    assert not (tmp_path / "PWNED").exists()
    assert not any(m.startswith("_convstudio_check") for m in set(sys.modules) - modules)  # nothing imported here
    source = Path(script.path).read_text()
    tree = ast.parse(source)
    assert MODEL_NAME_of(tree) == model.name
    assert not any(isinstance(n, ast.Attribute) and n.attr == "system" for n in ast.walk(tree))
    assert "os.system" not in _code_tokens(source)
    ast.parse((Path(bundle.path) / "predict.py").read_text())


def MODEL_NAME_of(tree: ast.Module) -> str:
    return next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", "") == "MODEL_NAME")


# --------------------------------------------------------------------------- nothing lost


@pytest.mark.parametrize("fmt", ["savedmodel", "predict"])
def test_a_folder_that_convstudio_did_not_write_is_never_replaced(tiny, tmp_path, fmt):
    model, net = tiny
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(ExportError, match="not an earlier export by ConvStudio; ConvStudio only replaces"):
            export_model(model, fmt, folder, network=net, verify=False, overwrite=overwrite)
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"] and (folder / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # no staging left behind


def test_an_earlier_export_is_replaced_only_when_confirmed_and_only_with_what_it_wrote(tiny, tmp_path):
    model, net = tiny
    target = tmp_path / "bundle"
    export_model(model, "predict", target, network=net, verify=False)
    marker = json.loads((target / MARKER).read_text())
    assert marker["format"] == "predict" and marker["files"] == ["model.keras", "predict.py"]

    with pytest.raises(ExportExists, match="already exists"):
        export_model(model, "predict", target, network=net, verify=False)
    with pytest.raises(ExportError, match="another format"):
        export_model(model, "savedmodel", target, network=net, verify=False, overwrite=True)
    (target / "predict.py").write_text("# my edits")  # a file it wrote: replacing it was confirmed
    export_model(model, "predict", target, network=net, verify=False, overwrite=True)
    assert "my edits" not in (target / "predict.py").read_text()

    (target / "notes.txt").write_text("mine")  # a file it did not write: never deleted
    with pytest.raises(ExportError, match="it holds notes.txt, which ConvStudio did not write; move it away"):
        export_model(model, "predict", target, network=net, verify=False, overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"

    empty = tmp_path / "empty"
    empty.mkdir()  # an empty folder has nothing to lose
    export_model(model, "savedmodel", empty, network=net, verify=False)
    assert (empty / "saved_model.pb").is_file()


def test_an_existing_file_is_replaced_only_when_confirmed(tiny, tmp_path):
    model, net = tiny
    target = tmp_path / "m.keras"
    target.write_bytes(b"older model")
    with pytest.raises(ExportExists, match=f"{target} already exists"):
        export_model(model, "keras", target, network=net, verify=False)
    assert target.read_bytes() == b"older model"
    export_model(model, "keras", target, network=net, verify=False, overwrite=True)
    assert target.read_bytes() != b"older model"


def test_stale_staging_folders_of_ours_are_cleaned_up_and_others_kept(tiny, tmp_path):
    model, net = tiny
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(done.stdout)
    stale = tmp_path / ".m.keras.exporting-abc123"
    stale.mkdir()
    (stale / STAGING_MARK).write_text(json.dumps({"pid": dead_pid}))
    (stale / "m.keras").write_bytes(b"half")
    foreign = tmp_path / ".m.keras.exporting-user"
    foreign.mkdir()  # looks alike, but carries no marker of ours
    live = tmp_path / ".m.keras.exporting-live"
    live.mkdir()
    (live / STAGING_MARK).write_text(json.dumps({"pid": os.getpid()}))  # an export still running
    export_model(model, "keras", tmp_path / "m.keras", network=net, verify=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, foreign.name, "m.keras"]


def test_default_names_follow_the_project_and_never_collide(tmp_path):
    project = tmp_path / "digits.json"
    paths = {fmt: default_export_path(fmt, project) for fmt in FORMATS}
    assert len(set(paths.values())) == len(FORMATS)
    assert all(Path(p).parent == tmp_path and Path(p).name.startswith("digits") for p in paths.values())
    assert Path(paths["tflite_int8"]).name == "digits_int8.tflite" and Path(paths["keras"]).name == "digits.keras"
    unnamed = {default_export_path(fmt, None, model_name="my net/../x", folder=tmp_path) for fmt in FORMATS}
    assert len(unnamed) == len(FORMATS) and all(Path(p).parent == tmp_path for p in unnamed)


# --------------------------------------------------------------------------- saying what happened


def test_a_model_that_does_not_match_the_network_is_refused_by_name(tiny, tmp_path):
    model, _ = tiny
    edited = tiny_network()
    conv = next(b.id for b in edited if b.kind == "Conv2D")
    edited.set_param(conv, "filters", 3)
    with pytest.raises(ExportError, match=rf"block {conv} \(Conv2D\) gives .*trained before the network was edited"):
        export_model(model, "keras", tmp_path / "m.keras", network=edited, verify=False)
    longer = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten", ("Dropout", {"rate": 0.5}),
                            ("Dense", {"units": 10, "activation": "softmax"})])
    dropout = next(b.id for b in longer if b.kind == "Dropout")
    with pytest.raises(ExportError, match=f"the trained model has no layer for block {dropout} \\(Dropout\\)"):
        export_model(model, "keras", tmp_path / "m.keras", network=longer, verify=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_a_model_for_another_input_size_is_explained(tmp_path, fmt):
    if FORMATS[fmt].availability():
        pytest.skip(FORMATS[fmt].availability())
    net = tiny_network()
    model = build_model(net, input_shape=(32, 32, 1))
    with pytest.raises(ExportError, match="the model takes 32x32x1 images but the mnist images are 28x28x1"):
        export_model(model, fmt, tmp_path / "m", network=net, dataset=tiny_dataset())
    assert list(tmp_path.iterdir()) == []


def test_a_result_on_the_bundled_sample_says_so(tiny, tmp_path):
    model, net = tiny
    report = export_model(model, "keras", tmp_path / "m.keras", network=net, dataset=tiny_dataset(is_sample=True))
    assert "on 12 test images of the bundled sample" in report.summary
    assert any("bundled sample" in n and "full dataset" in n for n in report.notes)
    full = export_model(model, "keras", tmp_path / "f.keras", network=net, dataset=tiny_dataset())
    assert not any("sample" in n for n in full.notes) and "on 12 test images" in full.summary


def test_library_messages_name_the_target_not_the_staging_folder(tiny, tmp_path, monkeypatch):
    from convstudio.core.export import keras_export

    model, net = tiny

    def fail(ctx, path):
        raise ValueError(f"Unable to create file (unable to open file: name = '{path}')")

    monkeypatch.setattr(keras_export, "write", fail)
    with pytest.raises(ExportError) as info:
        export_model(model, "keras", tmp_path / "m.keras", network=net, verify=False)
    assert ".exporting-" not in str(info.value) and str(tmp_path / "m.keras") in str(info.value)


@pytest.mark.parametrize("content", [b"not a model at all", b"PK\x03\x04" + b"\x00" * 40, b"\x89HDF\r\n\x1a\n" + b"\x00" * 40])
def test_a_damaged_model_file_is_explained_in_plain_words(tmp_path, content):
    bad = tmp_path / "model.keras"
    bad.write_bytes(content)
    with pytest.raises(ExportError) as info:
        load_trained_model(bad)
    message = str(info.value)
    assert message == f"{bad} cannot be loaded as a model: it is damaged or not a Keras model file (.keras or .h5)"


def test_a_model_of_any_name_can_be_trained():
    """Keras trains only models named like a TensorFlow root scope; every name is made one."""

    names = [EVIL, "my model", "ünï", "a/b", "-x", "", "\x1b[31mred"]
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9.][A-Za-z0-9_.\-]*", model_name(name)), name
    model = build_model(tiny_network(), name="-my model/ünï")
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.zeros((2, *model.input_shape[1:]), "float32")
    model.fit(x, np.zeros(2, "int32"), verbose=0)  # refused with a ValueError before the name was made valid
    assert model.name == "convstudio_-my_model_n"
