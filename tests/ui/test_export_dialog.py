"""The Export dialog exports in a worker thread and shows the verification figure or the error."""

from __future__ import annotations

import numpy as np
import pytest
from windows import discard_window  # noqa: E402

from convstudio.core.builder import build_model
from convstudio.core.datasets import Dataset
from convstudio.core.export import FORMATS
from convstudio.core.network import Network


@pytest.fixture(scope="module")
def exportable():
    import keras

    keras.utils.set_random_seed(0)
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 40)
    data = Dataset("mnist", images, labels, images[:20], labels[:20], [str(i) for i in range(10)])
    return build_model(net), net, data


def _dialog(qtbot, exportable, model="same"):
    from convstudio.ui.export_dialog import ExportDialog

    m, net, data = exportable
    dialog = ExportDialog(m if model == "same" else model, net, data, None)
    qtbot.addWidget(dialog)
    return dialog


def test_lists_every_format_with_its_explanation(qtbot, exportable):
    dialog = _dialog(qtbot, exportable)
    assert [dialog.formats.item(i).text() for i in range(dialog.formats.count())] == \
        [f.label for f in FORMATS.values()]
    dialog.select_format("tflite_int8")
    assert dialog.description.text().startswith(FORMATS["tflite_int8"].description)
    assert dialog.path_edit.text().endswith(".tflite")
    dialog.select_format("savedmodel")
    assert not dialog.path_edit.text().endswith(".tflite")  # a folder: the suffix goes


def test_exports_in_a_worker_and_shows_the_verification(qtbot, exportable, tmp_path):
    dialog = _dialog(qtbot, exportable)
    dialog.select_format("tflite")
    dialog.path_edit.setText(str(tmp_path / "digits"))
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
        assert dialog.running and not dialog.export_button.isEnabled() and not dialog.formats.isEnabled()
    report = blocker.args[0]
    assert (tmp_path / "digits.tflite").is_file() and report.path == str(tmp_path / "digits.tflite")
    assert f"max |difference| {report.max_abs_diff:.2g} on 20 test images" in dialog.status.text()
    assert not dialog.running and dialog.export_button.isEnabled()


def test_int8_shows_the_accuracy_change(qtbot, exportable, tmp_path):
    dialog = _dialog(qtbot, exportable)
    dialog.select_format("tflite_int8")
    dialog.path_edit.setText(str(tmp_path / "q.tflite"))
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
    r = blocker.args[0]
    assert f"accuracy {r.accuracy_model:.1%} -> {r.accuracy_export:.1%} on 20 test images" in dialog.status.text()


def test_shows_the_reason_when_the_export_fails(qtbot, exportable, tmp_path):
    dialog = _dialog(qtbot, exportable)
    dialog.path_edit.setText(str(tmp_path / "missing" / "m.keras"))
    with qtbot.waitSignal(dialog.failed, timeout=30_000) as blocker:
        dialog.export_button.click()
    assert "does not exist" in blocker.args[0]
    assert dialog.status.text().startswith("Export failed: cannot export to")
    assert not (tmp_path / "missing").exists() and dialog.export_button.isEnabled()


def test_another_format_clears_the_previous_formats_result(qtbot, exportable, tmp_path):
    dialog = _dialog(qtbot, exportable)
    dialog.select_format("keras")
    dialog.path_edit.setText(str(tmp_path / "missing" / "m.keras"))
    with qtbot.waitSignal(dialog.failed, timeout=30_000):
        dialog.export_button.click()
    assert dialog.status.text().startswith("Export failed") and dialog.error
    dialog.select_format("tflite")
    assert dialog.status.text() == "" and dialog.error is None and dialog.report is None


def test_without_a_model_nothing_can_be_exported(qtbot, exportable):
    dialog = _dialog(qtbot, exportable, model=None)
    assert not dialog.export_button.isEnabled()
    assert "train the network first" in dialog.status.text()


def test_closing_during_an_export_waits_for_it_to_finish(qtbot, exportable, tmp_path):
    dialog = _dialog(qtbot, exportable)
    dialog.show()
    dialog.select_format("savedmodel")
    dialog.path_edit.setText(str(tmp_path / "served"))
    with qtbot.waitSignal(dialog.finished, timeout=60_000):
        dialog.export_button.click()
        dialog.reject()
        assert dialog.isVisible() and "still running" in dialog.status.text()
    assert not dialog.isVisible() and dialog.report is not None
    assert (tmp_path / "served" / "saved_model.pb").is_file()


