"""Benchmark: resident memory over consecutive training runs in one process (target: growth < 5 %).

Runs go through the app's own path: an offscreen Qt application, an :class:`EditorDocument` holding
the LeNet-5 preset, and the :class:`TrainingController` (worker thread, 100 ms drain timer, probe of
the feature maps, a checkpoint per epoch), each run started like the Start button does. RSS is read
after each run has ended and Python's garbage has been collected.

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_memory.py [--runs 10] [--limit 2000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time

import perf_common as pc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=2000, help="training images per run")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = tempfile.mkdtemp(prefix="convstudio-memory-")
    data = os.path.join(scratch, "data")
    os.makedirs(data)
    import numpy as np

    full = pc.load_mnist()
    np.savez(os.path.join(data, "mnist.npz"), x_train=full.x_train[:args.limit], y_train=full.y_train[:args.limit],
             x_test=full.x_test[:500], y_test=full.y_test[:500])
    del full

    from PySide6.QtWidgets import QApplication

    from convstudio.core.datasets import clear_cache
    from convstudio.ui.document import EditorDocument
    from convstudio.ui.tf_loader import configure_threads
    from convstudio.ui.training_controller import RunRequest, TrainingController

    app = QApplication.instance() or QApplication(sys.argv)
    import keras  # noqa: F401 - as the app's loader thread does before the first run

    configure_threads()
    clear_cache()
    preset = pc.lenet5()
    document = EditorDocument(preset.network)
    controller = TrainingController(document, checkpoint_dir=os.path.join(scratch, "checkpoints"))
    controller.set_probe(_probe_image(data))
    request = RunRequest("mnist", preset.settings.replace(epochs=args.epochs), data_dir=data)
    print(f"{pc.machine_line()}")
    print(f"{args.runs} runs of LeNet-5, {args.epochs} epoch(s) on {args.limit:,} MNIST images each, through the "
          f"TrainingController; RSS after each run")
    rows = []
    for run in range(1, args.runs + 1):
        finished: list = []
        controller.runFinished.connect(finished.append)
        t0 = time.perf_counter()
        reason = controller.start(request)
        if reason:
            raise SystemExit(reason)
        while not finished:
            app.processEvents()
            time.sleep(0.005)
        controller.runFinished.disconnect(finished.append)
        if finished[0].status != "completed":
            raise SystemExit(f"run {run} ended with {finished[0].status}: {finished[0].message}")
        gc.collect()
        app.processEvents()
        rows.append([run, round(time.perf_counter() - t0, 1), pc.rss_mib(), finished[0].test_accuracy])
        print(f"  run {run:2d}: {rows[-1][1]:5.1f} s, RSS {rows[-1][2]:7.1f} MiB", flush=True)
    first, last = rows[0][2], rows[-1][2]
    second = rows[1][2] if len(rows) > 1 else first
    growth = (last - first) / first * 100
    print()
    print(pc.table(["run", "seconds", "RSS MiB", "test accuracy"], rows))
    print(f"\nRSS after run 1 {first:.1f} MiB, after run {len(rows)} {last:.1f} MiB: growth {growth:+.1f} % "
          f"(target < 5 %): {'OK' if growth < 5 else 'ABOVE TARGET'}; "
          f"per run after the second {(last - second) / max(1, len(rows) - 2):+.1f} MiB")
    return 0


def _probe_image(data: str):
    import numpy as np

    with np.load(os.path.join(data, "mnist.npz")) as d:
        return d["x_test"][0]


if __name__ == "__main__":
    raise SystemExit(main())
