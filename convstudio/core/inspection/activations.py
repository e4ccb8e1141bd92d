"""Every block's output for one sample, from a trained (or untrained) Keras model.

The builder names each layer after its block id, so one Keras sub-model whose outputs are those
layers gives the feature maps of every block in a single forward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..network import Network

if TYPE_CHECKING:
    import keras

__all__ = ["activation_model", "block_activations", "input_channels", "model_input", "prepare_images"]


def prepare_images(images: np.ndarray, channels: int = 1) -> np.ndarray:
    """Dataset images as model input: a batch ``(n, h, w, channels)`` of float32.

    Grey (``channels`` 1): one image ``(h, w)`` or ``(h, w, 1)``, or a batch ``(n, h, w)`` or
    ``(n, h, w, 1)``. Colour: one image ``(h, w, c)`` or a batch ``(n, h, w, c)``.
    uint8 images go through the project's preprocessing (scaled to [0, 1]); float images are
    taken as already preprocessed.
    """
    x = np.asarray(images)
    if channels > 1:
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[-1] != channels:
            raise ValueError(f"expected a colour image (h, w, {channels}) or a batch (n, h, w, {channels}), "
                             f"got shape {x.shape}")
        return _normalize(x) if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] == 1):
        x = x[None]  # one image
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"expected an image (h, w) or a batch of images (n, h, w), got shape {x.shape}")
    if x.dtype == np.uint8:
        return _normalize(x)
    return x.astype(np.float32)[..., None]


def _normalize(x: np.ndarray) -> np.ndarray:
    try:
        from ..pipeline import normalize
    except ImportError:  # the pipeline module is optional for inspection
        return (x.astype(np.float32) / 255.0)[..., None] if x.ndim == 3 else x.astype(np.float32) / 255.0
    return np.asarray(normalize(x), dtype=np.float32)


def input_channels(model: keras.Model) -> int:
    """How many channels the model's images have (1 grey, 3 colour)."""
    return int(model.inputs[0].shape[-1])


def model_input(model: keras.Model):
    """The model's single input tensor (so sub-models take a plain array, not a list)."""
    inputs = model.inputs
    return inputs[0] if len(inputs) == 1 else inputs


def activation_model(model: keras.Model, network: Network) -> keras.Model:
    """A Keras model with the same input whose outputs are ``{block_id: that block's output}``.

    Blocks the model does not contain (not connected to the input) are left out; the Input block
    is included (its output is the preprocessed image).
    """
    import keras

    order, _ = network.topological_order()
    outputs = {}
    for bid in order:
        try:
            layer = model.get_layer(bid)
        except ValueError:
            continue
        outputs[bid] = layer.output
    if not outputs:
        raise ValueError("the model has no layer named after a block of this network")
    return keras.Model(model_input(model), outputs, name=f"{model.name}_activations")


def block_activations(model: keras.Model, network: Network, image: np.ndarray,
                      act_model: keras.Model | None = None) -> dict[str, np.ndarray]:
    """``{block_id: activation}`` for one image, without the batch axis.

    Pass ``act_model`` (from :func:`activation_model`) to reuse it across calls.
    """
    x = prepare_images(image, input_channels(model))
    if x.shape[0] != 1:
        raise ValueError(f"expected one image, got a batch of {x.shape[0]}")
    act_model = act_model or activation_model(model, network)
    result = act_model(x, training=False)
    return {bid: np.asarray(value)[0] for bid, value in result.items()}
