"""Block kinds: each kind is one :class:`BlockSpec` in the module of its family, registered on import.

A spec owns every fact about its kind (parameters, inference, Keras layers and import, summary,
receptive-field window, glyph); builder, code generation, import, inspection and the canvas ask it.
``docs/adding_a_block.md`` walks through adding one.
"""

from __future__ import annotations

# The family modules register their kinds on import, in the palette's order.
# isort: off
from . import source, conv, pooling, dense, elementwise, merge, preprocess  # noqa: F401
# isort: on
from .base import (
                   ACTIVATIONS,
                   BLOCKS,
                   CATEGORIES,
                   COSTS,
                   FLOAT_BYTES,
                   POINTWISE,
                   RESAMPLE,
                   WHOLE,
                   BlockSpec,
                   Fix,
                   Inference,
                   KerasLayer,
                   ParamSpec,
                   Refusal,
                   Shape,
                   ShapeError,
                   Window,
                   activation_name,
                   activation_of,
                   get_spec,
                   need_image,
                   pair,
                   register,
                   resampled_span,
                   same_shape,
                   shape_str,
                   sliding,
                   sliding_output,
                   spec_for_keras,
                   window_output,
)
from .conv import KERNEL_INIT_HELP
from .head import OUTPUT_SOFTMAX, adds_softmax, is_added_softmax, output_activation, output_issue, softmax_layer
from .source import INPUT

__all__ = [
    "ACTIVATIONS", "BLOCKS", "CATEGORIES", "COSTS", "FLOAT_BYTES", "INPUT", "KERNEL_INIT_HELP", "OUTPUT_SOFTMAX",
    "POINTWISE", "RESAMPLE", "WHOLE", "BlockSpec", "Fix", "Inference", "KerasLayer", "ParamSpec", "Refusal", "Shape",
    "ShapeError", "Window", "activation_name", "activation_of", "adds_softmax", "get_spec", "is_added_softmax",
    "need_image", "output_activation", "output_issue", "pair", "register", "resampled_span", "same_shape", "shape_str",
    "sliding", "sliding_output", "softmax_layer", "spec_for_keras", "window_output",
]
