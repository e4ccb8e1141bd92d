"""Grad-CAM: where in the image a convolution block found evidence for a class.

Selvaraju et al. (2017): weight each feature map of a conv block by the mean gradient of the
class score over that map, sum, keep the positive part, upsample to the image and scale to [0, 1].
The class score is the pre-softmax logit when the model ends in a softmax (the builder's models
always do), so confident predictions do not flatten the gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..network import Network
from .activations import input_channels, model_input, prepare_images
from .receptive_field import receptive_fields

if TYPE_CHECKING:
    import keras

__all__ = ["grad_cam", "last_conv_block", "upsample_at"]


def last_conv_block(model: keras.Model) -> str | None:
    """Name (block id) of the model's last convolution layer, or None if it has none."""
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
    convs = [layer.name for layer in model.layers if isinstance(layer, kinds)]
    return convs[-1] if convs else None


def _logits_model(model: keras.Model, conv_name: str):
    """A model giving ``(conv output, scores)``, and whether ``scores`` are logits."""
    import keras

    conv = model.get_layer(conv_name).output
    last = model.layers[-1]
    if isinstance(last, keras.layers.Activation) and getattr(last.activation, "__name__", "") == "softmax":
        return keras.Model(model_input(model), [conv, last.input]), None
    if isinstance(last, keras.layers.Dense) and getattr(last.activation, "__name__", "") == "softmax":
        return keras.Model(model_input(model), [conv, last.input]), last
    return keras.Model(model_input(model), [conv, model.output]), "probabilities"


def grad_cam(model: keras.Model, image: np.ndarray, class_index: int | None = None,
             block_id: str | None = None, network: Network | None = None) -> np.ndarray:
    """Grad-CAM heat map for ``image`` and ``class_index`` (default: the predicted class).

    Returns a float32 ``(h, w)`` array of the image's size with values in [0, 1]; all zeros when
    no part of the block's maps speaks for the class. ``block_id`` defaults to the last Conv2D.
    With the ``network`` the model was built from, each unit's value is placed at the centre of its
    receptive field before interpolating (a valid convolution's map covers less than the image);
    without it the map is simply stretched over the image.
    """
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
    x = tf.constant(prepare_images(image, input_channels(model))[:1])
    coarse = _coarse_cam(model, block_id, x, class_index)
    centres = _field_centres(network, block_id, tuple(x.shape[1:])) if network is not None else None
    if centres is not None and centres[0].shape[0] == coarse.shape[0] and centres[1].shape[0] == coarse.shape[1]:
        cam = upsample_at(coarse, centres[0], centres[1], tuple(x.shape[1:3]))
    else:
        cam = tf.image.resize(coarse[..., None], x.shape[1:3], method="bilinear")[:, :, 0].numpy()
    cam = np.maximum(cam, 0.0)
    peak = float(cam.max())
    return (cam / peak if peak > 0 else cam).astype(np.float32)


def _class_scores(scores: Any, head: Any) -> Any:
    """Scores before the softmax: a Dense head's logits, or the log of the probabilities."""
    import keras
    import tensorflow as tf

    if isinstance(head, keras.layers.Dense):
        return tf.matmul(scores, head.kernel) + (head.bias if head.use_bias else 0.0)
    if head == "probabilities":
        return tf.math.log(scores + 1e-12)
    return scores


def _coarse_cam(model: keras.Model, block_id: str, x: Any, class_index: int | None) -> np.ndarray:
    """The block's maps weighted by the class score's mean gradient per channel, rectified: ``(h', w')``."""
    import tensorflow as tf

    grad_model, head = _logits_model(model, block_id)
    with tf.GradientTape() as tape:
        maps, scores = grad_model(x, training=False)
        scores = _class_scores(scores, head)
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
    return tf.nn.relu(tf.reduce_sum(maps * weights[:, None, None, :], axis=-1))[0].numpy()


def _field_centres(network: Network, block_id: str, input_shape: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    """Input rows and columns at the centres of ``block_id``'s units' receptive fields."""
    from ..shapes import analyze

    analysis = analyze(network, input_shape)
    shape = analysis.shape(block_id)
    if analysis.errors or shape is None or len(shape) != 3:
        return None
    info = receptive_fields(network, input_shape, analysis)[block_id]
    return tuple(info.start[a] + info.jump[a] * np.arange(shape[a]) + (info.size[a] - 1) / 2.0
                 for a in (0, 1))  # type: ignore[return-value]


def upsample_at(coarse: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of ``coarse[i, j]`` placed at input point ``(rows[i], cols[j])``.

    Pixels outside the span of the centres take the nearest edge value.
    """
    coarse = np.asarray(coarse, dtype=np.float64)
    ys, xs = np.arange(size[0], dtype=np.float64), np.arange(size[1], dtype=np.float64)
    if len(rows) > 1:
        along_rows = np.stack([np.interp(ys, rows, coarse[:, j]) for j in range(coarse.shape[1])], axis=1)
    else:
        along_rows = np.repeat(coarse[:1], size[0], axis=0)
    if len(cols) > 1:
        return np.stack([np.interp(xs, cols, along_rows[i]) for i in range(size[0])], axis=0)
    return np.repeat(along_rows[:, :1], size[1], axis=1)
