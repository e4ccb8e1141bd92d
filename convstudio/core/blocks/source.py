"""The Input block: where the images enter, with a shape (height, width, channels) of its own.

Choosing a dataset sets the shape; a network can be designed for any image size without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    POINTWISE,
    BlockSpec,
    Inference,
    KerasLayer,
    ParamSpec,
    Shape,
    register,
)
from .glyph import Line, Rect

MAX_SIDE = 4096
MAX_CHANNELS = 64


def input_shape_of(params: dict[str, Any]) -> Shape:
    """The Input block's image shape ``(height, width, channels)``."""
    return int(params["height"]), int(params["width"]), int(params["channels"])


def shape_params(shape: Shape) -> dict[str, int]:
    """The Input block's parameters for an image ``shape`` (height, width, channels)."""
    h, w, c = (int(d) for d in shape)
    return {"height": h, "width": w, "channels": c}


def _infer(params: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    return Inference(input_shape_of(params), 0)


def _layers(params: dict[str, Any], shapes: Sequence[Shape]) -> list[KerasLayer]:
    return []  # the model's keras.Input


def _summary(p: dict[str, Any]) -> str:
    colour = {1: "grey", 3: "RGB", 4: "RGBA"}.get(p["channels"], f"{p['channels']} channels")
    return f"{p['height']}x{p['width']}x{p['channels']} images ({colour})"


INPUT = register(BlockSpec(
    "Input", "Input", "Input",
    "The images fed to the network: height x width x channels (1 = grey, 3 = colour). "
    "Choosing a dataset sets it (28x28x1 for MNIST).",
    (
        ParamSpec("height", int, 28, "Image height in pixels", "Height", 1, MAX_SIDE),
        ParamSpec("width", int, 28, "Image width in pixels", "Width", 1, MAX_SIDE),
        ParamSpec("channels", int, 1, "Colour channels: 1 for grey, 3 for RGB", "Channels", 1, MAX_CHANNELS),
    ),
    _infer, _layers, _summary,
    window=POINTWISE,
    glyph=(Rect(-0.32, -0.32, 0.64, 0.64, radius=0.06), Line(0, -0.16, 0, 0.18), Line(-0.12, 0.06, 0, 0.18),
           Line(0.12, 0.06, 0, 0.18)),
    min_inputs=0, max_inputs=0,
    cost="free",
))
