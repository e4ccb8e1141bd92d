"""Per-block gradient norms: equal to the gradient worked out by hand; a skip lets more reach the first blocks."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import (
    block_gradient_norms,
    gradient_ratio,
    prepare_images,
)
from convstudio.core.lessons import LessonState, apply_action
from convstudio.core.lessons.probe import gradient_norms, probe_images
from convstudio.core.network import Network


def _chain(*blocks: tuple[str, str, dict]) -> Network:
    net = Network()
    prev = net.add_block("Input", {}, (0, 0), "input")
    for i, (bid, kind, params) in enumerate(blocks, 1):
        net.add_block(kind, params, (0, 110 * i), bid)
        net.connect(prev, bid)
        prev = bid
    return net


def test_the_norm_of_a_dense_layer_is_the_one_computed_by_hand():
    import keras

    keras.utils.set_random_seed(0)
    net = _chain(("flatten", "Flatten", {}), ("output", "Dense", {"units": 10, "activation": "softmax"}))
    model = build_model(net)
    images, labels = probe_images("mnist")
    norms = block_gradient_norms(model, net, images[:8], labels[:8])
    assert list(norms) == ["output"]
    x = prepare_images(images[:8]).reshape(8, -1).astype(np.float64)
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in model.get_layer("output").weights)
    z = x @ kernel + bias
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = (p - np.eye(10)[labels[:8]]) / 8
    by_hand = np.sqrt(np.sum((x.T @ delta) ** 2) + np.sum(delta.sum(axis=0) ** 2))
    assert norms["output"] == pytest.approx(by_hand, rel=1e-4)


def test_frozen_blocks_have_no_gradient_entry_and_ratios_need_both_blocks():
    import keras

    keras.utils.set_random_seed(0)
    net = _chain(("edges", "Conv2D", {"filters": 2, "kernel_init": "sobel", "trainable": False}),
                 ("gap", "GlobalAvgPool2D", {}), ("output", "Dense", {"units": 10, "activation": "softmax"}))
    images, labels = probe_images("mnist")
    norms = block_gradient_norms(build_model(net), net, images[:4], labels[:4])
    assert set(norms) == {"output"}
    with pytest.raises(KeyError, match="edges has no trainable weights"):
        gradient_ratio(norms, "edges", "output")
    assert gradient_ratio({"a": 1.0, "b": 4.0}, "a", "b") == 0.25
    with pytest.raises(ZeroDivisionError):
        gradient_ratio({"a": 1.0, "b": 0.0}, "a", "b")


def test_skip_connections_let_more_gradient_reach_the_first_block():
    conv = {"filters": 4, "kernel_h": 3, "kernel_w": 3, "padding": "same", "activation": "relu"}
    net = _chain(("stem", "Conv2D", conv), *[(f"c{i}", "Conv2D", conv) for i in range(1, 7)],
                 ("gap", "GlobalAvgPool2D", {}), ("output", "Dense", {"units": 10, "activation": "softmax"}))
    state = LessonState(net)
    plain = gradient_norms(net, (28, 28, 1), 10, "mnist")
    for i, (src, dst) in enumerate([("stem", "c2"), ("add1", "c4"), ("add2", "c6")], 1):
        apply_action({"type": "add_skip", "from": src, "to": dst, "id": f"add{i}"}, state)
    assert [b.id for b in net if b.kind == "Add"] == ["add1", "add2", "add3"]
    assert net.inputs_of("add1") == ["c2", "stem"]
    skips = gradient_norms(net, (28, 28, 1), 10, "mnist")
    assert gradient_ratio(skips, "stem", "c6") > 3 * gradient_ratio(plain, "stem", "c6")
