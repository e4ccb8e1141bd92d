"""Save the network diagram as a picture: PNG (pixels, for slides) or SVG (vectors, for print).

The canvas scene is rendered without the dot grid and the selection, on the canvas's background,
around the blocks with a margin. Files are written through a temporary beside the target, so a
failed export leaves any existing file as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

from convstudio.core.atomic import atomic_write_with

from .canvas.scene import NetworkScene

__all__ = ["DIAGRAM_FILTER", "diagram_rect", "export_diagram", "save_diagram_dialog"]

DIAGRAM_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
MARGIN = 24.0
PNG_SCALE = 2.0  # pixels per scene unit: sharp on slides and high-DPI screens


class DiagramError(ValueError):
    """The diagram cannot be saved; the message says why."""


def diagram_rect(scene: NetworkScene) -> QRectF:
    """The scene area a diagram shows: every block, with a margin."""
    rect = QRectF()
    for item in scene.items():
        if item.isVisible():
            rect = rect.united(item.sceneBoundingRect())
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene: NetworkScene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, scene.backgroundBrush())
    with scene.plain_rendering():
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def _write_png(scene: NetworkScene, path: str, source: QRectF) -> None:
    size = QSize(max(1, round(source.width() * PNG_SCALE)), max(1, round(source.height() * PNG_SCALE)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(scene.backgroundBrush().color())
    painter = QPainter(image)
    try:
        _render(scene, painter, QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
    if not image.save(path, "PNG"):
        raise DiagramError(f"cannot write a PNG image to {path}")


def _write_svg(scene: NetworkScene, path: str, source: QRectF) -> None:
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(source.size().toSize())
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle("Network diagram")
    generator.setDescription("Drawn by ConvStudio")
    painter = QPainter()
    if not painter.begin(generator):
        raise DiagramError(f"cannot write an SVG drawing to {path}")
    try:
        _render(scene, painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def export_diagram(scene: NetworkScene, path: str | os.PathLike[str]) -> Path:
    """Write the diagram to ``path``; its suffix (.png or .svg) picks the format. Returns the path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise DiagramError(f"a diagram is saved as .png or .svg, not {target.suffix or 'a file without suffix'!r}")
    if not scene.blocks:
        raise DiagramError("the network is empty: there is no diagram to save")
    source = diagram_rect(scene)
    write = _write_png if suffix == ".png" else _write_svg
    atomic_write_with(target, lambda tmp: write(scene, tmp, source), suffix=suffix)
    return target


def save_diagram_dialog(scene: NetworkScene, parent: QWidget | None, start: str) -> str | None:
    """File > Export Diagram: ask where (the dialog asks before overwriting), then save.

    Returns a message for the status bar, or None when cancelled. Raises :class:`DiagramError`.
    """
    path, chosen = QFileDialog.getSaveFileName(parent, "Export diagram", start, DIAGRAM_FILTER)
    if not path:
        return None
    if Path(path).suffix.lower() not in (".png", ".svg"):
        path += ".svg" if chosen.startswith("SVG") else ".png"
    written = export_diagram(scene, path)
    return f"Saved the diagram to {written}"
