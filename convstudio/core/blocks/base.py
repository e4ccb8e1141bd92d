"""The parts every block kind is made of: :class:`BlockSpec`, its registry, and shared helpers.

A spec owns every fact about its kind, the way a Keras layer owns its config: its parameters, shape,
parameter and MAC inference (pure Python, no TensorFlow), the Keras layers it becomes as plain
``(class name, config)`` data, how a Keras layer maps back to it, its one-line summary, how its
units see the input (for receptive fields) and its glyph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..params import ParamSpec
from .glyph import Glyph

if TYPE_CHECKING:
    import keras

__all__ = [
    "ACTIVATIONS", "BLOCKS", "CATEGORIES", "COSTS", "DENSE_GROUP", "FLOAT_BYTES", "POINTWISE", "RESAMPLE", "WHOLE", "BlockSpec", "Fix",
    "Inference", "KerasLayer", "ParamSpec", "Refusal", "Shape", "ShapeError", "Window", "activation_name",
    "activation_of", "get_spec", "l2_config", "l2_from_keras", "l2_param", "need_image", "pair", "register",
    "resampled_span", "same_shape", "shape_str", "sliding", "sliding_output", "spec_for_keras", "window_output",
]

Shape = tuple[int, ...]
"""A tensor shape without the batch dimension: ``(h, w, c)`` for images, ``(n,)`` for vectors."""

ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "linear")
CATEGORIES = ("Input", "Preprocessing", "Convolution", "Pooling", "Dense", "Regularisation", "Merge")
"""The palette's groups, in order; each has its colour."""
DENSE_GROUP = "Dense"
FLOAT_BYTES = 4
COSTS = ("free", "light", "heavy", "resample", "multiply")
"""What training time a block costs per element it reads and writes: ``free`` (a view: Input, Flatten),
``light`` (one cheap operation per element: pooling, activations, merges), ``heavy`` (statistics or a
random draw per element: BatchNorm, Dropout, flips), ``resample`` (interpolation per pixel: rotation,
zoom, resizing), ``multiply`` (convolutions and Dense: their multiply-accumulates, plus a cost per
window tap and output element, which dominates when they have few input channels). See
:mod:`convstudio.core.estimate`."""


@dataclass(frozen=True)
class Fix:
    """A suggested repair the UI can apply with one click.

    ``action`` is one of ``"insert_before"`` (args: ``kind``, ``params``), ``"set_param"``
    (args: ``name``, ``value``) or ``"append"`` (args: ``kind``, ``params``).
    """

    label: str
    action: str
    args: dict[str, Any] = field(default_factory=dict)


