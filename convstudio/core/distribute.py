"""Training beyond one device: which ``tf.distribute`` strategy a run uses, and how it joins a cluster.

:func:`choose_strategy` picks, from ``settings.distribution`` and the machine:

- ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` describes a cluster (``"auto"``), or always with
  ``"multi_worker"`` (which then requires ``TF_CONFIG``): every worker runs the same training on its
  shard of each global batch and the gradients are all-reduced, so all workers end with the same
  weights;
- ``MirroredStrategy`` when more than one GPU is visible;
- TensorFlow's default strategy otherwise (one device, no overhead).

The trainer builds and compiles its model inside ``strategy.scope()``; ``settings.batch_size`` is
the global batch, split over the replicas. :func:`prepare_model` works around two Keras 3 defects
that stop ``model.fit`` under a multi-worker strategy (keras-team/keras#20585).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["DistributionError", "cluster_from_env", "choose_strategy", "is_chief", "prepare_model",
           "strategy_name"]

TF_CONFIG = "TF_CONFIG"
_MULTI_WORKER: Any = None  # TensorFlow allows one multi-worker strategy per process


class DistributionError(RuntimeError):
    """The cluster description cannot be used; the message says why."""


def cluster_from_env(environ: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The parsed ``TF_CONFIG`` (``{"cluster": {"worker": [...]}, "task": {...}}``), or None when unset.

    Raises :class:`DistributionError` for a value that is not a usable cluster description.
    """
    raw = (os.environ if environ is None else environ).get(TF_CONFIG, "").strip()
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DistributionError(f"{TF_CONFIG} is not valid JSON: {exc}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    _check_cluster(cluster)
    _check_task(task, cluster)
    return config


def _check_cluster(cluster: Any) -> None:
    """A non-empty mapping of job names to lists of "host:port" strings."""
    if not isinstance(cluster, dict) or not cluster or not all(
            isinstance(v, list) and v and all(isinstance(a, str) for a in v) for v in cluster.values()):
        raise DistributionError(f"{TF_CONFIG} needs a \"cluster\" mapping job names to lists of "
                                "\"host:port\" addresses, e.g. {\"worker\": [\"10.0.0.1:2222\", \"10.0.0.2:2222\"]}")


def _check_task(task: Any, cluster: dict[str, list[str]]) -> None:
    """This process's ``{"type": ..., "index": ...}``, naming a member of ``cluster``."""
    if not isinstance(task, dict) or not isinstance(task.get("type"), str) or not isinstance(task.get("index"), int):
        raise DistributionError(f"{TF_CONFIG} needs a \"task\" with this process's \"type\" (e.g. \"worker\") "
                                "and \"index\" in the cluster")
    members = cluster.get(task["type"])
    if members is None or not 0 <= task["index"] < len(members):
        raise DistributionError(f"{TF_CONFIG}'s task {task['type']} #{task['index']} is not in its cluster")


def is_chief(environ: dict[str, str] | None = None) -> bool:
    """True for a single process, and for the cluster's chief (or worker 0 when there is no chief)."""
    config = cluster_from_env(environ)
    if config is None:
        return True
    task = config["task"]
    if "chief" in config["cluster"]:
        return task["type"] == "chief"
    return task["type"] == "worker" and task["index"] == 0


def choose_strategy(settings: Any = None) -> tf.distribute.Strategy:
    """The strategy for a run with these settings (see the module docstring for the rules).

    Call it before TensorFlow has run anything else in a multi-worker process: the collective
    runtime can only be set up before the first operation. Raises :class:`DistributionError` when
    ``distribution`` is "multi_worker" and ``TF_CONFIG`` is missing or unusable.
    """
    global _MULTI_WORKER
    import tensorflow as tf

    mode = getattr(settings, "distribution", "auto") if settings is not None else "auto"
    if mode == "off":
        return tf.distribute.get_strategy()
    config = cluster_from_env()
    if mode == "multi_worker" and config is None:
        raise DistributionError(f"multi-worker training needs {TF_CONFIG} to describe the cluster, e.g. "
                                f"{TF_CONFIG}='{{\"cluster\": {{\"worker\": [\"host1:2222\", \"host2:2222\"]}}, "
                                "\"task\": {\"type\": \"worker\", \"index\": 0}}'")
    if config is not None:
        if _MULTI_WORKER is None:
            try:
                _MULTI_WORKER = tf.distribute.MultiWorkerMirroredStrategy()
            except (RuntimeError, ValueError) as exc:
                raise DistributionError(f"could not join the cluster in {TF_CONFIG}: {exc}") from None
        return _MULTI_WORKER
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def strategy_name(strategy: Any) -> str:
    """A short description: "one device", "2 GPUs mirrored", "2 workers x 1 replica"."""
    name = type(strategy).__name__
    replicas = int(getattr(strategy, "num_replicas_in_sync", 1))
    if "MultiWorker" in name or "CollectiveAllReduce" in name:
        config = cluster_from_env() or {"cluster": {}}
        workers = sum(len(v) for v in config["cluster"].values()) or 1
        return f"{workers} workers, {replicas} replicas in all"
    if "Mirrored" in name:
        return f"{replicas} devices mirrored"
    return "one device"


def _is_multi_worker(strategy: Any) -> bool:
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def prepare_model(model: Any, strategy: Any, element_spec: Any) -> None:
    """Let ``model.fit``/``evaluate`` run under a multi-worker ``strategy`` (no-op otherwise).

    Keras 3 (checked with 3.15) builds a distributed model's metrics from a batch it first averages
    over the workers, which fails for a tuple of per-replica tensors, and averages scalar metrics
    over a batch axis they do not have. The model is built from ``element_spec`` instead, and scalar
    results are averaged over the replicas.
    """
    if not _is_multi_worker(strategy):
        return

    def build(iterator: Any = None, data_batch: Any = None) -> None:
        with strategy.scope():
            model._symbolic_build(data_batch=element_spec)

    model._maybe_symbolic_build = build
    _patch_reduce_per_replica()


def _patch_reduce_per_replica() -> None:
    from keras.src.backend.tensorflow import trainer as keras_trainer

    original = keras_trainer.reduce_per_replica
    if getattr(original, "_convstudio_fixed", False):
        return

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction in ("auto", "mean") and _is_multi_worker(strategy):
            def mean(value: Any) -> Any:
                rank = strategy.experimental_local_results(value)[0].shape.rank
                return strategy.reduce("MEAN", value, axis=0 if rank else None)

            return keras_trainer.tree.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica._convstudio_fixed = True  # type: ignore[attr-defined]
    keras_trainer.reduce_per_replica = reduce_per_replica
