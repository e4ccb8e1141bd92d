"""The training panel's health views fed with the controller's signals: warnings newest first with
severity, epoch and advice; a healthy line; cleared by a new run; stale after an edit or another
dataset; one gradient-flow bar per block; the range test's failures said in words."""

from __future__ import annotations

import pytest

from convstudio.core.health import HealthProbe, HealthWarning
from convstudio.core.health.events import DEAD_RELU, DIVERGING, EXPLODING, OVERFITTING
from convstudio.core.health.monitor import EXPLODING_NORM
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.health.badges import PROBLEM, WARNING
from convstudio.ui.training_controller import RunRequest, TrainingController
from convstudio.ui.training_panel import TrainingPanel

NET = ["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten", ("Dense", {"units": 16, "activation": "relu"}),
       ("Dense", {"units": 10, "activation": "softmax"})]


@pytest.fixture
def panel(qtbot, tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    document = EditorDocument(Network.chain(NET))
    widget = TrainingPanel(TrainingController(document, checkpoint_dir=str(tmp_path / "ck")))
    qtbot.addWidget(widget)
    widget.resize(480, 900)
    widget.show()
    yield widget
    app_settings.use_storage_root(None)


def start_run(panel, dataset: str = "mnist") -> None:
    """What the controller does when a run starts, as far as the health views see it."""
    c = panel.controller
    c.network_snapshot = c.document.network.copy()
    c.last_request = RunRequest(dataset, panel.settings())
    c.runningChanged.emit(True)


def blocks(panel) -> list[str]:
    return [b.id for b in panel.controller.document.network if b.kind in ("Conv2D", "Dense")]


def test_warnings_are_listed_newest_first_with_severity_epoch_and_advice(panel):
    start_run(panel)
    c = panel.controller
    c.healthWarning.emit(HealthWarning(DIVERGING, "The loss diverged.", "Lower the learning rate.", 0))
    c.healthWarning.emit(HealthWarning(DEAD_RELU, "Dead ReLUs: 80% of dense_1 never fire.", "Add BatchNorm.", 2,
                                       ("dense_1",)))
    shown = panel.health.warning_list
    assert [w.kind for w in shown.warnings] == [DEAD_RELU, DIVERGING]
    newest, oldest = shown.cards
    assert "Dead ReLUs</b>, epoch 3" in newest.text.text() and "80% of dense_1" in newest.text.text()
    assert newest.text.text().count("Dead ReLUs") == 1  # the heading is not said again in the message
    assert "Add BatchNorm." in newest.text.text() and "Lower the learning rate." in oldest.text.text()
    assert (newest.level, oldest.level) == (WARNING, PROBLEM)
    assert "2 warnings in this run" in shown.state.text() and not shown.state_badge.isVisible()
    assert [card.isVisible() for card in shown.cards] == [True, False]  # the curves below keep their room
    assert shown.more_button.isVisible() and shown.more_button.text() == "Show 1 earlier warning"
    shown.more_button.click()
    assert all(card.isVisible() for card in shown.cards) and shown.more_button.text() == "Hide earlier warnings"
    c.healthWarning.emit(HealthWarning(OVERFITTING, "Overfitting since epoch 4.", "Stop early.", 3))
    assert all(card.isVisible() for card in shown.cards) and len(shown.cards) == 3


def test_a_run_without_warnings_reads_healthy_and_a_new_run_clears_the_last_ones(panel):
    shown = panel.health.warning_list
    assert "appear here" in shown.state.text() and not shown.state_badge.isVisible()
    start_run(panel)
    assert shown.state.text().startswith("Healthy so far") and shown.state_badge.isVisible()
    panel.controller.healthWarning.emit(HealthWarning(OVERFITTING, "Overfitting since epoch 4.", "Stop early.", 3))
    panel.controller.healthProbed.emit(HealthProbe(3, {b: 0.1 for b in blocks(panel)}))
    assert len(shown.cards) == 1 and panel.health.flow.showing_plot
    start_run(panel)
    assert shown.cards == [] and shown.state.text().startswith("Healthy so far")
    assert not panel.health.flow.showing_plot and "after the first epoch" in panel.health.flow.note.text()


def test_views_of_another_network_or_dataset_are_marked_stale_not_shown(panel):
    start_run(panel)
    panel.controller.healthWarning.emit(HealthWarning(DIVERGING, "The loss diverged.", "Lower it.", 0))
    panel.controller.healthProbed.emit(HealthProbe(0, {b: 0.1 for b in blocks(panel)}))
    document, shown, flow = panel.controller.document, panel.health.warning_list, panel.health.flow
    document.set_param(blocks(panel)[0], "filters", 8)
    assert shown.cards == [] and shown.state.text().startswith("Stale: ") and "another model" in shown.state.text()
    assert not flow.showing_plot and flow.note.text().startswith("Stale: ")
    document.undo()  # the network of the run again
    assert [w.kind for w in shown.warnings] == [DIVERGING] and flow.showing_plot
    panel.set_dataset_name("fashion_mnist")
    assert shown.cards == [] and "Fashion-MNIST" in shown.state.text() and not flow.showing_plot
    panel.set_dataset_name("mnist")
    assert len(shown.cards) == 1
    panel.clear_results()  # another project: the run is forgotten, not merely hidden
    panel.set_dataset_name("mnist")
    assert shown.cards == [] and "appear here" in shown.state.text()


def test_views_of_another_image_folder_are_marked_stale(panel, monkeypatch):
    options = {"data_dir": "/photos/a", "test_dir": None, "resize": "stretch"}
    monkeypatch.setattr(panel, "load_options", lambda: dict(options))
    panel.set_dataset_name("image_folder")
    start_run(panel, "image_folder")
    panel.controller.healthWarning.emit(HealthWarning(DIVERGING, "The loss diverged.", "Lower it.", 0))
    shown = panel.health.warning_list
    assert len(shown.cards) == 1
    options["resize"] = "crop"
    panel.folderEdited.emit()
    assert shown.cards == [] and "fitting stretch" in shown.state.text()
    options.update(resize="stretch", data_dir="/photos/b")
    panel.folderEdited.emit()
    assert shown.cards == [] and "/photos/a" in shown.state.text()
    options["data_dir"] = "/photos/a"
    panel.folderEdited.emit()
    assert len(shown.cards) == 1


def test_the_gradient_flow_has_one_bar_per_block_in_network_order_and_marks_the_thresholds(panel):
    start_run(panel)
    conv, hidden, out = blocks(panel)
    norms = {out: 5.0, conv: 2e-7, hidden: 2 * EXPLODING_NORM}  # not in network order
    panel.views.setCurrentWidget(panel.health.flow)
    panel.controller.healthProbed.emit(HealthProbe(4, norms, {conv: 0.0, hidden: 0.75}))
    plot = panel.health.flow.plot
    assert plot.isVisible() and plot.blocks == [conv, hidden, out]
    assert len(plot.gradient_bars) == 3 and len(plot.dead_bars) == 2
    widths = {round(bar.get_y() + bar.get_height() / 2): bar.get_width() for bar in plot.gradient_bars}
    assert widths == {0: pytest.approx(2e-7), 1: pytest.approx(2 * EXPLODING_NORM), 2: pytest.approx(5.0)}
    assert plot.thresholds["exploding"] == EXPLODING_NORM
    assert plot.thresholds["vanishing"] == pytest.approx(1e-3 * 2 * EXPLODING_NORM)
    colours = [bar.get_facecolor() for bar in plot.gradient_bars]
    assert len(set(colours)) == 3  # below the vanishing line, past the exploding line, and fine
    assert plot.grad_ax.get_xscale() == "log"
    assert [t.get_text() for t in plot.grad_ax.get_yticklabels()] == [conv, hidden, out]
    assert "Epoch 5" in plot.figure.get_suptitle()
    panel.controller.healthProbed.emit(HealthProbe(5, {conv: 0.1, hidden: 0.1, out: 0.1}, {}))
    assert len(plot.gradient_bars) == 3 and plot.dead_bars == [] and "Epoch 6" in plot.figure.get_suptitle()
    panel.controller.healthProbed.emit(HealthProbe(6, {conv: 0.0, hidden: float("nan"), out: float("inf")}))
    plot.canvas.draw()
    assert [bar.get_width() > EXPLODING_NORM for bar in plot.gradient_bars] == [False, True, True]
    assert any("no gradient" in t.get_text() for t in plot.grad_ax.texts)


def test_an_exploding_warning_is_shown_as_a_problem(panel):
    start_run(panel)
    panel.controller.healthWarning.emit(HealthWarning(EXPLODING, "Gradients explode.", "Lower the rate.", 1))
    [card] = panel.health.warning_list.cards
    assert card.level == PROBLEM and card.badge.pixmap() is not None and not card.badge.pixmap().isNull()


@pytest.mark.parametrize("case", ["invalid network", "no data"])
def test_a_range_test_that_cannot_run_says_why(qtbot, panel, tmp_path, monkeypatch, case):
    panel.set_tensorflow_ready(True)
    if case == "invalid network":
        panel.controller.document.set_param(blocks(panel)[0], "kernel_h", 28)
        assert not panel.controller.document.analysis.ok  # the pooling after it has nothing to pool
        expected = "cannot be built"
    else:
        empty = tmp_path / "empty"
        empty.mkdir()
        monkeypatch.setattr(panel, "data_dir", lambda: str(empty))
        panel.set_dataset_name("cifar10")
        expected = "CIFAR-10"
    assert panel.health.find_lr_button.isEnabled()
    panel.health.find_lr_button.click()
    dialog = panel.health.dialog
    qtbot.waitUntil(lambda: dialog.worker.is_finished, timeout=20_000)
    assert dialog.status.text().startswith("The learning-rate test could not run.")
    assert expected in dialog.status.text() and "Traceback" not in dialog.status.text()
    assert not dialog.use_button.isEnabled() and dialog.close_button.text() == "Close"
    dialog.reject()


def test_the_range_test_is_refused_while_training(panel, monkeypatch):
    panel.set_tensorflow_ready(True)
    monkeypatch.setattr(TrainingController, "is_running", property(lambda _self: True))
    panel.controller.runningChanged.emit(True)
    assert not panel.health.find_lr_button.isEnabled()
    assert panel.health.find_lr_button.toolTip() == "Not while training"
    assert panel.health.find_learning_rate() is None


def test_the_settings_in_words_key_the_range_test(panel):
    panel.set_settings(TrainSettings(optimizer="adam", batch_size=64))
    assert panel.describe_settings() == "Adam, batch size 64"
    panel.set_settings(TrainSettings(optimizer="sgd", momentum=0.9, batch_size=32))
    assert panel.describe_settings() == "SGD with momentum 0.9, batch size 32"
    panel.set_settings(TrainSettings(optimizer="sgd", momentum=0.0, batch_size=8))
    assert panel.describe_settings() == "SGD, batch size 8"
