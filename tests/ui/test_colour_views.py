"""Shapes and colour in the views: the Input block's shape typed in the inspector, the dataset's shape
as a fix, first-layer filters of a colour network in colour, and colour samples."""

from __future__ import annotations

import numpy as np

from convstudio.ui.insight.filter_view import FilterView
from convstudio.ui.insight.sample_chooser import SampleChooser
from convstudio.ui.inspector import InspectorWidget


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)


def test_the_input_shape_is_typed_in_the_inspector_and_flows_downstream(qtbot, document):
    widget = InspectorWidget(document)
    qtbot.addWidget(widget)
    widget.show()
    document.select(["input_1"])
    assert list(widget.fields) == ["height", "width", "channels"]
    type_into(qtbot, widget.fields["channels"].widget, "3")
    type_into(qtbot, widget.fields["width"].widget, "40")
    assert document.network.blocks["input_1"].params == {"height": 28, "width": 40, "channels": 3}
    assert document.analysis.input_shape == (28, 40, 3)
    assert document.analysis.info["conv2d_1"].params == (3 * 3 * 3 + 1) * 8


def test_a_different_dataset_shape_is_a_red_input_block_fixed_in_one_click(qtbot, document):
    document.set_dataset_shape((32, 32, 3), 10, adopt=False)
    (issue,) = document.analysis.issues_for("input_1")
    assert issue.severity == "error" and issue.fix.label == "Use the dataset's shape"
    document.apply_fix("input_1", issue.fix)
    assert document.input_shape == (32, 32, 3) and not document.analysis.issues_for("input_1")
    document.undo_stack.undo()  # the fix is one undo step
    assert document.input_shape == (28, 28, 1)
    document.set_dataset_shape((20, 20, 1), 10)  # choosing a dataset sets the shape
    assert document.input_shape == (20, 20, 1) and document.analysis.ok


def test_first_layer_filters_of_a_colour_network_are_shown_in_colour(qtbot):
    view = FilterView()
    qtbot.addWidget(view)
    view.show()
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    kernel[:, :, 0, 0] = 1.0  # red
    kernel[:, :, 2, 1] = 1.0  # blue
    view.set_kernels({"conv": kernel})
    assert view.colour.isVisible() and view.colour_preferences == ["prefers red", "prefers blue"]
    tiles = view.colour.arrays()
    assert [t.shape for t in tiles] == [(3, 3, 3), (3, 3, 3)] and tiles[0][0, 0].tolist() == [1.0, 0.0, 0.0]
    assert not view.colour.grab().isNull()  # paints
    view.set_kernels({"conv": np.zeros((3, 3, 1, 2), np.float32)})
    assert not view.colour.isVisible()


def test_the_sample_chooser_keeps_colour_for_a_colour_network(qtbot, tmp_path):
    from PIL import Image

    chooser = SampleChooser()
    qtbot.addWidget(chooser)
    chooser.set_input_shape((12, 10, 3))
    picture = np.zeros((24, 20, 3), np.uint8)
    picture[..., 1] = 255
    Image.fromarray(picture).save(tmp_path / "green.png")
    with qtbot.waitSignal(chooser.imageChanged) as signal:
        assert chooser.load_file(str(tmp_path / "green.png"))
    image = signal.args[0]
    assert image.shape == (12, 10, 3) and image[..., 1].min() == 255 and image[..., 0].max() == 0
    assert chooser.preview.arrays()[0].shape == (12, 10, 3)
    chooser.set_input_shape((28, 28, 1))
    assert chooser.image().shape == (28, 28)
