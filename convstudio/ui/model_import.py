"""File > Import: a ``.keras`` model becomes a network and its trained model, loaded in a worker.

Loading a Keras file takes seconds (TensorFlow reads and rebuilds the model), so it never runs on
the GUI thread. A refused file is explained in a message box listing every unsupported layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from convstudio.core.network import Network

from .worker import Worker, run_worker

__all__ = ["choose_keras_file", "explain_refusal", "import_in_background"]


def choose_keras_file(parent: QWidget | None = None) -> str | None:
    """Ask for a ``.keras`` / ``.h5`` file; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import a Keras model", str(Path.home()),
                                          "Keras models (*.keras *.h5)")
    return path or None


def explain_refusal(parent: QWidget | None, message: str) -> None:
    """Show why a file cannot be imported: the first line, and each problem (``- ...`` lines) in the details."""
    lines = message.splitlines() or [message]
    problems = [line[2:] for line in lines[1:] if line.startswith("- ")]
    box = QMessageBox(QMessageBox.Icon.Warning, "Cannot import this model", lines[0],
                      QMessageBox.StandardButton.Ok, parent)
    if problems:
        box.setDetailedText("\n".join(problems))
        box.setInformativeText("\n".join(problems[:8]))
    box.exec()


def import_in_background(parent: QWidget, path: str, done: Callable[[tuple[Network, Any]], None],
                         refused: Callable[[str], None] | None = None) -> Worker:
    """Import ``path`` in a worker; ``done((network, model))`` on success, else ``refused(message)``
    (by default a message box under ``parent``)."""
    from convstudio.core.importer import import_keras_model

    if refused is None:
        def refused(message: str) -> None:
            explain_refusal(parent, message)

    return run_worker(parent, "keras-import", lambda _state: import_keras_model(path), done, refused)
