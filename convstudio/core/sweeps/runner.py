"""Running a sweep: KerasTuner picks the trials, the app's trainer runs each one as a recorded run.

:func:`run_sweep` is a plain function with a cancel/progress handle (a :class:`SweepTask`, such as the
UI worker's ``TaskState``); it publishes :class:`TrialStarted`, :class:`TrialProgress` (the trainer's
``TrainStarted``, ``BatchEnd`` and ``EpochEnd``) and :class:`TrialEnded`. Cancelling stops the running
trial after its current batch and asks for no further trial.

KerasTuner's working files go to ``<runs>/sweeps/<name>/`` (one subfolder per tuner), beside
``sweep.json``, the sweep's spec and results table. The runs themselves are ordinary runs of the project.

Distributed, as KerasTuner does it: with ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and
``KERASTUNER_TUNER_ID`` set, the process whose id contains ``chief`` serves the oracle and trains
nothing; every other process is a worker that asks it for trials. All of them run the same sweep
(same project, same axes, same ``name``).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..atomic import atomic_write_text
from ..datasets import Dataset
from ..network import Network
from ..runs import load_run
from ..settings import TrainSettings
from ..training_events import BatchEnd, EpochEnd, EventChannel, TrainStarted
from .results import TrialRow, best_row, row_from_run, sweep_rows
from .spec import SweepError, SweepSpec, apply_trial, validate_spec

__all__ = ["SWEEPS_DIR", "SWEEP_FILE", "SweepCancelled", "SweepJob", "SweepResult", "SweepTask", "TrialEnded",
           "TrialProgress", "TrialRunner", "TrialStarted", "distributed_role", "run_sweep", "sweep_folder"]

SWEEPS_DIR = "sweeps"
SWEEP_FILE = "sweep.json"
SWEEP_FORMAT = "convstudio-sweep"
ENV_IP, ENV_PORT, ENV_ID = "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"


class SweepCancelled(Exception):
    """The sweep was cancelled between two trials."""


class SweepTask(Protocol):
    """What a sweep needs from its caller: whether to stop, and where progress goes."""

    @property
    def cancelled(self) -> bool: ...

    def report(self, item: Any) -> None: ...


class _NoTask:
    cancelled = False

    def report(self, item: Any) -> None:
        pass


@dataclass(frozen=True)
class TrialStarted:
    """Trial ``number`` of ``total`` (1-based) begins with ``values``."""

    trial: str
    number: int
    total: int
    values: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class TrialProgress:
    """A trainer event (``TrainStarted``, ``BatchEnd`` or ``EpochEnd``) of a running trial."""

    trial: str
    event: Any


@dataclass(frozen=True)
class TrialEnded:
    """A trial ended; ``done`` trials of ``total`` have ended in this process."""

    row: TrialRow
    done: int
    total: int


@dataclass
class SweepJob:
    """Everything a sweep trains with: the spec, the network and settings the trials start from, the data,
    the project's runs folder (``title`` and ``origin`` go into each run's record) and the sweep's
    ``name`` ("" for a new one; a distributed sweep needs the same name in every process)."""

    spec: SweepSpec
    network: Network
    settings: TrainSettings
    dataset: Dataset
    runs_root: Path
    title: str = ""
    origin: str = "cli"
    name: str = ""


@dataclass(frozen=True)
class SweepResult:
    """A finished (or cancelled) sweep: its name and folder, the rows of its trials, this process's role
    (``local``, ``chief`` or ``worker``) and the name of the score (``val_accuracy`` or ``accuracy``)."""

    name: str
    folder: Path
    spec: SweepSpec
    rows: tuple[TrialRow, ...]
    role: str = "local"
    cancelled: bool = False
    score_name: str = "val_accuracy"

    @property
    def best(self) -> TrialRow | None:
        return best_row(self.rows)


def distributed_role(env: Mapping[str, str] | None = None) -> str | None:
    """``"chief"`` or ``"worker"`` from KerasTuner's environment variables, None when they are not set."""
    env = os.environ if env is None else env
    if not env.get(ENV_IP):
        return None
    missing = [name for name in (ENV_PORT, ENV_ID) if not env.get(name)]
    if missing:
        raise SweepError(f"{ENV_IP} is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not; "
                         f"a distributed sweep needs all three ({ENV_ID}=chief on the chief)")
    return "chief" if "chief" in env[ENV_ID] else "worker"


