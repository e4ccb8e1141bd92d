"""Deleting a block in the middle of a chain can join its neighbours when the shapes allow it."""

from __future__ import annotations

import pytest

from convstudio.core.bridging import join_neighbours, joinable_neighbours
from convstudio.core.network import Network, NetworkError
from convstudio.core.shapes import analyze


def lenet() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Dropout", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


def ids(net: Network) -> list[str]:
    return net.topological_order()[0]


def test_a_block_in_a_chain_is_removed_and_its_neighbours_joined():
    net = lenet()
    order = ids(net)
    dropout = order[3]
    assert joinable_neighbours(net, dropout) == (order[2], order[4])
    assert join_neighbours(net, dropout) == (order[2], order[4])
    assert dropout not in net and net.inputs_of(order[4]) == [order[2]]
    assert analyze(net).ok


def test_no_join_when_the_shapes_do_not_allow_it():
    net = lenet()
    flatten = ids(net)[4]
    assert joinable_neighbours(net, flatten) is None  # Dense on a 3-D map: a new error


def test_no_join_for_the_ends_of_a_chain_or_a_branching_block():
    net = lenet()
    order = ids(net)
    assert joinable_neighbours(net, order[0]) is None  # Input: no input of its own
    assert joinable_neighbours(net, order[-1]) is None  # the output: feeds nothing
    branch = Network.chain(["Input", ("Conv2D", {"filters": 4}), ("Conv2D", {"filters": 4})])
    _a, b, _c = ids(branch)
    extra = branch.add_block("Conv2D", {"filters": 4})
    branch.connect(b, extra)
    assert joinable_neighbours(branch, b) is None  # two outputs
    with pytest.raises(NetworkError):
        join_neighbours(branch, b)
    assert joinable_neighbours(branch, "nope") is None


def test_no_join_when_the_input_already_feeds_the_output():
    net = Network.chain(["Input", ("Conv2D", {"filters": 1, "padding": "same"}), "Add"])
    first, conv, add = ids(net)
    net.connect(first, add)  # a skip edge beside the conv
    assert joinable_neighbours(net, conv) is None
