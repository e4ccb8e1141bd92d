"""Per-epoch snapshots of kernels and the probe sample's activations, in bounded memory.

A slider replays how filters and feature maps changed during training. Within an epoch the
newest probe update replaces the older one; when the store is over its snapshot count or byte
budget it drops the snapshot whose neighbours are closest in epochs, so the kept history stays
spread evenly over the run (the first and latest snapshots are always kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..training_events import ProbeUpdate

__all__ = ["Snapshot", "Timeline"]


@dataclass(frozen=True)
class Snapshot:
    """The state recorded for one epoch (copies, safe to keep)."""

    epoch: int
    step: int
    kernels: dict[str, np.ndarray] = field(default_factory=dict)
    activations: dict[str, np.ndarray] = field(default_factory=dict)
    probabilities: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        arrays = [*self.kernels.values(), *self.activations.values()]
        if self.probabilities is not None:
            arrays.append(self.probabilities)
        return int(sum(a.nbytes for a in arrays))


class Timeline:
    """Snapshots keyed by epoch, at most ``max_snapshots`` and about ``max_bytes`` in all."""

    def __init__(self, max_snapshots: int = 60, max_bytes: int = 64 * 1024 * 1024,
                 keep_activations: bool = True) -> None:
        if max_snapshots < 2:
            raise ValueError("a timeline keeps at least two snapshots")
        self.max_snapshots = max_snapshots
        self.max_bytes = max_bytes
        self.keep_activations = keep_activations
        self._snapshots: dict[int, Snapshot] = {}

    def __len__(self) -> int:
        return len(self._snapshots)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._snapshots.values())

    def epochs(self) -> list[int]:
        return sorted(self._snapshots)

    def clear(self) -> None:
        self._snapshots.clear()

    def record(self, update: ProbeUpdate) -> Snapshot:
        """Keep ``update`` as its epoch's snapshot (replacing an earlier one of that epoch)."""
        snap = Snapshot(
            int(update.epoch), int(update.step),
            {k: np.array(v, copy=True) for k, v in update.kernels.items()},
            {k: np.array(v, copy=True) for k, v in update.activations.items()} if self.keep_activations else {},
            None if update.probabilities is None else np.array(update.probabilities, copy=True),
        )
        self._snapshots[snap.epoch] = snap
        self._trim()
        return snap

    def at(self, epoch: int) -> Snapshot | None:
        """The snapshot of ``epoch``, or of the latest kept epoch before it (None if none)."""
        kept = [e for e in self._snapshots if e <= epoch]
        return self._snapshots[max(kept)] if kept else None

    def latest(self) -> Snapshot | None:
        return self._snapshots[max(self._snapshots)] if self._snapshots else None

    def _trim(self) -> None:
        total = self.nbytes
        while len(self._snapshots) > 2 and (len(self._snapshots) > self.max_snapshots or total > self.max_bytes):
            epochs = self.epochs()
            gaps = [epochs[i + 1] - epochs[i - 1] for i in range(1, len(epochs) - 1)]
            drop = epochs[1 + int(np.argmin(gaps))]
            total -= self._snapshots.pop(drop).nbytes
