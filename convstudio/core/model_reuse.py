"""A fresh run of an unchanged network trains the model of the last such run again, started afresh.

TensorFlow keeps about 4 MiB inside its runtime for every freshly traced training step, for the life
of the process (docs/PERFORMANCE.md, section 5). So a fresh run whose compiled step would be the same
(the same network, data shape, optimizer and its settings, seed, batch size, XLA and mixed precision,
on one device) takes the model the last such run trained, with its traced step, and puts back every
variable it had before its first step: the weights and random-generator states as built under the
seed, the optimizer's step count, learning rate and moments. Those are the values a new build gives,
so the run trains exactly as a new model would. The run hands out a copy of the trained model
(:meth:`Trainer.run <convstudio.core.training.Trainer.run>`), so the model an earlier run handed out,
which a view may still show, never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .session import network_fingerprint

if TYPE_CHECKING:
    import keras

    from .datasets import Dataset
    from .device import SpeedOptions
    from .network import Network
    from .settings import TrainSettings

__all__ = ["ModelReuse", "ReuseKey", "reuse_key"]


@dataclass(frozen=True)
class ReuseKey:
    """Everything the built model and its compiled training step depend on."""

    network: str
    input_shape: tuple[int, ...]
    num_classes: int
    optimizer: tuple[Any, ...]
    seed: int
    batch_size: int
    jit_compile: bool
    mixed_precision: bool


def reuse_key(network: Network, dataset: Dataset, settings: TrainSettings, speed: SpeedOptions) -> ReuseKey:
    """The key under which a model trained for this run may serve the next fresh run."""
    s = settings
    return ReuseKey(network_fingerprint(network), tuple(dataset.input_shape), int(dataset.num_classes),
                    (s.optimizer, float(s.learning_rate), float(s.momentum), bool(s.nesterov)), int(s.seed),
                    int(s.batch_size), bool(speed.jit_compile), bool(speed.mixed_precision))


class ModelReuse:
    """Keeps one trained model, with the values its variables had before training, for the next fresh run.

    One run at a time uses it (the caller's worker thread); a model is taken out while a run trains it.
    """

    def __init__(self) -> None:
        self._key: ReuseKey | None = None
        self._model: keras.Model | None = None
        self._start: tuple[list[Any], list[Any]] = ([], [])
        self._pending: dict[int, tuple[ReuseKey, tuple[list[Any], list[Any]]]] = {}

    @property
    def kept(self) -> keras.Model | None:
        """The model waiting for the next fresh run with its key (None when none is)."""
        return self._model

    def take(self, key: ReuseKey) -> keras.Model | None:
        """The kept model, reset to its starting values, when ``key`` matches; otherwise None (and it is dropped)."""
        model, start, matches = self._model, self._start, key == self._key
        self.clear()
        if model is None or not matches:
            return None
        _assign(model.variables, start[0])
        _assign(model.optimizer.variables, start[1])
        model.reset_metrics()
        model.stop_training = False
        self._pending[id(model)] = (key, start)
        return model

    def starting(self, key: ReuseKey, model: keras.Model) -> None:
        """Record ``model``'s values now, built and compiled but not yet trained, to start it from again."""
        self._pending[id(model)] = (key, ([v.numpy() for v in model.variables],
                                          [v.numpy() for v in model.optimizer.variables]))

    def keep(self, model: keras.Model) -> bool:
        """Keep ``model`` (trained by a run that went through) for the next fresh run with its key.

        Only a model whose starting values were recorded (:meth:`starting` or :meth:`take`) is kept.
        """
        pending = self._pending.pop(id(model), None)
        if pending is None:
            return False
        self._key, self._start = pending
        self._model = model
        return True

    def forget(self, model: keras.Model | None) -> None:
        """A run that failed: its model is not started from again."""
        if model is not None:
            self._pending.pop(id(model), None)

    def clear(self) -> None:
        self._key, self._model, self._start = None, None, ([], [])


def _assign(variables: list[Any], values: list[Any]) -> None:
    if len(variables) != len(values):
        raise ValueError(f"{len(values)} starting values recorded for {len(variables)} variables")
    for variable, value in zip(variables, values):
        variable.assign(value)
