"""Training settings: one frozen record, saved in project files, checked on the way in.

:meth:`TrainSettings.from_dict` accepts partial dicts (missing keys take defaults) and raises
:class:`SettingsError` naming the field and the reason for anything it cannot accept.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

from .text import brief

__all__ = ["DISTRIBUTIONS", "EarlyStopping", "OPTIMIZERS", "ReduceLROnPlateau", "SPEED_CHOICES", "SettingsError",
           "TrainSettings"]

OPTIMIZERS = ("sgd", "adam", "rmsprop")
SPEED_CHOICES = ("auto", "on", "off")
DISTRIBUTIONS = ("auto", "off", "multi_worker")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the field and says why."""


def _whole(name: str, value: Any) -> int:
    """``value`` as an exact int: whole floats convert, huge ints stay exact (never through float)."""
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise SettingsError(f"{name} must be a whole number, not {brief(value)}")
    return int(value)


def _real(name: str, value: Any) -> float:
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number")
    return value


def _show(x: float) -> str:
    return brief(x) if isinstance(x, int) and x.bit_length() > 64 else f"{x:g}"


def _number(name: str, value: Any, kind: type, low: float | None = None, high: float | None = None,
            low_open: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{name} must be {what}, not {brief(value)}")
    value = _whole(name, value) if kind is int else _real(name, value)
    if low is not None and (value <= low if low_open else value < low):
        raise SettingsError(f"{name} must be {'greater than' if low_open else 'at least'} {low:g}; got {_show(value)}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high:g}; got {_show(value)}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false, not {brief(value)}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {brief(value)}")
    return value


def _check_keys(where: str, data: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be a mapping of names to values, not {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        listed = ", ".join(brief(name)[1:-1] for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise SettingsError(f"{where} has unknown setting(s): {listed}")
    return data


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs; maybe restore the best weights."""

    enabled: bool = False
    patience: int = 3
    monitor: str = "val_loss"
    restore_best: bool = True

    def __post_init__(self) -> None:
        _flag("early_stopping.enabled", self.enabled)
        object.__setattr__(self, "patience", _number("early_stopping.patience", self.patience, int, 0, 1000))
        _choice("early_stopping.monitor", self.monitor, MONITORS)
        _flag("early_stopping.restore_best", self.restore_best)


@dataclass(frozen=True)
class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when validation loss stalls for ``patience`` epochs."""

    enabled: bool = False
    factor: float = 0.5
    patience: int = 2
    min_lr: float = 1e-6

    def __post_init__(self) -> None:
        _flag("reduce_lr_on_plateau.enabled", self.enabled)
        object.__setattr__(self, "factor", _number("reduce_lr_on_plateau.factor", self.factor, float, 0.0, 0.99,
                                                   low_open=True))
        object.__setattr__(self, "patience", _number("reduce_lr_on_plateau.patience", self.patience, int, 0, 1000))
        object.__setattr__(self, "min_lr", _number("reduce_lr_on_plateau.min_lr", self.min_lr, float, 0.0))


@dataclass(frozen=True)
class TrainSettings:
    """How to train: optimizer, schedule, batch size, epochs, validation split, seed, callbacks.

    ``jit_compile`` (XLA) and ``mixed_precision`` (float16 compute, float32 weights and output) are
    "auto", "on" or "off"; "auto" turns both on for GPUs of compute capability 7.0 or newer and off
    on CPUs, where both measured slower (see docs/PERFORMANCE.md). ``distribution`` "auto" mirrors
    over every visible GPU and joins a multi-worker cluster when ``TF_CONFIG`` is set; "off" trains
    on one device; "multi_worker" requires ``TF_CONFIG``. ``batch_size`` is the global batch.
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9  # sgd and rmsprop
    nesterov: bool = False  # sgd only
    batch_size: int = 64
    epochs: int = 5
    validation_split: float = 0.1
    seed: int = 42
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    reduce_lr_on_plateau: ReduceLROnPlateau = field(default_factory=ReduceLROnPlateau)
    probe_interval_s: float = 1.0
    batch_event_interval_s: float = 0.1
    jit_compile: str = "auto"
    mixed_precision: str = "auto"
    distribution: str = "auto"

    def __post_init__(self) -> None:
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        set_ = object.__setattr__
        set_(self, "learning_rate", _number("learning_rate", self.learning_rate, float, 0.0, 10.0, low_open=True))
        set_(self, "momentum", _number("momentum", self.momentum, float, 0.0, 0.9999))
        _flag("nesterov", self.nesterov)
        set_(self, "batch_size", _number("batch_size", self.batch_size, int, 1, 65536))
        set_(self, "epochs", _number("epochs", self.epochs, int, 1, 100000))
        set_(self, "validation_split", _number("validation_split", self.validation_split, float, 0.0, 0.9))
        set_(self, "seed", _number("seed", self.seed, int, 0, 2**31 - 1))
        set_(self, "probe_interval_s", _number("probe_interval_s", self.probe_interval_s, float, 0.0))
        set_(self, "batch_event_interval_s",
             _number("batch_event_interval_s", self.batch_event_interval_s, float, 0.0))
        _choice("jit_compile", self.jit_compile, SPEED_CHOICES)
        _choice("mixed_precision", self.mixed_precision, SPEED_CHOICES)
        _choice("distribution", self.distribution, DISTRIBUTIONS)
        if not isinstance(self.early_stopping, EarlyStopping):
            raise SettingsError("early_stopping must be an EarlyStopping record")
        if not isinstance(self.reduce_lr_on_plateau, ReduceLROnPlateau):
            raise SettingsError("reduce_lr_on_plateau must be a ReduceLROnPlateau record")

    def replace(self, **changes: Any) -> TrainSettings:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TrainSettings:
        """Settings from a (possibly partial) dict; raises :class:`SettingsError` saying what is wrong."""
        top = {f.name for f in fields(cls)}
        data = dict(_check_keys("training settings", data, top))
        nested = {"early_stopping": EarlyStopping, "reduce_lr_on_plateau": ReduceLROnPlateau}
        for name, record in nested.items():
            if name in data:
                raw = _check_keys(name, data[name], {f.name for f in fields(record)})
                try:
                    data[name] = record(**raw)
                except TypeError as exc:  # pragma: no cover - keys are checked above
                    raise SettingsError(f"{name}: {exc}") from None
        return cls(**data)
