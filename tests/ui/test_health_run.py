"""Training health in the panel with real (tiny) work: a run at learning rate 10 is warned about
live, with its gradient flow, and the learning-rate range test runs, is cancellable, and "Use this
rate" sets the panel's learning rate."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST

from convstudio.core.health.events import DIVERGING
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel

pytestmark = pytest.mark.slow


@pytest.fixture
def panel(qtbot, tmp_path, monkeypatch):
    """A panel on a dense network, reading 256 real MNIST images through CONVSTUDIO_DATA_DIR."""
    with np.load(BUNDLED_MNIST) as d:
        arrays = {k: d[k][:256] if k.endswith("train") else d[k][:32] for k in ("x_train", "y_train", "x_test", "y_test")}
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **arrays)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    controller = TrainingController(EditorDocument(net), checkpoint_dir=str(tmp_path / "ck"))
    widget = TrainingPanel(controller)
    qtbot.addWidget(widget)
    widget.resize(480, 900)
    widget.show()
    widget.set_tensorflow_ready(True)
    yield widget
    if controller.is_running:
        controller.stop_and_wait(5.0)
    app_settings.use_storage_root(None)


def test_a_run_at_learning_rate_10_is_warned_about_live_with_its_gradient_flow(qtbot, panel, monkeypatch):
    boxes = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, _text: boxes.append(title))
    # as in tests/core/test_health.py, where this run diverges in its first epoch
    panel.set_settings(TrainSettings(epochs=2, batch_size=32, validation_split=0.0, optimizer="sgd",
                                     learning_rate=10.0, seed=3, batch_event_interval_s=0.0))
    controller, health = panel.controller, panel.health
    panel.views.setCurrentWidget(health.flow)
    live = []
    controller.healthWarning.connect(lambda w: live.append((w.kind, controller.is_running,
                                                            len(health.warning_list.cards))))
    with qtbot.waitSignal(controller.runFinished, timeout=60_000):
        assert panel.start()
        assert not health.find_lr_button.isEnabled()  # no range test while training
    assert live and live[0] == (DIVERGING, True, 1)  # listed while the run went on
    [card] = health.warning_list.cards
    assert card.warning.kind == DIVERGING and card.warning is controller.health_warnings[0]
    assert "diverged" in card.text.text() and "learning rate" in card.text.text() and "epoch 1" in card.text.text()
    assert health.find_lr_button.isEnabled() and boxes == ["Training did not learn"]
    assert health.flow.showing_plot and health.flow.plot.blocks == ["dense_1"]
    assert len(health.flow.plot.gradient_bars) == 1 and health.flow.plot.dead_bars == []


def test_the_range_test_runs_cancels_and_its_rate_is_used(qtbot, panel):
    panel.set_settings(TrainSettings(optimizer="adam", learning_rate=0.5, batch_size=32))
    health = panel.health
    health.find_lr_button.click()
    dialog = health.dialog
    assert dialog.isVisible() and not dialog.use_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.worker.is_finished, timeout=60_000)
    result = dialog.result
    assert result is not None and len(result.learning_rates) >= 5
    [curve] = dialog.ax.get_lines()[:1]
    assert len(curve.get_xdata()) == len(result.learning_rates)
    status = dialog.status.text()
    assert f"Suggested learning rate: {result.suggested:.2g} (for Adam, batch size 32)" in status
    if 0.5 > 10 * result.suggested:
        assert "too high" in status
    assert dialog.use_button.isEnabled()
    dialog.use_button.click()
    assert not dialog.isVisible()
    expected = min(max(float(f"{result.suggested:.2g}"), panel.lr_spin.minimum()), panel.lr_spin.maximum())
    assert panel.lr_spin.value() == pytest.approx(expected, abs=1e-5)
    assert panel.settings().learning_rate == pytest.approx(expected, abs=1e-5)

    health.find_lr_button.click()  # again, and the batch size changed while it runs: its result is not shown
    dialog = health.dialog
    panel.batch_spin.setValue(16)
    qtbot.waitUntil(lambda: dialog.worker.is_finished, timeout=60_000)
    assert dialog.result is None and dialog.status.text().startswith("Stale: ")
    assert not dialog.use_button.isEnabled()
    dialog.reject()

    health.find_lr_button.click()  # again, and cancelled at once
    dialog = health.dialog
    dialog.reject()
    qtbot.waitUntil(lambda: dialog.worker.is_finished, timeout=60_000)
    assert dialog.result is None and dialog.status.text() == "Cancelled."
