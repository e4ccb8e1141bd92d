"""Render the "Inside the network" panel offscreen with a briefly trained LeNet-like model.

Writes small PNGs of the feature maps, filters, prediction/Grad-CAM and confusion views to
``docs/screenshots/``, and of the augmentation view for an untrained colour network on the generated
coloured shapes. Usage: ``python scripts/insight_screenshots.py [mnist.npz] [out_dir]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def main(argv: list[str]) -> int:
    npz = argv[1] if len(argv) > 1 else "/work/shared/datasets/mnist.npz"
    out = Path(argv[2] if len(argv) > 2 else Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    import keras
    from PySide6.QtWidgets import QApplication

    from convstudio.core.builder import build_model
    from convstudio.core.datasets import Dataset
    from convstudio.core.inspection import prepare_images
    from convstudio.core.network import Network
    from convstudio.ui.insight import InsightPanel

    data = np.load(npz)
    dataset = Dataset("mnist", data["x_train"][:6000], data["y_train"][:6000], data["x_test"][:2000],
                      data["y_test"][:2000], [str(i) for i in range(10)], source=npz)
    net = Network.chain([
        "Input", ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "padding": "same"}), "MaxPool2D",
        ("Conv2D", {"filters": 16, "kernel_h": 5, "kernel_w": 5}), "MaxPool2D", "Flatten",
        ("Dense", {"units": 64}), ("Dense", {"units": 10, "activation": "softmax"}),
    ])
    keras.utils.set_random_seed(0)
    model = build_model(net)
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(prepare_images(dataset.x_train), dataset.y_train, epochs=2, batch_size=64, verbose=0)

    app = QApplication.instance() or QApplication([])
    panel = InsightPanel()
    panel.resize(1100, 620)
    panel.set_network(net)
    panel.set_dataset(dataset)
    panel.set_model(model)
    panel.show()
    panel.wait_idle()
    panel.chooser.select_test_index(7)
    panel.wait_idle()
    app.processEvents()

    fm = panel.feature_maps
    panel.tabs.setCurrentWidget(fm)
    fm.set_block("conv2d_1")
    fm.show_map(2)
    fm.show_unit(12, 15)
    app.processEvents()
    fm.save_png(str(out / "insight_feature_maps.png"))
    panel.tabs.setCurrentWidget(panel.filters)
    app.processEvents()
    panel.filters.save_png(str(out / "insight_filters.png"))
    panel.tabs.setCurrentIndex(2)
    app.processEvents()
    panel.tabs.currentWidget().grab().save(str(out / "insight_prediction_gradcam.png"))
    panel.tabs.setCurrentWidget(panel.confusion)
    ev = panel.confusion.evaluation
    off = ev.matrix.copy()
    np.fill_diagonal(off, -1)
    panel.confusion.select_cell(*np.unravel_index(np.argmax(off), off.shape))
    app.processEvents()
    panel.confusion.canvas.draw()
    panel.confusion.grab().save(str(out / "insight_confusion.png"))
    panel.grab().save(str(out / "insight_panel.png"))
    print(f"accuracy on {int(ev.matrix.sum())} test images: {ev.accuracy:.3f}; screenshots in {out}")
    panel.runner.shutdown()
    augmentation_screenshot(out / "insight_augmentation.png")
    return 0


def augmentation_screenshot(path: Path) -> None:
    """The Augmentation tab for an untrained network that augments 32x32 colour images."""
    from PySide6.QtWidgets import QApplication

    from convstudio.core.data.synthetic import colour_shapes_dataset
    from convstudio.core.network import Network
    from convstudio.ui.insight import InsightPanel

    app = QApplication.instance() or QApplication([])
    dataset = colour_shapes_dataset(n_train=8, n_test=16)
    net = Network.chain([
        ("Input", {"height": 32, "width": 32, "channels": 3}), ("RandomContrast", {"factor": 0.4}),
        ("Rescaling", {"scale": 2.0, "offset": -1.0}), ("RandomFlip", {"mode": "horizontal"}),
        ("RandomRotation", {"factor": 0.08}), ("RandomZoom", {"height_factor": 0.2, "width_factor": 0.2}),
        ("Conv2D", {"filters": 8}), "MaxPool2D", "Flatten", ("Dense", {"units": 4, "activation": "softmax"}),
    ])
    panel = InsightPanel()
    panel.resize(1100, 620)
    panel.set_network(net)
    panel.set_dataset(dataset)
    panel.tabs.setCurrentWidget(panel.augmentation)
    panel.show()
    panel.chooser.select_test_index(3)
    panel.wait_idle()
    app.processEvents()
    panel.augmentation.grab().save(str(path))
    panel.runner.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
