"""Machine-checkable lesson goals on the app's state, and the actions a student performs.

A goal is plain data such as ``{"type": "param", "block": "conv1", "param": "padding",
"equals": "same"}``; :func:`check_goal` measures the state and compares. An action is plain data
such as ``{"type": "set_param", ...}``; :func:`apply_action` performs it (a lesson's "show me").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..blocks import Shape
from ..blocks.merge import ADD
from ..explorer import ExplorerError, ExplorerState
from ..network import Network, NetworkError
from ..shapes import Analysis, analyze, format_shape

__all__ = ["ACTIONS", "COMPARISONS", "GOALS", "RUNS_NETWORK", "GoalResult", "LessonState", "apply_action",
           "apply_network_action", "check_goal", "goal_runs_network", "open_block_in_explorer"]

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, b: a == b,
    "less_than": lambda a, b: a < b,
    "at_most": lambda a, b: a <= b,
    "greater_than": lambda a, b: a > b,
    "at_least": lambda a, b: a >= b,
}
_WORDS = {"equals": "=", "less_than": "<", "at_most": "≤", "greater_than": ">", "at_least": "≥"}


@dataclass
class LessonState:
    """What goals look at: the network, the dataset's input shape and the explorer (None when closed)."""

    network: Network
    input_shape: Shape = (28, 28, 1)
    num_classes: int = 10
    explorer: ExplorerState | None = None
    dataset: str = "mnist"
    _cache: tuple[dict, Analysis] | None = field(default=None, repr=False)

    def analysis(self) -> Analysis:
        key = self.network.to_dict()
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, analyze(self.network, self.input_shape, self.num_classes))
        return self._cache[1]


@dataclass(frozen=True)
class GoalResult:
    """Whether a goal holds, and a line saying what was measured."""

    reached: bool
    detail: str


class _Unmeasurable(Exception):
    """The state cannot answer the goal yet (no such block, no shape, explorer closed)."""


def _info(state: LessonState, block: str):
    if block not in state.network:
        raise _Unmeasurable(f"there is no block {block}")
    info = state.analysis().info.get(block)
    if info is None or info.shape is None:
        raise _Unmeasurable(f"{block} has no known shape yet")
    return info


def _param(g: dict, s: LessonState) -> tuple[Any, str]:
    if g["block"] not in s.network:
        raise _Unmeasurable(f"there is no block {g['block']}")
    return s.network.block(g["block"]).params.get(g["param"]), f"{g['block']} {g['param']}"


def _shape(g: dict, s: LessonState) -> tuple[Any, str]:
    return list(_info(s, g["block"]).shape), f"{g['block']} output shape"


def _block_params(g: dict, s: LessonState) -> tuple[Any, str]:
    return _info(s, g["block"]).params, f"{g['block']} parameters"


def _params_sum(g: dict, s: LessonState) -> tuple[Any, str]:
    return sum(_info(s, b).params for b in g["blocks"]), f"parameters of {' + '.join(g['blocks'])}"


def _params_ratio(g: dict, s: LessonState) -> tuple[Any, str]:
    over = _info(s, g["over"]).params
    if not over:
        raise _Unmeasurable(f"{g['over']} has no parameters")
    return _info(s, g["block"]).params / over, f"parameters of {g['block']} / {g['over']}"


def _params_total(g: dict, s: LessonState) -> tuple[Any, str]:
    return s.analysis().total_params, "the network's parameters"


def _block_count(g: dict, s: LessonState) -> tuple[Any, str]:
    return sum(1 for b in s.network if b.kind == g["kind"]), f"{g['kind']} blocks"


def _receptive_field(g: dict, s: LessonState) -> tuple[Any, str]:
    from ..inspection.receptive_field import receptive_fields

    _info(s, g["block"])
    try:
        fields = receptive_fields(s.network, s.input_shape, s.analysis())
    except ValueError as exc:
        raise _Unmeasurable(str(exc)) from None
    return list(fields[g["block"]].size), f"{g['block']} receptive field"


def _valid(g: dict, s: LessonState) -> tuple[Any, str]:
    return s.analysis().ok, "the network is valid"


def _explorer(g: dict, s: LessonState) -> tuple[Any, str]:
    if s.explorer is None:
        raise _Unmeasurable("the convolution explorer is not open")
    values = s.explorer.as_dict()
    return values[g["setting"]], f"explorer {g['setting']}"


def _probe(fn: Callable[[], Any]) -> Any:
    from .probe import ProbeError

    try:
        return fn()
    except (ProbeError, KeyError, ZeroDivisionError) as exc:
        raise _Unmeasurable(str(exc).strip("'\"")) from None


