"""``convstudio-cli export`` writes and verifies every format through the core exporter."""

from __future__ import annotations

import pytest

from convstudio import cli
from convstudio.core.builder import build_model
from convstudio.core.presets import load_preset


@pytest.fixture(scope="module")
def lenet_file(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    project = load_preset("lenet5")
    network = getattr(project, "network", project)
    model = build_model(network)
    model.compile("adam", "sparse_categorical_crossentropy")
    path = tmp_path_factory.mktemp("run") / "model.keras"
    model.save(path)
    return path


def test_the_export_command_accepts_every_format():
    from convstudio.core.export import FORMATS

    parser = cli.build_parser()
    for fmt in FORMATS:
        assert parser.parse_args(["export", "lenet5", "--format", fmt, "--out", "x"]).format == fmt


@pytest.mark.parametrize("fmt, written", [("tflite_int8", "lenet.tflite"), ("script", "lenet.py")])
def test_export_command_writes_and_reports_verification(lenet_file, tmp_path, capsys, monkeypatch, fmt, written):
    monkeypatch.delenv("CONVSTUDIO_DATA_DIR", raising=False)
    # verification images come from the dataset the loader finds (the bundled sample at least)
    code = cli.main(["export", "lenet5", "--format", fmt, "--model", str(lenet_file), "--out", str(tmp_path / "lenet")])
    out = capsys.readouterr().out
    assert code == 0
    assert (tmp_path / written).is_file()
    assert f"written to {tmp_path / written}" in out and "max |difference|" in out
    if fmt == "tflite_int8":
        assert "accuracy" in out and "test images" in out


def test_export_command_explains_an_unwritable_path(lenet_file, tmp_path, capsys):
    code = cli.main(["export", "lenet5", "--format", "savedmodel", "--model", str(lenet_file),
                     "--out", str(tmp_path / "missing" / "served"), "--no-verify-data"])
    assert code != 0
    err = capsys.readouterr().err
    assert "export failed: cannot export to" in err and "does not exist" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_export_command_needs_force_to_replace_and_defaults_beside_the_project(lenet_file, tmp_path, capsys,
                                                                               monkeypatch):
    from convstudio.core.presets import preset_path

    project = tmp_path / "digits.json"
    project.write_text(preset_path("lenet5").read_text())
    args = ["export", str(project), "--model", str(lenet_file), "--no-verify-data"]
    assert cli.main(args) == 0  # no --out: beside the project, named after it
    target = tmp_path / "digits.keras"
    assert target.is_file()
    before = target.read_bytes()
    capsys.readouterr()

    assert cli.main(args) != 0
    err = capsys.readouterr().err
    assert f"{target} already exists" in err and "--force" in err and "Traceback" not in err
    assert target.read_bytes() == before
    assert cli.main(args + ["--force"]) == 0
    assert cli.main(args + ["--format", "tflite"]) == 0  # another format: another default name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.json", "digits.keras", "digits.tflite"]

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "lenet5_predict"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep")
    assert cli.main(["export", "lenet5", "--format", "predict", "--model", str(lenet_file), "--no-verify-data",
                     "--force"]) != 0  # a preset exports into the current folder; a foreign folder is refused
    assert "not an earlier export by ConvStudio" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


def test_export_command_explains_a_damaged_model_file(tmp_path, capsys):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"PK\x03\x04 this was cut short")
    code = cli.main(["export", "lenet5", "--model", str(bad), "--out", str(tmp_path / "x"), "--no-verify-data"])
    err = capsys.readouterr().err
    assert code != 0 and "damaged or not a Keras model file" in err
    assert "File not found" not in err and "zip" not in err.lower() and "Traceback" not in err
