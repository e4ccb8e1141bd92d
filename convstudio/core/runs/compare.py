"""Comparing two runs: what changed in the network (block by block), the settings and the data, and the results.

Blocks are matched by id (the editor keeps ids stable while a network is edited): a block only in the
second run was added, one only in the first removed, one in both with another kind or other parameters
changed. Positions on the canvas are not part of the network's meaning and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import RunRecord

__all__ = ["BlockChange", "NetworkDiff", "RunComparison", "compare_runs", "diff_networks", "diff_settings",
           "format_comparison"]


@dataclass(frozen=True)
class BlockChange:
    """A block in both runs: its kind in each, and ``params[name] = (before, after)`` for each changed parameter."""

    block_id: str
    kind_before: str
    kind_after: str
    params: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkDiff:
    """Blocks (``(id, kind)``) added and removed, blocks changed, and connections added and removed."""

    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[BlockChange]
    edges_added: list[tuple[str, str]]
    edges_removed: list[tuple[str, str]]

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed or self.edges_added or self.edges_removed)


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side: ``settings`` and ``data`` are ``(key, before, after)`` for what differs;
    ``results`` is ``(label, first, second)`` for every headline figure."""

    first: str
    second: str
    network: NetworkDiff
    settings: list[tuple[str, Any, Any]]
    data: list[tuple[str, Any, Any]]
    results: list[tuple[str, Any, Any]]


def _blocks(network: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(b["id"]): b for b in network.get("blocks", [])}


def _edges(network: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for e in network.get("edges", []):
        if isinstance(e, dict):
            out.add((str(e.get("src")), str(e.get("dst"))))
        else:
            out.add((str(e[0]), str(e[1])))
    return out


def diff_networks(before: dict[str, Any], after: dict[str, Any]) -> NetworkDiff:
    """The block-by-block difference of two networks in their saved (``Network.to_dict``) form."""
    a, b = _blocks(before), _blocks(after)
    changed = []
    for bid in [k for k in a if k in b]:
        pa, pb = a[bid].get("params") or {}, b[bid].get("params") or {}
        params = {k: (pa.get(k), pb.get(k)) for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)}
        if params or a[bid].get("kind") != b[bid].get("kind"):
            changed.append(BlockChange(bid, str(a[bid].get("kind")), str(b[bid].get("kind")), params))
    ea, eb = _edges(before), _edges(after)
    return NetworkDiff([(k, str(b[k].get("kind"))) for k in b if k not in a],
                       [(k, str(a[k].get("kind"))) for k in a if k not in b], changed,
                       sorted(eb - ea), sorted(ea - eb))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def diff_settings(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(dotted key, before, after)`` for every setting that differs (nested ones as ``early_stopping.patience``)."""
    a, b = _flatten(before), _flatten(after)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def compare_runs(first: RunRecord, second: RunRecord) -> RunComparison:
    """What differs between two runs, and their results side by side."""
    pa, pb = first.record.get("project", {}), second.record.get("project", {})
    data = diff_settings(first.record.get("dataset") or {}, second.record.get("dataset") or {})
    s1, s2 = first.summary, second.summary
    results = [("outcome", s1.outcome_label, s2.outcome_label), ("test accuracy", s1.test_accuracy, s2.test_accuracy),
               ("best validation accuracy", s1.best_val_accuracy, s2.best_val_accuracy),
               ("test loss", s1.test_loss, s2.test_loss), ("parameters", s1.parameters, s2.parameters),
               ("epochs", s1.epochs_done, s2.epochs_done), ("duration s", s1.duration_s, s2.duration_s),
               ("device", s1.device, s2.device)]
    return RunComparison(s1.id, s2.id, diff_networks(pa.get("network") or {}, pb.get("network") or {}),
                         diff_settings(pa.get("training") or {}, pb.get("training") or {}), data, results)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def _network_lines(diff: NetworkDiff) -> list[str]:
    if diff.same:
        return ["  same network"]
    lines = [f"  + {bid} ({kind})" for bid, kind in diff.added]
    lines += [f"  - {bid} ({kind})" for bid, kind in diff.removed]
    for change in diff.changed:
        kind = (f"{change.kind_before} -> {change.kind_after}" if change.kind_before != change.kind_after
                else change.kind_after)
        params = ", ".join(f"{k} {_value(x)} -> {_value(y)}" for k, (x, y) in change.params.items())
        lines.append(f"  ~ {change.block_id} ({kind})" + (f": {params}" if params else ""))
    lines += [f"  + connection {s} -> {d}" for s, d in diff.edges_added]
    lines += [f"  - connection {s} -> {d}" for s, d in diff.edges_removed]
    return lines


def format_comparison(c: RunComparison) -> str:
    """The comparison as plain text for a terminal."""
    lines = [f"A: {c.first}", f"B: {c.second}", "", "results (A | B):"]
    width = max(len(label) for label, _, _ in c.results)
    lines += [f"  {label.ljust(width)}  {_value(x)} | {_value(y)}" for label, x, y in c.results]
    lines += ["", "network (A -> B):", *_network_lines(c.network), "", "settings (A -> B):"]
    lines += [f"  {k}: {_value(x)} -> {_value(y)}" for k, x, y in c.settings] or ["  same settings"]
    if c.data:
        lines += ["", "data (A -> B):", *[f"  {k}: {_value(x)} -> {_value(y)}" for k, x, y in c.data]]
    return "\n".join(lines)
