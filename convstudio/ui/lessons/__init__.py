"""Lessons in the window: choosing one, and the runner that follows the student through it."""

from __future__ import annotations

from .launcher import LESSONS_TEXT, LessonLauncher
from .picker import LessonPicker
from .runner import LessonRunner
from .window import LessonWindow, bundled_sample

__all__ = ["LESSONS_TEXT", "LessonLauncher", "LessonPicker", "LessonRunner", "LessonWindow", "bundled_sample"]
