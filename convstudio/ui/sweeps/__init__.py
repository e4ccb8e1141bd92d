"""Sweeps in the window: Training > Sweep... opens :class:`SweepDialog` on the network in the editor.

- :mod:`.axes`: the form (learning rates, batch sizes, block parameters, grid or random).
- :mod:`.results`: the sortable trial table and the plot of each trial's best validation accuracy.
- :mod:`.dialog`: :class:`SweepDialog`, which runs the core's sweep in a worker and applies a trial.
"""

from __future__ import annotations

from typing import Any

from ..action import add_action
from ..training_menu import training_menu
from .dialog import SweepDialog

__all__ = ["SweepDialog", "add_sweep_menu", "open_sweep_dialog", "training_menu"]


def open_sweep_dialog(w: Any) -> SweepDialog:
    """Show the sweep dialog for the network in the editor (one at a time, window-modal)."""
    from .axes import sweep_choices

    dialog = getattr(w, "sweep_dialog", None)  # kept with its results while the blocks stay the same
    if dialog is None or (not dialog.is_running and dialog.form.targets != sweep_choices(w.document.network)):
        if dialog is not None:
            dialog.deleteLater()
        dialog = SweepDialog(w.document, w.training_panel, w.controller, w)
        w.sweep_dialog = dialog
    dialog.open()
    return dialog


def add_sweep_menu(w: Any) -> None:
    """Training > Sweep... on window ``w`` (which has ``document``, ``training_panel`` and ``controller``)."""
    w.sweep_action = add_action(w, "S&weep...", lambda: open_sweep_dialog(w), None,
                                "Try several learning rates, batch sizes or block parameters, one run each")
    training_menu(w).addAction(w.sweep_action)
