"""Goals measured by running the lesson's network: its prediction, its response to a shift, its gradients.

The network is built with fixed initial weights (seed 0, untrained) and run on the bundled
sample of the lesson's dataset, so a goal gives the same answer on every machine, offline. Models
are cached by the network's content: a goal checked again after an unrelated event costs nothing.
"""

from __future__ import annotations

import json
import random
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np

from ..network import Network
from ..resources import resource_path

__all__ = ["PREDICTION_MEASURES", "PROBE_BATCH", "SHIFT_MEASURES", "ProbeError", "gradient_norms",
           "prediction", "probe_images", "shift_response", "softmax_report"]

PROBE_SEED = 0
PROBE_BATCH = 32
PREDICTION_MEASURES = ("probability_sum", "max_probability", "loss", "hand_vs_network", "loss_hand_vs_keras")
SHIFT_MEASURES = ("change", "equivariance")
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_LOCK = threading.RLock()  # one measurement at a time: the seed and the cache are shared


class ProbeError(ValueError):
    """The network cannot be run for this goal (not valid yet, or no such block)."""


@lru_cache(maxsize=4)
def probe_images(dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`PROBE_BATCH` test images and labels of the bundled sample of ``dataset``."""
    try:
        with np.load(resource_path("datasets", f"{dataset}_sample.npz")) as data:
            return np.asarray(data["x_test"][:PROBE_BATCH]), np.asarray(data["y_test"][:PROBE_BATCH])
    except (OSError, KeyError, ValueError) as exc:
        raise ProbeError(f"there is no bundled sample of {dataset}: {exc}") from None


def _cached(key: tuple, make):
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = make()
    _CACHE[key] = value
    while len(_CACHE) > 8:
        _CACHE.popitem(last=False)
    return value


def _key(network: Network, input_shape: tuple, what: str, *extra: Any) -> tuple:
    return (what, json.dumps(network.to_dict(), sort_keys=True), tuple(input_shape), *extra)


def _model(network: Network, input_shape: tuple, num_classes: int):
    def make():
        import keras

        from ..builder import BuildError, build_model

        numpy_state, python_state = np.random.get_state(), random.getstate()
        keras.utils.set_random_seed(PROBE_SEED)
        try:
            return build_model(network, input_shape, num_classes, name="probe")
        except BuildError as exc:
            raise ProbeError(" ".join(str(exc).splitlines()[:2])) from None
        finally:  # the seed is for these weights only: leave NumPy's and Python's generators as they were
            np.random.set_state(numpy_state)
            random.setstate(python_state)

    return _cached(_key(network, input_shape, "model", num_classes), make)


def _activations(network: Network, input_shape: tuple, num_classes: int, image: np.ndarray) -> dict[str, np.ndarray]:
    from ..inspection import block_activations

    return block_activations(_model(network, input_shape, num_classes), network, image)


def _prediction(network: Network, input_shape: tuple, num_classes: int, dataset: str, measure: str) -> float:
    """The unlocked measurement behind :func:`prediction`."""
    import keras

    from ..inspection import prepare_images, softmax_steps

    if measure not in PREDICTION_MEASURES:
        raise ProbeError(f"unknown measure {measure!r}; known: {', '.join(PREDICTION_MEASURES)}")
    images, labels = probe_images(dataset)
    model = _model(network, input_shape, num_classes)
    probs = np.asarray(model(prepare_images(images[:1]), training=False))[0].astype(np.float64)
    label = int(labels[0])
    if measure == "probability_sum":
        return float(probs.sum())
    if measure == "max_probability":
        return float(probs.max())
    if measure == "loss":
        return float(keras.losses.sparse_categorical_crossentropy(np.array([label]), probs[None])[0])
    from ..shapes import analyze

    out_id = analyze(network, input_shape, num_classes).output_id
    logits = _activations(network, input_shape, num_classes, images[0])[out_id].reshape(-1)
    steps = softmax_steps(logits, label)
    if measure == "hand_vs_network":
        return float(np.abs(steps.probabilities - probs).max())
    keras_loss = float(keras.losses.sparse_categorical_crossentropy(np.array([label]), probs[None])[0])
    return abs(steps.loss - keras_loss)


def _shift_response(network: Network, input_shape: tuple, num_classes: int, dataset: str, block: str,
                   dy: int, dx: int, measure: str) -> float:
    """The unlocked measurement behind :func:`shift_response`."""
    from ..inspection import shift_image

    if measure not in SHIFT_MEASURES:
        raise ProbeError(f"unknown measure {measure!r}; known: {', '.join(SHIFT_MEASURES)}")
    if block not in network:
        raise ProbeError(f"there is no block {block}")
    images, _ = probe_images(dataset)
    image = images[0]
    before = _activations(network, input_shape, num_classes, image)
    after = _activations(network, input_shape, num_classes, shift_image(image, dy, dx))
    if block not in before:
        raise ProbeError(f"{block} is not connected to the input")
    a, b = before[block].astype(np.float64), after[block].astype(np.float64)
    scale = float(np.linalg.norm(a)) or 1.0
    if measure == "change":
        return float(np.linalg.norm(b - a)) / scale
    if a.ndim != 3:
        raise ProbeError(f"{block}'s output is not a feature map")
    my = round(dy * a.shape[0] / image.shape[0] + 1e-9)
    mx = round(dx * a.shape[1] / image.shape[1] + 1e-9)
    return float(np.linalg.norm(b - shift_image(a, my, mx))) / scale


def _gradient_norms(network: Network, input_shape: tuple, num_classes: int, dataset: str) -> dict[str, float]:
    """The unlocked measurement behind :func:`gradient_norms`."""
    from ..inspection import block_gradient_norms

    def make():
        images, labels = probe_images(dataset)
        return block_gradient_norms(_model(network, input_shape, num_classes), network, images, labels)

    return _cached(_key(network, input_shape, "gradients", num_classes, dataset), make)


def prediction(network: Network, input_shape: tuple, num_classes: int, dataset: str, measure: str) -> float:
    """A number about the network's output on the first sample image (see :data:`PREDICTION_MEASURES`).

    ``hand_vs_network``: the largest difference between the softmax computed by hand from the
    output block's values and the network's probabilities (0 when the output block gives logits);
    ``loss_hand_vs_keras``: the difference between the hand-computed loss and ``keras.losses``.
    """
    with _LOCK:
        return _prediction(network, input_shape, num_classes, dataset, measure)


def shift_response(network: Network, input_shape: tuple, num_classes: int, dataset: str, block: str,
                   dy: int, dx: int, measure: str) -> float:
    """How ``block``'s output answers a shift of the input by ``dy`` rows and ``dx`` columns.

    ``change``: ``|f(shifted) − f(x)| / |f(x)|`` (0: invariant). ``equivariance``: the same with
    ``f(x)`` shifted by the corresponding number of map cells (0: the map moves with the input);
    only for blocks with an image-shaped output.
    """
    with _LOCK:
        return _shift_response(network, input_shape, num_classes, dataset, block, dy, dx, measure)


def gradient_norms(network: Network, input_shape: tuple, num_classes: int, dataset: str) -> dict[str, float]:
    """Per-block gradient norms of the loss on the probe batch (see ``block_gradient_norms``)."""
    with _LOCK:
        return _gradient_norms(network, input_shape, num_classes, dataset)


def softmax_report(network: Network, input_shape: tuple, num_classes: int, dataset: str) -> list[str]:
    """The first sample image through the network: softmax and loss by hand from the output block's
    values, beside the network's probabilities and Keras' loss, as text lines."""
    import keras

    from ..inspection import prepare_images, softmax_steps
    from ..shapes import analyze

    with _LOCK:
        images, labels = probe_images(dataset)
        model = _model(network, input_shape, num_classes)
        probs = np.asarray(model(prepare_images(images[:1]), training=False))[0].astype(np.float64)
        out_id = analyze(network, input_shape, num_classes).output_id
        values = _activations(network, input_shape, num_classes, images[0])[out_id].reshape(-1)
    label = int(labels[0])
    steps = softmax_steps(values, label)
    keras_loss = float(keras.losses.sparse_categorical_crossentropy(np.array([label]), probs[None])[0])
    row = ", ".join(f"{p:.3f}" for p in probs)
    return [f"The first test image of the {dataset} sample, label {label}; starting weights (seed {PROBE_SEED}).",
            f"By hand, from the values of {out_id}:", *(f"  {line}" for line in steps.lines()),
            "By the network:", f"  p = [{row}]",
            f"  keras.losses.sparse_categorical_crossentropy = {keras_loss:.4f}"]
