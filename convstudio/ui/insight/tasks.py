"""Run model computations off the GUI thread and hand results back on it.

One worker thread (Keras models are not shared between concurrent calls); results are polled
from a GUI timer, so no Qt object crosses threads. Per key only the newest request is delivered:
choosing samples quickly never shows a stale result.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["TaskRunner"]


class TaskRunner(QObject):
    """``submit(key, fn, on_done)`` runs ``fn()`` in the worker and calls ``on_done(result)`` here."""

    failed = Signal(str, str)  # key, human message
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, poll_ms: int = 25) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convstudio-insight")
        self._pending: dict[str, tuple[int, Future, Callable[[Any], None]]] = {}
        self._serial = 0
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)

    def submit(self, key: str, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self._serial += 1
        was_busy = self.busy
        old = self._pending.get(key)
        if old is not None:
            old[1].cancel()  # not started yet: skip it; running: its result is dropped
        self._pending[key] = (self._serial, self._pool.submit(fn), on_done)
        self._timer.start()
        if not was_busy:
            self.busyChanged.emit(True)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def _poll(self) -> None:
        for key, (serial, future, on_done) in list(self._pending.items()):
            if not future.done():
                continue
            if self._pending.get(key, (None,))[0] == serial:
                del self._pending[key]
            if future.cancelled():
                continue
            error = future.exception()
            if error is not None:
                self.failed.emit(key, str(error) or type(error).__name__)
            else:
                on_done(future.result())
        if not self._pending:
            self._timer.stop()
            self.busyChanged.emit(False)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until the submitted work is done and delivered (for scripts and tests)."""
        import time

        end = time.monotonic() + timeout_s
        while self._pending and time.monotonic() < end:
            for _, future, _ in list(self._pending.values()):
                try:
                    future.result(timeout=max(0.0, end - time.monotonic()))
                except Exception:
                    pass
            self._poll()
        return not self._pending

    def shutdown(self) -> None:
        self._timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
