"""The network graph: mutations, the events they emit, merge input order and serialization."""

from __future__ import annotations

import json

import pytest

from convstudio.core.network import Edge, Network, NetworkError, NetworkEvent


def _recorder(net: Network) -> list[NetworkEvent]:
    events: list[NetworkEvent] = []
    net.events.connect(events.append)
    return events


def _residual() -> Network:
    """input -> conv_a -> add <- conv_b <- input (a two-branch merge)."""
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


# ----------------------------------------------------------------------------- adding and removing


def test_add_block_fills_defaults_checks_params_and_emits_added():
    net = Network()
    events = _recorder(net)
    bid = net.add_block("Conv2D", {"filters": "16", "kernel_h": 5.0}, pos=(3, 4))
    block = net.block(bid)
    assert block.params["filters"] == 16 and isinstance(block.params["filters"], int)
    assert block.params["kernel_h"] == 5 and isinstance(block.params["kernel_h"], int)
    assert block.params["kernel_w"] == 3  # the default
    assert block.pos == (3.0, 4.0)
    assert events == [NetworkEvent("added", bid)]


def test_new_ids_are_unique_valid_layer_names():
    net = Network()
    ids = [net.add_block("Conv2D") for _ in range(3)] + [net.add_block("GlobalAvgPool2D")]
    assert len(set(ids)) == 4
    assert ids[:3] == ["conv2d_1", "conv2d_2", "conv2d_3"]
    assert all(i.replace("_", "").isalnum() and i[0].isalpha() for i in ids)


@pytest.mark.parametrize("kind, params, needle", [
    ("Nope", {}, "unknown block kind"),
    ("Conv2D", {"filters": 0}, "Filters"),
    ("Conv2D", {"padding": "mirror"}, "Padding"),
    ("Dense", {"colour": "red"}, "colour"),
    ("Dropout", {"rate": 1.5}, "Rate"),
])
def test_add_block_refuses_bad_kinds_and_params_with_a_reason(kind, params, needle):
    net = Network()
    events = _recorder(net)
    with pytest.raises(NetworkError, match=needle):
        net.add_block(kind, params)
    assert len(net) == 0 and events == []


@pytest.mark.parametrize("block_id", ["1abc", "_x", "has space", "dash-ed", "x" * 64, "a/b"])
def test_add_block_refuses_ids_that_are_not_layer_names(block_id):
    net = Network()
    with pytest.raises(NetworkError, match="must start with a letter"):
        net.add_block("Dense", block_id=block_id)
    assert len(net) == 0


@pytest.mark.parametrize("block_id", ["output_softmax", "conv2d_1__pad", "a__b"])
def test_add_block_refuses_ids_the_builder_uses_for_its_own_layers(block_id):
    net = Network()
    with pytest.raises(NetworkError, match="reserved"):
        net.add_block("Dense", block_id=block_id)
    with pytest.raises(NetworkError, match="reserved"):
        Network.from_dict({"blocks": [{"id": block_id, "kind": "Dense"}]})


def test_add_block_refuses_a_duplicate_id():
    net = Network()
    net.add_block("Dense", block_id="head")
    with pytest.raises(NetworkError, match="already exists"):
        net.add_block("Flatten", block_id="head")
    assert net.block("head").kind == "Dense"


def test_remove_block_drops_its_edges_and_emits_disconnects_then_removed():
    net = _residual()
    events = _recorder(net)
    net.remove_block("conv_a")
    assert "conv_a" not in net
    assert all("conv_a" not in (e.src, e.dst) for e in net.edges)
    assert net.inputs_of("add") == ["conv_b"]
    kinds = [(e.kind, e.src, e.dst, e.block_id) for e in events]
    assert kinds == [
        ("disconnected", "inp", "conv_a", None),
        ("disconnected", "conv_a", "add", None),
        ("removed", None, None, "conv_a"),
    ]


