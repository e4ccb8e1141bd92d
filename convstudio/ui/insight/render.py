"""Small helpers shared by the insight views: colour-mapping arrays to QImages, saving as PNG."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

__all__ = ["add_save_png_menu", "colormap_rgba", "qimage_from_rgba", "rgb_to_rgba", "sample_tile", "symmetric_limits"]


def colormap_rgba(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """Values as uint8 RGBA (one more axis of 4) through a matplotlib colour map; NaN shows light grey."""
    import matplotlib

    values = np.asarray(values, dtype=np.float32)
    span = vmax - vmin
    norm = (values - vmin) / span if span > 0 else np.full_like(values, 0.5)
    rgba = matplotlib.colormaps[cmap](np.clip(np.nan_to_num(norm, nan=0.0), 0.0, 1.0), bytes=True)
    rgba[np.isnan(values)] = (220, 220, 220, 255)
    return rgba


def rgb_to_rgba(rgb: np.ndarray) -> np.ndarray:
    """A colour image ``(h, w, 3)`` with values in [0, 1] as opaque uint8 RGBA."""
    pixels = np.clip(np.nan_to_num(np.asarray(rgb, dtype=np.float32)), 0.0, 1.0)
    alpha = np.ones((*pixels.shape[:2], 1), np.float32)
    return np.rint(np.concatenate([pixels, alpha], axis=-1) * 255).astype(np.uint8)


def sample_tile(image: np.ndarray) -> np.ndarray:
    """A uint8 sample as a tile: grey ``(h, w)`` stays 0..255 (for a fixed 0..255 grey map), colour
    ``(h, w, 3)`` becomes [0, 1] RGB, drawn as it is."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        return x[..., 0]
    return x / 255.0 if x.ndim == 3 else x


def qimage_from_rgba(rgba: np.ndarray) -> QImage:
    """An owned QImage copy of an ``(h, w, 4)`` uint8 array."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def symmetric_limits(arrays: list[np.ndarray]) -> tuple[float, float]:
    """``(-m, m)`` with ``m`` the largest magnitude, so zero sits in the middle of a diverging map."""
    m = max((float(np.nanmax(np.abs(a))) for a in arrays if np.size(a) and not np.all(np.isnan(a))), default=0.0)
    m = m if m > 0 else 1.0
    return -m, m


def add_save_png_menu(widget: QWidget, save: Callable[[str], None], default_name: str) -> None:
    """Give ``widget`` a right-click menu with "Save as PNG…" that calls ``save(path)``."""
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show_menu(pos) -> None:
        menu = QMenu(widget)
        action = menu.addAction("Save as PNG…")
        if menu.exec(widget.mapToGlobal(pos)) is action:
            path, _ = QFileDialog.getSaveFileName(widget, "Save as PNG", default_name, "PNG images (*.png)")
            if path:
                if not path.lower().endswith(".png"):
                    path += ".png"
                save(os.fspath(path))

    widget.customContextMenuRequested.connect(show_menu)
