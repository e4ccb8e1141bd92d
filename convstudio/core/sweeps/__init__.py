"""Sweeps: try several learning rates, batch sizes and block parameters in one go, each trial a recorded run.

- :mod:`.spec`: :class:`SweepSpec` (axes, grid or random), :func:`validate_spec`, :func:`apply_trial`.
- :mod:`.runner`: :func:`run_sweep` (KerasTuner picks the trials, the app's trainer runs them), its
  progress records and the distributed roles (KerasTuner's chief and workers).
- :mod:`.results`: :class:`TrialRow`, the rows of a sweep read back from its runs, the best trial.
- :mod:`.tuner`: the KerasTuner hypermodel, oracles and tuner (imported only when a sweep runs).

Importing this package imports neither KerasTuner nor TensorFlow.
"""

from __future__ import annotations

from .results import TrialRow, best_row, format_value, row_from_run, sweep_rows, table_cells
from .runner import (
    SWEEP_FILE,
    SWEEPS_DIR,
    SweepCancelled,
    SweepJob,
    SweepResult,
    SweepTask,
    TrialEnded,
    TrialProgress,
    TrialRunner,
    TrialStarted,
    distributed_role,
    run_sweep,
    sweep_folder,
)
from .spec import (
    BATCH_SIZE,
    LEARNING_RATE,
    MAX_GRID,
    MODES,
    SETTING_TARGETS,
    SweepAxis,
    SweepError,
    SweepSpec,
    apply_trial,
    base_fingerprint,
    parse_axis,
    parse_values,
    sweepable_params,
    validate_spec,
)

__all__ = ["BATCH_SIZE", "LEARNING_RATE", "MAX_GRID", "MODES", "SETTING_TARGETS", "SWEEPS_DIR", "SWEEP_FILE",
           "SweepAxis", "SweepCancelled", "SweepError", "SweepJob", "SweepResult", "SweepSpec", "SweepTask",
           "TrialEnded", "TrialProgress", "TrialRow", "TrialRunner", "TrialStarted", "apply_trial", "base_fingerprint",
           "best_row", "distributed_role", "format_value", "parse_axis", "parse_values", "row_from_run",
           "run_sweep", "sweep_folder", "sweep_rows", "sweepable_params", "table_cells", "validate_spec"]
