"""Run history: every training run recorded in the project's run folder, listed, compared and deleted.

- :mod:`.layout`: where runs live and the files of a run folder.
- :mod:`.recorder`: :class:`RunRecorder`, handed to the trainer, writes the record while it trains.
- :mod:`.store`: :func:`list_runs`, :func:`scan_runs` (with damaged folders), :func:`find_run`, :func:`load_run`,
  :func:`delete_run`.
- :mod:`.compare`: :func:`compare_runs` (network block by block, settings, data, results).
- :mod:`.keras_hooks`: the Keras callback behind the record and its TensorBoard files (imports Keras).

Importing this package imports no TensorFlow.
"""

from __future__ import annotations

from .compare import RunComparison, compare_runs, diff_networks, diff_settings, format_comparison
from .layout import new_run_folder, runs_root
from .recorder import RunRecorder
from .store import (
    OUTCOME_LABELS,
    SORT_KEYS,
    DamagedRun,
    RunError,
    RunRecord,
    RunSummary,
    delete_run,
    find_run,
    list_runs,
    load_run,
    scan_runs,
)

__all__ = ["OUTCOME_LABELS", "SORT_KEYS", "DamagedRun", "RunComparison", "RunError", "RunRecord", "RunRecorder", "RunSummary",
           "compare_runs", "delete_run", "diff_networks", "diff_settings", "find_run", "format_comparison",
           "list_runs", "load_run", "new_run_folder", "runs_root", "scan_runs"]
