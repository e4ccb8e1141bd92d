"""Periodic crash-safety copies of the open project, written atomically, and their recovery.

The window hands the autosaver a ``write(path)`` function: the normal project writer, which writes
atomically (a temporary file beside the target, then a rename), so a crash mid-write leaves the
previous copy intact. The autosaver decides when to write, and remembers when the app last exited
cleanly so that a newer copy can be offered for recovery. :class:`SessionAutosave` writes a
session's copy, on the timer or in the background at the end of a training run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from convstudio.core.project import save_project
from convstudio.core.session import Session

from . import settings
from .worker import Worker, run_worker

__all__ = ["AUTOSAVE_NAME", "Autosaver", "SessionAutosave"]

AUTOSAVE_NAME = "autosave.json"
_CLEAN_EXIT_KEY = "autosave/clean_exit"


class Autosaver(QObject):
    """Writes ``write(path)`` to the app data folder every ``interval_ms`` while ``needed()`` says so.

    Signals ``saved(str)`` with the path, ``failed(str)`` with a human reason.
    """

    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, write: Callable[[str], object], needed: Callable[[], bool] | None = None,
                 folder: str | os.PathLike[str] | None = None, interval_ms: int = 30_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._write = write
        self._needed = needed or (lambda: True)
        self._folder = Path(folder) if folder is not None else None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.maybe_save)
        self.last_saved: float | None = None

    @property
    def path(self) -> Path:
        folder = self._folder or settings.app_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / AUTOSAVE_NAME

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def maybe_save(self) -> Path | None:
        """Save when there is something worth saving (the timer's tick)."""
        return self.save_now() if self._needed() else None

    def save_now(self) -> Path | None:
        """Write the copy (atomically, by the writer); returns its path, or None and ``failed``."""
        target = self.path
        try:
            self._write(str(target))
        except Exception as exc:  # noqa: BLE001 - a failed autosave must be reported, not raised
            self.failed.emit(f"Autosave to {target} failed: {exc}")
            return None
        self.last_saved = time.time()
        self.saved.emit(str(target))
        return target

    def mark_clean_exit(self) -> None:
        """Record that the app closed normally: older autosaves are not offered again."""
        store = settings.app_settings()
        store.setValue(_CLEAN_EXIT_KEY, time.time())
        store.sync()

    def recovery_candidate(self) -> Path | None:
        """The autosave to offer on start: one newer than the last clean exit, if any."""
        target = self.path
        if not target.exists():
            return None
        try:
            clean_exit = float(settings.app_settings().value(_CLEAN_EXIT_KEY, 0.0) or 0.0)
        except (TypeError, ValueError):
            clean_exit = 0.0
        return target if target.stat().st_mtime > clean_exit else None

    def discard(self) -> None:
        """Forget the current autosave (the user declined recovery)."""
        target = self.path
        for path in (target, target.with_name(target.stem + ".weights.keras")):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass


class SessionAutosave:
    """Keeps the crash-safety copy of ``session``: on the autosaver's timer while it has changes, and
    in the background at the end of a run (saving a model waits for TensorFlow). A synchronous write
    (the timer, closing) first waits for a background one."""

    def __init__(self, session: Session, parent: QObject, report: Callable[[str], Any],
                 interval_ms: int = 30_000) -> None:
        self.session = session
        self._parent = parent
        self._report = report
        self._worker: Worker | None = None
        self.autosaver = Autosaver(self.write, lambda: session.changes_since_autosave,
                                   interval_ms=interval_ms, parent=parent)
        self.autosaver.failed.connect(report)

    def write(self, path: str) -> None:
        self.wait()
        self.session.write_autosave(path)

    def write_in_background(self) -> None:
        """Write the copy, trained model included, off the GUI thread."""
        self.wait()
        session = self.session
        project, model = session.autosave_project(), session.unsaved_model()
        target = str(self.autosaver.path)
        session.changes_since_autosave = False

        def failed(error: str) -> None:
            session.changes_since_autosave = True
            self._report(f"Autosave to {target} failed: {error}")

        self._worker = run_worker(self._parent, "autosave", lambda _state: save_project(project, target, model=model),
                                  error=failed)

    def wait(self) -> None:
        """Wait for a background write to finish."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.wait()