def test_unknown_block_ids_raise_network_error_not_key_error():
    net = _residual()
    for call in (lambda: net.remove_block("ghost"), lambda: net.block("ghost"),
                 lambda: net.connect("ghost", "add"), lambda: net.set_param("ghost", "filters", 3),
                 lambda: net.move_block("ghost", (0, 0))):
        with pytest.raises(NetworkError, match="ghost"):
            call()


# ----------------------------------------------------------------------------- connecting


def test_connect_and_disconnect_emit_events_with_input_index():
    net = _residual()
    net.add_block("Concatenate", block_id="cat")
    events = _recorder(net)
    net.connect("conv_b", "cat")
    net.connect("conv_a", "cat")
    assert [(e.kind, e.src, e.index) for e in events] == [("connected", "conv_b", 0), ("connected", "conv_a", 1)]
    assert net.disconnect("conv_b", "cat") == 0
    assert events[-1] == NetworkEvent("disconnected", src="conv_b", dst="cat", index=0)
    assert net.inputs_of("cat") == ["conv_a"]


def test_merge_inputs_keep_their_order_and_index_inserts_in_place():
    net = _residual()
    assert net.inputs_of("add") == ["conv_a", "conv_b"]
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, block_id="conv_c")
    net.connect("inp", "conv_c")
    net.connect("conv_c", "add", index=0)
    assert net.inputs_of("add") == ["conv_c", "conv_a", "conv_b"]
    net.disconnect("conv_c", "add")
    net.connect("conv_c", "add", index=1)
    assert net.inputs_of("add") == ["conv_a", "conv_c", "conv_b"]


def test_connect_index_past_the_end_appends_and_reports_the_real_index():
    net = _residual()
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, block_id="conv_c")
    net.connect("inp", "conv_c")
    events = _recorder(net)
    net.connect("conv_c", "add", index=7)
    assert net.inputs_of("add") == ["conv_a", "conv_b", "conv_c"]
    assert events[-1].index == 2


def test_connect_refuses_self_loops():
    net = _residual()
    with pytest.raises(NetworkError, match="itself"):
        net.connect("conv_a", "conv_a")


def test_connect_refuses_cycles_direct_and_long():
    net = Network.chain(["Input", "Add", "Dropout", "Dropout"])
    edges = list(net.edges)
    with pytest.raises(NetworkError, match="would make a cycle"):
        net.connect("dropout_1", "add_1")
    with pytest.raises(NetworkError, match="would make a cycle"):
        net.connect("dropout_2", "add_1")
    assert net.edges == edges


def test_connect_refuses_duplicates_and_too_many_inputs():
    net = _residual()
    with pytest.raises(NetworkError, match="already feeds"):
        net.connect("conv_a", "add")
    with pytest.raises(NetworkError, match="at most 1"):
        net.connect("conv_b", "conv_a")
    with pytest.raises(NetworkError, match="no inputs"):
        net.connect("conv_a", "inp")
    for i in range(6):  # Add takes up to 8 inputs
        bid = net.add_block("Dropout", block_id=f"d{i}")
        net.connect("inp", bid)
        net.connect(bid, "add")
    last = net.add_block("Dropout", block_id="d_extra")
    net.connect("inp", last)
    with pytest.raises(NetworkError, match="at most 8"):
        net.connect(last, "add")


def test_disconnect_of_a_missing_edge_is_refused():
    net = _residual()
    with pytest.raises(NetworkError, match="does not feed"):
        net.disconnect("conv_a", "conv_b")


# ----------------------------------------------------------------------------- params, moves, inserts


def test_set_param_validates_returns_old_value_and_emits_once():
    net = _residual()
    events = _recorder(net)
    assert net.set_param("conv_a", "filters", "12") == 4
    assert net.block("conv_a").params["filters"] == 12
    assert events == [NetworkEvent("param_changed", "conv_a", name="filters", value=12, old=4)]
    assert net.set_param("conv_a", "filters", 12) == 12
    assert len(events) == 1  # no change, no event


