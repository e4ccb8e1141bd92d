"""Reading the runs of a project: list them (sorted), find one by name, load it, delete it.

Only folders whose ``run.json`` carries our marker count as runs; anything else in the runs folder is
ignored when listing and refused when deleting, except a folder named like a run (or holding a
``run.json``) whose record cannot be read: :func:`scan_runs` reports it as a :class:`DamagedRun`, with why. A run whose record still says ``running`` while no
process of this machine is recording it was killed or crashed: it is listed as ``interrupted``, with
what it had recorded up to its last completed epoch. Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import METRICS_FILE, RUN_FILE, RUN_FORMAT
from .recorder import active_runs

__all__ = ["OUTCOME_LABELS", "SORT_KEYS", "DamagedRun", "RunError", "RunRecord", "RunSummary", "delete_run",
           "find_run", "list_runs", "load_run", "outcome_of", "scan_runs"]

OUTCOME_LABELS = {
    "finished": "finished", "stopped": "stopped", "early_stopped": "early-stopped", "nan": "NaN loss",
    "diverged": "diverged", "chance_level": "did not learn", "error": "error", "interrupted": "interrupted",
    "running": "running",
}
SORT_KEYS = ("time", "accuracy", "parameters", "duration")
_RUN_NAME = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


class RunError(ValueError):
    """A run that cannot be found, read or deleted; the message says why."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def outcome_of(record: dict[str, Any], folder: Path | None = None) -> str:
    """Why the run ended, one of :data:`OUTCOME_LABELS`' keys (a run whose process is gone is interrupted)."""
    status = record.get("status")
    if status == "running":
        pid, host = record.get("pid"), record.get("host")
        mine = folder is not None and str(folder.resolve()) in active_runs()
        if mine:
            return "running"
        if host == socket.gethostname() and isinstance(pid, int) and (pid == os.getpid() or not _process_alive(pid)):
            return "interrupted"
        return "running"
    if record.get("diagnosis") in ("diverged", "chance_level"):
        return str(record["diagnosis"])
    return {"completed": "finished"}.get(str(status), str(status))


@dataclass(frozen=True)
class RunSummary:
    """One line of the runs list."""

    id: str
    folder: Path
    outcome: str
    started: str
    duration_s: float
    epochs_done: int
    parameters: int | None
    test_accuracy: float | None
    test_loss: float | None
    best_val_accuracy: float | None
    dataset: str
    is_sample: bool
    device: str
    title: str
    message: str
    health: tuple[str, ...]
    sweep: str = ""
    """The name of the sweep this run is a trial of ("" for a plain run)."""

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class DamagedRun:
    """A folder of the runs folder that looks like a run but whose record cannot be used, and why."""

    id: str
    folder: Path
    reason: str


@dataclass(frozen=True)
class RunRecord:
    """A whole run: its summary, the raw ``run.json`` record and ``metrics.json`` (batches, epochs, probes)."""

    summary: RunSummary
    record: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def network(self) -> Any:
        """The network exactly as it was trained (a :class:`~convstudio.core.network.Network`)."""
        from ..network import Network

        return Network.from_dict(self.record["project"]["network"])

    @property
    def settings(self) -> Any:
        """The training settings of the run (:class:`~convstudio.core.settings.TrainSettings`)."""
        from ..settings import TrainSettings

        return TrainSettings.from_dict(self.record["project"]["training"])

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch metrics as lists (``loss``, ``val_accuracy``, ...), like Keras's history."""
        out: dict[str, list[float]] = {}
        for epoch in self.metrics.get("epochs", []):
            for key, value in epoch.items():
                if key not in ("epoch", "seconds"):
                    out.setdefault(key, []).append(value)
        return out

    def model_path(self, which: str = "final") -> Path | None:
        """``final`` or ``best`` model file; for an interrupted run ``final`` is its last checkpoint's model."""
        name = self.record.get(f"{which}_model")
        if name and (self.summary.folder / name).is_file():
            return self.summary.folder / name
        if which == "final" and self.record.get("checkpoint"):
            from ..checkpoint import CheckpointError, find_checkpoint

            try:
                return find_checkpoint(self.record["checkpoint"]).model_path
            except CheckpointError:
                return None
        return None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _read_record(folder: Path) -> dict[str, Any] | None:
    data = _read_json(folder / RUN_FILE)
    return data if data is not None and data.get("format") == RUN_FORMAT else None


