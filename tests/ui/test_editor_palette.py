"""Palette, icons and summary: the pieces around the canvas."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor

from convstudio.core.blocks import BLOCKS, CATEGORIES
from convstudio.core.network import Network
from convstudio.ui.document import BLOCK_MIME, EditorDocument
from convstudio.ui.icons import app_icon, block_icon, category_color
from convstudio.ui.palette import PaletteWidget
from convstudio.ui.summary_view import SummaryWidget


def test_palette_groups_every_kind_by_category_with_icon_and_tooltip(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    assert sorted(palette.kinds()) == sorted(BLOCKS)
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert groups == [c for c in CATEGORIES if any(s.category == c for s in BLOCKS.values())]
    for kind, spec in BLOCKS.items():
        item = palette.item_for(kind)
        assert item.parent().text(0) == spec.category
        assert not item.icon(0).isNull()
        assert spec.help in item.toolTip(0)
    conv_tip = palette.item_for("Conv2D").toolTip(0)
    assert "Stride" in conv_tip and "Padding" in conv_tip


def test_palette_drag_payload_and_filter(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.mime_for("MaxPool2D")
    assert bytes(mime.data(BLOCK_MIME)).decode() == "MaxPool2D"
    palette.filter.setText("pool")
    assert set(palette.kinds()) == {k for k, s in BLOCKS.items() if "pool" in (s.label + s.help + s.category).lower()}
    palette.filter.setText("")
    assert len(palette.kinds()) == len(BLOCKS)
    with qtbot.waitSignal(palette.blockActivated) as activated:
        palette.tree.itemActivated.emit(palette.item_for("Dense"), 0)
    assert activated.args == ["Dense"]


def test_icons_are_drawn_at_any_size_in_the_category_colour(qtbot):
    for kind in BLOCKS:
        for side, scale in ((16, 1.0), (24, 2.0), (64, 1.0)):
            pixmap = block_icon(kind).pixmap(QSize(side, side), scale)
            assert pixmap.width() == round(side * scale)
            image = pixmap.toImage()
            corner_inside = image.pixelColor(round(side * scale * 0.2), round(side * scale * 0.5))
            assert corner_inside.alpha() > 0
        # the tile is the category colour; the glyph is white: both appear in a large rendering
        image = block_icon(kind).pixmap(QSize(64, 64)).toImage()
        colours = {image.pixelColor(x, y).rgb() for x in range(0, 64, 2) for y in range(0, 64, 2)}
        assert category_color(kind).rgb() in colours and QColor("white").rgb() in colours
    assert not app_icon().isNull()


def test_summary_lists_blocks_and_totals_and_follows_edits(qtbot):
    doc = EditorDocument(Network.chain(["Input", ("Conv2D", {"filters": 8, "padding": "same"}), "Flatten",
                                        ("Dense", {"units": 10, "activation": "softmax"})]))
    widget = SummaryWidget(doc)
    qtbot.addWidget(widget)
    widget.show()
    rows = [[widget.table.item(r, c).text() for c in range(5)] for r in range(widget.table.rowCount())]
    assert [r[0] for r in rows] == ["input_1", "conv2d_1", "flatten_1", "dense_1"]
    conv = doc.analysis.info["conv2d_1"]
    assert rows[1][2] == "28x28x8" and rows[1][3] == f"{conv.params:,}" and rows[1][4] == f"{conv.macs:,}"
    total = doc.analysis.total_params
    assert f"{total:,}" in widget.totals.text() and "ready to train" in widget.totals.text()
    doc.set_param("conv2d_1", "filters", 4)
    assert widget.table.item(1, 2).text() == "28x28x4"
    assert f"{doc.analysis.total_params:,}" in widget.totals.text()
    widget.table.selectRow(3)
    assert doc.selected_ids() == ["dense_1"]
    widget.hide()
    doc.set_param("conv2d_1", "filters", 2)  # hidden: catches up when shown again
    widget.show()
    assert widget.table.item(1, 2).text() == "28x28x2"


def test_an_empty_filter_result_says_so(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    palette.show()
    palette.filter.setText("zebra")
    assert palette.kinds() == []
    assert palette.no_match.isVisible() and palette.no_match.text() == "No block matches 'zebra'"
    palette.filter.setText("conv")
    assert palette.kinds() and not palette.no_match.isVisible()


def test_summary_params_visible_without_sideways_scroll_in_a_narrow_panel(qtbot):
    doc = EditorDocument(Network.chain(["Input", ("Conv2D", {"filters": 64, "padding": "same"}),
                                        ("GlobalAvgPool2D", {}), ("Dense", {"units": 10, "activation": "softmax"})]))
    widget = SummaryWidget(doc)
    qtbot.addWidget(widget)
    widget.resize(260, 400)  # the docked panel's default width
    widget.show()
    qtbot.waitExposed(widget)
    table = widget.table
    params = 3
    assert not table.isColumnHidden(params)
    right = table.columnViewportPosition(params) + table.columnWidth(params)
    assert right <= table.viewport().width() and table.horizontalScrollBar().maximum() == 0
    assert table.item(1, 0).toolTip() == "conv2d_1 (Conv2D)"  # the type stays at hand
    widget.resize(700, 400)
    qtbot.wait(10)
    assert not table.isColumnHidden(1) and not table.isColumnHidden(4)  # wide: every column
