"""Lesson 8 (colour filters): its network fits the coloured-shapes dataset it names, and a lesson can
say how many classes its dataset has, so a four-class output is not an error."""

from __future__ import annotations

import json

import pytest

from convstudio.core.datasets import load_dataset
from convstudio.core.lessons import LessonError, apply_action, list_lessons, parse_lesson
from convstudio.core.resources import resource_path
from convstudio.core.shapes import analyze


def _data() -> dict:
    return json.loads(resource_path("lessons", "08_colour.json").read_text(encoding="utf-8"))


def test_lesson_8_is_listed_and_matches_the_colour_dataset_it_trains_on():
    lesson = next(lesson for lesson in list_lessons() if lesson.number == 8)
    dataset = load_dataset(lesson.dataset)
    assert dataset.name == "colour_shapes_by_colour"
    assert lesson.input_shape == dataset.input_shape == (32, 32, 3)
    assert lesson.num_classes == dataset.num_classes == 4
    network = lesson.load_network()
    assert network.block("input").params["channels"] == 3
    # the network the student ends with is valid for the dataset itself, as the main window checks it
    state = lesson.start_state()
    for step in lesson.steps:
        apply_action(step.action, state)
    final = analyze(state.network, None, dataset.num_classes, dataset_shape=dataset.input_shape)
    assert final.ok, [i.message for i in final.issues]
    kernel = 5 * 5 * 3
    assert final.info["conv1"].params == (kernel + 1) * 6


def test_the_number_of_classes_is_what_the_output_is_checked_against():
    lesson = parse_lesson(_data(), "08_colour")
    assert lesson.start_state().num_classes == 4 and lesson.start_state().analysis().ok
    data = _data()
    del data["num_classes"]
    ten = parse_lesson(data, "no_classes").start_state()
    assert ten.num_classes == 10
    assert any("the dataset has 10 classes" in i.message for i in ten.analysis().issues)


@pytest.mark.parametrize("value", [1, 2.5, "4", True])
def test_a_bad_number_of_classes_is_refused_with_its_place(value):
    data = _data()
    data["num_classes"] = value
    with pytest.raises(LessonError, match="^08_colour.json: 'num_classes' must be a whole number of at least 2$"):
        parse_lesson(data, "08_colour", "08_colour.json")

