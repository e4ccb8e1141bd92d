"""Tidy layout: a layered, top-to-bottom placement of the network's blocks (pure Python).

Each block goes one layer below its deepest input (longest path from a source), so a chain is a
straight column and parallel branches sit side by side between their fork and their merge. Within
a layer, blocks are ordered by the mean position of their inputs (barycentre heuristic) to keep
edges from crossing, and each layer is centred under the one above.

Given the size of the view it will be shown in, a long network is wrapped like text in a
newspaper: its layers are cut into consecutive runs set side by side (cut only between two layers
of one block each, so no branch or shortcut is split), in as many columns as make it largest on
screen, so a preset or an imported model opens with every block's details readable.
"""

from __future__ import annotations

from .network import Network
from .routing import Rect

__all__ = ["BLOCK_SIZE", "block_rects", "lay_out", "layers", "tidy_positions", "wrap_points"]

BLOCK_SIZE = (216.0, 90.0)
"""How large a block is drawn, about (the canvas passes the real heights when it has them)."""


def layers(network: Network) -> list[list[str]]:
    """Block ids grouped by depth; blocks on a cycle go to a last layer of their own."""
    order, cyclic = network.topological_order()
    depth: dict[str, int] = {}
    for bid in order:
        srcs = [s for s in network.inputs_of(bid) if s in depth]
        depth[bid] = 1 + max((depth[s] for s in srcs), default=-1)
    n_layers = 1 + max(depth.values(), default=-1)
    result: list[list[str]] = [[] for _ in range(n_layers)]
    for bid in order:
        result[depth[bid]].append(bid)
    if cyclic:
        result.append([bid for bid in network.blocks if bid in cyclic])
    return result


def tidy_positions(network: Network, x_gap: float = 240.0, y_gap: float = 150.0,
                   origin: tuple[float, float] | None = None, heights: dict[str, float] | None = None,
                   min_space: float = 60.0, view: tuple[float, float] | None = None) -> dict[str, tuple[float, float]]:
    """New positions ``{block_id: (x, y)}`` for a layered top-to-bottom layout.

    Layers are ``y_gap`` apart; with ``heights`` (how tall each block is drawn), a layer with a
    taller block pushes the next one down so at least ``min_space`` stays free between them.

    A connection that skips layers (a residual shortcut) reserves a slot in every layer it
    crosses, so the blocks it bypasses move aside instead of sitting on top of it. ``origin`` is
    where the first layer's centre goes; by default the current top-left-most block position, so
    tidying does not throw the network across the canvas. With ``view`` (the width and height, in
    pixels, of the view that shows it at zoom 1) a long network is wrapped into columns
    (:func:`wrap_points`).
    """
    if not len(network):
        return {}
    if origin is None:
        origin = (min(b.pos[0] for b in network), min(b.pos[1] for b in network))
    grouped, parents = _with_shortcut_slots(network)
    slot = _slots(grouped, parents)
    steps = [max(y_gap, max(((heights or {}).get(bid, 0.0) for bid in layer), default=0.0) + min_space)
             for layer in grouped]
    cuts = wrap_points(grouped, slot, steps, x_gap, view) if view else []
    positions: dict[str, tuple[float, float]] = {}
    for start, end, x0 in _columns(grouped, slot, cuts):
        y = origin[1]
        for layer, step in zip(grouped[start:end], steps[start:end], strict=True):
            for bid in layer:
                if bid in network.blocks:
                    positions[bid] = (origin[0] + (x0 + slot[bid]) * x_gap, y)
            y += step
    return positions


def _columns(grouped: list[list[str]], slot: dict[str, float],
             cuts: list[int]) -> list[tuple[int, int, float]]:
    """``(first layer, end layer, slot offset)`` of each column the layers are cut into at ``cuts``."""
    bounds = [0, *cuts, len(grouped)]
    columns, right = [], None
    for start, end in zip(bounds, bounds[1:], strict=False):
        slots = [slot[bid] for layer in grouped[start:end] for bid in layer]
        x0 = 0.0 if right is None else right + 1 - min(slots)
        columns.append((start, end, x0))
        right = x0 + max(slots)
    return columns


MARGIN = (80.0, 100.0)
"""Room the view keeps around the network when it fits it (left and right, top and bottom)."""


