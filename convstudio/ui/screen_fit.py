"""Keep a restored window on a screen that exists and within its available area.

A geometry saved on a bigger screen, another monitor or at another scale factor (QT_SCALE_FACTOR=1.5
makes every logical screen smaller) would otherwise open the window larger than the screen or
off-screen.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

__all__ = ["fit_rect", "fit_to_screen"]


def fit_rect(rect: QRect, areas: list[QRect]) -> QRect:
    """``rect`` moved and shrunk into the area it overlaps most (the first one when it overlaps none)."""
    if not areas:
        return QRect(rect)
    area = max(areas, key=lambda a: _overlap(a, rect))
    if _overlap(area, rect) == 0:
        area = areas[0]
    width, height = min(rect.width(), area.width()), min(rect.height(), area.height())
    x = min(max(rect.x(), area.left()), area.left() + area.width() - width)
    y = min(max(rect.y(), area.top()), area.top() + area.height() - height)
    return QRect(x, y, width, height)


def _overlap(a: QRect, b: QRect) -> int:
    inter = a.intersected(b)
    return max(inter.width(), 0) * max(inter.height(), 0) if not inter.isEmpty() else 0


def fit_to_screen(window: QWidget) -> bool:
    """Move and shrink ``window`` (its frame included) into the available area of a screen.

    A maximized or full-screen window is left to the window manager. Returns True when it changed.
    """
    if window.isMaximized() or window.isFullScreen():
        return False
    areas = [s.availableGeometry() for s in QGuiApplication.screens()]
    frame, inner = window.frameGeometry(), window.geometry()
    fitted = fit_rect(frame, areas)
    if fitted == frame:
        return False
    # frameGeometry includes the title bar and borders: keep room for them.
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    window.resize(max(fitted.width() - extra_w, window.minimumWidth()),
                  max(fitted.height() - extra_h, window.minimumHeight()))
    window.move(QPoint(fitted.x(), fitted.y()))
    return True
