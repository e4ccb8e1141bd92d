"""Benchmark: the time-per-epoch estimate against the measured epoch time, for every preset (target: within 2x).

The device is calibrated (:func:`convstudio.core.estimate.calibrate`, as the app does it on first
start), then each preset is trained by the app's :class:`Trainer` (run recorder and checkpoints on, as
in the GUI) on the first ``--limit`` MNIST images for ``--epochs`` epochs. Measured is the median
duration of the epochs after the first (the first also builds and traces the model; shown apart);
the ratio is measured / estimated, so above 1 the estimate was optimistic. This machine is shared and
its load drifts: each preset is also estimated from a calibration measured just before it ("fresh"),
which judges the model under the load its epochs ran with; "first" uses the calibration of the start,
as the app (which calibrates once) would.

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_estimate.py \\
        [--limit 6000] [--epochs 3] [--batch 64] [--threads app] [--presets lenet5,vgg_small]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

import perf_common as pc


def _measure(network: Any, dataset: Any, settings: Any) -> tuple[float, float]:
    """(first epoch, median later epoch) seconds of a run of the app's Trainer."""
    from convstudio.core.runs import RunRecorder
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import EpochEnd, EventChannel

    channel = EventChannel()
    with tempfile.TemporaryDirectory() as tmp:
        recorder = RunRecorder(f"{tmp}/runs", title="bench", origin="cli")
        finished = Trainer(network, dataset, settings, channel, f"{tmp}/checkpoint", recorder=recorder).run()
        if finished.status != "completed":
            raise SystemExit(f"training failed: {finished.message}")
    epochs = [e.seconds for e in channel.drain() if isinstance(e, EpochEnd)]
    return epochs[0], pc.median(epochs[1:] or epochs)


def _calibrate(calibrate: Any) -> Any:
    c = calibrate()
    print(f"calibration ({c.took_s:.1f} s, load {os.getloadavg()[0]:.1f}): step {c.step_s * 1e3:.2f} ms, "
          f"MAC {c.mac_s * 1e12:.1f} ps, light {c.light_s * 1e9:.2f} ns, heavy {c.heavy_s * 1e9:.2f} ns, "
          f"resample {c.resample_s * 1e9:.1f} ns, multiply {c.multiply_s * 1e9:.2f} ns per element", flush=True)
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6000, help="training images (before the validation split)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", default="app", help="app, default or inter,intra")
    parser.add_argument("--presets", default="", help="comma-separated preset ids (default: all)")
    args = parser.parse_args()

    threads = pc.set_threads(args.threads)
    from convstudio.core.estimate import calibrate, estimate_epoch, format_rough_duration, workload
    from convstudio.core.presets import list_presets, load_preset
    from convstudio.core.settings import TrainSettings
    from convstudio.core.shapes import analyze

    dataset = pc.load_mnist(args.limit, 500)
    print(pc.machine_line())
    print(threads)
    first = _calibrate(calibrate)
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch)
    ids = [p for p in args.presets.split(",") if p] or [p[0] for p in list_presets()]
    rows = []
    for preset_id in ids:
        network = load_preset(preset_id).network
        analysis = analyze(network, dataset.input_shape, dataset.num_classes)
        work = workload(network, analysis)
        fresh = _calibrate(calibrate)
        estimates = [estimate_epoch(work, len(dataset.x_train), settings.batch_size, settings.validation_split,
                                    c).seconds for c in (fresh, first)]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        first_epoch, later = _measure(network, dataset, settings)
        rows.append([preset_id, f"{analysis.total_macs / 1e6:.1f} M", format_rough_duration(estimates[0]),
                     f"{estimates[0]:.2f}", f"{later:.2f}", f"{first_epoch:.2f}", f"{later / estimates[0]:.2f}",
                     f"{later / estimates[1]:.2f}", f"{load_before:.1f}"])
        print(f"{preset_id}: estimated {estimates[0]:.2f} s (first calibration {estimates[1]:.2f} s), measured "
              f"{later:.2f} s (run {time.perf_counter() - started:.0f} s)", flush=True)
    print()
    print(f"{len(dataset.x_train):,} MNIST images, validation split {settings.validation_split}, "
          f"batch {settings.batch_size}, {args.epochs} epochs")
    print(pc.table(["preset", "MACs/image", "shown", "estimated s", "measured s", "first epoch s",
                    "ratio fresh", "ratio first", "load"], rows))
    print(pc.machine_line())


if __name__ == "__main__":
    main()
