"""The inspector: a form generated from the block's specs, validated as typed, one undo step per field."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from convstudio.core.blocks import BLOCKS
from convstudio.core.network import Network
from convstudio.ui.document import EditorDocument
from convstudio.ui.inspector import InspectorWidget


def make(qtbot, document, block_id="conv2d_1"):
    widget = InspectorWidget(document)
    qtbot.addWidget(widget)
    widget.show()
    document.select([block_id])
    return widget


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def test_every_kind_gets_a_form_matching_its_params(qtbot):
    net = Network()
    for kind in BLOCKS:
        net.add_block(kind, block_id=f"b_{kind.lower()}")
    doc = EditorDocument(net)
    widget = InspectorWidget(doc)
    qtbot.addWidget(widget)
    expected = {int: QSpinBox, float: QDoubleSpinBox, bool: QCheckBox}
    for kind, spec in BLOCKS.items():
        doc.select([f"b_{kind.lower()}"])
        assert list(widget.fields) == [p.name for p in spec.params]
        for p in spec.params:
            editor = widget.fields[p.name].widget
            assert isinstance(editor, QComboBox if p.choices else expected[p.type]), (kind, p.name)
            assert p.help in editor.toolTip()


def test_out_of_range_is_refused_with_the_reason_next_to_the_field(qtbot, document):
    widget = make(qtbot, document)
    spin = widget.fields["filters"].widget
    type_into(qtbot, spin, "5000")
    assert "at most 2048" in widget.error_text("filters")
    # values apply as they are typed; the refused 5000 never reaches the network
    assert document.network.blocks["conv2d_1"].params["filters"] == 500
    type_into(qtbot, spin, "64")
    assert widget.error_text("filters") == ""
    assert document.network.blocks["conv2d_1"].params["filters"] == 64
    assert document.undo_stack.count() == 1  # every keystroke of one field merges into one step
    document.undo_stack.undo()
    assert spin.value() == 8 and document.network.blocks["conv2d_1"].params["filters"] == 8


def test_float_field_validates_and_commits(qtbot, document):
    document.insert_between("maxpool2d_1", "flatten_1", "Dropout")
    widget = make(qtbot, document, "dropout_1")
    spin = widget.fields["rate"].widget
    type_into(qtbot, spin, "1.5")
    assert "at most 0.95" in widget.error_text("rate")
    assert document.network.blocks["dropout_1"].params["rate"] == 0.5
    type_into(qtbot, spin, "0.25")
    assert widget.error_text("rate") == ""
    assert document.network.blocks["dropout_1"].params["rate"] == 0.25


def test_choice_and_bool_fields_commit(qtbot, document):
    widget = make(qtbot, document)
    combo = widget.fields["padding"].widget
    combo.setCurrentIndex(combo.findData("valid"))
    assert document.network.blocks["conv2d_1"].params["padding"] == "valid"
    assert "26x26x8" in widget.figures.text()
    widget.fields["use_bias"].widget.setChecked(False)
    assert document.network.blocks["conv2d_1"].params["use_bias"] is False
    assert document.undo_stack.count() == 2


def test_shows_figures_and_follows_undo(qtbot, document):
    widget = make(qtbot, document)
    text = widget.figures.text()
    assert "28x28x8" in text and ">80<" in text
    document.set_param("conv2d_1", "filters", 4)
    assert widget.fields["filters"].widget.value() == 4
    assert "28x28x4" in widget.figures.text()
    document.undo_stack.undo()
    assert widget.fields["filters"].widget.value() == 8


def test_shows_the_block_issue(qtbot):
    doc = EditorDocument(Network.chain(["Input", "Conv2D", ("Dense", {"units": 10, "activation": "softmax"})]))
    widget = make(qtbot, doc, "dense_1")
    assert "insert Flatten" in widget.issues.text()


def test_nothing_or_several_selected(qtbot, document):
    widget = make(qtbot, document)
    document.select(["conv2d_1", "dense_1"])
    assert widget.fields == {} and "2 blocks selected" in widget.title.text()
    document.select(["conv2d_1"])
    document.remove_blocks(["conv2d_1"])
    assert widget.block_id is None and widget.fields == {}


def test_locked_document_disables_fields_and_refuses(qtbot, document):
    widget = make(qtbot, document)
    document.set_locked(True, "Training is running")
    assert not widget.fields["filters"].widget.isEnabled()
    widget.fields["filters"].widget.setValue(12)  # even if a value gets through
    assert document.network.blocks["conv2d_1"].params["filters"] == 8
    assert widget.error_text("filters") == "Training is running"
    document.set_locked(False)
    assert widget.fields["filters"].widget.isEnabled()


def test_receptive_field_grows_through_the_network(qtbot, document):
    widget = make(qtbot, document)
    assert "3x3 pixels" in widget.figures.text()
    document.select(["maxpool2d_1"])
    assert "4x4 pixels" in widget.figures.text()  # 3 + (2 - 1) * 1
    document.select(["dense_1"])
    assert "the whole image" in widget.figures.text()


def test_leaving_a_refused_value_puts_the_applied_one_back(qtbot, document):
    widget = make(qtbot, document)
    spin = widget.fields["kernel_h"].widget
    type_into(qtbot, spin, "0")
    assert "at least 1" in widget.error_text("kernel_h")
    spin.editingFinished.emit()
    assert spin.value() == 3 and document.network.blocks["conv2d_1"].params["kernel_h"] == 3
    assert "at least 1" in widget.error_text("kernel_h")  # the reason stays until the next edit


def test_conv_offers_hand_designed_kernels_and_freezing(qtbot, document):
    widget = make(qtbot, document)
    combo, box = widget.fields["kernel_init"].widget, widget.fields["trainable"].widget
    assert isinstance(combo, QComboBox) and isinstance(box, QCheckBox)
    assert [combo.itemData(i) for i in range(combo.count())] == ["learned", "sobel", "kirsch", "gaussian"]
    assert combo.currentData() == "learned" and box.isChecked()
    assert "freeze" in box.toolTip().lower()
    combo.setCurrentIndex(combo.findData("sobel"))
    box.setChecked(False)
    params = document.network.blocks["conv2d_1"].params
    assert params["kernel_init"] == "sobel" and params["trainable"] is False
    assert "(0 trainable)" in widget.figures.text()
    document.undo_stack.undo()
    assert box.isChecked() and "trainable)" not in widget.figures.text()
