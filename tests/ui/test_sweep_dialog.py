"""The Sweep dialog: a 6-trial sweep in the background, a sortable table and plot, the best trial into the editor."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import MNIST
from PySide6.QtCore import QCoreApplication, QEvent, Qt

from convstudio.core.network import Network
from convstudio.core.runs import list_runs, load_run
from convstudio.core.settings import TrainSettings
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.sweeps import SweepDialog
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel

pytestmark = pytest.mark.slow


@pytest.fixture
def parts(qtbot, tmp_path, monkeypatch):
    """A document, training panel and controller over a tiny network; MNIST is a 96-image folder."""
    if not MNIST.is_file():
        pytest.skip(f"no MNIST at {MNIST}")
    folder = tmp_path / "data"
    folder.mkdir()
    with np.load(MNIST) as d:
        np.savez(folder / "mnist.npz", x_train=d["x_train"][:96], y_train=d["y_train"][:96],
                 x_test=d["x_test"][:32], y_test=d["y_test"][:32])
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(folder))
    app_settings.use_storage_root(tmp_path / "config")
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    document = EditorDocument(net)
    controller = TrainingController(document, checkpoint_dir=str(tmp_path / "ck"))
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    panel.set_settings(TrainSettings(learning_rate=0.001, batch_size=32, epochs=3, validation_split=0.25, seed=2))
    dialog = SweepDialog(document, panel, controller)
    qtbot.addWidget(dialog)
    yield document, panel, controller, dialog
    app_settings.use_storage_root(None)


def test_the_form_says_what_is_wrong_before_anything_runs(parts):
    document, panel, controller, dialog = parts
    gone = SweepDialog(document, panel, controller)
    gone.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert document.set_param("conv2d_1", "filters", 5) is None  # a closed dialog no longer listens
    assert not dialog.start_button.isEnabled()  # nothing to vary yet
    row = dialog.form.add_block_axis("conv2d_1.filters", "4, 0")
    assert "Filters must be at least 1" in dialog.form.count_label.text() and not dialog.start_button.isEnabled()
    row.values_edit.setText("2, 4")
    dialog.form.lr_edit.setText("0.01, x")
    assert "'x' is not a number" in dialog.form.count_label.text() and not dialog.start()
    dialog.form.lr_edit.setText("0.01, 0.003")
    assert dialog.form.count_label.text().startswith("4 combination(s); 4 trial(s) of 3 epoch(s)")
    document.set_param("maxpool2d_1", "pool_h", 28)  # no combination can work now
    assert "the network does not work: maxpool2d_1" in dialog.form.count_label.text()
    assert not dialog.start_button.isEnabled()
    document.undo()
    assert dialog.start_button.isEnabled()
    assert dialog.form.targets[0] == "conv2d_1.filters"  # filters, units and rates first


def test_a_six_trial_sweep_fills_the_table_and_plot_and_the_best_opens_in_the_editor(qtbot, parts):
    document, panel, controller, dialog = parts
    dialog.form.lr_edit.setText("0.01, 0.003")
    dialog.form.add_block_axis("conv2d_1.filters", "1, 2, 3")
    dialog.form.epochs_spin.setValue(1)
    assert dialog.start()
    assert dialog.cancel_button.isEnabled() and not dialog.form.lr_edit.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=120_000)
    assert dialog.progress.value() == 6 and "6 trial(s), best: trial" in dialog.status.text()

    table = dialog.table
    assert table.row_count() == 6
    runs = list_runs(controller.runs_dir())
    assert len(runs) == 6 and all(load_run(s.folder).record["origin"] == "gui" for s in runs)
    assert {table.row_at(i).run_id for i in range(6)} == {s.id for s in runs}
    score = table.column_of("Val acc")
    table.sortByColumn(score, Qt.SortOrder.DescendingOrder)
    scores = [table.row_at(i).score for i in range(6)]
    assert scores == sorted(scores, reverse=True)
    best = dialog.table.row_at(0)
    assert [b for b in dialog.plot.bars if b[2]] == [(best.number, best.score, True)] and len(dialog.plot.bars) == 6

    assert dialog.best_button.isEnabled()
    dialog.best_button.click()
    assert document.network.blocks["conv2d_1"].params["filters"] == best.value_map["conv2d_1.filters"]
    assert panel.settings().learning_rate == pytest.approx(best.value_map["learning_rate"])
    assert document.undo_stack.count() == 1  # the trial's filters (never 4) are one edit
    document.undo()
    assert document.network.blocks["conv2d_1"].params["filters"] == 4  # one undo step back

    document.set_param("maxpool2d_1", "pool_h", 3)  # another change than the swept values: stale
    assert dialog.note.text().startswith("Stale:") and not dialog.best_button.isEnabled()
    assert dialog.use_trial(best) is not None and document.network.blocks["conv2d_1"].params["filters"] == 4
    document.undo()  # back to the network the sweep ran on
    assert dialog.note.text() == "" and dialog.best_button.isEnabled()
    panel.set_dataset_name("fashion_mnist")  # other data: stale again
    assert dialog.note.text().startswith("Stale:") and not dialog.best_button.isEnabled()


def test_cancel_keeps_the_trials_that_ended_and_unlocks_the_form(qtbot, parts):
    _document, _panel, controller, dialog = parts
    dialog.form.batch_edit.setText("16, 24, 32")
    dialog.form.epochs_spin.setValue(1)
    assert dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.status.text().startswith("Trial 1 of 3")), timeout=60_000)
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=60_000)
    assert dialog.status.text().startswith("Cancelled after")
    assert dialog.table.row_count() <= 1 and len(list_runs(controller.runs_dir())) <= 1
    assert dialog.form.lr_edit.isEnabled() and not dialog.cancel_button.isEnabled()


def test_training_sweep_in_the_window_opens_the_dialog_on_the_editor_network(qtbot, tmp_path, monkeypatch):
    from convstudio.ui import main_window as mw

    monkeypatch.setattr(mw.MainWindow, "offer_recovery", lambda self: False)
    app_settings.use_storage_root(tmp_path / "config")
    try:
        win = mw.MainWindow(autosave_interval_ms=3_600_000)
        qtbot.addWidget(win)
        menus = {a.text().replace("&", ""): a.menu() for a in win.menuBar().actions() if a.menu() is not None}
        assert win.sweep_action in menus["Training"].actions()
        assert list(menus).index("Training") < list(menus).index("Help")
        win.new_document("lenet5")
        win.sweep_action.trigger()
        dialog = win.sweep_dialog
        assert dialog.isVisible() and dialog.isModal() and dialog.document is win.document
        assert dialog.form.targets and all(t.split(".")[0] in win.document.network.blocks
                                           for t in dialog.form.targets)
        dialog.close()
        win.document.undo_stack.setClean()
    finally:
        app_settings.use_storage_root(None)


def test_the_form_says_how_long_the_sweep_will_take_once_the_device_is_measured(parts):
    from convstudio.core.estimate import Calibration

    document, panel, _controller, dialog = parts
    dialog.form.lr_edit.setText("0.01, 0.003")
    assert "in all on this device" not in dialog.form.count_label.text()  # not measured yet: nothing made up
    panel.estimate.calibration = Calibration("k", "CPU", 2e-3, 5e-11, 1e-9, 5e-9, 2e-8, 3e-9)
    panel.estimate.set_inputs(document.network, document.analysis, 60_000, panel.settings())
    dialog.form.batch_edit.setText("32, 64")
    short = dialog.form.count_label.text()
    assert "4 trial(s)" in short and "in all on this device" in short
    dialog.form.epochs_spin.setValue(dialog.form.epochs_spin.value() * 10)
    assert dialog.form.count_label.text() != short  # ten times the epochs, another duration
