"""Renaming a block in the inspector: one undo step, canvas and selection follow, clear refusals."""

from __future__ import annotations

from PySide6.QtCore import Qt

from convstudio.ui.canvas.view import CanvasView
from convstudio.ui.inspector import InspectorWidget


def _views(qtbot, document):
    inspector = InspectorWidget(document)
    canvas = CanvasView(document)
    for w in (inspector, canvas):
        qtbot.addWidget(w)
        w.show()
    document.select(["conv2d_1"])
    return inspector, canvas


def _type_name(qtbot, inspector, text):
    field = inspector.name_field
    field.begin()
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, text)
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)


def test_rename_in_the_inspector_is_one_undo_step_the_canvas_and_selection_follow(qtbot, document):
    inspector, canvas = _views(qtbot, document)
    scene = canvas.network_scene
    steps = document.undo_stack.count()
    _type_name(qtbot, inspector, "edges")
    net = document.network
    assert "edges" in net.blocks and "conv2d_1" not in net.blocks
    assert net.inputs_of("edges") == ["input_1"] and net.outputs_of("edges") == ["maxpool2d_1"]
    assert document.selected_ids() == ["edges"] and inspector.block_id == "edges"
    assert set(scene.blocks) == set(net.blocks) and scene.blocks["edges"].isSelected()
    assert ("input_1", "edges") in scene.edges and ("edges", "maxpool2d_1") in scene.edges
    assert document.undo_stack.count() == steps + 1
    document.undo()
    assert "conv2d_1" in net.blocks and "edges" not in net.blocks
    assert set(scene.blocks) == set(net.blocks) and document.selected_ids() == ["conv2d_1"]
    assert inspector.name_field.edit.text() == "conv2d_1"
    document.redo()
    assert net.inputs_of("maxpool2d_1") == ["edges"]


def test_a_taken_or_invalid_name_is_refused_with_a_reason_and_changes_nothing(qtbot, document):
    inspector, _canvas = _views(qtbot, document)
    before = document.network.to_dict()
    _type_name(qtbot, inspector, "flatten_1")
    assert "already exists" in inspector.name_field.error_text
    assert inspector.name_field.edit.text() == "conv2d_1"
    _type_name(qtbot, inspector, "my conv")
    assert "must start with a letter" in inspector.name_field.error_text
    assert document.network.to_dict() == before and document.undo_stack.count() == 0


def test_the_inspector_links_the_glossary_entries_of_the_block(qtbot, document):
    inspector, _canvas = _views(qtbot, document)
    asked: list[str] = []
    inspector.glossaryRequested.connect(asked.append)
    assert "glossary:stride" in inspector.learn.text() and "glossary:padding" in inspector.learn.text()
    inspector.learn.linkActivated.emit("glossary:stride")
    assert asked == ["stride"]
