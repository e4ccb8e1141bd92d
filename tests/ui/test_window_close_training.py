"""Closing the window while training runs: it asks, stops within two seconds and keeps the work."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from windows import discard_window  # noqa: E402

from convstudio.core.network import Network
from convstudio.core.resources import resource_path
from convstudio.core.settings import TrainSettings
from convstudio.ui import autosave, dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.training_controller import LOCK_REASON

pytestmark = pytest.mark.slow
B = QMessageBox.StandardButton


@pytest.fixture
def training_window(qtbot, tmp_path, monkeypatch):
    with np.load(resource_path("datasets") / "mnist_sample.npz") as data:
        arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=arrays["x_train"][:3000], y_train=arrays["y_train"][:3000],
             x_test=arrays["x_test"][:200], y_test=arrays["y_test"][:200])
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")

    asked: list[str] = []
    answers: list[QMessageBox.StandardButton] = []

    def ask(_parent, title, text, *_a, **_k):
        asked.append(f"{title}: {text}")
        return answers.pop(0)

    monkeypatch.setattr(dialogs, "ask", ask)
    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, text: asked.append(f"ERROR {title}: {text}"))
    win = mw.MainWindow()
    win.show()
    win.document.load_network(Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                                             ("Dense", {"units": 10, "activation": "softmax"})]))
    win.training_panel.set_settings(TrainSettings(epochs=20, batch_size=16))
    win.set_tensorflow_ready("CPU")
    win.build_insight()
    win.asked, win.answers = asked, answers
    yield win
    if win.controller.is_running:
        win.controller.stop_and_wait(10.0)
    discard_window(win)
    app_settings.use_storage_root(None)


def _start(qtbot, win) -> None:
    win.training_panel.start_button.click()
    assert win.controller.is_running
    qtbot.waitUntil(lambda: len(win.training_panel.plots.train_x) >= 1, timeout=60_000)


def test_closing_mid_training_stops_the_run_promptly_and_keeps_the_work(qtbot, training_window):
    win = training_window
    _start(qtbot, win)
    win.document.add_block("Dense", (0.0, 0.0))
    assert win.statusBar().currentMessage() == LOCK_REASON

    win.answers.extend([B.Yes, B.Discard])  # Stop and quit, then discard the unsaved weights
    started = time.monotonic()
    assert win.close() is True
    elapsed = time.monotonic() - started
    # The close waits a bounded time for the worker; typical figures (well under 2 s) come from
    # scripts/bench_responsiveness.py. Here only a hang is caught, so a busy machine cannot fail it.
    assert elapsed < 10, f"closing took {elapsed:.2f} s"
    assert win.asked[0].startswith("Training is running")
    assert not win.controller.is_running
    assert win.controller.last_finished.status == "stopped"
    assert win.controller.model is not None  # the weights trained so far are kept
    autosave = win.autosaver.path
    assert autosave.is_file()
    saved = json.loads(autosave.read_text())
    assert saved["network"] == win.document.network.to_dict()
    assert saved["weights"] and (autosave.parent / saved["weights"]).is_file()


def test_cancelling_the_close_leaves_training_running(qtbot, training_window):
    win = training_window
    _start(qtbot, win)
    win.answers.append(B.Cancel)
    assert win.close() is False
    assert win.isVisible() and win.controller.is_running
    assert win.controller.stop_and_wait(5.0)


def test_trained_weights_are_saved_with_the_project_and_follow_save_as(qtbot, training_window, tmp_path,
                                                                      monkeypatch):
    win = training_window
    win.training_panel.set_settings(TrainSettings(epochs=1, batch_size=64))
    win.document.undo_stack.setClean()
    with qtbot.waitSignal(win.controller.runFinished, timeout=60_000) as finished:
        win.training_panel.start_button.click()
    assert finished.args[0].status == "completed"
    assert win.isWindowModified() and win.model_unsaved  # the trained weights are not saved yet

    first = tmp_path / "one" / "net.json"
    first.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(first), ""))
    assert win.save_as()
    weights = first.with_name("net.weights.keras")
    assert weights.is_file() and not win.isWindowModified()
    assert json.loads(first.read_text())["weights"] == "net.weights.keras"

    win.model_unsaved = False
    with qtbot.waitSignal(win.weightsLoaded, timeout=30_000):
        assert win.open_file(str(first)) and win.weights_path == str(weights.resolve())
    assert win.session.model is not None  # the insight views can look inside it
    second = tmp_path / "two" / "copy.json"
    second.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(second), ""))
    assert win.save_as()
    copied = second.with_name("copy.weights.keras")
    assert copied.read_bytes() == weights.read_bytes()
    assert json.loads(second.read_text())["weights"] == "copy.weights.keras"


def test_the_autosave_at_a_runs_end_saves_the_model_off_the_gui_thread(qtbot, training_window, monkeypatch):
    import threading

    win = training_window
    writers: list[threading.Thread] = []

    def recording_save(*args, **kwargs):
        writers.append(threading.current_thread())
        return save_project(*args, **kwargs)

    save_project = autosave.save_project
    monkeypatch.setattr(autosave, "save_project", recording_save)
    _start(qtbot, win)
    assert win.controller.stop_and_wait(10.0)
    assert win.controller.last_finished.status == "stopped"
    qtbot.waitUntil(lambda: bool(writers) and not writers[0].is_alive(), timeout=30_000)
    assert writers[0] is not threading.main_thread()
    saved = json.loads(win.autosaver.path.read_text())
    assert saved["weights"] and (win.autosaver.path.parent / saved["weights"]).is_file()
