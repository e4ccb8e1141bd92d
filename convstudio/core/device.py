"""Where TensorFlow runs: GPU names or the CPU thread count, and the thread-pool settings."""

from __future__ import annotations

import os

__all__ = ["configure_threads", "describe_device", "gpu_names"]


def gpu_names() -> list[str]:
    """Names of the GPUs TensorFlow can use (empty on a CPU-only machine)."""
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(gpu)
        except Exception:  # noqa: BLE001 - details are optional, the device itself is enough
            details = {}
        names.append(details.get("device_name") or gpu.name)
    return names


def describe_device() -> str:
    """``"GPU: NVIDIA H100"`` (names joined by commas) or ``"CPU (n threads)"``."""
    names = gpu_names()
    if names:
        return "GPU: " + ", ".join(names)
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


def configure_threads(inter: int | None = None, intra: int | None = None) -> bool:
    """Set TensorFlow's inter- and intra-op thread pools (0 or None = TensorFlow decides).

    Returns False when TensorFlow has already started and the pools can no longer change.
    """
    import tensorflow as tf

    try:
        if inter is not None:
            tf.config.threading.set_inter_op_parallelism_threads(int(inter))
        if intra is not None:
            tf.config.threading.set_intra_op_parallelism_threads(int(intra))
    except RuntimeError:
        return False
    return True
