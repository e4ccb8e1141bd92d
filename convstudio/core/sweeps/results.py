"""A sweep's results: one :class:`TrialRow` per trial, read back from the trial's recorded run.

Every trial is a run in the project's run folder whose record carries ``sweep`` (the sweep's name,
the trial id, its values and the tuner that ran it), so the results of a sweep, even one whose
trials ran on several processes sharing the folder, are :func:`sweep_rows` of that folder. No
TensorFlow here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runs import RunError, RunRecord, list_runs, load_run

__all__ = ["TrialRow", "best_row", "format_value", "row_from_run", "sweep_rows", "table_cells"]


@dataclass(frozen=True)
class TrialRow:
    """One trial: its values, how its run ended, its best validation accuracy (or training accuracy
    without a validation split), its test accuracy, parameters, duration and run."""

    trial: str
    values: tuple[tuple[str, Any], ...]
    outcome: str
    score: float | None
    test_accuracy: float | None = None
    parameters: int | None = None
    seconds: float = 0.0
    run_id: str = ""
    run_folder: str = ""
    tuner: str = ""
    message: str = ""

    @property
    def value_map(self) -> dict[str, Any]:
        return dict(self.values)

    @property
    def number(self) -> int:
        """The trial's number, counted from 1 (KerasTuner's trial ids count from 0); 0 when unknown."""
        return int(self.trial) + 1 if self.trial.isdigit() else 0


def _best_score(epochs: Iterable[dict[str, Any]]) -> float | None:
    """The best validation accuracy over the epochs (training accuracy when the run had no validation)."""
    epochs = list(epochs)
    key = "val_accuracy" if any("val_accuracy" in e for e in epochs) else "accuracy"
    scores = [float(e[key]) for e in epochs if isinstance(e.get(key), int | float) and math.isfinite(e[key])]
    return max(scores) if scores else None


def row_from_run(run: RunRecord) -> TrialRow:
    """The row of a recorded trial run."""
    sweep = run.record.get("sweep") if isinstance(run.record.get("sweep"), dict) else {}
    values = sweep.get("values") if isinstance(sweep.get("values"), dict) else {}
    s = run.summary
    return TrialRow(trial=str(sweep.get("trial", "")), values=tuple(values.items()), outcome=s.outcome_label,
                    score=_best_score(run.metrics.get("epochs") or []), test_accuracy=s.test_accuracy,
                    parameters=s.parameters, seconds=s.duration_s, run_id=s.id, run_folder=str(s.folder),
                    tuner=str(sweep.get("tuner", "")), message=s.message)


def sweep_rows(runs_root: str | os.PathLike[str], name: str) -> list[TrialRow]:
    """The rows of every recorded trial of sweep ``name`` in ``runs_root``, in trial order."""
    rows = []
    for summary in list_runs(Path(runs_root)):
        if summary.sweep != name:
            continue
        try:
            rows.append(row_from_run(load_run(summary.folder)))
        except RunError:
            continue
    return sorted(rows, key=lambda r: (r.number, r.trial, r.run_id))


def best_row(rows: Sequence[TrialRow]) -> TrialRow | None:
    """The trial with the highest score (the first of equals), None when none has one."""
    scored = [r for r in rows if r.score is not None]
    return max(scored, key=lambda r: r.score) if scored else None


def format_value(value: Any) -> str:
    """A swept value as the user typed it: ``0.001``, ``32``, ``0.25``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def table_cells(rows: Sequence[TrialRow], targets: Sequence[str], score_name: str = "val acc") -> list[list[str]]:
    """The results as text cells, a header row first: trial, each target's value, scores, parameters, time,
    run, outcome and tuner; the best trial's number is starred."""
    best = best_row(rows)
    header = ["trial", *targets, score_name, "test acc", "params", "time", "outcome", "run", "tuner"]
    out = [header]
    for r in rows:
        values = r.value_map
        out.append([(str(r.number) if r.number else r.trial or "-") + (" *" if r is best else ""), *(format_value(values.get(t, "-")) for t in targets),
                    _percent(r.score), _percent(r.test_accuracy), "-" if r.parameters is None else f"{r.parameters:,}",
                    f"{r.seconds:.1f} s", r.outcome, r.run_id or "-", r.tuner or "-"])
    return out
