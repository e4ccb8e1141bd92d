"""A model summary in the layout Keras users know, computed from shape inference alone.

No TensorFlow is needed: the numbers come from :func:`~convstudio.core.shapes.analyze`, and for a
network that builds they equal what ``keras.Model.summary()`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blocks import FLOAT_BYTES, Shape, get_spec
from .network import Network
from .shapes import Analysis

__all__ = ["SummaryRow", "format_bytes", "format_count", "format_summary", "summary_rows"]


@dataclass(frozen=True)
class SummaryRow:
    """One block's line in the summary; ``shape`` is None where it cannot be inferred yet."""

    block_id: str
    kind: str
    shape: Shape | None
    params: int
    trainable_params: int
    macs: int
    activation_bytes: int
    inputs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``conv2d_1 (Conv2D)``, as in Keras' first column."""
        return f"{self.block_id} ({self.kind})"

    @property
    def output_shape(self) -> str:
        """``(None, 24, 24, 6)`` with the batch dimension, as Keras prints it; ``?`` when unknown."""
        if self.shape is None:
            return "?"
        return "(" + ", ".join(["None", *(str(s) for s in self.shape)]) + ")"


def summary_rows(network: Network, analysis: Analysis) -> list[SummaryRow]:
    """One row per block, in topological order (blocks on a cycle come last)."""
    ordered = set(analysis.order)
    order = list(analysis.order) + sorted(b for b in network.blocks if b not in ordered)
    rows = []
    for bid in order:
        if bid not in network.blocks:
            continue
        block = network.blocks[bid]
        info = analysis.info.get(bid)
        shape = info.shape if info else None
        rows.append(SummaryRow(
            bid, get_spec(block.kind).label, shape,
            info.params if info else 0, info.trainable_params if info else 0, info.macs if info else 0,
            info.activation_bytes if info else 0, tuple(network.inputs_of(bid)),
        ))
    return rows


def format_bytes(n: float) -> str:
    """A byte count in human units (1024-based, like Keras): ``241.04 KB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_count(n: float) -> str:
    """A large count in human units: ``1.23 M``, ``456.70 K``, ``12``."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)}"


def format_summary(network: Network, analysis: Analysis, title: str = "convstudio") -> str:
    """The summary as text: Block (Type) | Output shape | Param # [| Connected to], then totals."""
    rows = summary_rows(network, analysis)
    merges = any(len(r.inputs) > 1 for r in rows)
    header = ["Block (Type)", "Output shape", "Param #"] + (["Connected to"] if merges else [])
    table = [[r.name, r.output_shape, f"{r.params:,}"] + ([", ".join(r.inputs)] if merges else []) for r in rows]
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1]), cells[2].rjust(max(widths[2], 7))]
        if merges:
            out.append(cells[3].ljust(widths[3]))
        return "   ".join(out).rstrip()

    rule_width = max(len(line(cells)) for cells in [header, *table])
    lines = [f'Model: "{title}"', "=" * rule_width, line(header), "=" * rule_width]
    for i, cells in enumerate(table):
        lines.append(line(cells))
        lines.append("-" * rule_width if i < len(table) - 1 else "=" * rule_width)
    if not table:
        lines.append("=" * rule_width)
    return "\n".join(lines + _totals(rows))


def _totals(rows: list[SummaryRow]) -> list[str]:
    """The summary's closing lines: parameters, MACs, activation memory, and what is not known yet."""
    total = sum(r.params for r in rows)
    trainable = sum(r.trainable_params for r in rows)
    lines = [
        f"Total params: {total:,} ({format_bytes(total * FLOAT_BYTES)})",
        f"Trainable params: {trainable:,} ({format_bytes(trainable * FLOAT_BYTES)})",
        f"Non-trainable params: {total - trainable:,} ({format_bytes((total - trainable) * FLOAT_BYTES)})",
        f"Multiply-accumulates per image: {format_count(sum(r.macs for r in rows))}",
        f"Activation memory per image: {format_bytes(sum(r.activation_bytes for r in rows))}",
    ]
    unknown = [r.block_id for r in rows if r.shape is None]
    if unknown:
        lines.append(f"Incomplete: {len(unknown)} block(s) have no known shape yet "
                     f"({', '.join(unknown)}); totals leave them out")
    return lines
