"""The canvas: drops from the palette, inserting on edges, connecting by dragging ports, block content."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from convstudio.core.network import Network
from convstudio.ui.canvas import BlockItem, CanvasView
from convstudio.ui.canvas.block_item import BLOCK_WIDTH
from convstudio.ui.document import EditorDocument
from convstudio.ui.palette import PaletteWidget


@pytest.fixture
def view(qtbot, document):
    v = CanvasView(document)
    qtbot.addWidget(v)
    v.resize(900, 1100)
    v.show()
    v.centerOn(QPointF(BLOCK_WIDTH / 2, 300))
    return v


def drop(view: CanvasView, kind: str, scene_pos: QPointF) -> QDropEvent:
    """Drop ``kind`` at ``scene_pos`` with the payload a palette drag carries, through dropEvent."""
    mime = PaletteWidget().mime_for(kind)
    at = QPointF(view.mapFromScene(scene_pos))
    event = QDropEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    view.dropEvent(event)
    return event


def mouse(view: CanvasView, kind: QEvent.Type, scene_pos: QPointF, buttons=Qt.LeftButton) -> None:
    local = QPointF(view.mapFromScene(scene_pos))
    button = Qt.NoButton if kind == QEvent.MouseMove else Qt.LeftButton
    event = QMouseEvent(kind, local, QPointF(view.viewport().mapToGlobal(local.toPoint())), button,
                        buttons, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view: CanvasView, start: QPointF, end: QPointF, steps: int = 4) -> None:
    mouse(view, QEvent.MouseButtonPress, start)
    for i in range(1, steps + 1):
        mouse(view, QEvent.MouseMove, start + (end - start) * (i / steps))
    mouse(view, QEvent.MouseButtonRelease, end, Qt.NoButton)


def item(view: CanvasView, block_id: str) -> BlockItem:
    return view.network_scene.blocks[block_id]


def test_drop_on_empty_space_adds_and_connects_below_the_open_end(view, document):
    event = drop(view, "Dropout", QPointF(BLOCK_WIDTH / 2, 900))
    assert event.isAccepted()
    net = document.network
    assert "dropout_1" in net.blocks and net.inputs_of("dropout_1") == ["dense_1"]
    assert "dropout_1" in view.network_scene.blocks
    assert document.selected_ids() == ["dropout_1"]
    x, y = net.blocks["dropout_1"].pos
    assert abs(x + BLOCK_WIDTH / 2 - BLOCK_WIDTH / 2) <= 10 and abs(y - 880) <= 10
    document.undo_stack.undo()
    assert "dropout_1" not in view.network_scene.blocks


def test_drop_of_an_input_block_is_not_connected(view, document):
    drop(view, "Input", QPointF(900, 0))
    assert document.network.inputs_of("input_2") == [] and document.network.outputs_of("input_2") == []


def test_drop_on_an_edge_inserts_into_it(view, document):
    net = document.network
    edge = view.network_scene.edges[("conv2d_1", "maxpool2d_1")]
    middle = edge.path().pointAtPercent(0.5)
    drop(view, "BatchNorm", middle)
    assert net.inputs_of("batchnorm_1") == ["conv2d_1"]
    assert net.inputs_of("maxpool2d_1") == ["batchnorm_1"]
    assert ("conv2d_1", "maxpool2d_1") not in view.network_scene.edges
    # the blocks below made room: nothing overlaps the new block
    new = item(view, "batchnorm_1").sceneBoundingRect()
    for bid, other in view.network_scene.blocks.items():
        if bid != "batchnorm_1":
            assert not new.intersects(other.sceneBoundingRect()), bid
    assert document.undo_stack.count() == 1


def test_drop_on_a_block_inserts_after_it(view, document):
    target = item(view, "maxpool2d_1").sceneBoundingRect().center()
    drop(view, "Dropout", target)
    net = document.network
    assert net.inputs_of("dropout_1") == ["maxpool2d_1"] and net.outputs_of("dropout_1") == ["flatten_1"]


def test_unknown_payload_is_ignored(view, document):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setData("application/x-convstudio-block", b"NoSuchBlock")
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    before = document.network.to_dict()
    view.dropEvent(event)
    assert not event.isAccepted() and document.network.to_dict() == before


def test_dragging_from_an_output_port_to_an_input_port_connects(view, document):
    net = document.network
    document.disconnect_blocks("maxpool2d_1", "flatten_1")
    start = item(view, "maxpool2d_1").output_anchor()
    end = item(view, "flatten_1").input_anchor()
    drag(view, start, end)
    assert net.inputs_of("flatten_1") == ["maxpool2d_1"]
    assert ("maxpool2d_1", "flatten_1") in view.network_scene.edges
    assert document.undo_stack.count() == 2


def test_dragging_an_edge_end_away_disconnects(view, document):
    end = item(view, "flatten_1").input_anchor()
    drag(view, end, end + QPointF(300, 40))
    assert document.network.inputs_of("flatten_1") == []
    assert ("maxpool2d_1", "flatten_1") not in view.network_scene.edges


def test_refused_connection_shows_the_reason(view, document, qtbot):
    start = item(view, "dense_1").output_anchor()
    end = item(view, "conv2d_1").input_anchor() + QPointF(30, 30)  # on the block body
    with qtbot.waitSignal(document.editRefused) as refused:
        drag(view, start, end)
    assert "at most 1 input" in refused.args[0]


def test_moving_a_block_by_mouse_is_one_undo_step(view, document):
    it = item(view, "flatten_1")
    grab = it.sceneBoundingRect().center()
    drag(view, grab, grab + QPointF(203, 0), steps=6)
    x, _ = document.network.blocks["flatten_1"].pos
    assert x == pytest.approx(200, abs=1e-6)  # snapped to the 10-px grid
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert it.pos() == QPointF(0, 450)


def test_block_items_show_shape_params_and_key_parameters(view, document):
    conv = item(view, "conv2d_1")
    assert conv.shape_text == "28x28x8"
    assert conv.params_text == "80 params"
    assert conv.summary == "8 @ 3x3, s1, same · relu"
    document.set_param("conv2d_1", "filters", 16)
    assert conv.shape_text == "28x28x16" and conv.params_text == "160 params"
    assert item(view, "maxpool2d_1").shape_text == "14x14x16"
    assert document.analysis.info["dense_1"].params == (14 * 14 * 16 + 1) * 10
    assert item(view, "dense_1").params_text == "31.4k params"


def test_conv_block_label_says_when_its_kernels_are_hand_designed_or_frozen(view, document):
    conv = item(view, "conv2d_1")
    document.set_param("conv2d_1", "kernel_init", "sobel")
    assert conv.summary == "8 @ 3x3, sobel, s1, same · relu"
    document.set_param("conv2d_1", "trainable", False)
    assert conv.summary == "8 @ 3x3, sobel, frozen, s1, same · relu"
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert conv.summary == "8 @ 3x3, s1, same · relu"


def test_error_block_shows_why_and_its_fix_button_fixes_it(qtbot):
    doc = EditorDocument(Network.chain(["Input", ("Conv2D", {"filters": 4}),
                                        ("Dense", {"units": 10, "activation": "softmax"})], spacing=150.0))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(800, 800)
    view.show()
    dense = item(view, "dense_1")
    assert dense.issue is not None and dense.issue.severity == "error"
    assert "insert Flatten" in dense.issue.message and "insert Flatten" in dense.toolTip()
    assert dense.shape_text == "?"
    button = dense.fix_button
    assert button.isVisible() and button.label == "Insert Flatten"
    view.centerOn(button.sceneBoundingRect().center())
    centre = button.sceneBoundingRect().center()
    mouse(view, QEvent.MouseButtonPress, centre)
    mouse(view, QEvent.MouseButtonRelease, centre, Qt.NoButton)
    assert doc.network.inputs_of("dense_1") == ["flatten_1"]
    assert dense.issue is None and not dense.fix_button.isVisible()
    assert dense.shape_text == "10"
    assert doc.undo_stack.count() == 1 and doc.network.blocks["dense_1"].pos == (0.0, 300.0)


def test_banner_shows_network_wide_problems(qtbot):
    doc = EditorDocument(Network.chain(["Conv2D", "Flatten"]))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.show()
    assert "no Input block" in view.banner_text()
    doc.add_block("Input", (0, -150))
    doc.connect_blocks("input_1", "conv2d_1")
    assert view.banner_text() == ""


def test_delete_removes_selected_blocks_and_edges_in_one_step(view, document, qtbot):
    scene = view.network_scene
    document.select(["maxpool2d_1"])
    scene.edges[("input_1", "conv2d_1")].setSelected(True)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Delete)
    net = document.network
    assert "maxpool2d_1" not in net.blocks and net.inputs_of("conv2d_1") == []
    assert document.undo_stack.count() == 1


def test_copy_paste_with_keyboard_keeps_internal_edges(view, document, qtbot):
    document.select(["conv2d_1", "maxpool2d_1"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    qtbot.keyClick(view, Qt.Key_V, Qt.ControlModifier)
    qtbot.keyClick(view, Qt.Key_Escape)  # a plain key resets the application's modifier state
    net = document.network
    assert net.inputs_of("maxpool2d_2") == ["conv2d_2"]
    assert document.selected_ids() == ["conv2d_2", "maxpool2d_2"]
    assert {"conv2d_2", "maxpool2d_2"} <= set(view.network_scene.blocks)


def test_zoom_and_fit(view, document, qtbot):
    z = view.zoom()
    view.zoom_in()
    assert view.zoom() > z
    for _ in range(40):
        view.zoom_out()
    assert view.zoom() == pytest.approx(0.05)
    view.fit_to_view()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.network_scene.items_rect())


def test_selection_follows_both_ways(view, document):
    item(view, "conv2d_1").setSelected(True)
    assert document.selected_ids() == ["conv2d_1"]
    document.select(["dense_1"])
    assert [i.block_id for i in view.network_scene.selectedItems() if isinstance(i, BlockItem)] == ["dense_1"]


def test_locked_canvas_refuses_drop_and_puts_a_dragged_block_back(view, document, qtbot):
    document.set_locked(True, "Training is running")
    with qtbot.waitSignal(document.editRefused):
        drop(view, "Dropout", QPointF(600, 600))
    it = item(view, "flatten_1")
    grab = it.sceneBoundingRect().center()
    drag(view, grab, grab + QPointF(200, 0))
    assert it.pos() == QPointF(0, 450)
    assert "dropout_1" not in document.network.blocks


def test_a_hundred_blocks_update_only_what_changed(qtbot):
    layers = ["Input"] + [("Conv2D", {"filters": 4, "padding": "same"})] * 98 + ["GlobalAvgPool2D"]
    doc = EditorDocument(Network.chain(layers))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    assert len(view.network_scene.blocks) == 100
    refreshed = []
    original = BlockItem.refresh

    def spy(self, *args):
        changed = original(self, *args)
        if changed:
            refreshed.append(self.block_id)
        return changed

    BlockItem.refresh = spy
    try:
        doc.set_param("conv2d_50", "kernel_h", 5)  # same padding: no shape changes downstream
    finally:
        BlockItem.refresh = original
    assert refreshed == ["conv2d_50"]


def test_banner_fix_link_applies_the_network_wide_fix(qtbot):
    doc = EditorDocument(Network.chain(["Conv2D", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.show()
    assert "Add an Input block" in view.banner_text()
    view.banner.linkActivated.emit("fix:0")
    assert doc.network.inputs_of("conv2d_1") == ["input_1"]
    assert view.banner_text() == "" and doc.analysis.ok
    assert doc.undo_stack.count() == 1


def test_add_kind_without_a_drag_goes_below_the_open_end(view, document):
    new = view.add_kind("Dropout")
    net = document.network
    assert net.inputs_of(new) == ["dense_1"]
    assert net.blocks[new].pos[1] > net.blocks["dense_1"].pos[1]
    assert document.selected_ids() == [new]


def test_arrow_keys_nudge_the_selection_in_one_undo_step(view, document, qtbot):
    document.select(["conv2d_1", "dense_1"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Down, Qt.ShiftModifier)
    for _ in range(3):  # plain keys last: they also reset the application's modifier state
        qtbot.keyClick(view, Qt.Key_Right)
    assert document.network.blocks["conv2d_1"].pos == (30.0, 200.0)
    assert item(view, "dense_1").pos() == QPointF(30.0, 650.0)
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert document.network.blocks["conv2d_1"].pos == (0.0, 150.0)


def _action(menu, text):
    for action in menu.actions():
        if action.text() == text:
            return action
        if action.menu() is not None:
            found = _action(action.menu(), text)
            if found is not None:
                return found
    return None


def test_context_menus_for_block_edge_and_canvas(view, document):
    net = document.network
    menu = view.context_menu(item(view, "flatten_1").sceneBoundingRect().center())
    assert document.selected_ids() == ["flatten_1"]
    _action(menu, "Duplicate").trigger()
    assert net.blocks["flatten_2"].kind == "Flatten"
    edge = view.network_scene.edges[("input_1", "conv2d_1")]
    menu = view.context_menu(edge.path().pointAtPercent(0.5))
    _action(menu, "BatchNormalization").trigger()
    assert net.inputs_of("conv2d_1") == ["batchnorm_1"]
    QApplication.clipboard().clear()
    menu = view.context_menu(QPointF(-2000, -2000))
    assert _action(menu, "Tidy layout") is not None and _action(menu, "Paste").isEnabled() is False
    document.set_locked(True, "Training is running")
    menu = view.context_menu(item(view, "dense_1").sceneBoundingRect().center())
    assert not _action(menu, "Delete").isEnabled() and _action(menu, "Copy").isEnabled()


def test_an_error_card_sits_beside_its_block_and_covers_nothing(qtbot):
    doc = EditorDocument(Network.chain(["Input", ("Conv2D", {"filters": 4}),
                                        ("Dense", {"units": 10, "activation": "softmax"}), "Dropout"]))
    view = CanvasView(doc)
    qtbot.addWidget(view)
    doc.tidy()
    blocks = view.network_scene.blocks
    dense, dropout = blocks["dense_1"], blocks["dropout_1"]
    assert dense.is_error and dense.issue.message
    card = dense.mapRectToScene(dense.card_rect())
    body = dense.body_rect()
    assert card.left() >= body.right()  # beside the block, not under it
    assert card.height() > 40 and body.height() < 100  # the block keeps its height
    for bid, other in blocks.items():
        if bid != "dense_1":
            assert not card.intersects(other.body_rect()), bid
    port = dropout.input_port.sceneBoundingRect()
    assert not card.intersects(port) and not body.intersects(port)
    # the fix button lives on the card and still works
    fix = dense.fix_button
    assert fix.isVisible() and card.contains(fix.sceneBoundingRect().center())


def test_ctrl_wheel_zooms_and_middle_drag_pans(view):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(view.viewport().rect().center())
    z = view.zoom()
    wheel = QWheelEvent(centre, QPointF(view.viewport().mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 240), Qt.NoButton, Qt.ControlModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() == pytest.approx(z * 1.15 ** 2)
    before = view.mapToScene(view.viewport().rect().center())
    vp = view.viewport()
    for kind, at, buttons in ((QEvent.MouseButtonPress, QPointF(300, 300), Qt.MiddleButton),
                              (QEvent.MouseMove, QPointF(200, 250), Qt.MiddleButton),
                              (QEvent.MouseButtonRelease, QPointF(200, 250), Qt.NoButton)):
        button = Qt.NoButton if kind == QEvent.MouseMove else Qt.MiddleButton
        QApplication.sendEvent(vp, QMouseEvent(kind, at, QPointF(vp.mapToGlobal(at.toPoint())), button,
                                               buttons, Qt.NoModifier))
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() > before.x() and after.y() > before.y()  # content followed the hand
    assert view.document.undo_stack.count() == 0  # panning is not an edit


def test_canvas_follows_a_dark_theme(view):
    from PySide6.QtGui import QColor, QPalette

    light = view.network_scene.backgroundBrush().color().lightness()
    palette = view.palette()
    palette.setColor(QPalette.Base, QColor("#1E1E1E"))
    view.setPalette(palette)
    assert view.network_scene.backgroundBrush().color().lightness() < 80 < light


def test_dragging_backwards_from_a_free_input_port_connects(view, document):
    document.disconnect_blocks("maxpool2d_1", "flatten_1")
    document.move_blocks({"flatten_1": (400.0, 450.0)})
    start = item(view, "flatten_1").input_anchor()
    end = item(view, "maxpool2d_1").body_rect().center()  # anywhere on the feeding block
    drag(view, start, end)
    assert document.network.inputs_of("flatten_1") == ["maxpool2d_1"]


def test_a_block_added_off_screen_is_scrolled_into_view(qtbot):
    """A fix that appends a block below the visible part (or a paste, an undo) shows the new block."""
    document = EditorDocument(Network.chain(["Input", "Conv2D"]))
    view = CanvasView(document)
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    view.fit_to_view()
    qtbot.wait(10)
    added = document.add_block("Flatten", (0.0, 1500.0), connect_from="conv2d_1")
    item = view.network_scene.blocks[added]

    def shown() -> bool:
        return view.mapToScene(view.viewport().rect()).boundingRect().contains(item.body_rect())

    assert not shown()  # nothing has scrolled yet
    qtbot.waitUntil(shown, timeout=2000)
