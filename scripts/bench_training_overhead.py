"""Benchmark: what the app's live training views cost, against plain ``model.fit`` (target ratio >= 0.97).

Variants, on the same LeNet-5 preset model, data, tf.data pipeline (``make_datasets``), batch size and
thread pools, run in one process with repetitions interleaved and the order rotated:

- ``fit``: plain ``model.fit`` in the main thread;
- ``trainer``: the app's :class:`Trainer` in a worker thread with every live view on: batch events
  every 0.1 s drained by the main thread at 10 Hz (as the GUI timer does), a probe of every block's
  feature maps and the kernels about once a second, per-epoch probe and checkpoint;
- ``fit-xla`` / ``trainer-xla``: the same with XLA compilation on (``jit_compile=True``).

Samples per second count whole runs (make_datasets to the end of the last epoch, first-epoch tracing
included) and, separately, the epochs after the first (steady state).

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_training_overhead.py \\
        [--limit 60000] [--epochs 2] [--reps 3] [--variants fit,trainer,fit-xla] [--threads app]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import threading
import time
from typing import Any

import numpy as np
import perf_common as pc


def fresh_model(network: Any, settings: Any, jit: bool) -> Any:
    import keras

    from convstudio.core.builder import build_model
    from convstudio.core.device import SpeedOptions
    from convstudio.core.training import compile_model

    keras.backend.clear_session()
    gc.collect()
    keras.utils.set_random_seed(settings.seed)
    model = build_model(network, (28, 28, 1), 10)
    compile_model(model, settings, SpeedOptions(jit, False, "benchmark"))
    return model


def run_fit(network: Any, dataset: Any, settings: Any, jit: bool) -> dict[str, Any]:
    from convstudio.core.pipeline import make_datasets

    model = fresh_model(network, settings, jit)
    timer = pc.epoch_timer()
    t0 = time.perf_counter()
    splits = make_datasets(dataset, settings.batch_size, settings.validation_split, settings.seed)
    model.fit(splits.train, epochs=settings.epochs, verbose=0, callbacks=[timer], shuffle=False)
    return {"seconds": time.perf_counter() - t0, "epochs": timer.seconds, "events": 0, "probes": 0}


def render_map(activation: np.ndarray) -> np.ndarray:
    """Roughly what the GUI does with a feature map on its thread: scale to 0..255 per map."""
    a = activation.astype(np.float32)
    lo, hi = a.min(axis=(0, 1), keepdims=True), a.max(axis=(0, 1), keepdims=True)
    return ((a - lo) / np.maximum(hi - lo, 1e-12) * 255).astype(np.uint8)


def run_trainer(network: Any, dataset: Any, settings: Any, jit: bool, checkpoint_root: str) -> dict[str, Any]:
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import BatchEnd, EpochEnd, EventChannel, ProbeUpdate, TrainFinished

    model = fresh_model(network, settings, jit)
    channel = EventChannel()
    trainer = Trainer(network, dataset, settings.replace(jit_compile="on" if jit else "off"), channel,
                      checkpoint_dir=tempfile.mkdtemp(dir=checkpoint_root), model=model)
    trainer.set_probe(dataset.x_test[0])
    result: list[Any] = []
    t0 = time.perf_counter()
    worker = threading.Thread(target=lambda: result.append(trainer.run()), name="training", daemon=True)
    worker.start()
    batches = probes = 0
    epochs: list[float] = []
    while True:
        alive = worker.is_alive()
        for event in channel.drain():  # the GUI timer's work, on this (main) thread
            if isinstance(event, BatchEnd):
                batches += 1
            elif isinstance(event, ProbeUpdate):
                probes += 1
                for activation in event.activations.values():
                    if activation.ndim == 3:
                        render_map(activation)
            elif isinstance(event, EpochEnd):
                epochs.append(event.seconds)
            elif isinstance(event, TrainFinished):
                pass
        if not alive:
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - t0
    finished = result[0] if result else None
    if finished is None or finished.status != "completed":
        raise SystemExit(f"the trainer did not complete: {finished.message if finished else 'no result'}")
    return {"seconds": seconds, "epochs": epochs, "events": batches, "probes": probes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="training images (default: all 60,000)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    parser.add_argument("--variants", default="fit,trainer,fit-xla")
    parser.add_argument("--threads", default="app", help="app, default, or inter,intra")
    args = parser.parse_args(argv)

    import keras  # noqa: F401 - TensorFlow's start-up is not part of any measurement

    threads = pc.set_threads(args.threads)
    preset = pc.lenet5()
    settings = preset.settings.replace(epochs=args.epochs, validation_split=0.0,
                                       batch_size=args.batch_size or preset.settings.batch_size)
    dataset = pc.load_mnist(args.limit, test_limit=16)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    checkpoints = tempfile.mkdtemp(prefix="convstudio-bench-")
    print(f"{pc.machine_line()}; {threads}")
    print(f"LeNet-5 preset, {dataset.source}, batch {settings.batch_size}, {args.epochs} epochs, "
          f"no validation split; {args.reps} repetitions, order rotated")
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for rep in range(args.reps):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for name in order:
            jit = name.endswith("-xla")
            if name.startswith("trainer"):
                r = run_trainer(preset.network, dataset, settings, jit, checkpoints)
            else:
                r = run_fit(preset.network, dataset, settings, jit)
            results[name].append(r)
            later = sum(r["epochs"][1:])
            print(f"  rep {rep + 1} {name:12s} {r['seconds']:7.2f} s"
                  + (f", epochs after the first {later:6.2f} s" if later else "")
                  + (f", {r['events']} batch events, {r['probes']} probes drawn" if name.startswith("trainer") else ""),
                  flush=True)

    n = len(dataset.x_train)
    base = results.get("fit")

    def run_rate(r: dict[str, Any]) -> float:
        return args.epochs * n / r["seconds"]

    def steady_rate(r: dict[str, Any]) -> float:
        later = r["epochs"][1:]
        return len(later) * n / sum(later) if later else float("nan")

    rows = []
    for name, runs in results.items():
        row = [name, round(pc.median([run_rate(r) for r in runs])), round(pc.median([steady_rate(r) for r in runs]))
               if args.epochs > 1 else "-"]
        if base:
            for rate in (run_rate, steady_rate):
                ratios = [rate(r) / rate(b) for r, b in zip(runs, base)]
                row.append(f"{pc.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
        rows.append(row)
    print()
    print(pc.table(["variant", "samples/s, run", "samples/s, epochs 2+", "ratio to fit: run (median, range)",
                    "ratio: epochs 2+"], rows))
    if base and "trainer" in results:
        trainer = results["trainer"]
        pooled = sum(b["seconds"] for b in base) / sum(r["seconds"] for r in trainer)
        line = f"\ntrainer / fit, pooled over all repetitions: whole runs {pooled:.3f}"
        if args.epochs > 1:
            steady = sum(sum(r["epochs"][1:]) for r in base) / sum(sum(r["epochs"][1:]) for r in trainer)
            line += f", epochs 2+ {steady:.3f}"
            pooled = min(pooled, steady)
        print(line + f" (target >= 0.97): {'OK' if pooled >= 0.97 else 'BELOW TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
