"""Pooling: windowed max/average (MaxPool2D, AvgPool2D) and whole-map global pooling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    WHOLE,
    BlockSpec,
    Inference,
    KerasLayer,
    ParamSpec,
    Refusal,
    Shape,
    need_image,
    pair,
    register,
    sliding,
    sliding_output,
)
from .glyph import Ellipse, Glyph, Line, Rect


def _pool_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("pool_h", int, 2, "Height of the pooling window", "Pool height", 1, 28),
        ParamSpec("pool_w", int, 2, "Width of the pooling window", "Pool width", 1, 28),
        ParamSpec("stride_h", int, 2, "Rows the window moves per step", "Stride height", 1, 28),
        ParamSpec("stride_w", int, 2, "Columns the window moves per step", "Stride width", 1, 28),
        ParamSpec("padding", str, "valid", "'valid': no border; 'same': keep ceil(n / stride)",
                  choices=("valid", "same")),
    )


def _pool_summary(p: dict[str, Any]) -> str:
    stride = f"s{p['stride_h']}" if p["stride_h"] == p["stride_w"] else f"s{p['stride_h']}x{p['stride_w']}"
    return f"{p['pool_h']}x{p['pool_w']}, {stride}, {p['padding']}"


def _pool_glyph(fills: tuple[str, str, str, str]) -> Glyph:
    """A 2x2 window (max keeps one cell, average blends all four), then the single output cell."""
    cells = [Rect(-0.36 + i * 0.22, -0.36 + j * 0.22, 0.2, 0.2, fills[2 * j + i]) for j in range(2) for i in range(2)]
    return (*cells, Line(0.1, 0.1, 0.2, 0.2), Rect(0.16, 0.16, 0.2, 0.2, "solid"))


def _windowed(kind: str, how: str, keras_class: str, glyph: Glyph, explore: str) -> BlockSpec:
    def infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
        shape = shapes[0]
        oh, ow = sliding_output(kind, "Pool window", shape, (p["pool_h"], p["pool_w"]), (p["stride_h"], p["stride_w"]),
                                p["padding"])
        return Inference((oh, ow, shape[2]), 0, macs=oh * ow * shape[2] * p["pool_h"] * p["pool_w"])

    def layers(p: dict[str, Any], shapes: Sequence[Shape]) -> list[KerasLayer]:
        return [KerasLayer(keras_class, {"pool_size": (p["pool_h"], p["pool_w"]),
                                         "strides": (p["stride_h"], p["stride_w"]), "padding": p["padding"]})]

    def from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
        (ph, pw) = pair(cfg["pool_size"])
        sh, sw = pair(cfg["strides"] if cfg.get("strides") is not None else cfg["pool_size"])
        return {"pool_h": ph, "pool_w": pw, "stride_h": sh, "stride_w": sw, "padding": cfg["padding"]}

    return BlockSpec(kind, kind, "Pooling",
                     f"Keeps the {how} of each window, per channel: shrinks the map, has no parameters.",
                     _pool_params(), infer, layers, _pool_summary, window=sliding("pool_h", "pool_w"), glyph=glyph,
                     imports={keras_class: from_keras}, explore=explore)


def _global(kind: str, how: str, keras_class: str, glyph: Glyph) -> BlockSpec:
    def infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
        h, w, c = need_image(kind, shapes[0])
        return Inference((c,), 0, macs=h * w * c)

    def from_keras(cfg: dict[str, Any]) -> dict[str, Any]:
        if cfg.get("keepdims"):
            raise Refusal("keepdims=True (ConvStudio's global pooling gives a flat vector)")
        return {}

    return BlockSpec(kind, kind, "Pooling", f"Takes the {how} of each whole feature map: one number per channel.",
                     (), infer, lambda p, shapes: [KerasLayer(keras_class, {})], lambda p: "one value per channel",
                     window=WHOLE, glyph=glyph, imports={keras_class: from_keras})


def _global_glyph(fill: str, *mark: Rect) -> Glyph:
    """A whole map reduced to one value per channel."""
    return (Rect(-0.36, -0.36, 0.46, 0.46, fill), *mark, Line(0.12, 0.12, 0.2, 0.2),
            Ellipse(0.26, 0.26, 0.09, 0.09, "solid"))


MAX_POOL = register(_windowed("MaxPool2D", "maximum", "MaxPooling2D", _pool_glyph(("solid", "none", "none", "none")),
                            "max"))
AVG_POOL = register(_windowed("AvgPool2D", "average", "AveragePooling2D", _pool_glyph(("half",) * 4), "avg"))
GLOBAL_AVG_POOL = register(_global("GlobalAvgPool2D", "average", "GlobalAveragePooling2D", _global_glyph("half")))
GLOBAL_MAX_POOL = register(_global("GlobalMaxPool2D", "maximum", "GlobalMaxPooling2D",
                                   _global_glyph("none", Rect(-0.1, -0.32, 0.16, 0.16, "solid"))))
