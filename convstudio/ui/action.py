"""One helper that makes a window's QAction: text, slot, shortcut and status tip in one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

__all__ = ["add_action"]


def add_action(window: QMainWindow, text: str, slot: Callable[[], Any], shortcut: Any = None,
               tip: str = "") -> QAction:
    """An action of ``window`` that calls ``slot()`` (slots take no "checked" flag)."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)
    return action
