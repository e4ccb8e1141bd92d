"""Lesson files: ``resources/lessons/*.json``, written by teachers, checked on load.

A lesson has a title, text pages (simple Markdown), the network it loads (a preset name or an
inline network), optionally what the convolution explorer starts with, steps (an instruction,
the action that performs it and a goal on the app's state), questions with choices and the
correct answer, and what to look at. :func:`load_lesson` raises :class:`LessonError` with the
file, the place and the reason for anything it cannot accept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..explorer import (
    TEACHING_GRID,
    ExplorerError,
    ExplorerState,
    WindowSettings,
    preset_kernel,
)
from ..network import Network, NetworkError
from ..project import ProjectError
from ..resources import resource_path
from .goals import (
    ACTIONS,
    COMPARISONS,
    GOALS,
    LessonState,
    apply_action,
    check_goal,
    open_block_in_explorer,
)

__all__ = ["FORMAT", "ExplorerStart", "Lesson", "LessonError", "Question", "Step", "list_lessons", "load_lesson",
           "parse_lesson", "progress", "rehearse"]

FORMAT = "convstudio-lesson"
SCHEMA_VERSION = 1


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file, the place and the reason."""


@dataclass(frozen=True)
class Step:
    instruction: str
    action: dict[str, Any]
    goal: dict[str, Any]
    hint: str = ""


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[str, ...]
    answer: int
    explanation: str = ""


@dataclass(frozen=True)
class ExplorerStart:
    """What the explorer opens with: a block of the network, or a grid, a kernel and settings."""

    block: str | None = None
    grid: tuple[tuple[float, ...], ...] | None = None
    kernel: str | tuple[tuple[float, ...], ...] | None = None
    settings: dict[str, Any] | None = None

    def grid_array(self) -> np.ndarray:
        return TEACHING_GRID.copy() if self.grid is None else np.array(self.grid, dtype=np.float64)

    def kernel_array(self, h: int, w: int) -> np.ndarray:
        if self.kernel is None:
            return preset_kernel("Identity", h, w)
        if isinstance(self.kernel, str):
            return preset_kernel(self.kernel, h, w)
        return np.array(self.kernel, dtype=np.float64)


@dataclass(frozen=True)
class Lesson:
    """One guided lesson, as read from its file."""

    id: str
    number: int
    title: str
    summary: str
    pages: tuple[str, ...]
    network: dict[str, Any]
    steps: tuple[Step, ...]
    questions: tuple[Question, ...]
    look_at: tuple[str, ...]
    explorer: ExplorerStart | None = None
    dataset: str = "mnist"
    input_shape: tuple[int, int, int] = (28, 28, 1)
    num_classes: int = 10

    def load_network(self) -> Network:
        """A fresh copy of the network the lesson loads."""
        if "preset" in self.network:
            from ..presets import load_preset

            return load_preset(self.network["preset"]).network
        return Network.from_dict(self.network)

    def start_state(self) -> LessonState:
        """The state a student starts from: the lesson's network and, if it has one, its explorer."""
        state = LessonState(self.load_network(), self.input_shape, self.num_classes, dataset=self.dataset)
        if self.explorer is not None:
            if self.explorer.block is not None:
                state.explorer = open_block_in_explorer(state, self.explorer.block)
            else:
                grid = self.explorer.grid_array()
                settings = WindowSettings.from_dict(self.explorer.settings or {})
                state.explorer = ExplorerState(settings, (grid.shape[0], grid.shape[1]))
        return state


# --------------------------------------------------------------------------- checking the data


