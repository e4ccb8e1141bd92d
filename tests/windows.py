"""Main windows for tests: closing one at the end of a test without being asked to save."""

from __future__ import annotations

from typing import Any


def discard_window(win: Any) -> None:
    """Close ``win`` as if its network and model were saved, so no question stops the test."""
    win.document.undo_stack.setClean()
    win.model_unsaved = False
    win.close()
    win.deleteLater()