def test_a_dataset_loader_runs_in_the_worker(qtbot, exportable, tmp_path):
    import threading

    from convstudio.ui.export_dialog import ExportDialog

    model, net, data = exportable
    threads = []

    def load():
        threads.append(threading.current_thread())
        return data

    dialog = ExportDialog(model, net, load, None)
    qtbot.addWidget(dialog)
    dialog.path_edit.setText(str(tmp_path / "m.keras"))
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as blocker:
        dialog.export_button.click()
    assert threads and threads[0] is not threading.main_thread()
    assert blocker.args[0].compared_images == len(data.x_test)


def test_main_window_file_menu_imports_and_exports(qtbot, exportable, tmp_path, monkeypatch):
    from convstudio.ui import dialogs
    from convstudio.ui import main_window as mw
    from convstudio.ui import settings as app_settings
    from convstudio.ui.export_dialog import ExportDialog

    app_settings.use_storage_root(tmp_path / "config")
    monkeypatch.setattr(dialogs, "ask", lambda *args, **kwargs: pytest.fail(f"unexpected question {args[1:]}"))
    model, net, _ = exportable
    model.save(tmp_path / "m.keras")
    win = mw.MainWindow()
    try:
        file_menu = win.menuBar().actions()[0].menu()
        assert win.import_action in file_menu.actions() and win.export_action in file_menu.actions()
        with qtbot.waitSignal(win.weightsLoaded, timeout=60_000):  # the file loads in a worker
            assert win.import_model(str(tmp_path / "m.keras"))
        assert {b.id for b in win.document.network} == {b.id for b in net}
        assert win.session.model is not None and win.model_unsaved

        shown = []
        monkeypatch.setattr(ExportDialog, "exec", lambda dialog: shown.append(dialog) or 0)
        win.export_action.trigger()
        assert shown and shown[0].model is win.session.model and shown[0].export_button.isEnabled()
    finally:
        discard_window(win)
        app_settings.use_storage_root(None)


def test_default_paths_follow_the_project_and_never_collide(qtbot, exportable, tmp_path):
    from convstudio.ui.export_dialog import ExportDialog

    model, net, data = exportable
    dialog = ExportDialog(model, net, data, None, project_path=str(tmp_path / "digits.json"))
    qtbot.addWidget(dialog)
    paths = []
    for name in FORMATS:
        dialog.select_format(name)
        paths.append(dialog.path_edit.text())
    assert len(set(paths)) == len(FORMATS)
    assert paths[0] == str(tmp_path / "digits.keras") and str(tmp_path / "digits_int8.tflite") in paths
    dialog.path_edit.setText(str(tmp_path / "mine.keras"))  # a name the user chose is kept
    dialog.select_format("onnx")
    assert dialog.path_edit.text() == str(tmp_path / "mine.onnx")


def test_replacing_an_existing_file_asks_first(qtbot, exportable, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    dialog = _dialog(qtbot, exportable)
    target = tmp_path / "m.keras"
    target.write_bytes(b"older model")
    dialog.path_edit.setText(str(target))
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *args, **kwargs: asked.append(args[2]) or QMessageBox.StandardButton.No)
    dialog.export_button.click()
    assert asked and str(target) in asked[0] and not dialog.running
    assert target.read_bytes() == b"older model" and "kept as it is" in dialog.status.text()

    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        dialog.export_button.click()
    assert target.read_bytes() != b"older model"


def test_a_folder_convstudio_did_not_write_is_refused_without_asking(qtbot, exportable, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    dialog = _dialog(qtbot, exportable)
    dialog.select_format("savedmodel")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"jpeg")
    dialog.path_edit.setText(str(folder))
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: pytest.fail("asked to replace"))
    with qtbot.waitSignal(dialog.failed, timeout=30_000) as blocker:
        dialog.export_button.click()
    assert "not an earlier export by ConvStudio" in blocker.args[0]
    assert [p.name for p in folder.iterdir()] == ["holiday.jpg"]