def _need(data: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise LessonError(f"{where}: '{key}' is missing")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise LessonError(f"{where}: '{key}' must be {_article(names)}, not {type(value).__name__}")
    return value


def _article(name: str) -> str:
    return {"str": "text", "list": "a list", "dict": "a mapping", "int": "a whole number"}.get(name, name)


def _text_list(data: dict, key: str, where: str, required: bool = True) -> tuple[str, ...]:
    if key not in data and not required:
        return ()
    items = _need(data, key, list, where)
    if required and not items:
        raise LessonError(f"{where}: '{key}' is empty")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise LessonError(f"{where}: {key} #{i + 1} must be non-empty text")
    return tuple(items)


def _check_goal(goal: Any, where: str) -> dict:
    if not isinstance(goal, dict):
        raise LessonError(f"{where}: the goal must be a mapping with a 'type'")
    kind = _need(goal, "type", str, where)
    if kind in ("all", "any"):
        goals = _need(goal, "goals", list, where)
        if not goals:
            raise LessonError(f"{where}: '{kind}' needs at least one goal")
        for i, g in enumerate(goals):
            _check_goal(g, f"{where}, goal #{i + 1}")
        return goal
    if kind not in GOALS:
        raise LessonError(f"{where}: unknown goal type {kind!r}; known: {', '.join([*GOALS, 'all', 'any'])}")
    needed = GOALS[kind][0]
    missing = sorted(needed - set(goal))
    if missing:
        raise LessonError(f"{where}: a '{kind}' goal needs {', '.join(missing)}")
    unknown = sorted(set(goal) - needed - set(COMPARISONS) - {"type"})
    if unknown:
        raise LessonError(f"{where}: a '{kind}' goal has unknown key(s) {', '.join(unknown)}; compare with "
                          f"{', '.join(COMPARISONS)}")
    return goal


def _check_action(action: Any, where: str) -> dict:
    if not isinstance(action, dict):
        raise LessonError(f"{where}: the action must be a mapping with a 'type'")
    kind = _need(action, "type", str, where)
    if kind not in ACTIONS:
        raise LessonError(f"{where}: unknown action type {kind!r}; known: {', '.join(ACTIONS)}")
    missing = sorted(ACTIONS[kind] - set(action))
    if missing:
        raise LessonError(f"{where}: a '{kind}' action needs {', '.join(missing)}")
    return action


def _steps(data: dict, where: str) -> tuple[Step, ...]:
    steps = []
    for i, raw in enumerate(_need(data, "steps", list, where)):
        at = f"{where}, step {i + 1}"
        if not isinstance(raw, dict):
            raise LessonError(f"{at}: a step must be a mapping")
        hint = raw.get("hint", "")
        if not isinstance(hint, str):
            raise LessonError(f"{at}: 'hint' must be text")
        steps.append(Step(_need(raw, "instruction", str, at), _check_action(raw.get("action"), at),
                          _check_goal(raw.get("goal"), at), hint))
    if not steps:
        raise LessonError(f"{where}: a lesson needs at least one step")
    return tuple(steps)


def _questions(data: dict, where: str) -> tuple[Question, ...]:
    questions = []
    for i, raw in enumerate(_need(data, "questions", list, where)):
        at = f"{where}, question {i + 1}"
        if not isinstance(raw, dict):
            raise LessonError(f"{at}: a question must be a mapping")
        choices = _text_list(raw, "choices", at)
        if len(choices) < 2:
            raise LessonError(f"{at}: a question needs at least two choices")
        answer = _need(raw, "answer", int, at)
        if not 0 <= answer < len(choices):
            raise LessonError(f"{at}: 'answer' is the index of the right choice, 0 to {len(choices) - 1}; "
                              f"got {answer}")
        explanation = raw.get("explanation", "")
        if not isinstance(explanation, str):
            raise LessonError(f"{at}: 'explanation' must be text")
        questions.append(Question(_need(raw, "text", str, at), choices, answer, explanation))
    if not questions:
        raise LessonError(f"{where}: a lesson needs at least one question")
    return tuple(questions)


def _grid(value: Any, where: str, what: str) -> tuple[tuple[float, ...], ...]:
    ok = (isinstance(value, list) and value and all(isinstance(r, list) and r for r in value)
          and len({len(r) for r in value}) == 1
          and all(isinstance(v, int | float) and not isinstance(v, bool) for r in value for v in r))
    if not ok:
        raise LessonError(f"{where}: '{what}' must be rows of numbers of one length")
    return tuple(tuple(float(v) for v in r) for r in value)


def _explorer(data: dict, where: str) -> ExplorerStart | None:
    raw = data.get("explorer")
    if raw is None:
        return None
    at = f"{where}, explorer"
    if not isinstance(raw, dict):
        raise LessonError(f"{at}: must be a mapping")
    unknown = sorted(set(raw) - {"block", "grid", "kernel", "settings"})
    if unknown:
        raise LessonError(f"{at}: unknown key(s) {', '.join(unknown)}")
    if "block" in raw:
        return ExplorerStart(block=_need(raw, "block", str, at))
    grid = _grid(raw["grid"], at, "grid") if "grid" in raw else None
    kernel = raw.get("kernel")
    if kernel is not None and not isinstance(kernel, str):
        kernel = _grid(kernel, at, "kernel")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise LessonError(f"{at}: 'settings' must be a mapping such as {{\"stride_h\": 2}}")
    start = ExplorerStart(None, grid, kernel, settings)
    try:
        s = WindowSettings.from_dict(settings)
        if s.op == "conv":
            start.kernel_array(*s.kernel)
    except ExplorerError as exc:
        raise LessonError(f"{at}: {exc}") from None
    return start


def _network(data: dict, where: str) -> dict:
    raw = _need(data, "network", dict, where)
    try:
        if "preset" in raw:
            from ..presets import preset_path

            preset_path(_need(raw, "preset", str, f"{where}, network"))
        else:
            Network.from_dict(raw)
    except (NetworkError, ProjectError) as exc:
        raise LessonError(f"{where}: its network is invalid: {exc}") from None
    return raw


def _dataset_settings(data: dict[str, Any], where: str) -> tuple[str, tuple[int, int, int], int]:
    """The lesson's dataset name, its images' shape and its number of classes (MNIST's by default)."""
    shape = data.get("input_shape", [28, 28, 1])
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape)):
        raise LessonError(f"{where}: 'input_shape' must be three positive whole numbers [h, w, c]")
    dataset = data.get("dataset", "mnist")
    if not isinstance(dataset, str):
        raise LessonError(f"{where}: 'dataset' must be text")
    classes = data.get("num_classes", 10)
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 2:
        raise LessonError(f"{where}: 'num_classes' must be a whole number of at least 2")
    return dataset, (shape[0], shape[1], shape[2]), classes


