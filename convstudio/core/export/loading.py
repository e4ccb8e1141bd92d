"""Load a trained model file to export, saying in plain words why a file cannot be used.

Keras reports a damaged ``.keras`` file as "File not found", and h5/zip readers speak of their
internals ("file signature not found", "Bad magic number"); the user needs to hear that the file
is damaged or not a model, and which file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .formats import ExportError

__all__ = ["load_trained_model", "load_reason"]

_DAMAGED = ("file not found", "zip", "signature", "magic", "truncated", "unable to open", "unable to synchronously",
            "not a valid", "no such", "eof", "corrupt", "header", "h5", "hdf5")


def load_reason(exc: BaseException) -> str:
    """Why a model file could not be loaded, in the user's words (never a library's internals)."""
    text = str(exc)
    low = text.lower()
    if "safe_mode" in low or "lambda" in low:
        return "it contains Python code (for example a Lambda layer), which ConvStudio does not run"
    if "could not locate" in low or "unknown layer" in low:
        return "it uses a custom layer or function that is not part of Keras"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if any(word in low for word in _DAMAGED) or isinstance(exc, (OSError, EOFError)):
        return "it is damaged or not a Keras model file (.keras or .h5)"
    return "it is not a Keras model ConvStudio can read"


def load_trained_model(path: str | os.PathLike[str]) -> Any:
    """The Keras model in ``path`` (loaded in safe mode: no code in the file runs), or :class:`ExportError`."""
    file = Path(path)
    if not file.is_file():
        raise ExportError(f"there is no model file at {file}")
    import keras

    try:
        return keras.saving.load_model(str(file), safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any failure means the file is not a usable model
        raise ExportError(f"{file} cannot be loaded as a model: {load_reason(exc)}") from None
