"""How much gradient reaches each block: per-block gradient norms on a probe batch.

In a deep plain stack the gradient of the loss shrinks (or grows) as it is passed back layer by
layer, so the first blocks learn far more slowly than the last; a skip connection (an ``Add`` of a
block's input to its output) gives the gradient a path around the block. Lesson 9 compares the
two with :func:`block_gradient_norms`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..network import Network
from .activations import prepare_images

if TYPE_CHECKING:
    import keras

__all__ = ["block_gradient_norms", "gradient_ratio"]


def block_gradient_norms(model: keras.Model, network: Network, images: np.ndarray,
                         labels: np.ndarray) -> dict[str, float]:
    """``{block_id: L2 norm of d(loss)/d(weights)}`` for every block with trainable weights.

    The loss is the mean sparse categorical cross-entropy of ``model`` (whose output is a softmax)
    on ``images`` with ``labels``; blocks are in the network's order.
    """
    import keras
    import tensorflow as tf

    x = tf.constant(prepare_images(images))
    y = tf.constant(np.asarray(labels).astype("int32"))
    order, _ = network.topological_order()
    variables: dict[str, list] = {}
    for bid in order:
        try:
            layer = model.get_layer(bid)
        except ValueError:
            continue
        if layer.trainable_weights:
            variables[bid] = list(layer.trainable_weights)
    flat = [v for vs in variables.values() for v in vs]
    with tf.GradientTape() as tape:
        probs = model(x, training=False)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probs))
    grads = tape.gradient(loss, flat)
    norms, i = {}, 0
    for bid, vs in variables.items():
        parts = [g for g in grads[i:i + len(vs)] if g is not None]
        i += len(vs)
        norms[bid] = float(np.sqrt(sum(float(tf.reduce_sum(tf.square(g))) for g in parts)))
    return norms


def gradient_ratio(norms: dict[str, float], block: str, over: str) -> float:
    """``norms[block] / norms[over]``: how much of the gradient at ``over`` reaches ``block``."""
    for bid in (block, over):
        if bid not in norms:
            raise KeyError(f"{bid} has no trainable weights")
    if norms[over] == 0:
        raise ZeroDivisionError(f"no gradient reaches {over}")
    return norms[block] / norms[over]
