"""The "Find learning rate" dialog: the learning-rate range test in a worker, its curve, a suggestion,
and "Use this rate".

The test (:func:`convstudio.core.health.lr_range.find_learning_rate`) trains a fresh copy of the
network for a few dozen batches while the rate grows; the dialog draws loss against rate and marks
the suggested rate. Cancel stops the sweep after the current batch. A failure (no data, a network
that cannot be built) is said in the dialog, in words.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from convstudio.core.health.lr_range import LearningRateRange, advise_learning_rate
from convstudio.core.network import Network
from convstudio.core.provenance import ResultKey
from convstudio.core.settings import TrainSettings

from ..insight.render import add_save_png_menu
from ..result_guard import ResultGuard, stale_note
from ..theme import follow_theme
from ..worker import TaskState, Worker

__all__ = ["STEPS", "LearningRateDialog", "RangeRequest", "run_range_test"]

STEPS = 40
"""Batches the sweep trains (fewer when the loss blows up first)."""


@dataclass(frozen=True)
class RangeRequest:
    """What to test: a copy of the network, the dataset and how to load it (``load_dataset``'s keyword
    arguments: folder, an image folder's test folder and fitting), the settings (optimizer, batch
    size), and those settings in words ("SGD with momentum 0.9, batch size 64")."""

    network: Network
    dataset: str
    load_options: dict[str, Any]
    settings: TrainSettings
    described: str = ""


def run_range_test(state: TaskState, request: RangeRequest, steps: int = STEPS) -> LearningRateRange:
    """The test (in a worker's thread): load the data, sweep; reports each batch done, stops when cancelled."""
    from convstudio.core.datasets import DatasetNotFound, load_dataset
    from convstudio.core.health.lr_range import find_learning_rate

    def step(index: int, _rate: float, _loss: float) -> bool:
        state.report(index + 1)
        return not state.cancelled

    try:
        dataset = load_dataset(request.dataset, allow_download=False, **request.load_options)
        return find_learning_rate(request.network, dataset, request.settings, steps=steps, step=step)
    except (DatasetNotFound, ValueError, MemoryError) as exc:
        raise RuntimeError(str(exc) if not isinstance(exc, MemoryError) else
                           "Out of memory: try a smaller batch size or a smaller network.") from None
    except Exception as exc:  # noqa: BLE001 - the user gets one line, never a traceback
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        raise RuntimeError(f"The test failed: {detail}") from None


def _rate_text(rate: float) -> str:
    return f"{rate:.2g}"


class LearningRateDialog(QDialog):
    """Runs the range test for ``request`` on opening; ``rateChosen(float)`` when the user takes the suggestion.

    ``guard`` and ``key`` are the health views' result guard and the key of the request: a result
    that no longer fits what is on screen is not shown.
    """

    rateChosen = Signal(float)

    def __init__(self, request: RangeRequest, current_rate: float, guard: ResultGuard, key: ResultKey,
                 parent: QWidget | None = None, steps: int = STEPS) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find learning rate")
        self.request, self.current_rate, self.steps = request, current_rate, steps
        self.result: LearningRateRange | None = None
        about = QLabel(f"Trains a fresh copy of the network for up to {steps} batches while the learning rate "
                       "grows from 0.000001 to 1, and records the loss. The loss falls once the rate is large "
                       "enough to learn and shoots up once it is too large; a good rate is about a tenth of the "
                       "one with the lowest loss. The network itself is not changed.")
        about.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, steps)
        self.progress.setFormat("Batch %v of at most %m")
        self.status = QLabel("Loading the data and building the network...")
        self.status.setWordWrap(True)
        self._build_plot()
        self.use_button = QPushButton("Use this rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use)
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button.clicked.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(about)
        column.addWidget(self.progress)
        column.addWidget(self.canvas, 1)
        column.addWidget(self.status)
        column.addWidget(self.buttons)
        self.resize(560, 480)
        self.worker: Worker[LearningRateRange] = Worker(lambda state: run_range_test(state, request, steps), self,
                                                        name="learning-rate-range", latest_only=True)
        self.worker.progress.connect(self.progress.setValue)
        self.guard, self.key = guard, key
        self.worker.done.connect(self._on_done)
        self.worker.error.connect(self.show_error)
        self.worker.cancelled.connect(lambda: self.status.setText("Cancelled."))
        self.worker.finished.connect(self._on_finished)

    def _build_plot(self) -> None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(5.0, 2.8), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(200)
        self.ax = self.figure.subplots()
        self.ax.set_xscale("log")
        self.ax.set_xlim(1e-6, 1.0)  # the sweep's range, before there is a curve
        self.ax.set_xlabel("learning rate", fontsize=8)
        self.ax.set_ylabel("training loss", fontsize=8)
        self.ax.tick_params(labelsize=7)
        self.ax.grid(True, alpha=0.3)
        follow_theme(self.canvas)
        add_save_png_menu(self.canvas, lambda path: self.figure.savefig(path, dpi=120), "learning_rate_range.png")

    @property
    def running(self) -> bool:
        return self.worker.is_running

    def start(self) -> None:
        """Start the test (the dialog shows its progress)."""
        self.worker.start()

    def _on_done(self, result: LearningRateRange) -> None:
        """Show the result only if the network, data and settings are still those it was computed for."""
        if self.guard.fits(self.key):
            self._show_result(result)
        else:
            self.status.setText(stale_note("the network, the data or the optimizer changed while the test ran; "
                                           "run it again."))

    def _show_result(self, result: LearningRateRange) -> None:
        self.result = result
        rates = result.learning_rates
        losses = [loss if math.isfinite(loss) else float("nan") for loss in result.losses]
        self.ax.plot(rates, losses, color="#4C8BF5", lw=1.4, label="loss")
        self.ax.axvline(result.suggested, color="#34A853", ls="--", lw=1.2,
                        label=f"suggested {_rate_text(result.suggested)}")
        self.ax.axvline(result.best, color="#9AA0A6", ls=":", lw=1, label="lowest loss")
        finite = [v for v in losses if math.isfinite(v)]
        if finite:
            top = min(max(finite), 4.0 * min(finite) + 1.0)  # the blow-up would flatten the interesting part
            self.ax.set_ylim(0.0, top * 1.05)
        self.ax.legend(fontsize=7, loc="upper left")
        self.canvas.draw_idle()
        lines = [f"Suggested learning rate: {_rate_text(result.suggested)}"
                 + (f" (for {self.request.described})." if self.request.described else ".")]
        advice = advise_learning_rate(result, self.current_rate)
        lines.append(f"{advice.message} {advice.advice}" if advice is not None else
                     f"The rate set now, {self.current_rate:g}, is within the range that learns.")
        self.status.setText("\n".join(lines))
        self.use_button.setEnabled(True)
        self.use_button.setDefault(True)

    def show_error(self, message: str) -> None:
        self.status.setText(f"The learning-rate test could not run. {message}")
        self.progress.hide()
        self.close_button.setText("Close")

    def _on_finished(self) -> None:
        self.progress.setVisible(self.result is not None)
        self.close_button.setText("Close")

    def _use(self) -> None:
        if self.result is not None:
            self.rateChosen.emit(float(_rate_text(self.result.suggested)))
        self.accept()

    def done(self, code: int) -> None:
        """Closing while the test runs cancels it."""
        if self.worker.is_running:
            self.worker.cancel()
        super().done(code)
