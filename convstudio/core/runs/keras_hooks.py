"""The Keras side of a run record: decimated batch points, TensorBoard event files, the best model.

Per batch :class:`RunCallback` does a counter increment; every ``every``-th batch it reads the loss
and accuracy (one wait for the device) and writes two TensorBoard scalars. After each completed
epoch it writes the epoch's scalars and an image of the first convolution's filters, flushes the
event file, and has the recorder keep the best model and rewrite the record.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from ..blocks import get_spec
from ..callbacks import _scalar
from ..network import Network

if TYPE_CHECKING:
    from .recorder import RunRecorder

__all__ = ["RunCallback", "filter_grid"]

_TILE_SCALE = 4  # each kernel pixel becomes a 4x4 square, so a 5x5 filter is visible


def filter_grid(kernel: np.ndarray, scale: int = _TILE_SCALE) -> np.ndarray:
    """A Conv2D kernel ``(kh, kw, c_in, c_out)`` as one ``(1, H, W, 1)`` image in [0, 1]: its filters
    (first input channel) tiled in a near-square grid, one pixel apart, on a shared grey scale."""
    k = np.asarray(kernel, dtype=np.float32)[:, :, 0, :]
    kh, kw, n = k.shape
    lo, hi = float(k.min()), float(k.max())
    k = (k - lo) / (hi - lo) if hi > lo else np.full_like(k, 0.5)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (kh + 1) - 1, cols * (kw + 1) - 1), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (kh + 1):r * (kh + 1) + kh, c * (kw + 1):c * (kw + 1) + kw] = k[:, :, i]
    grid = np.kron(grid, np.ones((scale, scale), dtype=np.float32))
    return grid[None, :, :, None]


def _first_conv(network: Network, model: keras.Model) -> str | None:
    names = {layer.name for layer in model.layers}
    order, _ = network.topological_order()
    return next((b for b in order if get_spec(network.blocks[b].kind).kernel_view and b in names), None)


class RunCallback(keras.callbacks.Callback):
    """Feeds ``recorder`` during ``fit``; ``tensorboard`` is the event folder (None: no TensorBoard).

    ``state`` is the trainer's :class:`~convstudio.core.callbacks.RunState` (its epoch and step, and
    whether an epoch completed).
    """

    def __init__(self, recorder: RunRecorder, state: Any, network: Network, tensorboard: Path | None,
                 every: int) -> None:
        super().__init__()
        self.recorder, self.state, self.network = recorder, state, network
        self.tensorboard, self.every = tensorboard, max(1, int(every))
        self.writer: Any = None
        self.global_step = 0
        self._conv: str | None = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        first = self.recorder.record.get("initial_epoch", 0)
        self.global_step = first * self.state.steps
        self._conv = _first_conv(self.network, self.model)
        if self.tensorboard is not None:
            self.writer = tf.summary.create_file_writer(str(self.tensorboard))

    def on_train_batch_end(self, batch, logs=None):
        self.global_step += 1
        if self.global_step % self.every:
            return
        logs = logs or {}
        loss, accuracy = _scalar(logs.get("loss"), math.nan), _scalar(logs.get("accuracy"), math.nan)
        s = self.state
        self.recorder.record_batch(s.epoch, s.step, self.global_step, loss, accuracy)
        if self.writer is not None and math.isfinite(loss):
            import tensorflow as tf

            with self.writer.as_default(step=self.global_step):
                tf.summary.scalar("batch/loss", loss)
                tf.summary.scalar("batch/accuracy", accuracy)

    def on_epoch_end(self, epoch, logs=None):
        if not self.state.epoch_complete(epoch):
            return
        if self.writer is not None:
            self._write_epoch(epoch)
        self.recorder.epoch_done(epoch, self.model)

    def _write_epoch(self, epoch: int) -> None:
        import tensorflow as tf

        metrics = self.recorder.epochs[-1] if self.recorder.epochs else {}
        with self.writer.as_default(step=epoch + 1):
            for key, value in metrics.items():
                if key not in ("epoch", "seconds") and isinstance(value, float) and math.isfinite(value):
                    tf.summary.scalar(f"epoch/{key}", value)
            if self._conv is not None:
                kernel = self.model.get_layer(self._conv).kernel.numpy()
                tf.summary.image(f"filters/{self._conv}", filter_grid(kernel), max_outputs=1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
