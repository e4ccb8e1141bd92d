"""``convstudio-cli info --estimate``: time per epoch and memory before training, as the training panel shows them.

The device is measured once (about two seconds) and remembered in ``device_calibration.json`` under
``$XDG_CACHE_HOME/convstudio`` (``~/.cache/convstudio``); ``--measure-again`` measures anew.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["calibration_store", "estimate_lines"]


def calibration_store() -> Path:
    """Where the command line remembers this device's calibration."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "convstudio" / "device_calibration.json"


def estimate_lines(project: Any, analysis: Any, dataset: Any, again: bool = False) -> list[str]:
    """``estimate: ...`` lines for training ``project``'s valid network on ``dataset`` (None: time unknown)."""
    from convstudio.core.estimate import describe_estimate, estimate_run_epoch, format_rough_duration, load_or_calibrate
    from convstudio.core.memory import available_memory, estimate_training_memory, memory_problem
    from convstudio.core.tflog import import_tensorflow

    s = project.settings
    memory = estimate_training_memory(analysis, s.batch_size, s.optimizer, s.momentum)
    epoch = None
    if dataset is not None:
        import_tensorflow()
        calibration = load_or_calibrate(calibration_store(), again=again)
        if calibration is not None:
            epoch = estimate_run_epoch(project.network, analysis, len(dataset.x_train), s, calibration)
    lines = [f"estimate: {describe_estimate(epoch, memory)}"]
    if epoch is not None:
        lines.append(f"estimate: {s.epochs} epochs \u2248 {format_rough_duration(epoch.seconds * s.epochs)}, "
                     "plus building the model in the first")
    else:
        lines.append("estimate: time per epoch once the data is found")
    available, where = available_memory(on_gpu=False)
    problem = memory_problem(memory, available, where)
    if problem:
        lines.append(f"estimate: {problem}")
    return lines
