"""The main window: docks, New from a preset, save/open round trip, unsaved-changes prompt,
clipboard, window state and autosave recovery. Dialogs and message boxes are patched out."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox
from windows import discard_window  # noqa: E402

from convstudio.core.network import Network
from convstudio.core.presets import load_preset
from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.canvas.view import CanvasView

B = QMessageBox.StandardButton


class Prompts:
    """Stands in for the window's modal questions and error boxes, answering from a script."""

    def __init__(self) -> None:
        self.answers: list[QMessageBox.StandardButton] = []
        self.asked: list[str] = []
        self.errors: list[str] = []

    def ask(self, _parent, title, text, *_args, **_kwargs):
        self.asked.append(f"{title}: {text}")
        if not self.answers:
            raise AssertionError(f"unexpected question: {title}: {text}")
        return self.answers.pop(0)

    def error(self, _parent, title, text):
        self.errors.append(f"{title}: {text}")


@pytest.fixture
def prompts(monkeypatch):
    p = Prompts()
    monkeypatch.setattr(dialogs, "ask", p.ask)
    monkeypatch.setattr(dialogs, "show_error", p.error)
    return p


@pytest.fixture
def storage(tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    yield tmp_path / "config"
    app_settings.use_storage_root(None)


@pytest.fixture
def window(qtbot, storage, prompts):
    win = mw.MainWindow()  # closed here, not by qtbot: its close would meet the unsaved prompt
    win.show()
    qtbot.waitExposed(win)
    yield win
    discard_window(win)


def test_window_opens_with_canvas_docks_and_menus(window):
    assert isinstance(window.centralWidget(), CanvasView)
    docks = window.docks
    assert set(docks) == {"palette", "inspector", "summary", "training", "insight"}
    for dock in docks.values():
        assert isinstance(dock, QDockWidget) and dock.toggleViewAction().isChecked()
        assert dock.features() & QDockWidget.DockWidgetFeature.DockWidgetMovable
    for name in ("palette", "inspector", "training", "insight"):
        assert docks[name].isVisible()
    assert window.tabifiedDockWidgets(docks["inspector"]) == [docks["summary"]]
    tabs = window.right_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Training"]
    assert docks["insight"].windowTitle() == "Inside the network"
    window.build_insight()
    assert docks["insight"].widget().widget() is window.insight
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus[:3] == ["File", "Edit", "View"]
    assert window.windowTitle().startswith("Untitled")
    assert window.device_label.text() == "Loading TensorFlow..."
    assert not window.training_panel.start_button.isEnabled()  # until TensorFlow is ready


def test_view_menu_hides_docks_and_reset_layout_brings_them_back(window, qtbot):
    palette = window.docks["palette"]
    palette.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: not palette.isVisible(), timeout=1000)
    assert not palette.toggleViewAction().isChecked()
    window.reset_layout_action.trigger()
    qtbot.waitUntil(lambda: palette.isVisible(), timeout=1000)


def test_selecting_a_block_brings_the_inspector_tab_forward(window, qtbot):
    window.new_document("lenet5")
    inspector = window.docks["inspector"]
    window.docks["summary"].raise_()
    qtbot.waitUntil(lambda: inspector.visibleRegion().isEmpty(), timeout=1000)  # behind its tab
    window.document.select(["conv1"])
    qtbot.waitUntil(lambda: not inspector.visibleRegion().isEmpty(), timeout=1000)


def test_dock_state_is_restored_by_the_next_window(qtbot, storage, prompts):
    first = mw.MainWindow()
    qtbot.addWidget(first)
    first.show()
    first.docks["inspector"].hide()
    first.close()
    second = mw.MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert not second.docks["inspector"].isVisible()
    assert second.docks["training"].isVisible()
    second.close()


def test_new_from_a_preset_loads_it(window, monkeypatch):
    monkeypatch.setattr(mw.NewDialog, "choose", classmethod(lambda cls, parent=None: "lenet5"))
    window.new_action.trigger()
    preset = load_preset("lenet5")
    opened, saved = window.document.network.to_dict(), preset.network.to_dict()
    for data in (opened, saved):
        for block in data["blocks"]:
            block.pop("pos")  # laid out afresh to fit the canvas
    assert opened == saved
    assert window.training_panel.settings() == preset.settings
    assert preset.title in window.windowTitle()
    assert not window.isWindowModified() and window.document.undo_stack.count() == 0


