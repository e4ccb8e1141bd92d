"""The network as plain, serializable data: a directed acyclic graph of blocks with stable ids.

Every mutation goes through :class:`Network`'s small API and emits a :class:`NetworkEvent`, so an
undo stack and any number of views can sit on top without the network knowing about them.

Edges are an ordered list (merge inputs keep their order) indexed by source and by target, so
queries and :meth:`Network.connect` do not rescan the list: loading a network is linear in its size.
The list counts its own changes, so code that edits it directly still gets a correct index.
"""

from __future__ import annotations

import copy
import math
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .blocks import BLOCKS, INPUT, get_spec
from .events import Emitter
from .text import brief

__all__ = ["MAX_BLOCKS", "MAX_COORDINATE", "RESERVED_IDS", "Block", "Edge", "EdgeList", "Network", "NetworkError",
           "NetworkEvent"]

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
RESERVED_IDS = frozenset({"output_softmax"})
"""Layer names the Keras builder adds itself; ``__`` is reserved too (``<id>__pad``)."""
MAX_BLOCKS = 50_000
"""The most blocks a serialized network may hold (a large ResNet has a few hundred)."""
MAX_COORDINATE = 1e9
"""Canvas positions are finite and within this distance of the origin."""
_MAX_PARAM_NAME = 64


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


class EdgeList(list):
    """The network's ordered edges; counts its changes so the network knows when its index is stale."""

    changes = 0

    def _changed(self) -> None:
        self.changes += 1

    def append(self, item: Any) -> None:
        super().append(item)
        self._changed()

    def insert(self, index: Any, item: Any) -> None:
        super().insert(index, item)
        self._changed()

    def extend(self, items: Iterable[Any]) -> None:
        super().extend(items)
        self._changed()

    def remove(self, item: Any) -> None:
        super().remove(item)
        self._changed()

    def pop(self, index: Any = -1) -> Any:
        item = super().pop(index)
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, items: Iterable[Any]) -> EdgeList:
        super().__iadd__(items)
        self._changed()
        return self

    def __imul__(self, n: Any) -> EdgeList:
        super().__imul__(n)
        self._changed()
        return self


class _EdgeIndex:
    """Inputs and outputs per block and the set of connected pairs, derived from an :class:`EdgeList`."""

    def __init__(self, edges: EdgeList) -> None:
        self.edges = edges
        self.changes = edges.changes
        self.inputs: dict[str, list[str]] = {}
        self.outputs: dict[str, list[str]] = {}
        self.pairs: dict[tuple[str, str], int] = {}
        for e in edges:
            self.add(e.src, e.dst)

    def current_for(self, edges: EdgeList) -> bool:
        return self.edges is edges and self.changes == edges.changes

    def add(self, src: str, dst: str, index: int | None = None) -> None:
        inputs = self.inputs.setdefault(dst, [])
        inputs.append(src) if index is None else inputs.insert(index, src)
        self.outputs.setdefault(src, []).append(dst)
        self.pairs[(src, dst)] = self.pairs.get((src, dst), 0) + 1

    def remove(self, src: str, dst: str) -> None:
        """Forget the first ``src -> dst`` (as ``list.remove`` drops the first equal edge)."""
        self.inputs[dst].remove(src)
        self.outputs[src].remove(dst)
        left = self.pairs.pop((src, dst)) - 1
        if left:
            self.pairs[(src, dst)] = left


