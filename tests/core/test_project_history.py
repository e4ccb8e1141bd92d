"""A trained project keeps the history of its weights; old projects without one still open."""

from __future__ import annotations

import json
import math

import pytest

from convstudio.core.history import HistoryError, history_from_json, history_to_columns
from convstudio.core.network import Network
from convstudio.core.project import Project, ProjectError, load_project, save_project


def project() -> Project:
    return Project(Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]))


def test_the_history_is_saved_with_the_weights_and_read_back(tmp_path):
    weights = tmp_path / "lenet.weights.keras"
    weights.write_bytes(b"weights")  # only its presence matters here
    p = project()
    p.weights_path = str(weights)
    p.history = [{"loss": 0.9, "val_loss": math.nan}, {"loss": 0.5, "accuracy": 0.8}]
    save_project(p, tmp_path / "lenet.json")
    back = load_project(tmp_path / "lenet.json")
    assert back.history[0]["loss"] == 0.9 and math.isnan(back.history[0]["val_loss"])
    assert back.history[1] == {"loss": 0.5, "accuracy": 0.8}
    cols = history_to_columns(back.history)
    assert cols["loss"] == [0.9, 0.5] and math.isnan(cols["accuracy"][0])


def test_no_history_without_weights_and_old_files_open(tmp_path):
    p = project()
    p.history = [{"loss": 0.9}]
    save_project(p, tmp_path / "a.json")
    assert "history" not in json.loads((tmp_path / "a.json").read_text())
    assert load_project(tmp_path / "a.json").history == []


def test_a_damaged_history_is_a_one_line_error(tmp_path):
    weights = tmp_path / "a.weights.keras"
    weights.write_bytes(b"w")
    p = project()
    p.weights_path = str(weights)
    save_project(p, tmp_path / "a.json")
    data = json.loads((tmp_path / "a.json").read_text())
    data["history"] = [{"loss": "high"}]
    (tmp_path / "a.json").write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="not a number") as info:
        load_project(tmp_path / "a.json")
    assert "\n" not in str(info.value)
    for bad in ("x", [1], [{"": 1.0}], [{"loss": True}]):
        with pytest.raises(HistoryError):
            history_from_json(bad)


def test_a_crash_safety_copy_remembers_the_projects_own_file(tmp_path):
    from convstudio.core.session import Session

    save_project(project(), tmp_path / "lenet.json")
    session = Session.open(tmp_path / "lenet.json")
    copy = session.write_autosave(str(tmp_path / "autosave.json"))
    recovered = load_project(copy)
    assert recovered.source_path == str(tmp_path / "lenet.json")
    assert load_project(tmp_path / "lenet.json").source_path is None  # only copies carry it


def test_a_session_keeps_the_history_of_its_projects_weights(tmp_path):
    from convstudio.core.session import Session

    weights = tmp_path / "a.weights.keras"
    weights.write_bytes(b"w")
    p = project()
    p.weights_path, p.history = str(weights), [{"loss": 0.7}]
    save_project(p, tmp_path / "a.json")
    session = Session.open(tmp_path / "a.json")
    assert session.history == [{"loss": 0.7}] and session.to_project().history == [{"loss": 0.7}]
