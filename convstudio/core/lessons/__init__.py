"""Lessons: guided sequences a teacher writes as data files, and the checks that follow a student.

Headless: the lesson runner in the window shows a :class:`Lesson` and evaluates its goals on a
:class:`LessonState` built from the editor's network and the explorer's state.
"""

from __future__ import annotations

from .format import (
    FORMAT,
    ExplorerStart,
    Lesson,
    LessonError,
    Question,
    Step,
    list_lessons,
    load_lesson,
    parse_lesson,
    progress,
    rehearse,
)
from .goals import (
    ACTIONS,
    COMPARISONS,
    GOALS,
    RUNS_NETWORK,
    GoalResult,
    LessonState,
    apply_action,
    apply_network_action,
    check_goal,
    goal_runs_network,
    open_block_in_explorer,
)

__all__ = [
    "ACTIONS",
    "COMPARISONS",
    "FORMAT",
    "GOALS",
    "RUNS_NETWORK",
    "ExplorerStart",
    "GoalResult",
    "Lesson",
    "LessonError",
    "LessonState",
    "Question",
    "Step",
    "apply_action",
    "apply_network_action",
    "check_goal",
    "goal_runs_network",
    "list_lessons",
    "load_lesson",
    "open_block_in_explorer",
    "parse_lesson",
    "progress",
    "rehearse",
]