class ShapeError(Exception):
    """A block cannot work on its inputs; carries a human message and maybe a fix."""

    def __init__(self, message: str, fix: Fix | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Inference:
    """What shape inference knows about one block's output."""

    shape: Shape
    params: int = 0
    trainable_params: int | None = None
    macs: int = 0

    @property
    def non_trainable_params(self) -> int:
        return self.params - (self.params if self.trainable_params is None else self.trainable_params)


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer a block becomes: ``keras.layers.<cls>(**config, name=<block id><suffix>)``.

    ``config`` holds plain Python values only (numbers, strings, booleans, tuples, lists, dicts,
    None), so code generation can write each one with ``repr``.
    """

    cls: str
    config: Mapping[str, Any]
    suffix: str = ""

    def build(self, block_id: str) -> keras.layers.Layer:
        import keras

        return getattr(keras.layers, self.cls)(**self.config, name=block_id + self.suffix)


@dataclass(frozen=True)
class Window:
    """How a block's output units see its input, for receptive fields.

    ``"sliding"``: a window of ``size`` (parameter names, height and width) moving by ``stride``
    with ``padding``, its taps ``dilation`` apart (no names: 1); ``"resample"``: the image is resized,
    unit ``i`` of ``n_out`` sees the input around ``(i + 0.5) * n_in / n_out`` (and its neighbours,
    for interpolation); ``"pointwise"``: unit (i, j) sees unit (i, j) of every input (element-wise
    blocks, merges); ``"whole"``: every unit sees the whole input (flat outputs).
    """

    kind: str
    size: tuple[str, str] = ("", "")
    stride: tuple[str, str] = ("stride_h", "stride_w")
    padding: str = "padding"
    dilation: tuple[str, str] = ("", "")

    @property
    def sliding(self) -> bool:
        return self.kind == "sliding"

    def along(self, params: Mapping[str, Any], axis: int, n_in: int, n_out: int) -> tuple[int, int, int]:
        """Effective kernel ``d * (k - 1) + 1``, stride and zeros before the input along ``axis``
        (0 rows, 1 columns)."""
        k, s, padding = params[self.size[axis]], params[self.stride[axis]], params[self.padding]
        if self.dilation[axis]:
            k = params[self.dilation[axis]] * (k - 1) + 1
        if padding == "same":
            return k, s, max((n_out - 1) * s + k - n_in, 0) // 2
        return k, s, k - 1 if padding == "full" else 0


def sliding(height: str, width: str, dilation: tuple[str, str] = ("", "")) -> Window:
    """A sliding window whose height and width are the parameters ``height`` and ``width`` (taps
    spaced by the ``dilation`` parameters, if named)."""
    return Window("sliding", (height, width), dilation=dilation)


def resampled_span(a: int, b: int, n_in: int, n_out: int) -> tuple[int, int]:
    """Input units that output units ``[a, b]`` of an image resized from ``n_in`` to ``n_out`` can see:
    the two neighbours of each sample point (bilinear), widened by one for rounding."""
    scale = n_in / n_out
    return math.floor((a + 0.5) * scale - 0.5) - 1, math.ceil((b + 0.5) * scale - 0.5) + 1


POINTWISE = Window("pointwise")
WHOLE = Window("whole")
RESAMPLE = Window("resample")


class Refusal(Exception):
    """A Keras layer a block cannot reproduce exactly; the message says why."""


InferFn = Callable[[dict[str, Any], Sequence[Shape]], Inference]
LayersFn = Callable[[dict[str, Any], Sequence[Shape]], Sequence[KerasLayer]]
SummaryFn = Callable[[dict[str, Any]], str]
ImportFn = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class BlockSpec:
    """Everything the app knows about one kind of block.

    ``imports`` maps a Keras layer class name to a function from that layer's config to this
    block's parameters (raising :class:`Refusal` when the block cannot reproduce it).
    ``activation`` names the parameter holding the block's output non-linearity, if it has one.
    ``kernel_view``: its Keras layer's ``kernel`` (height, width, in, filters) is shown as filters.
    ``explore``: how the convolution explorer steps through its sliding window ('conv', 'max', 'avg').
    ``augments``: a random augmentation, active only while training (the image passes unchanged at
    inference); its Keras layer takes a ``seed``.
    ``cost``: one of :data:`COSTS`, what each element it reads and writes costs when training.
    """

    kind: str
    label: str
    category: str
    help: str
    params: tuple[ParamSpec, ...]
    infer: InferFn
    layers: LayersFn
    summary: SummaryFn
    window: Window
    glyph: Glyph
    imports: Mapping[str, ImportFn] = field(default_factory=dict)
    min_inputs: int = 1
    max_inputs: int = 1
    activation: str | None = None
    kernel_view: bool = False
    explore: str | None = None
    augments: bool = False
    cost: str = "light"

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.label} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``params``, each checked; unknown names raise ``ValueError``."""
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"{self.label} has no parameter(s) {', '.join(unknown)}")
        merged = self.defaults()
        for p in self.params:
            if p.name in params:
                merged[p.name] = p.validate(params[p.name])
        return merged

    def keras_layers(self, params: dict[str, Any], block_id: str,
                     input_shapes: Sequence[Shape] = ()) -> list[keras.layers.Layer]:
        """The block as Keras layers, the last one named ``block_id``."""
        return [layer.build(block_id) for layer in self.layers(params, input_shapes)]

    def from_keras(self, class_name: str, config: dict[str, Any]) -> dict[str, Any]:
        """This block's checked parameters for a Keras layer, or :class:`Refusal` saying why not."""
        params = self.imports[class_name](config)
        try:
            return self.validate_params(params)
        except ValueError as exc:
            raise Refusal(str(exc)) from None


BLOCKS: dict[str, BlockSpec] = {}


def register(spec: BlockSpec) -> BlockSpec:
    """Add ``spec`` to the registry; a kind or Keras class claimed twice is a programming error."""
    if spec.kind in BLOCKS:
        raise ValueError(f"block kind {spec.kind!r} is registered twice")
    for other in BLOCKS.values():
        shared = set(other.imports) & set(spec.imports)
        if shared:
            raise ValueError(f"{spec.kind} and {other.kind} both import {', '.join(sorted(shared))}")
    if spec.cost not in COSTS:
        raise ValueError(f"{spec.kind} has cost {spec.cost!r}, not one of {', '.join(COSTS)}")
    BLOCKS[spec.kind] = spec
    return spec


def get_spec(kind: str) -> BlockSpec:
    try:
        return BLOCKS[kind]
    except KeyError:
        raise KeyError(f"unknown block kind {kind!r}; known kinds: {', '.join(BLOCKS)}") from None


