"""A Conv2D or pooling block of a network as explorer settings, kernels and input (plain data).

:func:`block_setup` needs no TensorFlow: it takes the block's parameters and, when there are
any, its trained weights and the input it sees as numpy arrays. :func:`weights_from_model` and
:func:`block_input_from_model` read those arrays from a trained Keras model (the second runs one
forward pass, so a window calls it from a worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..blocks import BLOCKS, INPUT, get_spec
from ..network import Network
from .stepper import ExplorerError, WindowSettings

if TYPE_CHECKING:
    import keras

__all__ = ["EXPLORABLE_KINDS", "BlockSetup", "block_input_from_model", "block_settings", "block_setup",
           "prepare_sample", "weights_from_model"]

EXPLORABLE_KINDS = {kind: spec.explore for kind, spec in BLOCKS.items() if spec.explore and spec.window.sliding}
"""Block kinds the explorer can open, and the operation it steps through their window with."""


@dataclass(frozen=True)
class BlockSetup:
    """What the explorer shows for one block.

    ``kernels`` is ``(kh, kw, c_in, filters)`` for a Conv2D (None for pooling) and ``biases`` has one
    value per filter; ``image`` is the ``(h, w, c)`` input the block sees, or None when unknown;
    ``notes`` say where the numbers come from.
    """

    block_id: str
    kind: str
    settings: WindowSettings
    kernels: np.ndarray | None
    biases: np.ndarray | None
    image: np.ndarray | None
    activation: str | None
    notes: tuple[str, ...] = ()


def block_settings(kind: str, params: dict[str, Any]) -> WindowSettings:
    """Explorer settings of a convolution or pooling block's parameters (its spec's sliding window)."""
    if kind not in EXPLORABLE_KINDS:
        raise ExplorerError(f"a {kind} block has no sliding window; open a Conv2D or pooling block")
    window = get_spec(kind).window
    dilation = tuple(int(params[name]) if name else 1 for name in window.dilation)
    return WindowSettings((int(params[window.size[0]]), int(params[window.size[1]])),
                          (int(params[window.stride[0]]), int(params[window.stride[1]])),
                          str(params[window.padding]), dilation, op=EXPLORABLE_KINDS[kind])  # type: ignore[arg-type]


def prepare_sample(sample: np.ndarray) -> np.ndarray:
    """A dataset image as the network sees it: ``(h, w, c)`` float, uint8 pixels scaled to [0, 1]."""
    x = np.asarray(sample)
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    x = x.astype(np.float64) / scale
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ExplorerError(f"the sample must be an image (h, w) or (h, w, channels), not shape {x.shape}")
    return x


def _start_kernels(params: dict[str, Any], in_channels: int) -> tuple[np.ndarray, str]:
    """The kernels an untrained block starts from: its hand-designed bank, or seeded random weights."""
    init = params.get("kernel_init", "learned")
    kh, kw, filters = params["kernel_h"], params["kernel_w"], params["filters"]
    if init != "learned":
        from ..inspection.filters import conv_kernel_array

        return conv_kernel_array(init, kh, kw, in_channels, filters).astype(np.float64), \
            f"{init.capitalize()} kernels, as the block starts"
    limit = np.sqrt(6.0 / (kh * kw * in_channels + kh * kw * filters))  # Keras' Glorot uniform
    kernels = np.random.default_rng(0).uniform(-limit, limit, (kh, kw, in_channels, filters))
    return np.round(kernels, 2), "untrained: random starting weights (train the network to see learned ones)"


def _source(network: Network, block_id: str) -> str:
    srcs = network.inputs_of(block_id)
    if not srcs:
        raise ExplorerError(f"{block_id} is not connected to an input")
    return srcs[0]


def block_setup(network: Network, block_id: str, sample: np.ndarray | None = None,
                weights: tuple[np.ndarray, np.ndarray | None] | None = None,
                block_input: np.ndarray | None = None, in_channels: int | None = None) -> BlockSetup:
    """Settings, kernels and input of ``block_id``.

    ``sample`` is a dataset image; it is the block's input when the block reads the Input block.
    ``block_input`` (the feature maps feeding a deeper block, ``(h, w, c)``) overrides it.
    ``weights`` is the trained ``(kernel, bias)``; without it a Conv2D shows its starting kernels.
    """
    block = network.block(block_id)
    settings = block_settings(block.kind, block.params)
    notes: list[str] = []
    image = None
    if block_input is not None:
        image = np.asarray(block_input, dtype=np.float64)
        image = image[:, :, None] if image.ndim == 2 else image
    elif sample is not None:
        if network.block(_source(network, block_id)).kind == INPUT.kind:
            image = prepare_sample(sample)
        else:
            notes.append(f"{block_id} reads {_source(network, block_id)}, not the image; "
                         "its input is known once the network is trained")
    channels = in_channels or (image.shape[2] if image is not None else 1)
    kernels = biases = None
    activation = None
    if get_spec(block.kind).kernel_view:
        activation = block.params.get("activation")
        if weights is not None:
            kernels = np.asarray(weights[0], dtype=np.float64)
            biases = None if weights[1] is None else np.asarray(weights[1], dtype=np.float64)
            notes.append("trained weights")
        else:
            kernels, note = _start_kernels(block.params, channels)
            notes.append(note)
        if image is not None and kernels.shape[2] != image.shape[2]:
            raise ExplorerError(f"{block_id}'s kernels take {kernels.shape[2]} channel(s) but its input has "
                                f"{image.shape[2]}")
    return BlockSetup(block_id, block.kind, settings, kernels, biases, image, activation, tuple(notes))


def weights_from_model(model: keras.Model, block_id: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The trained ``(kernel, bias)`` of the Conv2D layer named ``block_id`` (bias None without one)."""
    try:
        layer = model.get_layer(block_id)
    except ValueError:
        raise ExplorerError(f"the trained model has no layer {block_id!r}; train the network again") from None
    values = layer.get_weights()
    if not values:
        raise ExplorerError(f"{block_id} has no weights in the trained model")
    return np.asarray(values[0]), (np.asarray(values[1]) if len(values) > 1 else None)


def block_input_from_model(model: keras.Model, network: Network, block_id: str,
                           sample: np.ndarray) -> np.ndarray:
    """The ``(h, w, c)`` maps that feed ``block_id`` for ``sample`` (one forward pass)."""
    from ..inspection.activations import block_activations

    source = _source(network, block_id)
    maps = block_activations(model, network, sample)
    if source not in maps:
        raise ExplorerError(f"the trained model has no output for {source}; train the network again")
    return np.asarray(maps[source], dtype=np.float64)
