"""The window's Training menu: Start, Pause, Stop, Train More and Find Learning Rate (the training panel's
own buttons, so menu, keyboard and panel can never disagree), then Sweep and Runs."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton

from .action import add_action

__all__ = ["add_run_actions", "training_menu"]


def training_menu(w: Any) -> QMenu:
    """The window's Training menu (made, before Help, if it has none yet)."""
    bar = w.menuBar()
    for action in bar.actions():
        if action.menu() is not None and action.text().replace("&", "") == "Training":
            return action.menu()
    menu = QMenu("&Training", bar)
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    return menu


def add_run_actions(w: Any) -> list[QAction]:
    """Training > Start (F5), Pause, Stop (Shift+F5), Train More, Find Learning Rate...: each presses the
    panel's button, and is enabled exactly when that button is (checked each time the menu opens)."""
    panel = w.training_panel
    entries: list[tuple[str, QPushButton, str | None, str]] = [
        ("&Start", panel.start_button, "F5", "Train the network with the panel's settings"),
        ("&Pause / Resume", panel.pause_button, None, "Hold the run between batches, or go on"),
        ("S&top", panel.stop_button, "Shift+F5", "Stop the run; the weights trained so far are kept"),
        ("Train &More", panel.more_button, None, "Train the last model for the extra epochs set in the panel"),
        ("Find &Learning Rate\u2026", panel.health.find_lr_button, None, "Run the learning-rate range test"),
    ]
    menu = training_menu(w)
    actions = []
    for text, button, shortcut, tip in entries:
        action = add_action(w, text, button.click, shortcut, tip)  # a disabled button ignores click()
        menu.addAction(action)
        actions.append((action, button))
    menu.addSeparator()

    def follow_buttons() -> None:
        for action, button in actions:
            action.setEnabled(button.isEnabled())

    menu.aboutToShow.connect(follow_buttons)
    return [action for action, _ in actions]
