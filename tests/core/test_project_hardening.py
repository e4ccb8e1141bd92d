"""Project files from hostile or damaged sources: every input ends in a Project or a one-line
ProjectError (never another exception), sizes and fields are capped with a reason, and what the
CLI prints from a project is terminal-safe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convstudio import cli
from convstudio.core import project as project_module
from convstudio.core.project import Project, ProjectError, load_project

PRESET = Path(__file__).resolve().parents[2] / "resources" / "presets" / "lenet5.json"


def _preset() -> dict:
    return json.loads(PRESET.read_text(encoding="utf-8"))


def _text(doc: dict) -> str:
    return json.dumps(doc)


def _replace_param(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _doc_with(**changes) -> str:
    doc = _preset()
    doc.update(changes)
    return json.dumps(doc)


PRESET_TEXT = json.dumps(_preset())

HOSTILE = {
    "integer too large for a float": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": 1' + "0" * 400),
                                      "401 digits long"),
    "integer of 4,301 digits": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": ' + "7" * 4301),
                                "4,301 digits long"),
    "25-digit integer in a param": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": 1' + "0" * 24),
                                    "Filters must be at most 2048; got a number of about 24 digits"),
    "25-digit integer in settings": (_doc_with(training={"batch_size": 10**24}), "batch_size must be at most"),
    "float overflow to infinity": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": 1e400'),
                                   "Filters must be a whole number"),
    "nested 1,000 deep": ('{"format": "convstudio-project", "schema_version": 1, "x": ' + "[" * 1000 + "]" * 1000
                          + "}", "nested far too deeply"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nested far too deeply"),
    "NUL in the title": (_doc_with(title="a\0b"), "NUL character"),
    "NUL in the weights path": (_doc_with(weights="w\0.keras"), "NUL character"),
    "lone surrogate in the title": (_doc_with(title="a\ud800b"), "lone surrogate"),
    "lone surrogate in the weights path": (_doc_with(weights="w\udc80.keras"), "lone surrogate"),
    "lone surrogate in a key": (PRESET_TEXT.replace('"format"', '"\\ud800": 1, "format"', 1), "lone surrogate"),
    "NaN position": (_replace_param(PRESET_TEXT, '"pos": [', '"pos": [NaN, 0], "x": ['), "position"),
    "Infinity position": (_replace_param(PRESET_TEXT, '"pos": [', '"pos": [0, -Infinity], "x": ['), "position"),
    "position far away": (_replace_param(PRESET_TEXT, '"pos": [', '"pos": [1e300, 0], "x": ['), "position"),
    "'1_0' as a number": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": "1_0"'),
                          "Filters must be a whole number, not '1_0'"),
    "'inf' as a number": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": "inf"'),
                          "Filters must be a whole number, not 'inf'"),
    "huge param text": (_replace_param(PRESET_TEXT, '"padding": "same"', '"padding": "' + "s" * 10**6 + '"'),
                        "Padding is 1,000,000 characters long; at most 200"),
    "huge title": (_doc_with(title="t" * 5000), "title is 5,000 characters long"),
    "huge weights path": (_doc_with(weights="w" * 5000), "weights entry is 5,000 characters long"),
    "huge data folder": (_doc_with(dataset={"name": "mnist", "data_dir": "d" * 5000}), "dataset folder is 5,000"),
    "huge description": (_doc_with(description="d" * 200_001), "description is 200,001 characters long"),
    "huge block kind": (_replace_param(PRESET_TEXT, '"kind": "Input"', '"kind": "' + "K" * 10**6 + '"'),
                        "unknown block kind 'KKK"),
    "huge unknown setting": (_doc_with(training={"x" * 10**6: 1}), "unknown setting"),
    "huge param name": (_replace_param(PRESET_TEXT, '"filters": 6', '"filters": 6, "' + "p" * 100 + '": 1'),
                        "parameter name longer than 64"),
    "block id with a newline": (_replace_param(PRESET_TEXT, '"id": "input"', '"id": "input\\n"'),
                                "must start with a letter"),
}


def _one_line_refusal(path: Path) -> str:
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert "\n" not in message and len(message) <= project_module.MAX_MESSAGE + 10
    assert str(path) in message
    return message


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_end_in_one_line_project_error(tmp_path, case):
    text, reason = HOSTILE[case]
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    path = tmp_path / "p.json"
    path.write_bytes(text)
    message = _one_line_refusal(path)
    assert reason in message
    assert path.read_bytes() == text


def test_a_file_over_the_size_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: 65 MB on paper, nothing on disk
        handle.truncate(project_module.MAX_FILE_BYTES + 2**20)
    assert "project files are at most 64 MB" in _one_line_refusal(path)


def test_a_file_with_too_many_values_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "MAX_JSON_VALUES", 1000)
    path = tmp_path / "many.json"
    path.write_text("[" + "{}," * 2000 + "{}]")
    assert "a project holds at most 1,000" in _one_line_refusal(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    assert "not a regular file" in _one_line_refusal(path)


def test_escaped_text_that_only_looks_risky_still_loads(tmp_path):
    doc = _preset()
    doc["title"] = "emoji \U0001F600 and a literal \\u0000"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))  # ensure_ascii writes the emoji as a surrogate pair escape
    assert load_project(path).title == doc["title"]


def test_info_prints_a_title_with_ansi_escapes_escaped(tmp_path, capsys):
    doc = _preset()
    doc["title"] = "\x1b[2J\x1b[31mred\x1b]0;pwned\x07 \u202eevil"
    path = tmp_path / "ansi.json"
    path.write_text(json.dumps(doc))
    assert cli.main(["info", str(path)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.splitlines()[0].startswith("\\x1b[2J\\x1b[31mred\\x1b]0;pwned\\x07 \\u202eevil (")


def test_info_error_for_a_hostile_file_is_one_safe_line(tmp_path, capsys):
    doc = _preset()
    doc["network"]["edges"].append(["\x1b[31m" + "x" * 10**5, "input"])
    path = tmp_path / "edge.json"
    path.write_text(json.dumps(doc))
    assert cli.main(["info", str(path)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and len(err) < 1000
    assert "there is no block" in err


# --------------------------------------------------------------------------- property tests


def _load_or_refuse(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(raw)
    try:
        result = load_project(path)
    except ProjectError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, Project)


_PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_PROPERTY
@given(raw=st.binary(max_size=512))
def test_any_bytes_give_a_project_or_a_project_error(tmp_path, raw):
    _load_or_refuse(tmp_path, raw)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


@_PROPERTY
@given(data=st.data())
def test_mutated_valid_projects_give_a_project_or_a_project_error(tmp_path, data):
    doc = _preset()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(_JSON)
        else:
            del parent[path[-1]]
    text = json.dumps(doc).encode("utf-8", "surrogatepass")
    if data.draw(st.booleans()):  # and byte-wise damage on top
        cut = data.draw(st.integers(0, len(text)))
        text = text[:cut] + data.draw(st.binary(max_size=8)) + text[cut:]
    _load_or_refuse(tmp_path, text)


@_PROPERTY
@given(text=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40))
def test_any_title_loads_or_is_refused_and_prints_safely(tmp_path, text):
    doc = _preset()
    doc["title"] = text
    path = tmp_path / "title.json"
    path.write_text(json.dumps(doc))
    try:
        project = load_project(path)
    except ProjectError as exc:
        assert "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        assert "\x00" not in str(exc)
        return
    from convstudio.core.text import terminal_safe

    shown = terminal_safe(project.title)
    shown.encode("utf-8")  # no surrogate left to break printing
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


@pytest.mark.parametrize("field, value, reason", [
    ("title", "t" * 1001, "title is 1,001 characters long"),
    ("title", "a\0b", "title holds a NUL character"),
    ("description", "a\ud800", "description holds a lone surrogate"),
    ("data_dir", "d" * 5000, "dataset folder is 5,000 characters long"),
])
def test_saving_refuses_what_loading_would_refuse_and_writes_nothing(tmp_path, field, value, reason):
    project = load_project(PRESET)
    setattr(project, field, value)
    with pytest.raises(ProjectError, match=reason):
        project_module.save_project(project, tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []
