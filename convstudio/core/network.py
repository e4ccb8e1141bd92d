"""The network as plain, serializable data: a directed acyclic graph of blocks with stable ids.

Every mutation goes through :class:`Network`'s small API and emits a :class:`NetworkEvent`, so an
undo stack and any number of views can sit on top without the network knowing about them.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .blocks import BLOCKS, INPUT, get_spec
from .events import Emitter

__all__ = ["RESERVED_IDS", "Block", "Edge", "Network", "NetworkError", "NetworkEvent"]

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
RESERVED_IDS = frozenset({"output_softmax"})
"""Layer names the Keras builder adds itself; ``__`` is reserved too (``<id>__pad``)."""


class NetworkError(ValueError):
    """A mutation or a serialized network that cannot be accepted; the message says why."""


@dataclass
class Block:
    """One block: a stable id, its kind, its checked parameters and its canvas position."""

    id: str
    kind: str
    params: dict[str, Any]
    pos: tuple[float, float] = (0.0, 0.0)

    @property
    def spec(self):
        return get_spec(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": dict(self.params), "pos": [self.pos[0], self.pos[1]]}


@dataclass(frozen=True)
class Edge:
    """A connection from ``src``'s output to one of ``dst``'s inputs."""

    src: str
    dst: str


@dataclass(frozen=True)
class NetworkEvent:
    """What changed: ``kind`` is added, removed, connected, disconnected, param_changed, moved or reset."""

    kind: str
    block_id: str | None = None
    src: str | None = None
    dst: str | None = None
    name: str | None = None
    value: Any = None
    old: Any = None
    index: int | None = None


@dataclass
class Network:
    """A graph of blocks; edges are kept in order so merge inputs keep their order."""

    blocks: dict[str, Block] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events: Emitter[NetworkEvent] = Emitter()

    # ----------------------------------------------------------------- queries

    def __contains__(self, block_id: object) -> bool:
        return block_id in self.blocks

    def __iter__(self) -> Iterator[Block]:
        return iter(self.blocks.values())

    def __len__(self) -> int:
        return len(self.blocks)

    def block(self, block_id: str) -> Block:
        try:
            return self.blocks[block_id]
        except KeyError:
            raise NetworkError(f"there is no block {block_id!r}") from None

    def inputs_of(self, block_id: str) -> list[str]:
        """Ids feeding ``block_id``, in input order."""
        return [e.src for e in self.edges if e.dst == block_id]

    def outputs_of(self, block_id: str) -> list[str]:
        return [e.dst for e in self.edges if e.src == block_id]

    def input_blocks(self) -> list[str]:
        return [b.id for b in self if b.kind == INPUT.kind]

    def sinks(self) -> list[str]:
        """Blocks whose output goes nowhere (candidates for the network's output)."""
        used = {e.src for e in self.edges}
        return [b.id for b in self if b.id not in used]

    def topological_order(self) -> tuple[list[str], set[str]]:
        """Block ids in dependency order, and the set of ids that sit on or after a cycle."""
        indegree = {bid: 0 for bid in self.blocks}
        successors: dict[str, list[str]] = {bid: [] for bid in self.blocks}
        for e in self.edges:
            indegree[e.dst] += 1
            successors[e.src].append(e.dst)
        ready = deque(bid for bid in self.blocks if indegree[bid] == 0)
        order: list[str] = []
        while ready:
            bid = ready.popleft()
            order.append(bid)
            for dst in successors[bid]:
                indegree[dst] -= 1
                if indegree[dst] == 0:
                    ready.append(dst)
        return order, set(self.blocks) - set(order)

    def new_id(self, kind: str) -> str:
        """A fresh id such as ``conv2d_3`` that is a valid Keras layer name."""
        stem = re.sub(r"[^a-z0-9]+", "_", kind.lower()).strip("_") or "block"
        n = 1
        while f"{stem}_{n}" in self.blocks:
            n += 1
        return f"{stem}_{n}"

    # ----------------------------------------------------------------- mutations

    def add_block(self, kind: str, params: dict[str, Any] | None = None, pos: tuple[float, float] = (0.0, 0.0),
                  block_id: str | None = None) -> str:
        """Add a block of ``kind`` with checked ``params``; returns its id."""
        if kind not in BLOCKS:
            raise NetworkError(f"unknown block kind {kind!r}")
        spec = get_spec(kind)
        try:
            checked = spec.validate_params(params or {})
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        block_id = block_id or self.new_id(kind)
        if not _ID_RE.match(block_id):
            raise NetworkError(f"block id {block_id!r} must start with a letter and hold only letters, digits and _")
        if block_id in RESERVED_IDS or "__" in block_id:
            raise NetworkError(f"block id {block_id!r} is reserved for layers the builder adds; choose another")
        if block_id in self.blocks:
            raise NetworkError(f"a block with id {block_id!r} already exists")
        self.blocks[block_id] = Block(block_id, kind, checked, (float(pos[0]), float(pos[1])))
        self.events.emit(NetworkEvent("added", block_id))
        return block_id

    def remove_block(self, block_id: str) -> None:
        """Remove a block and every connection to or from it."""
        self.block(block_id)
        for e in [e for e in self.edges if block_id in (e.src, e.dst)]:
            self.disconnect(e.src, e.dst)
        del self.blocks[block_id]
        self.events.emit(NetworkEvent("removed", block_id))

    def connect(self, src: str, dst: str, index: int | None = None) -> None:
        """Feed ``src``'s output into ``dst``; ``index`` places it among ``dst``'s inputs."""
        self.block(src)
        target = self.block(dst)
        if src == dst:
            raise NetworkError("a block cannot feed itself")
        if Edge(src, dst) in self.edges:
            raise NetworkError(f"{src} already feeds {dst}")
        spec = target.spec
        if len(self.inputs_of(dst)) >= spec.max_inputs:
            if spec.max_inputs == 0:
                raise NetworkError(f"{spec.label} takes no inputs")
            raise NetworkError(f"{spec.label} takes at most {spec.max_inputs} input(s); use Add or Concatenate to merge")
        if self._reaches(dst, src):
            raise NetworkError(f"connecting {src} to {dst} would make a cycle")
        edge = Edge(src, dst)
        siblings = [i for i, e in enumerate(self.edges) if e.dst == dst]
        if index is None or index >= len(siblings):
            self.edges.append(edge)
            index = len(siblings)
        else:
            index = max(index, 0)
            self.edges.insert(siblings[index], edge)
        self.events.emit(NetworkEvent("connected", src=src, dst=dst, index=index))

    def disconnect(self, src: str, dst: str) -> int:
        """Remove the connection ``src -> dst``; returns the input index it had."""
        inputs = self.inputs_of(dst)
        if src not in inputs:
            raise NetworkError(f"{src} does not feed {dst}")
        index = inputs.index(src)
        self.edges.remove(Edge(src, dst))
        self.events.emit(NetworkEvent("disconnected", src=src, dst=dst, index=index))
        return index

    def set_param(self, block_id: str, name: str, value: Any) -> Any:
        """Set one parameter, checked against its spec; returns the old value."""
        block = self.block(block_id)
        try:
            checked = block.spec.param(name).validate(value)
        except (KeyError, ValueError) as exc:
            raise NetworkError(str(exc.args[0]) if exc.args else str(exc)) from None
        old = block.params[name]
        if old == checked and type(old) is type(checked):
            return old
        block.params[name] = checked
        self.events.emit(NetworkEvent("param_changed", block_id, name=name, value=checked, old=old))
        return old

    def move_block(self, block_id: str, pos: tuple[float, float]) -> None:
        block = self.block(block_id)
        old = block.pos
        block.pos = (float(pos[0]), float(pos[1]))
        self.events.emit(NetworkEvent("moved", block_id, value=block.pos, old=old))

    def insert_between(self, src: str, dst: str, kind: str, params: dict[str, Any] | None = None,
                       pos: tuple[float, float] | None = None) -> str:
        """Replace ``src -> dst`` with ``src -> new -> dst``; returns the new block's id."""
        if src not in self.inputs_of(dst):
            raise NetworkError(f"{src} does not feed {dst}")
        if kind in BLOCKS and get_spec(kind).max_inputs < 1:
            raise NetworkError(f"{get_spec(kind).label} takes no inputs, so it cannot go between two blocks")
        if pos is None:
            a, b = self.block(src).pos, self.block(dst).pos
            pos = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        new = self.add_block(kind, params, pos)
        index = self.disconnect(src, dst)
        self.connect(src, new)
        self.connect(new, dst, index)
        return new

    def clear(self) -> None:
        self.blocks.clear()
        self.edges.clear()
        self.events.emit(NetworkEvent("reset"))

    def replace_with(self, other: "Network") -> None:
        """Take ``other``'s blocks and edges (keeping this network's subscribers)."""
        self.blocks = {bid: copy.deepcopy(b) for bid, b in other.blocks.items()}
        self.edges = list(other.edges)
        self.events.emit(NetworkEvent("reset"))

    def _reaches(self, start: str, goal: str) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node in seen:
                continue
            seen.add(node)
            stack.extend(self.outputs_of(node))
        return False

    # ----------------------------------------------------------------- building and serialization

    @classmethod
    def chain(cls, layers: Iterable[tuple[str, dict[str, Any]] | str], spacing: float = 110.0) -> "Network":
        """A straight pipeline of ``kind`` or ``(kind, params)`` items, each fed by the one before."""
        net = cls()
        prev = None
        for i, item in enumerate(layers):
            kind, params = (item, {}) if isinstance(item, str) else item
            bid = net.add_block(kind, params, (0.0, i * spacing))
            if prev is not None:
                net.connect(prev, bid)
            prev = bid
        return net

    def copy(self) -> "Network":
        """An independent snapshot with no subscribers."""
        return Network.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {"blocks": [b.to_dict() for b in self], "edges": [[e.src, e.dst] for e in self.edges]}

    @classmethod
    def from_dict(cls, data: Any) -> "Network":
        """Rebuild a network, checking everything; raises :class:`NetworkError` with the reason."""
        if not isinstance(data, dict) or not isinstance(data.get("blocks"), list) \
                or not isinstance(data.get("edges", []), list):
            raise NetworkError("the network must have a list of blocks and a list of edges")
        net = cls()
        for i, raw in enumerate(data["blocks"]):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("kind"), str):
                raise NetworkError(f"block #{i + 1} needs a string id and kind")
            pos = raw.get("pos", [0, 0])
            if not (isinstance(pos, list | tuple) and len(pos) == 2
                    and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)):
                raise NetworkError(f"block {raw['id']!r} has an invalid position")
            params = raw.get("params", {})
            if not isinstance(params, dict):
                raise NetworkError(f"block {raw['id']!r} has invalid parameters")
            try:
                net.add_block(raw["kind"], params, (pos[0], pos[1]), raw["id"])
            except NetworkError as exc:
                raise NetworkError(f"block {raw['id']!r}: {exc}") from None
        for raw in data.get("edges", []):
            if not (isinstance(raw, list | tuple) and len(raw) == 2 and all(isinstance(v, str) for v in raw)):
                raise NetworkError(f"invalid edge {raw!r}")
            try:
                net.connect(raw[0], raw[1])
            except NetworkError as exc:
                raise NetworkError(f"edge {raw[0]} -> {raw[1]}: {exc}") from None
        return net
