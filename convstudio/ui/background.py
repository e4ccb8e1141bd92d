"""Run one short piece of work off the GUI thread and hear back on it, without queued signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

__all__ = ["run_in_thread"]


def run_in_thread(parent: QObject, name: str, work: Callable[[], Any],
                  done: Callable[[Any, Exception | None], None], poll_ms: int = 100) -> threading.Thread:
    """Start ``work()`` in a daemon thread; call ``done(result, error)`` on the GUI thread after it.

    A timer owned by ``parent`` polls the thread, so nothing crosses threads but plain Python
    values; ``error`` is the exception ``work`` raised, or None.
    """
    outcome: list[Any] = [None, None]

    def run() -> None:
        try:
            outcome[0] = work()
        except Exception as exc:  # noqa: BLE001 - handed to ``done``
            outcome[1] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    timer = QTimer(parent)
    timer.setInterval(poll_ms)

    def poll() -> None:
        if thread.is_alive():
            return
        timer.stop()
        timer.deleteLater()
        done(outcome[0], outcome[1])

    timer.timeout.connect(poll)
    thread.start()
    timer.start()
    return thread