def parse_lesson(data: Any, lesson_id: str, where: str = "the lesson") -> Lesson:
    """A :class:`Lesson` from decoded JSON; raises :class:`LessonError` saying what is wrong and where."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LessonError(f"{where} is not a ConvStudio lesson (no \"format\": \"{FORMAT}\" marker)")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA_VERSION:
        raise LessonError(f"{where}: schema version {version!r} is not one this ConvStudio reads "
                          f"(1 to {SCHEMA_VERSION})")
    dataset, shape, classes = _dataset_settings(data, where)
    lesson = Lesson(
        lesson_id, _need(data, "number", int, where), _need(data, "title", str, where),
        data.get("summary", "") if isinstance(data.get("summary", ""), str) else "",
        _text_list(data, "pages", where), _network(data, where), _steps(data, where), _questions(data, where),
        _text_list(data, "look_at", where, required=False), _explorer(data, where), dataset,
        shape, classes,
    )
    return lesson


def load_lesson(path: str | os.PathLike[str]) -> Lesson:
    """Read and check one lesson file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LessonError(f"there is no lesson file at {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonError(f"{source} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LessonError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return parse_lesson(data, source.stem, str(source))


def list_lessons(folder: str | os.PathLike[str] | None = None, problems: list[str] | None = None) -> list[Lesson]:
    """Every lesson in ``folder`` (default: the bundled ``resources/lessons``), by number.

    With a ``problems`` list, a file that cannot be used is left out and its message appended
    there, so one broken lesson does not hide the others; without it the first one raises.
    """
    root = Path(folder) if folder is not None else resource_path("lessons")
    lessons = []
    for path in sorted(root.glob("*.json")):
        try:
            lessons.append(load_lesson(path))
        except LessonError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return sorted(lessons, key=lambda lesson: (lesson.number, lesson.id))


def progress(lesson: Lesson, state: LessonState, start: int = 0) -> tuple[int, str]:
    """From step ``start``, the index of the first step whose goal does not hold yet and what was found.

    Returns ``(len(lesson.steps), "")`` when every step from ``start`` on is done.
    """
    for index in range(start, len(lesson.steps)):
        result = check_goal(lesson.steps[index].goal, state)
        if not result.reached:
            return index, result.detail
    return len(lesson.steps), ""


def rehearse(lesson: Lesson) -> list[str]:
    """Walk every step as a student would; the problems found (empty when the lesson works).

    A step is broken when its goal already holds before its action, when the action cannot be
    performed, or when the goal does not hold after it.
    """
    problems = []
    state = lesson.start_state()
    for i, step in enumerate(lesson.steps, 1):
        before = check_goal(step.goal, state)
        if before.reached:
            problems.append(f"step {i}: the goal holds before the action ({before.detail})")
        try:
            apply_action(step.action, state)
        except (NetworkError, ExplorerError) as exc:
            problems.append(f"step {i}: the action cannot be performed: {exc}")
            break
        after = check_goal(step.goal, state)
        if not after.reached:
            problems.append(f"step {i}: the goal is not reached by the action ({after.detail})")
    return problems