@pytest.mark.parametrize("name, value, needle", [
    ("filters", -1, "Filters must be at least 1"),
    ("filters", 2.5, "Filters must be a whole number"),
    ("padding", "reflect", "Padding must be one of valid, same, full"),
    ("use_bias", "maybe", "Bias must be true or false"),
    ("kernel", 3, "Conv2D has no parameter 'kernel'"),
])
def test_set_param_refusals_name_the_parameter(name, value, needle):
    net = _residual()
    with pytest.raises(NetworkError) as info:
        net.set_param("conv_a", name, value)
    assert needle in str(info.value)
    assert net.block("conv_a").params["filters"] == 4


def test_move_block_emits_new_and_old_position():
    net = _residual()
    events = _recorder(net)
    old = net.block("add").pos
    net.move_block("add", (10, 20.5))
    assert net.block("add").pos == (10.0, 20.5)
    assert events == [NetworkEvent("moved", "add", value=(10.0, 20.5), old=old)]


def test_insert_between_keeps_the_merge_index():
    net = _residual()
    net.move_block("conv_b", (0, 0))
    net.move_block("add", (100, 200))
    new = net.insert_between("conv_a", "add", "BatchNorm")
    assert net.inputs_of("add") == [new, "conv_b"]
    assert net.inputs_of(new) == ["conv_a"]
    new2 = net.insert_between("conv_b", "add", "Dropout", {"rate": 0.25})
    assert net.inputs_of("add") == [new, new2]
    assert net.block(new2).params["rate"] == 0.25
    assert net.block(new2).pos == (50.0, 100.0)  # halfway between conv_b and add


def test_insert_between_unconnected_blocks_is_refused_without_side_effects():
    net = _residual()
    before = net.to_dict()
    with pytest.raises(NetworkError, match="does not feed"):
        net.insert_between("conv_a", "conv_b", "Dropout")
    assert net.to_dict() == before


def test_insert_between_refuses_an_input_block_without_side_effects():
    net = _residual()
    before = net.to_dict()
    events = _recorder(net)
    with pytest.raises(NetworkError, match="takes no inputs"):
        net.insert_between("conv_a", "add", "Input")
    assert net.to_dict() == before and events == []


def test_topological_order_respects_every_edge():
    net = _residual()
    order, cyclic = net.topological_order()
    assert not cyclic and sorted(order) == sorted(net.blocks)
    pos = {b: i for i, b in enumerate(order)}
    assert all(pos[e.src] < pos[e.dst] for e in net.edges)


def test_topological_order_reports_cycles_and_what_follows_them():
    net = Network.chain(["Input", "Dropout", "Dropout", "Dropout"])
    net.edges.append(Edge("dropout_2", "dropout_1"))
    order, cyclic = net.topological_order()
    assert order == ["input_1"]
    assert cyclic == {"dropout_1", "dropout_2", "dropout_3"}


def test_clear_and_replace_with_emit_reset_and_keep_subscribers():
    net = _residual()
    events = _recorder(net)
    other = Network.chain(["Input", "Flatten"])
    net.replace_with(other)
    assert sorted(net.blocks) == ["flatten_1", "input_1"]
    net.move_block("flatten_1", (1, 1))
    assert [e.kind for e in events] == ["reset", "moved"]
    assert other.block("flatten_1").pos != (1.0, 1.0)  # blocks were copied, not shared
    net.clear()
    assert len(net) == 0 and net.edges == [] and events[-1].kind == "reset"


# ----------------------------------------------------------------------------- serialization


def test_to_dict_from_dict_round_trip_through_json():
    net = _residual()
    net.insert_between("conv_b", "add", "BatchNorm", {"momentum": 0.9})
    net.move_block("add", (12.5, -3))
    data = json.loads(json.dumps(net.to_dict()))
    again = Network.from_dict(data)
    assert again.to_dict() == net.to_dict()
    assert again.inputs_of("add") == net.inputs_of("add")
    assert again.block("add").pos == (12.5, -3.0)


def test_copy_is_independent_and_has_no_subscribers():
    net = _residual()
    events = _recorder(net)
    twin = net.copy()
    twin.set_param("conv_a", "filters", 9)
    twin.remove_block("conv_b")
    assert net.block("conv_a").params["filters"] == 4 and "conv_b" in net
    assert events == []


