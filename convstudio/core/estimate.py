"""How long an epoch will take on this device, before training: shape analysis priced by a calibration.

:func:`workload` reads from the shape analysis what one image costs a training step: the elements each
block reads and writes, by the block's cost class (:data:`~convstudio.core.blocks.COSTS`), and for
convolutions and Dense blocks their multiply-accumulates (MACs) too. MACs alone would miss the layers
that do little arithmetic but touch much memory: BatchNorm and Dropout cost several times a ReLU per
element, a rotation several times more again; and a convolution of one input channel (the first one of
a network) costs ten times more per MAC than a wide one. So a block that multiplies costs its MACs
plus its window taps (output positions x kernel area) and output elements.

:func:`calibrate` prices each of those on this device in about a second or two: ReLU with max pooling
(light), BatchNorm with Dropout (heavy), a random rotation (resample), a one-channel and a 32-channel
3x3 convolution (per element, then per MAC), each forward and backward in a compiled function (the
fastest of a few runs), and a few steps of Keras ``fit`` of a tiny model fed by the trainer's own input
pipeline (the fixed cost of a step). :func:`estimate_epoch` is then pure
arithmetic: ``steps x step cost + images x per-image cost`` for training, the same at a third of the
per-image cost (forward only) for validation.

A calibration belongs to a device, TensorFlow's thread pools and TensorFlow's version
(:func:`calibration_key`); :func:`stored_calibration` and :func:`store_calibration` keep one per key in a
small JSON file, so the app measures once per machine. Not counted: the first epoch's model building
and tracing (a few seconds), decoding images streamed from disk, and whatever else runs on the machine.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .blocks import get_spec
from .memory import MemoryEstimate, format_bytes
from .network import Network
from .shapes import Analysis

__all__ = [
    "CALIBRATION_VERSION", "Calibration", "EpochEstimate", "Workload", "calibrate", "calibration_key",
    "current_key", "describe_estimate", "estimate_epoch", "estimate_run_epoch", "format_rough_duration", "load_or_calibrate",
    "store_calibration", "stored_calibration", "workload",
]

CALIBRATION_VERSION = 1
"""Bumped when what :func:`calibrate` measures changes: older stored calibrations are then measured again."""

FORWARD_SHARE = 1 / 3
"""Share of a training step's per-image work that the forward pass alone (validation) takes."""

OPTIMIZER_TRAFFIC = 6
"""Elements the optimizer reads and writes per trainable parameter and step (weight, gradient, slots)."""

_PRICED = ("light", "heavy", "resample", "multiply")


@dataclass(frozen=True)
class Workload:
    """What one training image costs a network: the forward MACs of the blocks that multiply, and the
    elements moved per cost class."""

    macs: int = 0
    light: int = 0
    heavy: int = 0
    resample: int = 0
    multiply: int = 0
    trainable_params: int = 0


def _elements(shape: tuple[int, ...] | None) -> int:
    return math.prod(shape) if shape else 0


def workload(network: Network, analysis: Analysis) -> Workload:
    """The per-image work of the analysed ``network`` (blocks of unknown shape count nothing)."""
    moved = dict.fromkeys(_PRICED, 0)
    macs = 0
    for bid, info in analysis.info.items():
        if bid not in network.blocks or info.shape is None:
            continue
        cost = get_spec(network.blocks[bid].kind).cost
        sources = [analysis.shape(src) for src in network.inputs_of(bid)]
        if cost == "multiply":
            macs += info.macs
            moved[cost] += _window_taps(info.macs, sources, info.shape) + _elements(info.shape)
        elif cost != "free":
            moved[cost] += sum(_elements(shape) for shape in sources) + _elements(info.shape)
    return Workload(macs, moved["light"], moved["heavy"], moved["resample"], moved["multiply"],
                    analysis.trainable_params)


