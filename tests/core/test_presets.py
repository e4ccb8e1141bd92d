"""The bundled presets: all listed, all valid and buildable, laid out tidily, and the right shapes."""

from __future__ import annotations

import pytest

from convstudio.core.presets import PRESET_ORDER, list_presets, load_preset
from convstudio.core.project import ProjectError
from convstudio.core.shapes import analyze

IDS = ["lenet5", "vgg_small", "resnet_small", "inception_small", "mnist_classic", "sobel_vs_learned"]


def kinds(preset_id: str) -> list[str]:
    net = load_preset(preset_id).network
    return [net.blocks[b].kind for b in net.topological_order()[0]]


def test_list_presets_in_teaching_order_with_titles():
    listed = list_presets()
    assert [p[0] for p in listed][: len(IDS)] == IDS == list(PRESET_ORDER)
    assert all(title and len(description) > 30 for _, title, description in listed)


@pytest.mark.parametrize("preset_id", IDS)
def test_preset_analyzes_without_errors_and_builds(preset_id):
    project = load_preset(preset_id)
    analysis = analyze(project.network)
    assert analysis.ok, [i.message for i in analysis.errors]
    assert not analysis.issues  # every preset ends in Dense(10, softmax): not even a warning
    from convstudio.core.builder import build_model

    model = build_model(project.network, analysis=analysis)
    assert model.count_params() == analysis.total_params
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize("preset_id", IDS)
def test_preset_layout_is_tidy(preset_id):
    net = load_preset(preset_id).network
    positions = [b.pos for b in net]
    assert len(set(positions)) == len(positions)  # no two blocks on top of each other
    for edge in net.edges:  # top to bottom
        assert net.blocks[edge.dst].pos[1] > net.blocks[edge.src].pos[1]


def test_lenet5_shape():
    assert kinds("lenet5") == ["Input", "Conv2D", "AvgPool2D", "Conv2D", "AvgPool2D", "Flatten",
                               "Dense", "Dense", "Dense"]
    net = load_preset("lenet5").network
    dense = [b.params["units"] for b in net if b.kind == "Dense"]
    convs = [(b.params["filters"], b.params["kernel_h"], b.params["padding"]) for b in net if b.kind == "Conv2D"]
    assert dense == [120, 84, 10] and convs == [(6, 5, "same"), (16, 5, "valid")]


def test_mnist_classic_is_exactly_the_classic_network():
    assert kinds("mnist_classic") == ["Input", "Conv2D", "MaxPool2D", "Conv2D", "Conv2D", "MaxPool2D", "Dropout",
                                      "Flatten", "Dense", "Dropout", "Dense"]
    net = load_preset("mnist_classic").network
    convs = [(b.params["filters"], b.params["kernel_h"], b.params["kernel_w"], b.params["padding"],
              b.params["activation"]) for b in net if b.kind == "Conv2D"]
    assert convs == [(16, 2, 2, "same", "relu"), (128, 3, 3, "valid", "relu"), (256, 3, 3, "valid", "relu")]
    assert [(b.params["units"], b.params["activation"]) for b in net if b.kind == "Dense"] == \
        [(128, "relu"), (10, "softmax")]


def test_vgg_small_stacks_3x3_same_convolutions():
    net = load_preset("vgg_small").network
    convs = [(b.params["filters"], b.params["kernel_h"], b.params["padding"]) for b in net if b.kind == "Conv2D"]
    assert convs == [(32, 3, "same"), (32, 3, "same"), (64, 3, "same"), (64, 3, "same")]
    assert "Dropout" in kinds("vgg_small")


def test_resnet_small_has_two_residual_skips():
    net = load_preset("resnet_small").network
    adds = [b.id for b in net if b.kind == "Add"]
    assert len(adds) == 2
    for add in adds:
        a, b = net.inputs_of(add)
        assert net.blocks[a].kind == "Conv2D" and b in net.inputs_of(net.inputs_of(a)[0])  # skip over two convs


def test_inception_small_joins_four_parallel_branches():
    net = load_preset("inception_small").network
    concat = next(b.id for b in net if b.kind == "Concatenate")
    branches = net.inputs_of(concat)
    assert len(branches) == 4
    sizes = sorted(net.blocks[b].params["kernel_h"] for b in branches)
    assert sizes == [1, 1, 3, 5]  # 1x1, pooled branch's 1x1, 3x3, 5x5
    xs = {net.blocks[b].pos[0] for b in branches}
    assert len(xs) == 4  # side by side


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ProjectError, match="lenet5"):
        load_preset("alexnet")


def test_loaded_presets_are_independent_copies():
    first = load_preset("lenet5")
    first.network.set_param("conv1", "filters", 3)
    assert load_preset("lenet5").network.blocks["conv1"].params["filters"] == 6


def test_sobel_vs_learned_puts_frozen_sobel_beside_learned_filters():
    assert kinds("sobel_vs_learned") == ["Input", "Conv2D", "Conv2D", "Concatenate", "MaxPool2D", "Flatten",
                                          "Dense"]
    net = load_preset("sobel_vs_learned").network
    convs = {b.params["kernel_init"]: b for b in net if b.kind == "Conv2D"}
    assert set(convs) == {"sobel", "learned"}
    sobel, learned = convs["sobel"], convs["learned"]
    assert (sobel.params["filters"], sobel.params["kernel_h"], sobel.params["padding"], sobel.params["trainable"]) \
        == (2, 3, "same", False)
    assert (learned.params["filters"], learned.params["kernel_h"], learned.params["padding"],
            learned.params["trainable"]) == (6, 3, "same", True)
    concat = next(b.id for b in net if b.kind == "Concatenate")
    assert sorted(net.inputs_of(concat)) == sorted([sobel.id, learned.id])
    assert net.inputs_of(sobel.id) == net.inputs_of(learned.id) == ["input"]
    analysis = analyze(net)
    assert analysis.info[sobel.id].trainable_params == 0 < analysis.info[sobel.id].params
    output = net.blocks[net.outputs_of(concat)[0]]
    assert output.kind == "MaxPool2D" and analysis.info[analysis.output_id].shape == (10,)
