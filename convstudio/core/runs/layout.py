"""Where runs are recorded and what a run folder holds.

A project ``digits.json`` keeps its runs beside it in ``digits.runs/``, one folder per run named
``<YYYYmmdd-HHMMSS>-<6 hex>``; a project never saved keeps them in the app's data folder. A run folder
holds:

- ``run.json``: the record (our marker: ``"format": "convstudio-run"``): the project document (network,
  settings, dataset choice), dataset source, device, parameters, per-run results, why it ended,
  health warnings, and the final and best model paths; rewritten atomically at start, after every
  epoch and at the end.
- ``metrics.json``: per-batch points (decimated), per-epoch metrics and health probes, rewritten
  atomically after every epoch.
- ``best.keras`` and ``final.keras``: the models (hard links to the checkpoint's file where possible).
- ``tensorboard/``: TensorBoard event files (``tensorboard --logdir digits.runs``).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

__all__ = ["BEST_MODEL", "FINAL_MODEL", "METRICS_FILE", "RUN_FILE", "RUN_FORMAT", "TENSORBOARD_DIR",
           "new_run_folder", "runs_root"]

RUN_FORMAT = "convstudio-run"
METRICS_FORMAT = "convstudio-run-metrics"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
BEST_MODEL = "best.keras"
FINAL_MODEL = "final.keras"
TENSORBOARD_DIR = "tensorboard"
RUNS_SUFFIX = ".runs"


def runs_root(project_path: str | os.PathLike[str] | None, unsaved_root: str | os.PathLike[str]) -> Path:
    """The run folder of a project: ``<stem>.runs`` beside its file, or ``unsaved_root/runs`` without one."""
    if project_path is None:
        return Path(unsaved_root) / "runs"
    path = Path(project_path)
    return path.resolve().parent / f"{path.stem}{RUNS_SUFFIX}"


def new_run_folder(root: str | os.PathLike[str]) -> Path:
    """Create and return a fresh, uniquely named run folder in ``root``."""
    base = Path(root)
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        folder = base / f"{stamp}-{secrets.token_hex(3)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
