"""Predictions on a test set, the confusion matrix, and the samples behind each of its cells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .activations import prepare_images

if TYPE_CHECKING:
    import keras

__all__ = ["Evaluation", "cell_samples", "confusion_matrix", "evaluate", "predict_probabilities"]


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 512,
                          progress: Callable[[int, int], bool | None] | None = None) -> np.ndarray:
    """Class probabilities ``(n, classes)`` for dataset images, computed in batches.

    ``progress(done, total)`` is called after each batch; returning False stops early and the
    rows not computed are left out of the result.
    """
    x = prepare_images(images)
    rows = []
    for start in range(0, len(x), batch_size):
        rows.append(np.asarray(model(x[start:start + batch_size], training=False), dtype=np.float32))
        done = min(start + batch_size, len(x))
        if progress is not None and progress(done, len(x)) is False:
            break
    if not rows:
        return np.zeros((0, int(model.output.shape[-1])), dtype=np.float32)
    return np.concatenate(rows)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """``n`` x ``n`` counts: row = true class, column = predicted class."""
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    for name, y in (("label", y_true), ("prediction", y_pred)):
        if len(y) and (y.min() < 0 or y.max() >= n):
            raise ValueError(f"a {name} is outside the classes 0..{n - 1}")
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def cell_samples(y_true: np.ndarray, probs: np.ndarray, true_class: int, pred_class: int) -> np.ndarray:
    """Indices of samples of ``true_class`` predicted as ``pred_class``, most confident first.

    Confidence is the probability given to ``pred_class``; ties keep dataset order.
    """
    y_true = np.asarray(y_true).ravel()
    probs = np.asarray(probs)
    picked = np.flatnonzero((y_true == true_class) & (probs.argmax(axis=1) == pred_class))
    order = np.argsort(-probs[picked, pred_class], kind="stable")
    return picked[order]


@dataclass(frozen=True)
class Evaluation:
    """A model's predictions on a labelled image set."""

    y_true: np.ndarray
    probabilities: np.ndarray
    matrix: np.ndarray

    @property
    def y_pred(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else 0.0

    def samples(self, true_class: int, pred_class: int) -> np.ndarray:
        return cell_samples(self.y_true, self.probabilities, true_class, pred_class)


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, num_classes: int,
             batch_size: int = 512) -> Evaluation:
    """Predict every image and tabulate the confusion matrix."""
    probs = predict_probabilities(model, images, batch_size)
    labels = np.asarray(labels).ravel()
    return Evaluation(labels, probs, confusion_matrix(labels, probs.argmax(axis=1), num_classes))
