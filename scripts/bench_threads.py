"""Benchmark: TensorFlow's thread pools for training beside the event loop, per machine size.

For each simulated machine size (a number of cores: the child processes are pinned to that many
CPUs with ``os.sched_setaffinity``) and each candidate thread setting, one child process measures:

- ``fit``: plain ``model.fit`` in the main thread with Keras's default thread pools (the reference), on
  the same input pipeline the trainer uses (:func:`~convstudio.core.training.epoch_batches`), so that
  only the threads and the app's machinery differ;
- each setting: the app's :class:`Trainer` in a :class:`~convstudio.ui.worker.Worker` thread, its live
  events (batch events, probes of every feature map, scaled to 0..255 as a tile render does) drained
  on the main thread by the Worker's 100 ms timer as in the window, under an offscreen
  ``QApplication`` whose event loop also runs a 10 ms timer; how late that timer fires while the
  batches run is the event-loop lateness (p50, p99, max).

TensorFlow's pools can only be set before it runs anything, hence one process per measurement.
Settings are ``inter:intra`` pairs where ``c`` stands for the number of cores (``1,c-1`` leaves a core
to the event loop), ``rule`` for what the app uses (:func:`convstudio.core.device.threads_for`), and
``default`` for TensorFlow's own choice. Repetitions are interleaved and their order rotated; the
ratio to ``fit`` is taken within each repetition (the machine's speed drifts), then the median.
Per size the script chooses the setting with the highest ratio among those whose p99 lateness
(median over repetitions) is under 30 ms, and says whether ``threads_for`` agrees.

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_threads.py \\
        [--cores 1,2] [--settings rule,1:c-1,1:c,2:c,default] [--limit 30000] [--epochs 3] [--reps 3] [--short]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import perf_common as pc

LATENESS_LIMIT_MS = 30.0
RATIO_TARGET = 0.95
DEFAULT_SETTINGS = "rule,1:c-1,1:c,2:c,default"


def resolve(spec: str, cores: int) -> tuple[int, int] | None:
    """``(inter, intra)`` of a setting on ``cores`` cores; None for TensorFlow's default pools."""
    from convstudio.core.device import threads_for

    if spec == "default":
        return None
    if spec == "rule":
        return threads_for(cores)

    def count(text: str) -> int:
        text = text.strip()
        if text.startswith("c"):
            return max(1, cores + int(text[1:] or 0))  # "c", "c-1", "c+1"
        return max(1, int(text))

    inter, intra = spec.split(":")
    return count(inter), count(intra)


