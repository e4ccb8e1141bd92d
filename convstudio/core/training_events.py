"""Plain-data events a training run publishes, and the thread-safe channel that carries them.

The trainer runs in whatever thread calls it and only ever puts these frozen records into an
:class:`EventChannel`; a GUI drains the channel on a timer (about ten times a second), a command
line prints them. Probe results are latest-only: a newer one replaces an undrained older one.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BatchEnd",
    "EpochEnd",
    "EventChannel",
    "ProbeUpdate",
    "TrainEvent",
    "TrainFinished",
    "TrainStarted",
    "TrainWarning",
]


@dataclass(frozen=True)
class TrainStarted:
    """A run began: where it runs and how long it will be."""

    device: str
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    dataset_source: str = ""
    is_sample: bool = False
    test_samples: int = 0


@dataclass(frozen=True)
class BatchEnd:
    """Throttled batch metrics (running means over the epoch so far)."""

    epoch: int
    step: int
    steps: int
    loss: float
    accuracy: float
    seconds: float  # since the run started
    samples_per_second: float = 0.0


@dataclass(frozen=True)
class EpochEnd:
    """One finished epoch: ``metrics`` has loss, accuracy, val_loss, val_accuracy, learning_rate."""

    epoch: int
    epochs: int
    metrics: dict[str, float]
    seconds: float  # this epoch's duration


@dataclass(frozen=True)
class ProbeUpdate:
    """Activations of the probe sample per block id, and Conv2D kernels per block id.

    ``activations[block_id]`` has no batch axis; ``kernels[block_id]`` is ``(kh, kw, c_in, c_out)``.
    """

    epoch: int
    step: int
    activations: dict[str, np.ndarray] = field(default_factory=dict)
    kernels: dict[str, np.ndarray] = field(default_factory=dict)
    probabilities: np.ndarray | None = None


@dataclass(frozen=True)
class TrainWarning:
    """Something went wrong that did not end the run (a checkpoint that could not be written)."""

    message: str


@dataclass(frozen=True)
class TrainFinished:
    """The run ended. ``status`` is completed, stopped, early_stopped, nan or error.

    ``diagnosis`` is empty for a run that learned, else ``"diverged"`` or ``"chance_level"`` (the
    message then says so, with advice; see :mod:`convstudio.core.diagnosis`). ``warnings`` repeats
    every :class:`TrainWarning` of the run.
    """

    status: str
    message: str
    epochs_done: int
    history: dict[str, list[float]]
    test_loss: float | None = None
    test_accuracy: float | None = None
    checkpoint: str | None = None
    diagnosis: str = ""
    warnings: tuple[str, ...] = ()
    advice: str = ""
    """The diagnosis in words with what to try (it also ends ``message``); empty for a run that learned."""

    @property
    def learned(self) -> bool:
        """False when the run diverged or stayed at chance level (a NaN or an error is not learning either)."""
        return not self.diagnosis and self.status not in ("nan", "error")


TrainEvent = TrainStarted | BatchEnd | EpochEnd | ProbeUpdate | TrainWarning | TrainFinished


class EventChannel:
    """A thread-safe queue of events plus a latest-only slot for probe updates."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._probe: ProbeUpdate | None = None
        self._lock = threading.Lock()

    def put(self, event: TrainEvent) -> None:
        if isinstance(event, ProbeUpdate):
            with self._lock:
                self._probe = event
        else:
            self._queue.put(event)

    def drain(self) -> list[TrainEvent]:
        """Everything published since the last drain, in order; the newest probe (if any) last."""
        events: list[TrainEvent] = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            probe, self._probe = self._probe, None
        if probe is not None:
            events.append(probe)
        return events
