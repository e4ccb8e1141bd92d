"""Lessons and the convolution explorer from the main window: Help > Lessons and a block's context menu.

:class:`LessonLauncher` owns the windows it opens. A lesson's network replaces the editor's
(through ``open_network``, which asks before unsaved work is lost) and the lesson's edits go
through the editor's undo stack; the explorer opens on the trained model and the current sample
when there are some.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenuBar, QMessageBox, QWidget

from convstudio.core.explorer import ExplorerError
from convstudio.core.lessons import Lesson, apply_network_action
from convstudio.core.network import Network, NetworkError

from ..document import EditorDocument
from ..explorer import ConvExplorer, open_for_block
from .picker import LessonPicker
from .window import LessonWindow, bundled_sample

if TYPE_CHECKING:
    import keras

__all__ = ["LESSONS_TEXT", "LessonLauncher"]

LESSONS_TEXT = "&Lessons..."


class LessonLauncher:
    """Starts lessons and explorer windows for a main window.

    ``open_network(network, title, dataset)`` puts a lesson's network in the editor and returns
    False when the user keeps what is there; ``model()`` is the trained model or None; ``sample()`` the image
    the insight panel shows, or None (then the bundled sample's first test image is used).
    """

    def __init__(self, parent: QWidget, document: EditorDocument,
                 open_network: Callable[[Network, str, str], bool],
                 model: Callable[[], keras.Model | None] = lambda: None,
                 sample: Callable[[], np.ndarray | None] = lambda: None) -> None:
        self.parent = parent
        self.document = document
        self._open_network = open_network
        self._model = model
        self._sample = sample
        self.lesson_window: LessonWindow | None = None
        self.explorers: list[ConvExplorer] = []
        self.action = QAction(LESSONS_TEXT, parent)
        self.action.setStatusTip("A guided course on CNNs: pick a lesson, do its steps, answer its questions")
        self.action.triggered.connect(self.choose_lesson)

    def add_to_help_menu(self, bar: QMenuBar) -> None:
        """Put Help > Lessons first in the window's Help menu (made if there is none)."""
        menu = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if menu is None:
            menu = bar.addMenu("&Help")
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, self.action)
        if first is not None:
            menu.insertSeparator(first)

    def choose_lesson(self) -> LessonWindow | None:
        """Help > Lessons: pick one in a list, then start it."""
        picker = LessonPicker(parent=self.parent)
        if picker.exec() != QDialog.DialogCode.Accepted or picker.chosen is None:
            return None
        return self.start(picker.chosen)

    def start(self, lesson: Lesson) -> LessonWindow | None:
        """Load ``lesson``'s network in the editor and open the lesson beside it (None if the user declines)."""
        if not self._open_network(lesson.load_network(), f"Lesson {lesson.number}: {lesson.title}", lesson.dataset):
            return None
        self.close_lesson()
        window = LessonWindow(lesson, network=self.document.network, edit_network=self.edit, sample=self._sample())
        window.setParent(self.parent, Qt.WindowType.Window)
        window.resize(1360, 820)
        self.lesson_window = window
        window.show()
        return window

    def close_lesson(self) -> None:
        """Close the lesson window, if one is open; the network stays in the editor."""
        if self.lesson_window is not None:
            self.lesson_window.close_lesson()
            self.lesson_window.close()
            self.lesson_window.deleteLater()
            self.lesson_window = None

    def edit(self, action: dict[str, Any]) -> None:
        """A lesson's network edit as one step on the editor's undo stack; raises ``NetworkError`` if refused."""
        reason = self.document.apply_edit(f"Lesson: {_describe(action)}",
                                          lambda net: apply_network_action(action, net))
        if reason:
            raise NetworkError(reason)

    def explore_block(self, block_id: str) -> ConvExplorer | None:
        """A block's "Open in convolution explorer": its settings and weights, on the current sample."""
        sample = self._sample()
        if sample is None:
            sample = bundled_sample()
        try:
            explorer = open_for_block(self.document.network, block_id, trained_model=self._model(),
                                      sample=sample, parent=self.parent)
        except (ExplorerError, NetworkError, ValueError) as exc:
            QMessageBox.warning(self.parent, "Convolution explorer", f"{block_id} cannot be shown: {exc}")
            return None
        explorer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        explorer.destroyed.connect(lambda *_: self._forget(explorer))
        self.explorers.append(explorer)
        explorer.show()
        return explorer

    def _forget(self, explorer: ConvExplorer) -> None:
        if explorer in self.explorers:
            self.explorers.remove(explorer)


def _describe(action: dict[str, Any]) -> str:
    block = action.get("block") or action.get("to") or ""
    return f"{action['type'].replace('_', ' ')} {block}".strip()
