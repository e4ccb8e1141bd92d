"""Where TensorFlow runs: GPU names or the CPU thread count, and the thread-pool settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["SpeedOptions", "configure_threads", "describe_device", "gpu_compute_capabilities", "gpu_names",
           "speed_options", "threads_for", "usable_cores"]

MIN_FAST_CAPABILITY = (7, 0)
"""GPUs from Volta on have tensor cores: float16 compute and XLA pay off there."""


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
    """``"GPU: NVIDIA H100"`` (names joined by commas) or ``"CPU (n threads)"``.

    On the CPU, a TensorFlow built for CUDA adds why no GPU is used (TensorFlow's own message
    about it is hidden with the rest of its log), e.g. ``"CPU (8 threads; no GPU found)"``.
    """
    names = gpu_names()
    if names:
        return "GPU: " + ", ".join(names)
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1
    why = _no_gpu_reason(tf)
    return f"CPU ({threads} thread{'s' if threads != 1 else ''}{'; ' + why if why else ''})"


def _no_gpu_reason(tf: Any) -> str:
    """Why a CUDA build of TensorFlow sees no GPU, in words; ``""`` for a CPU-only build."""
    try:
        built_for_cuda = bool(tf.test.is_built_with_cuda())
    except Exception:  # noqa: BLE001 - an unknown build says nothing extra
        return ""
    if not built_for_cuda:
        return ""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "GPUs hidden by CUDA_VISIBLE_DEVICES"
    return "no GPU found"


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


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the system has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def threads_for(cores: int) -> tuple[int, int]:
    """TensorFlow's (inter, intra) op threads for training beside an event loop on ``cores`` cores.

    Every core computes (intra = cores), as in plain Keras: the event loop sleeps between its ticks
    and the system wakes it promptly, so its 10 ms timer stayed under 4 ms late at p99 with every
    setting measured, and a core kept free for it would be lost to training (on 2 cores, one intra
    thread reached only 0.94 of plain Keras). With two cores or more, two inter-op threads, so the
    input pipeline's ops and the training step's need not queue behind each other (as fast as
    TensorFlow's default within the measurements' spread, and bounded where the default takes one per
    core); on one core a second inter-op thread only competes (0.97 against 1.00 to 1.04). Measured on
    1 and 2 cores with ``scripts/bench_threads.py`` (docs/PERFORMANCE.md, section 11).
    """
    cores = max(1, int(cores))
    return (1 if cores == 1 else 2), cores


def gpu_compute_capabilities() -> list[tuple[int, int]]:
    """CUDA compute capability of each visible GPU ((0, 0) where TensorFlow does not say)."""
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        except Exception:  # noqa: BLE001 - unknown details count as an old GPU
            capability = None
        found.append(tuple(capability) if capability else (0, 0))
    return found


@dataclass(frozen=True)
class SpeedOptions:
    """XLA and mixed precision as resolved for this machine, with the reason in words."""

    jit_compile: bool
    mixed_precision: bool
    reason: str


def speed_options(settings: Any, capabilities: list[tuple[int, int]] | None = None) -> SpeedOptions:
    """Resolve ``settings.jit_compile`` and ``settings.mixed_precision`` ("auto", "on", "off").

    "auto" is on when every visible GPU has compute capability 7.0 or newer, off otherwise (on a CPU
    both measured slower). ``capabilities`` defaults to :func:`gpu_compute_capabilities`.
    """
    caps = gpu_compute_capabilities() if capabilities is None else list(capabilities)
    fast = bool(caps) and all(c >= MIN_FAST_CAPABILITY for c in caps)

    def pick(value: str) -> bool:
        return fast if value == "auto" else value == "on"

    jit, mixed = pick(settings.jit_compile), pick(settings.mixed_precision)
    reason = f"XLA {'on' if jit else 'off'}, mixed precision {'on' if mixed else 'off'}"
    if fast:  # on a CPU the device line already says so
        reason += " (GPU compute capability " + ", ".join(f"{a}.{b}" for a, b in caps) + ")"
    elif caps:
        reason += " (GPU older than compute capability 7.0)"
    return SpeedOptions(jit, mixed, reason)
