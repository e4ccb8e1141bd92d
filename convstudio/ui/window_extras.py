"""The window's help, diagram, rename and theme commands: their actions, menu entries and slots.

Help > User Guide (F1), Keyboard Shortcuts, Glossary and About; File > Export Diagram; Edit > Rename
Block (F2); View > Runs (Ctrl+Shift+R) and Theme (System, Light, Dark).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from .action import add_action
from .theme import MODES, theme_controller

__all__ = ["add_extra_menus", "make_extra_actions", "show_runs"]


def make_extra_actions(w: Any) -> None:
    """Create the actions on window ``w`` (which has ``document``, ``canvas``, ``inspector``, ``docks``)."""
    K = QKeySequence.StandardKey
    w.user_guide_action = add_action(w, "&User Guide", lambda: open_user_guide(w), K.HelpContents,
                                  "Read the user guide")
    if w.user_guide_action.shortcut().isEmpty():
        w.user_guide_action.setShortcut(QKeySequence("F1"))
    w.shortcuts_action = add_action(w, "&Keyboard Shortcuts", lambda: show_shortcuts(w), tip="Every shortcut")
    w.glossary_action = add_action(w, "&Glossary", lambda: show_glossary(w), tip="What stride, padding, ... mean")
    w.about_action = add_action(w, "&About ConvStudio", lambda: show_about(w))
    w.about_action.setMenuRole(QAction.MenuRole.AboutRole)
    w.export_diagram_action = add_action(w, "Export &Diagram...", lambda: export_diagram(w), None,
                                      "Save the network diagram as a PNG or SVG picture")
    w.rename_action = add_action(w, "Re&name Block", lambda: rename_selected(w), "F2",
                              "Rename the selected block (its Keras layer name)")
    w.runs_action = add_action(w, "R&uns...", lambda: show_runs(w), "Ctrl+Shift+R",
                               "The project's training runs: sort, overlay curves, compare, reopen, continue, delete")
    w.theme_group = QActionGroup(w)
    w.theme_actions = {}
    controller = theme_controller()
    for mode in MODES:
        action = QAction(mode.capitalize(), w, checkable=True)
        action.setChecked(controller.mode == mode)
        action.triggered.connect(lambda _checked=False, m=mode: controller.set_mode(m))
        w.theme_group.addAction(action)
        w.theme_actions[mode] = action
    w.inspector.glossaryRequested.connect(lambda key: show_glossary(w, key))


def add_extra_menus(w: Any, edit_menu: QMenu, view_menu: QMenu, help_menu: QMenu) -> None:
    """Put the actions into the Edit, View and Help menus (File > Export Diagram is placed by the caller,
    beside Export Model)."""
    edit_menu.addSeparator()
    edit_menu.addAction(w.rename_action)
    view_menu.addSeparator()
    view_menu.addAction(w.runs_action)
    theme = view_menu.addMenu("&Theme")
    for action in w.theme_actions.values():
        theme.addAction(action)
    help_menu.clear()
    for action in (w.user_guide_action, w.shortcuts_action, w.glossary_action, None, w.about_action):
        help_menu.addSeparator() if action is None else help_menu.addAction(action)


def _keep(w: Any, name: str, factory) -> Any:
    """Show the non-modal dialog ``w.<name>``, made by ``factory`` the first time."""
    dialog = getattr(w, name, None)
    if dialog is None:
        dialog = factory(w)
        setattr(w, name, dialog)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def open_user_guide(w: Any) -> Any:
    from .help import HelpWindow

    return _keep(w, "help_window", HelpWindow)


def show_runs(w: Any) -> Any:
    """View > Runs: the project's recorded runs (one window, kept while the app runs)."""
    from .runs import RunsWindow

    return _keep(w, "runs_window", RunsWindow)


def show_shortcuts(w: Any) -> Any:
    from .help import ShortcutsDialog

    dialog = ShortcutsDialog(w.actions(), w)  # built fresh: it lists the shortcuts as they are now
    w.shortcuts_dialog = dialog
    dialog.show()
    return dialog


def show_glossary(w: Any, key: str | None = None) -> Any:
    from .help import GlossaryDialog

    dialog = _keep(w, "glossary_dialog", GlossaryDialog)
    if key:
        dialog.show_term(key)
    return dialog


def show_about(w: Any) -> None:
    from .help import about_text

    QMessageBox.about(w, "About ConvStudio", about_text())


def export_diagram(w: Any) -> None:
    from .diagram_export import DiagramError, save_diagram_dialog

    path = getattr(w, "current_path", None)
    start = str(Path(path).with_suffix(".png")) if path else os.path.join(os.path.expanduser("~"), "network.png")
    try:
        message = save_diagram_dialog(w.canvas.network_scene, w, start)
    except (DiagramError, OSError) as exc:
        QMessageBox.critical(w, "Cannot export the diagram", str(exc))
        return
    if message:
        w.show_message(message, 6000)


def rename_selected(w: Any) -> None:
    """F2: put the cursor in the inspector's name field for the one selected block."""
    ids = w.document.selected_ids()
    if len(ids) != 1:
        w.show_message("Select one block to rename it", 3000)
        return
    dock = w.docks.get("inspector")
    if dock is not None:
        dock.show()
        dock.raise_()
    w.inspector.show_block(ids[0])
    w.inspector.name_field.begin()
