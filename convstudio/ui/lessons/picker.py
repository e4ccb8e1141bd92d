"""Choosing a lesson: the bundled course, by number, with each lesson's summary."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.lessons import Lesson, list_lessons

__all__ = ["LessonPicker"]


class LessonPicker(QDialog):
    """A list of lessons; :attr:`chosen` is the lesson picked (None until accepted)."""

    def __init__(self, lessons: list[Lesson] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lessons")
        self.chosen: Lesson | None = None
        self.problems: list[str] = []
        if lessons is None:
            try:
                lessons = list_lessons(problems=self.problems)
            except OSError as exc:
                lessons = []
                self.problems.append(str(exc))
        self.lessons = lessons
        self.list = QListWidget()
        for lesson in lessons:
            item = QListWidgetItem(f"{lesson.number}. {lesson.title}\n    {lesson.summary}")
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            self.list.addItem(item)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if self.problems:
            problem = QLabel("Some lessons cannot be read: " + "; ".join(self.problems))
            problem.setWordWrap(True)
            layout.addWidget(problem)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        if lessons:
            self.list.setCurrentRow(0)
        self.resize(560, 360)

    def accept(self) -> None:
        row = self.list.currentRow()
        self.chosen = self.lessons[row] if 0 <= row < len(self.lessons) else None
        super().accept()
