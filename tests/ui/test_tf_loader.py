"""The TensorFlow loader runs on the worker: plotting first, then the device or a one-line failure."""

from __future__ import annotations

from convstudio.ui import tf_loader


def test_a_failure_after_the_import_reaches_failed_as_a_message(qtbot, monkeypatch):
    def no_device() -> str:
        raise RuntimeError("no usable device")

    monkeypatch.setattr(tf_loader, "describe_device", no_device)
    loader = tf_loader.TensorFlowLoader()
    messages: list[str] = []
    loader.failed.connect(messages.append)
    with qtbot.waitSignals([loader.plottingReady, loader.failed], order="strict", timeout=120_000):
        loader.start()
    assert messages == ["TensorFlow could not be loaded: no usable device"]
    assert not loader.is_ready and not loader.is_running
    assert loader.error == "TensorFlow could not be loaded: no usable device"
