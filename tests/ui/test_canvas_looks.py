"""How the canvas looks to a newcomer: guidance is neutral, connections go around blocks, text stays readable."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPainterPathStroker

from convstudio.core.network import Network
from convstudio.core.presets import load_preset
from convstudio.core.shapes import analyze
from convstudio.ui.canvas import CanvasView
from convstudio.ui.canvas.block_item import ERROR, OVERVIEW_LOD, READABLE_PX
from convstudio.ui.document import EditorDocument


def _stroke(path: QPainterPath) -> QPainterPath:
    """The drawn line itself (a path's own ``intersects`` tests the area it would enclose if filled)."""
    stroker = QPainterPathStroker()
    stroker.setWidth(2.0)
    return stroker.createStroke(path)


def _view(qtbot, network: Network) -> CanvasView:
    view = CanvasView(EditorDocument(network))
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    return view


def test_an_empty_canvas_and_a_lone_input_are_guidance_not_errors(qtbot):
    empty = analyze(Network())
    assert [i.severity for i in empty.issues] == ["hint"] and not empty.ok  # still nothing to train
    view = _view(qtbot, Network())
    assert view.banner.property("severity") == "hint"
    assert "#FDECEA" not in view.banner.styleSheet()  # not the red error box
    view.document.add_block("Input", pos=(0.0, 0.0))
    item = view.network_scene.blocks["input_1"]
    assert item.issue is not None and item.issue.severity == "hint"
    assert not item.is_error and item.issue_color() != ERROR
    assert "Dense(10, softmax)" in item.issue.message
    # a real error is still red
    conv = view.document.add_block("Conv2D", pos=(0.0, 150.0), params={"kernel_h": 15, "kernel_w": 15})
    view.document.connect_blocks("input_1", conv)
    conv = view.document.add_block("Conv2D", pos=(0.0, 300.0), params={"kernel_h": 15, "kernel_w": 15})
    view.document.connect_blocks("conv2d_1", conv)
    assert view.network_scene.blocks[conv].is_error


def test_preset_shortcuts_are_drawn_beside_the_blocks_they_skip(qtbot):
    view = _view(qtbot, load_preset("resnet_small").network)
    scene = view.network_scene
    scene.reroute()
    for (src, dst), edge in scene.edges.items():
        stroke = _stroke(edge.path())
        for bid, block in scene.blocks.items():
            if bid in (src, dst):
                continue
            body = block.body_rect().adjusted(2, 2, -2, -2)
            assert not stroke.intersects(body), f"{src}->{dst} runs over {bid}"


def test_a_block_moved_into_a_connection_makes_it_bend(qtbot):
    net = Network.chain(["Input", ("Dense", {"units": 10, "activation": "softmax"})], spacing=400.0)
    view = _view(qtbot, net)
    scene = view.network_scene
    edge = scene.edges[("input_1", "dense_1")]
    assert edge.route is None  # straight
    net.add_block("Dropout", block_id="stray", pos=(0.0, 180.0))
    view.document.move_blocks({"stray": (0.0, 200.0)})
    scene.reroute()
    assert edge.route is not None and len(edge.route) == 6
    assert not _stroke(edge.path()).intersects(scene.blocks["stray"].body_rect().adjusted(2, 2, -2, -2))


def test_fit_to_view_shows_names_at_a_readable_size(qtbot):
    view = _view(qtbot, load_preset("resnet_small").network)
    view.fit_to_view()
    zoom = view.zoom()
    assert zoom < OVERVIEW_LOD  # the whole network is too tall to fit at full detail
    item = view.network_scene.blocks["res1_conv_a"]
    on_screen = item.overview_font(zoom).pixelSize() * zoom
    assert on_screen >= READABLE_PX - 0.5
    # and the overview really paints (a non-empty picture in the block's colour)
    image = QImage(400, 200, QImage.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.scale(zoom, zoom)
    item.paint(painter, _option(), None)
    painter.end()
    assert image.pixelColor(int(100 * zoom), int(40 * zoom)).alpha() > 0


def _option():
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    return QStyleOptionGraphicsItem()


def test_routing_keeps_the_drawn_path_on_its_ports(qtbot):
    view = _view(qtbot, load_preset("inception_small").network)
    scene = view.network_scene
    scene.reroute()
    for (src, dst), edge in scene.edges.items():
        start, end = scene.blocks[src].output_anchor(), scene.blocks[dst].input_anchor()
        path = edge.path()
        assert (path.pointAtPercent(0.0) - start).manhattanLength() < 0.5
        assert (path.pointAtPercent(1.0) - end).manhattanLength() < 0.5
        assert QPointF(path.pointAtPercent(0.0)) == QPointF(start)


def test_fit_to_view_stops_at_a_readable_zoom_for_a_long_network(qtbot):
    from convstudio.ui.canvas.block_item import FIT_MIN_ZOOM

    long_chain = Network.chain(["Input"] + [("Dense", {"units": 10})] * 40, spacing=150.0)
    view = _view(qtbot, long_chain)
    view.fit_to_view()
    assert view.zoom() >= FIT_MIN_ZOOM - 1e-6
    item = view.network_scene.blocks["input_1"]
    assert item.overview_font(view.zoom()).pixelSize() * view.zoom() >= READABLE_PX - 0.5
    # it opens at the top, where the network starts
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(item.body_rect().center())


def test_the_banner_wraps_its_whole_message_in_a_narrow_canvas(qtbot):
    view = _view(qtbot, Network())  # empty: the banner says how to start
    view.resize(420, 400)
    qtbot.wait(20)
    view._place_banner()
    banner = view.banner
    assert banner.isVisible() and banner.width() <= 420
    line = banner.fontMetrics().lineSpacing()
    assert banner.height() >= 2 * line  # the message wraps onto more lines instead of being cut off
    assert banner.height() >= banner.heightForWidth(banner.width())


def test_a_preset_laid_out_for_the_canvas_shows_every_block_in_detail(qtbot):
    """At the canvas size of a 1280x800 window, LeNet-5 opens wrapped into columns at full detail."""
    from convstudio.core.layout import lay_out

    network = load_preset("lenet5").network
    document = EditorDocument(network)
    view = CanvasView(document)
    qtbot.addWidget(view)
    view.resize(560, 360)
    view.show()
    view.fit_to_view()
    assert view.zoom() < OVERVIEW_LOD  # one column is too tall: names only
    lay_out(network, view=view.layout_view())
    document.load_network(network)
    view.fit_to_view()
    assert view.zoom() >= OVERVIEW_LOD
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(item.body_rect().center())
               for item in view.network_scene.blocks.values())


def test_the_overview_writes_each_blocks_output_shape_under_its_name_while_readable(qtbot):
    from convstudio.ui.canvas.block_item import FIT_MIN_ZOOM

    view = _view(qtbot, load_preset("inception_small").network)
    item = view.network_scene.blocks["b2_3x3"]
    lines = item.overview_lines(FIT_MIN_ZOOM)
    assert lines[0] == "b2_3x3" and lines[1].startswith("14x14x24")
    assert item.two_line_font(FIT_MIN_ZOOM).pixelSize() * FIT_MIN_ZOOM >= READABLE_PX - 1
    assert item.overview_lines(0.15) == ["b2_3x3"]  # too small for two readable lines: the name alone
    assert view.network_scene.blocks["input"].overview_lines(FIT_MIN_ZOOM)[1] == "28x28x1"
