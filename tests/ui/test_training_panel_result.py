"""The training panel shows a run that did not learn, or lost a checkpoint, as a warning, not a success."""

from __future__ import annotations

from convstudio.core.network import Network
from convstudio.core.training_events import TrainFinished
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel


def make_panel(qtbot, tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    widget = TrainingPanel(TrainingController(EditorDocument(net), checkpoint_dir=str(tmp_path / "ck")))
    qtbot.addWidget(widget)
    return widget


def test_a_diverged_run_is_a_warning_with_advice(qtbot, tmp_path, monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("convstudio.ui.training_panel.QMessageBox.warning",
                        lambda _parent, title, text: shown.append((title, text)))
    panel = make_panel(qtbot, tmp_path)
    try:
        advice = "Training diverged: the loss exploded to 447.8. Lower the learning rate, e.g. 1 instead of 10."
        message = f"Finished 2 epochs. Test accuracy 9.80%. {advice}"
        panel._on_finished(TrainFinished("completed", message, 2, {"loss": [447.8, 11.2]}, 2.3, 0.098,
                                         diagnosis="diverged", advice=advice))
        assert "Lower the learning rate" in panel.result_label.text()
        assert panel.result_label.text().count("9.80%") == 1  # the test accuracy is said once
        assert shown == [("Training did not learn", message)]
        shown.clear()
        panel._on_finished(TrainFinished("completed", "Finished 2 epochs.", 2, {"loss": [0.5, 0.3]}, 0.3, 0.9))
        assert shown == [] and "Lower" not in panel.result_label.text()
        warning = "Could not write the checkpoint of epoch 2 to /x: No space left on device"
        panel._on_finished(TrainFinished("completed", "Finished 2 epochs.", 2, {}, warnings=(warning,)))
        assert warning in panel.result_label.text() and shown and warning in shown[0][1]
    finally:
        app_settings.use_storage_root(None)
