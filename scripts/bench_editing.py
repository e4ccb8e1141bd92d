"""Benchmark: how long shape inference and validation take on a 100-block network.

Every edit on the canvas re-runs :func:`analyze`, so it must stay well under a frame (target: 5 ms).
Run with ``python scripts/bench_editing.py [--blocks 100] [--runs 500]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from convstudio.core.network import Network
from convstudio.core.shapes import analyze


def residual_chain(blocks: int = 100) -> Network:
    """Input, a stem, then residual units (conv, batchnorm, conv, add) until ``blocks`` blocks, then a head."""
    net = Network()
    tip = net.add_block("Input")
    tip_conv = net.add_block("Conv2D", {"filters": 8, "padding": "same"})
    net.connect(tip, tip_conv)
    tip = tip_conv
    head = 3  # global pooling, dense, softmax output
    while len(net) + 4 + head <= blocks:
        a = net.add_block("Conv2D", {"filters": 8, "padding": "same"})
        b = net.add_block("BatchNorm")
        c = net.add_block("Conv2D", {"filters": 8, "padding": "same"})
        add = net.add_block("Add")
        for src, dst in [(tip, a), (a, b), (b, c), (c, add), (tip, add)]:
            net.connect(src, dst)
        tip = add
    while len(net) + head < blocks:
        nxt = net.add_block("Activation")
        net.connect(tip, nxt)
        tip = nxt
    for kind, params in [("GlobalAvgPool2D", {}), ("Dense", {"units": 32}),
                         ("Dense", {"units": 10, "activation": "softmax"})]:
        nxt = net.add_block(kind, params)
        net.connect(tip, nxt)
        tip = nxt
    return net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100, help="network size (default 100)")
    parser.add_argument("--runs", type=int, default=500, help="timed analyze() calls (default 500)")
    args = parser.parse_args(argv)
    net = residual_chain(args.blocks)
    analysis = analyze(net)
    if not analysis.ok:
        raise SystemExit(f"the benchmark network is invalid: {analysis.errors[0].message}")
    for _ in range(20):  # warm up
        analyze(net)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        analyze(net)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    verdict = "OK" if p95 < 5.0 else "SLOW"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"analyze() on {len(net)} blocks / {len(net.edges)} edges: median {median:.3f} ms, "
          f"p95 {p95:.3f} ms over {args.runs} runs (target < 5 ms): {verdict} "
          f"[load {load:.1f} on {os.cpu_count()} cores]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
