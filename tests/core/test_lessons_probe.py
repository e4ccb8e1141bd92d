"""Lesson goals that run the network (prediction, shift, gradients) and the actions that restructure it."""

from __future__ import annotations

import pytest

from convstudio.core.lessons import (
    LessonError,
    LessonState,
    apply_action,
    check_goal,
    parse_lesson,
)
from convstudio.core.network import Network, NetworkError


def _chain(*blocks: tuple[str, str, dict]) -> Network:
    net = Network()
    prev = net.add_block("Input", {}, (0, 0), "input")
    for i, (bid, kind, params) in enumerate(blocks, 1):
        net.add_block(kind, params, (0, 110 * i), bid)
        net.connect(prev, bid)
        prev = bid
    return net


CONV = {"filters": 4, "kernel_h": 3, "kernel_w": 3, "padding": "same", "activation": "relu"}


def test_replace_block_keeps_the_id_and_every_connection():
    net = _chain(("conv", "Conv2D", CONV), ("flat", "Flatten", {}), ("output", "Dense", {"units": 10}))
    state = LessonState(net)
    apply_action({"type": "replace_block", "block": "flat", "kind": "GlobalAvgPool2D"}, state)
    assert net.block("flat").kind == "GlobalAvgPool2D"
    assert net.inputs_of("flat") == ["conv"] and net.outputs_of("flat") == ["output"]
    assert check_goal({"type": "shape", "block": "flat", "equals": [4]}, state).reached
    with pytest.raises(NetworkError):
        apply_action({"type": "replace_block", "block": "nothing", "kind": "Flatten"}, state)


def test_add_skip_makes_an_add_fed_by_both_paths():
    net = _chain(("a", "Conv2D", CONV), ("b", "Conv2D", CONV), ("gap", "GlobalAvgPool2D", {}),
                 ("output", "Dense", {"units": 10}))
    state = LessonState(net)
    apply_action({"type": "add_skip", "from": "a", "to": "b"}, state)
    add = next(b.id for b in net if b.kind == "Add")
    assert net.inputs_of(add) == ["b", "a"] and net.outputs_of(add) == ["gap"]
    assert check_goal({"type": "valid"}, state).reached


def test_shift_goals_measure_equivariance_and_invariance():
    net = _chain(("conv", "Conv2D", CONV), ("gmp", "GlobalMaxPool2D", {}), ("output", "Dense", {"units": 10}))
    state = LessonState(net)
    assert check_goal({"type": "shift", "block": "conv", "dy": 2, "dx": 1, "measure": "equivariance",
                       "at_most": 1e-6}, state).reached
    assert check_goal({"type": "shift", "block": "gmp", "dy": 2, "dx": 1, "measure": "change",
                       "at_most": 1e-6}, state).reached
    moved = check_goal({"type": "shift", "block": "conv", "dy": 2, "dx": 1, "measure": "change",
                        "at_least": 0.1}, state)
    assert moved.reached, moved.detail
    flat = check_goal({"type": "shift", "block": "gmp", "dy": 1, "dx": 1, "measure": "equivariance",
                       "at_most": 1}, state)
    assert not flat.reached and "not a feature map" in flat.detail
    missing = check_goal({"type": "shift", "block": "pool", "dy": 1, "dx": 1, "measure": "change"}, state)
    assert missing.detail == "there is no block pool"


def test_prediction_goals_compare_the_hand_softmax_with_the_network():
    net = _chain(("conv", "Conv2D", CONV), ("gap", "GlobalAvgPool2D", {}),
                 ("output", "Dense", {"units": 10, "activation": "linear"}))
    state = LessonState(net)
    for goal in ({"measure": "probability_sum", "at_least": 0.999, "at_most": 1.001},
                 {"measure": "hand_vs_network", "at_most": 1e-6},
                 {"measure": "loss_hand_vs_keras", "at_most": 1e-5},
                 {"measure": "loss", "greater_than": 0}):
        result = check_goal({"type": "prediction", **goal}, state)
        assert result.reached, result.detail
    net.set_param("output", "activation", "softmax")
    assert not check_goal({"type": "prediction", "measure": "hand_vs_network", "at_most": 1e-6}, state).reached
    net.set_param("output", "units", 3)
    broken = check_goal({"type": "prediction", "measure": "loss", "at_least": 0}, state)
    assert not broken.reached and broken.detail.startswith("The network cannot be built yet")


def test_a_goal_with_a_missing_key_is_refused_on_load():
    data = {"format": "convstudio-lesson", "schema_version": 1, "number": 1, "title": "t", "pages": ["p"],
            "network": {"preset": "lenet5"}, "questions": [{"text": "q", "choices": ["a", "b"], "answer": 0}],
            "steps": [{"instruction": "i", "action": {"type": "add_skip", "from": "conv1", "to": "conv2"},
                       "goal": {"type": "shift", "block": "conv1", "measure": "change"}}]}
    with pytest.raises(LessonError, match="step 1: a 'shift' goal needs dx, dy"):
        parse_lesson(data, "x")
    data["steps"][0]["goal"] = {"type": "gradient_ratio", "block": "conv1"}
    with pytest.raises(LessonError, match="a 'gradient_ratio' goal needs over"):
        parse_lesson(data, "x")


def test_the_softmax_report_shows_the_same_loss_by_hand_and_by_keras():
    from convstudio.core.lessons.probe import probe_images, softmax_report

    net = _chain(("conv", "Conv2D", CONV), ("gap", "GlobalAvgPool2D", {}),
                 ("output", "Dense", {"units": 10, "activation": "linear"}))
    lines = softmax_report(net, (28, 28, 1), 10, "mnist")
    label = int(probe_images("mnist")[1][0])
    assert f"label {label}" in lines[0] and "from the values of output" in lines[1]
    hand = float(next(line for line in lines if "loss = -ln" in line).rsplit("= ", 1)[1])
    by_keras = float(lines[-1].rsplit("= ", 1)[1])
    assert hand == pytest.approx(by_keras, abs=2e-4)


def test_measuring_leaves_the_random_generators_of_the_app_alone():
    import random

    import numpy as np

    net = _chain(("conv", "Conv2D", {**CONV, "filters": 3}), ("gap", "GlobalAvgPool2D", {}),
                 ("output", "Dense", {"units": 10}))
    np.random.seed(123)
    random.seed(7)
    expected = (np.random.rand(), random.random())
    np.random.seed(123)
    random.seed(7)
    assert check_goal({"type": "prediction", "measure": "probability_sum", "at_least": 0.99}, LessonState(net)).reached
    assert (np.random.rand(), random.random()) == expected
