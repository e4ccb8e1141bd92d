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