def sweep_folder(runs_root: str | os.PathLike[str], name: str) -> Path:
    """The folder the app owns for sweep ``name``: ``<runs>/sweeps/<name>``."""
    return Path(runs_root) / SWEEPS_DIR / name


def _new_name() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _plain(value: Any) -> Any:
    """A value as plain JSON-able Python (KerasTuner may hand back numpy scalars)."""
    return value.item() if hasattr(value, "item") else value


class _TrialChannel(EventChannel):
    """Passes a trial's trainer events on as :class:`TrialProgress` and stops the trainer once cancelled."""

    def __init__(self, task: SweepTask, trial: str) -> None:
        super().__init__()
        self.task, self.trial = task, trial
        self.trainer: Any = None

    def put(self, event: Any) -> None:
        if self.task.cancelled and self.trainer is not None:
            self.trainer.stop()
        if isinstance(event, TrainStarted | BatchEnd | EpochEnd):
            self.task.report(TrialProgress(self.trial, event))


class TrialRunner:
    """Trains one trial with the app's :class:`~convstudio.core.training.Trainer`, recorded as a run."""

    cancelled_error = SweepCancelled

    def __init__(self, job: SweepJob, spec: SweepSpec, name: str, task: SweepTask) -> None:
        self.job, self.spec, self.name, self.task = job, spec, name, task
        self.rows: list[TrialRow] = []

    def cancelled(self) -> bool:
        return self.task.cancelled

    def run(self, trial: str, values: Mapping[str, Any], tuner: str) -> TrialRow:
        """Train trial ``trial`` with ``values``; its row (an ``error`` row when the values cannot be applied)."""
        from ..runs import RunRecorder
        from ..training import Trainer

        values = {k: _plain(v) for k, v in values.items()}
        pairs = tuple((t, values.get(t)) for t in self.spec.targets)
        number = int(trial) + 1 if trial.isdigit() else len(self.rows) + 1
        self.task.report(TrialStarted(trial, number, self.spec.planned_trials, pairs))
        try:
            network, settings = apply_trial(self.job.network, self.job.settings, values)
        except SweepError as exc:
            row = TrialRow(trial, pairs, "error", None, tuner=tuner, message=str(exc))
        else:
            job = self.job
            recorder = RunRecorder(job.runs_root, title=job.title, origin=job.origin,
                                   sweep={"name": self.name, "trial": trial, "values": values, "tuner": tuner})
            channel = _TrialChannel(self.task, trial)
            trainer = channel.trainer = Trainer(network, job.dataset, settings, channel, recorder=recorder)
            if self.task.cancelled:
                trainer.stop()
            trainer.run()  # never raises; how the run ended is in its record
            assert recorder.folder is not None
            row = row_from_run(load_run(recorder.folder))
        self.rows.append(row)
        self.task.report(TrialEnded(row, len(self.rows), self.spec.planned_trials))
        return row


def _score_name(settings: TrainSettings) -> str:
    return "val_accuracy" if settings.validation_split > 0 else "accuracy"


def _write_sweep_file(folder: Path, name: str, spec: SweepSpec, job: SweepJob, status: str,
                      rows: list[TrialRow]) -> None:
    data = {"format": SWEEP_FORMAT, "version": 1, "name": name, "status": status, "title": job.title,
            "dataset": job.dataset.name, "spec": spec.to_dict(), "settings": job.settings.to_dict(),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "trials": [{**r.__dict__, "values": dict(r.values)} for r in rows]}
    try:
        atomic_write_text(folder / SWEEP_FILE, json.dumps(data, indent=1, allow_nan=True) + "\n")
    except OSError:
        pass  # the runs hold the results; this file only sums them up


