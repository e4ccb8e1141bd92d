"""Block specs: every block kind is one :class:`BlockSpec` plus one registry entry.

A spec says what parameters a block takes (type, default, range or choices, one-line help), how
many inputs it accepts, how to infer its output shape with textbook formulas (pure Python, no
TensorFlow), and how to build its Keras layers (TensorFlow imported lazily, only when building).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTIVATIONS",
    "BLOCKS",
    "CATEGORIES",
    "BlockSpec",
    "Fix",
    "Inference",
    "ParamSpec",
    "Shape",
    "ShapeError",
    "get_spec",
    "register",
]

Shape = tuple[int, ...]
"""A tensor shape without the batch dimension: ``(h, w, c)`` for images, ``(n,)`` for vectors."""

ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "linear")
CATEGORIES = ("Input", "Convolution", "Pooling", "Dense", "Regularisation", "Merge")
FLOAT_BYTES = 4


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
class ParamSpec:
    """One block parameter: its type, default, allowed values and a one-line help."""

    name: str
    type: type
    default: Any
    help: str
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ``ValueError`` saying why."""
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError(f"{self.title} must be true or false, not {value!r}")
        if self.type is int:
            if isinstance(value, bool):
                raise ValueError(f"{self.title} must be a whole number, not {value!r}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.title} must be a whole number, not {value!r}") from None
            if not math.isfinite(number) or number != int(number):
                raise ValueError(f"{self.title} must be a whole number, not {value!r}")
            value = int(number)
        elif self.type is float:
            if isinstance(value, bool):
                raise ValueError(f"{self.title} must be a number, not {value!r}")
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{self.title} must be a number, not {value!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{self.title} must be a finite number")
        elif self.type is str:
            value = str(value)
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise ValueError(f"{self.title} must be one of {allowed}; got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{self.title} must be at least {_fmt(self.minimum)}; got {_fmt(value)}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{self.title} must be at most {_fmt(self.maximum)}; got {_fmt(value)}")
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


InferFn = Callable[[dict[str, Any], Sequence[Shape]], Inference]
KerasFn = Callable[[dict[str, Any], str], list]


@dataclass(frozen=True)
class BlockSpec:
    """Everything the app knows about one kind of block."""

    kind: str
    label: str
    category: str
    help: str
    params: tuple[ParamSpec, ...]
    infer: InferFn
    keras: KerasFn
    min_inputs: int = 1
    max_inputs: int = 1
    icon: str = ""
    keras_takes_shapes: bool = False
    """When true, ``keras(params, name, input_shapes)`` also gets the inputs' shapes (e.g. channels)."""

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


BLOCKS: dict[str, BlockSpec] = {}


def register(spec: BlockSpec) -> BlockSpec:
    """Add ``spec`` to the registry (one line per block kind)."""
    BLOCKS[spec.kind] = spec
    return spec


def get_spec(kind: str) -> BlockSpec:
    try:
        return BLOCKS[kind]
    except KeyError:
        raise KeyError(f"unknown block kind {kind!r}; known kinds: {', '.join(BLOCKS)}") from None


# --------------------------------------------------------------------------- shape helpers


def _one(shapes: Sequence[Shape]) -> Shape:
    return shapes[0]


def _need_image(kind_label: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        if len(shape) == 1:
            raise ShapeError(
                f"{kind_label} needs an image-shaped input (height, width, channels) but gets a flat "
                f"vector of {shape[0]}; move it before Flatten or Dense"
            )
        raise ShapeError(f"{kind_label} needs a 3-D input (height, width, channels), got {_shape_str(shape)}")
    return shape  # type: ignore[return-value]


def _shape_str(shape: Shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def window_output(n: int, f: int, s: int, padding: str) -> int:
    """Output side of a sliding window: floor((n + 2p - f) / s) + 1, Keras 'same' = ceil(n / s)."""
    if padding == "same":
        return -(-n // s)
    p = f - 1 if padding == "full" else 0
    return (n + 2 * p - f) // s + 1


def _window(label: str, what: str, shape: Shape, fh: int, fw: int, sh: int, sw: int, padding: str,
            fix_padding: bool = True) -> tuple[int, int]:
    h, w, _ = _need_image(label, shape)
    if padding == "valid" and (fh > h or fw > w):
        fix = Fix("Use padding 'same'", "set_param", {"name": "padding", "value": "same"}) if fix_padding else None
        raise ShapeError(
            f"{what} {fh}x{fw} is larger than its {h}x{w} input; use a smaller {what.lower()} or padding 'same'",
            fix,
        )
    oh, ow = window_output(h, fh, sh, padding), window_output(w, fw, sw, padding)
    if oh <= 0 or ow <= 0:
        raise ShapeError(f"the output shrinks to {oh}x{ow}; reduce the stride or the {what.lower()}")
    return oh, ow


# --------------------------------------------------------------------------- params shared by kinds

_ACT = ParamSpec("activation", str, "relu", "Non-linearity applied to the output", choices=ACTIVATIONS)
_BIAS = ParamSpec("use_bias", bool, True, "Add a learned bias to each output", label="Bias")


def _pool_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("pool_h", int, 2, "Height of the pooling window", "Pool height", 1, 28),
        ParamSpec("pool_w", int, 2, "Width of the pooling window", "Pool width", 1, 28),
        ParamSpec("stride_h", int, 2, "Rows the window moves per step", "Stride height", 1, 28),
        ParamSpec("stride_w", int, 2, "Columns the window moves per step", "Stride width", 1, 28),
        ParamSpec("padding", str, "valid", "'valid': no border; 'same': keep ceil(n / stride)",
                  choices=("valid", "same")),
    )


# --------------------------------------------------------------------------- Input


def _infer_input(params: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    raise AssertionError("the Input block's shape comes from the dataset")  # handled by shapes.analyze


def _keras_input(params: dict[str, Any], name: str) -> list:
    return []


register(BlockSpec(
    "Input", "Input", "Input",
    "The images fed to the network; its shape comes from the dataset (28x28x1 for MNIST).",
    (), _infer_input, _keras_input, min_inputs=0, max_inputs=0, icon="input",
))

# --------------------------------------------------------------------------- Conv2D


def _infer_conv(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = _one(shapes)
    oh, ow = _window("Conv2D", "Kernel", shape, p["kernel_h"], p["kernel_w"], p["stride_h"], p["stride_w"],
                     p["padding"])
    c_in, c_out = shape[2], p["filters"]
    init = p.get("kernel_init", "learned")
    if init in _SQUARE_3x3 and (p["kernel_h"], p["kernel_w"]) != (3, 3):
        raise ShapeError(
            f"{init.capitalize()} kernels are 3x3 but this block's kernel is {p['kernel_h']}x{p['kernel_w']}; "
            "set the kernel height and width to 3 or use Gaussian kernels",
            Fix("Use Gaussian kernels", "set_param", {"name": "kernel_init", "value": "gaussian"}),
        )
    params = (p["kernel_h"] * p["kernel_w"] * c_in + (1 if p["use_bias"] else 0)) * c_out
    macs = oh * ow * c_out * p["kernel_h"] * p["kernel_w"] * c_in
    trainable = None if p.get("trainable", True) else 0
    return Inference((oh, ow, c_out), params, trainable_params=trainable, macs=macs)


_SQUARE_3x3 = ("sobel", "kirsch")
KERNEL_INIT_HELP = (
    "Starting kernels: 'learned' = random, shaped by training; 'sobel' = horizontal and vertical edge "
    "detectors; 'kirsch' = eight compass edge detectors (N, NE, ... NW); 'gaussian' = a blur. "
    "Hand-designed kernels repeat over the filters (bias starts at 0)"
)


def _keras_conv(p: dict[str, Any], name: str, input_shapes: Sequence[Shape] = ()) -> list:
    import keras

    extra: dict[str, Any] = {}
    init = p.get("kernel_init", "learned")
    if init != "learned":
        from .inspection.filters import conv_kernel_array

        c_in = input_shapes[0][-1] if input_shapes else 1
        bank = conv_kernel_array(init, p["kernel_h"], p["kernel_w"], c_in, p["filters"], broadcast=True)
        extra["kernel_initializer"] = keras.initializers.Constant(bank.tolist())
    if not p.get("trainable", True):
        extra["trainable"] = False
    layers = []
    padding = p["padding"]
    if padding == "full":
        layers.append(keras.layers.ZeroPadding2D((p["kernel_h"] - 1, p["kernel_w"] - 1), name=f"{name}__pad"))
        padding = "valid"
    layers.append(keras.layers.Conv2D(
        p["filters"], (p["kernel_h"], p["kernel_w"]), strides=(p["stride_h"], p["stride_w"]),
        padding=padding, activation=p["activation"], use_bias=p["use_bias"], name=name, **extra,
    ))
    return layers


register(BlockSpec(
    "Conv2D", "Conv2D", "Convolution",
    "Slides learned filters over the input; each filter makes one feature map. "
    "Output side = floor((n + 2p - f) / s) + 1; parameters = (f_h*f_w*c_in + 1)*filters.",
    (
        ParamSpec("filters", int, 32, "Number of learned filters = output channels", "Filters", 1, 2048),
        ParamSpec("kernel_h", int, 3, "Height of each filter", "Kernel height", 1, 28),
        ParamSpec("kernel_w", int, 3, "Width of each filter", "Kernel width", 1, 28),
        ParamSpec("stride_h", int, 1, "Rows the filter moves per step: stride 2 halves the height",
                  "Stride height", 1, 28),
        ParamSpec("stride_w", int, 1, "Columns the filter moves per step", "Stride width", 1, 28),
        ParamSpec("padding", str, "valid",
                  "'valid': no border, the map shrinks; 'same': zeros keep ceil(n / stride); "
                  "'full': kernel-1 zeros, the map grows", choices=("valid", "same", "full")),
        _ACT,
        _BIAS,
        ParamSpec("kernel_init", str, "learned", KERNEL_INIT_HELP, "Initial kernels",
                  choices=("learned", "sobel", "kirsch", "gaussian")),
        ParamSpec("trainable", bool, True, "Untick to freeze the kernels (hand-designed filters stay as they are)",
                  "Trainable"),
    ),
    _infer_conv, _keras_conv, icon="conv", keras_takes_shapes=True,
))

# --------------------------------------------------------------------------- pooling


def _make_pool(kind: str, label: str, how: str, keras_name: str) -> BlockSpec:
    def infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
        shape = _one(shapes)
        oh, ow = _window(label, "Pool window", shape, p["pool_h"], p["pool_w"], p["stride_h"], p["stride_w"],
                         p["padding"])
        return Inference((oh, ow, shape[2]), 0, macs=oh * ow * shape[2] * p["pool_h"] * p["pool_w"])

    def build(p: dict[str, Any], name: str) -> list:
        import keras

        layer = getattr(keras.layers, keras_name)
        return [layer((p["pool_h"], p["pool_w"]), strides=(p["stride_h"], p["stride_w"]), padding=p["padding"],
                      name=name)]

    return BlockSpec(kind, label, "Pooling",
                     f"Keeps the {how} of each window, per channel: shrinks the map, has no parameters.",
                     _pool_params(), infer, build, icon=kind.lower())


register(_make_pool("MaxPool2D", "MaxPool2D", "maximum", "MaxPooling2D"))
register(_make_pool("AvgPool2D", "AvgPool2D", "average", "AveragePooling2D"))


def _make_global(kind: str, label: str, how: str, keras_name: str) -> BlockSpec:
    def infer(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
        h, w, c = _need_image(label, _one(shapes))
        return Inference((c,), 0, macs=h * w * c)

    def build(p: dict[str, Any], name: str) -> list:
        import keras

        return [getattr(keras.layers, keras_name)(name=name)]

    return BlockSpec(kind, label, "Pooling",
                     f"Takes the {how} of each whole feature map: one number per channel.",
                     (), infer, build, icon=kind.lower())


register(_make_global("GlobalAvgPool2D", "GlobalAvgPool2D", "average", "GlobalAveragePooling2D"))
register(_make_global("GlobalMaxPool2D", "GlobalMaxPool2D", "maximum", "GlobalMaxPooling2D"))

# --------------------------------------------------------------------------- dense family


def _infer_flatten(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    return Inference((math.prod(_one(shapes)),), 0)


def _keras_flatten(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Flatten(name=name)]


register(BlockSpec("Flatten", "Flatten", "Dense",
                   "Unrolls a stack of feature maps into one long vector for Dense blocks.",
                   (), _infer_flatten, _keras_flatten, icon="flatten"))


def _infer_dense(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = _one(shapes)
    if len(shape) != 1:
        raise ShapeError(
            f"Dense needs a flat vector but gets {_shape_str(shape)}; insert Flatten before it",
            Fix("Insert Flatten", "insert_before", {"kind": "Flatten", "params": {}}),
        )
    n = shape[0]
    units = p["units"]
    return Inference((units,), (n + (1 if p["use_bias"] else 0)) * units, macs=n * units)


def _keras_dense(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Dense(p["units"], activation=p["activation"], use_bias=p["use_bias"], name=name)]


register(BlockSpec(
    "Dense", "Dense", "Dense",
    "Every input connects to every unit: parameters = (inputs + 1) * units. "
    "The last Dense has one unit per class and softmax.",
    (ParamSpec("units", int, 128, "Number of output units", "Units", 1, 65536), _ACT, _BIAS),
    _infer_dense, _keras_dense, icon="dense",
))

# --------------------------------------------------------------------------- regularisation


def _same_shape(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    return Inference(_one(shapes), 0)


def _keras_dropout(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Dropout(p["rate"], name=name)]


register(BlockSpec(
    "Dropout", "Dropout", "Regularisation",
    "During training, zeroes a random fraction of its inputs so units cannot co-adapt; "
    "does nothing at test time.",
    (ParamSpec("rate", float, 0.5, "Fraction of inputs dropped while training", "Rate", 0.0, 0.95),),
    _same_shape, _keras_dropout, icon="dropout",
))


def _infer_bn(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    shape = _one(shapes)
    c = shape[-1]
    return Inference(shape, 4 * c, trainable_params=2 * c, macs=2 * math.prod(shape))


def _keras_bn(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.BatchNormalization(momentum=p["momentum"], epsilon=p["epsilon"], name=name)]


register(BlockSpec(
    "BatchNorm", "BatchNormalization", "Regularisation",
    "Normalises each channel over the batch, then scales and shifts it with learned gamma and beta.",
    (
        ParamSpec("momentum", float, 0.99, "Momentum of the running mean and variance", "Momentum", 0.0, 0.9999),
        ParamSpec("epsilon", float, 1e-3, "Small constant added to the variance", "Epsilon", 1e-7, 1.0),
    ),
    _infer_bn, _keras_bn, icon="batchnorm",
))


def _keras_activation(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Activation(p["function"], name=name)]


register(BlockSpec(
    "Activation", "Activation", "Dense",
    "Applies a non-linearity element by element; softmax turns scores into class probabilities.",
    (ParamSpec("function", str, "relu", "The non-linearity", "Function", choices=ACTIVATIONS),),
    _same_shape, _keras_activation, icon="activation",
))

# --------------------------------------------------------------------------- merges


def _infer_add(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    first = shapes[0]
    for other in shapes[1:]:
        if other != first:
            listed = ", ".join(_shape_str(s) for s in shapes)
            raise ShapeError(f"Add needs inputs of one shape, got {listed}; match the branches' filters and strides")
    return Inference(first, 0, macs=math.prod(first) * (len(shapes) - 1))


def _keras_add(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Add(name=name)]


register(BlockSpec(
    "Add", "Add", "Merge",
    "Adds its inputs element by element: the skip connection of a residual block.",
    (), _infer_add, _keras_add, min_inputs=2, max_inputs=8, icon="add",
))


def _infer_concat(p: dict[str, Any], shapes: Sequence[Shape]) -> Inference:
    first = shapes[0]
    for other in shapes[1:]:
        if len(other) != len(first) or other[:-1] != first[:-1]:
            listed = ", ".join(_shape_str(s) for s in shapes)
            raise ShapeError(
                f"Concatenate needs inputs that differ only in channels, got {listed}; "
                "use padding 'same' in every branch"
            )
    return Inference(first[:-1] + (sum(s[-1] for s in shapes),), 0)


def _keras_concat(p: dict[str, Any], name: str) -> list:
    import keras

    return [keras.layers.Concatenate(axis=-1, name=name)]


register(BlockSpec(
    "Concatenate", "Concatenate", "Merge",
    "Stacks its inputs along the channels: joins the branches of an Inception block.",
    (), _infer_concat, _keras_concat, min_inputs=2, max_inputs=8, icon="concatenate",
))
