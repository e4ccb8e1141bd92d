"""Training health: warnings in plain language, with advice, about a run that is not learning well.

- :mod:`.events`: the :class:`HealthWarning` and :class:`HealthProbe` records (plain data).
- :mod:`.monitor`: :class:`HealthMonitor`, fed the trainer's events and the probes: NaN, divergence,
  chance level, overfitting onset, dead ReLUs, vanishing or exploding gradients.
- :mod:`.probes`: the once-per-epoch probes (imports Keras).
- :mod:`.lr_range`: the learning-rate range test (imports Keras when run).

Importing this package imports no TensorFlow.
"""

from __future__ import annotations

from .events import KINDS, HealthProbe, HealthWarning
from .monitor import HealthMonitor, gradient_warning, overfitting_onset

__all__ = ["KINDS", "HealthMonitor", "HealthProbe", "HealthWarning", "gradient_warning", "overfitting_onset"]
