"""The undo journal: one network edit, recorded from its events, that can be undone and redone.

An :class:`Edit` runs an action on the network once while recording the network's events; undo
applies the inverse of each event in reverse order and redo replays them. Block and edge order are
put back too, so ``network.to_dict()`` is restored exactly. The Qt undo stack wraps an edit in a thin
command (``ui/commands.py``); nothing here knows about Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .network import Edge, Network, NetworkEvent

__all__ = ["Action", "Edit", "Step", "invert", "net_effect_is_nothing", "replay", "restore_order"]

Action = Callable[[Network], Any]
Order = tuple[list[str], list[Edge]]


class Step:
    """One recorded event plus what is needed to replay it (a block's data for ``added``/``removed``)."""

    __slots__ = ("event", "block")

    def __init__(self, event: NetworkEvent, block: dict[str, Any] | None = None) -> None:
        self.event = event
        self.block = block


class Edit:
    """A recorded edit of ``network``.

    ``action(network)`` performs the edit on the first :meth:`redo`; its return value is kept in
    ``result``. An action that raises is rolled back and its exception kept in ``error``.
    """

    def __init__(self, network: Network, action: Action) -> None:
        self.network = network
        self._action: Action | None = action
        self.steps: list[Step] = []
        self.before: Order | None = None
        self.after: Order | None = None
        self.result: Any = None
        self.error: Exception | None = None

    @property
    def changed(self) -> bool:
        """Whether the edit changed anything (one that did not can be dropped)."""
        return bool(self.steps)

    @property
    def is_nothing(self) -> bool:
        """True when the edit (after merging) leaves the network as it found it."""
        return self.before == self.after and net_effect_is_nothing(self.steps)

    def redo(self) -> None:
        """Run the action the first time, replay the recorded steps afterwards."""
        if self._action is not None:
            self._record()
            return
        for step in self.steps:
            replay(self.network, step)
        restore_order(self.network, self.after)

    def undo(self) -> None:
        for step in reversed(self.steps):
            invert(self.network, step.event, step.block)
        restore_order(self.network, self.before)

    def absorb(self, later: Edit) -> None:
        """Append ``later`` (which ran right after this edit) so both undo as one step."""
        self.steps.extend(later.steps)
        self.after = later.after

    def _record(self) -> None:
        net, action = self.network, self._action
        assert action is not None
        self.before = (list(net.blocks), list(net.edges))
        pre_blocks = {bid: b.to_dict() for bid, b in net.blocks.items()}

        def listen(event: NetworkEvent) -> None:
            block = None
            if event.kind == "added" and event.block_id in net.blocks:
                block = net.blocks[event.block_id].to_dict()
            self.steps.append(Step(event, block))

        net.events.connect(listen)
        try:
            self.result = action(net)
        except Exception as exc:  # noqa: BLE001 - rolled back here, reported by the caller
            self.error = exc
        finally:
            net.events.disconnect(listen)
            self._action = None
        _fill_removed_blocks(self.steps, pre_blocks)
        if self.error is not None:
            for step in reversed(self.steps):
                invert(net, step.event, step.block)
            restore_order(net, self.before)
            self.steps = []
        self.after = (list(net.blocks), list(net.edges))


def _fill_removed_blocks(steps: list[Step], known: dict[str, dict[str, Any]]) -> None:
    """Give each ``removed`` step the block's data as it was just before (from before the edit, or
    from its own ``added`` step and the changes since), so undo can put it back."""
    for step in steps:
        e = step.event
        if e.kind == "added" and step.block is not None:
            known[e.block_id] = step.block
        elif e.kind == "param_changed" and e.block_id in known:
            known[e.block_id]["params"][e.name] = e.value
        elif e.kind == "moved" and e.block_id in known:
            known[e.block_id]["pos"] = list(e.value)
        elif e.kind == "renamed" and e.old in known:
            known[e.block_id] = dict(known.pop(e.old), id=e.block_id)
        elif e.kind == "removed":
            step.block = known.get(e.block_id)


def restore_order(net: Network, order: Order | None) -> None:
    """Put blocks and edges back in ``order`` when they are the same set in another order."""
    if order is None:
        return
    blocks, edges = order
    if list(net.blocks) != blocks and set(net.blocks) == set(blocks):
        reordered = {bid: net.blocks[bid] for bid in blocks}
        net.blocks.clear()
        net.blocks.update(reordered)
    if net.edges != edges and sorted((e.src, e.dst) for e in net.edges) == sorted((e.src, e.dst) for e in edges):
        net.edges[:] = edges


def replay(net: Network, step: Step) -> None:
    """Apply a recorded step again."""
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
    elif e.kind == "renamed":
        net.rename_block(e.old, e.block_id)


def invert(net: Network, e: NetworkEvent, block: dict[str, Any] | None = None) -> None:
    """Apply the inverse of event ``e`` (``block``: the data of a removed block)."""
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
    elif e.kind == "renamed":
        net.rename_block(e.block_id, e.old)


def net_effect_is_nothing(steps: list[Step]) -> bool:
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
