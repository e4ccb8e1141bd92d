"""Undo commands: each user edit is one :class:`QUndoCommand` that only calls the core network.

A :class:`NetworkCommand` runs its edit once while recording the network's events, then undoes
by applying the inverse of each event in reverse order and redoes by replaying them. Views never
see the commands: they follow ``network.events`` like for any other change. After undo and redo
the order of blocks and edges is put back too, so ``network.to_dict()`` is restored exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from convstudio.core.network import Edge, Network, NetworkEvent

__all__ = ["NetworkCommand", "MERGE_MOVE", "MERGE_PARAM"]

MERGE_PARAM = 1001
MERGE_MOVE = 1002

Action = Callable[[Network], Any]


class _Step:
    """One recorded event plus what is needed to replay it (a block's data for ``added``)."""

    __slots__ = ("event", "block")

    def __init__(self, event: NetworkEvent, block: dict[str, Any] | None = None) -> None:
        self.event = event
        self.block = block


class NetworkCommand(QUndoCommand):
    """A recorded edit of the network.

    ``action(network)`` performs the edit the first time; its return value is kept in ``result``.
    ``batch`` wraps every run so the document recomputes its analysis once per command.
    ``merge_id``/``merge_key``: consecutive commands with equal ids and keys merge into one step.
    """

    def __init__(self, network: Network, text: str, action: Action,
                 batch: Callable[[], Any] | None = None, merge_id: int = -1, merge_key: Any = None) -> None:
        super().__init__(text)
        self._network = network
        self._action: Action | None = action
        self._batch = batch
        self._merge_id = merge_id
        self.merge_key = merge_key
        self._steps: list[_Step] = []
        self._before: tuple[list[str], list[Edge]] | None = None
        self._after: tuple[list[str], list[Edge]] | None = None
        self.result: Any = None
        self.error: Exception | None = None

    # ----------------------------------------------------------------- QUndoCommand

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._merge_id

    def redo(self) -> None:
        with self._batched():
            if self._action is not None:
                self._record()
            else:
                for step in self._steps:
                    _replay(self._network, step)
                self._restore(self._after)

    def undo(self) -> None:
        with self._batched():
            for step in reversed(self._steps):
                _invert(self._network, step.event, step.block)
            self._restore(self._before)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, NetworkCommand) or other.id() != self.id() or self.id() < 0:
            return False
        if other.merge_key != self.merge_key:
            return False
        self._steps.extend(other._steps)
        self._after = other._after
        self.setText(other.text())
        if self._before == self._after and _net_effect_is_nothing(self._steps):
            self.setObsolete(True)
        return True

    @property
    def changed(self) -> bool:
        """Whether the first run changed anything (a command that did not can be dropped)."""
        return bool(self._steps)

    # ----------------------------------------------------------------- internals

    def _batched(self):
        if self._batch is None:
            from contextlib import nullcontext

            return nullcontext()
        return self._batch()

    def _record(self) -> None:
        net = self._network
        self._before = (list(net.blocks), list(net.edges))

        def listen(event: NetworkEvent) -> None:
            block = None
            if event.kind == "added" and event.block_id in net.blocks:
                block = net.blocks[event.block_id].to_dict()
            self._steps.append(_Step(event, block))

        pre_blocks = {bid: b.to_dict() for bid, b in net.blocks.items()}
        net.events.connect(listen)
        try:
            self.result = self._action(net)
        except Exception as exc:  # noqa: BLE001 - rolled back and reported by the document
            self.error = exc
        finally:
            net.events.disconnect(listen)
            self._action = None
        # A removed block's data comes from before the edit or from its own "added" step.
        known = dict(pre_blocks)
        for step in self._steps:
            if step.event.kind == "added" and step.block is not None:
                known[step.event.block_id] = step.block
            elif step.event.kind == "param_changed" and step.event.block_id in known:
                known[step.event.block_id]["params"][step.event.name] = step.event.value
            elif step.event.kind == "moved" and step.event.block_id in known:
                known[step.event.block_id]["pos"] = list(step.event.value)
            elif step.event.kind == "removed":
                step.block = known.get(step.event.block_id)
        if self.error is not None:
            for step in reversed(self._steps):
                _invert(net, step.event, step.block)
            self._restore(self._before)
            self._steps = []
        self._after = (list(net.blocks), list(net.edges))

    def _restore(self, order: tuple[list[str], list[Edge]] | None) -> None:
        if order is None:
            return
        net = self._network
        blocks, edges = order
        if list(net.blocks) != blocks and set(net.blocks) == set(blocks):
            reordered = {bid: net.blocks[bid] for bid in blocks}
            net.blocks.clear()
            net.blocks.update(reordered)
        if net.edges != edges and sorted((e.src, e.dst) for e in net.edges) == sorted((e.src, e.dst) for e in edges):
            net.edges[:] = edges


def _replay(net: Network, step: _Step) -> None:
    e = step.event
    if e.kind == "added":
        b = step.block or {}
        net.add_block(b["kind"], b["params"], tuple(b["pos"]), e.block_id)
    elif e.kind == "removed":
        net.remove_block(e.block_id)
    elif e.kind == "connected":
        net.connect(e.src, e.dst, e.index)
    elif e.kind == "disconnected":
        net.disconnect(e.src, e.dst)
    elif e.kind == "param_changed":
        net.set_param(e.block_id, e.name, e.value)
    elif e.kind == "moved":
        net.move_block(e.block_id, e.value)


def _invert(net: Network, e: NetworkEvent, block: dict[str, Any] | None = None) -> None:
    if e.kind == "added":
        net.remove_block(e.block_id)
    elif e.kind == "removed":
        if block is None:
            raise RuntimeError(f"cannot restore block {e.block_id}: its data was not recorded")
        net.add_block(block["kind"], block["params"], tuple(block["pos"]), e.block_id)
    elif e.kind == "connected":
        net.disconnect(e.src, e.dst)
    elif e.kind == "disconnected":
        net.connect(e.src, e.dst, e.index)
    elif e.kind == "param_changed":
        net.set_param(e.block_id, e.name, e.old)
    elif e.kind == "moved":
        net.move_block(e.block_id, e.old)


def _net_effect_is_nothing(steps: list[_Step]) -> bool:
    """True when a merged run of param changes or moves ends where it started."""
    first: dict[tuple, Any] = {}
    last: dict[tuple, Any] = {}
    for s in steps:
        e = s.event
        if e.kind not in ("param_changed", "moved"):
            return False
        key = (e.kind, e.block_id, e.name)
        first.setdefault(key, e.old)
        last[key] = e.value
    return all(first[k] == last[k] and type(first[k]) is type(last[k]) for k in first)
