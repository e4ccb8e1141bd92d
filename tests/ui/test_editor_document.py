"""The editor document: every edit is one undo step that restores the exact network."""

from __future__ import annotations

import pytest

from convstudio.core.blocks import Fix
from convstudio.core.network import Network
from convstudio.ui.document import EditorDocument


def _broken() -> Network:
    """Conv -> Dense with no Flatten: Dense has an 'Insert Flatten' fix."""
    return Network.chain(["Input", ("Conv2D", {"filters": 4}), ("Dense", {"units": 10, "activation": "softmax"})])


EDITS = {
    "add": lambda d: d.add_block("Dropout", (300.0, 40.0)),
    "add_connected": lambda d: d.add_block("Dropout", (0.0, 900.0), connect_from="dense_1"),
    "remove_middle": lambda d: d.remove_blocks(["maxpool2d_1"]),
    "remove_many_and_edge": lambda d: d.remove_blocks(["conv2d_1", "dense_1"], [("maxpool2d_1", "flatten_1")]),
    "connect": lambda d: (d.disconnect_blocks("input_1", "conv2d_1"), d.undo_stack.clear(),
                          d.connect_blocks("input_1", "conv2d_1")),
    "disconnect": lambda d: d.disconnect_blocks("conv2d_1", "maxpool2d_1"),
    "reconnect": lambda d: (d.disconnect_blocks("maxpool2d_1", "flatten_1"), d.undo_stack.clear(),
                            d.reconnect("conv2d_1", "maxpool2d_1", "flatten_1")),
    "set_param": lambda d: d.set_param("conv2d_1", "filters", 32),
    "move": lambda d: d.move_blocks({"conv2d_1": (90.0, 10.0), "dense_1": (5.0, 5.0)}),
    "insert_between": lambda d: d.insert_between("conv2d_1", "maxpool2d_1", "BatchNorm"),
    "append_after_chain": lambda d: d.append_after("input_1", "Dropout"),
    "fix_set_param": lambda d: d.apply_fix("conv2d_1", Fix("Use padding 'valid'", "set_param",
                                                           {"name": "padding", "value": "valid"})),
    "fix_append": lambda d: d.apply_fix("flatten_1", Fix("Append", "append", {"kind": "Dense", "params": {}})),
    "paste": lambda d: d.paste(d.copy(["conv2d_1", "maxpool2d_1"])),
    "tidy": lambda d: (d.move_blocks({"flatten_1": (400.0, -80.0)}), d.undo_stack.clear(), d.tidy()),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_undo_and_redo_restore_the_exact_network(qtbot, lenet, name):
    doc = EditorDocument(lenet())
    EDITS[name](doc)
    after = doc.network.to_dict()
    doc.undo_stack.undo()
    before = doc.network.to_dict()
    assert before != after
    assert doc.undo_stack.index() == 0, "the edit must be exactly one undo step"
    doc.undo_stack.redo()
    assert doc.network.to_dict() == after
    doc.undo_stack.undo()
    assert doc.network.to_dict() == before


def test_fix_insert_flatten_undoes_in_one_step(qtbot):
    doc = EditorDocument(_broken())
    before = doc.network.to_dict()
    issue = next(i for i in doc.analysis.issues if i.block_id == "dense_1")
    assert issue.fix is not None and issue.fix.label == "Insert Flatten"
    doc.apply_fix("dense_1", issue.fix)
    assert doc.network.inputs_of("dense_1") == ["flatten_1"]
    assert doc.analysis.ok
    doc.undo_stack.undo()
    assert doc.network.to_dict() == before
    assert not doc.analysis.ok


def test_the_merge_input_order_is_restored_by_undo(qtbot):
    net = Network.chain(["Input"])
    for name in ("a", "b", "c"):
        net.add_block("Conv2D", {"padding": "same"}, block_id=name)
        net.connect("input_1", name)
    net.add_block("Concatenate", block_id="cat")
    for name in ("a", "b", "c"):
        net.connect(name, "cat")
    doc = EditorDocument(net)
    before = doc.network.to_dict()
    doc.remove_blocks(["b"])
    doc.undo_stack.undo()
    assert doc.network.inputs_of("cat") == ["a", "b", "c"]
    assert doc.network.to_dict() == before


def test_repeated_changes_to_one_field_merge(qtbot, document):
    doc = document
    for value in (1, 16, 160, 16):
        assert doc.set_param("conv2d_1", "filters", value) is None
    assert doc.undo_stack.count() == 1
    doc.set_param("conv2d_1", "kernel_h", 5)
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.network.blocks["conv2d_1"].params["filters"] == 8


def test_moves_merge_only_when_asked(qtbot, document):
    doc = document
    doc.move_blocks({"conv2d_1": (10.0, 0.0)}, merge=True)
    doc.move_blocks({"conv2d_1": (20.0, 0.0)}, merge=True)
    assert doc.undo_stack.count() == 1
    doc.move_blocks({"conv2d_1": (30.0, 0.0)})
    assert doc.undo_stack.count() == 2


def test_refused_edits_say_why_and_leave_no_undo_step(qtbot, document):
    doc = document
    before = doc.network.to_dict()
    with qtbot.waitSignal(doc.editRefused) as refused:
        reason = doc.set_param("conv2d_1", "filters", 0)
    assert reason == refused.args[0] and "at least 1" in reason
    with qtbot.waitSignal(doc.editRefused) as refused:
        assert not doc.connect_blocks("dense_1", "conv2d_1")
    assert "at most 1 input" in refused.args[0]
    merge = doc.network.add_block("Add")  # outside the undo stack, to set up a cycle attempt
    doc.network.connect("dense_1", merge)
    before = doc.network.to_dict()
    with qtbot.waitSignal(doc.editRefused) as refused:
        assert not doc.connect_blocks(merge, "input_1")
    assert "takes no inputs" in refused.args[0]
    with qtbot.waitSignal(doc.editRefused) as refused:
        assert not doc.connect_blocks(merge, merge)
    assert "cannot feed itself" in refused.args[0]
    with qtbot.waitSignal(doc.editRefused) as refused:
        assert doc.add_block("Conv2D", (0, 0), {"filters": -3}) is None
    assert "Filters" in refused.args[0]
    assert doc.network.to_dict() == before
    assert doc.undo_stack.count() == 0


def test_locked_document_refuses_every_edit_with_the_reason(qtbot, document):
    doc = document
    doc.set_param("conv2d_1", "filters", 12)
    before = doc.network.to_dict()
    with qtbot.waitSignal(doc.lockedChanged):
        doc.set_locked(True, "Training is running: stop it to edit the network")
    attempts = [
        lambda: doc.add_block("Dense", (0, 0)),
        lambda: doc.remove_blocks(["conv2d_1"]),
        lambda: doc.connect_blocks("input_1", "dense_1"),
        lambda: doc.set_param("conv2d_1", "filters", 3),
        lambda: doc.move_blocks({"conv2d_1": (1.0, 2.0)}),
        lambda: doc.insert_between("conv2d_1", "maxpool2d_1", "Dropout"),
        lambda: doc.paste(doc.copy(["conv2d_1"])),
        lambda: doc.tidy(),
        lambda: doc.undo(),
    ]
    for attempt in attempts:
        with qtbot.waitSignal(doc.editRefused) as refused:
            attempt()
        assert refused.args == ["Training is running: stop it to edit the network"]
    assert doc.network.to_dict() == before
    doc.set_locked(False)
    doc.undo()
    assert doc.network.blocks["conv2d_1"].params["filters"] == 8


def test_analysis_is_recomputed_once_per_edit(qtbot, document):
    doc = document
    seen = []
    doc.analysisChanged.connect(seen.append)
    doc.insert_between("conv2d_1", "maxpool2d_1", "BatchNorm")  # five network events
    assert len(seen) == 1
    assert seen[0] is doc.analysis
    assert doc.analysis.shape("batchnorm_1") == (28, 28, 8)


def test_paste_gives_fresh_ids_keeps_internal_edges_and_selects(qtbot, document):
    doc = document
    data = doc.copy(["conv2d_1", "maxpool2d_1", "dense_1"])
    assert data["edges"] == [["conv2d_1", "maxpool2d_1"]]
    new = doc.paste(data, (40.0, 40.0))
    assert new == ["conv2d_2", "maxpool2d_2", "dense_2"]
    assert doc.network.inputs_of("maxpool2d_2") == ["conv2d_2"]
    assert doc.network.blocks["conv2d_2"].params == doc.network.blocks["conv2d_1"].params
    x, y = doc.network.blocks["conv2d_1"].pos
    assert doc.network.blocks["conv2d_2"].pos == (x + 40.0, y + 40.0)
    assert doc.selected_ids() == new
    assert doc.paste({"nonsense": 1}) == []


def test_load_network_clears_history_and_modified_follows_the_stack(qtbot, document):
    doc = document
    with qtbot.waitSignal(doc.modifiedChanged) as changed:
        doc.add_block("Dropout", (0, 0))
    assert changed.args == [True]
    doc.select(["conv2d_1"])
    doc.load_network(Network.chain(["Input", "Flatten"]))
    assert doc.undo_stack.count() == 0 and doc.undo_stack.isClean()
    assert list(doc.network.blocks) == ["input_1", "flatten_1"]
    assert doc.selected_ids() == []
    assert doc.analysis.shape("flatten_1") == (784,)


def test_dataset_shape_changes_the_analysis(qtbot, document):
    doc = document
    doc.set_dataset_shape((32, 32, 3), 5)
    assert doc.analysis.shape("conv2d_1") == (32, 32, 8)
    assert any("5 classes" in i.message for i in doc.analysis.issues)


def test_auto_connect_rule(qtbot, document):
    doc = document
    assert doc.auto_connect_source("Dropout") == "dense_1"
    assert doc.auto_connect_source("Input") is None
    doc.add_block("Conv2D", (500, 0))  # a second, unconnected sink: no single output any more
    assert doc.auto_connect_source("Dropout") is None


def test_an_edit_that_fails_halfway_is_rolled_back(qtbot, document):
    doc = document
    before = doc.network.to_dict()
    data = {"blocks": [{"id": "a", "kind": "Conv2D", "params": {}, "pos": [0, 0]},
                       {"id": "b", "kind": "Conv2D", "params": {}, "pos": [0, 100]},
                       {"id": "c", "kind": "Conv2D", "params": {}, "pos": [0, 200]}],
            "edges": [["a", "c"], ["b", "c"]]}  # Conv2D takes one input: the second edge fails
    with qtbot.waitSignal(doc.editRefused) as refused:
        assert doc.paste(data) == []
    assert "at most 1 input" in refused.args[0]
    assert doc.network.to_dict() == before
    assert doc.undo_stack.count() == 0


def test_loading_a_network_clears_the_selection(qtbot, document, lenet):
    document.select(["conv2d_1"])
    document.load_network(lenet())
    assert document.selected_ids() == []


def test_changing_a_field_back_leaves_no_undo_step(qtbot, document):
    document.set_param("conv2d_1", "filters", 9)
    document.set_param("conv2d_1", "filters", 8)
    assert document.undo_stack.count() == 0
    assert not document.undo_stack.canUndo()


def test_replacing_the_network_is_one_step_that_keeps_ids_places_and_input_order(qtbot, lenet):
    merged = Network.chain(["Input"])
    for name in ("c", "a"):
        merged.add_block("Conv2D", {"padding": "same"}, (100.0, 50.0), block_id=name)
        merged.connect("input_1", name)
    merged.add_block("Concatenate", block_id="cat")
    for name in ("c", "a"):
        merged.connect(name, "cat")
    doc = EditorDocument(lenet())
    before = doc.network.to_dict()
    assert doc.replace_network(merged, "Reopen a run") is None
    assert doc.network.to_dict() == merged.to_dict() and doc.network.inputs_of("cat") == ["c", "a"]
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Reopen a run"
    doc.undo()
    assert doc.network.to_dict() == before
    doc.redo()
    assert doc.network.to_dict() == merged.to_dict()
