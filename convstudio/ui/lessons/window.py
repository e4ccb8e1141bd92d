"""A lesson beside its convolution explorer: the runner on the left, the explorer on the right.

The network is the editor's (pass it, with ``edit_network`` doing edits through the undo stack)
or, by default, the lesson's own copy. Goals are re-checked after every network event and every
change in the explorer, once per event-loop turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QSplitter, QWidget

from convstudio.core.explorer import WindowSettings, block_setup
from convstudio.core.lessons import Lesson, LessonState, apply_network_action
from convstudio.core.lessons.probe import softmax_report
from convstudio.core.network import Network
from convstudio.core.resources import resource_path
from convstudio.core.summary import format_summary
from convstudio.ui.explorer import ConvExplorer

from ..worker import run_worker
from .runner import LessonRunner

__all__ = ["LessonWindow", "bundled_sample"]


def bundled_sample(dataset: str = "mnist") -> np.ndarray | None:
    """The first test image of the bundled sample of ``dataset`` (offline), or None without one."""
    try:
        with np.load(resource_path("datasets", f"{dataset}_sample.npz")) as data:
            return np.asarray(data["x_test"][0])
    except (OSError, KeyError, ValueError):
        return None


class LessonWindow(QWidget):
    """Runs ``lesson`` on ``network`` (default: a fresh copy of the lesson's), with an explorer when needed."""

    def __init__(self, lesson: Lesson, network: Network | None = None,
                 edit_network: Callable[[dict[str, Any]], None] | None = None,
                 sample: np.ndarray | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson = lesson
        self.network = network if network is not None else lesson.load_network()
        self._edit = edit_network or (lambda action: apply_network_action(action, self.network))
        self.sample = sample if sample is not None else bundled_sample(lesson.dataset)
        self.explorer: ConvExplorer | None = None
        self._pending = False
        self.splitter = QSplitter()
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.summary.setFont(mono)
        self.summary.setToolTip("The lesson's network, as the Summary panel shows it")
        self.side.addWidget(self.summary)
        self.numbers: QPlainTextEdit | None = None
        self._numbers_key: dict | None = None
        if any(_uses(step.goal, "prediction") for step in lesson.steps):
            self.numbers = QPlainTextEdit()
            self.numbers.setReadOnly(True)
            self.numbers.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.numbers.setFont(mono)
            self.numbers.setToolTip("Softmax and cross-entropy of a sample, by hand and by the network")
            self.side.addWidget(self.numbers)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)
        self._start_explorer()
        self.runner = LessonRunner(lesson, self.state, self.perform)
        self.splitter.addWidget(self.runner)
        self.splitter.addWidget(self.side)
        self.splitter.setSizes([440, 900])
        self._show_summary()
        self.network.events.connect(self._on_network_event)
        self.setWindowTitle(f"Lesson {lesson.number}: {lesson.title}")

    def close_lesson(self) -> None:
        """Stop following the network (call before dropping the window when the network lives on)."""
        self.network.events.disconnect(self._on_network_event)

    # ------------------------------------------------------------------ state and actions

    def state(self) -> LessonState:
        """The network and the explorer as the lesson's goals see them."""
        explorer = self.explorer.explorer_state() if self.explorer is not None else None
        return LessonState(self.network, self.lesson.input_shape, self.lesson.num_classes, explorer=explorer,
                           dataset=self.lesson.dataset)

    def perform(self, action: dict[str, Any]) -> None:
        """Do a step's action: explorer actions here, network edits through ``edit_network``."""
        kind = action["type"]
        if kind == "open_explorer":
            self.open_block(action["block"])
        elif kind == "explorer":
            if self.explorer is None:
                self._ensure_explorer()
            assert self.explorer is not None
            self.explorer.apply_changes(action["set"])
        else:
            self._edit(action)

    def open_block(self, block_id: str) -> ConvExplorer:
        """Show ``block_id`` of the network in the explorer (its starting kernels, on the sample)."""
        explorer = self._ensure_explorer()
        explorer.load_block(block_setup(self.network, block_id, sample=self.sample))
        self.schedule_check()
        return explorer

    # ------------------------------------------------------------------ internals

    def _start_explorer(self) -> None:
        start = self.lesson.explorer
        if start is None:
            return
        if start.block is not None:
            self.open_block(start.block)
            return
        explorer = self._ensure_explorer()
        grid = start.grid_array()
        explorer.set_input(grid, "Lesson grid")
        settings = WindowSettings.from_dict(start.settings or {})
        explorer.set_settings(settings)
        if settings.op == "conv":
            explorer.set_kernel(start.kernel_array(*settings.kernel),
                                start.kernel if isinstance(start.kernel, str) else "Custom")

    def _ensure_explorer(self) -> ConvExplorer:
        if self.explorer is None:
            self.explorer = ConvExplorer()
            self.explorer.stateChanged.connect(self.schedule_check)
            self.side.insertWidget(0, self.explorer)
            self.side.setSizes([640, 180])
        return self.explorer

    def _on_network_event(self, _event: object) -> None:
        self.schedule_check()

    def schedule_check(self) -> None:
        """Check the goals once, after the current edit (which may emit several events) is complete."""
        if not self._pending and hasattr(self, "runner"):
            self._pending = True
            QTimer.singleShot(0, self._check)

    def _check(self) -> None:
        self._pending = False
        self.runner.refresh()
        self._show_summary()

    def _show_summary(self) -> None:
        state = self.state()
        self.summary.setPlainText(format_summary(self.network, state.analysis(), self.lesson.title))
        if self.numbers is not None:
            self._show_numbers(state)

    def _show_numbers(self, state: LessonState) -> None:
        """The softmax of a sample worked out by hand beside the network's, computed off the GUI thread."""
        if not state.analysis().ok:
            self.numbers.setPlainText("The network cannot be run yet: " + state.analysis().errors[0].message)
            return
        network = Network.from_dict(self.network.to_dict())
        self._numbers_key = key = network.to_dict()

        def show(text: str) -> None:
            if self.numbers is not None and key == self._numbers_key:
                self.numbers.setPlainText(text)

        self.numbers.setPlainText("Running the network on a sample…")
        run_worker(self, "lesson-numbers",
                   lambda _task: softmax_report(network, state.input_shape, state.num_classes, state.dataset),
                   lambda lines: show("\n".join(lines)),
                   lambda message: show(f"The network cannot be run: {message}"), interval_ms=50)


def _uses(goal: dict[str, Any], kind: str) -> bool:
    if goal["type"] in ("all", "any"):
        return any(_uses(g, kind) for g in goal["goals"])
    return goal["type"] == kind