def _number(value: Any, kind: type = float) -> Any:
    """``value`` as ``kind`` (None stays None); raises ValueError for anything that is not a number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return kind(value)


def _summary(folder: Path, r: dict[str, Any]) -> RunSummary:
    """The listing line of a record; raises ValueError for a record with fields of the wrong kind."""
    test = r.get("test") if isinstance(r.get("test"), dict) else {}
    dataset = r.get("dataset") if isinstance(r.get("dataset"), dict) else {}
    return RunSummary(
        id=folder.name, folder=folder, outcome=outcome_of(r, folder), started=str(r.get("started", "")),
        duration_s=_number(r.get("duration_s") or 0.0), epochs_done=_number(r.get("epochs_done") or 0, int),
        parameters=_number(r.get("parameters"), int), test_accuracy=_number(test.get("accuracy")),
        test_loss=_number(test.get("loss")), best_val_accuracy=_number(r.get("best_val_accuracy")),
        dataset=str(dataset.get("name", "")), is_sample=bool(dataset.get("is_sample")), device=str(r.get("device", "")),
        title=str(r.get("title", "")), message=str(r.get("message", "")),
        health=tuple(str(w.get("kind", "")) for w in r.get("health") or [] if isinstance(w, dict)),
        sweep=str(r["sweep"].get("name", "")) if isinstance(r.get("sweep"), dict) else "")


def _sort_key(key: str):
    if key == "accuracy":
        return lambda s: -1.0 if s.test_accuracy is None else s.test_accuracy
    if key == "parameters":
        return lambda s: -1 if s.parameters is None else s.parameters
    if key == "duration":
        return lambda s: s.duration_s
    return lambda s: (s.started, s.id)


def list_runs(root: str | os.PathLike[str], sort: str = "time", descending: bool = True) -> list[RunSummary]:
    """The runs in ``root`` (a project's runs folder), sorted by ``sort`` (one of :data:`SORT_KEYS`).

    Newest, most accurate, largest or longest first unless ``descending`` is False; a missing folder has none.
    """
    if sort not in SORT_KEYS:
        raise RunError(f"cannot sort runs by {sort!r}; use one of {', '.join(SORT_KEYS)}")
    return sorted(scan_runs(root)[0], key=_sort_key(sort), reverse=descending)


def _examine(folder: Path) -> tuple[dict[str, Any], RunSummary | None, str | None]:
    """The record and summary of the run in ``folder``, or why a folder that looks like a run is damaged;
    neither for a folder that is not a run at all."""
    path = folder / RUN_FILE
    if not path.is_file():
        return {}, None, ("it has no run.json: the run was cut off before its first record"
                          if _RUN_NAME.match(folder.name) else None)
    data = _read_json(path)
    if data is None:
        return {}, None, "its run.json cannot be read (cut off or not JSON)"
    if data.get("format") != RUN_FORMAT:
        return {}, None, ("its run.json is not a ConvStudio run record" if _RUN_NAME.match(folder.name) else None)
    try:
        return data, _summary(folder, data), None
    except (TypeError, ValueError, OverflowError) as exc:
        return {}, None, f"its run.json has a field of the wrong kind ({exc})"


def scan_runs(root: str | os.PathLike[str]) -> tuple[list[RunSummary], list[DamagedRun]]:
    """The runs in ``root`` (unsorted) and the damaged run folders, each with why it cannot be used."""
    try:
        folders = sorted(p for p in Path(root).iterdir() if p.is_dir())
    except OSError:
        return [], []
    runs, damaged = [], []
    for folder in folders:
        _, summary, reason = _examine(folder)
        if summary is not None:
            runs.append(summary)
        elif reason is not None:
            damaged.append(DamagedRun(folder.name, folder, reason))
    return runs, damaged


def find_run(root: str | os.PathLike[str], ref: str) -> Path:
    """The folder of run ``ref``: its full name, a unique prefix, its short id (the last part), or
    ``latest`` / ``-1`` / ``1`` (the newest first)."""
    runs = list_runs(root)
    if not runs:
        raise RunError(f"there are no runs in {root}")
    if ref == "latest" or ref.lstrip("-").isdigit() and len(ref) <= 4:
        index = abs(int(ref)) if ref != "latest" else 1
        if not 1 <= index <= len(runs):
            raise RunError(f"there are only {len(runs)} runs in {root}")
        return runs[index - 1].folder
    matches = [s.folder for s in runs if s.id == ref] or [
        s.folder for s in runs if s.id.startswith(ref) or s.id.endswith("-" + ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunError(f"there is no run {ref!r} in {root} (see `runs list`)")
    raise RunError(f"{ref!r} matches {len(matches)} runs in {root}; give more of the name")


def load_run(folder: str | os.PathLike[str]) -> RunRecord:
    """The whole record of the run in ``folder``."""
    path = Path(folder)
    record, summary, reason = _examine(path)
    if summary is None:
        raise RunError(f"run {path.name} is damaged: {reason}" if reason else
                       f"{path} is not a ConvStudio run (no readable {RUN_FILE})")
    metrics = _read_json(path / METRICS_FILE) or {"batches": [], "epochs": [], "probes": []}
    return RunRecord(summary, record, metrics)


def delete_run(folder: str | os.PathLike[str]) -> None:
    """Delete a run folder; refused for a folder without our run record and for a run still training."""
    path = Path(folder)
    record = _read_record(path)
    if record is None:
        raise RunError(f"{path} is not a ConvStudio run folder; nothing was deleted")
    if outcome_of(record, path) == "running":
        raise RunError(f"run {path.name} is still training; stop it first")
    shutil.rmtree(path)
