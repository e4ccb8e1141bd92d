"""Imports TensorFlow and Keras in a background thread so the window shows at once.

When the import finishes the loader reports the compute device (GPU name or CPU); until then the
training controls stay disabled. Nothing here imports TensorFlow in the calling thread.
"""

from __future__ import annotations

import gc
import importlib
import os
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["TensorFlowLoader", "configure_threads", "describe_device", "gui_thread_budget"]


def gui_thread_budget() -> tuple[int, int]:
    """(inter, intra) op threads that leave one core to the event loop on small machines."""
    cores = os.cpu_count() or 1
    return 1, max(1, cores - 1)


def configure_threads() -> bool:
    """Size TensorFlow's thread pools so training does not starve the GUI thread.

    ``CONVSTUDIO_TF_THREADS=inter,intra`` overrides the choice (0 lets TensorFlow decide).
    """
    from convstudio.core import device

    inter, intra = gui_thread_budget()
    override = os.environ.get("CONVSTUDIO_TF_THREADS", "")
    if override:
        try:
            inter, intra = (int(v) for v in override.split(","))
        except ValueError:
            pass
    return device.configure_threads(inter=inter, intra=intra)


def describe_device() -> str:
    """'GPU: <name>' for the visible GPUs, otherwise 'CPU (<n> threads)'."""
    from convstudio.core import device

    return device.describe_device()


class TensorFlowLoader(QObject):
    """Starts the import in a daemon thread and reports back on the GUI thread.

    Signals ``ready(str)`` with the device description, or ``failed(str)`` with a human reason.
    The result is polled from a GUI timer, so no signal crosses threads.
    """

    ready = Signal(str)
    failed = Signal(str)
    plottingReady = Signal()

    PRELOAD = ("matplotlib.figure", "matplotlib.backends.backend_qtagg", "convstudio.ui.insight")
    """Imported first, so the curves and insight views can be built without a pause in the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._result: tuple[str, str] | None = None
        self._preloaded = False
        self._preload_reported = False
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._poll)
        self.device: str | None = None
        self.error: str | None = None
        self.seconds: float | None = None

    @property
    def is_ready(self) -> bool:
        return self.device is not None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._result is None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._load, name="tensorflow-import", daemon=True)
        self._thread.start()
        self._timer.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the import is done (scripts and tests); True when it finished."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        self._poll()
        return self._result is not None

    def _load(self) -> None:
        started = time.perf_counter()
        # Importing TensorFlow creates about 300,000 long-lived objects; each full collection
        # that scans them holds the interpreter lock for 50-200 ms, whichever thread triggers it, so
        # the window would stall during the import and again at the start of a run. No collection
        # runs during the import, and the objects it leaves are frozen (no longer scanned).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._import()
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
        self.seconds = time.perf_counter() - started

    def _import(self) -> None:
        try:
            for name in self.PRELOAD:
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the curves then load on first use and report there
            pass
        self._preloaded = True
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401

            configure_threads()
            device = describe_device()
        except Exception as exc:  # noqa: BLE001 - any import failure must reach the user
            self._result = ("failed", f"TensorFlow could not be loaded: {exc}")
        else:
            self._result = ("ready", device)

    def _poll(self) -> None:
        if self._preloaded and not self._preload_reported:
            self._preload_reported = True
            self.plottingReady.emit()
        if self._result is None or not self._timer.isActive():
            return
        self._timer.stop()
        kind, text = self._result
        if kind == "ready":
            self.device = text
            self.ready.emit(text)
        else:
            self.error = text
            self.failed.emit(text)
