"""Run model computations off the GUI thread, one at a time, and hand results back on it.

Each request is a :class:`~convstudio.ui.worker.Worker`; they run one after another (Keras models
are not shared between concurrent calls). Per key only the newest request is delivered: a newer one
cancels the older, so choosing samples quickly never shows a stale result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..worker import Worker

__all__ = ["TaskRunner"]


class TaskRunner(QObject):
    """``submit(key, fn, on_done)`` runs ``fn()`` in a worker and calls ``on_done(result)`` here."""

    failed = Signal(str, str)  # key, human message
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, poll_ms: int = 25) -> None:
        super().__init__(parent)
        self._poll_ms = poll_ms
        self._queue: list[Worker] = []  # waiting to run, oldest first
        self._current: Worker | None = None
        self._latest: dict[str, Worker] = {}

    def submit(self, key: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        was_busy = self.busy
        old = self._latest.get(key)
        if old is not None:
            old.cancel()  # waiting: it never runs; running: its result is dropped
            if old in self._queue:
                self._queue.remove(old)
                old.deleteLater()
        worker: Worker = Worker(lambda _state: fn(), self, name=key, interval_ms=self._poll_ms)
        worker.done.connect(on_done)
        # The runner's own methods, not lambdas holding the runner: a slot that holds the last
        # reference to the runner would delete it from inside the worker's deletion.
        worker.error.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._latest[key] = worker
        self._queue.append(worker)
        if not was_busy:
            self.busyChanged.emit(True)
        self._next()

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    def _next(self) -> None:
        if self._current is None and self._queue:
            self._current = self._queue.pop(0)
            self._current.start()

    def _on_error(self, message: str) -> None:
        if self._current is not None:  # only the current worker runs, so only it reports
            self.failed.emit(self._current.name, message)

    def _on_finished(self) -> None:
        worker, self._current = self._current, None
        if worker is not None:
            if self._latest.get(worker.name) is worker:
                del self._latest[worker.name]
            worker.done.disconnect()  # release the caller's callback now, not inside the deletion
            worker.deleteLater()
        self._next()
        if not self.busy:
            self.busyChanged.emit(False)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until the submitted work is done and delivered (for scripts and tests)."""
        end = time.monotonic() + timeout_s
        while self._current is not None and time.monotonic() < end:
            self._current.wait(max(0.0, end - time.monotonic()))
        return not self.busy

    def shutdown(self) -> None:
        """Drop waiting requests and the running one's result."""
        for worker in self._queue:
            worker.cancel()
            worker.deleteLater()
        self._queue.clear()
        self._latest.clear()
        if self._current is not None:
            self._current.cancel()
