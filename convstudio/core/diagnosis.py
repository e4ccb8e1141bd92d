"""Did training learn? Divergence and chance-level accuracy, read from a run's history.

A run can collapse without ever producing a NaN: with a learning rate of 10 the loss settles at
about ln(classes) (2.3 for ten classes) and accuracy at 1 / classes, and Keras reports a finished
run. :func:`diagnose` tells such a run apart from one that learned, and says what to try.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DIVERGED", "MIN_STEPS_TO_JUDGE", "NOT_LEARNING", "Diagnosis", "diagnose"]

DIVERGED = "diverged"
NOT_LEARNING = "chance_level"

_EXPLODED = 10.0  # a loss this many times a uniform guess's has exploded
_RISE = 1.5  # the last epoch's loss this many times the first's (and above a guess's) is rising
_CHANCE_MARGIN = 1.5  # accuracy within this factor of 1 / classes is chance level
_GUESS_LOSS_SHARE = 0.9  # ...when the loss is no better than about a uniform guess's
MIN_STEPS_TO_JUDGE = 100
"""Fewer optimizer steps than this are too short to call chance-level accuracy a failure."""


@dataclass(frozen=True)
class Diagnosis:
    """What went wrong (``kind`` is :data:`DIVERGED` or :data:`NOT_LEARNING`) and what to try."""

    kind: str
    message: str


def _last_finite(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return finite[-1] if finite else None


def _diverged(loss: list[float], guess: float) -> str | None:
    first, last, peak = loss[0], loss[-1], max(loss)
    if peak > _EXPLODED * guess:
        return f"the loss exploded to {peak:.4g} (a uniform guess scores {guess:.2f})"
    if len(loss) > 1 and last > _RISE * first and last > guess:
        return f"the loss rose from {first:.4g} to {last:.4g}"
    return None


def _at_chance(history: dict[str, list[float]], num_classes: int, guess: float) -> str | None:
    chance = 1.0 / num_classes
    accuracy = _last_finite(history.get("val_accuracy") or history.get("accuracy") or [])
    train_accuracy = _last_finite(history.get("accuracy") or [])
    loss = _last_finite(history.get("loss") or [])
    if accuracy is None or loss is None:
        return None
    if max(accuracy, train_accuracy or 0.0) > _CHANCE_MARGIN * chance or loss < _GUESS_LOSS_SHARE * guess:
        return None
    return (f"accuracy is {accuracy:.1%}, the {chance:.0%} of guessing among {num_classes} classes, "
            f"and the loss {loss:.3g} is that of a uniform guess")


def diagnose(history: dict[str, list[float]], num_classes: int, learning_rate: float,
             steps: int = MIN_STEPS_TO_JUDGE) -> Diagnosis | None:
    """A :class:`Diagnosis` when the history shows divergence or no learning; None when it looks healthy.

    ``steps`` is the number of batches the history covers: chance-level accuracy after fewer than
    :data:`MIN_STEPS_TO_JUDGE` is a run that has barely started, not a failure.
    """
    loss = [v for v in history.get("loss") or [] if math.isfinite(v)]
    if not loss or num_classes < 2:
        return None
    guess = math.log(num_classes)  # the cross-entropy of predicting every class equally
    lower = f"Lower the learning rate, e.g. {learning_rate / 10:g} instead of {learning_rate:g}"
    why = _diverged(loss, guess)
    if why:
        return Diagnosis(DIVERGED, f"Training diverged: {why}. {lower}.")
    why = _at_chance(history, num_classes, guess) if steps >= MIN_STEPS_TO_JUDGE else None
    if why:
        return Diagnosis(NOT_LEARNING, f"The network did not learn: {why}. {lower} if it is high; otherwise "
                                       "train for more epochs or check the network (a very narrow block or a "
                                       "missing activation can stop learning).")
    return None
