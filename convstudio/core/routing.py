"""Connection routing: a path from an output port down to an input port that keeps clear of blocks.

A connection is drawn straight when nothing is in its way. When a block sits between its two ends
(a residual shortcut beside a column of blocks, a block the user dropped in the way), it bends out
to the side: down a little, across to a free column beside the blocks in the way, down that column,
and back in just above its target. Pure Python, so the canvas and the tests share one geometry.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

__all__ = ["Point", "Rect", "path_hits", "route_edge", "segment_hits_rect"]

Point = tuple[float, float]
Rect = tuple[float, float, float, float]
"""``(x, y, width, height)`` with ``(x, y)`` the top-left corner."""


def segment_hits_rect(p: Point, q: Point, rect: Rect, pad: float = 0.0) -> bool:
    """Whether the segment ``p``-``q`` passes through ``rect`` grown by ``pad`` (Liang-Barsky clip)."""
    x0, y0 = rect[0] - pad, rect[1] - pad
    x1, y1 = rect[0] + rect[2] + pad, rect[1] + rect[3] + pad
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for step, dist in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if step == 0:
            if dist <= 0:
                return False
            continue
        t = dist / step
        if step < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo >= hi:
            return False
    return True


def path_hits(points: Sequence[Point], obstacles: Iterable[Rect], pad: float = 0.0) -> list[Rect]:
    """The obstacles that some segment of the polyline ``points`` passes through."""
    segments = list(itertools.pairwise(points))
    return [r for r in obstacles if any(segment_hits_rect(p, q, r, pad) for p, q in segments)]


def _free_column(x: float, top: float, bottom: float, obstacles: list[Rect], margin: float, side: int) -> float:
    """The nearest x on ``side`` (-1 left, +1 right) of ``x`` where a vertical run is clear of obstacles."""
    for _ in range(len(obstacles) + 1):
        blocking = [r for r in obstacles if segment_hits_rect((x, top), (x, bottom), r)]
        if not blocking:
            return x
        x = (max(r[0] + r[2] for r in blocking) + margin) if side > 0 else (min(r[0] for r in blocking) - margin)
    return x


def route_edge(start: Point, end: Point, obstacles: Iterable[Rect], margin: float = 18.0) -> list[Point]:
    """Corner points of a path from ``start`` (an output port) to ``end`` (an input port below it).

    ``obstacles`` are the rectangles of the blocks the connection does not join. The path is the
    straight segment when that is clear (or when there is no room to bend); otherwise it steps
    ``margin`` below ``start``, runs down a free column on the side with the shorter detour, and
    steps back in ``margin`` above ``end``.
    """
    rects = list(obstacles)
    straight = [start, end]
    top, bottom = start[1] + margin, end[1] - margin
    if bottom - top < 1.0 or not path_hits(straight, rects):
        return straight
    candidates = []
    for side in (-1, 1):
        x = _free_column(start[0], top, bottom, rects, margin, side)
        path = [start, (start[0], top), (x, top), (x, bottom), (end[0], bottom), end]
        hits = len(path_hits(path, rects))
        candidates.append((hits, abs(x - start[0]) + abs(x - end[0]), path))
    candidates.sort(key=lambda c: (c[0], c[1]))
    return candidates[0][2]
