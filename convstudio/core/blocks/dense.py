"""Flatten and Dense: from feature maps to a vector, then fully connected units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .base import (
    ACTIVATIONS,
    WHOLE,
    BlockSpec,
    Fix,
    Inference,
    KerasLayer,
    ParamSpec,
    Shape,
    ShapeError,
    activation_of,
    l2_config,
    l2_from_keras,
    l2_param,
    register,
    shape_str,
)
from .glyph import Ellipse, Line, Rect

FLATTEN = register(BlockSpec(
    "Flatten", "Flatten", "Dense", "Unrolls a stack of feature maps into one long vector for Dense blocks.",
    (), lambda p, shapes: Inference((math.prod(shapes[0]),), 0), lambda p, shapes: [KerasLayer("Flatten", {})],
    summary=lambda p: "to one vector",
    window=WHOLE,
    glyph=(Rect(-0.34, -0.34, 0.3, 0.3), Line(-0.02, -0.19, 0.16, -0.19),
           *(Rect(0.2, -0.34 + i * 0.17, 0.14, 0.13) for i in range(4))),
    imports={"Flatten": lambda cfg: {}},
    cost="free",
))


def _infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = shapes[0]
    if len(shape) != 1:
        raise ShapeError(
            f"Dense needs a flat vector but gets {shape_str(shape)}; insert Flatten before it",
            Fix("Insert Flatten", "insert_before", {"kind": FLATTEN.kind, "params": {}}),
        )
    n, units = shape[0], p["units"]
    return Inference((units,), (n + (1 if p["use_bias"] else 0)) * units, macs=n * units)


def _layers(p: dict[str, Any], shapes: Sequence[Shape]) -> list[KerasLayer]:
    return [KerasLayer("Dense", {"units": p["units"], "activation": p["activation"], "use_bias": p["use_bias"],
                                 **l2_config(p)})]


_LEFT = [(-0.28, -0.24 + i * 0.24) for i in range(3)]
_RIGHT = [(0.28, -0.12 + i * 0.24) for i in range(2)]

DENSE = register(BlockSpec(
    "Dense", "Dense", "Dense",
    "Every input connects to every unit: parameters = (inputs + 1) * units. "
    "The last Dense has one unit per class and softmax.",
    (ParamSpec("units", int, 128, "Number of output units", "Units", 1, 65536),
     ParamSpec("activation", str, "relu", "Non-linearity applied to the output", choices=ACTIVATIONS),
     ParamSpec("use_bias", bool, True, "Add a learned bias to each output", label="Bias"),
     l2_param()),
    _infer, _layers,
    summary=lambda p: f"{p['units']} units · {p['activation']}" + (f", L2 {p['l2']:g}" if p.get("l2") else ""),
    window=WHOLE,
    glyph=(*(Line(*a, *b, pen="thin") for a in _LEFT for b in _RIGHT),
           *(Ellipse(*q, 0.08, 0.08, "solid", pen="none") for q in _LEFT + _RIGHT)),
    imports={"Dense": lambda cfg: {"units": cfg["units"], "activation": activation_of(cfg),
                                   "use_bias": cfg["use_bias"], **l2_from_keras(cfg)}},
    activation="activation",
    cost="multiply",
))
