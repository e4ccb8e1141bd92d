"""What a sweep tries: :class:`SweepSpec`, a list of axes (a setting or a block parameter and its values).

An axis's ``target`` is ``learning_rate``, ``batch_size`` or ``<block id>.<parameter>`` (``conv1.filters``,
``dense1.units``, ``dropout1.rate``: any number parameter of a block). ``grid`` tries every combination (up
to ``max_trials``); ``random`` draws ``max_trials`` distinct combinations with ``seed``. A spec is plain data
(:meth:`SweepSpec.to_dict`); :func:`validate_spec` checks it against a network and its settings, and
:func:`apply_trial` makes one trial's network and settings. No TensorFlow here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..network import Network, NetworkError
from ..settings import SettingsError, TrainSettings
from ..text import brief

__all__ = ["BATCH_SIZE", "LEARNING_RATE", "MAX_GRID", "MODES", "SETTING_TARGETS", "SweepAxis", "SweepError",
           "SweepSpec", "apply_trial", "base_fingerprint", "parse_axis", "parse_values", "sweepable_params",
           "validate_spec"]

LEARNING_RATE = "learning_rate"
BATCH_SIZE = "batch_size"
SETTING_TARGETS = (LEARNING_RATE, BATCH_SIZE)
MODES = ("grid", "random")
MAX_GRID = 1000
"""The most combinations a sweep may span (each one is a training run)."""
DEFAULT_RANDOM_TRIALS = 10


class SweepError(ValueError):
    """A sweep that cannot run; the message says what to change (one line per problem)."""


@dataclass(frozen=True)
class SweepAxis:
    """One thing to vary: ``target`` (a setting or ``block.parameter``) and the values to try, in order."""

    target: str
    values: tuple[Any, ...]

    @property
    def block_param(self) -> tuple[str, str] | None:
        """``(block id, parameter)`` for a block axis, None for a training setting."""
        if self.target in SETTING_TARGETS or "." not in self.target:
            return None
        block, _, param = self.target.partition(".")
        return block, param

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "values": list(self.values)}


@dataclass(frozen=True)
class SweepSpec:
    """The axes, ``grid`` or ``random``, at most ``max_trials`` trials (None: the whole grid, or 10 random
    ones), and the seed of the random draws."""

    axes: tuple[SweepAxis, ...]
    mode: str = "grid"
    max_trials: int | None = None
    seed: int = 42

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(a.target for a in self.axes)

    @property
    def grid_size(self) -> int:
        """How many combinations the axes span."""
        return math.prod(len(a.values) for a in self.axes) if self.axes else 0

    @property
    def planned_trials(self) -> int:
        """How many trials the sweep runs (never more than there are combinations)."""
        default = self.grid_size if self.mode == "grid" else DEFAULT_RANDOM_TRIALS
        return min(self.grid_size, self.max_trials if self.max_trials is not None else default)

    def combinations(self) -> Iterable[dict[str, Any]]:
        """Every combination of the axes' values, the last axis changing fastest."""
        for values in itertools.product(*(a.values for a in self.axes)):
            yield dict(zip(self.targets, values))

    def to_dict(self) -> dict[str, Any]:
        return {"axes": [a.to_dict() for a in self.axes], "mode": self.mode, "max_trials": self.max_trials,
                "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Any) -> SweepSpec:
        """A spec from :meth:`to_dict`'s form; raises :class:`SweepError` for anything else."""
        if not isinstance(data, Mapping) or not isinstance(data.get("axes"), list):
            raise SweepError("a sweep needs a mapping with a list of axes")
        axes = []
        for raw in data["axes"]:
            if not isinstance(raw, Mapping) or not isinstance(raw.get("target"), str) \
                    or not isinstance(raw.get("values"), list):
                raise SweepError(f"a sweep axis needs a target and a list of values, not {brief(raw)}")
            axes.append(SweepAxis(raw["target"], tuple(raw["values"])))
        trials = data.get("max_trials")
        return cls(tuple(axes), str(data.get("mode", "grid")), trials, data.get("seed", 42))


def _number(item: str) -> int | float:
    try:
        return int(item)
    except ValueError:
        pass
    try:
        number = float(item)
    except ValueError:
        raise SweepError(f"{brief(item)} is not a number") from None
    if not math.isfinite(number):
        raise SweepError(f"{brief(item)} is not a finite number")
    return number


def parse_values(text: str) -> tuple[int | float, ...]:
    """``"0.01, 1e-3"`` -> ``(0.01, 0.001)``; whole numbers stay ints. Raises :class:`SweepError`."""
    values: list[int | float] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        values.append(_number(item))
    if not values:
        raise SweepError(f"no values in {brief(text)}; give them separated by commas, e.g. 8,16")
    return tuple(values)


def parse_axis(text: str) -> SweepAxis:
    """``"conv1.filters=8,16"`` -> an axis. Raises :class:`SweepError`."""
    target, sep, values = text.partition("=")
    if not sep or not target.strip():
        raise SweepError(f"{brief(text)}: write BLOCK.PARAMETER=VALUES, e.g. conv1.filters=8,16")
    return SweepAxis(target.strip(), parse_values(values))


def sweepable_params(network: Network) -> list[str]:
    """Every ``block.parameter`` a sweep may vary: the number parameters of each block, in network order."""
    out = []
    for block in network:
        for p in block.spec.params:
            if p.type in (int, float) and p.choices is None:
                out.append(f"{block.id}.{p.name}")
    return out


def _check_setting(axis: SweepAxis, settings: TrainSettings) -> tuple[tuple[Any, ...], list[str]]:
    values, problems = [], []
    for v in axis.values:
        try:
            values.append(getattr(settings.replace(**{axis.target: v}), axis.target))
        except (SettingsError, TypeError) as exc:
            problems.append(f"{axis.target}: {exc}")
    return tuple(values), problems


def _check_block(axis: SweepAxis, network: Network) -> tuple[tuple[Any, ...], list[str]]:
    block_id, name = axis.block_param or ("", "")
    if block_id not in network.blocks:
        known = ", ".join(b.id for b in network) or "none"
        return (), [f"{axis.target}: there is no block {brief(block_id)} (blocks: {known})"]
    spec = network.blocks[block_id].spec
    if f"{block_id}.{name}" not in sweepable_params(network):
        names = ", ".join(t.partition(".")[2] for t in sweepable_params(network) if t.startswith(block_id + "."))
        return (), [f"{axis.target}: {spec.label} {block_id} has no number parameter {brief(name)} "
                    f"({'it has ' + names if names else 'it has none to vary'})"]
    values, problems = [], []
    for v in axis.values:
        try:
            values.append(spec.param(name).validate(v))
        except ValueError as exc:
            problems.append(f"{axis.target}: {exc}")
    return tuple(values), problems


def _check_axis(axis: SweepAxis, network: Network, settings: TrainSettings) -> tuple[SweepAxis, list[str]]:
    if not isinstance(axis.target, str) or not axis.values:
        return axis, [f"{brief(axis.target)}: give at least one value"]
    if axis.target in SETTING_TARGETS:
        values, problems = _check_setting(axis, settings)
    elif axis.block_param is not None:
        values, problems = _check_block(axis, network)
    else:
        return axis, [f"{brief(axis.target)}: sweep {LEARNING_RATE}, {BATCH_SIZE} or BLOCK.PARAMETER"]
    if not problems and len(set(values)) != len(values):
        problems.append(f"{axis.target}: a value is given twice")
    return SweepAxis(axis.target, values), problems


def _check_shape(spec: SweepSpec, network: Network, input_shape: Any, num_classes: int) -> list[str]:
    """Every combination of the block axes must still give a network that works."""
    from ..shapes import analyze

    block_axes = [a for a in spec.axes if a.block_param is not None]
    for values in itertools.product(*(a.values for a in block_axes)):
        trial = dict(zip((a.target for a in block_axes), values))
        analysis = analyze(apply_trial(network, None, trial)[0], input_shape, num_classes)
        if not analysis.ok:
            issue = analysis.errors[0]
            where = f"with {', '.join(f'{k}={v}' for k, v in trial.items())} " if trial else ""
            return [f"{where}the network does not work: {issue.block_id or 'network'}: {issue.message}"]
    return []


def _check_counts(spec: SweepSpec) -> list[str]:
    problems = []
    if spec.mode not in MODES:
        problems.append(f"mode must be grid or random, not {brief(spec.mode)}")
    if spec.max_trials is not None and (isinstance(spec.max_trials, bool) or not isinstance(spec.max_trials, int)
                                        or spec.max_trials < 1):
        problems.append(f"the number of trials must be a whole number of at least 1, not {brief(spec.max_trials)}")
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or not 0 <= spec.seed < 2**31 - 1:
        problems.append(f"the seed must be a whole number from 0 to {2**31 - 2}, not {brief(spec.seed)}")
    targets = spec.targets
    if not targets:
        problems.append("choose at least one thing to vary (learning rates, batch sizes or a block parameter)")
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        problems.append(f"{target} is given twice")
    if spec.grid_size > MAX_GRID:
        problems.append(f"the axes span {spec.grid_size:,} combinations; at most {MAX_GRID:,} can be swept")
    return problems


def validate_spec(spec: SweepSpec, network: Network, settings: TrainSettings, input_shape: Any = None,
                  num_classes: int = 10) -> SweepSpec:
    """``spec`` with every value checked and converted for its setting or parameter (``"32"`` -> 32).

    Raises :class:`SweepError` listing every problem: an unknown block or parameter, a value out of
    range, a combination whose network does not work for ``input_shape`` and ``num_classes``.
    """
    problems = _check_counts(spec)
    axes = []
    for axis in spec.axes:
        checked, found = _check_axis(axis, network, settings)
        axes.append(checked)
        problems += found
    if problems:
        raise SweepError("\n".join(problems))
    checked_spec = SweepSpec(tuple(axes), spec.mode, spec.max_trials, spec.seed)
    problems = _check_shape(checked_spec, network, input_shape, num_classes)
    if problems:
        raise SweepError("\n".join(problems))
    return checked_spec


def apply_trial(network: Network, settings: TrainSettings | None,
                values: Mapping[str, Any]) -> tuple[Network, TrainSettings | None]:
    """A copy of ``network`` and ``settings`` with one trial's ``values`` (``{target: value}``) applied."""
    net = network.copy()
    changes = {k: v for k, v in values.items() if k in SETTING_TARGETS}
    try:
        for target, value in values.items():
            if target in SETTING_TARGETS:
                continue
            block_id, sep, name = target.partition(".")
            if not sep:
                raise SweepError(f"{brief(target)} is neither a training setting nor BLOCK.PARAMETER")
            net.set_param(block_id, name, value)
        new_settings = settings.replace(**changes) if settings is not None else None
    except (NetworkError, KeyError, ValueError) as exc:
        if isinstance(exc, SweepError):
            raise
        raise SweepError(f"cannot apply {dict(values)}: {exc}") from None
    return net, new_settings


def base_fingerprint(network: Network, spec: SweepSpec) -> str:
    """A digest of the network without positions and without the values the sweep varies.

    Two networks with the same fingerprint differ at most in what the sweep tried, so the sweep's
    results still belong to either.
    """
    swept = {a.block_param for a in spec.axes if a.block_param is not None}
    blocks = sorted((b.id, b.kind, sorted((k, repr(v)) for k, v in b.params.items() if (b.id, k) not in swept))
                    for b in network)
    edges = [(e.src, e.dst) for e in network.edges]
    return hashlib.sha1(json.dumps([blocks, edges]).encode()).hexdigest()[:16]
