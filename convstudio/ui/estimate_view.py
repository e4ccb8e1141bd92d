"""The line under the training settings that says what a run will cost before Start: time and memory.

Time per epoch comes from :mod:`convstudio.core.estimate`: the device is calibrated once, in a
worker, and remembered in the app's data folder; from then on every change of the network, the
number of images, the batch size or the validation split is priced by arithmetic alone. Memory
comes from :mod:`convstudio.core.memory`, compared with what the machine has free (read in the same
worker: asking the GPU driver can take seconds). :func:`ask_smaller_batch` is the question Start asks
when only the batch does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

from convstudio.core.estimate import (
    Calibration,
    EpochEstimate,
    describe_estimate,
    estimate_run_epoch,
    load_or_calibrate,
)
from convstudio.core.memory import (
    MemoryEstimate,
    available_memory,
    estimate_training_memory,
    format_bytes,
    memory_problem,
)
from convstudio.core.network import Network
from convstudio.core.settings import TrainSettings
from convstudio.core.shapes import Analysis

from . import dialogs
from . import settings as app_settings
from .worker import TaskState, Worker, run_worker

__all__ = ["CALIBRATION_FILE", "EstimateLine", "MemoryVerdict", "ask_smaller_batch", "measure_device"]

CALIBRATION_FILE = "device_calibration.json"
MEASURING = "Measuring this device\u2026"
NO_ESTIMATE = "Time and memory estimates appear once the network has no errors"


def measure_device(path: Path, again: bool, state: TaskState) -> tuple[Calibration | None, int | None, str, bool]:
    """(calibration, free bytes, where, on a GPU): the worker's function; loads or measures, then asks for memory."""
    from convstudio.core.device import gpu_names

    calibration = load_or_calibrate(path, again=again, cancelled=lambda: state.cancelled)
    on_gpu = bool(gpu_names())
    available, where = available_memory(on_gpu)
    return calibration, available, where, on_gpu


@dataclass(frozen=True)
class MemoryVerdict:
    """What the memory estimate says about Start: ``problem`` (None: it fits or is unknown) and the
    largest batch that fits (0 when even the weights do not)."""

    problem: str | None
    fitting_batch: int = 0


def ask_smaller_batch(parent: QWidget, problem: str, batch: int) -> bool:
    """Ask whether to train with ``batch`` instead (True) or not start (False)."""
    B = QMessageBox.StandardButton
    return dialogs.ask(parent, "Not enough memory", problem, B.Ok | B.Cancel, B.Ok,
                       {B.Ok: f"Train with batch size {batch}"}) == B.Ok


def _round_batch(batch: int) -> int:
    """The largest power of two not above ``batch`` (batch sizes people choose), at least 1."""
    return 1 << (max(1, batch).bit_length() - 1)


