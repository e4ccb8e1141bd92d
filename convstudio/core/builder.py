"""Build a Keras 3 functional model from a network.

Each block's layers come from its spec. Layer names are block ids (a block's helper layers are
``<id>__<role>``, e.g. the zero padding before a convolution with 'full' padding), so a layer's
activations map straight back to the block that made them. With ``mixed_precision`` every block
but the output computes in float16 (weights stay float32); the output block and its softmax stay
float32 for a numerically safe loss.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .blocks import INPUT, OUTPUT_SOFTMAX, Shape, adds_softmax, get_spec, softmax_layer
from .network import Network
from .shapes import Analysis, analyze

if TYPE_CHECKING:
    import keras

__all__ = ["BuildError", "OUTPUT_SOFTMAX", "build_model", "model_name"]


class BuildError(ValueError):
    """The network has validation errors and cannot be built; the message lists them."""


_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


def model_name(text: str | None, default: str = "convstudio") -> str:
    """``text`` as a model name TensorFlow accepts as its root name scope (letters, digits, ``_.-``).

    Other characters become ``_``; a name that would not start with a letter, digit or ``.`` gets
    ``default`` in front, so ``"my model"`` is ``"my_model"`` and ``"-x"`` is ``"convstudio_-x"``.
    Keras refuses to train a model whose name is not such a scope name.
    """
    name = _NOT_IN_A_NAME.sub("_", text or "").strip("_")[:64]
    if not name:
        return default
    return name if re.match(r"[A-Za-z0-9.]", name) else f"{default}_{name}"


def build_model(network: Network, input_shape: Shape | None = None, num_classes: int = 10,
                analysis: Analysis | None = None, name: str = "convstudio",
                mixed_precision: bool = False) -> keras.Model:
    """The network as a ``keras.Model`` whose output is a softmax over ``num_classes``.

    The model takes images of the Input block's shape (``input_shape``, when given, stands in for it);
    its name is ``name`` made a valid one (:func:`model_name`).
    """
    import keras

    analysis = analysis or analyze(network, input_shape, num_classes)
    if not analysis.ok:
        lines = [f"- {i.block_id or 'network'}: {i.message}" for i in analysis.errors]
        raise BuildError("The network cannot be built yet:\n" + "\n".join(lines))
    input_id = network.input_blocks()[0]
    tensors = {input_id: keras.Input(shape=tuple(analysis.input_shape), name=input_id)}
    out_id = analysis.output_id
    for bid in analysis.order:
        srcs = network.inputs_of(bid)
        if not _on_path(network, bid, srcs, tensors):
            continue
        policy = "mixed_float16" if mixed_precision and bid != out_id else None
        tensors[bid] = _apply(network, bid, [tensors[s] for s in srcs], [analysis.info[s].shape for s in srcs],
                              policy)
    assert out_id is not None
    outputs = tensors[out_id]
    block = network.blocks[out_id]
    if adds_softmax(block.kind, block.params):
        outputs = softmax_layer().build("")(outputs)
    return keras.Model(tensors[input_id], outputs, name=model_name(name))


def _on_path(network: Network, bid: str, srcs: list[str], tensors: dict) -> bool:
    """False for the input, and for blocks not reached from it (validation already reported those)."""
    return network.blocks[bid].kind != INPUT.kind and bool(srcs) and all(s in tensors for s in srcs)


def _apply(network: Network, bid: str, inputs: list, shapes: list, policy: str | None):
    """The block's Keras layers applied to its inputs' tensors (a list only for merges)."""
    block = network.blocks[bid]
    spec = get_spec(block.kind)
    x = inputs if spec.max_inputs > 1 else inputs[0]
    for layer in spec.keras_layers(block.params, bid, shapes):
        if policy:
            layer.dtype_policy = policy  # set before the layer is built
        x = layer(x)
    return x
