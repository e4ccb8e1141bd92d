"""The native Keras format: architecture, weights and optimizer state in one ``.keras`` file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..pipeline import normalize
from .verify import Check, ExportContext

__all__ = ["write", "verify", "write_keras", "load_keras"]


def write_keras(model, path: Path) -> None:
    """Save ``model`` whole (compiled state and optimizer variables included when it has them)."""
    model.save(str(path), include_optimizer=True)


def load_keras(path: Path):
    import keras

    return keras.saving.load_model(str(path), safe_mode=True)


def write(ctx: ExportContext, path: Path) -> None:
    write_keras(ctx.model, path)


def verify(ctx: ExportContext, path: Path) -> Check:
    loaded = load_keras(path)
    check = ctx.check(np.asarray(loaded(normalize(ctx.images), training=False)))
    check.notes.extend(optimizer_notes(ctx.model, loaded))
    return check


def optimizer_notes(model, loaded) -> list[str]:
    """Say whether the optimizer state came through (it matters for continuing training)."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False):
        return ["no optimizer state saved (the model was not trained yet)"]
    new = getattr(loaded, "optimizer", None)
    if new is None or len(new.variables) != len(opt.variables):
        return ["the optimizer state did not survive saving"]
    return [f"optimizer state saved ({type(opt).__name__}, {len(opt.variables)} variables)"]
