"""Benchmark: is the training step waiting on data? The app's tf.data pipeline against data already in memory.

Same LeNet-5 model (same initial weights), batch size and thread pools; variants interleaved with the
order rotated:

- ``tf.data (app)``: ``make_datasets`` as the trainer uses it (shuffle, batch, normalise each batch, prefetch);
- ``per-image map + cache``: the pipeline the app had before (normalise each image, cache, shuffle,
  batch, prefetch), for comparison;
- ``materialised``: the same batches, made once beforehand and held as tensors, fed without any work;
- ``numpy``: normalised float32 arrays handed to ``fit`` (Keras's own array adapter shuffles and batches).

It also times the pipeline alone (iterating the batches without training). Figures are samples per
second in the epochs after the first, and the first epoch's seconds (it traces the step, and fills
the cache where there is one).

    CONVSTUDIO_DATA_DIR=/work/shared/datasets .venv/bin/python scripts/bench_input_pipeline.py \\
        [--limit 60000] [--epochs 3] [--reps 3]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import perf_common as pc


def _model(network: Any, settings: Any) -> Any:
    import keras

    from convstudio.core.builder import build_model
    from convstudio.core.training import compile_model

    keras.backend.clear_session()
    gc.collect()
    keras.utils.set_random_seed(settings.seed)
    model = build_model(network)
    compile_model(model, settings)
    return model


def _per_image_pipeline(dataset: Any, batch: int, seed: int) -> Any:
    """The earlier pipeline: normalise image by image, cache the float32 images, shuffle, batch, prefetch."""
    import tensorflow as tf

    from convstudio.core.pipeline import _scale_tf

    ds = tf.data.Dataset.from_tensor_slices((dataset.x_train, dataset.y_train))
    ds = ds.map(_scale_tf, num_parallel_calls=tf.data.AUTOTUNE).cache()
    ds = ds.shuffle(len(dataset.x_train), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="training images (default: all 60,000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", default="app", help="app, default, or inter,intra")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from convstudio.core.pipeline import make_datasets, normalize

    threads = pc.set_threads(args.threads)
    preset = pc.lenet5()
    settings = preset.settings.replace(epochs=args.epochs, validation_split=0.0)
    dataset = pc.load_mnist(args.limit, test_limit=16)
    n, batch = len(dataset.x_train), settings.batch_size
    print(f"{pc.machine_line()}; {threads}")
    print(f"LeNet-5 preset, {dataset.source}, batch {batch}, {args.epochs} epochs; {args.reps} repetitions, "
          "order rotated")

    splits = make_datasets(dataset, batch, 0.0, settings.seed)
    batches = list(splits.train)  # one epoch's batches, in the pipeline's order
    xs, ys = [b[0] for b in batches], [b[1] for b in batches]
    # The same batches held as tensors: full batches stacked, the smaller last one appended.
    full = len(xs) if n % batch == 0 else len(xs) - 1
    cached = tf.data.Dataset.from_tensor_slices((tf.stack(xs[:full]), tf.stack(ys[:full])))
    if full < len(xs):
        cached = cached.concatenate(tf.data.Dataset.from_tensors((xs[-1], ys[-1])))
    x_np, y_np = normalize(dataset.x_train), dataset.y_train.astype(np.int32)

    pipeline_rates = []
    for _ in range(args.reps):
        fresh = make_datasets(dataset, batch, 0.0, settings.seed).train
        for _ in fresh:  # first pass fills the cache
            pass
        t0 = time.perf_counter()
        count = sum(int(b[0].shape[0]) for b in fresh)
        pipeline_rates.append(count / (time.perf_counter() - t0))

    def run(name: str) -> list[float]:
        model = _model(preset.network, settings)
        timer = pc.epoch_timer()
        if name == "tf.data (app)":
            data = make_datasets(dataset, batch, 0.0, settings.seed).train
            model.fit(data, epochs=args.epochs, verbose=0, callbacks=[timer], shuffle=False)
        elif name == "per-image map + cache":
            model.fit(_per_image_pipeline(dataset, batch, settings.seed), epochs=args.epochs, verbose=0,
                      callbacks=[timer], shuffle=False)
        elif name == "materialised":
            model.fit(cached, epochs=args.epochs, verbose=0, callbacks=[timer], shuffle=False)
        else:
            model.fit(x_np, y_np, batch_size=batch, epochs=args.epochs, verbose=0, callbacks=[timer], shuffle=True)
        return timer.seconds

    variants = ["tf.data (app)", "per-image map + cache", "materialised", "numpy"]
    results: dict[str, list[float]] = {v: [] for v in variants}
    firsts: dict[str, list[float]] = {v: [] for v in variants}
    for rep in range(args.reps):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for name in order:
            seconds = run(name)
            later = seconds[1:]
            rate = len(later) * n / sum(later)
            results[name].append(rate)
            firsts[name].append(seconds[0])
            print(f"  rep {rep + 1} {name:14s} epochs {', '.join(f'{s:.2f}' for s in seconds)} s -> "
                  f"{rate:,.0f} samples/s", flush=True)
    base = results["tf.data (app)"]
    rows = [[name, round(pc.median(rates)), f"{pc.median([r / b for r, b in zip(rates, base)]):.3f}",
             pc.median(firsts[name])] for name, rates in results.items()]
    rows.append(["pipeline alone (no training)", round(pc.median(pipeline_rates)), "-", "-"])
    print()
    print(pc.table(["input", "samples/s, epochs 2+ (median)", "ratio to tf.data (app), same rep",
                    "first epoch s (median)"], rows))
    share = pc.median(base) / pc.median(pipeline_rates)
    print(f"\nthe app's pipeline delivers batches {1 / share:.0f}x faster than training consumes them; "
          f"with prefetch the step waits on data only if the ratios above fall clearly below 1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