def _window_taps(macs: int, sources: list[tuple[int, ...] | None], shape: tuple[int, ...]) -> int:
    """Window positions read per image: output positions x kernel area (MACs / (in x out channels)).

    Each tap reads all input channels at one pixel in one go; a convolution of one input channel
    pays for every tap, a wide one hardly notices them. A Dense block reads its input once.
    """
    channels_in = sources[0][-1] if sources and sources[0] else 1
    return macs // max(1, channels_in * shape[-1])


@dataclass(frozen=True)
class Calibration:
    """Seconds per unit of work on one device, with the key it was measured under.

    ``step_s``: the fixed cost of one training step (Keras's loop, the input pipeline, the optimizer
    call); ``mac_s``: per forward MAC, forward and backward; ``light_s``, ``heavy_s``, ``resample_s``,
    ``multiply_s``: per element read or written (for a block that multiplies: per window tap and
    output element), forward and backward.
    """

    key: str
    device: str
    step_s: float
    mac_s: float
    light_s: float
    heavy_s: float
    resample_s: float
    multiply_s: float
    measured_at: str = ""
    took_s: float = 0.0
    version: int = CALIBRATION_VERSION

    def per_image_s(self, work: Workload) -> float:
        """Seconds one image costs a training step (forward and backward)."""
        return (work.macs * self.mac_s + work.light * self.light_s + work.heavy * self.heavy_s
                + work.resample * self.resample_s + work.multiply * self.multiply_s)

    def per_step_s(self, work: Workload) -> float:
        """Seconds one training step costs whatever its batch size (the loop and the optimizer update)."""
        return self.step_s + work.trainable_params * OPTIMIZER_TRAFFIC * self.light_s

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """A calibration from :func:`dataclasses.asdict` output; raises ``ValueError`` for anything else."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, Mapping) or not {"key", "device", "step_s", "mac_s"} <= set(data):
            raise ValueError("not a calibration record")
        values = {k: v for k, v in data.items() if k in names}
        for name in ("step_s", "mac_s", *(f"{c}_s" for c in _PRICED)):
            number = float(values.get(name, "nan"))
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"calibration field {name} is not a time: {values.get(name)!r}")
            values[name] = number
        return cls(**values)


@dataclass(frozen=True)
class EpochEstimate:
    """An epoch's estimated duration, split into training and validation, with the step counts."""

    seconds: float
    train_seconds: float
    val_seconds: float
    train_images: int
    val_images: int
    train_steps: int
    val_steps: int
    device: str = ""


def estimate_epoch(work: Workload, images: int, batch_size: int, validation_split: float,
                   calibration: Calibration) -> EpochEstimate:
    """Seconds one epoch over ``images`` training images takes (validation held out as the trainer does)."""
    images, batch = max(0, int(images)), max(1, int(batch_size))
    n_val = int(round(images * min(max(validation_split, 0.0), 0.99)))
    n_train = images - n_val
    train_steps, val_steps = math.ceil(n_train / batch), math.ceil(n_val / batch)
    per_image = calibration.per_image_s(work)
    train_s = train_steps * calibration.per_step_s(work) + n_train * per_image
    val_s = val_steps * calibration.step_s + n_val * per_image * FORWARD_SHARE
    return EpochEstimate(train_s + val_s, train_s, val_s, n_train, n_val, train_steps, val_steps,
                         calibration.device)


def estimate_run_epoch(network: Network, analysis: Analysis, images: int, settings: Any,
                       calibration: Calibration) -> EpochEstimate:
    """:func:`estimate_epoch` of the analysed ``network`` with the batch size and validation split of ``settings``."""
    return estimate_epoch(workload(network, analysis), images, settings.batch_size, settings.validation_split,
                          calibration)


def format_rough_duration(seconds: float) -> str:
    """An estimate's duration with the precision it deserves: ``under 0.1 s``, ``0.4 s``, ``12 s``, ``3.5 min``,
    ``2.1 h``."""
    if seconds < 0.05:
        return "under 0.1 s"
    if seconds < 1:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        minutes = seconds / 60
        return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
    return f"{seconds / 3600:.1f} h"


