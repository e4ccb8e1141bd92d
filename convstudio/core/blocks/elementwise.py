"""Blocks that keep their input's shape: Dropout, SpatialDropout2D, BatchNorm, Activation and LeakyReLU."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .base import (
    ACTIVATIONS,
    DENSE_GROUP,
    POINTWISE,
    BlockSpec,
    Inference,
    KerasLayer,
    ParamSpec,
    Refusal,
    Shape,
    activation_of,
    need_image,
    register,
    same_shape,
)
from .glyph import Ellipse, Line, Polyline, Rect


def _dropout_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("noise_shape") is not None:
        raise Refusal(f"noise shape {cfg['noise_shape']} (ConvStudio drops single values)")
    return {"rate": cfg["rate"]}


DROPOUT = register(BlockSpec(
    "Dropout", "Dropout", "Regularisation",
    "During training, zeroes a random fraction of its inputs so units cannot co-adapt; "
    "does nothing at test time.",
    (ParamSpec("rate", float, 0.5, "Fraction of inputs dropped while training", "Rate", 0.0, 0.95),),
    same_shape, lambda p, shapes: [KerasLayer("Dropout", {"rate": p["rate"]})],
    summary=lambda p: f"rate {p['rate']:g}",
    window=POINTWISE,
    glyph=tuple(Ellipse(-0.24 + i * 0.24, -0.24 + j * 0.24, 0.07, 0.07) if (i + 2 * j) % 3 == 1
                else Ellipse(-0.24 + i * 0.24, -0.24 + j * 0.24, 0.08, 0.08, "solid")
                for i in range(3) for j in range(3)),
    imports={"Dropout": _dropout_from_keras},
    cost="heavy",
))


def _spatial_infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    need_image("SpatialDropout2D", shapes[0])
    return Inference(shapes[0], 0)


SPATIAL_DROPOUT = register(BlockSpec(
    "SpatialDropout2D", "SpatialDropout2D", "Regularisation",
    "During training, zeroes whole feature maps (channels) at random instead of single values: neighbouring "
    "pixels are alike, so dropping single values hardly regularises a convolution. Does nothing at test time.",
    (ParamSpec("rate", float, 0.2, "Fraction of feature maps dropped while training", "Rate", 0.0, 0.95),),
    _spatial_infer, lambda p, shapes: [KerasLayer("SpatialDropout2D", {"rate": p["rate"]})],
    summary=lambda p: f"maps, rate {p['rate']:g}",
    window=POINTWISE,
    glyph=(Rect(-0.34, -0.34, 0.3, 0.3, "solid"), Rect(0.04, -0.34, 0.3, 0.3), Rect(-0.34, 0.04, 0.3, 0.3),
           Rect(0.04, 0.04, 0.3, 0.3, "solid")),
    imports={"SpatialDropout2D": lambda cfg: {"rate": cfg["rate"]}},
    cost="heavy",
))


def _bn_infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = shapes[0]
    c = shape[-1]
    return Inference(shape, 4 * c, trainable_params=2 * c, macs=2 * math.prod(shape))


def _bn_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list | tuple) and len(axis) == 1 else axis
    reasons = []
    if axis not in (-1, 3):
        reasons.append(f"axis {cfg.get('axis')} (ConvStudio normalises the channels, axis -1)")
    if not cfg.get("center", True) or not cfg.get("scale", True):
        reasons.append("without its learned shift or scale")
    if cfg.get("renorm"):
        reasons.append("batch renormalisation")
    if reasons:
        raise Refusal(", ".join(reasons))
    return {"momentum": cfg["momentum"], "epsilon": cfg["epsilon"]}


def _bell(x: float) -> float:
    return 0.24 - 0.5 * math.exp(-((x / 0.15) ** 2))


BATCH_NORM = register(BlockSpec(
    "BatchNorm", "BatchNormalization", "Regularisation",
    "Normalises each channel over the batch, then scales and shifts it with learned gamma and beta.",
    (
        ParamSpec("momentum", float, 0.99, "Momentum of the running mean and variance", "Momentum", 0.0, 0.9999),
        ParamSpec("epsilon", float, 1e-3, "Small constant added to the variance", "Epsilon", 1e-7, 1.0),
    ),
    _bn_infer,
    lambda p, shapes: [KerasLayer("BatchNormalization", {"momentum": p["momentum"], "epsilon": p["epsilon"]})],
    summary=lambda p: f"momentum {p['momentum']:g}",
    window=POINTWISE,
    glyph=(Polyline(tuple((-0.36 + 0.72 * i / 40, _bell(-0.36 + 0.72 * i / 40)) for i in range(41))),
           Line(-0.36, 0.3, 0.36, 0.3)),
    imports={"BatchNormalization": _bn_from_keras},
    cost="heavy",
))

# --------------------------------------------------------------------------- Activation and its layer classes

LEAKY_SLOPE = 0.2
"""The negative slope of Keras' ``leaky_relu`` activation, which ConvStudio's blocks use."""


def _relu(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("max_value") is not None or cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
        raise Refusal("a capped, leaky or thresholded ReLU (only the plain one is a block)")
    return {"function": "relu"}


def _softmax(cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("axis", -1) not in (-1, [-1]):
        raise Refusal(f"softmax over axis {cfg['axis']} (only the last axis)")
    return {"function": "softmax"}


def _elu(cfg: dict[str, Any]) -> dict[str, Any]:
    if float(cfg.get("alpha", 1.0)) != 1.0:
        raise Refusal(f"alpha {cfg['alpha']} (ConvStudio's elu uses 1)")
    return {"function": "elu"}


ACTIVATION = register(BlockSpec(
    "Activation", "Activation", DENSE_GROUP,
    "Applies a non-linearity element by element; softmax turns scores into class probabilities.",
    (ParamSpec("function", str, "relu", "The non-linearity", "Function", choices=ACTIVATIONS),),
    same_shape, lambda p, shapes: [KerasLayer("Activation", {"activation": p["function"]})],
    summary=lambda p: str(p["function"]),
    window=POINTWISE,
    glyph=(Line(-0.34, 0.2, 0.0, 0.2), Line(0.0, 0.2, 0.32, -0.3), Line(-0.36, 0.2, 0.36, 0.2, pen="dashed")),
    imports={"Activation": lambda cfg: {"function": activation_of(cfg)}, "ReLU": _relu,
             "Softmax": _softmax, "ELU": _elu},
    activation="function",
))


def _leaky_from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
    return {"negative_slope": cfg.get("negative_slope", cfg.get("alpha", 0.3))}


LEAKY_RELU = register(BlockSpec(
    "LeakyReLU", "LeakyReLU", DENSE_GROUP,
    "Like ReLU, but negative inputs are scaled by a small slope instead of zeroed.",
    (ParamSpec("negative_slope", float, 0.3, "Slope for negative inputs", "Slope", 0.0, 1.0),),
    same_shape,
    lambda p, shapes: [KerasLayer("LeakyReLU", {"negative_slope": p["negative_slope"]})],
    summary=lambda p: f"slope {p['negative_slope']:g}",
    window=POINTWISE,
    glyph=(Line(-0.34, 0.3, 0.0, 0.2), Line(0.0, 0.2, 0.32, -0.3), Line(-0.36, 0.2, 0.36, 0.2, pen="dashed")),
    imports={"LeakyReLU": _leaky_from_keras},
))
