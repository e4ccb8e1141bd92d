"""Softmax and cross-entropy written out step by step, as a student would compute them by hand.

From a sample's logits (the output block's values before the softmax) to its probabilities and
the loss for its label: subtract the largest logit (so no exponential overflows), exponentiate,
sum, divide, and take ``-ln`` of the label's probability. Lesson 6 shows these numbers beside the
network's own output and Keras' loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SoftmaxSteps", "softmax_steps"]


@dataclass(frozen=True)
class SoftmaxSteps:
    """Every intermediate value of ``softmax`` and ``cross-entropy`` for one sample (float64)."""

    logits: np.ndarray
    shifted: np.ndarray
    exps: np.ndarray
    total: float
    probabilities: np.ndarray
    label: int
    loss: float

    def lines(self, digits: int = 3) -> list[str]:
        """The computation as text lines, one per step."""

        def row(values: np.ndarray) -> str:
            return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"

        p = float(self.probabilities[self.label])
        return [
            f"logits z = {row(self.logits)}",
            f"z - max(z) = {row(self.shifted)}",
            f"exp(z - max(z)) = {row(self.exps)}",
            f"sum = {self.total:.{digits}f}",
            f"p = exp / sum = {row(self.probabilities)}",
            f"loss = -ln p[{self.label}] = -ln {p:.{digits + 2}f} = {self.loss:.{digits + 1}f}",
        ]


def softmax_steps(logits: np.ndarray, label: int) -> SoftmaxSteps:
    """Softmax of a vector of ``logits`` and the cross-entropy for class ``label``, step by step.

    Raises ``ValueError`` for anything but a non-empty 1-D vector of finite numbers, or a label
    outside it.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"logits must be one non-empty vector, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers")
    label = int(label)
    if not 0 <= label < z.size:
        raise ValueError(f"label {label} is not a class of {z.size} logits (0 to {z.size - 1})")
    shifted = z - z.max()
    exps = np.exp(shifted)
    total = float(exps.sum())
    probabilities = exps / total
    # -ln p = -(shifted[label] - ln total): exact even where p underflows to 0
    loss = float(np.log(total) - shifted[label])
    return SoftmaxSteps(z, shifted, exps, total, probabilities, label, loss)