def wrap_points(grouped: list[list[str]], slot: dict[str, float], steps: list[float], x_gap: float,
                view: tuple[float, float], block: tuple[float, float] = BLOCK_SIZE) -> list[int]:
    """Layers before which a new column starts, so the network shows largest in ``view`` (at most 100 %).

    Columns are cut only between two layers of one entry each (a chain's links), at the cut nearest
    an even share of the height; the fewest columns that show it within 5 % of the largest win.
    """
    allowed = [i for i in range(1, len(grouped)) if len(grouped[i - 1]) == len(grouped[i]) == 1]
    tops = [sum(steps[:i]) for i in range(len(grouped) + 1)]

    def zoom(cuts: list[int]) -> float:
        columns = _columns(grouped, slot, cuts)
        width = (columns[-1][2] + max(slot[b] for layer in grouped[columns[-1][0]:] for b in layer)
                 - min(slot[b] for layer in grouped[:columns[0][1]] for b in layer)) * x_gap + block[0]
        height = max(tops[end - 1] - tops[start] for start, end, _ in columns) + block[1]
        return min(1.0, view[0] / (width + MARGIN[0]), view[1] / (height + MARGIN[1]))

    options = [[]]
    for k in range(2, len(allowed) + 2):
        cuts: list[int] = []
        for j in range(1, k):
            later = [i for i in allowed if not cuts or i > cuts[-1]]
            if later:
                cuts.append(min(later, key=lambda i: abs(tops[i] - tops[-1] * j / k)))
        if cuts not in options:
            options.append(cuts)
    best = max(zoom(cuts) for cuts in options)
    return next(cuts for cuts in options if zoom(cuts) >= 0.95 * best)


def _with_shortcut_slots(network: Network) -> tuple[list[list[str]], dict[str, list[str]]]:
    """The layers, with a placeholder in every layer a connection skips, and each entry's parents."""
    grouped = layers(network)
    depth = {bid: i for i, layer in enumerate(grouped) for bid in layer}
    parents: dict[str, list[str]] = {bid: [] for bid in depth}
    for e in network.edges:
        lo, hi = depth[e.src], depth[e.dst]
        if hi <= lo:
            continue  # a cycle's back edge
        prev = e.src
        for i in range(lo + 1, hi):
            dummy = f"\0{e.src}\0{e.dst}\0{i}"
            grouped[i].append(dummy)
            parents[dummy] = [prev]
            prev = dummy
        parents[e.dst].append(prev)
    return grouped, parents


def _slots(grouped: list[list[str]], parents: dict[str, list[str]]) -> dict[str, float]:
    """Column of every entry: layers ordered by their parents' mean column, centred under them."""
    slot: dict[str, float] = {}
    for i, layer in enumerate(grouped):
        if i > 0:
            def barycentre(bid: str) -> float:
                srcs = [slot[s] for s in parents.get(bid, []) if s in slot]
                return sum(srcs) / len(srcs) if srcs else float("inf")

            # Stable sort keeps the network's own order among ties (and for sources).
            layer.sort(key=barycentre)
        above = [slot[s] for bid in layer for s in parents.get(bid, []) if s in slot]
        centre = (min(above) + max(above)) / 2 if above else 0.0
        for j, bid in enumerate(layer):
            slot[bid] = centre - (len(layer) - 1) / 2 + j
    return slot


def block_rects(network: Network, heights: dict[str, float] | None = None) -> dict[str, Rect]:
    """Each block's rectangle ``(x, y, width, height)`` at its position, drawn ``BLOCK_SIZE`` large."""
    width, height = BLOCK_SIZE
    return {b.id: (b.pos[0], b.pos[1], width, (heights or {}).get(b.id, height)) for b in network}


def lay_out(network: Network, origin: tuple[float, float] = (0.0, 0.0),
            view: tuple[float, float] | None = None) -> Network:
    """Move every block of ``network`` to its tidy position (presets and imports open this way),
    wrapped into columns for a ``view`` of that size in pixels when given."""
    heights = dict.fromkeys(network.blocks, BLOCK_SIZE[1])
    for bid, pos in tidy_positions(network, origin=origin, heights=heights, view=view).items():
        network.blocks[bid].pos = pos
    return network