def _prediction(g: dict, s: LessonState) -> tuple[Any, str]:
    from .probe import prediction

    value = _probe(lambda: prediction(s.network, s.input_shape, s.num_classes, s.dataset, g["measure"]))
    return value, f"{g['measure'].replace('_', ' ')} on the sample"


def _shift(g: dict, s: LessonState) -> tuple[Any, str]:
    from .probe import shift_response

    value = _probe(lambda: shift_response(s.network, s.input_shape, s.num_classes, s.dataset, g["block"],
                                          int(g["dy"]), int(g["dx"]), g["measure"]))
    return value, f"{g['block']} {g['measure']} for a shift of ({g['dy']}, {g['dx']})"


def _gradient_ratio(g: dict, s: LessonState) -> tuple[Any, str]:
    from ..inspection import gradient_ratio
    from .probe import gradient_norms

    value = _probe(lambda: gradient_ratio(gradient_norms(s.network, s.input_shape, s.num_classes, s.dataset),
                                          g["block"], g["over"]))
    return value, f"gradient norm of {g['block']} / {g['over']}"


GOALS: dict[str, tuple[frozenset[str], Callable[[dict, LessonState], tuple[Any, str]]]] = {
    "param": (frozenset({"block", "param"}), _param),
    "shape": (frozenset({"block"}), _shape),
    "block_params": (frozenset({"block"}), _block_params),
    "params_sum": (frozenset({"blocks"}), _params_sum),
    "params_ratio": (frozenset({"block", "over"}), _params_ratio),
    "params_total": (frozenset(), _params_total),
    "block_count": (frozenset({"kind"}), _block_count),
    "receptive_field": (frozenset({"block"}), _receptive_field),
    "valid": (frozenset(), _valid),
    "explorer": (frozenset({"setting"}), _explorer),
    "prediction": (frozenset({"measure"}), _prediction),
    "shift": (frozenset({"block", "dy", "dx", "measure"}), _shift),
    "gradient_ratio": (frozenset({"block", "over"}), _gradient_ratio),
}
"""Goal type -> (keys it needs besides ``type`` and comparisons, measuring function); plus ``all``/``any``."""


RUNS_NETWORK = frozenset({"prediction", "shift", "gradient_ratio"})
"""Goal types measured by building and running the network (seconds, not microseconds: not on a GUI thread)."""


def goal_runs_network(goal: dict[str, Any]) -> bool:
    """Whether checking ``goal`` (or one of its ``all``/``any`` parts) runs the network."""
    if goal["type"] in ("all", "any"):
        return any(goal_runs_network(g) for g in goal["goals"])
    return goal["type"] in RUNS_NETWORK