def spec_for_keras(class_name: str) -> BlockSpec | None:
    """The block kind that imports Keras layers of ``class_name``, if any."""
    return next((s for s in BLOCKS.values() if class_name in s.imports), None)


# --------------------------------------------------------------------------- shape helpers


def need_image(kind_label: str, shape: Shape) -> tuple[int, int, int]:
    """``shape`` as (height, width, channels), or a :class:`ShapeError` saying where the block belongs."""
    if len(shape) != 3:
        if len(shape) == 1:
            raise ShapeError(
                f"{kind_label} needs an image-shaped input (height, width, channels) but gets a flat "
                f"vector of {shape[0]}; move it before Flatten or Dense"
            )
        raise ShapeError(f"{kind_label} needs a 3-D input (height, width, channels), got {shape_str(shape)}")
    return shape  # type: ignore[return-value]


def shape_str(shape: Shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def window_output(n: int, f: int, s: int, padding: str) -> int:
    """Output side of a sliding window: floor((n + 2p - f) / s) + 1, Keras 'same' = ceil(n / s)."""
    if padding == "same":
        return -(-n // s)
    p = f - 1 if padding == "full" else 0
    return (n + 2 * p - f) // s + 1


def sliding_output(label: str, what: str, shape: Shape, window: tuple[int, int], stride: tuple[int, int],
                   padding: str) -> tuple[int, int]:
    """Output height and width of a ``window`` sliding over an image ``shape``, or a :class:`ShapeError`."""
    (h, w, _), (fh, fw) = need_image(label, shape), window
    if padding == "valid" and (fh > h or fw > w):
        raise ShapeError(
            f"{what} {fh}x{fw} is larger than its {h}x{w} input; use a smaller {what.lower()} or padding 'same'",
            Fix("Use padding 'same'", "set_param", {"name": "padding", "value": "same"}),
        )
    oh, ow = window_output(h, fh, stride[0], padding), window_output(w, fw, stride[1], padding)
    if oh <= 0 or ow <= 0:
        raise ShapeError(f"the output shrinks to {oh}x{ow}; reduce the stride or the {what.lower()}")
    return oh, ow


def same_shape(params: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    """Inference of a block whose output has its input's shape and which has no parameters."""
    return Inference(shapes[0], 0)


# --------------------------------------------------------------------------- reading Keras configs


def pair(value: Any) -> tuple[int, int]:
    """A Keras size or stride (an int or a pair) as a pair of ints."""
    if isinstance(value, int):
        return value, value
    a, b = value
    return int(a), int(b)


def activation_name(value: Any) -> str | None:
    """The name of an activation as a Keras config holds it (a string, a serialized function...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a serialized built-in activation
        name = value.get("config", value.get("class_name"))
        return name if isinstance(name, str) else None
    return getattr(value, "__name__", None)


def activation_of(config: dict[str, Any], key: str = "activation") -> str:
    """The activation named by ``config[key]``, or :class:`Refusal` when no block offers it."""
    name = activation_name(config.get(key))
    if name not in ACTIVATIONS:
        raise Refusal(f"activation {name or config.get(key)!r} is not one of {', '.join(ACTIVATIONS)}")
    return name


# --------------------------------------------------------------------------- L2 weight decay


def l2_param() -> ParamSpec:
    """The L2 weight decay of a block's kernel (Keras' ``kernel_regularizer=L2(factor)``; 0 = off)."""
    return ParamSpec("l2", float, 0.0, "L2 weight decay: adds factor * sum(kernel**2) to the loss; 0 = off",
                     "L2 decay", 0.0, 1.0)


def l2_config(p: Mapping[str, Any], key: str = "kernel_regularizer") -> dict[str, Any]:
    """The Keras config entry for the block's L2 decay (nothing when it is off)."""
    factor = p.get("l2", 0.0)
    return {key: {"class_name": "L2", "config": {"l2": float(factor)}}} if factor else {}


def l2_from_keras(cfg: Mapping[str, Any], key: str = "kernel_regularizer") -> dict[str, float]:
    """``{"l2": factor}`` for a Keras L2 (or L1L2 without L1) regularizer, or :class:`Refusal`."""
    reg = cfg.get(key)
    if reg is None:
        return {"l2": 0.0}
    name = reg.get("class_name") if isinstance(reg, dict) else type(reg).__name__
    conf = reg.get("config", {}) if isinstance(reg, dict) else reg.get_config()
    if name in ("L2", "l2") and "l2" in conf:
        return {"l2": float(conf["l2"])}
    if name in ("L1L2", "l1_l2") and not conf.get("l1"):
        return {"l2": float(conf.get("l2", 0.0))}
    raise Refusal(f"{key.replace('_', ' ')} {name} (only an L2 weight decay is a block setting)")
