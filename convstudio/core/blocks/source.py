"""The Input block: where the images enter. Its shape comes from the dataset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import POINTWISE, BlockSpec, Inference, KerasLayer, Shape, register
from .glyph import Line, Rect


def _infer(params: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    raise AssertionError("the Input block's shape comes from the dataset")  # handled by shapes.analyze


def _layers(params: dict[str, Any], shapes: Sequence[Shape]) -> list[KerasLayer]:
    return []  # the model's keras.Input


INPUT = register(BlockSpec(
    "Input", "Input", "Input",
    "The images fed to the network; its shape comes from the dataset (28x28x1 for MNIST).",
    (), _infer, _layers,
    summary=lambda p: "images from the dataset",
    window=POINTWISE,
    glyph=(Rect(-0.32, -0.32, 0.64, 0.64, radius=0.06), Line(0, -0.16, 0, 0.18), Line(-0.12, 0.06, 0, 0.18),
           Line(0.12, 0.06, 0, 0.18)),
    min_inputs=0, max_inputs=0,
))
