"""Benchmark: how long opening a large project takes (load, then everything ``convstudio-cli info`` does).

Writes project files with a chain of N blocks (Input, Flatten, N-3 Activation blocks, Dense 10 softmax),
once with the edges in order and once with the edges listed in reverse, then times per file:
``load_project`` alone, ``analyze`` on the loaded network, and a whole ``convstudio-cli info`` run in
process (output discarded). Target: 16,000 blocks load in under 1 s, and time grows linearly.

Run with ``python scripts/bench_loading.py [--blocks 2000,16000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from convstudio import cli  # noqa: E402
from convstudio.core.project import load_project  # noqa: E402
from convstudio.core.shapes import analyze  # noqa: E402


def chain_document(blocks: int, reverse_edges: bool = False) -> dict:
    """A valid project whose network is one chain of ``blocks`` blocks."""
    kinds = ["Input", "Flatten"] + ["Activation"] * (blocks - 3) + ["Dense"]
    params = [{}, {}] + [{"function": "relu"}] * (blocks - 3) + [{"units": 10, "activation": "softmax"}]
    ids = [f"b{i}" for i in range(blocks)]
    edges = [[ids[i], ids[i + 1]] for i in range(blocks - 1)]
    if reverse_edges:
        edges.reverse()
    return {
        "format": "convstudio-project", "schema_version": 1, "title": f"chain of {blocks}",
        "network": {"blocks": [{"id": i, "kind": k, "params": p, "pos": [0.0, 110.0 * n]}
                               for n, (i, k, p) in enumerate(zip(ids, kinds, params))],
                    "edges": edges},
        "training": {}, "dataset": {"name": "mnist", "data_dir": None}, "weights": None,
    }


def _timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``fn()`` (CPU time is steadier on a shared, loaded machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def _median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _info(path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["info", str(path)])
    if code != cli.EXIT_OK:
        raise SystemExit(f"info failed on {path} (exit {code})")


def bench(blocks: int, reverse_edges: bool, runs: int, folder: Path) -> dict[str, Any]:
    path = folder / f"chain{blocks}{'_rev' if reverse_edges else ''}.json"
    path.write_text(json.dumps(chain_document(blocks, reverse_edges), indent=2))
    loads, analyses, infos = [], [], []
    for _ in range(runs):
        loads.append(_timed(lambda: load_project(path)))
        network = load_project(path).network
        analyses.append(_timed(lambda net=network: analyze(net)))
        infos.append(_timed(lambda: _info(path)))
    return {"load": _median(loads), "analyze": _median(analyses), "info": _median(infos),
            "mb": path.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", default="1000,2000,4000,16000", help="comma-separated chain lengths")
    parser.add_argument("--runs", type=int, default=3, help="repetitions per file (median reported)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"median of {args.runs} run(s); seconds as wall clock / CPU")
    print(f"{'blocks':>7} {'edges':>8} {'file MB':>8} {'load s':>14} {'analyze s':>14} {'info s':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.blocks.split(",")):
            for rev in (False, True):
                r = bench(n, rev, args.runs, Path(tmp))
                cells = "".join(f"{f'{r[k][0]:.3f} / {r[k][1]:.3f}':>15}" for k in ("load", "analyze", "info"))
                print(f"{n:>7} {'reverse' if rev else 'in order':>8} {r['mb']:>8.2f}{cells}", flush=True)


if __name__ == "__main__":
    main()