def _show(value: Any, as_shape: bool = False) -> str:
    if as_shape and isinstance(value, list) and all(isinstance(v, int) for v in value):
        return format_shape(tuple(value))
    if isinstance(value, list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def check_goal(goal: dict[str, Any], state: LessonState) -> GoalResult:
    """Measure ``goal`` on ``state``: reached or not, and what was found."""
    kind = goal["type"]
    if kind in ("all", "any"):
        results = [check_goal(g, state) for g in goal["goals"]]
        reached = all(r.reached for r in results) if kind == "all" else any(r.reached for r in results)
        return GoalResult(reached, "; ".join(r.detail for r in results))
    try:
        value, what = GOALS[kind][1](goal, state)
    except _Unmeasurable as exc:
        return GoalResult(False, str(exc))
    tests = [(name, goal[name]) for name in COMPARISONS if name in goal] or [("equals", True)]
    reached = all(_compare(name, value, target) for name, target in tests)
    as_shape = kind in ("shape", "receptive_field")
    wanted = ", ".join(f"{_WORDS[name]} {_show(target, as_shape)}" for name, target in tests)
    return GoalResult(reached, f"{what} is {_show(value, as_shape)} (goal: {wanted})")


def _compare(name: str, value: Any, target: Any) -> bool:
    try:
        return bool(COMPARISONS[name](value, target))
    except TypeError:
        return False


# --------------------------------------------------------------------------- actions


def _set_param(a: dict, net: Network) -> None:
    net.set_param(a["block"], a["param"], a["value"])


def _set_params(a: dict, net: Network) -> None:
    values = a["values"]
    if not isinstance(values, dict):
        raise NetworkError("'values' must map parameter names to values")
    for name, value in values.items():
        net.set_param(a["block"], name, value)


def _add_after(a: dict, net: Network) -> str:
    src = net.block(a["block"])
    params = a.get("params", {})
    outs = net.outputs_of(src.id)
    if not outs:
        new = net.add_block(a["kind"], params, (src.pos[0], src.pos[1] + 110.0), a.get("id"))
        net.connect(src.id, new)
        return new
    dst = net.block(outs[0])
    pos = ((src.pos[0] + dst.pos[0]) / 2, (src.pos[1] + dst.pos[1]) / 2)
    new = net.add_block(a["kind"], params, pos, a.get("id"))
    index = net.disconnect(src.id, dst.id)
    net.connect(src.id, new)
    net.connect(new, dst.id, index)
    return new


def _remove_block(a: dict, net: Network) -> None:
    """Remove a block and join its input to what it fed (so a chain stays a chain)."""
    srcs, dsts = net.inputs_of(a["block"]), net.outputs_of(a["block"])
    net.remove_block(a["block"])
    if len(srcs) == 1:
        for dst in dsts:
            net.connect(srcs[0], dst)


def _replace_block(a: dict, net: Network) -> None:
    """Put a block of another kind in a block's place, with the same id and the same connections."""
    old = net.block(a["block"])
    srcs, dsts = net.inputs_of(old.id), net.outputs_of(old.id)
    indexes = [net.inputs_of(d).index(old.id) for d in dsts]
    net.remove_block(old.id)
    net.add_block(a["kind"], a.get("params", {}), old.pos, old.id)
    for src in srcs:
        net.connect(src, old.id)
    for dst, index in zip(dsts, indexes):
        net.connect(old.id, dst, index)


def _add_skip(a: dict, net: Network) -> None:
    """A skip connection: an Add (id ``id``) after ``to`` that also takes ``from``'s output."""
    net.connect(a["from"], _add_after({"block": a["to"], "kind": ADD.kind, "id": a.get("id")}, net))


_NETWORK_ACTIONS: dict[str, tuple[frozenset[str], Callable[[dict, Network], object]]] = {
    "set_param": (frozenset({"block", "param", "value"}), _set_param),
    "set_params": (frozenset({"block", "values"}), _set_params),
    "add_after": (frozenset({"block", "kind"}), _add_after),
    "remove_block": (frozenset({"block"}), _remove_block),
    "replace_block": (frozenset({"block", "kind"}), _replace_block),
    "add_skip": (frozenset({"from", "to"}), _add_skip),
}

ACTIONS: dict[str, frozenset[str]] = {
    **{name: keys for name, (keys, _) in _NETWORK_ACTIONS.items()},
    "open_explorer": frozenset({"block"}),
    "explorer": frozenset({"set"}),
}
"""Action type -> the keys it needs besides ``type`` (``add_after`` also takes ``params`` and ``id``,
``replace_block`` ``params``, ``add_skip`` ``id``)."""


def apply_network_action(action: dict[str, Any], network: Network) -> None:
    """Perform a network edit (``set_param``, ``set_params``, ``add_after``, ``remove_block``,
    ``replace_block``, ``add_skip``); raises ``NetworkError``."""
    try:
        _NETWORK_ACTIONS[action["type"]][1](action, network)
    except KeyError:
        raise NetworkError(f"{action['type']!r} is not an edit of the network") from None


def open_block_in_explorer(state: LessonState, block_id: str) -> ExplorerState:
    """The explorer state for a Conv2D or pooling block of the lesson's network, on its input size."""
    from ..explorer import block_settings

    block = state.network.block(block_id)
    settings = block_settings(block.kind, block.params)
    srcs = state.network.inputs_of(block_id)
    shape = state.analysis().shape(srcs[0]) if srcs else None
    if shape is None or len(shape) != 3:
        raise ExplorerError(f"{block_id}'s input has no image shape yet; fix the network first")
    return ExplorerState(settings, (shape[0], shape[1]), block_id=block_id)


def apply_action(action: dict[str, Any], state: LessonState) -> None:
    """Perform ``action`` on ``state`` as the student would; raises ``NetworkError`` or ``ExplorerError``."""
    kind = action["type"]
    if kind in _NETWORK_ACTIONS:
        apply_network_action(action, state.network)
    elif kind == "open_explorer":
        state.explorer = open_block_in_explorer(state, action["block"])
    elif kind == "explorer":
        if state.explorer is None:
            raise ExplorerError("the convolution explorer is not open")
        state.explorer = state.explorer.with_changes(action["set"])
    else:
        raise NetworkError(f"unknown action {kind!r}")