class EstimateLine(QWidget):
    """``≈ 12 s per epoch on CPU (2 threads) · 35.0 MB for weights, optimizer and activations at batch 64``.

    Call :meth:`set_inputs` whenever the network, the number of images or the settings change, and
    :meth:`measure` once TensorFlow is loaded (the calibration is measured only when none is stored).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.measure_button = QToolButton()
        self.measure_button.setText("Measure again")
        self.measure_button.setToolTip("Time this device again for the estimate (about two seconds); "
                                       "useful after changing hardware or when the machine was busy")
        self.measure_button.setAutoRaise(True)
        self.measure_button.clicked.connect(lambda: self.measure(again=True))
        self.measure_button.setEnabled(False)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.measure_button)
        self.calibration: Calibration | None = None
        self._free: tuple[int | None, str, bool] = (None, "available RAM", False)
        self._worker: Worker[Any] | None = None
        self._inputs: tuple[Network, Analysis, int | None, TrainSettings] | None = None
        self._blocked = False  # a run is going on: no measuring
        self._wanted = False  # measuring was asked for (once TensorFlow is loaded)

    # ----------------------------------------------------------------- measuring

    @property
    def measuring(self) -> bool:
        return self._worker is not None

    def measure(self, again: bool = False) -> None:
        """Load this device's calibration, measuring it (in a worker) when none is stored or ``again``."""
        self._wanted = True
        if self._worker is not None or self._blocked:
            return
        path = app_settings.app_data_dir() / CALIBRATION_FILE
        self._worker = run_worker(self, "device-calibration", lambda state: measure_device(path, again, state),
                                  self._on_measured, self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self.measure_button.setEnabled(False)
        self.refresh()

    def set_training(self, running: bool) -> None:
        """A run is going on: a measurement now would time the run, not the device; it is cancelled and
        tried again afterwards."""
        self._blocked = running
        self.measure_button.setEnabled(not running and self._worker is None and self._wanted)
        if running and self._worker is not None:
            self._worker.cancel()
        elif not running and self.calibration is None and self._wanted:
            self.measure()

    def _on_measured(self, result: tuple[Calibration | None, int | None, str, bool]) -> None:
        calibration, available, where, on_gpu = result
        self._worker = None
        self.calibration = calibration or self.calibration
        self._free = (available, where, on_gpu)
        self.measure_button.setEnabled(True)
        self.refresh()

    def _on_failed(self, message: str) -> None:
        self._worker = None
        self.measure_button.setEnabled(True)
        self.refresh()
        self.label.setToolTip(f"This device could not be measured: {message}")

    def _on_cancelled(self) -> None:
        self._worker = None
        self.measure_button.setEnabled(True)
        self.refresh()

    # ----------------------------------------------------------------- estimating

    def set_inputs(self, network: Network, analysis: Analysis, images: int | None, settings: TrainSettings) -> None:
        """What a run would train: the network, its analysis, how many training images (None: not known yet)."""
        self._inputs = (network, analysis, images, settings)
        self.refresh()

    @property
    def inputs(self) -> tuple[Network, Analysis, int | None, TrainSettings] | None:
        """What the estimate is of: the network, its analysis, the training images and the settings."""
        return self._inputs

    def epoch_estimate(self) -> EpochEstimate | None:
        if self._inputs is None or self.calibration is None:
            return None
        network, analysis, images, settings = self._inputs
        if not analysis.ok or not images:
            return None
        return estimate_run_epoch(network, analysis, images, settings, self.calibration)

    def memory_estimate(self) -> MemoryEstimate | None:
        if self._inputs is None or not self._inputs[1].ok:
            return None
        _network, analysis, _images, s = self._inputs
        return estimate_training_memory(analysis, s.batch_size, s.optimizer, s.momentum)

    def memory_verdict(self) -> MemoryVerdict:
        """Whether the run fits in memory, with the free memory read now (RAM) or at the last measurement (GPU)."""
        memory = self.memory_estimate()
        if memory is None:
            return MemoryVerdict(None)
        available, where, on_gpu = self._free
        if not on_gpu:
            available, where = available_memory(on_gpu=False)  # /proc/meminfo: instant
            self._free = (available, where, False)
        problem = memory_problem(memory, available, where)
        fits = memory.largest_batch_within(available) if problem and available is not None else 0
        return MemoryVerdict(problem, _round_batch(fits) if fits else 0)

    def refresh(self) -> None:
        """Redraw the line from what is known now (arithmetic only)."""
        memory = self.memory_estimate()
        if memory is None:
            self.label.setText(NO_ESTIMATE)
            self.label.setToolTip("Time per epoch and memory are estimated from the network's shapes, which it "
                                  "needs without errors.")
            return
        epoch = self.epoch_estimate()
        text = describe_estimate(epoch, memory)
        if epoch is None:
            images = self._inputs[2] if self._inputs is not None else None
            if self._worker is not None:
                text = f"{MEASURING} \u00b7 {text}"
            elif self.calibration is not None and not images:
                text = f"Time per epoch once the data is found \u00b7 {text}"
        available, where, _on_gpu = self._free
        problem = memory_problem(memory, available, where)
        if problem:
            text += f" \u2014 more than the {format_bytes(available or 0)} of {where}"
        self.label.setText(text)
        self.label.setToolTip(problem or self._explain(epoch))

    def _explain(self, epoch: EpochEstimate | None) -> str:
        if epoch is None or self.calibration is None:
            return ""
        return (f"{epoch.train_images:,} training images in {epoch.train_steps:,} batches "
                f"({epoch.train_seconds:.1f} s) and {epoch.val_images:,} for validation ({epoch.val_seconds:.1f} s); "
                f"the first epoch also builds the model. Device measured {self.calibration.measured_at}.")
