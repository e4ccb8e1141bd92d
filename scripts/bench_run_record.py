"""Benchmark: what recording a run costs (run record, TensorBoard, health probes), against the bare trainer.

Trains the LeNet-5 preset with the app's :class:`Trainer`, with and without a :class:`RunRecorder`,
repetitions interleaved, and reports training throughput (epochs after the first) and their ratio,
plus the cost of one epoch's health probe on its 64-image batch.

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_run_record.py \\
        [--limit 12000] [--epochs 3] [--reps 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _run(network, dataset, settings, root: Path | None) -> float:
    """Images per second over the epochs after the first."""
    import keras

    from convstudio.core.runs import RunRecorder
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import EpochEnd, EventChannel

    keras.backend.clear_session()
    channel = EventChannel()
    recorder = RunRecorder(root) if root is not None else None
    finished = Trainer(network, dataset, settings, channel, recorder=recorder).run()
    assert finished.status == "completed", finished.message
    epochs = [e for e in channel.drain() if isinstance(e, EpochEnd)][1:]
    images = len(dataset.x_train) * (1 - settings.validation_split)
    return images * len(epochs) / sum(e.seconds for e in epochs)


def _probe_ms(network, dataset) -> float:
    from convstudio.core.builder import build_model
    from convstudio.core.health.probes import dead_relu_shares, gradient_norms, relu_blocks, weighted_blocks
    from convstudio.core.pipeline import normalize

    model = build_model(network, dataset.input_shape, dataset.num_classes)
    x, y = normalize(dataset.x_train[:64]), dataset.y_train[:64].astype("int64")
    weighted, relus = weighted_blocks(network, model), relu_blocks(network, model)
    times = []
    for _ in range(6):
        start = time.perf_counter()
        gradient_norms(model, weighted, x, y)
        dead_relu_shares(model, relus, x)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()

    from convstudio.core.datasets import Dataset, load_dataset
    from convstudio.core.presets import preset_path
    from convstudio.core.project import load_project

    full = load_dataset("mnist", allow_download=False)
    data = Dataset("mnist", full.x_train[:args.limit], full.y_train[:args.limit], full.x_test[:1000],
                   full.y_test[:1000], full.class_names, source=full.source)
    project = load_project(preset_path("lenet5"))
    settings = project.settings.replace(epochs=args.epochs, validation_split=0.1, batch_event_interval_s=0.1)
    rates: dict[str, list[float]] = {"bare": [], "recorded": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.reps):
            rates["bare"].append(_run(project.network, data, settings, None))
            rates["recorded"].append(_run(project.network, data, settings, Path(tmp)))
    bare, recorded = max(rates["bare"]), max(rates["recorded"])
    print(f"bare trainer: {bare:,.0f} img/s; recorded: {recorded:,.0f} img/s; ratio {recorded / bare:.3f} "
          f"(best of {args.reps}, {args.limit} images, epochs 2..{args.epochs})")
    print(f"health probe per epoch (64 images, gradients + ReLUs): {_probe_ms(project.network, data):.1f} ms")


if __name__ == "__main__":
    main()
