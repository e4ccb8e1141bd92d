"""Help > Lessons offers lesson 8 (colour filters): it opens an RGB network, on the coloured-shapes
dataset classified by colour, and its steps are made in the editor."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog
from windows import discard_window  # noqa: E402

from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.lessons import LESSONS_TEXT, LessonPicker


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: None)
    win = mw.MainWindow()
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.lessons.close_lesson()
    discard_window(win)
    app_settings.use_storage_root(None)


def test_help_lessons_lists_lesson_8_and_its_steps_edit_the_editor_network(window, qtbot, monkeypatch):
    listed: list[str] = []

    def exec_(picker: LessonPicker) -> int:
        listed.extend(picker.list.item(i).text() for i in range(picker.list.count()))
        picker.list.setCurrentRow([lesson.number for lesson in picker.lessons].index(8))
        picker.accept()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LessonPicker, "exec", exec_)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help")
    next(a for a in menu.actions() if a.text() == LESSONS_TEXT).trigger()
    assert any("Filters that answer to one colour" in text for text in listed)
    lesson = window.lessons.lesson_window
    assert lesson is not None and lesson.isVisible() and lesson.lesson.number == 8
    assert window.document.network.block("input").params["channels"] == 3
    for number in (1, 2):
        lesson.runner.show_me()
        qtbot.waitUntil(lambda n=number: lesson.runner.current == n)
    assert window.document.network.block("pool").kind == "GlobalMaxPool2D"
    assert window.document.network.block("conv1").params["filters"] == 6
