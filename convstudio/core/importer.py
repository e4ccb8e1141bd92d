"""Import a Keras model saved elsewhere as an editable network, with its trained weights.

The file is loaded with ``safe_mode=True`` (no Python code from the file is run). Every layer is
mapped to a block with the same parameters and connections; anything a block cannot reproduce
exactly (dilation, groups, regularizers, a LeakyReLU slope other than Keras' ``leaky_relu``...)
is refused, and :class:`ModelImportError` lists every such layer at once. The model returned is
the network rebuilt by :func:`~convstudio.core.builder.build_model` with the weights copied in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .blocks import ACTIVATIONS, Shape, get_spec
from .builder import OUTPUT_SOFTMAX, BuildError, build_model
from .network import Network, NetworkError
from .layout import tidy_positions
from .shapes import analyze

if TYPE_CHECKING:
    import keras

__all__ = ["ModelImportError", "import_keras_model", "network_from_keras"]

class ModelImportError(ValueError):
    """The model cannot become a network; ``problems`` lists each reason, one per layer."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message += ":\n" + "\n".join(f"- {p}" for p in self.problems)
        super().__init__(message)


class _Refuse(Exception):
    """One reason a layer cannot be imported (collected, then reported together)."""


def import_keras_model(path: str | os.PathLike[str], input_shape: Shape = (28, 28, 1),
                       num_classes: int = 10) -> tuple[Network, "keras.Model"]:
    """Load a ``.keras`` (or ``.h5``) file safely and return its network and a trainable model.

    Raises :class:`ModelImportError` with a human reason when the file cannot be read or holds
    layers or settings ConvStudio cannot reproduce exactly. A model that ends in raw scores
    (no softmax) gets ConvStudio's softmax output layer, so it predicts probabilities.
    """
    import keras

    file = Path(path).expanduser()
    if not file.exists():
        raise ModelImportError(f"cannot import {file}: there is no such file")
    if file.is_dir():
        raise ModelImportError(f"cannot import {file}: it is a folder; choose a .keras file "
                               "(SavedModel folders hold no layer structure to edit)")
    try:
        source = keras.saving.load_model(str(file), safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types; the user needs the reason
        raise ModelImportError(f"cannot import {file.name}: {_load_reason(exc)}") from None
    network, layers = _convert(source, input_shape, num_classes)
    try:
        model = build_model(network, input_shape, num_classes, name=source.name or "imported")
    except BuildError as exc:  # pragma: no cover - network_from_keras validated it already
        raise ModelImportError(str(exc)) from None
    _copy_weights(layers, model)
    return network, model


def _load_reason(exc: Exception) -> str:
    text = str(exc)
    if "safe_mode" in text or "Lambda" in text:
        return ("the file contains Python code (for example a Lambda layer), which ConvStudio does not "
                "run when loading files")
    if "Could not locate" in text or "Unknown layer" in text:
        return "it uses a custom layer or function that is not part of Keras: " + text.splitlines()[0]
    if "zip" in text.lower() or "not a valid" in text.lower() or "format" in text.lower():
        return "it is not a Keras model file (.keras or .h5)"
    return text.splitlines()[0] if text.strip() else type(exc).__name__


# --------------------------------------------------------------------------- graph walk


def network_from_keras(model: "keras.Model", input_shape: Shape = (28, 28, 1),
                       num_classes: int = 10) -> Network:
    """The network equivalent to ``model``; raises :class:`ModelImportError` listing every problem."""
    return _convert(model, input_shape, num_classes)[0]


def _convert(model: "keras.Model", input_shape: Shape, num_classes: int) -> tuple[Network, dict[str, Any]]:
    """The network and, per block id, the Keras layer holding its weights."""
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelImportError(f"cannot import {model.name}: ConvStudio networks have one input and one output; "
                               f"this model has {len(model.inputs)} and {len(model.outputs)}")
    shape = tuple(model.inputs[0].shape[1:])
    if shape != tuple(input_shape):
        raise ModelImportError(f"cannot import {model.name}: it takes inputs of shape {shape}, "
                               f"but ConvStudio's images are {tuple(input_shape)}")
    input_layer = model.inputs[0]._keras_history.operation
    output_layer = model.outputs[0]._keras_history.operation

    graph = getattr(model, "_functional", None) or model  # a Sequential keeps its graph in a Functional
    nodes: dict[Any, list[Any]] = {}
    for depth_nodes in getattr(graph, "_nodes_by_depth", {}).values():
        for node in depth_nodes:
            if node.operation is not input_layer:
                nodes.setdefault(node.operation, []).append(node)
    parents: dict[Any, list[Any]] = {}
    problems: list[str] = []
    for layer in model.layers:
        if layer is input_layer or layer not in nodes:
            continue
        if isinstance(layer, keras.Model):
            problems.append(f"{layer.name}: a model nested inside the model; save it as one flat model")
            continue
        if len(nodes[layer]) != 1:
            problems.append(f"{layer.name} ({type(layer).__name__}): used {len(nodes[layer])} times (shared weights)")
            continue
        parents[layer] = [t._keras_history.operation for t in nodes[layer][0].input_tensors]
    consumers: dict[Any, list[Any]] = {}
    for layer, srcs in parents.items():
        for s in srcs:
            consumers.setdefault(s, []).append(layer)

    # a final Activation named output_softmax is the one build_model adds; it comes back by itself
    skip: set[Any] = set()
    if output_layer.name == OUTPUT_SOFTMAX and output_layer in parents \
            and type(output_layer).__name__ == "Activation" and _activation_name(output_layer.get_config().get("activation")) == "softmax":
        skip.add(output_layer)
        output_layer = parents[output_layer][0]

    blocks: dict[Any, tuple[str, dict[str, Any]]] = {}
    fused: dict[Any, Any] = {}  # a ZeroPadding2D folded into the Conv2D after it
    for layer in parents:
        if layer in skip:
            continue
        try:
            if type(layer).__name__ == "ZeroPadding2D":
                conv = _padding_partner(layer, consumers.get(layer, []))
                fused[layer] = conv
                continue
            blocks[layer] = _map_layer(layer)
        except _Refuse as why:
            problems.append(f"{layer.name} ({type(layer).__name__}): {why}")
    for pad, conv in fused.items():
        if conv in blocks:
            blocks[conv][1]["padding"] = "full"
    if problems:
        raise ModelImportError(f"cannot import {model.name}; ConvStudio cannot reproduce these layers exactly",
                               problems)

    def source_of(layer: Any) -> Any:
        return parents[layer][0] if layer in fused else layer

    network = Network()
    ids: dict[Any, str] = {}
    for layer in [input_layer, *blocks]:
        kind, params = ("Input", {}) if layer is input_layer else blocks[layer]
        try:
            try:  # keep the layer's name as the block id when it is a valid, unused id
                ids[layer] = network.add_block(kind, params, block_id=layer.name)
            except NetworkError:
                ids[layer] = network.add_block(kind, params)
        except NetworkError as exc:
            problems.append(f"{layer.name} ({type(layer).__name__}): {exc}")
    for layer in blocks:
        if layer not in ids:
            continue
        for src in parents[layer]:
            src = source_of(src)
            if src in ids:
                try:
                    network.connect(ids[src], ids[layer])
                except NetworkError as exc:
                    problems.append(f"{layer.name} ({type(layer).__name__}): {exc}")
    for bid, pos in tidy_positions(network, origin=(0.0, 0.0)).items():
        network.blocks[bid].pos = pos
    if problems:
        raise ModelImportError(f"cannot import {model.name}", problems)
    analysis = analyze(network, input_shape, num_classes)
    if not analysis.ok:
        raise ModelImportError(f"cannot import {model.name}; the network it makes is not valid",
                               [f"{i.block_id or 'network'}: {i.message}" for i in analysis.errors])
    if analysis.output_id != ids.get(output_layer):
        raise ModelImportError(f"cannot import {model.name}: its output {output_layer.name} is not the end "
                               "of the network (some layers lead nowhere)")
    return network, {bid: layer for layer, bid in ids.items()}


def _copy_weights(layers: dict[str, Any], model: "keras.Model") -> None:
    for bid, layer in layers.items():
        weights = layer.get_weights()
        if not weights:
            continue
        try:
            model.get_layer(bid).set_weights(weights)
        except (ValueError, KeyError) as exc:
            raise ModelImportError(f"cannot copy the weights of {layer.name}: {exc}") from None


# --------------------------------------------------------------------------- one mapping per layer class


def _activation_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a serialized built-in activation
        name = value.get("config", value.get("class_name"))
        return name if isinstance(name, str) else None
    return getattr(value, "__name__", None)


def _activation(cfg: dict[str, Any], key: str = "activation") -> str:
    name = _activation_name(cfg.get(key))
    if name not in ACTIVATIONS:
        raise _Refuse(f"activation {name or cfg.get(key)!r} is not one of {', '.join(ACTIVATIONS)}")
    return name


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    a, b = value
    return int(a), int(b)


def _common(cfg: dict[str, Any]) -> list[str]:
    """Settings any layer may have that no block reproduces."""
    reasons = []
    dtype = cfg.get("dtype")
    policy = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    if policy not in (None, "float32"):
        reasons.append(f"dtype policy {policy} (ConvStudio trains in float32)")
    if cfg.get("data_format", "channels_last") != "channels_last":
        reasons.append("channels_first data format")
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "beta_regularizer",
                "gamma_regularizer"):
        if cfg.get(key) is not None:
            reasons.append(f"{key.replace('_', ' ')} (changes training)")
    for key in ("kernel_constraint", "bias_constraint", "beta_constraint", "gamma_constraint"):
        if cfg.get(key) is not None:
            reasons.append(f"{key.replace('_', ' ')} (changes training)")
    if cfg.get("lora_rank"):
        reasons.append("LoRA adapters")
    if cfg.get("trainable") is False:
        reasons.append("frozen (not trainable)")
    return reasons


