"""Shape inference and validation: instant, pure Python, never a traceback.

:func:`analyze` walks the graph once in topological order and returns, per block, its output
shape, parameter count, multiply-accumulates and activation memory, or an :class:`Issue` saying
why the block cannot work and, where possible, a :class:`~convstudio.core.blocks.Fix`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .blocks import FLOAT_BYTES, INPUT, BlockSpec, Fix, Inference, Shape, ShapeError, get_spec, output_issue
from .blocks.source import input_shape_of, shape_params
from .network import Network, NetworkError

__all__ = ["DEFAULT_INPUT_SHAPE", "Analysis", "BlockInfo", "Issue", "analyze", "apply_fix", "format_shape",
           "network_input_shape"]

DEFAULT_INPUT_SHAPE: Shape = (28, 28, 1)
"""The shape of a network without an Input block (and of old projects' Input blocks)."""


@dataclass(frozen=True)
class Issue:
    """A problem found by validation. ``block_id`` is None for network-wide problems.

    ``severity`` is ``"error"``, ``"warning"`` or ``"hint"``: a hint is the next step of a network
    that is not finished yet (an empty canvas, a lone Input block). Like an error it keeps the
    network from training, but it is guidance and is shown as such, never as a fault.
    """

    block_id: str | None
    message: str
    severity: str = "error"
    fix: Fix | None = None


@dataclass(frozen=True)
class BlockInfo:
    """What inference knows about one block; ``shape`` is None when it cannot be known."""

    block_id: str
    shape: Shape | None
    params: int = 0
    trainable_params: int = 0
    macs: int = 0

    @property
    def activation_bytes(self) -> int:
        return math.prod(self.shape) * FLOAT_BYTES if self.shape else 0


@dataclass
class Analysis:
    """The result of :func:`analyze`."""

    input_shape: Shape
    num_classes: int
    order: list[str] = field(default_factory=list)
    info: dict[str, BlockInfo] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    output_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Issue]:
        """The issues that keep the network from training: errors and hints (the next step)."""
        return [i for i in self.issues if i.severity in ("error", "hint")]

    def issues_for(self, block_id: str) -> list[Issue]:
        return [i for i in self.issues if i.block_id == block_id]

    def shape(self, block_id: str) -> Shape | None:
        info = self.info.get(block_id)
        return info.shape if info else None

    @property
    def total_params(self) -> int:
        return sum(i.params for i in self.info.values())

    @property
    def trainable_params(self) -> int:
        return sum(i.trainable_params for i in self.info.values())

    @property
    def total_macs(self) -> int:
        return sum(i.macs for i in self.info.values())

    @property
    def activation_bytes(self) -> int:
        return sum(i.activation_bytes for i in self.info.values())


def format_shape(shape: Shape | None) -> str:
    """``(28, 28, 1)`` as ``28x28x1``; unknown as ``?``."""
    return "x".join(str(s) for s in shape) if shape else "?"


def network_input_shape(network: Network) -> Shape:
    """The image shape the network's (first) Input block declares; 28x28x1 without one."""
    inputs = network.input_blocks()
    return input_shape_of(network.blocks[inputs[0]].params) if inputs else DEFAULT_INPUT_SHAPE


def analyze(network: Network, input_shape: Shape | None = None, num_classes: int = 10,
            dataset_shape: Shape | None = None) -> Analysis:
    """Infer every block's output and check the whole network for problems.

    The images' shape is the Input block's own (``input_shape``, when given, stands in for it).
    ``dataset_shape``: the shape of the chosen dataset's images; when the Input block differs, it is
    an error on the Input block with the one-click fix "use the dataset's shape".
    """
    shape = tuple(input_shape) if input_shape is not None else network_input_shape(network)
    result = Analysis(shape, num_classes)
    order, cyclic = network.topological_order()
    result.order = order
    if not len(network):
        result.issues.append(Issue(None, "The network is empty: drag an Input block onto the canvas to start",
                                   severity="hint"))
        return result
    _check_structure(network, cyclic, result.issues)
    if dataset_shape is not None:
        _check_dataset_shape(network, shape, tuple(dataset_shape), result.issues)
    feeds: dict[str, list[str]] = {bid: [] for bid in network.blocks}
    for e in network.edges:
        feeds[e.dst].append(e.src)
    inputs = network.input_blocks()
    for bid in order:
        result.info[bid] = _infer_block(network, bid, feeds[bid], inputs[0] if inputs else None, result)
    for bid in cyclic:
        result.info[bid] = BlockInfo(bid, None)
    _check_output(network, result)
    return result


