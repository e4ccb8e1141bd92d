"""The lesson runner: a lesson's pages, its steps checked live against the app's state, and its questions.

The runner holds no app state itself. It asks ``state()`` for a
:class:`~convstudio.core.lessons.LessonState` (the editor's network, the explorer's state) whenever
:meth:`LessonRunner.refresh` is called, and hands a step's action to ``perform`` for "Show me".
:meth:`LessonRunner.standalone` keeps its own state, for a lesson opened outside the editor and
for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.explorer import ExplorerError
from convstudio.core.lessons import (
    Lesson,
    LessonState,
    Question,
    apply_action,
    goal_runs_network,
    progress,
)
from convstudio.core.network import Network, NetworkError

from ..worker import run_worker

__all__ = ["LessonRunner"]

StateFn = Callable[[], LessonState]
PerformFn = Callable[[dict[str, Any]], None]


class _QuestionBox(QGroupBox):
    """One question: choices as radio buttons, an Answer button and the verdict."""

    def __init__(self, number: int, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(f"Question {number}", parent)
        self.question = question
        layout = QVBoxLayout(self)
        text = QLabel(question.text)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.group = QButtonGroup(self)
        for i, choice in enumerate(question.choices):
            button = QRadioButton(choice)
            self.group.addButton(button, i)
            layout.addWidget(button)
        self.answer_button = QPushButton("Answer")
        self.answer_button.clicked.connect(self.answer)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        layout.addWidget(self.answer_button)
        layout.addWidget(self.verdict)

    def answer(self) -> bool | None:
        """Judge the chosen answer; None when nothing is chosen."""
        chosen = self.group.checkedId()
        if chosen < 0:
            self.verdict.setText("Choose an answer first.")
            return None
        right = chosen == self.question.answer
        why = f" {self.question.explanation}" if self.question.explanation else ""
        if right:
            self.verdict.setText(f"<span style='color:#1b7f3b'><b>Right.</b></span>{why}")
        else:
            self.verdict.setText("<span style='color:#b00020'><b>Not quite.</b></span> Try again.")
        return right


class LessonRunner(QWidget):
    """Shows ``lesson`` and follows the student through its steps.

    ``stepReached(index)`` fires when step ``index`` is done; ``finished`` when every step is.
    """

    stepReached = Signal(int)
    finished = Signal()

    def __init__(self, lesson: Lesson, state: StateFn, perform: PerformFn | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson = lesson
        self._state = state
        self._perform = perform
        self.current = 0
        self._page = 0
        self._generation = 0
        self.checking = False
        """True while goals that run the network are measured in a background thread."""
        self.setWindowTitle(f"Lesson {lesson.number}: {lesson.title}")
        self._build()
        self._show_page(0)
        self.refresh()

    @classmethod
    def standalone(cls, lesson: Lesson, parent: QWidget | None = None) -> LessonRunner:
        """A runner on the lesson's own start state; "Show me" edits that state."""
        state = lesson.start_state()
        runner = cls(lesson, lambda: state, lambda action: apply_action(action, state), parent)
        runner.own_state = state
        return runner

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        title = QLabel(f"<h2>Lesson {self.lesson.number}: {self.lesson.title}</h2>")
        title.setWordWrap(True)
        self.page_view = QTextBrowser()
        self.page_view.setOpenExternalLinks(False)
        self.prev_button = QPushButton("◀ Previous page")
        self.next_page_button = QPushButton("Next page ▶")
        self.page_label = QLabel()
        self.prev_button.clicked.connect(lambda: self._show_page(self._page - 1))
        self.next_page_button.clicked.connect(lambda: self._show_page(self._page + 1))
        pages = QHBoxLayout()
        pages.addWidget(self.prev_button)
        pages.addStretch(1)
        pages.addWidget(self.page_label)
        pages.addStretch(1)
        pages.addWidget(self.next_page_button)

        self.step_list = QListWidget()
        for i, step in enumerate(self.lesson.steps, 1):
            self.step_list.addItem(QListWidgetItem(f"{i}. {step.instruction}"))
        self.step_list.setWordWrap(True)
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet("font-weight: bold;")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.hint_button = QPushButton("Hint")
        self.hint_button.clicked.connect(self._show_hint)
        self.show_button = QPushButton("Show me")
        self.show_button.setToolTip("Do this step for me")
        self.show_button.clicked.connect(self.show_me)
        self.show_button.setEnabled(self._perform is not None)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for button in (self.check_button, self.hint_button, self.show_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        steps = QGroupBox("Steps")
        step_layout = QVBoxLayout(steps)
        step_layout.addWidget(self.step_list, 1)
        step_layout.addWidget(self.instruction)
        step_layout.addWidget(self.status)
        step_layout.addLayout(buttons)

        self.questions = [_QuestionBox(i, q) for i, q in enumerate(self.lesson.questions, 1)]
        look = QLabel("<b>Look at</b><ul>" + "".join(f"<li>{item}</li>" for item in self.lesson.look_at) + "</ul>")
        look.setWordWrap(True)
        look.setVisible(bool(self.lesson.look_at))

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.page_view, 3)
        layout.addLayout(pages)
        layout.addWidget(steps, 2)
        for box in self.questions:
            box.setVisible(False)
            layout.addWidget(box)
        layout.addWidget(look)

    # ------------------------------------------------------------------ behaviour

    def _show_page(self, index: int) -> None:
        pages = self.lesson.pages
        self._page = max(0, min(index, len(pages) - 1))
        self.page_view.setMarkdown(pages[self._page])
        self.page_label.setText(f"page {self._page + 1} of {len(pages)}")
        self.prev_button.setEnabled(self._page > 0)
        self.next_page_button.setEnabled(self._page < len(pages) - 1)

    def _show_hint(self) -> None:
        if self.current < len(self.lesson.steps):
            hint = self.lesson.steps[self.current].hint or "Read the instruction again, or press 'Show me'."
            self.status.setText(f"Hint: {hint}")

    @property
    def done(self) -> bool:
        return self.current >= len(self.lesson.steps)

    def refresh(self) -> None:
        """Check the current step's goal on the app's state; move on for each goal reached.

        Goals that run the network are measured on a copy of the state in a background thread;
        the answer is used only if nothing was checked since.
        """
        state = self._state()
        self._generation += 1
        if self.done or not any(goal_runs_network(s.goal) for s in self.lesson.steps[self.current:]):
            self.checking = False
            self._advance(*progress(self.lesson, state, self.current))
            return
        snapshot = LessonState(Network.from_dict(state.network.to_dict()), state.input_shape, state.num_classes,
                               state.explorer, state.dataset)
        generation, start = self._generation, self.current
        self.checking = True
        self.status.setText("Checking: running the network on a sample…")
        run_worker(self, "lesson-goals", lambda _task: progress(self.lesson, snapshot, start),
                   lambda result: self._checked(generation, result),
                   lambda message: self._checked(generation, None, message), interval_ms=50)

    def _checked(self, generation: int, result: tuple[int, str] | None, error: str = "") -> None:
        if generation != self._generation:
            return  # the state changed meanwhile; a newer check is on its way
        self.checking = False
        if result is None:
            self.status.setText(f"The goal cannot be checked: {error.splitlines()[0] if error else ''}")
            return
        self._advance(*result)

    def _advance(self, index: int, detail: str) -> None:
        while self.current < index:
            self.current += 1
            self.stepReached.emit(self.current - 1)
            if self.done:
                self.finished.emit()
        self._show_progress(detail)

    def _show_progress(self, detail: str) -> None:
        for i in range(self.step_list.count()):
            item = self.step_list.item(i)
            mark = "✓" if i < self.current else ("▶" if i == self.current else "·")
            item.setText(f"{mark} {i + 1}. {self.lesson.steps[i].instruction}")
        if self.done:
            self.instruction.setText("All steps done. Answer the questions below.")
            self.status.setText("")
            for box in self.questions:
                box.setVisible(True)
        else:
            self.instruction.setText(f"Step {self.current + 1}: {self.lesson.steps[self.current].instruction}")
            self.status.setText(f"Now: {detail}" if detail else "")
            self.step_list.setCurrentRow(self.current)
        self.show_button.setEnabled(self._perform is not None and not self.done)
        self.hint_button.setEnabled(not self.done)

    def show_me(self) -> None:
        """Perform the current step's action (through ``perform``) and check again."""
        if self._perform is None or self.done:
            return
        try:
            self._perform(self.lesson.steps[self.current].action)
        except (NetworkError, ExplorerError) as exc:
            self.status.setText(f"This step cannot be done from here: {exc}")
            return
        self.refresh()
