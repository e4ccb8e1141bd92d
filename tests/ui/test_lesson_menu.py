"""Lessons and the explorer from the main window: Help > Lessons starts a lesson whose edits are undoable,
and a block's context menu opens it in the convolution explorer."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox
from windows import discard_window  # noqa: E402

from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings
from convstudio.ui.canvas.view import EXPLORE_TEXT
from convstudio.ui.lessons import LESSONS_TEXT, LessonPicker

B = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    app_settings.use_storage_root(tmp_path / "config")
    answers: list = []
    monkeypatch.setattr(dialogs, "ask", lambda *_a, **_k: answers.pop(0))
    win = mw.MainWindow()
    win.answers = answers
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.lessons.close_lesson()
    discard_window(win)
    app_settings.use_storage_root(None)


def _menu_action(window, menu_title: str, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text() == text)


def _pick(monkeypatch, number: int) -> None:
    def exec_(picker: LessonPicker) -> int:
        picker.list.setCurrentRow([lesson.number for lesson in picker.lessons].index(number))
        picker.accept()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(LessonPicker, "exec", exec_)


def test_help_lessons_starts_a_lesson_whose_steps_are_undoable(window, qtbot, monkeypatch):
    _pick(monkeypatch, 2)
    _menu_action(window, "Help", LESSONS_TEXT).trigger()
    lesson = window.lessons.lesson_window
    assert lesson is not None and lesson.isVisible() and lesson.lesson.number == 2
    assert lesson.network is window.document.network and "conv1" in window.document.network
    assert window.windowTitle().startswith("Lesson 2")
    lesson.runner.show_me()  # conv1 becomes 5x5
    qtbot.waitUntil(lambda: lesson.runner.current == 1)
    assert window.document.undo_stack.count() == 1
    assert window.document.undo_stack.undoText().startswith("Lesson: set params conv1")
    window.document.undo_stack.undo()
    assert window.document.network.block("conv1").params["kernel_h"] == 3
    lesson.runner.refresh()
    assert lesson.runner.current == 1  # a step once reached stays reached


def test_starting_a_lesson_asks_before_unsaved_work_is_lost(window, monkeypatch):
    window.document.add_block("Input", (0.0, 0.0))
    _pick(monkeypatch, 1)
    window.answers.append(B.Cancel)
    assert window.lessons.choose_lesson() is None
    assert len(window.document.network) == 1 and window.lessons.lesson_window is None


def test_a_conv_blocks_context_menu_opens_it_in_the_explorer(window, qtbot):
    assert window.new_document("lenet5")
    canvas = window.canvas
    scene = canvas._scene

    def menu_texts(block_id: str) -> list[str]:
        menu = canvas.context_menu(scene.blocks[block_id].sceneBoundingRect().center())
        return [a.text() for a in menu.actions()]

    assert EXPLORE_TEXT not in menu_texts("fc1")
    menu = canvas.context_menu(scene.blocks["conv2"].sceneBoundingRect().center())
    next(a for a in menu.actions() if a.text() == EXPLORE_TEXT).trigger()
    explorer = window.lessons.explorers[-1]
    assert explorer.isVisible()
    state = explorer.explorer_state()
    assert state.block_id == "conv2" and state.settings.kernel == (5, 5)
    explorer.close()
    qtbot.waitUntil(lambda: explorer not in window.lessons.explorers)

    from convstudio.core.builder import build_model

    window.session.model = build_model(window.document.network)  # a model: conv2 reads pool1's maps
    menu = canvas.context_menu(scene.blocks["conv2"].sceneBoundingRect().center())
    next(a for a in menu.actions() if a.text() == EXPLORE_TEXT).trigger()
    assert window.lessons.explorers[-1].explorer_state().input_size == (14, 14)
    menu = canvas.context_menu(scene.blocks["pool1"].sceneBoundingRect().center())
    next(a for a in menu.actions() if a.text() == EXPLORE_TEXT).trigger()
    assert window.lessons.explorers[-1].explorer_state().settings.op == "avg"
    window.session.model = None
