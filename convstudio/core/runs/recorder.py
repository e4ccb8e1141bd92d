"""Records one training run into its run folder while it trains (see :mod:`.layout` for the files).

A :class:`RunRecorder` is handed to the :class:`~convstudio.core.training.Trainer`, which calls
:meth:`RunRecorder.attach` (the recorder then sees every event the trainer publishes, through a
:class:`RecordingChannel`) and adds :meth:`RunRecorder.keras_callbacks` to ``fit`` (decimated batch
points, TensorBoard, health probes, the best model). The record is rewritten atomically after every
epoch, so a run that is killed loses at most the epoch it was in; its ``status`` stays ``running``
and :func:`convstudio.core.runs.store.list_runs` shows it as interrupted once its process is gone.
The health monitor's warnings are published into the same channel, after the event that raised them.
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_write_text, atomic_write_with
from ..health import HealthMonitor, HealthProbe, HealthWarning
from ..training_events import EpochEnd, EventChannel, TrainFinished, TrainStarted, TrainWarning
from .layout import (
    BEST_MODEL,
    FINAL_MODEL,
    METRICS_FILE,
    METRICS_FORMAT,
    RUN_FILE,
    RUN_FORMAT,
    TENSORBOARD_DIR,
    new_run_folder,
)

if TYPE_CHECKING:
    import keras

    from ..training import Trainer

__all__ = ["MAX_BATCH_POINTS", "PROBE_BATCH", "RecordingChannel", "RunRecorder", "active_runs", "batch_stride"]

MAX_BATCH_POINTS = 2000
"""At most about this many per-batch points are kept per run (every N-th batch)."""
MIN_BATCH_EVERY = 5
"""Runs long enough to keep 200 points record at most every 5th batch (each read waits for the device)."""
PROBE_BATCH = 64
"""Images in the health probe batch."""

_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def active_runs() -> set[str]:
    """Resolved folders of the runs this process is recording now."""
    with _ACTIVE_LOCK:
        return set(_ACTIVE)


def batch_stride(total_batches: int) -> int:
    """Record every N-th batch: every one of a short run, at least every 5th (fewer waits for the device)
    once that still leaves 200 points, and never more than :data:`MAX_BATCH_POINTS` points."""
    total = max(1, int(total_batches))
    return max(math.ceil(total / MAX_BATCH_POINTS), min(MIN_BATCH_EVERY, max(1, total // 200)))


def _now_iso() -> str:
    """UTC to the microsecond, so runs started within one second (a sweep's trials) still sort by time."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class RecordingChannel(EventChannel):
    """Hands each event to the recorder, then on to the caller's channel (followed by any health warnings)."""

    def __init__(self, inner: EventChannel, recorder: RunRecorder) -> None:
        super().__init__()
        self.inner, self.recorder = inner, recorder

    def put(self, event: Any) -> None:
        warnings = self.recorder.observe(event)
        if isinstance(event, TrainFinished):  # the warning that explains the end comes before it
            for warning in warnings:
                self.inner.put(warning)
            warnings = []
        self.inner.put(event)
        for warning in warnings:
            self.inner.put(warning)

    def drain(self) -> list[Any]:
        return self.inner.drain()


class RunRecorder:
    """Writes one run's record into a new folder under ``root``.

    ``title`` names the project; ``origin`` is ``"cli"`` or ``"gui"``; ``resumed_from`` the checkpoint
    folder a continued run started from. ``tensorboard`` and ``health`` switch those parts off.
    ``sweep`` marks a sweep's trial (its sweep's name, trial id, values and tuner), kept as the record's ``sweep``.
    """

    def __init__(self, root: str | os.PathLike[str], *, title: str = "", origin: str = "cli",
                 resumed_from: str | None = None, tensorboard: bool = True, health: bool = True,
                 sweep: dict[str, Any] | None = None,
                 data_source: tuple[str | None, str | None, str] | None = None) -> None:
        self.root = Path(root)
        self.data_source = data_source  # an image folder's (folder, test folder, fitting), kept with the run
        self.title, self.origin, self.resumed_from = title, origin, resumed_from
        self.sweep = dict(sweep) if sweep else None
        self.tensorboard, self.health = tensorboard, health
        self.folder: Path | None = None
        self.trainer: Trainer | None = None
        self.monitor: HealthMonitor | None = None
        self.record: dict[str, Any] = {}
        self.batches: list[list[float]] = []
        self.epochs: list[dict[str, Any]] = []
        self.batch_every = 1
        self.best_value: float | None = None
        self._started = 0.0
        self._publish: EventChannel | None = None

    # ----------------------------------------------------------------- set-up (trainer)

    def attach(self, trainer: Trainer, channel: EventChannel) -> EventChannel:
        """Create the run folder and its first record; returns the channel the trainer must publish into."""
        from ..project import Project, project_to_dict
        from ..shapes import analyze

        self.trainer = trainer
        self.folder = new_run_folder(self.root)
        with _ACTIVE_LOCK:
            _ACTIVE.add(str(self.folder.resolve()))
        ds, s = trainer.dataset, trainer.settings
        self.monitor = HealthMonitor(ds.num_classes, s.learning_rate) if self.health else None
        folder, test_dir, resize = self.data_source or (None, None, "stretch")
        project = project_to_dict(Project(trainer.network.copy(), s, ds.name, data_dir=folder, title=self.title,
                                          test_dir=test_dir, resize=resize))
        try:
            params = analyze(trainer.network, ds.input_shape, ds.num_classes).total_params
        except Exception:  # noqa: BLE001 - a count for the listing only
            params = None
        self.record = {
            "format": RUN_FORMAT, "version": 1, "id": self.folder.name, "title": self.title, "origin": self.origin,
            "started": _now_iso(), "updated": _now_iso(), "pid": os.getpid(), "host": socket.gethostname(),
            "status": "running", "message": "", "diagnosis": "", "project": project,
            "dataset": {"name": ds.name, "source": ds.source, "is_sample": bool(ds.is_sample)},
            "device": "", "parameters": params, "epochs_planned": s.epochs, "initial_epoch": 0, "epochs_done": 0,
            "test": None, "duration_s": 0.0, "checkpoint": str(trainer.checkpoint_dir) if trainer.checkpoint_dir else None,
            "resumed_from": self.resumed_from, "final_model": None, "best_model": None, "best_epoch": None,
            "best_val_accuracy": None,
            "health": [], "warnings": [], "tensorboard": TENSORBOARD_DIR if self.tensorboard else None,
            "sweep": self.sweep,
        }
        self.save()
        self._publish = RecordingChannel(channel, self)
        return self._publish

    def keras_callbacks(self, trainer: Trainer, state: Any, steps: int, epochs: int) -> list[Any]:
        """The Keras callbacks that feed this record (imports Keras): batch points, TensorBoard, health, best model."""
        from .keras_hooks import RunCallback

        self.batch_every = batch_stride(steps * epochs)
        callbacks: list[Any] = []
        if self.monitor is not None:
            from ..health.probes import HealthCallback
            from ..pipeline import normalize

            n = min(PROBE_BATCH, len(trainer.dataset.x_train))
            callbacks.append(HealthCallback(trainer.network, normalize(trainer.dataset.x_train[:n]),
                                            trainer.dataset.y_train[:n].astype("int64"), self.record_probe,
                                            state.epoch_complete))
        assert self.folder is not None
        tb = self.folder / TENSORBOARD_DIR if self.tensorboard else None
        callbacks.append(RunCallback(self, state, trainer.network, tb, self.batch_every))
        return callbacks

    # ----------------------------------------------------------------- events (training thread)

    def observe(self, event: Any) -> list[HealthWarning]:
        """Record one trainer event; returns the health warnings it raised."""
        warnings = self.monitor.observe(event) if self.monitor is not None else []
        self.record["health"] += [w.to_dict() for w in warnings]
        if isinstance(event, TrainStarted):
            self._started = time.perf_counter()
            self.record.update(device=event.device, initial_epoch=event.initial_epoch,
                               epochs_done=event.initial_epoch, epochs_planned=event.epochs - event.initial_epoch)
            self.save()
        elif isinstance(event, EpochEnd):
            self.epochs.append({"epoch": event.epoch, "seconds": event.seconds, **event.metrics})
            self.record["epochs_done"] = event.epoch + 1
            self._note_best_val_accuracy(event.metrics.get("val_accuracy"))
        elif isinstance(event, TrainWarning):
            self.record["warnings"].append(event.message)
        elif isinstance(event, TrainFinished):
            self._finish(event)
        return warnings

    def _note_best_val_accuracy(self, value: Any) -> None:
        """Keep the highest validation accuracy so far in the record (the runs list shows it)."""
        if isinstance(value, (int, float)) and math.isfinite(value):
            best = self.record.get("best_val_accuracy")
            self.record["best_val_accuracy"] = float(value) if best is None else max(best, float(value))

    def record_batch(self, epoch: int, step: int, global_step: int, loss: float, accuracy: float) -> None:
        self.batches.append([epoch, step, global_step, loss, accuracy])

    def record_probe(self, probe: HealthProbe) -> None:
        """Keep one epoch's health probe and publish it with any warnings it raises."""
        if self.monitor is None:
            return
        warnings = self.monitor.observe_probe(probe)
        self.record["health"] += [w.to_dict() for w in warnings]
        if self._publish is not None:
            self._publish.inner.put(probe)
            for warning in warnings:
                self._publish.inner.put(warning)

    def epoch_done(self, epoch: int, model: keras.Model) -> None:
        """After a completed epoch: keep the best model so far, then rewrite the record."""
        last = self.epochs[-1] if self.epochs else {}
        key = "val_loss" if "val_loss" in last else "loss"
        value = last.get(key)
        if value is not None and math.isfinite(value) and (self.best_value is None or value < self.best_value):
            try:
                self._keep_model(BEST_MODEL, model, epoch + 1)
                self.best_value = value
                self.record.update(best_model=BEST_MODEL, best_epoch=epoch + 1, best_metric=key)
            except OSError as exc:
                self.record["warnings"].append(f"Could not write the best model: {exc.strerror or exc}")
        self.save()

    # ----------------------------------------------------------------- writing

    def _checkpoint_model(self, epoch: int) -> Path | None:
        """The checkpoint's model file when the checkpoint is of ``epoch`` completed epochs."""
        from ..checkpoint import CheckpointError, find_checkpoint

        folder = self.trainer.checkpoint_dir if self.trainer is not None else None
        if folder is None:
            return None
        try:
            checkpoint = find_checkpoint(folder)
        except CheckpointError:
            return None
        return checkpoint.model_path if checkpoint.state.get("epoch") == epoch else None

    def _keep_model(self, name: str, model: keras.Model, epoch: int | None) -> None:
        """Write ``name`` in the run folder: a hard link to the checkpoint of ``epoch`` when there is one, else a save."""
        assert self.folder is not None
        source = self._checkpoint_model(epoch) if epoch is not None else None
        if source is not None:
            def link(tmp: str) -> None:
                try:
                    os.link(source, tmp)
                except OSError:
                    import shutil

                    shutil.copyfile(source, tmp)

            atomic_write_with(self.folder / name, link, suffix=".keras")
        else:
            atomic_write_with(self.folder / name, lambda tmp: model.save(tmp), suffix=".keras")

    def _finish(self, finished: TrainFinished) -> None:
        r = self.record
        r.update(status=finished.status, message=finished.message, diagnosis=finished.diagnosis,
                 epochs_done=finished.epochs_done, duration_s=round(time.perf_counter() - self._started, 3)
                 if self._started else 0.0)
        if finished.test_accuracy is not None:
            r["test"] = {"loss": _finite_or_none(finished.test_loss), "accuracy": finished.test_accuracy}
        model = self.trainer.model if self.trainer is not None else None
        if model is not None and finished.status in ("completed", "early_stopped", "stopped"):
            restored = finished.status != "completed"  # early stopping may restore the best weights
            try:
                self._keep_model(FINAL_MODEL, model, None if restored else finished.epochs_done)
                r["final_model"] = FINAL_MODEL
            except OSError as exc:
                r["warnings"].append(f"Could not write the final model: {exc.strerror or exc}")
        try:
            self.save()
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(str(self.folder.resolve()) if self.folder else "")

    def save(self) -> None:
        """Rewrite ``run.json`` and ``metrics.json`` atomically; a failed write (a full disk) is noted, not raised."""
        if self.folder is None:
            return
        self.record["updated"] = _now_iso()
        if self._started and self.record["status"] == "running":
            self.record["duration_s"] = round(time.perf_counter() - self._started, 3)
        probes = [p.to_dict() for p in self.monitor.probes] if self.monitor is not None else []
        metrics = {"format": METRICS_FORMAT, "batch_every": self.batch_every, "batches": self.batches,
                   "epochs": self.epochs, "probes": probes}
        try:
            atomic_write_text(self.folder / METRICS_FILE, json.dumps(metrics, allow_nan=True) + "\n")
            atomic_write_text(self.folder / RUN_FILE, json.dumps(self.record, indent=1, allow_nan=True) + "\n")
        except OSError:
            pass
