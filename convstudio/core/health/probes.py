"""Cheap once-per-epoch probes of a model on a small fixed batch: dead ReLUs and per-block gradient norms.

One forward pass for the ReLU outputs and one forward-backward pass for the gradients on a probe
batch of a few dozen images: tens of milliseconds per epoch for the small networks of the app.
:class:`HealthCallback` runs them after every completed epoch and hands the figures to a sink.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from ..blocks import get_spec
from ..network import Network
from .events import HealthProbe

__all__ = ["HealthCallback", "dead_relu_shares", "gradient_norms", "relu_blocks", "weighted_blocks"]


def relu_blocks(network: Network, model: keras.Model) -> list[str]:
    """Ids of blocks whose output is a ReLU (a Conv2D or Dense with ReLU, or a ReLU Activation), in network order."""
    names = {layer.name for layer in model.layers}
    order, _ = network.topological_order()
    found = []
    for bid in order:
        block = network.blocks[bid]
        activation = get_spec(block.kind).activation
        relu = activation is not None and block.params.get(activation) == "relu"
        if relu and bid in names:
            found.append(bid)
    return found


def weighted_blocks(network: Network, model: keras.Model) -> list[str]:
    """Ids of blocks with trainable weights, in network order (input to output)."""
    names = {layer.name: layer for layer in model.layers}
    order, _ = network.topological_order()
    return [bid for bid in order if bid in names and names[bid].trainable_weights]


def dead_relu_shares(model: keras.Model, blocks: list[str], images: np.ndarray) -> dict[str, float]:
    """Per block, the share of units (channels) whose output is zero for every image of ``images`` (normalised)."""
    if not blocks:
        return {}
    probe = keras.Model(model.inputs, [model.get_layer(b).output for b in blocks])
    outputs = probe([images], training=False)
    if len(blocks) == 1:
        outputs = [outputs]
    shares = {}
    for bid, out in zip(blocks, outputs):
        values = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)
        peak = values.reshape(-1, values.shape[-1]).max(axis=0)
        shares[bid] = float(np.mean(peak <= 0.0))
    return shares


def gradient_norms(model: keras.Model, blocks: list[str], images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per block, the L2 norm of the cross-entropy gradient over its trainable weights on one batch."""
    import tensorflow as tf

    layers = [model.get_layer(b) for b in blocks]
    variables = [v for layer in layers for v in layer.trainable_variables]
    with tf.GradientTape() as tape:
        probabilities = tf.cast(model(images, training=False), tf.float32)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))
    grads = tape.gradient(loss, variables)
    norms, i = {}, 0
    for bid, layer in zip(blocks, layers):
        squares = 0.0
        for grad in grads[i:i + len(layer.trainable_variables)]:
            if grad is not None:
                squares += float(tf.reduce_sum(tf.square(tf.cast(grad, tf.float32))))
        i += len(layer.trainable_variables)
        norms[bid] = float(np.sqrt(squares))
    return norms


class HealthCallback(keras.callbacks.Callback):
    """After each completed epoch, probes the model on ``images``/``labels`` and calls ``sink(HealthProbe)``.

    ``complete(epoch)`` says whether the epoch finished (an interrupted one is not probed). A probe
    that fails (an unusual layer) is skipped: health figures must never end a run.
    """

    def __init__(self, network: Network, images: np.ndarray, labels: np.ndarray,
                 sink: Callable[[HealthProbe], None], complete: Callable[[int], bool]) -> None:
        super().__init__()
        self.network, self.images, self.labels = network, images, labels
        self.sink, self.complete = sink, complete
        self._blocks: tuple[list[str], list[str]] | None = None

    def probe(self, epoch: int) -> HealthProbe:
        model: Any = self.model
        if self._blocks is None:
            self._blocks = (weighted_blocks(self.network, model), relu_blocks(self.network, model))
        weighted, relus = self._blocks
        return HealthProbe(epoch, gradient_norms(model, weighted, self.images, self.labels),
                           dead_relu_shares(model, relus, self.images))

    def on_epoch_end(self, epoch, logs=None):
        if not self.complete(epoch):
            return
        try:
            probe = self.probe(epoch)
        except Exception:  # noqa: BLE001 - see the class docstring
            return
        self.sink(probe)
