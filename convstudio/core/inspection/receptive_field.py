"""Receptive fields: which input pixels a unit of a block can see.

Pure Python over the network's kernels, strides and padding (no TensorFlow). Per axis, a window
layer with kernel ``k``, stride ``s`` and ``p`` zeros before the input maps output units
``[a, b]`` to input units ``[a*s - p, b*s - p + k - 1]``, clipped to the input (padding zeros are
not pixels). :func:`receptive_field` follows that back to the image through every path, taking the
union at merges, so the box it returns is exactly the bounding box of the input
pixels connected to the unit. Keras 'same' padding puts ``total // 2`` zeros before the input
(the extra zero, if any, after), 'full' puts ``k - 1`` on each side.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..blocks import INPUT, Shape, Window, get_spec, resampled_span
from ..network import Network
from ..shapes import Analysis, analyze

__all__ = ["FieldInfo", "receptive_field", "receptive_fields"]

@dataclass(frozen=True)
class FieldInfo:
    """Textbook receptive-field numbers for one block, per axis ``(rows, columns)``.

    Unit ``(i, j)`` sees input rows ``start[0] + i*jump[0]`` to ``start[0] + i*jump[0] + size[0] - 1``
    before clipping to the image (``start`` is negative where padding adds zeros). Through a merge
    whose branches differ, the numbers describe the union for unit 0 with the coarsest jump.
    Blocks with a flat output (their window is whole) see the whole image: ``spatial`` is
    False, ``size`` is the image size and ``jump`` is 0. After a Resizing block the step between
    units is no longer a whole number of pixels, so the fields there are not spatial either
    (:func:`receptive_field` still gives each unit's exact box).
    """

    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]
    spatial: bool = True


def _checked(network: Network, input_shape: Shape | None, analysis: Analysis | None) -> Analysis:
    analysis = analysis or analyze(network, input_shape)
    if analysis.errors:
        raise ValueError("the network has errors; fix them before asking for receptive fields")
    return analysis


def receptive_fields(network: Network, input_shape: Shape | None = None,
                     analysis: Analysis | None = None) -> dict[str, FieldInfo]:
    """Size, jump and start of every block's receptive field, in topological order."""
    analysis = _checked(network, input_shape, analysis)
    image = (int(analysis.input_shape[0]), int(analysis.input_shape[1]))
    fields: dict[str, FieldInfo] = {}
    for bid in analysis.order:
        block = network.blocks[bid]
        shape = analysis.shape(bid)
        srcs = [s for s in network.inputs_of(bid) if s in fields]
        window = get_spec(block.kind).window
        if block.kind == INPUT.kind:
            fields[bid] = FieldInfo((1, 1), (1, 1), (0, 0))
            continue
        if not srcs or shape is None:
            continue
        if len(shape) != 3 or window.kind in ("whole", "resample") or any(not fields[s].spatial for s in srcs):
            fields[bid] = FieldInfo(image, (0, 0), (0, 0), spatial=False)
            continue
        if window.sliding:
            fields[bid] = _slide(window, block.params, fields[srcs[0]], analysis.shape(srcs[0]), shape)
        else:  # element-wise blocks and merges: union of the inputs' fields for unit 0
            fields[bid] = _union([fields[s] for s in srcs])
    return fields


def _slide(window: Window, params: dict, src: FieldInfo, n_in: Shape, n_out: Shape) -> FieldInfo:
    """The field after a sliding window over a block whose field is ``src``."""
    size, jump, start = [], [], []
    for axis in (0, 1):
        k, s, p = window.along(params, axis, n_in[axis], n_out[axis])
        size.append(src.size[axis] + (k - 1) * src.jump[axis])
        jump.append(src.jump[axis] * s)
        start.append(src.start[axis] - p * src.jump[axis])
    return FieldInfo(tuple(size), tuple(jump), tuple(start))  # type: ignore[arg-type]


def _union(infos: list[FieldInfo]) -> FieldInfo:
    start = tuple(min(f.start[a] for f in infos) for a in (0, 1))
    end = tuple(max(f.start[a] + f.size[a] for f in infos) for a in (0, 1))
    jump = tuple(max(f.jump[a] for f in infos) for a in (0, 1))
    return FieldInfo((end[0] - start[0], end[1] - start[1]), jump, start)  # type: ignore[arg-type]


def receptive_field(network: Network, block_id: str, y: int, x: int, input_shape: Shape | None = None,
                    analysis: Analysis | None = None) -> tuple[int, int, int, int]:
    """Input box ``(y0, x0, y1, x1)`` that unit ``(y, x)`` of ``block_id`` sees, ends exclusive.

    The box is clipped to the image, so ``image[y0:y1, x0:x1]`` is the field. For blocks with a
    flat output the box is the whole image and ``y``, ``x`` are ignored.
    """
    analysis = _checked(network, input_shape, analysis)
    shape = analysis.shape(block_id)
    if shape is None:
        raise ValueError(f"block {block_id!r} has no known output shape")
    if len(shape) == 3 and not (0 <= y < shape[0] and 0 <= x < shape[1]):
        raise ValueError(f"unit ({y}, {x}) is outside {block_id}'s {shape[0]}x{shape[1]} map")
    rows = _interval(network, analysis, block_id, 0, y, y, {})
    cols = _interval(network, analysis, block_id, 1, x, x, {})
    if rows is None or cols is None:
        raise ValueError(f"block {block_id!r} is not connected to the input")
    return rows[0], cols[0], rows[1] + 1, cols[1] + 1


_ALL = 1 << 30


def _back(window: Window, params: dict, axis: int, a: int, b: int, src_shape: Shape,
          shape: Shape | None) -> tuple[int, int]:
    """Units of the input along ``axis`` that output units ``[a, b]`` see (clipped to the input)."""
    if shape is None or len(shape) != 3 or len(src_shape) != 3 or window.kind == "whole":
        lo, hi = 0, _ALL  # a flat output depends on every unit of its input
    elif window.sliding:
        k, s, p = window.along(params, axis, src_shape[axis], shape[axis])
        lo, hi = a * s - p, b * s - p + k - 1
    elif window.kind == "resample":
        lo, hi = resampled_span(a, b, src_shape[axis], shape[axis])
    else:
        lo, hi = a, b
    if len(src_shape) == 3:
        lo, hi = max(lo, 0), min(hi, src_shape[axis] - 1)
    return lo, hi


def _interval(network: Network, analysis: Analysis, bid: str, axis: int, a: int, b: int,
              memo: dict) -> tuple[int, int] | None:
    """Input rows (axis 0) or columns (axis 1), inclusive, that output units ``[a, b]`` depend on."""
    key = (bid, a, b)
    if key in memo:
        return memo[key]
    block = network.blocks[bid]
    shape = analysis.shape(bid)
    if block.kind == INPUT.kind:
        n = int(analysis.input_shape[axis])
        result: tuple[int, int] | None = (max(a, 0), min(b, n - 1))
        memo[key] = result
        return result
    srcs = network.inputs_of(bid)
    window = get_spec(block.kind).window
    if shape is not None and len(shape) == 3:
        a, b = max(a, 0), min(b, shape[axis] - 1)
    spans = []
    for src in srcs:
        src_shape = analysis.shape(src)
        if src_shape is None:
            continue
        lo, hi = _back(window, block.params, axis, a, b, src_shape, shape)
        if lo > hi:
            continue  # the window only covers padding zeros
        span = _interval(network, analysis, src, axis, lo, hi, memo)
        if span is not None:
            spans.append(span)
    result = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    memo[key] = result
    return result
