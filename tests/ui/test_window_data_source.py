"""The window keeps the data source with the project: an image folder chosen in the training panel is
saved, reopened in a fresh window without asking, and said plainly to be missing when it is gone;
choosing another folder, its fitting or a test folder marks the project modified."""

from __future__ import annotations

import shutil

import pytest
from datafiles import png_folder  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox

from convstudio.core.network import Network
from convstudio.core.project import load_project
from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings

FOLDER_DIALOG = "convstudio.ui.training_panel.QFileDialog.getExistingDirectory"


def _never_asked(*_args, **_kwargs):
    raise AssertionError("a folder dialog was opened")


@pytest.fixture
def windows(qtbot, tmp_path, monkeypatch):
    """Makes main windows as the app does, closing each at the end."""
    app_settings.use_storage_root(tmp_path / "config")
    monkeypatch.setenv("CONVSTUDIO_OFFLINE", "1")
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: QMessageBox.StandardButton.Discard)
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _parent, title, text: errors.append(f"{title}: {text}"))
    made: list[mw.MainWindow] = []

    def make() -> mw.MainWindow:
        win = mw.MainWindow()
        made.append(win)
        return win

    yield make, errors
    for win in made:
        win.document.undo_stack.setClean()
        win.session.saved_as(win.session.path or str(tmp_path / "x.json"), None)
        win.close()
        win.deleteLater()
    app_settings.use_storage_root(None)


def _save_with_image_folder(make, folder, target, monkeypatch) -> mw.MainWindow:
    win = make()
    win.document.load_network(Network.chain(["Input", ("Conv2D", {"filters": 4}), "Flatten",
                                             ("Dense", {"units": 2, "activation": "softmax"})]))
    win.document.undo_stack.setClean()
    panel = win.training_panel
    monkeypatch.setattr(FOLDER_DIALOG, lambda *a, **k: str(folder))
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("image_folder"))
    assert win.session.data_dir == str(folder) and win.isWindowModified()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert win.files.save_as()
    assert not win.isWindowModified()
    return win


def test_a_reopened_project_uses_its_image_folder_without_asking(qtbot, windows, tmp_path, monkeypatch):
    make, errors = windows
    folder = png_folder(tmp_path / "photos", {"cats": 3, "dogs": 2})
    _save_with_image_folder(make, folder, tmp_path / "pets.json", monkeypatch)
    monkeypatch.setattr(FOLDER_DIALOG, _never_asked)
    fresh = make()
    assert fresh.files.open_file(str(tmp_path / "pets.json")), errors
    panel = fresh.training_panel
    assert panel.dataset_name() == "image_folder" and panel.data_dir() == str(folder)
    assert panel.data_dir_button.text() == "Choose image folder..." and panel.resize_combo.isVisibleTo(panel)
    qtbot.waitUntil(lambda: "cats 3" in panel.source_label.text(), timeout=10_000)
    assert "dogs 2" in panel.source_label.text() and not fresh.isWindowModified()
    assert panel.load_options() == {"data_dir": str(folder), "test_dir": None, "resize": "stretch"}


def test_a_missing_image_folder_is_said_plainly_and_another_can_be_chosen(qtbot, windows, tmp_path, monkeypatch):
    make, errors = windows
    folder = png_folder(tmp_path / "photos", {"cats": 2, "dogs": 2})
    _save_with_image_folder(make, folder, tmp_path / "pets.json", monkeypatch)
    shutil.rmtree(folder)
    monkeypatch.setattr(FOLDER_DIALOG, _never_asked)
    fresh = make()
    assert fresh.files.open_file(str(tmp_path / "pets.json")), errors
    panel = fresh.training_panel
    qtbot.waitUntil(lambda: "is not there" in panel.source_label.text(), timeout=10_000)
    text = panel.source_label.text()
    assert str(folder) in text and "Choose image folder..." in text
    assert len(fresh.document.network) == 4 and not fresh.isWindowModified()  # nothing else is lost

    other = png_folder(tmp_path / "more", {"a": 2, "b": 2})
    monkeypatch.setattr(FOLDER_DIALOG, lambda *a, **k: str(other))
    panel.data_dir_button.click()
    assert fresh.session.data_dir == str(other) and fresh.isWindowModified()
    qtbot.waitUntil(lambda: "a 2" in panel.source_label.text(), timeout=10_000)
    assert fresh.files.save()
    assert load_project(tmp_path / "pets.json").data_dir == str(other)


