"""The main window's actions and menus (File, Edit, View, Help), and which of them are enabled.

The help, rename, diagram and theme commands come from :mod:`.window_extras`.

The actions call the window's public slots; this module only builds and arranges them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .action import add_action
from .window_extras import add_extra_menus, make_extra_actions

__all__ = ["add_action", "make_actions", "make_menus", "update_edit_actions"]


def make_actions(w: Any) -> None:
    """Create the window's actions as attributes (``w.new_action``, ``w.undo_action``, ...)."""
    K = QKeySequence.StandardKey
    w.new_action = add_action(w, "&New...", w.new_document, K.New, "Start a new network")
    w.open_action = add_action(w, "&Open...", w.open_file, K.Open, "Open a project")
    w.save_action = add_action(w, "&Save", w.save, K.Save, "Save the project")
    w.save_as_action = add_action(w, "Save &As...", w.save_as, K.SaveAs, "Save under a new name")
    w.import_action = add_action(w, "&Import Keras Model...", w.import_model, None,
                                 "Open a .keras model as an editable network with its weights")
    w.export_action = add_action(w, "&Export Model...", w.export_model, "Ctrl+E",
                                 "Export the trained model: .keras, SavedModel, TFLite, ONNX, script")
    w.quit_action = add_action(w, "&Quit", w.close, K.Quit, "Quit ConvStudio")
    w.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    _make_undo_actions(w)
    w.cut_action = add_action(w, "Cu&t", w.cut, K.Cut)
    w.copy_action = add_action(w, "&Copy", w.copy, K.Copy)
    w.paste_action = add_action(w, "&Paste", w.paste, K.Paste)
    w.delete_action = add_action(w, "&Delete", w.delete_selection, K.Delete)
    w.select_all_action = add_action(w, "Select &All", w.select_all, K.SelectAll)
    w.tidy_action = add_action(w, "&Tidy Layout", lambda: w.document.tidy(w.canvas.layout_view()), "Ctrl+L", "Arrange blocks in layers")
    w.fit_action = add_action(w, "&Fit to View", w.canvas.fit_to_view, "Ctrl+0", "Show the whole network")
    w.zoom_in_action = add_action(w, "Zoom &In", w.canvas.zoom_in, K.ZoomIn)
    w.zoom_out_action = add_action(w, "Zoom O&ut", w.canvas.zoom_out, K.ZoomOut)
    w.reset_layout_action = add_action(w, "&Reset Layout", w.reset_layout,
                                       tip="Put the panels back where they started")
    make_extra_actions(w)  # help, rename, diagram export, theme


def _make_undo_actions(w: Any) -> None:
    K = QKeySequence.StandardKey
    w.undo_action = add_action(w, "&Undo", w.document.undo, K.Undo)
    w.redo_action = add_action(w, "&Redo", w.document.redo, K.Redo)
    stack = w.document.undo_stack
    stack.canUndoChanged.connect(w.undo_action.setEnabled)
    stack.canRedoChanged.connect(w.redo_action.setEnabled)
    stack.undoTextChanged.connect(lambda text: w.undo_action.setText(f"&Undo {text}".rstrip()))
    stack.redoTextChanged.connect(lambda text: w.redo_action.setText(f"&Redo {text}".rstrip()))
    w.undo_action.setEnabled(stack.canUndo())
    w.redo_action.setEnabled(stack.canRedo())


def make_menus(w: Any, fill_recent: Callable[[QMenu], None]) -> None:
    """The menu bar; ``fill_recent(menu)`` fills Open Recent each time it opens."""
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(w.new_action)
    file_menu.addAction(w.open_action)
    w.recent_menu = file_menu.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(lambda: fill_recent(w.recent_menu))
    _add_all(file_menu, (None, w.save_action, w.save_as_action, None, w.import_action, w.export_action,
                         w.export_diagram_action, None, w.quit_action))
    edit = bar.addMenu("&Edit")
    _add_all(edit, (w.undo_action, w.redo_action, None, w.cut_action, w.copy_action,
                                    w.paste_action, w.delete_action, None, w.select_all_action, None,
                                    w.tidy_action, w.fit_action))
    view = bar.addMenu("&View")
    _add_all(view, (w.fit_action, w.zoom_in_action, w.zoom_out_action, None))
    _add_all(view, [dock.toggleViewAction() for dock in w.docks.values()])
    _add_all(view, (None, w.reset_layout_action))
    add_extra_menus(w, edit, view, bar.addMenu("&Help"))
    fill_recent(w.recent_menu)


def _add_all(menu: QMenu, actions: Any) -> None:
    for action in actions:
        menu.addSeparator() if action is None else menu.addAction(action)


def update_edit_actions(w: Any, has_selection: bool, editable: bool) -> None:
    """Enable the edit actions for the selection, and only while the network may be edited."""
    for action in (w.cut_action, w.delete_action):
        action.setEnabled(has_selection and editable)
    w.copy_action.setEnabled(has_selection)
    w.paste_action.setEnabled(editable)
    w.tidy_action.setEnabled(editable)
    for action in (w.new_action, w.open_action):
        action.setEnabled(editable)
