"""How serious a health warning is, and the small round badge that shows it in both themes.

A *problem* (NaN, divergence, exploding gradients) means the run cannot learn as it is; a *warning*
means it learns badly or wastefully. The badge is painted rather than taken from the style's icons,
so it has the same shape on every platform and a contrast that holds on a light and a dark window.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

from convstudio.core.health.events import (
    DEAD_RELU,
    DIVERGING,
    EXPLODING,
    LR_TOO_HIGH,
    LR_TOO_LOW,
    NAN,
    NOT_LEARNING,
    OVERFITTING,
    VANISHING,
)

__all__ = ["HEALTHY", "PROBLEM", "TITLES", "WARNING", "severity", "severity_color", "severity_pixmap"]

PROBLEM = "problem"
WARNING = "warning"
HEALTHY = "healthy"
_PROBLEM_KINDS = frozenset({NAN, DIVERGING, EXPLODING})

TITLES = {
    NAN: "Loss is NaN", DIVERGING: "Loss diverges", NOT_LEARNING: "Stuck at chance level",
    OVERFITTING: "Overfitting", DEAD_RELU: "Dead ReLUs", VANISHING: "Vanishing gradients",
    EXPLODING: "Exploding gradients", LR_TOO_HIGH: "Learning rate too high", LR_TOO_LOW: "Learning rate too low",
}
"""A short heading for each kind of warning."""

# (light theme, dark theme): strong colours on white, light ones on the dark grey
_COLORS = {PROBLEM: ("#C5221F", "#F28B82"), WARNING: ("#B06000", "#FDD663"), HEALTHY: ("#188038", "#81C995")}
_GLYPHS = {PROBLEM: "!", WARNING: "!", HEALTHY: "\u2713"}


def severity(kind: str) -> str:
    """``PROBLEM`` for a run that cannot learn as it is, else ``WARNING``."""
    return PROBLEM if kind in _PROBLEM_KINDS else WARNING


def severity_color(level: str, dark: bool) -> QColor:
    """The colour of ``level`` (``PROBLEM``, ``WARNING`` or ``HEALTHY``) on a light or dark window."""
    return QColor(_COLORS[level][1 if dark else 0])


def severity_pixmap(level: str, dark: bool, size: int = 16, ratio: float = 1.0) -> QPixmap:
    """A round badge: "!" for problems (red) and warnings (amber), a tick when healthy (green)."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(severity_color(level, dark))
    painter.drawEllipse(QRectF(0.5, 0.5, size - 1.0, size - 1.0))
    painter.setPen(QColor("#202124" if dark else "#FFFFFF"))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(round(size * 0.72))
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, _GLYPHS[level])
    painter.end()
    return pixmap
