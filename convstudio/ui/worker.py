"""The one way the UI runs long work off the GUI thread: a :class:`Worker` around a plain function.

The function takes a :class:`TaskState` (its cancel flag and progress outlet) and knows nothing of
Qt or of the thread it runs in. It runs in a daemon thread; the GUI thread polls it on a timer
(~100 ms), drains the progress records it published in bulk and emits them, then its outcome. No
signal ever crosses threads: queued cross-thread signals crash PySide6 6.12.0.

Lifecycle, all on the GUI thread, in this order::

    started -> progress* -> done(result) | error(message) | cancelled -> finished

``cancel()`` is cooperative: the function sees ``state.cancelled`` and may return early; whatever
it returns or raises afterwards is dropped and the worker reports ``cancelled``. A worker cancelled
before ``start()`` never runs its function (and never emits ``started``).
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, Signal

__all__ = ["Channel", "ProgressQueue", "TaskState", "Worker", "describe_error", "run_worker"]

T = TypeVar("T")

POLL_MS = 100


class Channel(Protocol):
    """Where a function's progress records go: ``put`` from any thread, ``drain`` on the GUI thread."""

    def put(self, item: Any) -> None: ...

    def drain(self) -> list[Any]: ...


class ProgressQueue:
    """A thread-safe queue of progress records; with ``latest_only`` only the newest is kept."""

    def __init__(self, latest_only: bool = False) -> None:
        self._latest_only = latest_only
        self._items: list[Any] = []
        self._lock = threading.Lock()

    def put(self, item: Any) -> None:
        with self._lock:
            if self._latest_only:
                self._items[:] = [item]
            else:
                self._items.append(item)

    def drain(self) -> list[Any]:
        with self._lock:
            items, self._items = self._items, []
        return items


class TaskState:
    """The handle a worker's function gets: whether it should stop, and where to report progress.

    Plain Python (no Qt), safe to use from any thread; ``channel`` can be handed to core code
    that publishes into a channel of its own kind (the trainer's :class:`EventChannel`).
    """

    def __init__(self, channel: Channel | None = None) -> None:
        self.channel: Channel = channel if channel is not None else ProgressQueue()
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def report(self, item: Any) -> None:
        """Publish one plain, immutable progress record (a string, a number, a frozen dataclass)."""
        self.channel.put(item)


def describe_error(exc: BaseException) -> str:
    """The one-line message an exception becomes: its text, or its type's name when it has none."""
    text = str(exc).strip()
    return text or type(exc).__name__


class Worker(QObject, Generic[T]):
    """Runs ``fn(state) -> T`` in a daemon thread and reports its lifecycle on the GUI thread.

    Signals: ``started()``, ``progress(object)`` once per record in the order published (only the
    newest with ``latest_only``), ``done(object)`` with the result, ``error(str)`` with a one-line
    message, ``cancelled()``, and ``finished()`` after any of the last three. A ``channel`` replaces
    the default progress queue (``latest_only`` is then the channel's business).
    """

    started = Signal()
    progress = Signal(object)
    done = Signal(object)
    error = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[[TaskState], T], parent: QObject | None = None, *, name: str = "worker",
                 interval_ms: int = POLL_MS, latest_only: bool = False, channel: Channel | None = None,
                 delete_when_finished: bool = False) -> None:
        super().__init__(parent)
        self.fn = fn
        self.name = name
        self.state = TaskState(channel if channel is not None else ProgressQueue(latest_only))
        self._delete_when_finished = delete_when_finished
        self._thread: threading.Thread | None = None
        self._started = False
        self._outcome: tuple[str, Any] | None = None
        self._finished = False
        self._polling = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    # ----------------------------------------------------------------- state

    @property
    def is_running(self) -> bool:
        """Started and its outcome not yet delivered."""
        return self._started and not self._finished

    @property
    def is_finished(self) -> bool:
        """The outcome has been delivered."""
        return self._finished

    # ----------------------------------------------------------------- control

    def start(self) -> None:
        """Run the function in a new daemon thread (or, if already cancelled, only report that)."""
        if self._started:
            raise RuntimeError(f"the {self.name} worker was already started")
        self._started = True
        if self.state.cancelled:
            self._outcome = ("cancelled", None)
        else:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
            self.started.emit()
        self._timer.start()

    def cancel(self) -> None:
        """Ask the function to stop; its result is dropped and the worker reports ``cancelled``."""
        self.state.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds for the function, then deliver what it left.

        For closing, scripts and tests; returns True when the outcome has been delivered.
        """
        if self._finished:
            return True
        if self._thread is not None:
            self._thread.join(timeout)
        self.poll()
        return self._finished

    def wait_responsive(self, timeout: float) -> bool:
        """Like :meth:`wait`, but keeps the event loop running (the window repaints meanwhile)."""
        deadline = time.monotonic() + timeout
        while not self._finished and time.monotonic() < deadline:
            if self._thread is not None:
                self._thread.join(min(0.02, max(0.0, deadline - time.monotonic())))
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            self.poll()
        return self._finished

    # ----------------------------------------------------------------- worker thread

    def _run(self) -> None:
        try:
            result = self.fn(self.state)
        except Exception as exc:  # noqa: BLE001 - every failure reaches the GUI as a message
            self._outcome = ("error", describe_error(exc))
        else:
            self._outcome = ("done", result)

    # ----------------------------------------------------------------- GUI thread

    def poll(self) -> None:
        """Emit the progress published since the last poll and, once the function ended, its outcome."""
        if self._polling or self._finished or not self._started:
            return
        self._polling = True  # a slot may wait or process events: do not deliver twice
        try:
            # Read before draining: a function that has ended publishes nothing more.
            ended = self._thread is None or not self._thread.is_alive()
            for item in self.state.channel.drain():
                self.progress.emit(item)
            if ended:
                self._finish()
        finally:
            self._polling = False

    def _finish(self) -> None:
        self._finished = True
        self._timer.stop()
        self.fn = _spent  # what the function holds is released now, not inside a later deletion
        kind, value = self._outcome or ("error", f"the {self.name} work ended without a result")
        if self.state.cancelled:
            self.cancelled.emit()
        elif kind == "done":
            self.done.emit(value)
        else:
            self.error.emit(value)
        self.finished.emit()
        if self._delete_when_finished:
            # Release the handlers (and what they hold) now, while the worker is whole: a handler
            # holding the last reference to the parent must not delete it from inside this deletion.
            _disconnect(self.progress, self.done, self.error, self.cancelled, self.finished)
            self.deleteLater()


def _disconnect(*signals: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a signal nobody listened to
        for signal in signals:
            try:
                signal.disconnect()
            except (RuntimeError, TypeError, SystemError):
                pass


def _spent(_state: TaskState) -> Any:
    raise RuntimeError("a worker runs its function once")


def run_worker(parent: QObject, name: str, fn: Callable[[TaskState], T],
               done: Callable[[T], None] | None = None, error: Callable[[str], None] | None = None,
               **options: Any) -> Worker[T]:
    """Start a one-off worker owned by ``parent`` with its ``done``/``error`` handlers connected.

    The worker deletes itself once it has reported; keep the returned object only to ``wait`` for
    it or ``cancel`` it.
    """
    worker: Worker[T] = Worker(fn, parent, name=name, delete_when_finished=True, **options)
    if done is not None:
        worker.done.connect(done)
    if error is not None:
        worker.error.connect(error)
    worker.start()
    return worker