def _check_structure(network: Network, cyclic: set[str], issues: list[Issue]) -> None:
    """Cycles, and exactly one Input block."""
    if cyclic:
        looped = _on_a_cycle(network, cyclic)
        names = ", ".join(sorted(looped))
        for bid in sorted(looped):
            issues.append(Issue(bid, f"This block is part of a cycle ({names}); a network must flow one way"))
    inputs = network.input_blocks()
    if not inputs:
        issues.append(Issue(None, "The network has no Input block; add one at the top",
                            fix=Fix("Add an Input block", "append", {"kind": INPUT.kind, "params": {}})))
    for extra in inputs[1:]:
        issues.append(Issue(extra, f"Only one Input block is allowed; {inputs[0]} is already the input"))


def _check_dataset_shape(network: Network, shape: Shape, dataset_shape: Shape, issues: list[Issue]) -> None:
    """The Input block must take the dataset's images as they are."""
    inputs = network.input_blocks()
    if not inputs or shape == dataset_shape:
        return
    issues.append(Issue(
        inputs[0],
        f"The dataset's images are {format_shape(dataset_shape)} but the Input block takes {format_shape(shape)}; "
        "use the dataset's shape or choose another dataset",
        fix=Fix("Use the dataset's shape", "set_params", {"values": shape_params(dataset_shape)}),
    ))


def _wiring_problem(spec: BlockSpec, srcs: list[str]) -> str | None:
    """Why a block's number of inputs is wrong, if it is."""
    if spec.min_inputs <= len(srcs) <= spec.max_inputs:
        return None
    if not srcs:
        return f"{spec.label} is not connected: drag from a block's output port to this block"
    if len(srcs) < spec.min_inputs:
        return f"{spec.label} needs at least {spec.min_inputs} inputs, it has {len(srcs)}"
    return (f"{spec.label} takes at most {spec.max_inputs} input(s), it has {len(srcs)}; "
            "use Add or Concatenate to merge")


def _infer_block(network: Network, bid: str, srcs: list[str], input_id: str | None, result: Analysis) -> BlockInfo:
    """One block's output, from its inputs' (issues found go into ``result``)."""
    block = network.blocks[bid]
    spec = get_spec(block.kind)
    if spec is INPUT:
        if srcs:
            result.issues.append(Issue(bid, f"The Input block takes no inputs; disconnect {', '.join(srcs)}"))
        return BlockInfo(bid, result.input_shape if bid == input_id else None, 0, 0, 0)
    problem = _wiring_problem(spec, srcs)
    if problem:
        result.issues.append(Issue(bid, problem))
        return BlockInfo(bid, None)
    in_shapes = [result.shape(s) for s in srcs]
    if any(s is None for s in in_shapes):
        return BlockInfo(bid, None)  # waiting for an upstream problem to be fixed
    try:
        inf: Inference = spec.infer(block.params, in_shapes)  # type: ignore[arg-type]
    except ShapeError as exc:
        result.issues.append(Issue(bid, exc.message, fix=exc.fix))
        return BlockInfo(bid, None)
    trainable = inf.params if inf.trainable_params is None else inf.trainable_params
    return BlockInfo(bid, tuple(inf.shape), inf.params, trainable, inf.macs)


