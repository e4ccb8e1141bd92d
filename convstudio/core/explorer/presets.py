"""Named kernels for the explorer (Sobel, Gaussian, identity, ...) and a small grid to teach with."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..inspection.filters import gaussian_kernel, sobel_horizontal, sobel_vertical
from .stepper import ExplorerError

__all__ = ["KERNEL_PRESETS", "TEACHING_GRID", "preset_kernel"]

TEACHING_GRID = np.array([
    [0, 0, 0, 9, 9, 9, 9],
    [0, 0, 0, 9, 9, 9, 9],
    [0, 0, 0, 9, 9, 9, 9],
    [0, 0, 0, 9, 9, 9, 9],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
], dtype=np.float64)
"""7x7 numbers with a vertical and a horizontal edge: small enough to add up by hand."""


def _identity(h: int, w: int) -> np.ndarray:
    k = np.zeros((h, w))
    k[h // 2, w // 2] = 1.0
    return k


def _sharpen(h: int, w: int) -> np.ndarray:
    return 2 * _identity(h, w) - np.full((h, w), 1.0 / (h * w))


def _gaussian(h: int, w: int) -> np.ndarray:
    rows = gaussian_kernel(h, max(h, 2) / 4).sum(axis=1)
    cols = gaussian_kernel(w, max(w, 2) / 4).sum(axis=0)
    return np.round(np.outer(rows, cols), 3)


def _three(make: Callable[[], np.ndarray]) -> Callable[[int, int], np.ndarray]:
    def build(h: int, w: int) -> np.ndarray:
        if (h, w) != (3, 3):
            raise ExplorerError("Sobel kernels are 3x3; set the kernel size to 3 x 3")
        return make().astype(np.float64)
    return build


KERNEL_PRESETS: dict[str, Callable[[int, int], np.ndarray]] = {
    "Sobel vertical edges": _three(sobel_vertical),
    "Sobel horizontal edges": _three(sobel_horizontal),
    "Gaussian blur": _gaussian,
    "Box blur (mean)": lambda h, w: np.full((h, w), 1.0 / (h * w)),
    "Identity": _identity,
    "Sharpen": _sharpen,
}
"""Kernel makers by display name; each takes the kernel height and width."""


def preset_kernel(name: str, h: int, w: int) -> np.ndarray:
    """The ``h`` x ``w`` kernel called ``name``; raises :class:`ExplorerError` for an unknown name or size."""
    try:
        make = KERNEL_PRESETS[name]
    except KeyError:
        raise ExplorerError(f"no kernel preset {name!r}; choose one of {', '.join(KERNEL_PRESETS)}") from None
    return make(h, w)
