"""Watches a run's events and probe figures and says plainly when training is not healthy.

:class:`HealthMonitor` is fed the trainer's own events (:mod:`convstudio.core.training_events`) and
the once-per-epoch :class:`~convstudio.core.health.events.HealthProbe`; each call returns the new
:class:`~convstudio.core.health.events.HealthWarning` records, each kind at most once per run (a
warning that repeats every epoch says nothing new). Divergence and chance level are judged by
:func:`convstudio.core.diagnosis.diagnose`, the same rule that judges the finished run. Importing
this module imports no TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any

from ..diagnosis import DIVERGED, diagnose
from ..diagnosis import NOT_LEARNING as DIAGNOSIS_NOT_LEARNING
from ..training_events import EpochEnd, TrainFinished, TrainStarted
from .events import (
    DEAD_RELU,
    DIVERGING,
    EXPLODING,
    NAN,
    NOT_LEARNING,
    OVERFITTING,
    VANISHING,
    HealthProbe,
    HealthWarning,
)

__all__ = ["DEAD_SHARE", "EXPLODING_NORM", "OVERFIT_PATIENCE", "VANISHING_RATIO", "HealthMonitor",
           "gradient_warning", "overfitting_onset"]

OVERFIT_PATIENCE = 2
"""Validation loss must rise this many epochs in a row (while training loss falls) to call it overfitting."""
DEAD_SHARE = 0.5
"""A ReLU block with at least this share of units silent on the whole probe batch is warned about."""
VANISHING_RATIO = 1e-3
"""The first weighted block's gradient norm below this share of the largest block's: gradients vanish."""
EXPLODING_NORM = 1e3
"""A block gradient norm above this (or not finite): gradients explode."""
_NO_GRADIENT = 1e-10


def overfitting_onset(loss: list[float], val_loss: list[float], patience: int = OVERFIT_PATIENCE) -> int | None:
    """The 0-based epoch overfitting began, or None.

    Overfitting: the validation loss rose for ``patience`` epochs in a row after its best epoch while
    the training loss kept falling; it began in the epoch after the best one.
    """
    n = min(len(loss), len(val_loss))
    if n < patience + 1:
        return None
    best = min(range(n), key=lambda i: val_loss[i])
    rising = all(val_loss[i] > val_loss[i - 1] for i in range(best + 1, n))
    if n - 1 - best < patience or not rising:
        return None
    return best + 1 if loss[n - 1] < loss[best] else None


def gradient_warning(epoch: int, norms: dict[str, float]) -> HealthWarning | None:
    """A warning when the per-block gradient norms (input to output order) explode or vanish."""
    if not norms:
        return None
    bad = [b for b, v in norms.items() if not math.isfinite(v) or v > EXPLODING_NORM]
    if bad:
        peak = max((v for v in norms.values()), key=lambda v: v if math.isfinite(v) else math.inf)
        return HealthWarning(
            EXPLODING, f"Gradients explode: the gradient norm of {', '.join(bad)} is {peak:.3g} "
                       f"(above {EXPLODING_NORM:g}) in epoch {epoch + 1}.",
            "Lower the learning rate, add BatchNorm after the convolutions, or start from smaller weights.",
            epoch, tuple(bad), dict(norms))
    first, largest = next(iter(norms)), max(norms.values())
    if largest < _NO_GRADIENT or norms[first] < VANISHING_RATIO * largest:
        return HealthWarning(
            VANISHING, f"Gradients vanish: the gradient reaching {first} is {norms[first]:.3g}, "
                       f"{norms[first] / max(largest, 1e-30):.1e} of the largest ({largest:.3g}), in epoch "
                       f"{epoch + 1}; the first blocks barely learn.",
            "Use ReLU rather than sigmoid or tanh, add BatchNorm, or make the network shallower "
            "(or add skip connections).", epoch, (first,), dict(norms))
    return None


def _dead_warning(epoch: int, dead: dict[str, float]) -> HealthWarning | None:
    bad = {b: share for b, share in dead.items() if share >= DEAD_SHARE}
    if not bad:
        return None
    parts = ", ".join(f"{share:.0%} of {b}" for b, share in bad.items())
    return HealthWarning(
        DEAD_RELU, f"Dead ReLUs: {parts} never fire on the probe images (epoch {epoch + 1}); "
                   "a unit that is always zero gets no gradient and stops learning.",
        "Lower the learning rate, add BatchNorm before the activation, or use fewer units there.",
        epoch, tuple(bad), dict(bad))


class HealthMonitor:
    """Turns one run's events and probes into warnings; one instance per run, called from one thread."""

    def __init__(self, num_classes: int, learning_rate: float) -> None:
        self.num_classes = num_classes
        self.learning_rate = learning_rate
        self.steps_per_epoch = 0
        self.initial_epoch = 0
        self.history: dict[str, list[float]] = {}
        self.warnings: list[HealthWarning] = []
        self.probes: list[HealthProbe] = []

    def _new(self, *found: HealthWarning | None) -> list[HealthWarning]:
        seen = {w.kind for w in self.warnings}
        fresh = []
        for warning in found:
            if warning is not None and warning.kind not in seen:
                seen.add(warning.kind)
                fresh.append(warning)
        self.warnings += fresh
        return fresh

    def observe(self, event: Any) -> list[HealthWarning]:
        """Feed one trainer event; returns the warnings it raised (usually none)."""
        if isinstance(event, TrainStarted):
            self.steps_per_epoch, self.initial_epoch = event.steps_per_epoch, event.initial_epoch
        elif isinstance(event, EpochEnd):
            for key, value in event.metrics.items():
                self.history.setdefault(key, []).append(float(value))
            return self._new(*self._epoch_warnings(event.epoch))
        elif isinstance(event, TrainFinished) and event.status == "nan":
            return self._new(HealthWarning(
                NAN, "The loss became NaN (not a number): the weights overflowed and training cannot go on.",
                f"Lower the learning rate, e.g. {self.learning_rate / 10:g} instead of {self.learning_rate:g}.",
                event.epochs_done))
        return []

    def observe_probe(self, probe: HealthProbe) -> list[HealthWarning]:
        """Feed one epoch's probe figures; returns the warnings they raised."""
        self.probes.append(probe)
        dead = _dead_warning(probe.epoch, probe.dead_relu)
        gradients = gradient_warning(probe.epoch, probe.gradient_norms)
        if gradients is not None and gradients.kind == VANISHING and dead is not None \
                and set(gradients.blocks) <= set(dead.blocks):
            gradients = None  # no gradient through units that never fire: the dead ReLUs are the cause
        return self._new(dead, gradients)

    def _epoch_warnings(self, epoch: int) -> list[HealthWarning | None]:
        found: list[HealthWarning | None] = []
        epochs = len(self.history.get("loss", []))
        diagnosis = diagnose(self.history, self.num_classes, self.learning_rate, epochs * max(1, self.steps_per_epoch))
        if diagnosis is not None:
            kind = {DIVERGED: DIVERGING, DIAGNOSIS_NOT_LEARNING: NOT_LEARNING}[diagnosis.kind]
            message, _, advice = diagnosis.message.partition(". ")
            found.append(HealthWarning(kind, message + ".", advice, epoch))
        onset = overfitting_onset(self.history.get("loss", []), self.history.get("val_loss", []))
        if onset is not None:
            at = self.initial_epoch + onset
            found.append(HealthWarning(
                OVERFITTING, f"Overfitting since epoch {at + 1}: the validation loss has risen since then while "
                             "the training loss kept falling; the network memorises the training images.",
                "Keep the model of the best epoch (early stopping with restore best), add Dropout or data, "
                "or use a smaller network.", at, (), {"best_val_loss": min(self.history["val_loss"])}))
        return found