@dataclass(frozen=True)
class _Setup:
    role: str | None
    spec: SweepSpec
    name: str
    folder: Path


def _prepare(job: SweepJob, distributed: bool) -> _Setup:
    role = distributed_role()
    if role and not distributed:
        raise SweepError(f"{ENV_IP} is set: this sweep runs on this machine only; run distributed sweeps with "
                         "convstudio-cli sweep")
    spec = validate_spec(job.spec, job.network, job.settings, job.dataset.input_shape, job.dataset.num_classes)
    if role and not job.name:
        raise SweepError("a distributed sweep needs a name, the same on the chief and on every worker")
    name = job.name or _new_name()
    if any(c in name for c in "/\\") or name in (".", "..") or name.startswith("."):
        raise SweepError(f"{name!r} cannot name a sweep; use letters, digits, - and _")
    folder = sweep_folder(job.runs_root, name)
    if role != "worker" and (folder / SWEEP_FILE).exists():
        raise SweepError(f"there is already a sweep named {name} in {folder.parent}; choose another name")
    folder.mkdir(parents=True, exist_ok=True)
    return _Setup(role, spec, name, folder)


def _chief_rows(job: SweepJob, spec: SweepSpec, name: str, oracle: Any) -> list[TrialRow]:
    """The rows of the runs recorded here, then the oracle's word on trials whose runs are on other machines."""
    rows = sweep_rows(job.runs_root, name)
    here = {r.trial for r in rows}
    for trial_id, trial in sorted(oracle.trials.items()):
        if trial_id not in here:
            values = tuple((t, _plain(trial.hyperparameters.values.get(t))) for t in spec.targets)
            rows.append(TrialRow(trial_id, values, str(trial.status).lower(), trial.score,
                                 message="recorded on the worker that ran it"))
    return sorted(rows, key=lambda r: (r.number, r.trial))


def run_sweep(job: SweepJob, task: SweepTask | None = None, workers: int = 1, distributed: bool = True) -> SweepResult:
    """Run the sweep ``job`` describes; returns its rows (a worker's: the trials it ran).

    Raises :class:`SweepError` for a spec that does not fit the network, a name already used, or an
    incomplete distributed set-up; a failed trial is a row (outcome ``error``), not an exception.
    A chief waits until ``workers`` workers have asked for a trial before handing out the first; with
    ``distributed`` False, KerasTuner's environment variables are refused instead of followed.
    """
    from .tuner import SweepHyperModel, SweepTuner, make_oracle, serve_oracle

    task = task or _NoTask()
    setup = _prepare(job, distributed)
    spec, name, folder = setup.spec, setup.name, setup.folder
    if setup.role != "worker":
        _write_sweep_file(folder, name, spec, job, "running", [])
    runner = TrialRunner(job, spec, name, task)
    hypermodel = SweepHyperModel(spec, job.network, job.settings, job.dataset.input_shape, job.dataset.num_classes)
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0") if setup.role else "tuner0"
    tuner = SweepTuner(runner, make_oracle(spec, _score_name(job.settings), workers), hypermodel,
                       directory=str(folder), project_name=tuner_id, tuner_id=tuner_id, overwrite=False)
    tuner.oracle.verbose = 0  # the app reports the trials itself
    cancelled = False
    try:
        if setup.role == "chief":
            serve_oracle(tuner, lambda: task.cancelled)
        else:
            tuner.search(verbose=0)
    except SweepCancelled:
        cancelled = True
    cancelled = cancelled or task.cancelled
    rows = runner.rows if setup.role != "chief" else _chief_rows(job, spec, name, tuner.oracle)
    if setup.role != "worker":
        _write_sweep_file(folder, name, spec, job, "cancelled" if cancelled else "finished", rows)
    return SweepResult(name, folder, spec, tuple(rows), setup.role or "local", cancelled, _score_name(job.settings))