def _check_output(network: Network, result: Analysis) -> None:
    """Exactly one block, reached from the Input, ends the network, with one score per class."""
    issues = result.issues
    sinks_in_use = _sinks_in_use(network, result)
    if not sinks_in_use:
        if network.input_blocks():
            issues.append(Issue(None, "The network has no output: add blocks after the Input, ending in "
                                      f"Dense({result.num_classes}, softmax)"))
        return
    if len(sinks_in_use) > 1:
        names = ", ".join(sinks_in_use)
        for s in sinks_in_use:
            issues.append(Issue(s, f"Several blocks end the network ({names}); merge them so one block is the output"))
        return
    out = result.output_id = sinks_in_use[0]
    shape = result.shape(out)
    problem = None if shape is None else output_issue(network.blocks[out].kind, network.blocks[out].params, shape,
                                                      result.num_classes)
    if problem is not None and network.blocks[out].kind == INPUT.kind:
        issues.append(Issue(out, "Next: add blocks below the Input, ending in "
                                 f"Dense({result.num_classes}, softmax)", severity="hint", fix=problem[2]))
    elif problem is not None:
        message, severity, fix = problem
        issues.append(Issue(out, message, severity=severity, fix=fix))


def _sinks_in_use(network: Network, result: Analysis) -> list[str]:
    """The blocks that end the network, reached from the Input (others that lead nowhere get an issue)."""
    sinks = [s for s in network.sinks() if network.blocks[s].kind != INPUT.kind or len(network) == 1]
    reachable = _reachable_from_input(network)
    with_issues = {i.block_id for i in result.issues}
    for s in sinks:
        if s not in reachable and network.blocks[s].kind != INPUT.kind and s not in with_issues:
            result.issues.append(Issue(s, "This block is not connected to the Input block"))
    return [s for s in sinks if s in reachable]


def _on_a_cycle(network: Network, cyclic: set[str]) -> set[str]:
    """The blocks of ``cyclic`` that lie on a cycle (the rest only come after one)."""
    successors: dict[str, list[str]] = {bid: [] for bid in cyclic}
    for e in network.edges:
        if e.src in cyclic and e.dst in cyclic:
            successors[e.src].append(e.dst)
    looped = set()
    for start in cyclic:
        stack, seen = list(successors[start]), set()
        while stack:
            bid = stack.pop()
            if bid == start:
                looped.add(start)
                break
            if bid not in seen:
                seen.add(bid)
                stack.extend(successors[bid])
    return looped


def _reachable_from_input(network: Network) -> set[str]:
    successors: dict[str, list[str]] = {bid: [] for bid in network.blocks}
    for e in network.edges:
        successors[e.src].append(e.dst)
    seen: set[str] = set()
    stack = list(network.input_blocks()[:1])
    while stack:
        bid = stack.pop()
        if bid in seen:
            continue
        seen.add(bid)
        stack.extend(successors[bid])
    return seen


def apply_fix(network: Network, block_id: str | None, fix: Fix) -> str | None:
    """Apply ``fix`` to ``network``; returns the id of a block it added, if any."""
    args: dict[str, Any] = fix.args
    if fix.action == "append":
        return _append(network, block_id, args)
    if fix.action not in ("set_param", "set_params", "insert_before"):
        raise NetworkError(f"unknown fix action {fix.action!r}")
    if block_id is None:
        raise NetworkError("this fix needs a block")
    if fix.action == "set_param":
        network.set_param(block_id, args["name"], args["value"])
        return None
    if fix.action == "set_params":
        network.set_params(block_id, args["values"])
        return None
    srcs = network.inputs_of(block_id)
    if not srcs:
        raise NetworkError("the block has no input to insert before")
    return network.insert_between(srcs[0], block_id, args["kind"], args.get("params"))


def _append(network: Network, block_id: str | None, args: dict[str, Any]) -> str:
    """Add ``args["kind"]`` after ``block_id``; without a block, above the network, feeding its first open block."""
    if block_id is None:
        x = min((b.pos[0] for b in network), default=0.0)
        y = min((b.pos[1] for b in network), default=0.0) - 110.0
        new = network.add_block(args["kind"], args.get("params"), (x, y))
        sources = [b.id for b in network if b.id != new and not network.inputs_of(b.id) and b.kind != INPUT.kind]
        for s in sources[:1]:
            network.connect(new, s)
        return new
    anchor = network.block(block_id).pos
    new = network.add_block(args["kind"], args.get("params"), (anchor[0], anchor[1] + 110.0))
    network.connect(block_id, new)
    return new
