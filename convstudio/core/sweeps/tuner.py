"""The KerasTuner side of a sweep (imports KerasTuner, hence Keras): hypermodel, oracles, tuner, chief.

- :class:`SweepHyperModel` declares one ``Choice`` per axis and builds a trial's network with the app's
  builder.
- The oracles are KerasTuner's :class:`~keras_tuner.oracles.GridSearchOracle` and
  :class:`~keras_tuner.oracles.RandomSearchOracle`; a chief's oracle hands out no trial until the
  number of workers it was told to expect have asked for one.
- :class:`SweepTuner` is a ``keras_tuner.Tuner`` whose ``run_trial`` trains through the app's
  :class:`~convstudio.core.training.Trainer` (via :class:`~.runner.TrialRunner`), so every trial is a
  recorded run; it checks for cancellation before asking for each trial.
- :func:`serve_oracle` is KerasTuner's chief (its own ``OracleServicer`` over gRPC), checking for the end
  of the search every 0.2 s instead of every 20 s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any

import keras_tuner as kt

from ..builder import build_model
from .spec import SweepSpec, apply_trial

__all__ = ["SweepHyperModel", "SweepTuner", "make_oracle", "serve_oracle"]

IDLE_WAIT_S = 0.25
"""How long a tuner waits before asking again when the oracle had no trial for it."""
CHIEF_POLL_S = 0.2


class SweepHyperModel(kt.HyperModel):
    """One ``hp.Choice`` per axis (named by its target); ``build`` makes the trial's Keras model."""

    def __init__(self, spec: SweepSpec, network: Any, settings: Any, input_shape: Any, num_classes: int) -> None:
        super().__init__(name="convstudio_sweep")
        self.spec, self.network, self.settings = spec, network, settings
        self.input_shape, self.num_classes = input_shape, num_classes

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> None:
        for axis in self.spec.axes:
            hp.Choice(axis.target, list(axis.values))

    def trial_inputs(self, hp: kt.HyperParameters) -> tuple[Any, Any]:
        """The trial's network and training settings."""
        self.declare_hyperparameters(hp)
        return apply_trial(self.network, self.settings, {t: hp.get(t) for t in self.spec.targets})

    def build(self, hp: kt.HyperParameters) -> Any:
        return build_model(self.trial_inputs(hp)[0], self.input_shape, self.num_classes)


class _WaitForWorkers:
    """Creates no trial until ``workers`` distinct tuners have asked (the others wait, then ask again)."""

    workers = 1

    def create_trial(self, tuner_id: str) -> Any:
        asked = self.__dict__.setdefault("_asked", set())
        asked.add(tuner_id)
        if len(asked) < self.workers:
            return kt.engine.trial.Trial(self.get_space(), trial_id="waiting",
                                         status=kt.engine.trial.TrialStatus.IDLE)
        return super().create_trial(tuner_id)


class _GridOracle(_WaitForWorkers, kt.oracles.GridSearchOracle):
    pass


class _RandomOracle(_WaitForWorkers, kt.oracles.RandomSearchOracle):
    pass


def make_oracle(spec: SweepSpec, objective: str, workers: int = 1) -> kt.Oracle:
    """KerasTuner's grid or random oracle for ``spec``, maximizing ``objective``; a failed trial is a row, not
    the end of the sweep."""
    oracle_class = _GridOracle if spec.mode == "grid" else _RandomOracle
    # KerasTuner reads a seed of 0 as "no seed": shift by one so every seed is reproducible.
    oracle = oracle_class(objective=kt.Objective(objective, "max"), max_trials=spec.planned_trials,
                          seed=spec.seed + 1, max_consecutive_failed_trials=spec.planned_trials + 1)
    oracle.workers = max(1, int(workers))
    return oracle


class SweepTuner(kt.Tuner):
    """Runs each trial with ``runner`` (a :class:`~.runner.TrialRunner`): the app's trainer, recorded as a run.

    Before asking for a trial it raises ``runner.cancelled_error`` once the sweep is cancelled, and it
    waits a moment after the oracle had none for it (KerasTuner's search loop asks again at once).
    """

    def __init__(self, runner: Any, oracle: kt.Oracle, hypermodel: SweepHyperModel, **kwargs: Any) -> None:
        self.runner = runner
        self._asked = self._began = False
        super().__init__(oracle, hypermodel, **kwargs)

    def pre_create_trial(self) -> None:
        if self.runner.cancelled():
            raise self.runner.cancelled_error()
        if self._asked and not self._began:
            time.sleep(IDLE_WAIT_S)
        self._asked, self._began = True, False

    def on_trial_begin(self, trial: Any) -> None:
        self._began = True

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        row = self.runner.run(trial.trial_id, dict(trial.hyperparameters.values), self.tuner_id)
        if row.score is None:
            raise kt.errors.FailedTrialError(row.message or row.outcome)
        return {self.oracle.objective.name: row.score}


def serve_oracle(tuner: SweepTuner, cancelled: Callable[[], bool], poll_s: float = CHIEF_POLL_S) -> None:
    """Serve ``tuner``'s oracle to the workers (KerasTuner's chief) until every trial has ended and every
    worker has been told to stop, or until ``cancelled()``.

    Listens on ``KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT`` as KerasTuner's own chief does.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    tuner.save()
    servicer = oracle_chief.OracleServicer(tuner.oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"cannot listen on {address} (is the port in use?)")
    server.start()
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(tuner.oracle)):
            if cancelled():
                break
            time.sleep(poll_s)
    finally:
        server.stop(grace=1.0).wait()
