"""Merges: Add (residual connections) and Concatenate (Inception branches)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .base import POINTWISE, BlockSpec, Inference, KerasLayer, Refusal, Shape, ShapeError, register, shape_str
from .glyph import Ellipse, Line, Rect


def _infer_add(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    first = shapes[0]
    for other in shapes[1:]:
        if other != first:
            listed = ", ".join(shape_str(s) for s in shapes)
            raise ShapeError(f"Add needs inputs of one shape, got {listed}; match the branches' filters and strides")
    return Inference(first, 0, macs=math.prod(first) * (len(shapes) - 1))


ADD = register(BlockSpec(
    "Add", "Add", "Merge", "Adds its inputs element by element: the skip connection of a residual block.",
    (), _infer_add, lambda p, shapes: [KerasLayer("Add", {})],
    summary=lambda p: "element-wise sum",
    window=POINTWISE,
    glyph=(Ellipse(0, 0, 0.32, 0.32), Line(-0.16, 0, 0.16, 0), Line(0, -0.16, 0, 0.16)),
    imports={"Add": lambda cfg: {}},
    min_inputs=2, max_inputs=8,
))


def _infer_concat(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    first = shapes[0]
    for other in shapes[1:]:
        if len(other) != len(first) or other[:-1] != first[:-1]:
            listed = ", ".join(shape_str(s) for s in shapes)
            raise ShapeError(
                f"Concatenate needs inputs that differ only in channels, got {listed}; "
                "use padding 'same' in every branch"
            )
    return Inference(first[:-1] + (sum(s[-1] for s in shapes),), 0)


def _concat_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("axis", -1) not in (-1, 3):
        raise Refusal(f"concatenation along axis {cfg['axis']} (ConvStudio joins channels, axis -1)")
    return {}


CONCATENATE = register(BlockSpec(
    "Concatenate", "Concatenate", "Merge",
    "Stacks its inputs along the channels: joins the branches of an Inception block.",
    (), _infer_concat, lambda p, shapes: [KerasLayer("Concatenate", {"axis": -1})],
    summary=lambda p: "stack channels",
    window=POINTWISE,
    glyph=(Rect(-0.34, -0.3, 0.2, 0.6), Rect(-0.1, -0.3, 0.2, 0.6), Rect(0.14, -0.3, 0.2, 0.6, "solid")),
    imports={"Concatenate": _concat_from_keras},
    min_inputs=2, max_inputs=8,
))
