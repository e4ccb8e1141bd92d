"""Delete the selection; a single block between two blocks may leave no gap (its neighbours are joined)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from . import dialogs

__all__ = ["ask_join", "delete_selection"]


def ask_join(parent: QWidget | None, block_id: str, src: str, dst: str) -> str:
    """Ask whether deleting ``block_id`` joins ``src`` to ``dst``: ``"join"``, ``"gap"`` or ``"cancel"``."""
    B = QMessageBox.StandardButton
    answer = dialogs.ask(parent, "Delete block", f"{block_id} sits between {src} and {dst}. Connect {src} to "
                         f"{dst} after deleting it, so the chain has no gap?", B.Yes | B.No | B.Cancel, B.Yes,
                         {B.Yes: "Delete and connect", B.No: "Only delete"})
    return {B.Yes: "join", B.No: "gap"}.get(answer, "cancel")


def delete_selection(parent: QWidget | None, document: Any, ids: Iterable[str],
                     edges: Iterable[tuple[str, str]] = (),
                     ask: Callable[[QWidget | None, str, str, str], str] | None = None) -> None:
    """Delete blocks and connections as one undo step; offers to join the neighbours of a lone block."""
    ids, edges = list(ids), list(edges)
    pair = document.joinable_neighbours(ids[0]) if len(ids) == 1 and not edges and not document.locked else None
    if pair is None:
        document.remove_blocks(ids, edges)
        return
    choice = (ask or ask_join)(parent, ids[0], *pair)
    if choice == "join":
        document.delete_and_join(ids[0])
    elif choice == "gap":
        document.remove_blocks(ids, edges)
