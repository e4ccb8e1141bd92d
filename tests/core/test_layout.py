"""Tidy layout: layers follow the data flow, branches sit side by side, nothing overlaps."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from convstudio.core.layout import layers, tidy_positions
from convstudio.core.network import Network

X_GAP, Y_GAP = 240.0, 150.0


def residual() -> Network:
    net = Network.chain(["Input", ("Conv2D", {"padding": "same"}), ("Conv2D", {"padding": "same"})])
    add = net.add_block("Add")
    net.connect("input_1", add)  # the shortcut skips both convolutions
    net.connect("conv2d_2", add)
    net.add_block("Flatten", block_id="flat")
    net.connect(add, "flat")
    return net


def inception() -> Network:
    net = Network()
    net.add_block("Input", block_id="inp")
    for name in ("a", "b", "c"):
        net.add_block("Conv2D", {"padding": "same"}, block_id=name)
        net.connect("inp", name)
    net.add_block("Concatenate", block_id="cat")
    for name in ("a", "b", "c"):
        net.connect(name, "cat")
    return net


def test_chain_is_one_column_top_to_bottom():
    net = Network.chain(["Input", "Conv2D", "MaxPool2D", "Flatten", "Dense"])
    for i, b in enumerate(net):
        net.move_block(b.id, (37.0 * i, -90.0 * i))  # scramble
    pos = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0))
    order, _ = net.topological_order()
    assert len({pos[b][0] for b in order}) == 1
    ys = [pos[b][1] for b in order]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert all(b - a == Y_GAP for a, b in zip(ys, ys[1:]))


def test_branches_side_by_side_between_fork_and_merge():
    net = inception()
    pos = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0))
    branch_ys = {pos[b][1] for b in "abc"}
    assert len(branch_ys) == 1
    xs = sorted(pos[b][0] for b in "abc")
    assert xs[1] - xs[0] >= X_GAP and xs[2] - xs[1] >= X_GAP
    assert pos["inp"][1] < pos["a"][1] < pos["cat"][1]
    # the merge sits under the middle of its branches, the fork above it
    assert pos["cat"][0] == xs[1] and pos["inp"][0] == xs[1]


def test_shortcut_moves_the_bypassed_blocks_aside():
    net = residual()
    pos = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0))
    assert [pos[b][1] for b in ("input_1", "conv2d_1", "conv2d_2", "add_1", "flat")] == \
        [0.0, Y_GAP, 2 * Y_GAP, 3 * Y_GAP, 4 * Y_GAP]
    # the shortcut input_1 -> add_1 runs straight down; the convolutions are beside it
    assert pos["conv2d_1"][0] != pos["input_1"][0]
    assert abs(pos["conv2d_1"][0] - pos["input_1"][0]) >= X_GAP / 2


def test_layers_put_cycles_last_and_keep_everything():
    net = Network.chain(["Input", "Conv2D"])
    a = net.add_block("Dense")
    b = net.add_block("Dense")
    net.connect(a, b)
    net.edges.append(type(net.edges[0])(b, a))  # a cycle, as a damaged file could hold
    grouped = layers(net)
    assert sorted(itertools.chain(*grouped)) == sorted(net.blocks)
    assert set(grouped[-1]) == {a, b}
    pos = tidy_positions(net)
    assert set(pos) == set(net.blocks)


def test_origin_defaults_to_top_left_of_current_positions():
    net = Network.chain(["Input", "Conv2D"])
    net.move_block("input_1", (500.0, 300.0))
    net.move_block("conv2d_1", (700.0, 900.0))
    pos = tidy_positions(net)
    assert pos["input_1"] == (500.0, 300.0)
    assert tidy_positions(Network()) == {}


@st.composite
def random_dags(draw):
    n = draw(st.integers(2, 12))
    net = Network()
    ids = [net.add_block("Input", block_id="b0")]
    for i in range(1, n):
        kind = draw(st.sampled_from(["Conv2D", "Add", "Concatenate"]))
        bid = net.add_block(kind, block_id=f"b{i}")
        k = draw(st.integers(1, min(2 if kind != "Conv2D" else 1, len(ids))))
        for src in draw(st.lists(st.sampled_from(ids), min_size=k, max_size=k, unique=True)):
            net.connect(src, bid)
        ids.append(bid)
    return net


@settings(max_examples=40, deadline=None)
@given(random_dags())
def test_no_two_blocks_share_a_spot_and_edges_point_down(net):
    pos = tidy_positions(net, X_GAP, Y_GAP)
    assert set(pos) == set(net.blocks)
    spots = list(pos.values())
    for (x1, y1), (x2, y2) in itertools.combinations(spots, 2):
        assert y1 != y2 or abs(x1 - x2) >= X_GAP - 1e-6
    for e in net.edges:
        assert pos[e.src][1] < pos[e.dst][1]


def test_tall_blocks_push_the_next_layer_down():
    net = Network.chain(["Input", "Conv2D", "Dense"])
    plain = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0), heights={b: 80.0 for b in net.blocks})
    assert [plain[b][1] for b in ("input_1", "conv2d_1", "dense_1")] == [0.0, Y_GAP, 2 * Y_GAP]
    tall = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0),
                          heights={"input_1": 80.0, "conv2d_1": 200.0, "dense_1": 80.0}, min_space=60.0)
    assert tall["dense_1"][1] - tall["conv2d_1"][1] == 260.0
    assert tall["conv2d_1"][1] == Y_GAP


def test_a_long_chain_wraps_into_columns_for_a_wide_view_and_stays_in_reading_order():
    net = Network.chain(["Input"] + [("Dense", {"units": 10})] * 8)
    order = list(net.blocks)
    one_column = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0))
    assert len({x for x, _ in one_column.values()}) == 1
    wrapped = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0), heights=dict.fromkeys(order, 90.0),
                             view=(700.0, 450.0))
    columns = sorted({x for x, _ in wrapped.values()})
    assert len(columns) >= 2
    # read column by column, top to bottom, the blocks come in the chain's order
    reading = sorted(order, key=lambda b: (wrapped[b][0], wrapped[b][1]))
    assert reading == order
    assert all(wrapped[b][1] == 0.0 for b in order if order.index(b) == 0 or
               wrapped[b][0] != wrapped[order[order.index(b) - 1]][0])  # each column starts at the top


def test_a_tall_view_or_a_short_network_keeps_one_column():
    net = Network.chain(["Input", "Conv2D", "Flatten", "Dense"])
    pos = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0), view=(900.0, 1200.0))
    assert len({x for x, _ in pos.values()}) == 1


def test_wrapping_never_splits_a_branch_or_a_shortcut():
    net = residual()
    for name in ("d1", "d2", "d3", "d4"):
        net.add_block("Dense", block_id=name)
    net.connect("flat", "d1")
    for a, b in (("d1", "d2"), ("d2", "d3"), ("d3", "d4")):
        net.connect(a, b)
    pos = tidy_positions(net, X_GAP, Y_GAP, origin=(0.0, 0.0), view=(900.0, 300.0))
    for e in net.edges:
        # an edge either goes down within a column or is the one link from a column's end to the next top
        assert pos[e.src][1] < pos[e.dst][1] or (pos[e.dst][1] == 0.0 and pos[e.dst][0] > pos[e.src][0])
    for a, b in (("input_1", "conv2d_1"), ("input_1", "add_1"), ("conv2d_2", "add_1")):
        assert pos[a][1] < pos[b][1]  # the residual block stays in one column
