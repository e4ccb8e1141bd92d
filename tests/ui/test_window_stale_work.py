"""Work is not thrown away and results never outlive what they were computed from, at window level:
an import clears the last run's result, a saved trained project reopens with its curves and can be
trained more, and a recovered project keeps its own file and name."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from convstudio.core.network import Network
from convstudio.core.project import Project, load_project, save_project
from convstudio.core.training_events import BatchEnd, TrainFinished, TrainStarted
from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings

keras = pytest.importorskip("keras")


def small_network() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 2}), "Flatten",
                          ("Dense", {"units": 10, "activation": "softmax"})])


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask", lambda _p, _t, text, *_a, **_k: asked.append(text)
                        or QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(dialogs, "show_error", lambda *_a, **_k: None)
    win = mw.MainWindow()
    win.asked = asked
    win.set_tensorflow_ready("CPU")
    yield win
    win.document.undo_stack.setClean()
    win.session.model_unsaved = False
    win.close()
    win.deleteLater()
    app_settings.use_storage_root(None)


def _finish_a_run(window) -> None:
    c = window.controller
    c.runStarted.emit(TrainStarted("CPU", 1, 0, 4, 100, 0))
    c.batchEnded.emit(BatchEnd(0, 2, 4, 0.5, 0.8, 1.0))
    window.training_panel._on_finished(TrainFinished("completed", "Finished 1 epochs.", 1, {}, 0.1, 0.9902))
    assert "99.02%" in window.training_panel.result_label.text() and window.training_panel.plots.train_x


def test_import_keras_model_clears_the_last_runs_curves_and_result(window, monkeypatch):
    from convstudio.core.builder import build_model

    _finish_a_run(window)
    net = small_network()
    window.files._use_imported_model((net, build_model(net)))  # what the import's worker delivers
    panel = window.training_panel
    assert panel.result_label.text() == "" and not panel.plots.train_x


def test_a_saved_trained_project_reopens_with_its_history_and_can_train_more(window, qtbot, tmp_path):
    from convstudio.core.builder import build_model

    net = small_network()
    project = Project(net, history=[{"loss": 0.9, "accuracy": 0.6}, {"loss": 0.5, "accuracy": 0.8}])
    save_project(project, tmp_path / "trained.json", model=build_model(net))
    _finish_a_run(window)
    with qtbot.waitSignal(window.weightsLoaded, timeout=60_000):
        assert window.files.open_file(str(tmp_path / "trained.json"))
    panel = window.training_panel
    assert panel.plots.train_x == [1.0, 2.0] and panel.plots.train_loss == [0.9, 0.5]
    assert "99.02" not in panel.result_label.text() and "2 epochs" in panel.result_label.text()
    assert panel.more_button.isEnabled() and window.controller.epochs_done == 2
    # saved again, the history stays with the weights
    window.session.record_epoch({"loss": 0.4, "accuracy": 0.85})
    assert window.files.save()
    assert len(load_project(tmp_path / "trained.json").history) == 3


def test_a_recovered_project_keeps_its_file_and_its_name(window, tmp_path, monkeypatch):
    path = tmp_path / "lenet.json"
    save_project(Project(small_network(), title="LeNet-5"), path)
    assert window.files.open_file(str(path))
    copy = tmp_path / "autosave.json"
    window.session.write_autosave(str(copy))

    class Candidate:
        def recovery_candidate(self):
            return copy

        def discard(self):
            raise AssertionError("not discarded")

    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    assert window.files.offer_recovery(Candidate())
    assert window.session.path == str(path)
    assert window.windowTitle().startswith("lenet.json")
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask", lambda _p, _t, text, *_a, **_k: asked.append(text)
                        or QMessageBox.StandardButton.Cancel)
    assert not window.files.maybe_save()
    assert "(lenet.json)" in asked[0]
    window.files.save()  # goes to the project's own file, not to a new one
    assert load_project(path).network.to_dict() == window.session.network.to_dict()


def test_the_insight_views_know_what_the_sessions_model_was_trained_on(window):
    from convstudio.core.builder import build_model
    from convstudio.core.session import TrainedOn

    net = small_network()
    window.document.load_network(net)
    window.build_insight()
    insight = window.insight
    window.session.set_model(build_model(net), TrainedOn.describe("mnist", window.session.network))
    assert insight.wait_idle() and insight._trained_on == "mnist"
    assert insight.guard.key().trained_on == "mnist"
