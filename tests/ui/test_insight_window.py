"""The "Inside the network" tab in the main window: probes, the probe image and the trained model."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402
from windows import discard_window  # noqa: E402

from convstudio.core.builder import build_model  # noqa: E402
from convstudio.core.inspection import block_activations  # noqa: E402
from convstudio.core.network import Network  # noqa: E402
from convstudio.core.training_events import ProbeUpdate, TrainFinished, TrainStarted  # noqa: E402
from convstudio.ui import dialogs  # noqa: E402
from convstudio.ui import main_window as mw  # noqa: E402
from convstudio.ui import settings as app_settings  # noqa: E402


class _Trainer:
    """Records what the window forwards to a running trainer."""

    def __init__(self) -> None:
        self.probes: list[np.ndarray] = []

    def set_probe(self, image) -> None:
        self.probes.append(np.asarray(image).copy())


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(dialogs, "show_error", lambda *_a, **_k: None)
    win = mw.MainWindow()
    win.show()
    qtbot.waitExposed(win)
    win.build_insight()
    assert win.insight.wait_idle()  # the dataset loads in the background; let it land first
    yield win
    win.insight.wait_idle()
    discard_window(win)
    app_settings.use_storage_root(None)


def test_the_tab_forwards_the_probe_image_probe_updates_and_the_trained_model(window):
    panel = window.insight
    assert window.insight is not None
    net = Network.chain(["Input", ("Conv2D", {"filters": 3, "padding": "same"}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    window.document.load_network(net)
    network = window.document.network
    trainer = _Trainer()
    window.controller._trainer = trainer  # a run in progress

    image = np.zeros((28, 28), dtype=np.uint8)
    image[10:18, 12:15] = 255
    panel.chooser.set_image(image, "test")
    np.testing.assert_array_equal(trainer.probes[-1], image)
    trainer.probes.clear()
    window.controller.runStarted.emit(TrainStarted("CPU", 1, 0, 10, 100, 0))
    assert len(trainer.probes) == 1  # a new run watches the sample chosen before it started
    np.testing.assert_array_equal(trainer.probes[0], image)

    model = build_model(network)
    acts = block_activations(model, network, image)
    conv = [b.id for b in network if b.kind == "Conv2D"][0]
    window.controller.probeUpdated.emit(ProbeUpdate(0, 5, acts, {conv: model.get_layer(conv).kernel.numpy()}))
    panel.feature_maps.set_block(conv)
    assert panel.feature_maps.tile_count() == 3 and panel.timeline.epochs() == [0]

    window.controller._trainer = None
    window.controller.model = model
    window.controller.runFinished.emit(TrainFinished("completed", "done", 1, {}))
    assert panel.wait_idle()
    assert panel.filters.current_block() == conv and panel.filters.hand_button.isEnabled()
    np.testing.assert_allclose(panel.feature_maps.grid.arrays()[0], acts[conv][:, :, 0], atol=1e-5)


def test_filters_view_sets_a_blocks_hand_designed_kernels_through_the_document(window):
    from convstudio.core.presets import load_preset

    window.document.load_network(load_preset("sobel_vs_learned").network)
    network = window.document.network
    panel = window.insight
    panel.set_model(build_model(network))
    assert panel.wait_idle()
    fv = panel.filters
    fv.block_combo.setCurrentIndex(fv.block_combo.findData("sobel"))
    assert not fv.compare_box.isHidden() and fv.drift == 0  # frozen Sobel: as designed
    fv.block_combo.setCurrentIndex(fv.block_combo.findData("learned"))
    fv.hand_combo.setCurrentIndex(fv.hand_combo.findText("Sobel edges (horizontal, vertical)"))
    fv.use_button.click()
    assert network.blocks["learned"].params["kernel_init"] == "sobel"
    assert not fv.compare_box.isHidden() and not fv.use_button.isEnabled()
    window.document.undo_stack.undo()
    assert network.blocks["learned"].params["kernel_init"] == "learned"
    assert fv.use_button.isEnabled()
