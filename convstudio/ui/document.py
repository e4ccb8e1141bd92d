"""The editor's document: one core :class:`Network`, its undo stack, analysis and selection.

Every user edit goes through a method here and becomes one :class:`NetworkCommand` on the undo
stack. Views subscribe to ``network.events`` for structure and to :attr:`analysisChanged` for
shapes and issues; the analysis is recomputed once per command, not once per event.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from convstudio.core.blocks import Fix, get_spec
from convstudio.core.blocks.source import shape_params
from convstudio.core.bridging import join_neighbours, joinable_neighbours
from convstudio.core.events import Emitter
from convstudio.core.layout import tidy_positions
from convstudio.core.network import Network, NetworkError, NetworkEvent
from convstudio.core.shapes import Analysis, analyze

from .commands import MERGE_MOVE, MERGE_PARAM, NetworkCommand

__all__ = ["EditorDocument", "BLOCK_MIME", "CLIPBOARD_MIME", "follow"]

BLOCK_MIME = "application/x-convstudio-block"
"""MIME type of a palette drag; the payload is the block kind, UTF-8."""
CLIPBOARD_MIME = "application/x-convstudio-blocks"
"""MIME type of copied blocks; the payload is the JSON of :meth:`EditorDocument.copy`."""

AUTO_CONNECT_HELP = (
    "Drop on empty space to add a block; if the network ends in a single working block, the new "
    "block is connected below it. Drop on a connection or on a block to insert it there."
)


def follow(emitter: Emitter, method) -> None:
    """Subscribe a QObject's bound ``method`` to a core emitter without keeping the object alive.

    The subscription drops itself once the Python object is gone or its Qt object was deleted,
    so a closed view never receives a network event.
    """
    owner = weakref.ref(method.__self__)
    func = method.__func__

    def callback(event) -> None:
        obj = owner()
        if obj is None or not shiboken6.isValid(obj):
            emitter.disconnect(callback)
            return
        func(obj, event)

    emitter.connect(callback)


class EditorDocument(QObject):
    """The network being edited, with undo, analysis, selection and a lock for training."""

    analysisChanged = Signal(object)
    selectionChanged = Signal(list)
    editRefused = Signal(str)
    modifiedChanged = Signal(bool)
    lockedChanged = Signal(bool)

    def __init__(self, network: Network | None = None, dataset_shape: tuple[int, ...] | None = None,
                 num_classes: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.network = network if network is not None else Network()
        self.dataset_shape = tuple(dataset_shape) if dataset_shape is not None else None
        """The chosen dataset's image shape; the Input block is checked against it (None: no dataset)."""
        self.num_classes = int(num_classes)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._locked = False
        self._lock_reason = ""
        self._selection: list[str] = []
        self._batch_depth = 0
        self._dirty = False
        self.block_heights: Callable[[], dict[str, float] | None] | None = None
        """Set by a canvas: how tall each block is drawn, so tidy keeps tall blocks apart."""
        self.analysis: Analysis = analyze(self.network, None, self.num_classes, self.dataset_shape)
        self.network.events.connect(self._on_network_event)

    def _on_clean_changed(self, clean: bool) -> None:
        self.modifiedChanged.emit(not clean)

    # ----------------------------------------------------------------- analysis

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group network events: the analysis is recomputed once when the outermost batch ends."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._dirty:
                self._reanalyze()

    def _on_network_event(self, event: NetworkEvent) -> None:
        if event.kind == "moved":
            return  # positions do not change shapes
        if event.kind == "reset":
            self.select([])  # ids may now name other blocks
        elif event.kind == "removed":
            self._drop_from_selection()
        elif event.kind == "renamed" and event.old in self._selection:
            self._selection = [event.block_id if i == event.old else i for i in self._selection]
            self.selectionChanged.emit(list(self._selection))
        self._dirty = True
        if self._batch_depth == 0:
            self._reanalyze()

    def _reanalyze(self) -> None:
        self._dirty = False
        self.analysis = analyze(self.network, None, self.num_classes, self.dataset_shape)
        self.analysisChanged.emit(self.analysis)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The image shape the network takes (its Input block's)."""
        return self.analysis.input_shape

    def set_dataset_shape(self, dataset_shape: tuple[int, ...], num_classes: int, adopt: bool = True) -> None:
        """Analyse against a newly chosen dataset; with ``adopt`` the Input block takes its image shape
        (one undoable step), otherwise a different shape is shown as an error with a fix."""
        self.dataset_shape = tuple(dataset_shape)
        self.num_classes = int(num_classes)
        inputs = self.network.input_blocks()
        if adopt and inputs and self.input_shape != self.dataset_shape:
            values = shape_params(self.dataset_shape)
            self._push("Use the dataset's shape", lambda net: net.set_params(inputs[0], values))
        self._reanalyze()

    # ----------------------------------------------------------------- lock and selection

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def lock_reason(self) -> str:
        return self._lock_reason

    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Refuse edits (e.g. while training) with ``reason`` as the message."""
        changed = bool(locked) != self._locked
        self._locked = bool(locked)
        self._lock_reason = reason or "The network cannot be edited right now"
        if changed:
            self.lockedChanged.emit(self._locked)

    def undo(self) -> None:
        """Undo the last edit, unless the document is locked."""
        if not self._refused_by_lock():
            self.undo_stack.undo()

    def redo(self) -> None:
        """Redo the last undone edit, unless the document is locked."""
        if not self._refused_by_lock():
            self.undo_stack.redo()

    def select(self, ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(ids) if i in self.network.blocks]
        if ids != self._selection:
            self._selection = ids
            self.selectionChanged.emit(list(ids))

    def selected_ids(self) -> list[str]:
        return list(self._selection)

    def _drop_from_selection(self) -> None:
        kept = [i for i in self._selection if i in self.network.blocks]
        if kept != self._selection:
            self._selection = kept
            self.selectionChanged.emit(list(kept))

    # ----------------------------------------------------------------- the edit machinery

    def _refused_by_lock(self) -> bool:
        if self._locked:
            self.editRefused.emit(self._lock_reason)
        return self._locked

    def _push(self, text: str, action, merge_id: int = -1, merge_key: Any = None) -> Any:
        """Run ``action`` as one undoable command; returns its result, or None if refused."""
        if self._refused_by_lock():
            return None
        cmd = NetworkCommand(self.network, text, action, self.batch, merge_id, merge_key)
        cmd.redo()
        if cmd.error is not None:
            self.editRefused.emit(_reason(cmd.error))
            return None
        if cmd.changed:
            self.undo_stack.push(_Pushed(cmd))
        return cmd.result

    def apply_edit(self, text: str, action: Callable[[Network], Any]) -> str | None:
        """Run ``action(network)`` as one undoable step named ``text``; the refusal reason, or None."""
        if self._refused_by_lock():
            return self._lock_reason
        cmd = NetworkCommand(self.network, text, action, self.batch)
        cmd.redo()
        if cmd.error is not None:
            reason = _reason(cmd.error)
            self.editRefused.emit(reason)
            return reason
        if cmd.changed:
            self.undo_stack.push(_Pushed(cmd))
        return None

    # ----------------------------------------------------------------- edits

    def add_block(self, kind: str, pos: tuple[float, float] = (0.0, 0.0), params: dict[str, Any] | None = None,
                  connect_from: str | None = None) -> str | None:
        """Add a block of ``kind`` at ``pos``; with ``connect_from``, feed that block into it."""
        label = _label(kind)

        def action(net: Network) -> str:
            bid = net.add_block(kind, params, pos)
            if connect_from is not None:
                net.connect(connect_from, bid)
            return bid

        return self._push(f"Add {label}", action)

    def auto_connect_source(self, kind: str) -> str | None:
        """The block a newly dropped ``kind`` should be connected below, if any.

        The rule: the new block takes inputs, and the network has exactly one block whose output
        goes nowhere, reached from the Input and with a known shape (a chain being extended).
        """
        try:
            spec = get_spec(kind)
        except KeyError:
            return None
        if spec.max_inputs == 0:
            return None
        out = self.analysis.output_id
        if out is None or self.analysis.shape(out) is None or self.network.sinks() != [out]:
            return None
        return out

    def remove_blocks(self, ids: Iterable[str], edges: Iterable[tuple[str, str]] = ()) -> None:
        """Delete blocks (with their connections) and the connections ``edges``, in one step."""
        if self._refused_by_lock():
            return None
        ids = [i for i in dict.fromkeys(ids) if i in self.network.blocks]
        gone = set(ids)
        edges = [(s, d) for s, d in dict.fromkeys(edges) if s not in gone and d not in gone
                 and s in self.network.inputs_of(d)]
        if not ids and not edges:
            return
        if len(ids) + len(edges) == 1:
            text = f"Delete {ids[0]}" if ids else f"Disconnect {edges[0][0]} from {edges[0][1]}"
        else:
            text = f"Delete {len(ids) + len(edges)} items"

        def action(net: Network) -> None:
            for src, dst in edges:
                net.disconnect(src, dst)
            for bid in ids:
                net.remove_block(bid)

        self._push(text, action)

    def joinable_neighbours(self, block_id: str) -> tuple[str, str] | None:
        """The blocks that deleting ``block_id`` could join (see :mod:`convstudio.core.bridging`)."""
        return joinable_neighbours(self.network, block_id, self.input_shape, self.num_classes)

    def delete_and_join(self, block_id: str) -> bool:
        """Delete a block between two blocks and feed the one before into the one after, in one step."""
        done = self._push(f"Delete {block_id} and join its neighbours",
                          lambda net: (join_neighbours(net, block_id), True)[1])
        return bool(done)

    def connect_blocks(self, src: str, dst: str) -> bool:
        """Feed ``src`` into ``dst``; returns whether it was done (refusals emit editRefused)."""
        done = self._push(f"Connect {src} to {dst}", lambda net: (net.connect(src, dst), True)[1])
        return bool(done)

    def disconnect_blocks(self, src: str, dst: str) -> bool:
        done = self._push(f"Disconnect {src} from {dst}", lambda net: (net.disconnect(src, dst), True)[1])
        return bool(done)

    def reconnect(self, src: str, old_dst: str, new_dst: str) -> bool:
        """Move the end of ``src -> old_dst`` to ``new_dst`` in one step."""
        def action(net: Network) -> bool:
            net.disconnect(src, old_dst)
            net.connect(src, new_dst)
            return True

        return bool(self._push(f"Reconnect {src} to {new_dst}", action))

    def set_param(self, block_id: str, name: str, value: Any) -> str | None:
        """Set one parameter; returns the refusal reason, or None when accepted.

        Consecutive changes to the same parameter merge into one undo step.
        """
        if self._refused_by_lock():
            return self._lock_reason
        try:
            block = self.network.block(block_id)
            block.spec.param(name).validate(value)
        except (NetworkError, KeyError, ValueError) as exc:
            reason = _reason(exc)
            self.editRefused.emit(reason)
            return reason
        title = block.spec.param(name).title
        self._push(f"Set {block_id} {title.lower()}", lambda net: net.set_param(block_id, name, value),
                   MERGE_PARAM, (block_id, name))
        return None

    def rename_block(self, block_id: str, new_id: str) -> str | None:
        """Rename a block as one undo step; returns why it was refused, or None."""
        new_id = new_id.strip()
        if self._refused_by_lock():
            return self._lock_reason
        try:
            self.network.block(block_id)
            if new_id != block_id:
                self.network.check_new_id(new_id)
        except NetworkError as exc:
            reason = _reason(exc)
            self.editRefused.emit(reason)
            return reason
        self._push(f"Rename {block_id} to {new_id}", lambda net: net.rename_block(block_id, new_id))
        return None

    def move_blocks(self, positions: dict[str, tuple[float, float]], merge: bool = False) -> None:
        """Move blocks; with ``merge``, consecutive moves of the same blocks are one undo step."""
        if self._refused_by_lock():
            return None
        positions = {b: (float(p[0]), float(p[1])) for b, p in positions.items()
                     if b in self.network.blocks and tuple(self.network.blocks[b].pos) != (float(p[0]), float(p[1]))}
        if not positions:
            return
        text = f"Move {next(iter(positions))}" if len(positions) == 1 else f"Move {len(positions)} blocks"

        def action(net: Network) -> None:
            for bid, pos in positions.items():
                net.move_block(bid, pos)

        self._push(text, action, MERGE_MOVE if merge else -1, tuple(sorted(positions)))

    def insert_between(self, src: str, dst: str, kind: str, params: dict[str, Any] | None = None,
                       spacing: float = 150.0) -> str | None:
        """Put a new ``kind`` block on the connection ``src -> dst``; returns its id.

        If the two blocks sit too close for a block between them, ``dst`` and everything below it
        move down by ``spacing`` (in the same undo step).
        """
        def action(net: Network) -> str:
            a, b = net.block(src).pos, net.block(dst).pos
            if b[1] - a[1] < 2 * spacing:
                pos = (a[0], a[1] + spacing)
                shift = 2 * spacing - (b[1] - a[1])
                for bid in _downstream(net, dst):
                    x, y = net.blocks[bid].pos
                    net.move_block(bid, (x, y + shift))
            else:
                pos = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            return net.insert_between(src, dst, kind, params, pos)

        return self._push(f"Insert {_label(kind)}", action)

    def append_after(self, src: str, kind: str, pos: tuple[float, float] | None = None,
                     params: dict[str, Any] | None = None) -> str | None:
        """Add ``kind`` below ``src`` (or into the chain after it, if ``src`` already feeds a block)."""
        if self._refused_by_lock():
            return None
        outs = self.network.outputs_of(src)
        if outs:
            return self.insert_between(src, outs[0], kind, params)
        if pos is None:
            x, y = self.network.block(src).pos
            pos = (x, y + 150.0)
        return self.add_block(kind, pos, params, connect_from=src)

    def apply_fix(self, block_id: str | None, fix: Fix) -> None:
        from convstudio.core.shapes import apply_fix

        self._push(fix.label, lambda net: apply_fix(net, block_id, fix))

    def tidy(self, view: tuple[float, float] | None = None) -> None:
        """Lay the network out top to bottom (one undo step), wrapped into columns to fit a ``view``
        of that size in pixels when given."""
        if self._refused_by_lock():
            return None
        heights = None
        if self.block_heights is not None:
            heights = self.block_heights()
        self.move_blocks(tidy_positions(self.network, heights=heights, view=view))

    def copy(self, ids: Iterable[str]) -> dict[str, Any]:
        """The blocks ``ids`` and the connections among them, as plain data for :meth:`paste`."""
        ids = [i for i in dict.fromkeys(ids) if i in self.network.blocks]
        chosen = set(ids)
        return {
            "blocks": [self.network.blocks[i].to_dict() for i in ids],
            "edges": [[e.src, e.dst] for e in self.network.edges if e.src in chosen and e.dst in chosen],
        }

    def paste(self, data: dict[str, Any], offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Add copies of ``data``'s blocks (fresh ids) and their connections; selects and returns them."""
        if self._refused_by_lock():
            return []
        try:
            blocks = list(data["blocks"])
            edges = list(data.get("edges", []))
        except (KeyError, TypeError):
            self.editRefused.emit("The clipboard does not hold ConvStudio blocks")
            return []

        def action(net: Network) -> list[str]:
            mapping: dict[str, str] = {}
            for raw in blocks:
                x, y = raw.get("pos", (0.0, 0.0))
                mapping[raw["id"]] = net.add_block(raw["kind"], raw.get("params", {}), (x + offset[0], y + offset[1]))
            for src, dst in edges:
                if src in mapping and dst in mapping:
                    net.connect(mapping[src], mapping[dst])
            return list(mapping.values())

        new = self._push("Paste", action) or []
        if new:
            self.select(new)
        return new

    def replace_network(self, network: Network, text: str) -> str | None:
        """Make the content a copy of ``network`` as one undoable step named ``text`` (blocks keep their
        ids, parameters and places); the refusal reason, or None."""
        def action(net: Network) -> None:
            for bid in list(net.blocks):
                net.remove_block(bid)
            for block in network:
                net.add_block(block.kind, dict(block.params), block.pos, block.id)
            for edge in network.edges:
                net.connect(edge.src, edge.dst)

        return self.apply_edit(text, action)

    def load_network(self, network: Network, clean: bool = True) -> None:
        """Replace the content with ``network`` and clear the undo history.

        With ``clean=False`` the document counts as modified until it is saved.
        """
        with self.batch():
            self.network.replace_with(network)
        self.undo_stack.clear()
        if clean:
            self.undo_stack.setClean()
        else:
            self.undo_stack.resetClean()  # e.g. a recovered autosave: not saved anywhere yet


class _Pushed(QUndoCommand):
    """Wraps an already-run command so ``QUndoStack.push`` does not run it a second time."""

    def __init__(self, cmd: NetworkCommand) -> None:
        super().__init__(cmd.text())
        self.cmd = cmd
        self._first = True

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self.cmd.id()

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.cmd.redo()

    def undo(self) -> None:
        self.cmd.undo()

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if isinstance(other, _Pushed) and self.cmd.mergeWith(other.cmd):
            self.setText(self.cmd.text())
            self.setObsolete(self.cmd.isObsolete())
            return True
        return False


def _downstream(net: Network, start: str) -> list[str]:
    """``start`` and every block it feeds, directly or not."""
    seen: dict[str, None] = {}
    stack = [start]
    while stack:
        bid = stack.pop()
        if bid not in seen:
            seen[bid] = None
            stack.extend(net.outputs_of(bid))
    return list(seen)


def _label(kind: str) -> str:
    try:
        return get_spec(kind).label
    except KeyError:
        return kind


def _reason(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text[:1].upper() + text[1:] if text else "The edit was refused"
