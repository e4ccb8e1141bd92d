"""Benchmark: what KerasTuner adds to a sweep, against the same trials trained one after another.

Trains ``--trials`` recorded runs of a small network on an MNIST slice twice, in turns: as a grid sweep
(:func:`run_sweep`: KerasTuner's oracle and tuner around the app's trainer) and as plain recorded runs
with the same settings, and prints the seconds per trial of each and their difference (target: under
0.2 s per trial). Run with ``python scripts/bench_sweep.py [--trials 6] [--images 512] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from convstudio.core.datasets import Dataset, load_dataset
from convstudio.core.network import Network
from convstudio.core.runs import RunRecorder
from convstudio.core.settings import TrainSettings
from convstudio.core.sweeps import SweepAxis, SweepJob, SweepSpec, apply_trial, run_sweep
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel


def _slice(images: int) -> Dataset:
    full = load_dataset("mnist", allow_download=False)
    return Dataset("mnist", np.asarray(full.x_train[:images]), np.asarray(full.y_train[:images]),
                   np.asarray(full.x_test[:images // 4]), np.asarray(full.y_test[:images // 4]),
                   full.class_names, source=f"{full.source} (first {images})", is_sample=full.is_sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data = _slice(args.images)
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    settings = TrainSettings(epochs=1, batch_size=32, validation_split=0.2)
    spec = SweepSpec((SweepAxis("conv2d_1.filters", tuple(range(2, 2 + args.trials))),), "grid")
    sweep_s, plain_s = [], []
    with tempfile.TemporaryDirectory() as tmp:
        Trainer(net, data, settings, EventChannel()).run()  # warm-up: TensorFlow's first trace
        for i in range(args.rounds):
            start = time.perf_counter()
            run_sweep(SweepJob(spec, net, settings, data, Path(tmp) / f"sweep{i}.runs"))
            sweep_s.append((time.perf_counter() - start) / args.trials)
            start = time.perf_counter()
            for values in spec.combinations():
                trial_net, trial_settings = apply_trial(net, settings, values)
                Trainer(trial_net, data, trial_settings, EventChannel(),
                        recorder=RunRecorder(Path(tmp) / f"plain{i}.runs")).run()
            plain_s.append((time.perf_counter() - start) / args.trials)
    sweep, plain = statistics.median(sweep_s), statistics.median(plain_s)
    print(f"{args.trials} trials of 1 epoch on {args.images} images, median of {args.rounds} rounds")
    print(f"sweep (KerasTuner + trainer): {sweep:.2f} s per trial")
    print(f"plain recorded runs:          {plain:.2f} s per trial")
    print(f"KerasTuner adds:              {sweep - plain:+.2f} s per trial")


if __name__ == "__main__":
    main()
