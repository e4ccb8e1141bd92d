"""Plain-data records of the training health monitor: warnings and the per-epoch probe figures.

Both are published into the trainer's :class:`~convstudio.core.training_events.EventChannel` next to
the training events and recorded with the run; a GUI shows them, the command line prints warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEAD_RELU", "DIVERGING", "EXPLODING", "KINDS", "LR_TOO_HIGH", "LR_TOO_LOW", "NAN", "NOT_LEARNING",
           "OVERFITTING", "VANISHING", "HealthProbe", "HealthWarning"]

NAN = "nan"
DIVERGING = "diverging"
NOT_LEARNING = "chance_level"
OVERFITTING = "overfitting"
DEAD_RELU = "dead_relu"
VANISHING = "vanishing_gradients"
EXPLODING = "exploding_gradients"
LR_TOO_HIGH = "learning_rate_too_high"
LR_TOO_LOW = "learning_rate_too_low"
KINDS = (NAN, DIVERGING, NOT_LEARNING, OVERFITTING, DEAD_RELU, VANISHING, EXPLODING, LR_TOO_HIGH, LR_TOO_LOW)


@dataclass(frozen=True)
class HealthWarning:
    """Something about a run that is not healthy: what (``message``) and what to try (``advice``).

    ``epoch`` is the 0-based epoch it was noticed in (for overfitting: the epoch it began), -1 when it
    is not tied to one; ``blocks`` are the blocks concerned; ``values`` the figures behind it.
    """

    kind: str
    message: str
    advice: str
    epoch: int = -1
    blocks: tuple[str, ...] = ()
    values: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Message and advice as one line."""
        return f"{self.message} {self.advice}".strip()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocks"] = list(self.blocks)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HealthWarning:
        return cls(str(data.get("kind", "")), str(data.get("message", "")), str(data.get("advice", "")),
                   int(data.get("epoch", -1)), tuple(str(b) for b in data.get("blocks") or ()),
                   {str(k): float(v) for k, v in (data.get("values") or {}).items()})


@dataclass(frozen=True)
class HealthProbe:
    """One epoch's probe of the model on a small fixed batch.

    ``gradient_norms[block_id]`` is the L2 norm of the loss gradient over that block's weights, in
    network order from input to output (the data of a gradient-flow view); ``dead_relu[block_id]``
    is the share (0..1) of that ReLU block's units (channels) that are zero for every probe image.
    """

    epoch: int
    gradient_norms: dict[str, float] = field(default_factory=dict)
    dead_relu: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
