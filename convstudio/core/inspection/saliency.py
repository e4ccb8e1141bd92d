"""Grad-CAM: where in the image a convolution block found evidence for a class.

Selvaraju et al. (2017): weight each feature map of a conv block by the mean gradient of the
class score over that map, sum, keep the positive part, upsample to the image and scale to [0, 1].
The class score is the pre-softmax logit when the model ends in a softmax (the builder's models
always do), so confident predictions do not flatten the gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .activations import model_input, prepare_images

if TYPE_CHECKING:
    import keras

__all__ = ["grad_cam", "last_conv_block"]


def last_conv_block(model: "keras.Model") -> str | None:
    """Name (block id) of the model's last Conv2D layer, or None if it has none."""
    import keras

    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return convs[-1] if convs else None


def _logits_model(model: "keras.Model", conv_name: str):
    """A model giving ``(conv output, scores)``, and whether ``scores`` are logits."""
    import keras

    conv = model.get_layer(conv_name).output
    last = model.layers[-1]
    if isinstance(last, keras.layers.Activation) and getattr(last.activation, "__name__", "") == "softmax":
        return keras.Model(model_input(model), [conv, last.input]), None
    if isinstance(last, keras.layers.Dense) and getattr(last.activation, "__name__", "") == "softmax":
        return keras.Model(model_input(model), [conv, last.input]), last
    return keras.Model(model_input(model), [conv, model.output]), "probabilities"


def grad_cam(model: "keras.Model", image: np.ndarray, class_index: int | None = None,
             block_id: str | None = None) -> np.ndarray:
    """Grad-CAM heat map for ``image`` and ``class_index`` (default: the predicted class).

    Returns a float32 ``(h, w)`` array of the image's size with values in [0, 1]; all zeros when
    no part of the block's maps speaks for the class. ``block_id`` defaults to the last Conv2D.
    """
    import keras
    import tensorflow as tf

    block_id = block_id or last_conv_block(model)
    if block_id is None:
        raise ValueError("Grad-CAM needs a Conv2D block; this network has none")
    try:
        layer = model.get_layer(block_id)
    except ValueError:
        raise ValueError(f"the model has no block {block_id!r}") from None
    if len(layer.output.shape) != 4:
        raise ValueError(f"Grad-CAM needs a block with feature maps; {block_id} has a flat output")
    x = tf.constant(prepare_images(image)[:1])
    grad_model, head = _logits_model(model, block_id)
    with tf.GradientTape() as tape:
        maps, scores = grad_model(x, training=False)
        if isinstance(head, keras.layers.Dense):
            scores = tf.matmul(scores, head.kernel) + (head.bias if head.use_bias else 0.0)
        elif head == "probabilities":
            scores = tf.math.log(scores + 1e-12)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        n_classes = int(scores.shape[-1])
        if not 0 <= class_index < n_classes:
            raise ValueError(f"class {class_index} is out of range; the model has {n_classes} classes")
        score = scores[:, class_index]
    grads = tape.gradient(score, maps)
    if grads is None:
        raise ValueError(f"the class score does not depend on {block_id}")
    weights = tf.reduce_mean(grads, axis=(1, 2))  # (1, channels)
    cam = tf.nn.relu(tf.reduce_sum(maps * weights[:, None, None, :], axis=-1))[..., None]
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[0, :, :, 0].numpy()
    cam = np.maximum(cam, 0.0)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam).astype(np.float32)
