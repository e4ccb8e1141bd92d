"""The data source in a project file: dataset, image folder, test folder and fitting survive a save,
folders are found after the project moves with its data, older files load with defaults, hostile
entries end in a project or a one-line refusal, and the session's modified state follows the choice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convstudio.core.network import Network
from convstudio.core.project import Project, ProjectError, load_project, save_project
from convstudio.core.session import Session

PRESET = Path(__file__).resolve().parents[2] / "resources" / "presets" / "lenet5.json"


def _net() -> Network:
    return Network.chain(["Input", "Flatten", ("Dense", {"units": 2, "activation": "softmax"})])


def _folder_project(folder: Path, test: Path | None = None, resize: str = "stretch") -> Project:
    return Project(_net(), dataset_name="image_folder", data_dir=str(folder),
                   test_dir=str(test) if test else None, resize=resize)


def test_an_image_folder_source_round_trips(tmp_path):
    (tmp_path / "proj" / "photos").mkdir(parents=True)
    (tmp_path / "held").mkdir()
    path = save_project(_folder_project(tmp_path / "proj" / "photos", tmp_path / "held", "crop"),
                        tmp_path / "proj" / "p.json")
    entry = json.loads(path.read_text())["dataset"]
    assert entry == {"name": "image_folder", "data_dir": str(tmp_path / "proj" / "photos"),
                     "data_dir_relative": "photos", "test_dir": str(tmp_path / "held"),
                     "test_dir_relative": "../held", "resize": "crop"}
    loaded = load_project(path)
    assert (loaded.dataset_name, loaded.data_dir, loaded.test_dir, loaded.resize) == \
        ("image_folder", str(tmp_path / "proj" / "photos"), str(tmp_path / "held"), "crop")


@pytest.mark.parametrize("name", ["cifar10", "colour_shapes", "colour_shapes_by_colour", "colour_shapes_by_both"])
def test_every_source_of_the_app_can_be_saved(tmp_path, name):
    assert load_project(save_project(Project(_net(), dataset_name=name), tmp_path / "p.json")).dataset_name == name


def test_a_project_moved_or_copied_with_its_data_uses_the_data_beside_it(tmp_path):
    (tmp_path / "a" / "photos").mkdir(parents=True)
    save_project(_folder_project(tmp_path / "a" / "photos"), tmp_path / "a" / "p.json")
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    assert load_project(tmp_path / "copy" / "p.json").data_dir == str(tmp_path / "copy" / "photos")
    shutil.move(tmp_path / "a", tmp_path / "moved")
    assert load_project(tmp_path / "moved" / "p.json").data_dir == str(tmp_path / "moved" / "photos")


def test_data_beside_the_project_folder_is_found_after_both_move(tmp_path):
    (tmp_path / "work" / "photos").mkdir(parents=True)
    save_project(_folder_project(tmp_path / "work" / "photos"), tmp_path / "work" / "proj" / "p.json")
    shutil.move(tmp_path / "work", tmp_path / "elsewhere")
    assert load_project(tmp_path / "elsewhere" / "proj" / "p.json").data_dir == \
        str(tmp_path / "elsewhere" / "photos")


def test_a_folder_far_from_the_project_is_kept_absolute(tmp_path):
    far = tmp_path / "x" / "y" / "photos"
    far.mkdir(parents=True)
    path = save_project(_folder_project(far), tmp_path / "p" / "q" / "r.json")
    entry = json.loads(path.read_text())["dataset"]
    assert entry["data_dir"] == str(far) and "data_dir_relative" not in entry
    assert load_project(path).data_dir == str(far)


def test_a_missing_folder_loads_as_written(tmp_path):
    path = save_project(_folder_project(tmp_path / "proj" / "gone"), tmp_path / "proj" / "p.json")
    assert load_project(path).data_dir == str(tmp_path / "proj" / "gone")  # the app says it is missing


def test_a_hand_written_relative_folder_is_relative_to_the_project_file(tmp_path):
    doc = json.loads(PRESET.read_text())
    doc["dataset"] = {"name": "image_folder", "data_dir": "photos"}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    assert load_project(tmp_path / "p.json").data_dir == str(tmp_path / "photos")


def test_older_files_load_with_the_default_source(tmp_path):
    doc = json.loads(PRESET.read_text())
    for entry in ({"name": "fashion_mnist", "data_dir": None}, None):
        if entry is None:
            doc.pop("dataset")
        else:
            doc["dataset"] = entry
        (tmp_path / "old.json").write_text(json.dumps(doc))
        project = load_project(tmp_path / "old.json")
        assert (project.data_dir, project.test_dir, project.resize) == (None, None, "stretch")
        assert project.dataset_name == (entry or {"name": "mnist"})["name"]


def test_saving_refuses_a_source_loading_would_refuse_and_writes_nothing(tmp_path):
    for field, value, reason in (("resize", "zoom", "unknown image resize 'zoom'"),
                                 ("dataset_name", "imagenet", "unknown dataset 'imagenet'"),
                                 ("test_dir", "t" * 5000, "test folder is 5,000 characters long")):
        project = _folder_project(tmp_path / "photos")
        setattr(project, field, value)
        with pytest.raises(ProjectError, match=reason):
            save_project(project, tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []


_VALUE = st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.lists(st.text(max_size=5), max_size=2)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=st.dictionaries(st.sampled_from(["name", "data_dir", "data_dir_relative", "test_dir",
                                              "test_dir_relative", "resize"]), _VALUE, max_size=6))
def test_any_dataset_entry_gives_a_project_or_a_one_line_error(tmp_path, entry):
    doc = json.loads(PRESET.read_text())
    doc["dataset"] = entry
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    try:
        project = load_project(path)
    except ProjectError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        for folder in (project.data_dir, project.test_dir):
            assert folder is None or Path(folder).is_absolute()


# --------------------------------------------------------------------------- the session's modified state


def test_changing_the_data_source_marks_the_session_modified_until_saved(tmp_path):
    session = Session.open(save_project(_folder_project(tmp_path / "photos"), tmp_path / "p.json"))
    seen = []
    session.events.connect(lambda e: seen.append((e.kind, e.value)))
    assert not session.is_modified
    session.set_data_source("image_folder", str(tmp_path / "other"))
    assert session.is_modified and session.data_modified and not session.network_modified
    assert ("dataset", "image_folder") in seen and ("modified", True) in seen
    session.set_data_source("image_folder", str(tmp_path / "photos"))  # back to the saved choice
    assert not session.is_modified and ("modified", False) in seen
    session.set_data_source("image_folder", str(tmp_path / "photos"), resize="pad")
    assert session.is_modified
    written = save_project(session.to_project(), tmp_path / "p.json")
    session.saved_as(str(written), None)
    assert not session.is_modified and load_project(written).resize == "pad"


def test_loading_a_project_is_clean_and_reports_a_new_folder(tmp_path):
    session = Session()
    session.load(_folder_project(tmp_path / "a"), None)
    seen = []
    session.events.connect(lambda e: seen.append(e.kind))
    session.load(_folder_project(tmp_path / "b"), None)  # the same dataset, another folder
    assert "dataset" in seen and not session.is_modified
    assert session.to_project().data_dir == str(tmp_path / "b")
