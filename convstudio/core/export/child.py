"""Run a generated script in a separate Python process and bring its results back as plain data.

Generated files are never executed in the app's own process: verification starts
``sys.executable -I -B`` (isolated: no user site, no PYTHONPATH, no current folder on the path;
no bytecode written beside the generated file) in a
temporary folder, the child imports the generated file, builds or classifies, and writes its
results as ``.npy`` / ``.json`` files that the app reads back and compares.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .formats import ExportError

__all__ = ["CHILD_TIMEOUT_S", "run_generated"]

CHILD_TIMEOUT_S = 600
"""Longest a verifying child process may run (it imports TensorFlow, builds and predicts)."""

_CHILD = r'''
import importlib.util, json, os, sys, warnings
warnings.simplefilter("ignore")
import numpy as np

mode, script, work = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("_generated", script)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)


def save(info, outputs=None):
    if outputs is not None:
        np.save(os.path.join(work, "outputs.npy"), np.asarray(outputs))
    with open(os.path.join(work, "info.json"), "w") as f:
        json.dump(info, f)


if mode == "script":
    model = module.build_model()
    info = {"params": int(model.count_params()),
            "layers": [[layer.name, int(layer.count_params())] for layer in model.layers]}
    with open(os.path.join(work, "weights.json")) as f:
        names = json.load(f)
    with np.load(os.path.join(work, "weights.npz")) as data:
        for layer in model.layers:
            keys = names.get(layer.name, [])
            if [tuple(w.shape) for w in layer.weights] != [tuple(data[k].shape) for k in keys]:
                info["mismatch"] = layer.name
                save(info)
                sys.exit(0)
            if keys:
                layer.set_weights([data[k] for k in keys])
    images = np.load(os.path.join(work, "images.npy"))
    save(info, model(module.preprocess(images), training=False))
else:
    model = module.load_model(os.path.join(os.path.dirname(os.path.abspath(script)), "model.keras"))
    with open(os.path.join(work, "files.json")) as f:
        files = json.load(f)
    save({}, module.classify(model, files))
'''


def _reason(stderr: str) -> str:
    """The last line of a child's traceback (``ValueError: ...``), without TensorFlow's log lines."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if ":" in line and not line.startswith(("File ", "WARNING", "I0000", "W0000", "E0000")):
            return line
    return lines[-1] if lines else "it stopped without saying why"


def run_generated(mode: str, script: Path, work: Path, timeout: float = CHILD_TIMEOUT_S) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run ``script`` (``mode`` ``"script"`` or ``"predict"``) in a child Python on the inputs in ``work``;
    returns the child's info and outputs (None when it stopped early). :class:`ExportError` when it fails."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}  # TensorFlow's C++ log lines stay out of stderr
    try:
        run = subprocess.run([sys.executable, "-I", "-B", "-c", _CHILD, mode, str(script), str(work)],
                             cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ExportError(f"checking the generated {script.name} took longer than {timeout:.0f} s; "
                          "nothing was written") from None
    except OSError as exc:
        raise ExportError(f"cannot start Python to check the generated {script.name}: {exc.strerror}") from None
    if run.returncode != 0:
        raise ExportError(f"the generated {script.name} failed when run to check it: {_reason(run.stderr)}; "
                          "nothing was written")
    try:
        info = json.loads((work / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ExportError(f"the generated {script.name} gave no result when run to check it; nothing was written") \
            from None
    outputs = work / "outputs.npy"
    return info, (np.load(outputs, allow_pickle=False) if outputs.exists() else None)