@pytest.mark.parametrize("data, needle", [
    (None, "list of blocks"),
    ([], "list of blocks"),
    ({"blocks": "x"}, "list of blocks"),
    ({"blocks": [], "edges": {}}, "list of blocks"),
    ({"blocks": [{"kind": "Input"}]}, "block #1 needs a string id"),
    ({"blocks": [{"id": 3, "kind": "Input"}]}, "block #1 needs a string id"),
    ({"blocks": ["Input"]}, "block #1"),
    ({"blocks": [{"id": "a", "kind": "Warp"}]}, "'a': unknown block kind 'Warp'"),
    ({"blocks": [{"id": "a", "kind": "Input", "pos": [1]}]}, "'a' has an invalid position"),
    ({"blocks": [{"id": "a", "kind": "Input", "pos": ["x", 2]}]}, "'a' has an invalid position"),
    ({"blocks": [{"id": "a", "kind": "Dense", "params": [1]}]}, "'a' has invalid parameters"),
    ({"blocks": [{"id": "a", "kind": "Dense", "params": {"units": -3}}]}, "'a': Units must be at least 1"),
    ({"blocks": [{"id": "a", "kind": "Dense"}, {"id": "a", "kind": "Flatten"}]}, "already exists"),
    ({"blocks": [{"id": "9a", "kind": "Dense"}]}, "must start with a letter"),
    ({"blocks": [{"id": "a", "kind": "Input"}], "edges": [["a"]]}, "invalid edge"),
    ({"blocks": [{"id": "a", "kind": "Input"}], "edges": [["a", "b"]]}, "edge a -> b: there is no block 'b'"),
    ({"blocks": [{"id": "a", "kind": "Dropout"}, {"id": "b", "kind": "Dropout"}],
      "edges": [["a", "b"], ["b", "a"]]}, "edge b -> a: .*cycle"),
    ({"blocks": [{"id": "a", "kind": "Dropout"}], "edges": [["a", "a"]]}, "itself"),
    ({"blocks": [{"id": "i", "kind": "Input"}, {"id": "a", "kind": "Dropout"}],
      "edges": [["i", "a"], ["i", "a"]]}, "already feeds"),
])
def test_from_dict_rejects_corrupt_data_with_a_reason(data, needle):
    with pytest.raises(NetworkError, match=needle):
        Network.from_dict(data)


def test_from_dict_accepts_missing_optional_fields():
    net = Network.from_dict({"blocks": [{"id": "inp", "kind": "Input"}, {"id": "f", "kind": "Flatten"}],
                             "edges": [("inp", "f")]})
    assert net.block("f").pos == (0.0, 0.0) and net.inputs_of("f") == ["inp"]
    assert net.block("f").params == {}


def test_chain_connects_each_block_to_the_next():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "Flatten"])
    assert [(e.src, e.dst) for e in net.edges] == [("input_1", "conv2d_1"), ("conv2d_1", "flatten_1")]
    assert net.block("conv2d_1").params["filters"] == 2
    assert net.sinks() == ["flatten_1"] and net.input_blocks() == ["input_1"]


# --------------------------------------------------------------------------- edge index and linear loading


def _chain_dict(n: int, reverse: bool = False) -> dict:
    ids = [f"b{i}" for i in range(n)]
    blocks = [{"id": ids[0], "kind": "Input"}] + [{"id": i, "kind": "Dropout"} for i in ids[1:]]
    edges = [[ids[i], ids[i + 1]] for i in range(n - 1)]
    return {"blocks": blocks, "edges": edges[::-1] if reverse else edges}


def test_loading_checks_cycles_once_not_per_edge(monkeypatch):
    def no_walks(self, start, goal):
        raise AssertionError("from_dict walked the graph for an edge")

    monkeypatch.setattr(Network, "_reaches", no_walks)
    net = Network.from_dict(_chain_dict(3000, reverse=True))
    assert len(net.edges) == 2999 and net.inputs_of("b1") == ["b0"] and net.outputs_of("b1") == ["b2"]
    order, cyclic = net.topological_order()
    assert order[:3] == ["b0", "b1", "b2"] and not cyclic


