"""Imports TensorFlow and Keras in a worker so the window shows at once.

When the import finishes the loader reports the compute device (GPU name or CPU); until then the
training controls stay disabled. Nothing here imports TensorFlow in the calling thread.
"""

from __future__ import annotations

import gc
import importlib
import os
import time

from PySide6.QtCore import QObject, Signal

from .worker import TaskState, Worker

__all__ = ["TensorFlowLoader", "configure_threads", "describe_device", "gui_thread_budget", "load_tensorflow"]

PRELOAD = ("matplotlib.figure", "matplotlib.backends.backend_qtagg", "convstudio.ui.insight")
"""Imported first, so the curves and insight views can be built without a pause in the GUI thread."""

PLOTTING_READY = "plotting ready"


def gui_thread_budget() -> tuple[int, int]:
    """(inter, intra) op threads for training beside the event loop on this machine's usable cores."""
    from convstudio.core.device import threads_for, usable_cores

    return threads_for(usable_cores())


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


def load_tensorflow(state: TaskState) -> str:
    """Import the plotting modules (reported as progress), then TensorFlow and Keras; the device.

    Importing TensorFlow creates about 300,000 long-lived objects; each full collection that scans
    them holds the interpreter lock for 50-200 ms, whichever thread triggers it, so the window would
    stall during the import and again at the start of a run. No collection runs during the import,
    and the objects it leaves are frozen (no longer scanned).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            for name in PRELOAD:
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the curves then load on first use and report there
            pass
        state.report(PLOTTING_READY)
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        configure_threads()
        return describe_device()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


class TensorFlowLoader(QObject):
    """Runs :func:`load_tensorflow` in a :class:`Worker` and reports back on the GUI thread.

    Signals ``plottingReady()`` once the plotting modules are imported, then ``ready(str)`` with the
    device description, or ``failed(str)`` with a human reason.
    """

    ready = Signal(str)
    failed = Signal(str)
    plottingReady = Signal()

    PRELOAD = PRELOAD

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: Worker[str] | None = None
        self._started_at = 0.0
        self.device: str | None = None
        self.error: str | None = None
        self.seconds: float | None = None

    @property
    def is_ready(self) -> bool:
        return self.device is not None

    @property
    def is_running(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def start(self) -> None:
        if self._worker is not None:
            return
        self._started_at = time.perf_counter()
        self._worker = Worker(load_tensorflow, self, name="tensorflow-import", interval_ms=50)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_ready)
        self._worker.error.connect(self._on_failed)
        self._worker.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the import is done (scripts and tests); True when it finished."""
        if self._worker is None:
            self.start()
        assert self._worker is not None
        return self._worker.wait(timeout)

    def _on_progress(self, item: object) -> None:
        if item == PLOTTING_READY:
            self.plottingReady.emit()

    def _on_ready(self, device: str) -> None:
        self.seconds = time.perf_counter() - self._started_at
        self.device = device
        self.ready.emit(device)

    def _on_failed(self, message: str) -> None:
        self.seconds = time.perf_counter() - self._started_at
        self.error = f"TensorFlow could not be loaded: {message}"
        self.failed.emit(self.error)
