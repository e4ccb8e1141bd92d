"""Open the editor (palette, canvas, inspector, summary) on a sample network and save a screenshot.

Usage: ``python scripts/show_editor.py [out.png]`` (headless: ``QT_QPA_PLATFORM=offscreen``; for a
high-DPI check add ``QT_SCALE_FACTOR=2``).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSplitter, QWidget

from convstudio.core.network import Network
from convstudio.ui.canvas import CanvasView
from convstudio.ui.document import EditorDocument
from convstudio.ui.inspector import InspectorWidget
from convstudio.ui.palette import PaletteWidget
from convstudio.ui.summary_view import SummaryWidget


def sample_network() -> Network:
    """A small CNN with a residual branch and one mistake (Dense before Flatten) to show issues."""
    net = Network.chain([
        "Input",
        ("Conv2D", {"filters": 16, "padding": "same"}),
        ("BatchNorm", {}),
        ("Conv2D", {"filters": 16, "padding": "same"}),
    ])
    add = net.add_block("Add", pos=(0, 0))
    net.connect("batchnorm_1", add)
    net.connect("conv2d_2", add)
    pool = net.add_block("MaxPool2D", pos=(0, 0))
    net.connect(add, pool)
    dense = net.add_block("Dense", {"units": 10, "activation": "softmax"}, pos=(0, 0))
    net.connect(pool, dense)
    return net


def main(path: str = "/tmp/editor.png") -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    doc = EditorDocument(sample_network())
    doc.tidy()
    window = QWidget()
    split = QSplitter()
    palette = PaletteWidget()
    canvas = CanvasView(doc)
    side = QSplitter(Qt.Vertical)
    inspector = InspectorWidget(doc)
    summary = SummaryWidget(doc)
    side.addWidget(inspector)
    side.addWidget(summary)
    for w in (palette, canvas, side):
        split.addWidget(w)
    split.setSizes([200, 760, 380])
    QHBoxLayout(window).addWidget(split)
    window.resize(1360, 900)
    window.show()
    doc.select(["conv2d_1"])
    app.processEvents()
    canvas.fit_to_view()
    app.processEvents()
    window.grab().save(path)
    print(f"saved {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
