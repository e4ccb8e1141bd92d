"""Before exporting: does the trained model belong to the project's network and to its images?

An export claims to be the project's model, so a model trained before the network was edited,
or one made for another input size, is refused with a plain reason before any converter runs
(instead of a parameter count mismatch, or an ONNX Runtime / TFLite kernel error later).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..blocks import INPUT
from ..builder import OUTPUT_SOFTMAX
from ..shapes import analyze, format_shape
from .formats import ExportError

if TYPE_CHECKING:
    import keras

    from ..network import Network

__all__ = ["check_images", "check_model"]

_RETRAIN = "it was trained before the network was edited; train it again before exporting"


def _layer_shape(layer: keras.layers.Layer) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in layer.output.shape[1:])
    except (AttributeError, TypeError, ValueError):
        return None


def check_model(model: keras.Model, network: Network) -> None:
    """:class:`ExportError` naming the first block where ``model`` differs from ``network``
    (missing layer, another output shape, another parameter count) or a layer the network lacks."""
    input_shape = tuple(int(d) for d in model.input_shape[1:])
    num_classes = int(model.output_shape[-1])
    analysis = analyze(network, input_shape, num_classes)
    if not analysis.ok:
        raise ExportError("the network has errors; fix them, train again, then export")
    layers = {layer.name: layer for layer in model.layers}
    for bid in analysis.order:
        info = analysis.info.get(bid)
        if network.blocks[bid].kind != INPUT.kind and info is not None and info.shape is not None:
            _check_block(bid, network.blocks[bid].kind, tuple(info.shape), info.params, layers)
    known = set(analysis.order) | {OUTPUT_SOFTMAX}
    extra = [n for n, layer in layers.items() if n.split("__")[0] not in known
             and type(layer).__name__ != "InputLayer"]
    if extra:
        raise ExportError(f"the trained model has a layer {extra[0]} that is not a block of the network: {_RETRAIN}")


def _check_block(bid: str, kind: str, shape: tuple[int, ...], params: int, layers: dict) -> None:
    """One block against the model's layer of the same name (and the helper layers ``bid__*`` it adds)."""
    layer = layers.get(bid)
    if layer is None:
        raise ExportError(f"the trained model has no layer for block {bid} ({kind}): {_RETRAIN}")
    got_shape = _layer_shape(layer)
    got_params = sum(int(lay.count_params()) for n, lay in layers.items() if n == bid or n.startswith(f"{bid}__"))
    if (got_shape is not None and got_shape != shape) or got_params != params:
        raise ExportError(f"block {bid} ({kind}) gives {format_shape(shape)} with {params:,} parameters in the "
                          f"network, but {format_shape(got_shape)} with {got_params:,} in the trained model: "
                          f"{_RETRAIN}")


def check_images(model: keras.Model, image_shape: tuple[int, ...], what: str) -> None:
    """:class:`ExportError` when ``model`` takes images of another size than ``image_shape`` (h, w[, c])."""
    expected = tuple(int(d) for d in model.input_shape[1:])
    have = tuple(int(d) for d in image_shape)
    if len(have) == 2:
        have = (*have, 1)
    if have != expected:
        raise ExportError(f"the model takes {format_shape(expected)} images but the {what} are "
                          f"{format_shape(have)}: it was made for other data; export it with a project "
                          "for that data, or train this network on these images")
