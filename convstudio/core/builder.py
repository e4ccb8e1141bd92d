"""Build a Keras 3 functional model from a network.

Layer names are block ids (a Conv2D with 'full' padding adds ``<id>__pad`` before it), so a
layer's activations map straight back to the block that made them. With ``mixed_precision`` every
block but the output computes in float16 (weights stay float32); the output block and its softmax
stay float32 for a numerically safe loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blocks import Shape, get_spec
from .network import Network
from .shapes import Analysis, analyze

if TYPE_CHECKING:
    import keras

__all__ = ["BuildError", "OUTPUT_SOFTMAX", "build_model"]

OUTPUT_SOFTMAX = "output_softmax"


class BuildError(ValueError):
    """The network has validation errors and cannot be built; the message lists them."""


def build_model(network: Network, input_shape: Shape = (28, 28, 1), num_classes: int = 10,
                analysis: Analysis | None = None, name: str = "convstudio",
                mixed_precision: bool = False) -> "keras.Model":
    """The network as a ``keras.Model`` whose output is a softmax over ``num_classes``."""
    import keras

    analysis = analysis or analyze(network, input_shape, num_classes)
    if not analysis.ok:
        lines = [f"- {i.block_id or 'network'}: {i.message}" for i in analysis.errors]
        raise BuildError("The network cannot be built yet:\n" + "\n".join(lines))
    input_id = network.input_blocks()[0]
    inputs = keras.Input(shape=tuple(input_shape), name=input_id)
    tensors = {input_id: inputs}
    out_id = analysis.output_id
    for bid in analysis.order:
        block = network.blocks[bid]
        if block.kind == "Input":
            continue
        srcs = network.inputs_of(bid)
        if not srcs or any(s not in tensors for s in srcs):
            continue  # not on the path from the input (validation already reported it)
        spec = get_spec(block.kind)
        x = [tensors[s] for s in srcs] if spec.max_inputs > 1 else tensors[srcs[0]]
        shapes = [analysis.info[s].shape for s in srcs]
        layers = spec.keras(block.params, bid, shapes) if spec.keras_takes_shapes else spec.keras(block.params, bid)
        for layer in layers:
            if mixed_precision and bid != out_id:
                layer.dtype_policy = "mixed_float16"  # set before the layer is built
            x = layer(x)
        tensors[bid] = x
    assert out_id is not None
    outputs = tensors[out_id]
    block = network.blocks[out_id]
    if block.params.get("activation", block.params.get("function")) != "softmax":
        outputs = keras.layers.Activation("softmax", name=OUTPUT_SOFTMAX)(outputs)
    return keras.Model(inputs, outputs, name=name)
