"""Measure how late a 10 ms GUI timer fires while TensorFlow loads and while a real run trains.

Runs the real main window under offscreen Qt, loads LeNet-5, trains it from the training panel on
the bundled MNIST sample and prints the probe timer's lateness (p50, p99, max) per phase. The last
phase starts when the run reports its end (the window's and panels' reactions to it, the autosave)
and lasts until the insight panel has analysed the trained model, plus a second.

    .venv/bin/python scripts/bench_responsiveness.py [--epochs 1] [--threads inter,intra] [--watch TAB]

``--threads`` overrides the TensorFlow thread pools (``0,0`` lets TensorFlow decide). ``--watch``
shows "Inside the network" with one of its tabs (maps, filters, prediction, confusion) during the
run instead of the training curves.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def _stats(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    import numpy as np

    ms = np.asarray(samples) * 1000.0
    return (f"n={len(ms):5d}  p50={np.percentile(ms, 50):6.1f} ms  p99={np.percentile(ms, 99):6.1f} ms  "
            f"max={ms.max():7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", default="", help="TensorFlow inter,intra op threads (0 = default)")
    parser.add_argument("--watch", choices=["maps", "filters", "prediction", "confusion"],
                        help="watch this tab of 'Inside the network' during the run")
    args = parser.parse_args()

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    scratch = tempfile.mkdtemp(prefix="convstudio-bench-")
    os.environ["CONVSTUDIO_OFFLINE"] = "1"  # the bundled sample, whatever is installed
    os.environ["KERAS_HOME"] = scratch
    os.environ.pop("CONVSTUDIO_DATA_DIR", None)
    if args.threads:
        os.environ["CONVSTUDIO_TF_THREADS"] = args.threads

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from convstudio.core.presets import load_preset
    from convstudio.ui import settings as app_settings
    from convstudio.ui.main_window import MainWindow
    from convstudio.ui.tf_loader import TensorFlowLoader

    app = QApplication.instance() or QApplication(sys.argv)
    app_settings.configure_application(app)
    app_settings.use_storage_root(os.path.join(scratch, "config"))
    window = MainWindow()
    window.show()
    preset = load_preset("lenet5")
    window.document.load_network(preset.network)
    window.training_panel.set_settings(preset.settings.replace(epochs=args.epochs, batch_size=args.batch_size))

    phase = "idle"
    samples: dict[str, list[float]] = {"idle": [], "tensorflow import": [], "training: data+build": [],
                                       "training: batches": [], "training: finish": [],
                                       "after the run": []}
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        samples[phase].append(max(0.0, (now - last[0]) / 1e9 - 0.010))
        last[0] = now

    probe = QTimer()
    probe.setTimerType(probe.timerType().PreciseTimer)
    probe.setInterval(10)
    probe.timeout.connect(tick)
    probe.start()

    def run_until(done, limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while not done() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.001)

    run_until(lambda: False, 1.0)
    phase = "tensorflow import"
    loader = TensorFlowLoader(window)
    loader.ready.connect(window.set_tensorflow_ready)
    loader.plottingReady.connect(window.training_panel.build_plots)
    loader.plottingReady.connect(window.build_insight)
    t0 = time.perf_counter()
    loader.start()
    run_until(lambda: loader.is_ready or loader.error is not None, 120)
    import_s = time.perf_counter() - t0
    if loader.error:
        print(loader.error)
        return 1

    if args.watch:
        window.right_tabs.setCurrentIndex(1)
        window.insight.tabs.setCurrentIndex(["maps", "filters", "prediction", "confusion"].index(args.watch))
        run_until(lambda: False, 0.5)

    phase = "training: data+build"
    finished: list = []
    window.controller.runFinished.connect(finished.append)

    def on_batch(_event) -> None:
        nonlocal phase
        if phase == "training: data+build":
            phase = "training: batches"

    def on_epoch(event) -> None:
        nonlocal phase
        if event.epoch + 1 == event.epochs:
            phase = "training: finish"  # test evaluation, autosave of the trained model

    window.controller.batchEnded.connect(on_batch)
    window.controller.epochEnded.connect(on_epoch)
    t0 = time.perf_counter()
    window.training_panel.start()
    run_until(lambda: bool(finished), 600)
    train_s = time.perf_counter() - t0
    phase = "after the run"  # the next tick carries the reactions to the run's end
    insight = window.insight
    run_until(lambda: insight is None or not insight.runner.busy, 120)
    run_until(lambda: False, 1.0)
    probe.stop()

    started = window.controller.last_started
    result = finished[0] if finished else None
    print(f"device: {loader.device}; TF threads override: {args.threads or 'none (one core left to the GUI)'}")
    if started is not None:
        print(f"data: {started.dataset_source} ({started.train_samples} training images, "
              f"{started.steps_per_epoch} steps/epoch, batch {args.batch_size})")
    print(f"TensorFlow import {import_s:.1f} s; training {train_s:.1f} s "
          f"({result.status if result else 'did not finish'}"
          f"{f', test accuracy {result.test_accuracy:.2%}' if result and result.test_accuracy else ''})")
    print("10 ms probe timer lateness:")
    for name, values in samples.items():
        print(f"  {name:22s} {_stats(values)}")
    window.document.undo_stack.setClean()
    window.model_unsaved = False
    window.autosaver.stop()
    return 0 if result is not None and result.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
