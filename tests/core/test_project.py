"""Project files and training settings: round trips, weights beside the file, and every way a file
can be bad (each refused with a clear message, nothing modified)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convstudio.core import atomic
from convstudio.core.network import Network
from convstudio.core.project import Project, ProjectError, load_project, load_project_model, save_project
from convstudio.core.settings import EarlyStopping, SettingsError, TrainSettings


def branching_network() -> Network:
    net = Network()
    net.add_block("Input", {}, (0, 0), "inp")
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, (-100, 110), "left")
    net.add_block("Conv2D", {"filters": 4, "kernel_h": 5, "kernel_w": 5, "padding": "same"}, (100, 110), "right")
    net.add_block("Concatenate", {}, (0, 220), "cat")
    net.add_block("GlobalAvgPool2D", {}, (0, 330), "gap")
    net.add_block("Dense", {"units": 10, "activation": "softmax"}, (0, 440), "out")
    for src, dst in [("inp", "left"), ("inp", "right"), ("right", "cat"), ("left", "cat"), ("cat", "gap"),
                     ("gap", "out")]:
        net.connect(src, dst)
    return net


def make_project() -> Project:
    s = TrainSettings(optimizer="sgd", learning_rate=0.05, momentum=0.8, nesterov=True, batch_size=16, epochs=3,
                      early_stopping=EarlyStopping(enabled=True, patience=1))
    return Project(branching_network(), s, "fashion_mnist", "/data/sets", title="Two branches",
                   description="A test network")


def test_round_trip_keeps_everything(tmp_path):
    project = make_project()
    path = save_project(project, tmp_path / "p.json")
    data = json.loads(path.read_text())
    assert (data["format"], data["schema_version"]) == ("convstudio-project", 1)
    assert data["dataset"] == {"name": "fashion_mnist", "data_dir": "/data/sets"} and data["weights"] is None
    loaded = load_project(path)
    assert loaded.network.to_dict() == project.network.to_dict()
    assert loaded.network.inputs_of("cat") == ["right", "left"]  # merge input order survives
    assert loaded.settings == project.settings
    assert (loaded.dataset_name, loaded.data_dir, loaded.title, loaded.description) == \
        ("fashion_mnist", "/data/sets", "Two branches", "A test network")
    assert loaded.weights_path is None and load_project_model(loaded) is None


def test_weights_are_saved_beside_and_found_after_a_move(tmp_path):
    from convstudio.core.builder import build_model

    project = make_project()
    model = build_model(project.network)
    save_project(project, tmp_path / "a" / "net.json", model=model)
    assert json.loads((tmp_path / "a" / "net.json").read_text())["weights"] == "net.weights.keras"
    moved = tmp_path / "b"
    (tmp_path / "a").rename(moved)
    again = load_project_model(load_project(moved / "net.json"))
    for w1, w2 in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(w1, w2)


def test_missing_or_damaged_weights_are_reported(tmp_path):
    from convstudio.core.builder import build_model

    project = make_project()
    save_project(project, tmp_path / "net.json", model=build_model(project.network))
    weights = tmp_path / "net.weights.keras"
    weights.write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="cannot be loaded"):
        load_project_model(load_project(tmp_path / "net.json"))
    weights.unlink()
    with pytest.raises(ProjectError, match="missing"):
        load_project_model(load_project(tmp_path / "net.json"))


def _valid_text() -> str:
    return json.dumps({"format": "convstudio-project", "schema_version": 1,
                       "network": branching_network().to_dict(), "training": {}, "dataset": {"name": "mnist"}})


def _with(**changes) -> str:
    data = json.loads(_valid_text())
    data.update(changes)
    return json.dumps(data)


BAD_FILES = {
    "empty": (b"", "empty"),
    "truncated": (_valid_text()[: len(_valid_text()) // 2].encode(), "truncated"),
    "not json": (b"layers: [conv, pool]\n", "not valid JSON"),
    "binary": (bytes(range(256)), "not a text file"),
    "foreign json": (b'{"name": "something else"}', "not a ConvStudio project"),
    "other format": (_with(format="other-app").encode(), "not a ConvStudio project"),
    "json list": (b"[1, 2, 3]", "not a ConvStudio project"),
    "newer schema": (_with(schema_version=7).encode(), "newer ConvStudio"),
    "bad schema": (_with(schema_version="one").encode(), "schema version"),
    "bad network": (_with(network={"blocks": [], "edges": [["a", "b"]]}).encode(), "network is invalid"),
    "bad settings": (_with(training={"learning_rate": -1}).encode(), "learning_rate"),
    "unknown dataset": (_with(dataset={"name": "imagenet"}).encode(), "dataset 'imagenet' is unknown"),
    "unknown image fitting": (_with(dataset={"name": "image_folder", "resize": "zoom"}).encode(),
                              "image resize 'zoom' is unknown; use one of stretch, crop, pad"),
    "image folder not text": (_with(dataset={"name": "image_folder", "data_dir": ["a"]}).encode(),
                              "dataset folder must be text"),
    "relative test folder too long": (_with(dataset={"name": "image_folder", "test_dir_relative": "t" * 5000})
                                      .encode(), "test folder is 5,000 characters long"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_a_reason_and_left_alone(tmp_path, case):
    raw, reason = BAD_FILES[case]
    path = tmp_path / "p.json"
    path.write_bytes(raw)
    with pytest.raises(ProjectError, match=reason) as info:
        load_project(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == raw and [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="no project file"):
        load_project(tmp_path / "nope.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_project(make_project(), tmp_path / "p.json")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    changed = make_project()
    changed.title = "Changed"
    with pytest.raises(ProjectError, match="No space left"):
        save_project(changed, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["p.json"]


# --------------------------------------------------------------------------- settings


def test_settings_round_trip_and_partial_dicts():
    s = TrainSettings(optimizer="rmsprop", batch_size=8, seed=1)
    assert TrainSettings.from_dict(s.to_dict()) == s
    partial = TrainSettings.from_dict({"epochs": 2, "early_stopping": {"patience": 9}})
    assert partial.epochs == 2 and partial.early_stopping.patience == 9
    assert partial.early_stopping.monitor == "val_loss" and partial.optimizer == TrainSettings().optimizer
    assert TrainSettings.from_dict({"epochs": 4.0}).epochs == 4 and isinstance(TrainSettings(epochs=4.0).epochs, int)


@pytest.mark.parametrize("data, fragment", [
    ({"optimizer": "adagrad"}, "optimizer must be one of sgd, adam, rmsprop"),
    ({"learning_rate": 0}, "learning_rate must be greater than 0"),
    ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"epochs": 1.5}, "epochs must be a whole number"),
    ({"validation_split": 0.95}, "validation_split must be at most 0.9"),
    ({"nesterov": "yes"}, "nesterov must be true or false"),
    ({"early_stopping": {"monitor": "val_f1"}}, "early_stopping.monitor must be one of"),
    ({"reduce_lr_on_plateau": {"factor": 1.5}}, "reduce_lr_on_plateau.factor must be at most"),
    ({"early_stopping": {"speed": 1}}, "early_stopping has unknown setting"),
    ({"colour": "red"}, "unknown setting"),
    ("adam", "must be a mapping"),
])
def test_bad_settings_name_the_field(data, fragment):
    with pytest.raises(SettingsError, match=fragment):
        TrainSettings.from_dict(data)
