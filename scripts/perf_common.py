"""Shared pieces of the benchmark scripts: data, the LeNet-5 preset, thread pools, tables, machine line.

Benchmarks compare variants side by side in one process, interleaving repetitions and alternating
which goes first, because this kind of machine is shared and its speed drifts; ratios are the result,
absolute times only indicate.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = "/work/shared/datasets"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CONVSTUDIO_OFFLINE", "1")  # benchmarks never download
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_mnist(limit: int | None = None, test_limit: int | None = None, data_dir: str | None = None) -> Any:
    """Full MNIST (``$CONVSTUDIO_DATA_DIR``, default /work/shared/datasets), or its first ``limit`` images."""
    from convstudio.core.datasets import Dataset, load_dataset

    folder = data_dir or os.environ.get("CONVSTUDIO_DATA_DIR") or DEFAULT_DATA_DIR
    ds = load_dataset("mnist", folder, allow_sample=False, allow_download=False)
    n, m = limit or len(ds.x_train), len(ds.x_test) if test_limit is None else test_limit
    return Dataset(ds.name, ds.x_train[:n], ds.y_train[:n], ds.x_test[:m], ds.y_test[:m], ds.class_names,
                   source=f"{ds.source} (first {n:,} training, {m:,} test images)", is_sample=ds.is_sample)


def lenet5() -> Any:
    """The bundled LeNet-5 preset (network and settings)."""
    from convstudio.core.presets import load_preset

    return load_preset("lenet5")


def app_threads() -> tuple[int, int]:
    """The (inter, intra) TensorFlow pools the desktop app uses (:func:`convstudio.core.device.threads_for`)."""
    from convstudio.core.device import threads_for, usable_cores

    return threads_for(usable_cores())


def set_threads(spec: str) -> str:
    """Apply ``"app"``, ``"default"`` or ``"inter,intra"``; returns what was set, in words."""
    from convstudio.core.device import configure_threads

    if spec == "default":
        return "TensorFlow default thread pools"
    inter, intra = app_threads() if spec == "app" else (int(v) for v in spec.split(","))
    configure_threads(inter=inter, intra=intra)
    return f"TensorFlow threads inter={inter}, intra={intra}" + (" (as the app sets them)" if spec == "app" else "")


def machine_line() -> str:
    """Cores, load, Python, TensorFlow and Keras versions, and GPUs."""
    import keras
    import tensorflow as tf

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpus = tf.config.list_physical_devices("GPU")
    return (f"{os.cpu_count()} CPU cores, load {load:.1f}, {len(gpus)} GPU(s); Python {platform.python_version()}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}")


def epoch_timer() -> Any:
    """A Keras callback that records each epoch's wall time in ``.seconds``."""
    import time

    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.t0)

    return EpochTimer()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table (first column left, others right)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux /proc; falls back to ru_maxrss)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
