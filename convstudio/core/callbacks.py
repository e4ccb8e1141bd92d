"""The Keras callbacks of one training run, each doing one job, sharing a small :class:`RunState`.

:func:`run_callbacks` lists them in the order they must run: :class:`BatchReporter` counts steps and
publishes throttled :class:`~convstudio.core.training_events.BatchEnd` events, :class:`RunControl`
honours stop and pause, :class:`EpochRecorder` records a finished epoch, :class:`ProbeCallback`
publishes activations, :class:`EpochSaver` checkpoints. Per batch they do microseconds of work: a step
count, a clock read, two flag reads; batch logs are read (which waits for the device) only when a
report is due. Importing this module imports Keras; the trainer imports it when a run starts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .blocks import get_spec
from .network import Network
from .training_events import BatchEnd, EpochEnd, EventChannel, ProbeUpdate

__all__ = ["ActivationProbe", "BatchReporter", "EpochRecorder", "EpochSaver", "LazyBatchLogs", "ProbeCallback",
           "RunControl", "RunState", "run_callbacks"]


@dataclass
class RunState:
    """What the callbacks of one run share: the control flags they obey and the progress they record.

    ``running`` is set while not paused. ``nan_at`` is (epoch, step) of a non-finite loss.
    ``epochs_done`` is the absolute number of completed epochs.
    """

    stop: threading.Event
    running: threading.Event
    steps: int
    epochs_done: int = 0
    epoch: int = 0
    step: int = 0
    nan_at: tuple[int, int] | None = None
    started: float = 0.0
    paused_s: float = 0.0
    epoch_started: float = 0.0
    epoch_paused_s: float = 0.0

    @property
    def interrupted(self) -> bool:
        """Stopped, or the loss is no longer a number: the current epoch will not count."""
        return self.stop.is_set() or self.nan_at is not None

    def busy_seconds(self, now: float) -> float:
        """Time spent training (not paused) in the current epoch."""
        return now - self.epoch_started - (self.paused_s - self.epoch_paused_s)

    def epoch_complete(self, epoch: int) -> bool:
        return self.epochs_done == epoch + 1


def _scalar(value: Any, default: float = 0.0) -> float:
    """A log value (tensor, numpy or Python number) as a float; reading a tensor waits for the device."""
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class BatchReporter(keras.callbacks.Callback):
    """Counts steps; every ``interval_s`` checks the loss is finite and publishes a :class:`BatchEnd`."""

    def __init__(self, state: RunState, channel: EventChannel, batch_size: int, interval_s: float) -> None:
        super().__init__()
        self.state, self.channel, self.batch_size, self.interval_s = state, channel, batch_size, interval_s
        self.last_event = -math.inf

    def on_train_begin(self, logs=None):
        self.state.started = time.perf_counter()
        self.last_event = -math.inf

    def on_epoch_begin(self, epoch, logs=None):
        s = self.state
        s.epoch, s.step = epoch, 0
        s.epoch_started, s.epoch_paused_s = time.perf_counter(), s.paused_s

    def on_train_batch_end(self, batch, logs=None):
        s = self.state
        s.step += 1
        now = time.perf_counter()
        if now - self.last_event < self.interval_s:
            return
        self.last_event = now
        logs = logs or {}
        loss = _scalar(logs.get("loss"))  # the only place the device is waited for
        if not math.isfinite(loss):
            s.nan_at = (s.epoch, s.step)
            self.model.stop_training = True
            return
        rate = s.step * self.batch_size / max(s.busy_seconds(now), 1e-9)  # mean over the epoch so far
        self.channel.put(BatchEnd(s.epoch, s.step, s.steps, loss, _scalar(logs.get("accuracy")),
                                  now - s.started - s.paused_s, rate))


class RunControl(keras.callbacks.Callback):
    """Stops the run when asked, holds it between batches while paused, and skips validation once stopped."""

    def __init__(self, state: RunState) -> None:
        super().__init__()
        self.state = state

    def on_train_begin(self, logs=None):
        self.state.paused_s = 0.0
        if self.state.stop.is_set():
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        s = self.state
        if s.stop.is_set():
            self.model.stop_training = True
        elif not s.running.is_set():
            waited_from = time.perf_counter()
            s.running.wait()
            s.paused_s += time.perf_counter() - waited_from
            if s.stop.is_set():
                self.model.stop_training = True

    def on_test_begin(self, logs=None):
        if self.state.interrupted:
            self.model.stop_evaluating = True


class EpochRecorder(keras.callbacks.Callback):
    """Records a completed epoch: checks its metrics are finite, appends them to ``history``, publishes
    an :class:`EpochEnd`. An interrupted epoch is neither recorded nor counted."""

    def __init__(self, state: RunState, channel: EventChannel, history: dict[str, list[float]],
                 total_epochs: int, learning_rate: Callable[[Any], float]) -> None:
        super().__init__()
        self.state, self.channel, self.history, self.total = state, channel, history, total_epochs
        self.learning_rate = learning_rate
        self.lr = float("nan")

    def on_epoch_begin(self, epoch, logs=None):
        self.lr = self.learning_rate(self.model)

    def on_epoch_end(self, epoch, logs=None):
        s = self.state
        if s.interrupted or s.step < s.steps:
            return
        logs = dict(logs or {})
        if any(isinstance(v, float) and not math.isfinite(v) for v in logs.values()):
            s.nan_at = (epoch, s.step)
            self.model.stop_training = True
            return
        metrics = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
        metrics["learning_rate"] = self.lr
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(value)
        s.epochs_done = epoch + 1
        self.channel.put(EpochEnd(epoch, self.total, metrics, s.busy_seconds(time.perf_counter())))


@dataclass
class ActivationProbe:
    """Publishes the activations of every block (and Conv2D kernels) of the model for one image."""

    network: Network
    channel: EventChannel
    _model: Any = None
    _probe_model: Any = None
    _ids: list[str] = field(default_factory=list)

    def __call__(self, model: keras.Model, epoch: int, step: int, image: np.ndarray) -> None:
        from .pipeline import normalize

        if self._model is not model:
            names = {layer.name for layer in model.layers}
            self._ids = [b.id for b in self.network if b.id in names]
            outputs = [model.get_layer(bid).output for bid in self._ids] + [model.outputs[0]]
            self._probe_model = keras.Model(model.inputs, outputs, name="convstudio_probe")
            self._model = model
        outs = self._probe_model([normalize(image[None])], training=False)
        arrays = [np.asarray(keras.ops.convert_to_numpy(o)[0], dtype=np.float32) for o in outs]  # float16 too
        activations = dict(zip(self._ids, arrays[:-1]))
        kernels = {b.id: np.array(model.get_layer(b.id).kernel.numpy())
                   for b in self.network if get_spec(b.kind).kernel_view and b.id in activations}
        self.channel.put(ProbeUpdate(epoch, step, activations, kernels, arrays[-1]))


class ProbeCallback(keras.callbacks.Callback):
    """Runs the probe at most every ``interval_s`` on the watched image, and after every completed epoch.

    ``image(default)`` returns the watched image (with ``default``, a fallback when none is watched).
    """

    def __init__(self, state: RunState, probe: ActivationProbe, image: Callable[[bool], np.ndarray | None],
                 interval_s: float) -> None:
        super().__init__()
        self.state, self.probe, self.image, self.interval_s = state, probe, image, interval_s
        self.last = 0.0

    def on_train_begin(self, logs=None):
        self.last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.last >= self.interval_s:
            image = self.image(False)
            if image is not None:
                self.probe(self.model, self.state.epoch, self.state.step, image)
            self.last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.state.epoch_complete(epoch):
            image = self.image(True)
            if image is not None:
                self.probe(self.model, epoch, self.state.step, image)
                self.last = time.perf_counter()


class EpochSaver(keras.callbacks.Callback):
    """Calls ``save()`` after every completed epoch (the trainer's checkpoint writer)."""

    def __init__(self, state: RunState, save: Callable[[], None]) -> None:
        super().__init__()
        self.state, self.save = state, save

    def on_epoch_end(self, epoch, logs=None):
        if self.state.epoch_complete(epoch):
            self.save()


class LazyBatchLogs(keras.callbacks.CallbackList):
    """Keras's callback list, except that batch-end logs are handed on unconverted: converting them
    reads every tensor, which waits for the device on every batch."""

    def on_train_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)


def run_callbacks(state: RunState, channel: EventChannel, *, batch_size: int, batch_interval_s: float,
                  history: dict[str, list[float]], total_epochs: int, learning_rate: Callable[[Any], float],
                  probe: ActivationProbe, probe_image: Callable[[bool], np.ndarray | None],
                  probe_interval_s: float, save: Callable[[], None]) -> list[keras.callbacks.Callback]:
    """The trainer's callbacks in the order they must run (the reporter counts the steps the others read)."""
    return [BatchReporter(state, channel, batch_size, batch_interval_s), RunControl(state),
            EpochRecorder(state, channel, history, total_epochs, learning_rate),
            ProbeCallback(state, probe, probe_image, probe_interval_s), EpochSaver(state, save)]
