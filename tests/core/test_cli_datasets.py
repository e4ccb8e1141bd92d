"""The command line trains on and checks against the colour sources (generated shapes, image folders)."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest
from datafiles import png_folder  # noqa: E402

from convstudio.cli import EXIT_DATA, EXIT_ERROR, EXIT_INVALID, EXIT_OK, main
from convstudio.core.data import synthetic
from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.settings import TrainSettings


@pytest.fixture
def small_shapes(monkeypatch, tmp_path):
    """The coloured shapes at 128 training and 32 test images, so an epoch is two batches."""
    monkeypatch.setattr(synthetic, "colour_shapes_dataset",
                        functools.partial(synthetic.colour_shapes_dataset, n_train=128, n_test=32))
    monkeypatch.setenv("CONVSTUDIO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def rgb_project(folder: Path, height: int = 32, channels: int = 3) -> Path:
    layers = [("Input", {"height": height, "width": height, "channels": channels}), ("Conv2D", {"filters": 4}),
              "MaxPool2D", "Flatten", ("Dense", {"units": 4, "activation": "softmax"})]
    settings = TrainSettings(epochs=1, batch_size=64, validation_split=0.1, seed=3)
    return save_project(Project(Network.chain(layers), settings, "mnist"), folder / "rgb.json")


def test_trains_on_colour_shapes_by_colour(small_shapes, tmp_path, capsys):
    project = rgb_project(tmp_path)
    code = main(["train", str(project), "--dataset", "colour_shapes_by_colour", "--no-record"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    record = json.loads((tmp_path / "rgb.run" / "history.json").read_text())
    assert record["dataset"] == "colour_shapes_by_colour" and record["epochs_done"] == 1
    assert f"test accuracy: {record['test_accuracy']:.2%}" in out


def test_a_mismatched_input_says_use_the_datasets_shape(small_shapes, tmp_path, capsys):
    project = rgb_project(tmp_path, height=28, channels=1)
    assert main(["train", str(project), "--dataset", "colour_shapes_by_colour"]) == EXIT_INVALID
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "use the dataset's shape" in line]
    assert len(lines) == 1 and "32x32x3" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "rgb.run").exists()


def test_info_checks_against_the_chosen_dataset(small_shapes, tmp_path, capsys):
    grey = rgb_project(tmp_path, height=28, channels=1)
    main(["info", str(grey)])  # without --dataset the Input block's shape is not compared with anything
    assert "use the dataset's shape" not in capsys.readouterr().out
    assert main(["info", str(grey), "--dataset", "colour_shapes_by_colour"]) == EXIT_INVALID
    out = capsys.readouterr().out
    assert "dataset: colour_shapes_by_colour" in out and "use the dataset's shape" in out
    assert main(["info", str(rgb_project(tmp_path)), "--dataset", "colour_shapes_by_colour"]) == EXIT_OK


def test_image_folder_needs_a_data_dir(tmp_path, capsys):
    project = rgb_project(tmp_path)
    for command in ("train", "info"):
        assert main([command, str(project), "--dataset", "image_folder"]) == EXIT_ERROR
        err = capsys.readouterr().err
        assert "--dataset image_folder needs --data-dir FOLDER" in err and "Traceback" not in err
    assert not (tmp_path / "rgb.run").exists()


def test_every_source_is_accepted_by_the_parser():
    from convstudio.cli import build_parser
    from convstudio.core.datasets import ALL_DATASET_NAMES

    parser = build_parser()
    for name in ALL_DATASET_NAMES:
        assert parser.parse_args(["train", "p.json", "--dataset", name]).dataset == name
        assert parser.parse_args(["info", "p.json", "--dataset", name]).dataset == name


def _folder_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose data source is a tiny image folder beside it (8x8 RGB, two classes)."""
    folder = png_folder(tmp_path / "photos", {"red": 12, "green": 12}, size=(8, 8))
    layers = [("Input", {"height": 8, "width": 8, "channels": 3}), "Flatten",
              ("Dense", {"units": 2, "activation": "softmax"})]
    project = Project(Network.chain(layers), TrainSettings(epochs=1, batch_size=8, validation_split=0.2, seed=1),
                      "image_folder", str(folder), resize="crop")
    return save_project(project, tmp_path / "pets.json"), folder


def test_train_reads_the_projects_image_folder(tmp_path, capsys):
    project, folder = _folder_project(tmp_path)
    assert main(["train", str(project)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"image folder {folder}:" in out and "8x8x3 (centre-cropped to fit)" in out
    record = json.loads((tmp_path / "pets.run" / "history.json").read_text())
    assert record["dataset"] == "image_folder" and record["epochs_done"] == 1
    from convstudio.core.runs import list_runs, load_run

    (run,) = list_runs(tmp_path / "pets.runs")
    stored = load_run(run.folder).record["project"]["dataset"]  # the run keeps the very folder it trained on
    assert stored["data_dir"] == str(folder) and stored["resize"] == "crop"


def test_the_command_line_overrides_the_stored_source(tmp_path, capsys):
    project, folder = _folder_project(tmp_path)
    other = png_folder(tmp_path / "other", {"a": 3, "b": 3}, size=(8, 8))
    assert main(["info", str(project), "--data-dir", str(other), "--resize", "pad"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"image folder {other}:" in out and "(padded to fit)" in out and str(folder) not in out
    test = png_folder(tmp_path / "held", {"red": 2, "green": 2}, size=(8, 8))
    assert main(["info", str(project), "--test-dir", str(test)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"image folder {folder}: 24 training and 4 test images" in out
    main(["info", str(project), "--dataset", "colour_shapes"])  # another dataset does not read the folder
    assert "image folder" not in capsys.readouterr().out


def test_a_missing_stored_folder_is_named(tmp_path, capsys):
    project, folder = _folder_project(tmp_path)
    shutil.rmtree(folder)
    assert main(["train", str(project), "--no-record"]) == EXIT_DATA
    err = capsys.readouterr().err
    assert str(folder) in err and "Traceback" not in err
