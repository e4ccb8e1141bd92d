"""Lessons: the bundled ones work step by step; bad lesson files get a clear message; goals measure."""

from __future__ import annotations

import copy
import json

import pytest

from convstudio.core.explorer import ExplorerError, ExplorerState, WindowSettings
from convstudio.core.lessons import (
    LessonError,
    LessonState,
    apply_action,
    check_goal,
    list_lessons,
    load_lesson,
    parse_lesson,
    rehearse,
)
from convstudio.core.network import Network, NetworkError
from convstudio.core.resources import resource_path

LESSONS = list_lessons()


def test_the_course_has_lessons_1_to_7_and_9_at_least():
    assert {1, 2, 3, 4, 5, 6, 7, 9} <= {lesson.number for lesson in LESSONS}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lesson_walks_through_its_steps(lesson):
    """Load its network, perform each step's action; each goal holds after its action and not before."""
    state = lesson.start_state()
    assert state.network.to_dict() == lesson.load_network().to_dict()
    for number, step in enumerate(lesson.steps, 1):
        assert not check_goal(step.goal, state).reached, f"step {number} is done before its action"
        apply_action(step.action, state)
        result = check_goal(step.goal, state)
        assert result.reached, f"step {number}: {result.detail}"
    assert state.analysis().ok, "the network a lesson leads to must still be valid"
    for question in lesson.questions:
        assert 0 <= question.answer < len(question.choices)
    assert lesson.pages and lesson.title


def test_rehearse_finds_a_step_that_is_done_already_or_never():
    data = json.loads(resource_path("lessons", "01_sliding_filter.json").read_text())
    broken = copy.deepcopy(data)
    broken["steps"][3]["goal"] = {"type": "shape", "block": "conv1", "equals": [26, 26, 8]}
    problems = rehearse(parse_lesson(broken, "broken"))
    assert problems == ["step 4: the goal holds before the action (conv1 output shape is 26x26x8 (goal: = 26x26x8))",
                        "step 4: the goal is not reached by the action (conv1 output shape is 28x28x8 "
                        "(goal: = 26x26x8))"]
    impossible = copy.deepcopy(data)
    impossible["steps"][0]["action"] = {"type": "set_param", "block": "conv9", "param": "padding", "value": "same"}
    assert rehearse(parse_lesson(impossible, "impossible"))[0].startswith(
        "step 1: the action cannot be performed: there is no block 'conv9'")


def _lesson_data() -> dict:
    return json.loads(resource_path("lessons", "02_counting_parameters.json").read_text())


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("format"), "is not a ConvStudio lesson"),
    (lambda d: d.update(schema_version=9), "schema version 9"),
    (lambda d: d.pop("title"), "'title' is missing"),
    (lambda d: d.update(pages=[]), "'pages' is empty"),
    (lambda d: d.update(steps=[]), "at least one step"),
    (lambda d: d["steps"][1].update(goal={"type": "magic"}), "step 2: unknown goal type 'magic'"),
    (lambda d: d["steps"][1].update(goal={"type": "shape", "equals": [1]}), "step 2: a 'shape' goal needs block"),
    (lambda d: d["steps"][1]["goal"].update(roughly=3), "unknown key(s) roughly"),
    (lambda d: d["steps"][0].update(action={"type": "train"}), "step 1: unknown action type 'train'"),
    (lambda d: d["steps"][0].update(action={"type": "set_param", "block": "conv1"}), "needs param, value"),
    (lambda d: d["questions"][0].update(answer=4), "question 1: 'answer' is the index of the right choice, 0 to 3"),
    (lambda d: d["questions"][0].update(choices=["only"]), "at least two choices"),
    (lambda d: d.update(network={"preset": "nonesuch"}), "there is no preset 'nonesuch'"),
    (lambda d: d["network"]["blocks"].append({"id": "x", "kind": "Warp"}), "unknown block kind 'Warp'"),
    (lambda d: d.update(explorer={"kernel": "Blur-o-matic"}), "no kernel preset 'Blur-o-matic'"),
    (lambda d: d.update(explorer={"grid": [[1, 2], [3]]}), "rows of numbers of one length"),
    (lambda d: d.update(explorer={"settings": 2}), "'settings' must be a mapping"),
    (lambda d: d.update(explorer={"settings": {"stride": 2}}), "explorer: unknown explorer setting(s) stride"),
    (lambda d: d.update(input_shape=[28, 28]), "'input_shape' must be three"),
])
def test_a_bad_lesson_file_gets_a_message_saying_where_and_why(edit, message):
    data = _lesson_data()
    edit(data)
    with pytest.raises(LessonError) as info:
        parse_lesson(data, "x", "lesson.json")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_lesson_files(tmp_path):
    with pytest.raises(LessonError, match="there is no lesson file"):
        load_lesson(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\"format\": ", encoding="utf-8")
    with pytest.raises(LessonError, match=r"is not valid JSON \(line 1"):
        load_lesson(bad)