def describe_estimate(epoch: EpochEstimate | None, memory: MemoryEstimate | None) -> str:
    """``≈ 12 s per epoch on CPU (2 threads) · 35.0 MB for weights, optimizer and activations at batch 64``."""
    parts = []
    if epoch is not None:
        rough = format_rough_duration(epoch.seconds)
        parts.append(f"{'' if rough.startswith('under') else chr(0x2248) + ' '}{rough} per epoch on {epoch.device}")
    if memory is not None:
        parts.append(f"{format_bytes(memory.total_bytes)} for weights, optimizer and activations "
                     f"at batch {memory.batch_size}")
    return " \u00b7 ".join(parts)


# ---------------------------------------------------------------- storage


def calibration_key(device: str, inter_threads: int, intra_threads: int, tf_version: str) -> str:
    """What a calibration is valid for: the device, TensorFlow's thread pools and version."""
    return (f"{device} | threads inter {inter_threads}, intra {intra_threads} | TensorFlow {tf_version} "
            f"| v{CALIBRATION_VERSION}")


def _read_store(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stored_calibration(path: str | os.PathLike[str], key: str) -> Calibration | None:
    """The calibration stored in ``path`` for ``key``; None when there is none (or the file is unreadable)."""
    record = _read_store(Path(path)).get(key)
    try:
        calibration = Calibration.from_dict(record) if record is not None else None
    except (TypeError, ValueError):
        return None
    return calibration if calibration is not None and calibration.key == key else None


def store_calibration(path: str | os.PathLike[str], calibration: Calibration) -> None:
    """Keep ``calibration`` in ``path`` beside those of other keys (written atomically)."""
    target = Path(path)
    data = _read_store(target)
    data[calibration.key] = asdict(calibration)
    atomic_write_text(target, json.dumps(data, indent=1, sort_keys=True))


# ---------------------------------------------------------------- measuring


@dataclass
class _Probe:
    """One timed piece of work: layers applied to a batch, and the work it stands for per image."""

    layers: Callable[[Any], list[Any]]
    shape: tuple[int, ...]
    batch: int
    work: Workload = field(default_factory=Workload)


_MAPS = (28, 28, 32)
_E = math.prod(_MAPS)
_PROBES = {  # the work each stands for, per image, in the units the workload counts
    "light": _Probe(lambda k: [k.layers.Activation("relu"), k.layers.MaxPooling2D()], _MAPS, 32,
                    Workload(light=2 * _E + _E + _E // 4)),
    "heavy": _Probe(lambda k: [k.layers.BatchNormalization(), k.layers.Dropout(0.5)], _MAPS, 32,
                    Workload(heavy=4 * _E)),
    "resample": _Probe(lambda k: [k.layers.RandomRotation(0.1)], (28, 28, 4), 16, Workload(resample=2 * 28 * 28 * 4)),
    "narrow": _Probe(lambda k: [k.layers.Conv2D(8, 3, padding="same", activation="relu")], (28, 28, 1), 32,
                     Workload(28 * 28 * 8 * 9, multiply=28 * 28 * (9 + 8))),
    "wide": _Probe(lambda k: [k.layers.Conv2D(32, 3, padding="same", activation="relu")], _MAPS, 16,
                   Workload(28 * 28 * 32 * 9 * 32, multiply=28 * 28 * 9 + _E)),
}
_WARM_UP = 3
_REPEATS = 7
_FIT_STEPS = 14


def _time_probe(probe: _Probe) -> float:
    """Seconds one image costs a forward and backward pass of the probe's layers, over its batch (the
    fastest of a few runs: what the device can do, not what other programs left of it)."""
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input(probe.shape), *probe.layers(keras)])
    x = tf.random.uniform((probe.batch, *probe.shape))

    @tf.function
    def step(images: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(images)
            out = model(images, training=True)
            loss = tf.reduce_mean(out * out)
        return tape.gradient(loss, [images, *model.trainable_variables])[0]

    for _ in range(_WARM_UP):  # the first calls trace, and set up kernels and caches
        step(x).numpy()
    times = []
    for _ in range(_REPEATS):
        start = time.perf_counter()
        step(x).numpy()
        times.append(time.perf_counter() - start)
    return min(times) / probe.batch


def _time_fit_step() -> float:
    """Median seconds of one Keras ``fit`` step of a tiny model fed by the trainer's input pipeline."""
    import keras
    import numpy as np

    from .builder import build_model
    from .settings import TrainSettings
    from .training import compile_model, epoch_batches

    batch = 32
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    model = build_model(net, (28, 28, 1), 10)
    compile_model(model, TrainSettings())
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batch * 4, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, batch * 4).astype(np.int64)
    ends: list[float] = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *_, **__: ends.append(time.perf_counter()))
    data = epoch_batches(x, y, batch, 0, 0, _FIT_STEPS).repeat()
    model.fit(data, epochs=1, steps_per_epoch=_FIT_STEPS, verbose=0, shuffle=False, callbacks=[clock])
    gaps = [b - a for a, b in zip(ends[3:], ends[4:], strict=False)]  # the first steps trace and warm up
    return statistics.median(gaps) if gaps else 0.0


