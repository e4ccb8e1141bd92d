"""Block glyphs as plain data: a few primitive shapes the UI renders with any painter.

Coordinates are fractions of the glyph's square side, measured from its centre (x right, y down),
so a glyph is crisp at any size. ``fill`` is ``"none"``, ``"solid"`` or ``"half"`` (the glyph colour
at 45% opacity); ``pen`` is ``"normal"`` (round caps), ``"thin"``, ``"dashed"`` or ``"none"``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Ellipse", "Glyph", "Line", "Polyline", "Rect"]


@dataclass(frozen=True)
class Rect:
    """A rectangle with its top-left corner at ``(x, y)``; ``radius`` rounds its corners."""

    x: float
    y: float
    w: float
    h: float
    fill: str = "none"
    pen: str = "normal"
    radius: float = 0.0


@dataclass(frozen=True)
class Ellipse:
    """An ellipse centred at ``(cx, cy)`` with radii ``rx``, ``ry``."""

    cx: float
    cy: float
    rx: float
    ry: float
    fill: str = "none"
    pen: str = "normal"


@dataclass(frozen=True)
class Line:
    """A straight line from ``(x1, y1)`` to ``(x2, y2)``."""

    x1: float
    y1: float
    x2: float
    y2: float
    pen: str = "normal"


@dataclass(frozen=True)
class Polyline:
    """An open path through ``points``."""

    points: tuple[tuple[float, float], ...]
    pen: str = "normal"


Glyph = tuple[Rect | Ellipse | Line | Polyline, ...]
"""A glyph: its primitives, drawn in order."""