def test_fitting_and_test_folder_are_saved_with_the_project(qtbot, windows, tmp_path, monkeypatch):
    make, _errors = windows
    folder = png_folder(tmp_path / "photos", {"cats": 2, "dogs": 2})
    test = png_folder(tmp_path / "test", {"cats": 1, "dogs": 1})
    win = _save_with_image_folder(make, folder, tmp_path / "pets.json", monkeypatch)
    panel = win.training_panel
    panel.resize_combo.setCurrentIndex(panel.resize_combo.findData("crop"))
    assert win.session.resize == "crop" and win.isWindowModified()
    monkeypatch.setattr(FOLDER_DIALOG, lambda *a, **k: str(test))
    panel.test_folder_button.click()
    assert win.session.test_dir == str(test) and panel.test_folder_button.text() == "Test folder: test"
    assert win.files.save() and not win.isWindowModified()
    saved = load_project(tmp_path / "pets.json")
    assert (saved.dataset_name, saved.data_dir, saved.test_dir, saved.resize) == \
        ("image_folder", str(folder), str(test), "crop")


def test_a_test_folder_can_be_given_up_for_a_held_out_share(qtbot, windows, tmp_path, monkeypatch):
    make, _errors = windows
    folder = png_folder(tmp_path / "photos", {"cats": 2, "dogs": 2})
    test = png_folder(tmp_path / "test", {"cats": 1, "dogs": 1})
    win = _save_with_image_folder(make, folder, tmp_path / "pets.json", monkeypatch)
    panel = win.training_panel
    monkeypatch.setattr(FOLDER_DIALOG, lambda *a, **k: str(test))
    panel.test_folder_button.click()
    assert win.session.test_dir == str(test)

    def hold_out(box: QMessageBox) -> int:
        next(b for b in box.buttons() if b.text().startswith("Hold out")).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", hold_out)
    monkeypatch.setattr(FOLDER_DIALOG, _never_asked)
    panel.test_folder_button.click()
    assert win.session.test_dir is None and panel.test_folder_button.text() == "Test folder..."
    assert not win.isWindowModified()  # back to the saved choice


def test_a_chosen_image_folder_is_checked_against_the_network_before_any_run(qtbot, windows, tmp_path,
                                                                              monkeypatch):
    """Its classes and image shape reach the editor once scanned: the Input takes the folder's shape (one
    undo step) and an output of the wrong size is an error with its fix, so Start waits for it."""
    make, _errors = windows
    folder = png_folder(tmp_path / "photos", {"cats": 2, "dogs": 2, "fish": 2}, size=(16, 20))
    win = make()
    win.document.load_network(Network.chain(["Input", ("Conv2D", {"filters": 4}), "Flatten",
                                             ("Dense", {"units": 10, "activation": "softmax"})]))
    panel = win.training_panel
    panel.set_tensorflow_ready(True)  # only the network keeps Start back
    monkeypatch.setattr(FOLDER_DIALOG, lambda *a, **k: str(folder))
    panel.dataset_combo.setCurrentIndex(panel.dataset_combo.findData("image_folder"))
    qtbot.waitUntil(lambda: win.document.num_classes == 3, timeout=10_000)
    assert win.document.input_shape == (16, 20, 3)  # the folder's size, in colour
    dense = [b for b in win.document.network.blocks if b.startswith("dense")][0]
    issues = win.document.analysis.issues_for(dense)
    assert issues and "3 classes" in issues[0].message and issues[0].fix is not None
    assert not panel.start_button.isEnabled() and "3 classes" in panel.start_button.toolTip()
    win.document.apply_fix(dense, issues[0].fix)
    assert win.document.analysis.ok and panel.start_button.isEnabled()

    win.document.set_param(win.document.network.input_blocks()[0], "height", 24)  # the user's own size ...
    with qtbot.waitSignal(panel.folderGeometry, timeout=10_000):  # the same folder, chosen again
        panel.data_dir_button.click()
    assert win.document.input_shape == (24, 20, 3)  # ... is kept: the same folder scanned again is only checked
    assert "16x20x3" in " ".join(i.message for i in win.document.analysis.issues)  # and said to differ
