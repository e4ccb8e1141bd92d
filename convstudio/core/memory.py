"""How much memory training a network will take, estimated from the shape analysis alone.

:func:`estimate_training_memory` adds up weights, gradients and optimizer slots (fixed, whatever
the batch) and the activations of one batch (kept for the backward pass, plus their gradients).
:func:`memory_problem` compares that with what the machine has (:func:`available_memory`: free RAM,
or free GPU memory when training on a GPU) and says what to change: a smaller batch when only the
activations do not fit, a smaller network (naming the blocks that hold most parameters) when the
weights alone do not. Nothing here imports TensorFlow or allocates anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from .blocks import FLOAT_BYTES

__all__ = ["MemoryEstimate", "available_memory", "estimate_training_memory", "format_bytes", "memory_problem"]

_ACTIVATION_COPIES = 2  # the outputs kept for the backward pass, and their gradients
_GPU_QUERY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes training needs. ``fixed_bytes`` do not depend on the batch; ``batch_bytes`` are per batch."""

    params: int
    weight_bytes: int
    state_bytes: int  # gradients and optimizer slots
    activation_bytes_per_image: int
    batch_size: int
    largest_blocks: tuple[tuple[str, int], ...]  # (block id, parameters), most first

    @property
    def fixed_bytes(self) -> int:
        return self.weight_bytes + self.state_bytes

    @property
    def batch_bytes(self) -> int:
        return self.activation_bytes_per_image * self.batch_size

    @property
    def total_bytes(self) -> int:
        return self.fixed_bytes + self.batch_bytes

    def largest_batch_within(self, available: int) -> int:
        """The largest batch size whose estimate fits in ``available`` bytes (0: none does)."""
        room = available - self.fixed_bytes
        if room <= 0:
            return 0
        return int(room // max(1, self.activation_bytes_per_image))


def _optimizer_slots(optimizer: str, momentum: float) -> int:
    if optimizer == "adam":
        return 2
    if optimizer == "rmsprop":
        return 2 if momentum else 1
    return 1 if momentum else 0


def estimate_training_memory(analysis: Any, batch_size: int, optimizer: str = "adam",
                             momentum: float = 0.0) -> MemoryEstimate:
    """The memory training the analysed network with ``batch_size`` needs (pure arithmetic)."""
    params = analysis.total_params
    trainable = analysis.trainable_params
    slots = _optimizer_slots(optimizer, momentum)
    per_image = analysis.activation_bytes * _ACTIVATION_COPIES  # the Input block's output is the image batch
    ranked = sorted(((bid, info.params) for bid, info in analysis.info.items() if info.params),
                    key=lambda item: -item[1])
    return MemoryEstimate(params, params * FLOAT_BYTES, trainable * FLOAT_BYTES * (1 + slots), per_image,
                          int(batch_size), tuple(ranked[:3]))


def format_bytes(n: float) -> str:
    """``1.5 GB``-style sizes (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"  # pragma: no cover - the loop always returns


def _free_ram() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _free_gpu() -> int | None:
    """Free memory of the fullest GPU, from ``nvidia-smi`` (None when it cannot say)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=_GPU_QUERY_TIMEOUT_S, check=True).stdout
        free = [int(float(line)) * 1024 * 1024 for line in out.split() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return min(free) if free else None


def available_memory(on_gpu: bool) -> tuple[int | None, str]:
    """Bytes free for training and where: GPU memory when training on a GPU, else RAM (None: unknown)."""
    if on_gpu:
        free = _free_gpu()
        if free is not None:
            return free, "free GPU memory"
    return _free_ram(), "available RAM"


def memory_problem(estimate: MemoryEstimate, available: int | None, where: str = "available RAM") -> str | None:
    """Why training cannot fit in ``available`` bytes, with what to change; None when it fits or is unknown."""
    if available is None or estimate.total_bytes <= available:
        return None
    need, have = format_bytes(estimate.total_bytes), format_bytes(available)
    if estimate.fixed_bytes > available:
        blocks = ", ".join(f"{bid} ({p:,} parameters)" for bid, p in estimate.largest_blocks)
        return (f"The network is too big for this machine: its {estimate.params:,} parameters need "
                f"{format_bytes(estimate.fixed_bytes)} for weights, gradients and optimizer state alone, and "
                f"only {have} of {where} is free. Most parameters are in {blocks}: give them fewer units or "
                f"filters, or shrink the image before them (pooling or strides).")
    fits = estimate.largest_batch_within(available)
    return (f"Training with batch size {estimate.batch_size} needs about {need} "
            f"({format_bytes(estimate.batch_bytes)} of it for the batch's activations), more than the "
            f"{have} of {where}. Use a batch size of at most {max(1, fits)}, or a smaller network.")
