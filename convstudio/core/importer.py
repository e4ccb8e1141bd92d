"""Import a Keras model saved elsewhere as an editable network, with its trained weights.

The file is loaded with ``safe_mode=True`` (no Python code from the file is run). Each layer becomes
a block of the kind that imports its class (``BlockSpec.imports``); anything a block cannot
reproduce exactly (groups, constraints, regularizers other than an L2 kernel decay...) is refused, and :class:`ModelImportError` lists every such layer at once, by
name. The model returned is the network rebuilt by :func:`~convstudio.core.builder.build_model`
with the weights copied in.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .blocks import INPUT, Refusal, Shape, is_added_softmax, pair, spec_for_keras
from .blocks.source import MAX_CHANNELS, MAX_SIDE, shape_params
from .builder import BuildError, build_model
from .layout import lay_out
from .network import Network, NetworkError
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


def _named(layer: Any, reason: Any) -> str:
    """A refusal that names its layer: ``layer 'conv_3' (Conv2D): reason``."""
    return f"layer '{layer.name}' ({type(layer).__name__}): {reason}"


def import_keras_model(path: str | os.PathLike[str], input_shape: Shape | None = None,
                       num_classes: int = 10) -> tuple[Network, keras.Model]:
    """Load a ``.keras`` (or ``.h5``) file safely and return its network and a trainable model.

    The Input block takes the model's own image shape; ``input_shape``, when given, is the shape the
    model must take (a dataset's), and a model taking another is refused.

    Raises :class:`ModelImportError` with a human reason when the file cannot be read or holds
    layers or settings ConvStudio cannot reproduce exactly. A model that ends in raw scores
    (no softmax) gets ConvStudio's softmax output layer, so it predicts probabilities.
    """
    source = _load(Path(path).expanduser())
    network, layers = _convert(source, input_shape, num_classes)
    try:
        model = build_model(network, None, num_classes, name=source.name or "imported")
    except BuildError as exc:  # pragma: no cover - network_from_keras validated it already
        raise ModelImportError(str(exc)) from None
    _copy_weights(layers, model)
    return network, model


def _load(file: Path) -> keras.Model:
    import keras

    if not file.exists():
        raise ModelImportError(f"cannot import {file}: there is no such file")
    if file.is_dir():
        raise ModelImportError(f"cannot import {file}: it is a folder; choose a .keras file "
                               "(SavedModel folders hold no layer structure to edit)")
    try:
        return keras.saving.load_model(str(file), safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types; the user needs the reason
        code = _code_layers(file)
        if code:
            raise ModelImportError(f"cannot import {file.name}: the file contains Python code, which ConvStudio "
                                   "does not run when loading files", code) from None
        raise ModelImportError(f"cannot import {file.name}: {_load_reason(exc)}") from None


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


_CODE_LAYERS = ("Lambda", "TFOpLambda")
"""Keras layer classes whose config holds Python code."""


def _saved_config(file: Path) -> Any:
    """The model config of a .keras or .h5 file, read as plain JSON (nothing is deserialized)."""
    if zipfile.is_zipfile(file):
        with zipfile.ZipFile(file) as archive:
            return json.loads(archive.read("config.json"))
    import h5py

    with h5py.File(file, "r") as h5:
        raw = h5.attrs.get("model_config")
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw or "{}")


def _code_layers(file: Path) -> list[str]:
    """A refusal naming each layer of the saved model that holds Python code."""
    try:
        config = _saved_config(file)
    except Exception:  # not readable as a model: the load error says why
        return []
    found: list[str] = []
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") in _CODE_LAYERS:
                name = (node.get("config") or {}).get("name", "?")
                found.append(f"layer '{name}' ({node['class_name']}): it contains Python code")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


# --------------------------------------------------------------------------- the conversion, step by step


def network_from_keras(model: keras.Model, input_shape: Shape | None = None,
                       num_classes: int = 10) -> Network:
    """The network equivalent to ``model``; raises :class:`ModelImportError` listing every problem."""
    return _convert(model, input_shape, num_classes)[0]


@dataclass
class _Graph:
    """The model's layers and who feeds whom (the Input layer has no entry in ``parents``)."""

    input_layer: Any
    output_layer: Any
    parents: dict[Any, list[Any]] = field(default_factory=dict)
    consumers: dict[Any, list[Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Mapped:
    """Each layer's block ``(kind, params)``, and each ZeroPadding2D folded into the layer after it."""

    blocks: dict[Any, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    fused: dict[Any, Any] = field(default_factory=dict)


def _convert(model: keras.Model, input_shape: Shape | None, num_classes: int) -> tuple[Network, dict[str, Any]]:
    """The network and, per block id, the Keras layer holding its weights."""
    image = _check_ends(model, input_shape)
    graph = _walk(model)
    mapped = _map_layers(graph)
    if graph.problems:
        raise ModelImportError(f"cannot import {model.name}; ConvStudio cannot reproduce these layers exactly",
                               graph.problems)
    network, ids = _assemble(graph, mapped, image)
    if graph.problems:
        raise ModelImportError(f"cannot import {model.name}", graph.problems)
    _validate(model, network, ids.get(graph.output_layer), num_classes)
    return network, {bid: layer for layer, bid in ids.items()}


def _walk(model: keras.Model) -> _Graph:
    """Walk the graph: every layer used once."""
    graph = _Graph(model.inputs[0]._keras_history.operation, model.outputs[0]._keras_history.operation)
    nodes = _nodes_by_layer(model, graph.input_layer)
    for layer in model.layers:
        if layer is not graph.input_layer and layer in nodes:
            _add_layer(graph, layer, nodes[layer])
    for layer, srcs in graph.parents.items():
        for s in srcs:
            graph.consumers.setdefault(s, []).append(layer)
    out = graph.output_layer
    if out in graph.parents and is_added_softmax(out.name, type(out).__name__, out.get_config()):
        graph.output_layer = graph.parents.pop(out)[0]  # build_model adds it again by itself
    return graph


def _check_ends(model: keras.Model, input_shape: Shape | None) -> Shape:
    """One input of images (height, width, channels) of a known size, one output; returns the image shape."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelImportError(f"cannot import {model.name}: ConvStudio networks have one input and one output; "
                               f"this model has {len(model.inputs)} and {len(model.outputs)}")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(d is None for d in shape):
        raise ModelImportError(f"cannot import {model.name}: it takes inputs of shape {shape}; ConvStudio networks "
                               "take images of a fixed (height, width, channels)")
    if max(shape[:2]) > MAX_SIDE or shape[2] > MAX_CHANNELS:
        raise ModelImportError(f"cannot import {model.name}: its {shape} images are larger than ConvStudio's "
                               f"{MAX_SIDE}x{MAX_SIDE}x{MAX_CHANNELS}")
    if input_shape is not None and shape != tuple(input_shape):
        raise ModelImportError(f"cannot import {model.name}: it takes inputs of shape {shape}, "
                               f"but the dataset's images are {tuple(input_shape)}")
    return tuple(int(d) for d in shape)


def _nodes_by_layer(model: keras.Model, input_layer: Any) -> dict[Any, list[Any]]:
    """Each layer's call nodes (a Sequential keeps its graph in a Functional)."""
    functional = getattr(model, "_functional", None) or model
    nodes: dict[Any, list[Any]] = {}
    for depth_nodes in getattr(functional, "_nodes_by_depth", {}).values():
        for node in depth_nodes:
            if node.operation is not input_layer:
                nodes.setdefault(node.operation, []).append(node)
    return nodes


def _add_layer(graph: _Graph, layer: Any, nodes: list[Any]) -> None:
    """Record who feeds ``layer``, or why it cannot be a block (nested model, shared weights)."""
    import keras

    if isinstance(layer, keras.Model):
        graph.problems.append(_named(layer, "a model nested inside the model; save it as one flat model"))
    elif len(nodes) != 1:
        graph.problems.append(_named(layer, f"used {len(nodes)} times (shared weights)"))
    else:
        graph.parents[layer] = [t._keras_history.operation for t in nodes[0].input_tensors]


def _map_layers(graph: _Graph) -> _Mapped:
    """Map each layer to a block; every refusal goes into ``graph.problems``, naming its layer."""
    mapped = _Mapped()
    for layer in graph.parents:
        try:
            if type(layer).__name__ == "ZeroPadding2D":
                mapped.fused[layer] = _padding_partner(layer, graph.consumers.get(layer, []))
            else:
                mapped.blocks[layer] = _map_layer(layer)
        except Refusal as why:
            graph.problems.append(_named(layer, why))
    for partner in mapped.fused.values():
        if partner in mapped.blocks:
            mapped.blocks[partner][1]["padding"] = "full"
    return mapped


def _assemble(graph: _Graph, mapped: _Mapped, image: Shape) -> tuple[Network, dict[Any, str]]:
    """Blocks keep their layer's name as id where they can; connections skip folded padding layers."""
    network = Network()
    ids: dict[Any, str] = {}
    for layer in [graph.input_layer, *mapped.blocks]:
        kind, params = (INPUT.kind, shape_params(image)) if layer is graph.input_layer else mapped.blocks[layer]
        try:
            try:  # keep the layer's name as the block id when it is a valid, unused id
                ids[layer] = network.add_block(kind, params, block_id=layer.name)
            except NetworkError:
                ids[layer] = network.add_block(kind, params)
        except NetworkError as exc:
            graph.problems.append(_named(layer, exc))
    for layer in mapped.blocks:
        for src in graph.parents[layer] if layer in ids else []:
            src = graph.parents[src][0] if src in mapped.fused else src
            try:
                if src in ids:
                    network.connect(ids[src], ids[layer])
            except NetworkError as exc:
                graph.problems.append(_named(layer, exc))
    lay_out(network)
    return network, ids


def _validate(model: keras.Model, network: Network, output_id: str | None, num_classes: int) -> None:
    """The network must be valid and end where the model does."""
    analysis = analyze(network, None, num_classes)
    if not analysis.ok:
        raise ModelImportError(f"cannot import {model.name}; the network it makes is not valid",
                               [f"{i.block_id or 'network'}: {i.message}" for i in analysis.errors])
    if analysis.output_id != output_id:
        out = model.outputs[0]._keras_history.operation
        raise ModelImportError(f"cannot import {model.name}: its output {out.name} is not the end "
                               "of the network (some layers lead nowhere)")


def _copy_weights(layers: dict[str, Any], model: keras.Model) -> None:
    for bid, layer in layers.items():
        weights = layer.get_weights()
        if not weights:
            continue
        try:
            model.get_layer(bid).set_weights(weights)
        except (ValueError, KeyError) as exc:
            raise ModelImportError(f"cannot copy the weights of {layer.name}: {exc}") from None


# --------------------------------------------------------------------------- one layer


def _common(cfg: dict[str, Any], may_freeze: bool, may_decay: bool = False) -> list[str]:
    """Settings any layer may have that no block reproduces (freezing only where a block has Trainable,
    a kernel regularizer only where a block has an L2 weight decay, which reads it)."""
    reasons = []
    dtype = cfg.get("dtype")
    policy = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    if policy not in (None, "float32"):
        reasons.append(f"dtype policy {policy} (ConvStudio trains in float32)")
    if cfg.get("data_format", "channels_last") != "channels_last":
        reasons.append("channels_first data format")
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "beta_regularizer",
                "gamma_regularizer", "depthwise_regularizer", "pointwise_regularizer", "kernel_constraint",
                "bias_constraint", "beta_constraint", "gamma_constraint", "depthwise_constraint",
                "pointwise_constraint"):
        if cfg.get(key) is not None and not (may_decay and key == "kernel_regularizer"):
            reasons.append(f"{key.replace('_', ' ')} (changes training)")
    if cfg.get("lora_rank"):
        reasons.append("LoRA adapters")
    if cfg.get("trainable") is False and not may_freeze:
        reasons.append("frozen (not trainable)")
    return reasons


def _map_layer(layer: Any) -> tuple[str, dict[str, Any]]:
    """The block ``(kind, params)`` for one layer, or :class:`Refusal` giving every reason."""
    cls = type(layer).__name__
    spec = spec_for_keras(cls)
    if spec is None:
        raise Refusal("no ConvStudio block does what this layer does")
    cfg = layer.get_config()
    names = {p.name for p in spec.params}
    reasons = _common(cfg, may_freeze="trainable" in names, may_decay="l2" in names)
    try:
        params = spec.from_keras(cls, cfg)
    except Refusal as why:
        reasons.append(str(why))
    if reasons:
        raise Refusal("; ".join(reasons))
    return spec.kind, dict(params)


def _padding_partner(pad: Any, consumers: list[Any]) -> Any:
    """The convolution that a ZeroPadding2D turns into 'full' padding, or refuse."""
    cfg = pad.get_config()
    reasons = _common(cfg, may_freeze=False)
    if reasons:
        raise Refusal("; ".join(reasons))
    (top, bottom), (left, right) = (pair(p) for p in cfg["padding"])
    conv = consumers[0] if len(consumers) == 1 else None
    spec = spec_for_keras(type(conv).__name__) if conv is not None else None
    if spec is None or "full" not in next((p.choices or () for p in spec.params if p.name == "padding"), ()):
        raise Refusal("zero padding that is not followed by a single convolution")
    ccfg = conv.get_config()
    (kh, kw), (dh, dw) = pair(ccfg["kernel_size"]), pair(ccfg.get("dilation_rate", 1))
    kh, kw = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # the span of a dilated kernel
    if ccfg["padding"] != "valid" or (top, bottom, left, right) != (kh - 1, kh - 1, kw - 1, kw - 1):
        raise Refusal(f"padding ({top}, {bottom}, {left}, {right}) before a {kh}x{kw} '{ccfg['padding']}' "
                      f"{type(conv).__name__}; only kernel-1 on every side ('full' padding) is a block setting")
    return conv