def _checked(kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    try:
        return kind, get_spec(kind).validate_params(params)
    except ValueError as exc:
        raise _Refuse(str(exc)) from None


def _conv(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    reasons = []
    if _pair(cfg.get("dilation_rate", 1)) != (1, 1):
        reasons.append(f"dilation rate {tuple(cfg['dilation_rate'])} (ConvStudio's Conv2D is not dilated)")
    if cfg.get("groups", 1) != 1:
        reasons.append(f"{cfg['groups']} groups (grouped convolution)")
    if reasons:
        raise _Refuse("; ".join(reasons))
    kh, kw = _pair(cfg["kernel_size"])
    sh, sw = _pair(cfg["strides"])
    return _checked("Conv2D", {"filters": cfg["filters"], "kernel_h": kh, "kernel_w": kw, "stride_h": sh,
                               "stride_w": sw, "padding": cfg["padding"], "activation": _activation(cfg),
                               "use_bias": cfg["use_bias"]})


def _pool(kind: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    def mapping(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        ph, pw = _pair(cfg["pool_size"])
        sh, sw = _pair(cfg["strides"] if cfg.get("strides") is not None else cfg["pool_size"])
        return _checked(kind, {"pool_h": ph, "pool_w": pw, "stride_h": sh, "stride_w": sw,
                               "padding": cfg["padding"]})
    return mapping


def _global(kind: str) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    def mapping(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if cfg.get("keepdims"):
            raise _Refuse("keepdims=True (ConvStudio's global pooling gives a flat vector)")
        return kind, {}
    return mapping


def _dense(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _checked("Dense", {"units": cfg["units"], "activation": _activation(cfg), "use_bias": cfg["use_bias"]})


def _dropout(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if cfg.get("noise_shape") is not None:
        raise _Refuse(f"noise shape {cfg['noise_shape']} (ConvStudio drops single values)")
    return _checked("Dropout", {"rate": cfg["rate"]})


def _batchnorm(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
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
        raise _Refuse(", ".join(reasons))
    return _checked("BatchNorm", {"momentum": cfg["momentum"], "epsilon": cfg["epsilon"]})


def _activation_layer(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "Activation", {"function": _activation(cfg)}


def _relu(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if cfg.get("max_value") is not None or cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
        raise _Refuse("a capped, leaky or thresholded ReLU (only the plain one is a block)")
    return "Activation", {"function": "relu"}


LEAKY_SLOPE = 0.2
"""The negative slope of Keras' ``leaky_relu`` activation, which ConvStudio's blocks use."""


def _leaky(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    slope = float(cfg.get("negative_slope", cfg.get("alpha", 0.3)))
    if abs(slope - LEAKY_SLOPE) > 1e-9:
        raise _Refuse(f"negative slope {slope:g}; ConvStudio's leaky_relu uses {LEAKY_SLOPE:g}")
    return "Activation", {"function": "leaky_relu"}


def _softmax(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if cfg.get("axis", -1) not in (-1, [-1]):
        raise _Refuse(f"softmax over axis {cfg['axis']} (only the last axis)")
    return "Activation", {"function": "softmax"}


def _elu(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if float(cfg.get("alpha", 1.0)) != 1.0:
        raise _Refuse(f"alpha {cfg['alpha']} (ConvStudio's elu uses 1)")
    return "Activation", {"function": "elu"}


def _concat(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if cfg.get("axis", -1) not in (-1, 3):
        raise _Refuse(f"concatenation along axis {cfg['axis']} (ConvStudio joins channels, axis -1)")
    return "Concatenate", {}


LAYER_MAP: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "Conv2D": _conv,
    "MaxPooling2D": _pool("MaxPool2D"),
    "AveragePooling2D": _pool("AvgPool2D"),
    "GlobalAveragePooling2D": _global("GlobalAvgPool2D"),
    "GlobalMaxPooling2D": _global("GlobalMaxPool2D"),
    "Flatten": lambda cfg: ("Flatten", {}),
    "Dense": _dense,
    "Dropout": _dropout,
    "BatchNormalization": _batchnorm,
    "Activation": _activation_layer,
    "ReLU": _relu,
    "LeakyReLU": _leaky,
    "Softmax": _softmax,
    "ELU": _elu,
    "Add": lambda cfg: ("Add", {}),
    "Concatenate": _concat,
}
"""Keras layer class name -> the block it becomes (ZeroPadding2D is folded into the Conv2D after it)."""


def _map_layer(layer: Any) -> tuple[str, dict[str, Any]]:
    name = type(layer).__name__
    if name not in LAYER_MAP:
        raise _Refuse("no ConvStudio block does what this layer does")
    cfg = layer.get_config()
    frozen_conv = name == "Conv2D" and cfg.get("trainable") is False
    reasons = _common({**cfg, "trainable": True} if frozen_conv else cfg)
    try:
        kind, params = LAYER_MAP[name](cfg)
    except _Refuse as why:
        reasons.append(str(why))
    if reasons:
        raise _Refuse("; ".join(reasons))
    if frozen_conv:  # a frozen Conv2D is a block with Trainable unticked; its kernels come with the weights
        params = {**params, "trainable": False}
    return kind, dict(params)


def _padding_partner(pad: Any, consumers: list[Any]) -> Any:
    """The Conv2D that a ZeroPadding2D turns into 'full' padding, or refuse."""
    cfg = pad.get_config()
    reasons = _common(cfg)
    if reasons:
        raise _Refuse("; ".join(reasons))
    (top, bottom), (left, right) = (_pair(p) for p in cfg["padding"])
    conv = consumers[0] if len(consumers) == 1 else None
    if conv is None or type(conv).__name__ != "Conv2D":
        raise _Refuse("zero padding that is not followed by a single Conv2D")
    ccfg = conv.get_config()
    kh, kw = _pair(ccfg["kernel_size"])
    if ccfg["padding"] != "valid" or (top, bottom, left, right) != (kh - 1, kh - 1, kw - 1, kw - 1):
        raise _Refuse(f"padding ({top}, {bottom}, {left}, {right}) before a {kh}x{kw} '{ccfg['padding']}' Conv2D; "
                      "only kernel-1 on every side ('full' padding) is a block setting")
    return conv
