"""The per-epoch store behind the epoch slider."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.inspection import Timeline
from convstudio.core.training_events import ProbeUpdate


def _update(epoch: int, step: int = 0, value: float | None = None) -> ProbeUpdate:
    v = float(epoch if value is None else value)
    return ProbeUpdate(epoch, step, activations={"conv": np.full((4, 4, 2), v, np.float32)},
                       kernels={"conv": np.full((3, 3, 1, 2), v, np.float32)},
                       probabilities=np.full(10, 0.1, np.float32))


def test_one_snapshot_per_epoch_newest_wins_and_lookup_by_epoch():
    t = Timeline()
    t.record(_update(0, 5, value=1.0))
    t.record(_update(0, 9, value=2.0))
    t.record(_update(2))
    assert t.epochs() == [0, 2]
    assert t.at(0).step == 9 and t.at(0).kernels["conv"][0, 0, 0, 0] == 2.0
    assert t.at(1).epoch == 0 and t.at(5).epoch == 2 and t.at(-1) is None
    assert t.latest().epoch == 2


def test_snapshots_are_copies():
    t = Timeline()
    update = _update(1)
    t.record(update)
    update.kernels["conv"][:] = 99
    assert t.at(1).kernels["conv"].max() == 1.0


def test_bounded_count_keeps_first_and_latest_and_spreads_the_rest():
    t = Timeline(max_snapshots=5)
    for e in range(40):
        t.record(_update(e))
    epochs = t.epochs()
    assert len(epochs) == 5 and epochs[0] == 0 and epochs[-1] == 39
    gaps = np.diff(epochs)
    assert gaps.max() <= 3 * gaps.min()


def test_byte_budget_and_skipping_activations():
    one = _update(0)
    size = sum(a.nbytes for a in [*one.activations.values(), *one.kernels.values(), one.probabilities])
    t = Timeline(max_bytes=4 * size)
    for e in range(20):
        t.record(_update(e))
    assert len(t) == 4 and t.nbytes <= 4 * size
    light = Timeline(keep_activations=False)
    assert light.record(_update(3)).activations == {}
    with pytest.raises(ValueError):
        Timeline(max_snapshots=1)
