"""Training checkpoints as one atomic unit: a folder per epoch and a pointer to the newest.

A checkpoint folder holds ``latest.json`` (which epoch folder is current) and that folder,
``epoch-NNNN/`` with ``model.keras`` (weights and optimizer state) and ``state.json`` (epoch,
history, settings, and the random-generator state of every layer that draws random numbers, such
as Dropout). An epoch folder is written completely under a temporary name
(``.epoch-NNNN.<random>.tmp``), flushed, renamed into place, and only then does ``latest.json``
(itself written atomically) point at it; the previous epoch folder is removed last. A kill at any
moment leaves the previous checkpoint or the new one, never a model of one epoch with the state of
another. The shuffle order needs no state: epoch ``e`` is always shuffled with the seed
``(settings.seed, e)`` (see :func:`convstudio.core.training.epoch_batches`).

What a resumed run restores exactly: weights, optimizer state (slots, step count, a plateau-reduced
learning rate, a float16 loss scale), every layer's random-generator state, and the epoch, so the
next epoch's shuffle order follows. Not restored: the patience counters and best values of early
stopping and of reduce-on-plateau, which start afresh at a resume. On a CPU, 2 epochs + 1 resumed
equal 3 uninterrupted ones bit for bit. On a GPU the arithmetic itself is not repeatable: cuDNN's
convolution gradients and reductions add in a varying order, so weights differ from an
uninterrupted run by float rounding that grows with each step, exactly as two uninterrupted GPU
runs differ from each other; the data order, random draws and optimizer state still match.

Folders written before this layout (``model.keras`` and ``state.json`` directly in the folder)
are still read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write_text, remove_stale_temporaries, temporary_prefix

if TYPE_CHECKING:
    import keras

__all__ = [
    "CHECKPOINT_MODEL",
    "CHECKPOINT_POINTER",
    "CHECKPOINT_STATE",
    "Checkpoint",
    "CheckpointError",
    "clean_checkpoint_folder",
    "find_checkpoint",
    "random_state",
    "read_checkpoint_state",
    "restore_random_state",
    "write_checkpoint",
]

CHECKPOINT_MODEL = "model.keras"
CHECKPOINT_STATE = "state.json"
CHECKPOINT_POINTER = "latest.json"
CHECKPOINT_FORMAT = "convstudio-checkpoint"
_EPOCH_FOLDER = re.compile(r"^epoch-\d{4,}$")


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be resumed from; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint: the folder holding its model and its checked state."""

    folder: Path
    state: dict[str, Any]

    @property
    def model_path(self) -> Path:
        return self.folder / CHECKPOINT_MODEL


def _epoch_name(epoch: int) -> str:
    return f"epoch-{epoch:04d}"


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _seed_states(model: keras.Model) -> list[tuple[str, Any]]:
    """``(layer name #n, variable)`` for each random-generator state; layer names survive saving, paths do not."""
    found = []
    for layer in model.layers:
        seeds = [v for v in layer.variables if v.path.endswith("seed_generator_state")]
        found += [(f"{layer.name}#{i}", v) for i, v in enumerate(seeds)]
    return found


def random_state(model: keras.Model) -> list[list[Any]]:
    """``[layer#n, [seed, counter]]`` of every random-generator state in ``model`` (Dropout and the like)."""
    import numpy as np

    return [[key, [int(x) for x in np.asarray(v.numpy()).ravel()]] for key, v in _seed_states(model)]


def restore_random_state(model: keras.Model, saved: Any) -> None:
    """Put back the random-generator states :func:`random_state` recorded (matched by layer)."""
    import numpy as np

    if not isinstance(saved, list):
        return
    values = {str(item[0]): item[1] for item in saved if isinstance(item, list) and len(item) == 2}
    for key, v in _seed_states(model):
        if key in values:
            v.assign(np.asarray(values[key], dtype=v.dtype).reshape(v.shape))


def write_checkpoint(folder: str | Path, model: keras.Model, state: dict[str, Any]) -> Path:
    """Write ``model`` and ``state`` (which must hold ``epoch``) as the newest checkpoint in ``folder``.

    Returns the epoch folder. Raises ``OSError`` (e.g. a full disk) with the previous checkpoint intact.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    name = _epoch_name(int(state["epoch"]))
    staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(name), suffix=".tmp", dir=root))
    try:
        model.save(staging / CHECKPOINT_MODEL)
        record = {"format": CHECKPOINT_FORMAT, "version": 2, **state, "random_state": random_state(model)}
        with open(staging / CHECKPOINT_STATE, "w", encoding="utf-8") as f:
            f.write(json.dumps(record, indent=1))
            f.flush()
            os.fsync(f.fileno())
        _fsync_folder(staging)
        final = root / name
        if final.exists():  # an earlier run reached the same epoch: set it aside, then drop it
            old = Path(tempfile.mkdtemp(prefix=temporary_prefix(name), suffix=".tmp", dir=root))
            os.replace(final, old / name)
            os.replace(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_folder(root)
    atomic_write_text(root / CHECKPOINT_POINTER, json.dumps({"format": CHECKPOINT_FORMAT, "folder": name}))
    for entry in root.iterdir():
        if entry.name != name and _EPOCH_FOLDER.match(entry.name) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
    return final


def _check_state(state_path: Path) -> dict[str, Any]:
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"the checkpoint state {state_path} cannot be read: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{state_path} is not a ConvStudio checkpoint state")
    epoch, history = state.get("epoch"), state.get("history")
    if not isinstance(epoch, int) or epoch < 0 or not isinstance(history, dict) or not all(
            isinstance(v, list) for v in history.values()):
        raise CheckpointError(f"{state_path} is damaged: it needs a whole epoch count and a history")
    return state


def _pointed_folder(root: Path) -> Path | None:
    pointer = root / CHECKPOINT_POINTER
    if not pointer.is_file():
        return None
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"the checkpoint pointer {pointer} cannot be read: {exc}") from None
    name = data.get("folder") if isinstance(data, dict) else None
    if not isinstance(name, str) or not _EPOCH_FOLDER.match(name):
        raise CheckpointError(f"{pointer} is damaged: it does not name an epoch folder")
    return root / name


def find_checkpoint(folder: str | Path) -> Checkpoint:
    """The newest complete checkpoint in ``folder`` (or a folder of the older two-file layout)."""
    root = Path(folder)
    current = _pointed_folder(root) or root
    state_path, model_path = current / CHECKPOINT_STATE, current / CHECKPOINT_MODEL
    if not state_path.is_file() or not model_path.is_file():
        raise CheckpointError(f"{root} holds no checkpoint to resume from "
                              f"(expected {CHECKPOINT_POINTER} and an epoch folder); train first")
    return Checkpoint(current, _check_state(state_path))


def read_checkpoint_state(folder: str | Path) -> dict[str, Any]:
    """The checked state of the newest checkpoint in ``folder`` (epoch, history, settings)."""
    return find_checkpoint(folder).state


def clean_checkpoint_folder(folder: str | Path) -> list[Path]:
    """Remove temporaries an interrupted checkpoint left in ``folder``; returns what was removed."""
    return remove_stale_temporaries(folder)
