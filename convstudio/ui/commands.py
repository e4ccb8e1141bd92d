"""Undo commands: each user edit is one :class:`QUndoCommand` around one core :class:`Edit`.

The edit (``core/journal.py``) runs once while recording the network's events and undoes and redoes
from that record; the command only adds what Qt's undo stack needs (text, merge ids, batching).
Views never see the commands: they follow ``network.events`` like for any other change.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from PySide6.QtGui import QUndoCommand

from convstudio.core.journal import Action, Edit
from convstudio.core.network import Network

__all__ = ["NetworkCommand", "MERGE_MOVE", "MERGE_PARAM"]

MERGE_PARAM = 1001
MERGE_MOVE = 1002


class NetworkCommand(QUndoCommand):
    """A recorded edit of the network on Qt's undo stack.

    ``action(network)`` performs the edit the first time; its return value is kept in ``result``.
    ``batch`` wraps every run so the document recomputes its analysis once per command.
    ``merge_id``/``merge_key``: consecutive commands with equal ids and keys merge into one step.
    """

    def __init__(self, network: Network, text: str, action: Action,
                 batch: Callable[[], Any] | None = None, merge_id: int = -1, merge_key: Any = None) -> None:
        super().__init__(text)
        self.edit = Edit(network, action)
        self._batch = batch
        self._merge_id = merge_id
        self.merge_key = merge_key

    @property
    def result(self) -> Any:
        return self.edit.result

    @property
    def error(self) -> Exception | None:
        return self.edit.error

    @property
    def changed(self) -> bool:
        """Whether the first run changed anything (a command that did not can be dropped)."""
        return self.edit.changed

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._merge_id

    def redo(self) -> None:
        with self._batched():
            self.edit.redo()

    def undo(self) -> None:
        with self._batched():
            self.edit.undo()

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, NetworkCommand) or other.id() != self.id() or self.id() < 0:
            return False
        if other.merge_key != self.merge_key:
            return False
        self.edit.absorb(other.edit)
        self.setText(other.text())
        if self.edit.is_nothing:
            self.setObsolete(True)
        return True

    def _batched(self):
        return nullcontext() if self._batch is None else self._batch()
