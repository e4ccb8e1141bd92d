"""Renaming a block: its id (the Keras layer name) changes, its place, edges and merge order stay."""

from __future__ import annotations

import pytest

from convstudio.core.export.codegen import model_code
from convstudio.core.network import Edge, Network, NetworkError, NetworkEvent


def _residual() -> Network:
    net = Network()
    net.add_block("Input", block_id="inp")
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, block_id="conv_a")
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, block_id="conv_b")
    net.add_block("Add", block_id="add")
    net.connect("inp", "conv_a")
    net.connect("inp", "conv_b")
    net.connect("conv_a", "add")
    net.connect("conv_b", "add")
    return net


def test_rename_keeps_edges_order_and_params_and_emits_one_event():
    net = _residual()
    events: list[NetworkEvent] = []
    net.events.connect(events.append)
    block = net.blocks["conv_a"]
    net.rename_block("conv_a", "edges")
    assert list(net.blocks) == ["inp", "edges", "conv_b", "add"]
    assert net.blocks["edges"] is block and block.id == "edges"
    assert net.inputs_of("add") == ["edges", "conv_b"]  # the merge keeps its input order
    assert net.edges[0] == Edge("inp", "edges")
    assert events == [NetworkEvent("renamed", "edges", old="conv_a", value="edges")]
    assert Network.from_dict(net.to_dict()).to_dict() == net.to_dict()


@pytest.mark.parametrize("bad, words", [
    ("conv_b", "already exists"),
    ("2conv", "must start with a letter"),
    ("has space", "must start with a letter"),
    ("", "must start with a letter"),
    ("a__b", "reserved"),
    ("output_softmax", "reserved"),
])
def test_rename_refuses_invalid_or_duplicate_names_and_changes_nothing(bad, words):
    net = _residual()
    before = net.to_dict()
    events: list[NetworkEvent] = []
    net.events.connect(events.append)
    with pytest.raises(NetworkError, match=words):
        net.rename_block("conv_a", bad)
    assert net.to_dict() == before and events == []


def test_rename_unknown_block_and_same_name():
    net = _residual()
    with pytest.raises(NetworkError, match="no block"):
        net.rename_block("nope", "x")
    events: list[NetworkEvent] = []
    net.events.connect(events.append)
    net.rename_block("add", "add")
    assert events == []


def test_renamed_id_is_the_layer_name_in_the_generated_script():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "Flatten", ("Dense", {"units": 10})])
    net.rename_block("conv2d_1", "edge_detector")
    code = "\n".join(model_code(net, (28, 28, 1), 10))
    assert "name='edge_detector'" in code.replace('"', "'") and "conv2d_1" not in code


def test_renamed_id_is_the_keras_layer_name():
    from convstudio.core.builder import build_model

    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "Flatten", ("Dense", {"units": 10})])
    net.rename_block("conv2d_1", "edge_detector")
    names = [layer.name for layer in build_model(net).layers]
    assert "edge_detector" in names and "conv2d_1" not in names


def test_a_rename_undoes_and_redoes_exactly_even_with_a_later_removal_in_the_same_edit():
    from convstudio.core.journal import Edit

    net = _residual()
    before = net.to_dict()
    edit = Edit(net, lambda n: n.rename_block("conv_a", "edges"))
    edit.redo()
    renamed = net.to_dict()
    edit.undo()
    assert net.to_dict() == before
    edit.redo()
    assert net.to_dict() == renamed

    def rename_then_remove(n: Network) -> None:
        n.set_param("conv_b", "filters", 8)
        n.rename_block("conv_b", "other")
        n.remove_block("other")  # undo needs the block's data under its new name

    edit = Edit(net, rename_then_remove)
    edit.redo()
    assert "other" not in net and "conv_b" not in net
    edit.undo()
    assert net.to_dict() == renamed
