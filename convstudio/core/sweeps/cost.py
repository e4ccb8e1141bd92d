"""How long a sweep will take on this device, from the per-epoch estimate of each combination it may try."""

from __future__ import annotations

import itertools

from ..estimate import Calibration, estimate_run_epoch
from ..network import Network
from ..settings import TrainSettings
from ..shapes import Shape, analyze
from .spec import SweepSpec, apply_trial

__all__ = ["sweep_seconds"]

MAX_PRICED = 64
"""Combinations priced at most; a larger grid is priced by its first ``MAX_PRICED`` (a fair sample of its shape)."""


def sweep_seconds(spec: SweepSpec, network: Network, settings: TrainSettings, images: int, epochs: int,
                  calibration: Calibration, input_shape: Shape | None = None, num_classes: int = 10) -> float | None:
    """Estimated seconds for the sweep's planned trials: the mean epoch over its combinations (each with its
    own batch size, filters or units), times the epochs per trial and the trials; None when none can train."""
    seconds = []
    for values in itertools.islice(spec.combinations(), MAX_PRICED):
        net, trial = apply_trial(network, settings, values)
        analysis = analyze(net, input_shape, num_classes)
        if analysis.ok and trial is not None:
            seconds.append(estimate_run_epoch(net, analysis, images, trial, calibration).seconds)
    if not seconds:
        return None
    return sum(seconds) / len(seconds) * max(1, epochs) * spec.planned_trials