def test_one_broken_lesson_does_not_hide_the_others(tmp_path):
    good = resource_path("lessons", "02_counting_parameters.json").read_text()
    (tmp_path / "a.json").write_text(good, encoding="utf-8")
    (tmp_path / "b.json").write_text("[]", encoding="utf-8")
    problems: list[str] = []
    assert [lesson.id for lesson in list_lessons(tmp_path, problems)] == ["a"]
    assert len(problems) == 1 and "b.json is not a ConvStudio lesson" in problems[0]
    with pytest.raises(LessonError):
        list_lessons(tmp_path)


def _state() -> LessonState:
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    return LessonState(net)


def test_goals_measure_the_state_and_say_what_they_found():
    state = _state()
    assert check_goal({"type": "shape", "block": "conv2d_1", "equals": [26, 26, 4]}, state).reached
    assert check_goal({"type": "params_total", "greater_than": 27000, "less_than": 28000}, state).reached
    r = check_goal({"type": "block_params", "block": "conv2d_1", "at_least": 41}, state)
    assert not r.reached and r.detail == "conv2d_1 parameters is 40 (goal: ≥ 41)"
    assert check_goal({"type": "valid"}, state).reached
    assert check_goal({"type": "block_count", "kind": "Conv2D", "equals": 1}, state).reached
    missing = check_goal({"type": "param", "block": "conv9", "param": "padding", "equals": "same"}, state)
    assert not missing.reached and missing.detail == "there is no block conv9"
    closed = check_goal({"type": "explorer", "setting": "stride_h", "equals": 2}, state)
    assert not closed.reached and "not open" in closed.detail
    assert check_goal({"type": "any", "goals": [{"type": "valid", "equals": False}, {"type": "valid"}]}, state).reached
    assert not check_goal({"type": "param", "block": "conv2d_1", "param": "filters", "less_than": "x"}, state).reached


def test_actions_edit_the_network_and_the_explorer_as_a_student_would():
    state = _state()
    apply_action({"type": "add_after", "block": "conv2d_1", "kind": "MaxPool2D", "id": "pool"}, state)
    assert state.network.inputs_of("flatten_1") == ["pool"] and state.network.inputs_of("pool") == ["conv2d_1"]
    apply_action({"type": "remove_block", "block": "pool"}, state)
    assert state.network.inputs_of("flatten_1") == ["conv2d_1"]
    apply_action({"type": "open_explorer", "block": "conv2d_1"}, state)
    assert state.explorer == ExplorerState(WindowSettings(), (28, 28), block_id="conv2d_1")
    apply_action({"type": "explorer", "set": {"stride_h": 3, "position": [5, 0]}}, state)
    assert state.explorer.as_dict()["output_h"] == 9 and state.explorer.position == (5, 0)
    with pytest.raises(ExplorerError, match="unknown explorer setting"):
        apply_action({"type": "explorer", "set": {"zoom": 2}}, state)
    with pytest.raises(NetworkError):
        apply_action({"type": "set_param", "block": "conv2d_1", "param": "padding", "value": "mirror"}, state)
    with pytest.raises(ExplorerError, match="no sliding window"):
        apply_action({"type": "open_explorer", "block": "flatten_1"}, state)
