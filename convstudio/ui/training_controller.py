"""Runs the core trainer in a :class:`Worker` and re-emits its events as Qt signals.

The worker's function only calls core code and the trainer writes plain records into an
:class:`EventChannel`; the worker drains it on the GUI thread every ~100 ms, so no widget is ever
touched off the GUI thread and no signal crosses threads. While a run is live the document is
locked, so edits are refused with a message instead of changing the network under the trainer.
Every run is recorded (:mod:`convstudio.core.runs`) in the project's run folder (``project_path``
set by the window), or in the data folder for a project never saved; the health monitor's records
arrive as ``healthWarning`` and ``healthProbed``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from convstudio.core.health import HealthProbe, HealthWarning
from convstudio.core.model_reuse import ModelReuse
from convstudio.core.settings import TrainSettings
from convstudio.core.training_events import (
    BatchEnd,
    EpochEnd,
    EventChannel,
    ProbeUpdate,
    TrainFinished,
    TrainStarted,
)

from . import settings as app_settings
from .worker import TaskState, Worker

__all__ = ["LOCK_REASON", "RunRequest", "TrainingController"]

LOCK_REASON = "Training is running: stop it to edit the network"
_RUN_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class RunRequest:
    """What to train on and how.

    ``resume_from`` is a checkpoint folder to continue from (Train more); ``settings.epochs`` is then
    the number of additional epochs. ``test_dir`` and ``resize`` are an image folder's options.
    """

    dataset: str
    settings: TrainSettings
    data_dir: str | None = None
    resume_from: str | None = None
    test_dir: str | None = None
    resize: str = "stretch"


class TrainingController(QObject):
    """Owns one training run at a time for an :class:`EditorDocument`.

    Signals carry plain data: ``runStarted(TrainStarted)``, ``batchEnded(BatchEnd)``,
    ``epochEnded(EpochEnd)``, ``probeUpdated(ProbeUpdate)``, ``runFinished(TrainFinished)``,
    ``runningChanged(bool)``, ``pausedChanged(bool)``.
    """

    runStarted = Signal(object)
    batchEnded = Signal(object)
    epochEnded = Signal(object)
    probeUpdated = Signal(object)
    runFinished = Signal(object)
    runningChanged = Signal(bool)
    pausedChanged = Signal(bool)
    healthWarning = Signal(object)  # HealthWarning
    healthProbed = Signal(object)  # HealthProbe, once per epoch
    checkpointChanged = Signal()  # a model from disk can now be continued (or no longer)

    def __init__(self, document: Any, parent: QObject | None = None, checkpoint_dir: str | None = None,
                 drain_interval_ms: int = 100) -> None:
        super().__init__(parent)
        self.document = document
        self._checkpoint_root = Path(checkpoint_dir) if checkpoint_dir else None
        self._drain_interval_ms = drain_interval_ms
        self._worker: Worker[TrainFinished] | None = None
        self._worker_done: Worker[TrainFinished] | None = None
        self._trainer: Any = None
        self._trainer_lock = threading.Lock()
        self._stop_requested = False
        self._paused = False
        self.network_snapshot: Any = None
        self.model: Any = None
        self.last_started: TrainStarted | None = None
        self.last_finished: TrainFinished | None = None
        self.last_request: RunRequest | None = None
        self.epochs_done = 0
        self._last_checkpoint: str | None = None
        self._adopted: tuple[Any, dict[str, Any]] | None = None  # a loaded model still to write as a checkpoint
        self._probe_image: Any = None
        self.project_path: str | None = None
        self.project_title = ""
        self.record_runs = True
        self.health_warnings: list[HealthWarning] = []
        self.last_run_folder: Path | None = None
        self._recorder: Any = None
        self._reuse = ModelReuse()  # fresh runs of an unchanged network train the last one's traced model again

    # ----------------------------------------------------------------- state

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def checkpoint(self) -> str | None:
        """The newest checkpoint of the network as it is now (for Train more); None after edits."""
        if not self._last_checkpoint or self.network_snapshot is None:
            return None
        if _structure(self.network_snapshot) != _structure(self.document.network):
            return None
        return self._last_checkpoint

    def adopt_model(self, model: Any, history: dict[str, list[float]], dataset: str) -> None:
        """A trained model from disk (a reopened project) becomes the one Train more continues.

        It is written as a checkpoint only when Train more starts (in the worker thread), so opening
        a project costs nothing; ``history`` (``{metric: values per epoch}``) continues with it.
        """
        if self.is_running:
            return
        epochs = max((len(v) for v in history.values()), default=0)
        self.model = model
        self.network_snapshot = self.document.network.copy()
        self.epochs_done = epochs
        self._last_checkpoint = str(self.new_checkpoint_dir()) if model is not None else None
        self._adopted = (model, {"epoch": epochs, "history": history, "dataset": dataset}) if model is not None \
            else None
        self.checkpointChanged.emit()

    def runs_dir(self) -> Path:
        """Where this project's runs are recorded: ``<stem>.runs`` beside it, else in the data folder."""
        from convstudio.core.runs import runs_root

        unsaved = self._checkpoint_root if self._checkpoint_root else app_settings.app_data_dir()
        return runs_root(self.project_path, unsaved)

    def new_checkpoint_dir(self) -> Path:
        """A fresh folder for a new run's checkpoints (the oldest runs beyond a few are removed)."""
        root = self._checkpoint_root or app_settings.app_data_dir() / "checkpoints"
        root.mkdir(parents=True, exist_ok=True)
        old = sorted((p for p in root.glob("run-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for folder in old[:-4]:
            shutil.rmtree(folder, ignore_errors=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = root / f"run-{stamp}-{os.getpid()}-{next(_RUN_COUNTER)}"
        folder.mkdir()
        return folder

    # ----------------------------------------------------------------- control

    def start(self, request: RunRequest) -> str | None:
        """Start a run; returns a human reason instead when it cannot start."""
        if self.is_running:
            return "A training run is already in progress."
        analysis = self.document.analysis
        if not analysis.ok:
            first = analysis.errors[0]
            where = f"{first.block_id}: " if first.block_id else ""
            return f"The network has errors; fix them before training ({where}{first.message})."
        if not request.resume_from:
            self._last_checkpoint = None
            self._adopted = None
            self.epochs_done = 0
        network = self.network_snapshot = self.document.network.copy()
        self._trainer = None
        self._stop_requested = False
        self._paused = False
        self.last_request = request
        folder = Path(request.resume_from) if request.resume_from else self.new_checkpoint_dir()
        self.health_warnings = []
        self._recorder = self._new_recorder(request)
        self.document.set_locked(True, LOCK_REASON)
        if self._worker_done is not None:
            self._worker_done.deleteLater()  # the previous run's
            self._worker_done = None
        adopted, self._adopted = (self._adopted if request.resume_from else None), None
        worker = self._worker = Worker(lambda state: self._work(state, network, request, folder, adopted), self,
                                       name="training", interval_ms=self._drain_interval_ms, channel=EventChannel())
        worker.progress.connect(self._dispatch)
        worker.done.connect(self._end_run)
        worker.error.connect(self._on_error)
        worker.start()
        self.runningChanged.emit(True)
        return None

    def _new_recorder(self, request: RunRequest) -> Any:
        if not self.record_runs:
            return None
        from convstudio.core.runs import RunRecorder

        title = self.project_title or (Path(self.project_path).stem if self.project_path else "Untitled")
        folders = (request.data_dir, request.test_dir, request.resize) if request.dataset == "image_folder" else None
        return RunRecorder(self.runs_dir(), title=title, origin="gui", resumed_from=request.resume_from,
                           data_source=folders)

    def pause(self) -> None:
        if self.is_running and not self._paused:
            self._paused = True
            self._call_trainer("pause")
            self.pausedChanged.emit(True)

    def resume(self) -> None:
        if self.is_running and self._paused:
            self._paused = False
            self._call_trainer("resume")
            self.pausedChanged.emit(False)

    def stop(self) -> None:
        """Ask the run to stop after the current batch (it still reports how it ended)."""
        if not self.is_running:
            return
        self._stop_requested = True
        self._call_trainer("stop")
        if self._paused:
            self._paused = False
            self.pausedChanged.emit(False)

    def stop_and_wait(self, timeout: float = 2.0) -> bool:
        """Stop and wait up to ``timeout`` seconds while keeping the event loop alive.

        Returns True when the run ended (its events are drained and its signals emitted).
        """
        self.stop()
        if self._worker is not None:
            self._worker.wait_responsive(timeout)
        return self._worker is None

    def set_probe(self, image: Any) -> None:
        """Watch this sample's activations during runs (kept for the next run too)."""
        self._probe_image = image
        try:
            self._call_trainer("set_probe", image)
        except ValueError:
            pass  # an image of another size than the run's data: not shown for this run

    def _call_trainer(self, name: str, *args: Any) -> None:
        with self._trainer_lock:
            trainer = self._trainer
        if trainer is not None:
            getattr(trainer, name)(*args)

    # ----------------------------------------------------------------- worker thread

    def _work(self, state: TaskState, network: Any, request: RunRequest, checkpoint_dir: Path,
              adopted: tuple[Any, dict[str, Any]] | None = None) -> TrainFinished:
        """The run (in the worker's thread): load data, build the trainer, run it. Touches no Qt object."""
        try:
            from convstudio.core.checkpoint import write_checkpoint
            from convstudio.core.datasets import DatasetNotFound, load_dataset
            from convstudio.core.training import Trainer

            if adopted is not None:  # a model from disk: its checkpoint is written now, off the GUI thread
                write_checkpoint(checkpoint_dir, adopted[0], adopted[1])

            try:
                dataset = load_dataset(request.dataset, data_dir=request.data_dir, allow_download=False,
                                       test_dir=request.test_dir, resize=request.resize)
            except DatasetNotFound as exc:
                return TrainFinished("error", str(exc), 0, {})
            channel: Any = state.channel
            recorder = self._recorder  # set before the worker started
            if request.resume_from:
                trainer = Trainer.resume_from(checkpoint_dir, network, dataset, request.settings, channel,
                                              recorder=recorder)
            else:
                trainer = Trainer(network, dataset, request.settings, channel, checkpoint_dir, recorder=recorder,
                                  reuse=self._reuse)
            if self._probe_image is not None:
                try:
                    trainer.set_probe(self._probe_image)
                except ValueError:
                    pass
            with self._trainer_lock:
                self._trainer = trainer
            if self._stop_requested:
                trainer.stop()
            elif self._paused:
                trainer.pause()
            return trainer.run()
        except MemoryError:
            return TrainFinished("error", "Out of memory: try a smaller batch size or a smaller network.", 0, {})
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return TrainFinished("error", f"Training failed: {detail}", 0, {})

    # ----------------------------------------------------------------- GUI side

    def drain(self) -> None:
        """Emit the events published so far now, instead of at the next tick (scripts and tests)."""
        if self._worker is not None:
            self._worker.poll()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, BatchEnd):
            self.batchEnded.emit(event)
        elif isinstance(event, EpochEnd):
            self.epochEnded.emit(event)
        elif isinstance(event, ProbeUpdate):
            self.probeUpdated.emit(event)
        elif isinstance(event, TrainStarted):
            self.last_started = event
            self.runStarted.emit(event)
        elif isinstance(event, HealthWarning):
            self.health_warnings.append(event)
            self.healthWarning.emit(event)
        elif isinstance(event, HealthProbe):
            self.healthProbed.emit(event)
        # TrainFinished: the worker's result, handled by _end_run

    def _on_error(self, message: str) -> None:
        self._end_run(TrainFinished("error", f"Training failed: {message}", 0, {}))

    def _end_run(self, finished: TrainFinished) -> None:
        self._worker_done, self._worker = self._worker, None  # before emitting anything: a slot may drain again
        with self._trainer_lock:
            trainer, self._trainer = self._trainer, None
        if trainer is not None:
            self.model = getattr(trainer, "model", None) or self.model
        self.last_run_folder = self._recorder.folder if self._recorder is not None else None
        self.last_finished = finished
        if finished.checkpoint:
            self._last_checkpoint = finished.checkpoint
            self.epochs_done = finished.epochs_done
        self._paused = False
        self.document.set_locked(False)
        self.runningChanged.emit(False)
        self.runFinished.emit(finished)


def _structure(network: Any) -> tuple:
    """What a trained model depends on: block kinds, parameters and edges (not positions)."""
    blocks = tuple(sorted((b.id, b.kind, tuple(sorted(b.params.items()))) for b in network))
    return blocks, tuple((e.src, e.dst) for e in network.edges)
