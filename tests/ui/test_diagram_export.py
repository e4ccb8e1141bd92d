"""File > Export Diagram: the canvas as PNG or SVG, around the blocks, without grid or selection."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from convstudio.ui.canvas.view import CanvasView
from convstudio.ui.diagram_export import (
    PNG_SCALE,
    DiagramError,
    diagram_rect,
    export_diagram,
)


@pytest.fixture
def canvas(qtbot, document):
    view = CanvasView(document)
    qtbot.addWidget(view)
    view.show()
    return view


def test_png_has_the_diagram_s_shape_and_the_selection_is_kept(canvas, document, tmp_path):
    document.select(["conv2d_1"])
    scene = canvas.network_scene
    rect = diagram_rect(scene)
    assert rect.height() > rect.width()  # a column of five blocks
    path = export_diagram(scene, tmp_path / "net.png")
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == round(rect.width() * PNG_SCALE) and image.height() == round(rect.height() * PNG_SCALE)
    assert abs(image.width() / image.height() - rect.width() / rect.height()) < 0.01
    assert document.selected_ids() == ["conv2d_1"] and scene.blocks["conv2d_1"].isSelected()
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]  # no temporary left behind


def test_svg_is_a_drawing_naming_every_block(canvas, tmp_path):
    path = export_diagram(canvas.network_scene, tmp_path / "net.svg")
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "conv2d_1" in text and "dense_1" in text


def test_unknown_suffix_and_empty_network_are_refused(canvas, document, tmp_path):
    with pytest.raises(DiagramError, match=".png or .svg"):
        export_diagram(canvas.network_scene, tmp_path / "net.gif")
    document.load_network(type(document.network)())
    with pytest.raises(DiagramError, match="empty"):
        export_diagram(canvas.network_scene, tmp_path / "net.png")
    assert not list(tmp_path.iterdir())
