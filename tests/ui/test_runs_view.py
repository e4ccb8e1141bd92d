"""The Runs window: lists the project's runs (sorting numbers as numbers), overlays the chosen runs' curves,
compares two, reopens a run's network, deletes after asking, lists damaged folders, and never shows the
runs of another project."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from runfiles import record_run, small_net
from windows import discard_window  # noqa: E402

from convstudio.core.network import Network
from convstudio.core.project import Project
from convstudio.core.runs.layout import RUN_FILE
from convstudio.core.settings import TrainSettings
from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.runs.table import COLUMNS, SORT_ROLE

B = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, text: errors.append(f"{title}: {text}"))
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: QMessageBox.StandardButton.Discard)  # closing at the end
    win = mw.MainWindow()
    win.errors = errors
    win.files.load(Project(Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]),
                           TrainSettings(), "mnist", title="digits"), str(tmp_path / "digits.json"))
    yield win
    discard_window(win)
    app_settings.use_storage_root(None)


def _open_runs(qtbot, win):
    win.runs_action.trigger()
    view = win.runs_window
    qtbot.waitUntil(lambda: view.loading == 0, timeout=5000)
    return view


def _column(key: str) -> int:
    return [c.key for c in COLUMNS].index(key)


def _choose(qtbot, view, *folders) -> None:
    view.select_folders([str(f) for f in folders])
    qtbot.waitUntil(lambda: all(str(f) in view.records for f in folders), timeout=5000)
    view._select_timer.timeout.emit()  # show now rather than after the selection settles


def test_sorting_by_test_accuracy_is_numeric(qtbot, window, tmp_path):
    root = tmp_path / "digits.runs"
    for accuracy in (0.9, 0.085, 0.45, None):
        record_run(root, test_accuracy=accuracy)
    view = _open_runs(qtbot, window)
    assert view.model.rowCount() == 4
    view.table.sortByColumn(_column("test"), Qt.SortOrder.DescendingOrder)
    shown = [view.proxy.index(r, _column("test")).data() for r in range(4)]
    assert shown == ["90.00%", "45.00%", "8.50%", "\u2013"]  # as text "8.50%" would sort above "45.00%"
    view.table.sortByColumn(_column("test"), Qt.SortOrder.AscendingOrder)
    assert [view.proxy.index(r, _column("test")).data(SORT_ROLE) for r in range(1, 4)] == [0.085, 0.45, 0.9]


def test_the_overlay_draws_one_line_per_chosen_run_named_in_the_legend(qtbot, window, tmp_path):
    root = tmp_path / "digits.runs"
    folders = [record_run(root, losses=(2.0, 1.0 + i / 10, 0.8)) for i in range(3)]
    view = _open_runs(qtbot, window)
    _choose(qtbot, view, folders[0], folders[2])
    lines = view.curves.run_lines()
    assert [line.get_label() for line in lines] == view.curves.labels and len(lines) == 2
    assert {f"digits {f.name[-6:]}" for f in (folders[0], folders[2])} == set(view.curves.labels)
    assert list(lines[0].get_xdata()) == [1.0, 2.0, 3.0]
    legend = view.curves.loss_ax.get_legend()
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted(view.curves.labels)
    view.refresh()  # a new run ends: the list is read again and the choice kept
    qtbot.waitUntil(lambda: view.loading == 0, timeout=5000)
    assert {r.folder for r in view.selected_rows()} == {folders[0], folders[2]}


def test_two_chosen_runs_are_compared_block_by_block(qtbot, window, tmp_path):
    root = tmp_path / "digits.runs"
    a = record_run(root, small_net(4), test_accuracy=0.5)
    b = record_run(root, small_net(8), settings=TrainSettings(epochs=2, learning_rate=0.003), test_accuracy=0.7)
    view = _open_runs(qtbot, window)
    _choose(qtbot, view, a, b)
    compare = view.comparison
    assert compare.comparison is not None
    block = compare.find_row("~ conv2d_1 (Conv2D)")
    assert block is not None
    filters = [block.child(i) for i in range(block.childCount()) if block.child(i).text(0) == "filters"]
    assert {(filters[0].text(1), filters[0].text(2))} <= {("4", "8"), ("8", "4")}
    assert compare.find_row("learning_rate") is not None
    accuracy = compare.find_row("test accuracy")
    assert {accuracy.text(1), accuracy.text(2)} == {"50.00%", "70.00%"}


def test_reopen_puts_the_runs_network_in_the_editor_as_one_undoable_step(qtbot, window, tmp_path):
    folder = record_run(tmp_path / "digits.runs", small_net(6), settings=TrainSettings(epochs=2, batch_size=48),
                        dataset="fashion_mnist")
    before = window.document.network.to_dict()
    view = _open_runs(qtbot, window)
    _choose(qtbot, view, folder)
    assert view.reopen()
    assert window.document.network.to_dict() == small_net(6).to_dict()
    assert window.training_panel.batch_spin.value() == 48 and window.session.dataset_name == "fashion_mnist"
    window.document.undo()
    assert window.document.network.to_dict() == before and window.errors == []


def test_reopen_takes_the_image_folder_the_run_trained_on(qtbot, window, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    folder = record_run(tmp_path / "digits.runs", small_net(), dataset="image_folder",
                        data_source=(str(photos), None, "crop"))
    view = _open_runs(qtbot, window)
    _choose(qtbot, view, folder)
    assert view.reopen()
    assert window.session.data_source == ("image_folder", str(photos), None, "crop")


def test_delete_asks_first_and_removes_the_folder(qtbot, window, tmp_path, monkeypatch):
    root = tmp_path / "digits.runs"
    keep, gone = record_run(root), record_run(root)
    view = _open_runs(qtbot, window)
    answers = [B.Cancel, B.Yes]
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask", lambda _p, _t, text, *_a, **_k: asked.append(text) or answers.pop(0))
    view.select_folders([str(gone)])
    assert view.delete_selected() == [] and gone.is_dir()  # cancelled
    assert view.delete_selected() == [gone] and not gone.exists() and keep.is_dir()
    assert len(asked) == 2 and gone.name[-6:] in asked[1]
    qtbot.waitUntil(lambda: view.loading == 0, timeout=5000)
    assert [str(r.folder) for r in view.model.rows] == [str(keep)]


def test_damaged_folders_are_listed_with_why(qtbot, window, tmp_path):
    root = tmp_path / "digits.runs"
    good = record_run(root)
    broken = record_run(root)
    (broken / RUN_FILE).write_text('{"format": "convstudio-run", "status": ')
    view = _open_runs(qtbot, window)
    outcome = {view.model.rows[r].folder: view.model.index(r, _column("outcome")).data() for r in range(2)}
    assert outcome == {good: "finished", broken: "damaged"}
    row = view.model.row_of(str(broken))
    assert "cannot be read" in view.model.index(row, _column("note")).data()
    view.select_folders([str(broken)])
    view._select_timer.timeout.emit()
    assert "damaged" in view.details.toPlainText() and not view.reopen_button.isEnabled()


def test_another_project_never_shows_the_runs_of_the_previous_one(qtbot, window, tmp_path):
    record_run(tmp_path / "digits.runs")
    view = _open_runs(qtbot, window)
    assert view.model.rowCount() == 1
    record_run(tmp_path / "letters.runs", title="letters")
    view.refresh()  # a read of the old folder is under way when the project changes
    window.files.load(Project(small_net(), TrainSettings(), "mnist", title="letters"), str(tmp_path / "letters.json"))
    assert view.model.rowCount() == 0  # cleared at once
    qtbot.waitUntil(lambda: view.loading == 0, timeout=5000)
    assert [r.title for r in view.model.rows] == ["letters"]


def test_a_finished_run_refreshes_the_list(qtbot, window, tmp_path):
    from convstudio.core.training_events import TrainFinished

    view = _open_runs(qtbot, window)
    assert view.model.rowCount() == 0
    record_run(tmp_path / "digits.runs")
    window.controller.runFinished.emit(TrainFinished("completed", "", 2, {}))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    record = json.loads((view.model.rows[0].folder / RUN_FILE).read_text())
    assert record["best_val_accuracy"] == pytest.approx(0.6)


@pytest.mark.slow
def test_continue_training_starts_from_the_runs_weights(qtbot, window, tmp_path, monkeypatch):
    import keras
    import numpy as np

    from convstudio.core.resources import resource_path
    from convstudio.core.runs import list_runs, load_run
    from convstudio.ui.training_controller import RunRequest

    with np.load(resource_path("datasets") / "mnist_sample.npz") as data:
        arrays = {k: data[k][:256] for k in ("x_train", "y_train", "x_test", "y_test")}
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "mnist.npz", **arrays)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", str(tmp_path / "data"))
    controller, panel = window.controller, window.training_panel
    window.files.tensorflow_ready = True
    trained = small_net(2)
    window.document.replace_network(trained, "a network to train")
    settings = TrainSettings(epochs=1, batch_size=64, validation_split=0.25)
    assert controller.start(RunRequest("mnist", settings, str(tmp_path / "data"))) is None
    qtbot.waitUntil(lambda: not controller.is_running, timeout=60_000)
    # The project opened again later: nothing of the run is in memory any more.
    window.files.load(Project(small_net(3), TrainSettings(), "mnist", title="digits"), str(tmp_path / "digits.json"))
    assert controller.model is None and controller.checkpoint is None
    view = _open_runs(qtbot, window)
    [first] = view.model.rows
    _choose(qtbot, view, first.folder)
    start_weights: list = []
    start = controller.start

    def watched(request):
        start_weights.append([w.copy() for w in controller.model.get_weights()])
        return start(request)

    monkeypatch.setattr(controller, "start", watched)
    panel.more_spin.setValue(1)
    assert view.continue_training("final")
    qtbot.waitUntil(lambda: bool(start_weights), timeout=30_000)
    assert controller.last_request.resume_from and window.document.network.to_dict() == trained.to_dict()
    qtbot.waitUntil(lambda: not controller.is_running, timeout=60_000)
    final = keras.saving.load_model(load_run(first.folder).model_path("final"))
    assert all(np.array_equal(a, b) for a, b in zip(start_weights[0], final.get_weights(), strict=True))
    newest = load_run(list_runs(tmp_path / "digits.runs")[0].folder)
    assert newest.record["resumed_from"] and [e["epoch"] for e in newest.metrics["epochs"]] == [1]
    assert controller.last_finished.status == "completed" and window.errors == []


def test_continuing_asks_before_replacing_an_imported_model_saved_nowhere(window, monkeypatch):
    from convstudio.core.session import TrainedOn
    from convstudio.ui.runs import run_actions

    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask", lambda _p, _t, text, *_a, **_k: asked.append(text) or B.Cancel)
    session = window.session
    session.set_model(object(), TrainedOn.describe("mnist", session.network), unsaved=True)
    assert run_actions._may_replace_model(window, "7") and not asked  # a model trained here is in its run folder
    session.set_model(object(), TrainedOn.describe(None, session.network, source="imported"), unsaved=True)
    assert not run_actions._may_replace_model(window, "7") and "imported model" in asked[0]
    session.mark_model_unsaved(False)  # saved with the project: nothing to lose
    assert run_actions._may_replace_model(window, "7") and len(asked) == 1
