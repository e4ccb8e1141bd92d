"""The window's Help menu (guide, shortcuts, glossary, About), Export Diagram, F2 rename, the Theme
menu and a restored geometry that fits the screen."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QByteArray, QRect, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QApplication
from windows import discard_window  # noqa: E402

from convstudio.core.network import Network
from convstudio.ui import diagram_export
from convstudio.ui import help as help_module
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.theme import stored_mode, theme_controller
from convstudio.ui.training_menu import training_menu


@pytest.fixture
def storage(tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    yield tmp_path / "config"
    theme_controller().set_mode("light", store=False)
    app_settings.use_storage_root(None)


def _open(qtbot):
    win = mw.MainWindow()
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, storage):
    win = _open(qtbot)
    win.new_document("lenet5")
    yield win
    discard_window(win)


def test_f1_opens_the_user_guide_and_links_between_pages_work(qtbot, window, monkeypatch):
    assert window.user_guide_action.shortcut() in (QKeySequence("F1"), QKeySequence(QKeySequence.HelpContents))
    window.user_guide_action.trigger()
    guide = window.help_window
    assert guide.isVisible() and guide.current_path().endswith("docs/user_guide.md")
    assert "ConvStudio user guide" in guide.browser.toPlainText()
    guide.browser.setSource(guide.browser.source().resolved(QUrl("desktop_app.md")))  # a clicked link
    assert guide.current_path().endswith("docs/desktop_app.md")
    assert guide.pages.currentItem().text() == "The desktop app"
    opened: list[QUrl] = []
    monkeypatch.setattr(help_module.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert guide.open_externally() and opened[0].toLocalFile().endswith("desktop_app.md")
    window.user_guide_action.trigger()
    assert window.help_window is guide  # one guide window, raised again


def test_shortcuts_are_read_from_the_actions(window):
    window.shortcuts_action.trigger()
    rows = dict(help_module.shortcut_rows(window.actions()))
    assert rows["Save"] == QKeySequence(QKeySequence.Save).toString(QKeySequence.SequenceFormat.NativeText)
    assert rows["Rename Block"] == "F2" and "User Guide" in rows
    table = window.shortcuts_dialog.table
    assert table.rowCount() == len(rows)
    window.tidy_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
    assert dict(help_module.shortcut_rows(window.actions()))["Tidy Layout"] == "Ctrl+Shift+T"


def test_glossary_searches_and_the_inspector_opens_an_entry(qtbot, window):
    window.glossary_action.trigger()
    glossary = window.glossary_dialog
    glossary.filter.setText("strid")
    assert glossary.list.item(0).text() == "Stride"
    glossary.filter.setText("zzzz")
    assert glossary.list.count() == 0 and "No entry matches" in glossary.text.toPlainText()
    glossary.text.anchorClicked.emit(QUrl("glossary:padding"))
    assert glossary.current_key() == "padding" and "same" in glossary.text.toPlainText()
    window.document.select(["conv1"])
    window.inspector.learn.linkActivated.emit("glossary:receptive_field")
    assert glossary.current_key() == "receptive_field"


def test_about_names_the_version_and_libraries_without_loading_tensorflow(monkeypatch):
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    text = help_module.about_text()
    assert "ConvStudio 0.1.0" in text and "Qt" in text and "Python" in text
    assert "TensorFlow</td><td>&nbsp;not loaded yet" in text
    assert "tensorflow" not in sys.modules


def test_f2_renames_the_selected_block_through_the_inspector(qtbot, window):
    window.document.select(["conv1"])
    window.rename_action.trigger()
    edit = window.inspector.name_field.edit
    assert edit.selectedText() == "conv1"
    qtbot.keyClicks(edit, "edges")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert "edges" in window.document.network.blocks and window.document.selected_ids() == ["edges"]
    assert window.undo_action.text().startswith("&Undo Rename conv1")


def test_export_diagram_from_the_file_menu(qtbot, window, tmp_path, monkeypatch):
    target = tmp_path / "lenet"
    monkeypatch.setattr(diagram_export.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), "SVG drawing (*.svg)"))
    file_menu = window.menuBar().actions()[0].menu()
    assert window.export_diagram_action in file_menu.actions()
    window.export_diagram_action.trigger()
    svg = tmp_path / "lenet.svg"
    assert svg.stat().st_size > 1000 and "lenet.svg" in window.statusBar().currentMessage()
    monkeypatch.setattr(diagram_export.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "lenet.png"), ""))
    window.export_diagram_action.trigger()
    assert not QImage(str(tmp_path / "lenet.png")).isNull()


def test_theme_menu_switches_and_remembers_the_theme(qtbot, window):
    window.theme_actions["dark"].trigger()
    assert theme_controller().dark and stored_mode() == "dark"
    assert QApplication.palette().color(QApplication.palette().ColorRole.Window).lightness() < 128
    window.theme_actions["light"].trigger()
    assert not theme_controller().dark and stored_mode() == "light"


def test_a_saved_geometry_larger_than_the_screen_is_fitted_to_it(qtbot, storage):
    area = QGuiApplication.primaryScreen().availableGeometry()
    first = mw.MainWindow()
    first.setGeometry(QRect(area.x() - 40, area.y() - 40, area.width() * 2, area.height() * 2))
    first.save_window_state()  # a geometry saved at another scale factor or on a larger screen
    first.autosaver.stop()
    first.deleteLater()
    assert isinstance(app_settings.app_settings().value("window/geometry"), QByteArray)
    win = _open(qtbot)
    try:
        qtbot.waitUntil(lambda: area.contains(win.frameGeometry()))
    finally:
        win.close()
        win.deleteLater()


def test_the_training_menu_presses_the_panels_buttons_and_follows_their_state(window, monkeypatch):
    panel = window.training_panel
    texts = [a.text().replace("&", "") for a in training_menu(window).actions() if not a.isSeparator()]
    assert texts[:5] == ["Start", "Pause / Resume", "Stop", "Train More", "Find Learning Rate\u2026"]
    assert "Sweep..." in texts and "Runs..." in texts
    start = window.run_actions[0]
    assert start.shortcut() == QKeySequence("F5") and window.run_actions[2].shortcut() == QKeySequence("Shift+F5")
    pressed: list[str] = []
    monkeypatch.setattr(panel, "start", lambda: pressed.append("start") or True)
    panel.start_button.clicked.disconnect()
    panel.start_button.clicked.connect(lambda: panel.start())
    panel.set_tensorflow_ready(True)
    window.document.load_network(Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]))
    assert panel.start_button.isEnabled()
    start.trigger()
    assert pressed == ["start"]
    window.document.load_network(Network.chain(["Input", ("Dense", {"units": 10})]))  # cannot train: Start is off
    assert not panel.start_button.isEnabled()
    start.trigger()
    assert pressed == ["start"]  # a disabled button ignores the menu too
    training_menu(window).aboutToShow.emit()
    assert not start.isEnabled()
