"""The undo journal in core: an edit recorded from network events undoes and redoes exactly."""

from __future__ import annotations

import pytest

from convstudio.core.journal import Edit
from convstudio.core.network import Network, NetworkError


def _lenet() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


def _ids(net: Network) -> list[str]:
    return list(net.blocks)


def test_undo_and_redo_of_a_compound_edit_restore_the_network_exactly():
    net = _lenet()
    conv, pool, flat = _ids(net)[1:4]
    before = net.to_dict()

    def action(n: Network) -> str:
        n.set_param(conv, "filters", 16)
        n.move_block(conv, (50.0, 60.0))
        n.remove_block(pool)  # after the param change and the move: undo must bring those back too
        n.connect(conv, flat)
        return "done"

    edit = Edit(net, action)
    edit.redo()
    after = net.to_dict()
    assert edit.result == "done" and edit.error is None and edit.changed
    assert pool not in net and net.block(conv).params["filters"] == 16

    edit.undo()
    assert net.to_dict() == before  # same blocks, params, positions, and block and edge order
    edit.redo()
    assert net.to_dict() == after
    edit.undo()
    assert net.to_dict() == before


def test_a_block_added_and_removed_again_in_one_edit_can_be_undone():
    net = _lenet()
    before = net.to_dict()

    def action(n: Network) -> None:
        bid = n.add_block("Dropout", {"rate": 0.25}, (1.0, 2.0))
        n.set_param(bid, "rate", 0.5)
        n.remove_block(_ids(n)[2])
        n.remove_block(bid)

    edit = Edit(net, action)
    edit.redo()
    edit.undo()
    assert net.to_dict() == before
    edit.redo()
    assert "Dropout" not in {b.kind for b in net}


def test_a_failing_action_is_rolled_back_and_its_error_kept():
    net = _lenet()
    before = net.to_dict()
    conv = _ids(net)[1]

    def action(n: Network) -> None:
        n.set_param(conv, "filters", 32)
        n.remove_block("no_such_block")

    edit = Edit(net, action)
    edit.redo()
    assert isinstance(edit.error, NetworkError)
    assert net.to_dict() == before and not edit.changed


def test_merged_moves_that_return_to_the_start_are_nothing():
    net = _lenet()
    conv = _ids(net)[1]
    start = net.block(conv).pos
    first, second = Edit(net, lambda n: n.move_block(conv, (9.0, 9.0))), Edit(net, lambda n: n.move_block(conv, start))
    first.redo()
    second.redo()
    first.absorb(second)
    assert first.is_nothing

    third = Edit(net, lambda n: n.move_block(conv, (3.0, 4.0)))
    third.redo()
    first.absorb(third)
    assert not first.is_nothing
    first.undo()
    assert net.block(conv).pos == start


def test_an_edit_that_changes_nothing_records_nothing():
    net = _lenet()
    edit = Edit(net, lambda n: None)
    edit.redo()
    assert not edit.changed and edit.is_nothing


@pytest.mark.parametrize("index", [0, 1])
def test_merge_input_order_is_restored(index):
    net = Network.chain(["Input", ("Conv2D", {"filters": 4})])
    inp, conv = _ids(net)
    other = net.add_block("Conv2D", {"filters": 2}, (0.0, 50.0))
    net.connect(inp, other)
    add = net.add_block("Concatenate", {}, (0.0, 200.0))
    net.connect(conv, add)
    net.connect(other, add)
    before = net.to_dict()
    source = (conv, other)[index]
    edit = Edit(net, lambda n: n.disconnect(source, add))
    edit.redo()
    edit.undo()
    assert net.to_dict() == before and net.inputs_of(add) == [conv, other]
