"""The learning-rate range test: train a copy of the model for a few batches while the rate grows.

The loss is recorded against a learning rate that grows geometrically from ``start`` to ``end``;
it falls once the rate is large enough to learn and blows up once it is too large. The suggested
rate is a tenth of the rate at the lowest (smoothed) loss, a common rule of thumb (Smith, 2017).
The user's model is not touched: the test trains a clone with its own optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .events import LR_TOO_HIGH, LR_TOO_LOW, HealthWarning

if TYPE_CHECKING:
    from ..datasets import Dataset
    from ..network import Network
    from ..settings import TrainSettings

__all__ = ["LearningRateRange", "StepHook", "advise_learning_rate", "find_learning_rate", "lr_range_test"]

StepHook = Callable[[int, float, float], bool]
"""Called after each batch of the sweep with ``(index, learning_rate, loss)``; returning False stops it."""
MAX_IMAGES = 8192
"""The most training images :func:`find_learning_rate` draws its batches from (a seeded random subset)."""

_BLOW_UP = 4.0  # stop once the smoothed loss is this many times its best
_SMOOTH = 0.7
TOO_HIGH = 10.0
"""A learning rate more than this many times the suggested one is warned about as too high."""
TOO_LOW = 100.0
"""A learning rate less than the suggested one divided by this is warned about as too low."""


@dataclass(frozen=True)
class LearningRateRange:
    """Loss against learning rate (same length; the sweep stops early once the loss blows up)."""

    learning_rates: list[float]
    losses: list[float]
    suggested: float

    @property
    def best(self) -> float:
        """The learning rate at the lowest smoothed loss."""
        return self.suggested * 10.0


def _smoothed(losses: list[float]) -> list[float]:
    out, avg = [], 0.0
    for i, loss in enumerate(losses, 1):
        avg = _SMOOTH * avg + (1 - _SMOOTH) * loss
        out.append(avg / (1 - _SMOOTH ** i))
    return out


def _optimizer(name: str, rate: float, momentum: float):
    """The sweep's Keras optimizer: Adam, or RMSprop or SGD with ``momentum``."""
    import keras

    if name == "adam":
        return keras.optimizers.Adam(rate)
    kind = keras.optimizers.RMSprop if name == "rmsprop" else keras.optimizers.SGD
    return kind(rate, momentum=momentum)


def lr_range_test(model, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 32, steps: int = 30,
                  start: float = 1e-6, end: float = 1.0, optimizer: str = "sgd", momentum: float = 0.0,
                  seed: int = 0, step: StepHook | None = None) -> LearningRateRange:
    """Sweep the learning rate over ``steps`` batches of ``images``/``labels`` on a copy of ``model``.

    ``images`` are uint8 pixels or already normalised floats.

    ``optimizer`` is ``"sgd"``, ``"adam"`` or ``"rmsprop"`` (``momentum`` for SGD and RMSprop).
    ``step`` hears of each batch and may stop the sweep early (to cancel it). Returns the curve and a
    suggested rate.
    """
    import keras

    from ..pipeline import normalize

    if np.asarray(images).dtype == np.uint8:
        images = normalize(images)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    opt = _optimizer(optimizer, start, momentum)
    clone.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    factor = (end / start) ** (1.0 / max(1, steps - 1))
    rates, losses = [], []
    for i in range(steps):
        lr = start * factor ** i
        opt.learning_rate.assign(lr)
        pick = rng.choice(len(images), size=min(batch_size, len(images)), replace=False)
        loss = float(clone.train_on_batch(images[pick], labels[pick]))
        rates.append(lr)
        losses.append(loss)
        if step is not None and not step(i, lr, loss):
            break
        smooth = _smoothed([v for v in losses if math.isfinite(v)] or [math.inf])
        if not math.isfinite(loss) or (i > 2 and smooth[-1] > _BLOW_UP * min(smooth)):
            break
    finite = [(r, s) for r, s in zip(rates, _smoothed(losses)) if math.isfinite(s)]
    best = min(finite, key=lambda rs: rs[1])[0] if finite else start
    return LearningRateRange(rates, losses, best / 10.0)


def find_learning_rate(network: Network, dataset: Dataset, settings: TrainSettings, *, steps: int = 40,
                       step: StepHook | None = None) -> LearningRateRange:
    """The range test of ``network`` (fresh weights) on ``dataset`` with the optimizer, momentum and
    batch size of ``settings``; raises ``ValueError`` (no images) or ``BuildError`` (an invalid network)
    with a message for the user."""
    from ..builder import build_model

    if len(dataset.x_train) == 0:
        raise ValueError(f"{dataset.title} has no training images to try learning rates on.")
    model = build_model(network, dataset.input_shape, dataset.num_classes)
    rng = np.random.default_rng(settings.seed)
    count = min(len(dataset.x_train), MAX_IMAGES)
    pick = np.sort(rng.choice(len(dataset.x_train), size=count, replace=False))
    return lr_range_test(model, dataset.x_train[pick], dataset.y_train[pick], batch_size=settings.batch_size,
                         steps=steps, optimizer=settings.optimizer, momentum=settings.momentum, seed=settings.seed,
                         step=step)


def advise_learning_rate(result: LearningRateRange, learning_rate: float) -> HealthWarning | None:
    """A warning when ``learning_rate`` is far above or below the range test's suggestion."""
    suggested = result.suggested
    values = {"learning_rate": learning_rate, "suggested": suggested}
    if learning_rate > TOO_HIGH * suggested:
        return HealthWarning(
            LR_TOO_HIGH, f"The learning rate {learning_rate:g} is too high: the range test's loss is lowest "
                         f"near {result.best:.2g} and grows beyond it.",
            f"Try about {suggested:.2g}.", values=values)
    if learning_rate < suggested / TOO_LOW:
        return HealthWarning(
            LR_TOO_LOW, f"The learning rate {learning_rate:g} is too low: the loss barely moves at that rate in "
                        f"the range test, so training will be slow.",
            f"Try about {suggested:.2g}.", values=values)
    return None
