"""The network's output, in one place: a softmax is added when the last block does not end in one.

Shape checks, the builder, code generation and import all ask here, so the rule cannot drift
between them.
"""

from __future__ import annotations

from typing import Any

from .base import Fix, KerasLayer, Shape, activation_name, get_spec
from .dense import DENSE, FLATTEN
from .elementwise import ACTIVATION

__all__ = ["OUTPUT_SOFTMAX", "adds_softmax", "is_added_softmax", "output_activation", "output_issue",
           "softmax_layer"]

OUTPUT_SOFTMAX = "output_softmax"
"""Name of the softmax layer added after an output block that has none (no block may take it)."""


def output_activation(kind: str, params: dict[str, Any]) -> str | None:
    """The non-linearity a block of ``kind`` ends in, or None when it has none of its own."""
    name = get_spec(kind).activation
    return params.get(name) if name else None


def adds_softmax(kind: str, params: dict[str, Any]) -> bool:
    """Whether a softmax layer is added after this block when it is the network's output."""
    return output_activation(kind, params) != "softmax"


def softmax_layer() -> KerasLayer:
    """The added softmax: an Activation block's layer, named :data:`OUTPUT_SOFTMAX`."""
    layer = ACTIVATION.layers({"function": "softmax"}, ())[0]
    return KerasLayer(layer.cls, layer.config, suffix=OUTPUT_SOFTMAX)


def is_added_softmax(layer_name: str, class_name: str, config: dict[str, Any]) -> bool:
    """Whether a Keras layer is the softmax :func:`softmax_layer` adds (it comes back by itself)."""
    return (layer_name == OUTPUT_SOFTMAX and class_name == softmax_layer().cls
            and activation_name(config.get("activation")) == "softmax")


def output_issue(kind: str, params: dict[str, Any], shape: Shape,
                 num_classes: int) -> tuple[str, str, Fix | None] | None:
    """What is wrong with the output block, if anything: ``(message, severity, fix)``."""
    n = num_classes
    if shape != (n,):
        if len(shape) == 1 and "units" in params:
            fix = Fix(f"Set units to {n}", "set_param", {"name": "units", "value": n})
        elif len(shape) == 1:
            fix = Fix(f"Append Dense({n}, softmax)", "append",
                      {"kind": DENSE.kind, "params": {"units": n, "activation": "softmax"}})
        else:
            fix = Fix("Append Flatten", "append", {"kind": FLATTEN.kind, "params": {}})
        shown = "x".join(str(s) for s in shape)
        return (f"The output is {shown} but the dataset has {n} classes; end with Dense({n}, softmax)",
                "error", fix)
    if not adds_softmax(kind, params):
        return None
    name = get_spec(kind).activation
    fix = Fix("Use softmax", "set_param", {"name": name, "value": "softmax"}) if name else None
    return ("The output does not end in softmax; softmax is added so the outputs are class probabilities",
            "warning", fix)