def test_loading_a_long_cycle_names_an_edge_that_closes_it():
    data = _chain_dict(50)
    data["blocks"][0]["kind"] = "Dropout"
    data["edges"].insert(10, ["b49", "b0"])
    with pytest.raises(NetworkError, match=r"edge b48 -> b49: connecting b48 to b49 would make a cycle"):
        Network.from_dict(data)


def test_the_index_follows_direct_edits_of_the_edge_list():
    net = Network.from_dict(_chain_dict(4))
    assert net.inputs_of("b2") == ["b1"]
    net.edges.append(Edge("b0", "b2"))
    assert net.inputs_of("b2") == ["b1", "b0"] and net.outputs_of("b0") == ["b1", "b2"]
    net.edges[:] = [Edge("b0", "b3")]
    assert net.inputs_of("b2") == [] and net.inputs_of("b3") == ["b0"]
    net.edges = [Edge("b1", "b2")]
    assert net.inputs_of("b2") == ["b1"] and net.inputs_of("b3") == []
    net.edges += [Edge("b2", "b3")]
    assert net.sinks() == ["b0", "b3"] and net.inputs_of("b3") == ["b2"]
    del net.edges[0]
    assert net.inputs_of("b2") == []


def test_index_stays_right_through_connect_insert_disconnect_and_remove():
    net = Network()
    for bid in ("i", "a", "b", "c"):
        net.add_block("Input" if bid == "i" else "Dropout", {}, (0, 0), bid)
    net.add_block("Add", {}, (0, 0), "add")
    for src in ("a", "b", "c"):
        net.connect("i", src)
    net.connect("a", "add")
    net.connect("c", "add")
    net.connect("b", "add", index=1)
    assert net.inputs_of("add") == ["a", "b", "c"]
    assert [e for e in net.edges if e.dst == "add"] == [Edge("a", "add"), Edge("b", "add"), Edge("c", "add")]
    with pytest.raises(NetworkError, match="already feeds"):
        net.connect("b", "add")
    assert net.disconnect("b", "add") == 1 and net.inputs_of("add") == ["a", "c"]
    net.connect("b", "add")
    net.remove_block("a")
    assert net.inputs_of("add") == ["c", "b"] and net.outputs_of("i") == ["b", "c"]
    assert Network.from_dict(net.to_dict()).inputs_of("add") == ["c", "b"]


@pytest.mark.parametrize("pos", [(float("nan"), 0.0), (0.0, float("inf")), (2e9, 0.0), ("x", 1)])
def test_positions_must_be_finite_and_near(pos):
    net = Network()
    with pytest.raises(NetworkError, match="position must be two"):
        net.add_block("Input", {}, pos)
    bid = net.add_block("Input")
    with pytest.raises(NetworkError, match="position must be two"):
        net.move_block(bid, pos)


def test_a_network_over_the_block_cap_is_refused(monkeypatch):
    import convstudio.core.network as network_module

    monkeypatch.setattr(network_module, "MAX_BLOCKS", 10)
    with pytest.raises(NetworkError, match="it has 11 blocks; ConvStudio opens networks of at most 10"):
        Network.from_dict(_chain_dict(11))


def test_messages_quote_hostile_ids_briefly():
    data = {"blocks": [{"id": "\x1b[31m" + "k" * 10**5, "kind": "Input"}]}
    with pytest.raises(NetworkError) as info:
        Network.from_dict(data)
    assert len(str(info.value)) < 400 and "\x1b" not in str(info.value)
    data = {"blocks": [{"id": "a", "kind": "Input"}], "edges": [["a", "z" * 10**5]]}
    with pytest.raises(NetworkError, match="there is no block 'zzz") as info:
        Network.from_dict(data)
    assert len(str(info.value)) < 300