def test_new_dialog_lists_the_presets_with_descriptions(qtbot):
    dialog = mw.NewDialog()
    qtbot.addWidget(dialog)
    titles = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert titles[0] == "Empty network" and "LeNet-5" in titles
    dialog.list.setCurrentRow(titles.index("LeNet-5"))
    assert dialog.chosen() == "lenet5"
    assert dialog.description.text() == load_preset("lenet5").description


def test_save_and_reopen_round_trip(window, tmp_path, monkeypatch, prompts):
    window.new_document("lenet5")
    conv = next(b.id for b in window.document.network if b.kind == "Conv2D")
    assert window.document.set_param(conv, "filters", 12) is None
    window.training_panel.epochs_spin.setValue(3)
    window.training_panel.set_dataset_name("fashion_mnist")
    assert window.isWindowModified()
    saved_network = window.document.network.to_dict()
    saved_settings = window.training_panel.settings()

    target = tmp_path / "mine.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.save_action.trigger()
    assert target.is_file() and json.loads(target.read_text())["network"] == saved_network
    assert not window.isWindowModified() and "mine.json" in window.windowTitle()

    window.new_document("")
    assert len(window.document.network) == 0
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    window.open_action.trigger()
    assert window.document.network.to_dict() == saved_network
    assert window.training_panel.settings() == saved_settings
    assert window.training_panel.dataset_name() == "fashion_mnist"
    assert window.current_path == str(target)
    assert app_settings.recent_files()[0] == str(target)
    assert not prompts.errors


def test_opening_a_damaged_file_says_why(window, tmp_path, prompts):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    before = window.document.network.to_dict()
    assert window.open_file(str(bad)) is False
    assert prompts.errors and "bad.json" in prompts.errors[0]
    assert window.document.network.to_dict() == before


def test_unsaved_changes_prompt_guards_new(window, tmp_path, monkeypatch, prompts):
    window.document.add_block("Input", (0.0, 0.0))
    assert window.isWindowModified()

    prompts.answers = [B.Cancel]
    assert window.new_document("") is False
    assert len(window.document.network) == 1 and "unsaved" in prompts.asked[-1].lower()

    prompts.answers = [B.Save]
    target = tmp_path / "kept.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.new_document("") is True
    assert target.is_file() and len(window.document.network) == 0

    window.document.add_block("Input", (0.0, 0.0))
    prompts.answers = [B.Discard]
    assert window.new_document("lenet5") is True
    assert not window.isWindowModified()


def test_closing_with_unsaved_changes_can_be_cancelled(window, prompts):
    window.document.add_block("Input", (0.0, 0.0))
    prompts.answers = [B.Cancel]
    assert window.close() is False
    assert window.isVisible()


def test_copy_paste_delete_and_select_all(window):
    window.document.load_network(Network.chain(["Input", ("Conv2D", {"filters": 4})]))
    conv = next(b.id for b in window.document.network if b.kind == "Conv2D")
    window.document.select([conv])
    window.copy_action.trigger()
    window.paste_action.trigger()
    assert sum(b.kind == "Conv2D" for b in window.document.network) == 2
    window.select_all_action.trigger()
    assert set(window.document.selected_ids()) == set(window.document.network.blocks)
    window.delete_action.trigger()
    assert len(window.document.network) == 0
    window.undo_action.trigger()
    assert len(window.document.network) == 3


def test_autosave_is_offered_for_recovery_after_an_unclean_exit(qtbot, storage, prompts):
    first = mw.MainWindow()
    qtbot.addWidget(first)
    first.new_document("lenet5")
    first.document.add_block("Dropout", (300.0, 300.0))
    expected = first.document.network.to_dict()
    assert first.autosaver.save_now() is not None
    first.autosaver.stop()  # the app "crashes": no clean exit is recorded

    second = mw.MainWindow()
    qtbot.addWidget(second)
    prompts.answers = [B.Yes]
    assert second.offer_recovery() is True
    assert second.document.network.to_dict() == expected
    assert second.isWindowModified() and second.current_path is None

    second.autosaver.mark_clean_exit()
    third = mw.MainWindow()
    qtbot.addWidget(third)
    assert third.offer_recovery() is False  # nothing newer than the clean exit
    for win in (first, second, third):
        win.document.undo_stack.setClean()
        win.autosaver.stop()
