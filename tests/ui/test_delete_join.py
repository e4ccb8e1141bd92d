"""Deleting a block in the middle of a chain offers to join its neighbours, as one undo step."""

from __future__ import annotations

import pytest

from convstudio.core.network import Network
from convstudio.ui import delete_join
from convstudio.ui.document import EditorDocument


def chain_document() -> tuple[EditorDocument, list[str]]:
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Dropout", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    return EditorDocument(net), net.topological_order()[0]


@pytest.mark.parametrize("choice", ["join", "gap", "cancel"])
def test_the_user_chooses_how_a_middle_block_goes(qtbot, choice):
    doc, order = chain_document()
    asked: list[tuple] = []
    delete_join.delete_selection(None, doc, [order[3]],
                                 ask=lambda _p, bid, src, dst: asked.append((bid, src, dst)) or choice)
    assert asked == [(order[3], order[2], order[4])]
    if choice == "cancel":
        assert order[3] in doc.network and doc.undo_stack.count() == 0
        return
    assert order[3] not in doc.network and doc.undo_stack.count() == 1
    joined = doc.network.inputs_of(order[4]) == [order[2]]
    assert joined == (choice == "join") and doc.analysis.ok == (choice == "join")
    doc.undo_stack.undo()  # one step brings the block and both its connections back
    assert doc.network.inputs_of(order[3]) == [order[2]] and doc.network.inputs_of(order[4]) == [order[3]]
    assert doc.analysis.ok


def test_no_question_when_joining_is_not_possible(qtbot):
    doc, order = chain_document()
    delete_join.delete_selection(None, doc, [order[4]], ask=lambda *_a: pytest.fail("asked"))  # Flatten
    assert order[4] not in doc.network
    delete_join.delete_selection(None, doc, [order[1], order[2]], ask=lambda *_a: pytest.fail("asked"))
    assert order[1] not in doc.network and order[2] not in doc.network