def current_key() -> tuple[str, str]:
    """(key, device description) of the device and thread pools TensorFlow uses now."""
    import tensorflow as tf

    from .device import describe_device

    device = describe_device()
    threading = tf.config.threading
    key = calibration_key(device, threading.get_inter_op_parallelism_threads(),
                          threading.get_intra_op_parallelism_threads(), tf.__version__)
    return key, device


def calibrate(cancelled: Callable[[], bool] | None = None) -> Calibration | None:
    """Measure this device (about two seconds on two CPU cores); None when ``cancelled()`` turned true."""
    cancelled = cancelled or (lambda: False)
    began = time.perf_counter()
    key, device = current_key()
    seconds: dict[str, float] = {}
    for name, probe in _PROBES.items():
        if cancelled():
            return None
        seconds[name] = _time_probe(probe)
    if cancelled():
        return None
    step_s = _time_fit_step()
    light, heavy, resample = (seconds[name] / getattr(_PROBES[name].work, name) for name in ("light", "heavy",
                                                                                              "resample"))
    mac_s, multiply_s = _price_multiply(seconds["narrow"], seconds["wide"])
    return Calibration(key, device, step_s, mac_s, light, heavy, resample, multiply_s,
                       time.strftime("%Y-%m-%d %H:%M:%S"), time.perf_counter() - began)


def _price_multiply(narrow_s: float, wide_s: float) -> tuple[float, float]:
    """(per MAC, per element) of blocks that multiply, from a one-channel and a 32-channel convolution.

    The narrow one is nearly all elements (its few MACs are priced at the wide one's overall rate),
    the wide one is priced per MAC for what its elements leave.
    """
    narrow, wide = _PROBES["narrow"].work, _PROBES["wide"].work
    element_s = max(narrow_s - narrow.macs * wide_s / wide.macs, narrow_s * 0.5) / narrow.multiply
    mac_s = max(wide_s - wide.multiply * element_s, wide_s * 0.1) / wide.macs
    return mac_s, element_s


def load_or_calibrate(path: str | os.PathLike[str], again: bool = False,
                      cancelled: Callable[[], bool] | None = None) -> Calibration | None:
    """The stored calibration of this device, or a new one measured (and stored) now.

    ``again`` measures even when one is stored. A store that cannot be written only loses the
    remembering: the calibration is still returned.
    """
    key, _device = current_key()
    if not again:
        found = stored_calibration(path, key)
        if found is not None:
            return found
    calibration = calibrate(cancelled)
    if calibration is not None:
        try:
            store_calibration(path, calibration)
        except OSError:
            pass
    return calibration
