"""A training history as stored in a project: one mapping of metric to value per epoch.

A project that keeps trained weights keeps the history of the run that made them in the same
file that points at the weights (written last, atomically), so the curves and the weights they
describe are saved and reopened together. Non-finite values are stored as ``null``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_EPOCHS", "HistoryError", "history_from_json", "history_to_json", "history_to_columns"]

MAX_EPOCHS = 100_000
MAX_METRICS = 32
MAX_NAME = 64


class HistoryError(ValueError):
    """A stored history that cannot be used; the message says why in one line."""


def history_to_json(history: Sequence[Mapping[str, float]]) -> list[dict[str, float | None]]:
    """The JSON form of per-epoch metrics (non-finite values become ``None``)."""
    return [{str(k): (float(v) if math.isfinite(float(v)) else None) for k, v in epoch.items()} for epoch in history]


def history_from_json(value: Any) -> list[dict[str, float]]:
    """Per-epoch metrics read back from JSON; raises :class:`HistoryError` for anything else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise HistoryError("the training history must be a list of epochs")
    if len(value) > MAX_EPOCHS:
        raise HistoryError(f"the training history has more than {MAX_EPOCHS:,} epochs")
    return [_epoch(i, epoch) for i, epoch in enumerate(value)]


def _epoch(index: int, epoch: Any) -> dict[str, float]:
    if not isinstance(epoch, dict) or len(epoch) > MAX_METRICS:
        raise HistoryError(f"epoch {index + 1} of the training history is not a mapping of at most "
                           f"{MAX_METRICS} metrics")
    out: dict[str, float] = {}
    for name, value in epoch.items():
        if not isinstance(name, str) or not name or len(name) > MAX_NAME or not name.isprintable():
            raise HistoryError(f"epoch {index + 1} of the training history has a bad metric name")
        if value is None:
            out[name] = math.nan
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
        else:
            raise HistoryError(f"metric {name} of epoch {index + 1} in the training history is not a number")
    return out


def history_to_columns(history: Sequence[Mapping[str, float]]) -> dict[str, list[float]]:
    """Per-epoch records as Keras's ``{metric: [value per epoch]}`` (missing values are NaN)."""
    names: list[str] = []
    for epoch in history:
        names += [k for k in epoch if k not in names]
    return {name: [float(epoch.get(name, math.nan)) for epoch in history] for name in names}