def _lateness(samples: list[float]) -> dict[str, float]:
    import numpy as np

    ms = np.asarray(samples or [float("nan")]) * 1000.0
    return {"n": len(samples), "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "max": float(ms.max())}


def _workload(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    preset = pc.lenet5()
    settings = preset.settings.replace(epochs=args.epochs, validation_split=0.0, jit_compile="off")
    return preset.network, pc.load_mnist(args.limit, test_limit=16), settings


def child_fit(args: argparse.Namespace) -> dict[str, Any]:
    """Plain ``model.fit`` in the main thread with Keras's default thread pools, on the trainer's input pipeline."""
    import math

    import bench_training_overhead as overhead

    from convstudio.core.training import epoch_batches

    network, dataset, settings = _workload(args)
    model = overhead.fresh_model(network, settings, jit=False)
    timer = pc.epoch_timer()
    t0 = time.perf_counter()
    train = epoch_batches(dataset.x_train, dataset.y_train, settings.batch_size, settings.seed, 0, settings.epochs)
    model.fit(train, epochs=settings.epochs, steps_per_epoch=math.ceil(len(dataset.x_train) / settings.batch_size),
              verbose=0, callbacks=[timer], shuffle=False)
    return {"seconds": time.perf_counter() - t0, "epochs": timer.seconds, "samples": len(dataset.x_train)}


def child_trainer(args: argparse.Namespace, threads: tuple[int, int] | None) -> dict[str, Any]:
    """The app's trainer in a Worker thread, events drained on the event loop, a 10 ms timer measured."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import bench_training_overhead as overhead
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from convstudio.core.training import Trainer
    from convstudio.core.training_events import BatchEnd, EpochEnd, EventChannel, ProbeUpdate
    from convstudio.ui.worker import Worker

    app = QApplication.instance() or QApplication(sys.argv)
    network, dataset, settings = _workload(args)
    channel = EventChannel()
    trainer = Trainer(network, dataset, settings, channel, checkpoint_dir=tempfile.mkdtemp(prefix="convstudio-th-"))
    trainer.set_probe(dataset.x_test[0])
    worker = Worker(lambda _state: trainer.run(), app, name="training", interval_ms=100, channel=channel)
    batches, epochs, late = [False], [], []
    clock = QElapsedTimer()
    last = [0]

    def tick() -> None:
        now = clock.nsecsElapsed()
        if batches[0]:
            late.append(max(0.0, (now - last[0]) / 1e9 - 0.010))
        last[0] = now

    def on_event(event: Any) -> None:
        if isinstance(event, BatchEnd):
            batches[0] = True
        elif isinstance(event, EpochEnd):
            epochs.append(event.seconds)
            batches[0] = len(epochs) < settings.epochs
        elif isinstance(event, ProbeUpdate):
            for activation in event.activations.values():
                if activation.ndim == 3:
                    overhead.render_map(activation)

    outcome: list[Any] = []
    worker.progress.connect(on_event)
    worker.done.connect(outcome.append)
    worker.error.connect(outcome.append)
    worker.finished.connect(app.quit)
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    worker.start()
    app.exec()
    seconds = time.perf_counter() - t0
    timer.stop()
    finished = outcome[0] if outcome else None
    if getattr(finished, "status", "") != "completed":
        raise SystemExit(f"the trainer did not complete: {getattr(finished, 'message', finished)}")
    return {"seconds": seconds, "epochs": epochs, "samples": len(dataset.x_train), "lateness": _lateness(late)}


def child(args: argparse.Namespace) -> int:
    """One measurement, pinned to ``--cpus``; prints ``RESULT {json}`` as its last line."""
    cpus = [int(c) for c in args.cpus.split(",")]
    os.sched_setaffinity(0, cpus)
    import keras  # noqa: F401 - TensorFlow's start-up is not measured

    from convstudio.core.device import configure_threads, usable_cores

    threads = None if args.child == "fit" else resolve(args.child, len(cpus))
    if threads is not None:
        configure_threads(inter=threads[0], intra=threads[1])
    result = child_fit(args) if args.child == "fit" else child_trainer(args, threads)
    result.update(setting=args.child, cores=usable_cores(), threads=threads)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def _launch(args: argparse.Namespace, setting: str, cpus: list[int]) -> dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--child", setting, "--cpus", ",".join(map(str, cpus)),
               "--limit", str(args.limit), "--epochs", str(args.epochs)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"{setting} on {len(cpus)} core(s) failed:\n" + "\n".join(tail))
    return json.loads(lines[-1][len("RESULT "):])


def steady_rate(run: dict[str, Any]) -> float:
    """Samples per second in the epochs after the first (tracing excluded); the whole run with one epoch."""
    later = run["epochs"][1:]
    if later:
        return len(later) * run["samples"] / sum(later)
    return len(run["epochs"]) * run["samples"] / run["seconds"]


def summarize(runs: dict[str, list[dict[str, Any]]], cores: int) -> tuple[list[list[Any]], str | None]:
    """Table rows per setting, and the chosen setting (highest ratio with p99 under the limit)."""
    base = runs["fit"]
    rows, best, best_ratio = [], None, -1.0
    for setting, results in runs.items():
        rate = pc.median([steady_rate(r) for r in results])
        ratios = [steady_rate(r) / steady_rate(b) for r, b in zip(results, base)]
        ratio = pc.median(ratios)
        threads = results[0]["threads"]
        pools = "Keras default" if setting == "fit" else ("TF default" if threads is None else
                                                          f"{threads[0]}, {threads[1]}")
        if setting == "fit":
            rows.append([setting, pools, round(rate), "1.000", "-", "-", "-", "reference"])
            continue
        p50 = pc.median([r["lateness"]["p50"] for r in results])
        p99 = pc.median([r["lateness"]["p99"] for r in results])
        worst = max(r["lateness"]["max"] for r in results)
        ok = p99 < LATENESS_LIMIT_MS
        verdict = ("" if ok else "p99 too late") + ("" if ratio >= RATIO_TARGET else
                                                    ("; " if not ok else "") + f"below {RATIO_TARGET}")
        rows.append([setting, pools, round(rate), f"{ratio:.3f} ({min(ratios):.2f}-{max(ratios):.2f})",
                     round(p50, 1), round(p99, 1), round(worst, 1), verdict or "ok"])
        if ok and ratio > best_ratio:
            best, best_ratio = setting, ratio
    return rows, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="", help="simulated machine sizes, e.g. 1,2 (default: 1, 2, 4, ... "
                                                    "up to this machine's usable cores)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help="comma-separated: inter:intra (c = cores), "
                                                                     "rule, default")
    parser.add_argument("--limit", type=int, default=30000, help="training images")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--short", action="store_true", help="a quick check: 6,000 images, 2 epochs, 1 repetition")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per child process")
    parser.add_argument("--json", default="", help="also write every measurement to this file")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--cpus", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.short:
        args.limit, args.epochs, args.reps = 6000, 2, 1

    from convstudio.core.device import threads_for, usable_cores

    available = sorted(os.sched_getaffinity(0))
    sizes = ([int(c) for c in args.cores.split(",")] if args.cores else
             sorted({n for n in (1, 2, 4, 8, 16, 32, 64) if n <= len(available)} | {len(available)}))
    if max(sizes) > len(available):
        raise SystemExit(f"only {len(available)} cores are usable here; cannot simulate {max(sizes)}")
    settings = ["fit"] + [s.strip() for s in args.settings.split(",") if s.strip()]
    load = os.getloadavg()[0]
    print(f"{usable_cores()} usable cores, load {load:.1f} at the start; LeNet-5 preset, first {args.limit:,} MNIST "
          f"images, {args.epochs} epochs, batch {pc.lenet5().settings.batch_size}; {args.reps} repetition(s), "
          f"one process per measurement, order rotated", flush=True)
    everything: dict[int, dict[str, list[dict[str, Any]]]] = {n: {s: [] for s in settings} for n in sizes}
    for rep in range(args.reps):
        for n in sizes:
            order = settings[rep % len(settings):] + settings[:rep % len(settings)]
            for setting in order:
                result = _launch(args, setting, available[:n])
                everything[n][setting].append(result)
                late = result.get("lateness")
                print(f"  rep {rep + 1}, {n} core(s), {setting:8s} {steady_rate(result):8,.0f} samples/s"
                      + (f", lateness p50 {late['p50']:.1f} / p99 {late['p99']:.1f} ms" if late else ""), flush=True)
    print(f"\nload {os.getloadavg()[0]:.1f} at the end; samples/s in the epochs after the first")
    for n in sizes:
        rows, best = summarize(everything[n], n)
        print(f"\n{n} core(s):")
        print(pc.table(["setting", "inter, intra", "samples/s", "ratio to fit (range)", "p50 ms", "p99 ms",
                        "max ms", "verdict"], rows))
        rule = threads_for(n)
        if best is None:
            print(f"no setting kept p99 lateness under {LATENESS_LIMIT_MS:.0f} ms")
            continue
        chosen = resolve(best, n)
        agrees = "agrees" if chosen == rule else "DIFFERS"
        print(f"chosen: {best} ({'TF default' if chosen is None else f'inter {chosen[0]}, intra {chosen[1]}'}); "
              f"threads_for({n}) = inter {rule[0]}, intra {rule[1]}: {agrees}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({str(n): v for n, v in everything.items()}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