@dataclass(frozen=True)
class NetworkEvent:
    """What changed: ``kind`` is added, removed, connected, disconnected, param_changed, moved, renamed
    (``block_id`` is the new id, ``old`` the previous one) or reset."""

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
    edges: list[Edge] = field(default_factory=EdgeList)

    def __post_init__(self) -> None:
        self.events: Emitter[NetworkEvent] = Emitter()
        self._index_cache: _EdgeIndex | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "edges" and not isinstance(value, EdgeList):
            value = EdgeList(value)
        object.__setattr__(self, name, value)

    def _index(self) -> _EdgeIndex:
        """The edge index, rebuilt only when the edge list changed behind the network's back."""
        index = self._index_cache
        if index is None or not index.current_for(self.edges):  # type: ignore[arg-type]
            index = self._index_cache = _EdgeIndex(self.edges)  # type: ignore[arg-type]
        return index

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
            raise NetworkError(f"there is no block {brief(block_id)}") from None

    def inputs_of(self, block_id: str) -> list[str]:
        """Ids feeding ``block_id``, in input order."""
        return list(self._index().inputs.get(block_id, ()))

    def outputs_of(self, block_id: str) -> list[str]:
        """Ids ``block_id`` feeds, in the order the edges were made."""
        return list(self._index().outputs.get(block_id, ()))

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

    def check_new_id(self, block_id: str) -> None:
        """Raise :class:`NetworkError` unless ``block_id`` is a valid, unused Keras layer name."""
        if not isinstance(block_id, str) or not _ID_RE.fullmatch(block_id):
            raise NetworkError(f"block id {brief(block_id)} must start with a letter and hold only letters, digits "
                               "and _ (at most 63)")
        if block_id in RESERVED_IDS or "__" in block_id:
            raise NetworkError(f"block id {block_id!r} is reserved for layers the builder adds; choose another")
        if block_id in self.blocks:
            raise NetworkError(f"a block with id {block_id!r} already exists")

    # ----------------------------------------------------------------- mutations

    def add_block(self, kind: str, params: dict[str, Any] | None = None, pos: tuple[float, float] = (0.0, 0.0),
                  block_id: str | None = None) -> str:
        """Add a block of ``kind`` with checked ``params``; returns its id."""
        if kind not in BLOCKS:
            raise NetworkError(f"unknown block kind {brief(kind)}")
        spec = get_spec(kind)
        try:
            checked = spec.validate_params(params or {})
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        block_id = block_id or self.new_id(kind)
        self.check_new_id(block_id)
        self.blocks[block_id] = Block(block_id, kind, checked, _position(pos))
        self.events.emit(NetworkEvent("added", block_id))
        return block_id

    def remove_block(self, block_id: str) -> None:
        """Remove a block and every connection to or from it."""
        self.block(block_id)
        index = self._index()
        touching = [Edge(s, block_id) for s in index.inputs.get(block_id, ())]
        touching += [Edge(block_id, d) for d in index.outputs.get(block_id, ())]
        for e in touching:
            self.disconnect(e.src, e.dst)
        del self.blocks[block_id]
        self.events.emit(NetworkEvent("removed", block_id))

    def connect(self, src: str, dst: str, index: int | None = None) -> None:
        """Feed ``src``'s output into ``dst``; ``index`` places it among ``dst``'s inputs."""
        self._check_connection(src, dst)
        if self._reaches(dst, src):
            raise NetworkError(f"connecting {src} to {dst} would make a cycle")
        index = self._add_edge(src, dst, index)
        self.events.emit(NetworkEvent("connected", src=src, dst=dst, index=index))

    def _check_connection(self, src: str, dst: str) -> None:
        """Everything :meth:`connect` checks except cycles (which need a walk of the graph)."""
        self.block(src)
        target = self.block(dst)
        if src == dst:
            raise NetworkError("a block cannot feed itself")
        index = self._index()
        if (src, dst) in index.pairs:
            raise NetworkError(f"{src} already feeds {dst}")
        spec = target.spec
        if len(index.inputs.get(dst, ())) >= spec.max_inputs:
            if spec.max_inputs == 0:
                raise NetworkError(f"{spec.label} takes no inputs")
            raise NetworkError(f"{spec.label} takes at most {spec.max_inputs} input(s); use Add or Concatenate to merge")

    def _add_edge(self, src: str, dst: str, index: int | None = None) -> int:
        """Append or insert ``src -> dst`` keeping the index current; returns its input index."""
        edges, cache = self.edges, self._index()
        count = len(cache.inputs.get(dst, ()))
        if index is None or index >= count:
            edges.append(Edge(src, dst))
            index = None
        else:
            index = max(index, 0)
            at = [i for i, e in enumerate(edges) if e.dst == dst][index]
            edges.insert(at, Edge(src, dst))
        cache.add(src, dst, index)
        cache.changes = edges.changes  # type: ignore[attr-defined]
        return count if index is None else index

    def disconnect(self, src: str, dst: str) -> int:
        """Remove the connection ``src -> dst``; returns the input index it had."""
        inputs = self.inputs_of(dst)
        if src not in inputs:
            raise NetworkError(f"{src} does not feed {dst}")
        index = inputs.index(src)
        cache = self._index()
        self.edges.remove(Edge(src, dst))
        cache.remove(src, dst)
        cache.changes = self.edges.changes  # type: ignore[attr-defined]
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

    def set_params(self, block_id: str, values: dict[str, Any]) -> None:
        """Set several parameters at once: all are checked before any changes."""
        block = self.block(block_id)
        try:
            block.spec.validate_params({**block.params, **values})
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        for name, value in values.items():
            self.set_param(block_id, name, value)

    def move_block(self, block_id: str, pos: tuple[float, float]) -> None:
        block = self.block(block_id)
        old = block.pos
        block.pos = _position(pos)
        self.events.emit(NetworkEvent("moved", block_id, value=block.pos, old=old))

    def rename_block(self, old: str, new: str) -> None:
        """Give block ``old`` the id ``new`` (its Keras layer name), keeping its place, edges and their order."""
        self.block(old)
        if new == old:
            return
        self.check_new_id(new)
        renamed = {(new if bid == old else bid): block for bid, block in self.blocks.items()}
        self.blocks.clear()
        self.blocks.update(renamed)  # in place: holders of the dict see the new id
        self.blocks[new].id = new
        self.edges[:] = [Edge(new if e.src == old else e.src, new if e.dst == old else e.dst) for e in self.edges]
        self.events.emit(NetworkEvent("renamed", new, old=old, value=new))

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

    def replace_with(self, other: Network) -> None:
        """Take ``other``'s blocks and edges (keeping this network's subscribers)."""
        self.blocks = {bid: copy.deepcopy(b) for bid, b in other.blocks.items()}
        self.edges = EdgeList(other.edges)
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
            stack.extend(self._index().outputs.get(node, ()))
        return False

    # ----------------------------------------------------------------- building and serialization

    @classmethod
    def chain(cls, layers: Iterable[tuple[str, dict[str, Any]] | str], spacing: float = 110.0) -> Network:
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

    def copy(self) -> Network:
        """An independent snapshot with no subscribers."""
        return Network.from_dict(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {"blocks": [b.to_dict() for b in self], "edges": [[e.src, e.dst] for e in self.edges]}

    @classmethod
    def from_dict(cls, data: Any) -> Network:
        """Rebuild a network, checking everything; raises :class:`NetworkError` with the reason.

        Linear in the network's size: edges are checked one by one except for cycles, which one
        topological sort finds at the end.
        """
        if not isinstance(data, dict) or not isinstance(data.get("blocks"), list) \
                or not isinstance(data.get("edges", []), list):
            raise NetworkError("the network must have a list of blocks and a list of edges")
        if len(data["blocks"]) > MAX_BLOCKS:
            raise NetworkError(f"it has {len(data['blocks']):,} blocks; ConvStudio opens networks of at most "
                               f"{MAX_BLOCKS:,}")
        net = cls()
        for i, raw in enumerate(data["blocks"]):
            net._add_raw_block(i, raw)
        for raw in data.get("edges", []):
            net._add_raw_edge(raw)
        net._refuse_cycles()
        return net

    def _add_raw_block(self, i: int, raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("kind"), str):
            raise NetworkError(f"block #{i + 1} needs a string id and kind")
        pos, params = raw.get("pos", _ORIGIN), raw.get("params", {})
        problem = _raw_block_problem(pos, params)
        if problem:
            raise NetworkError(f"block {brief(raw['id'])} {problem}")
        try:
            self.add_block(raw["kind"], params, (pos[0], pos[1]), raw["id"])
        except NetworkError as exc:
            raise NetworkError(f"block {brief(raw['id'])}: {exc}") from None

    def _add_raw_edge(self, raw: Any) -> None:
        if not (isinstance(raw, list | tuple) and len(raw) == 2 and all(isinstance(v, str) for v in raw)):
            raise NetworkError(f"invalid edge {brief(raw)}")
        try:
            self._check_connection(raw[0], raw[1])
        except NetworkError as exc:
            raise NetworkError(f"edge {brief(raw[0])[1:-1]} -> {brief(raw[1])[1:-1]}: {exc}") from None
        self._add_edge(raw[0], raw[1])

    def _refuse_cycles(self) -> None:
        """Raise, naming the edge that closes a cycle, when the edges do not flow one way."""
        _, cyclic = self.topological_order()
        if not cyclic:
            return
        # Every block left by the sort has an input among the others: walking inputs must loop.
        inputs = self._index().inputs
        path, seen, bid = [], {}, next(iter(cyclic))
        while bid not in seen:
            seen[bid] = len(path)
            path.append(bid)
            bid = next(s for s in inputs[bid] if s in cyclic)
        loop = path[seen[bid]:]  # each block is fed by the next one
        position = {(e.src, e.dst): i for i, e in enumerate(self.edges)}
        closing = [(loop[(k + 1) % len(loop)], loop[k]) for k in range(len(loop))]
        src, dst = max(closing, key=position.__getitem__)
        raise NetworkError(f"edge {src} -> {dst}: connecting {src} to {dst} would make a cycle")


_ORIGIN = (0.0, 0.0)


def _raw_block_problem(pos: Any, params: Any) -> str | None:
    """What is wrong with a serialized block's position or parameter mapping, if anything."""
    if not (isinstance(pos, list | tuple) and len(pos) == 2 and type(pos[0]) in (int, float)
            and type(pos[1]) in (int, float)):
        return "has an invalid position"
    if not isinstance(params, dict):
        return "has invalid parameters"
    if params and max(map(len, params)) > _MAX_PARAM_NAME:
        return f"has a parameter name longer than {_MAX_PARAM_NAME} characters"
    return None


def _position(pos: Any) -> tuple[float, float]:
    """``pos`` as two finite floats within :data:`MAX_COORDINATE` of the origin."""
    try:
        x, y = float(pos[0]), float(pos[1])
    except (TypeError, ValueError, OverflowError, IndexError):
        raise NetworkError(f"a position must be two numbers, not {brief(pos)}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > MAX_COORDINATE:
        raise NetworkError(f"a position must be two finite numbers within {MAX_COORDINATE:g} of the origin, "
                           f"not {brief(tuple(pos))}")
    return x, y
