"""Benchmark: an image folder of real images, scanned and streamed by ConvStudio and by Keras.

Writes (once, under --root, outside the repository) a folder of Fashion-MNIST images as tinted RGB
PNGs of several sizes, one subfolder per class, with a few damaged files (empty, truncated,
garbage, a text file). Then, in one run:

1. scan: ConvStudio's header scan (``scan_image_folder``) against Keras's own file indexing
   (``image_dataset_from_directory`` lists files by extension and reads no header);
2. input pipeline throughput, images/s, ConvStudio (``load_image_folder`` streamed, or in memory)
   against ``keras.utils.image_dataset_from_directory`` with the same image size, batch size, RGB,
   bilinear stretch, shuffle and cache setting (none / a cache file on disk / memory), repetitions
   interleaved with the order rotated. Keras stops at the first damaged file, so its pipeline gets
   ``.ignore_errors()`` (which drops the whole batch holding a damaged file);
3. whether a training step waits on data: a small CNN trained on the streamed pipeline without
   cache, time spent in ``next(batch)`` against time in the step;
4. peak memory (RSS, in a fresh process each) streaming the folder with a memory limit well
   below its decoded size, against loading it into memory.

    .venv/bin/python scripts/bench_image_folder.py --count 50000 [--later 4] [--root /tmp/cs_bench_folder]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import perf_common as pc

SIZES = [(28, 28), (32, 32), (40, 40), (36, 48), (48, 36), (56, 56)]
CLASS_FOLDERS = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]
DAMAGED_EVERY = 2500  # one damaged file of each kind per this many images


def _write_chunk(args: tuple[str, np.ndarray, np.ndarray, int]) -> int:
    from PIL import Image

    root, images, labels, start = args
    rng = np.random.default_rng(start)
    for k, (img, label) in enumerate(zip(images, labels)):
        tint = rng.uniform(0.35, 1.0, 3)
        rgb = (img[..., None].astype(np.float32) * tint).astype(np.uint8)
        h, w = SIZES[(start + k) % len(SIZES)]
        pil = Image.fromarray(rgb)
        if (h, w) != (28, 28):
            pil = pil.resize((w, h), Image.BILINEAR)
        pil.save(os.path.join(root, CLASS_FOLDERS[label], f"{start + k:06d}.png"))
    return len(images)


def make_folder(root: Path, count: int, npz: str) -> dict[str, int]:
    """Write ``count`` tinted Fashion-MNIST PNGs under ``root`` (kept if already complete)."""
    from multiprocessing import Pool

    stamp = root / ".complete"
    if stamp.exists() and stamp.read_text().strip() == str(count):
        return json.loads((root / ".damaged").read_text())
    shutil.rmtree(root, ignore_errors=True)
    for c in CLASS_FOLDERS:
        (root / c).mkdir(parents=True)
    with np.load(npz) as data:
        x = np.concatenate([data["x_train"], data["x_test"]])[:count]
        y = np.concatenate([data["y_train"], data["y_test"]])[:count]
    if len(x) < count:
        raise SystemExit(f"{npz} has only {len(x):,} images")
    step = 1000
    chunks = [(str(root), x[i:i + step], y[i:i + step], i) for i in range(0, count, step)]
    with Pool(os.cpu_count() or 1) as pool:
        pool.map(_write_chunk, chunks)
    damaged = {"empty": 0, "truncated": 0, "garbage": 0, "text": 0}
    for i in range(0, count, DAMAGED_EVERY):
        folder = root / CLASS_FOLDERS[int(y[i])]
        good = (folder / f"{i:06d}.png").read_bytes()
        (folder / f"empty_{i}.png").write_bytes(b"")
        (folder / f"truncated_{i}.png").write_bytes(good[: len(good) // 2])
        (folder / f"garbage_{i}.png").write_bytes(np.random.default_rng(i).bytes(500))
        (folder / f"notes_{i}.txt").write_text("not an image")
        for k in damaged:
            damaged[k] += 1
    (root / ".damaged").write_text(json.dumps(damaged))
    stamp.write_text(str(count))
    return damaged


def time_scan(root: Path, reps: int) -> list[list[Any]]:
    import keras
    from keras.src.utils import dataset_utils

    from convstudio.core.data.folder_scan import scan_image_folder

    rows = []
    for rep in range(reps):
        t0 = time.perf_counter()
        scan = scan_image_folder(root)
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        paths, _, _ = dataset_utils.index_directory(str(root), "inferred", formats=(".png", ".jpg", ".jpeg",
                                                                                    ".bmp", ".gif"), shuffle=False)
        theirs = time.perf_counter() - t0
        rows.append([f"rep {rep + 1}", len(scan.files), len(scan.skipped), ours, len(paths), theirs,
                     theirs / ours])
    del keras
    print(scan.summary())
    return rows


def _epoch(ds: Any) -> tuple[float, int]:
    t0, n = time.perf_counter(), 0
    for x, _ in ds:
        n += int(x.shape[0])
    return time.perf_counter() - t0, n


def _iterate(ds: Any, epochs: int) -> list[tuple[float, int]]:
    return [_epoch(ds) for _ in range(epochs)]


def _ours(root: Path, scan: Any, cache: str, size: int, batch: int, tmp: str) -> tuple[Any, float]:
    from convstudio.core.data.image_folder import load_image_folder
    from convstudio.core.training import epoch_batches

    t0 = time.perf_counter()
    if cache == "memory":  # decoded once into uint8 arrays, the trainer's in-memory path: an epoch
        # is a seeded permutation gathered batch by batch (reshuffled every epoch, as training needs)
        ds = load_image_folder(root, (size, size), 3, test_split=0.0, scan=scan, memory_limit_mb=10**6)
        setup = time.perf_counter() - t0
        return epoch_batches(ds.x_train, ds.y_train, batch, 0, 0, 1), setup
    decoded_mb = len(scan.files) * size * size * 3 / 2**20
    ds = load_image_folder(root, (size, size), 3, test_split=0.0, scan=scan,
                           memory_limit_mb=min(64.0, decoded_mb / 2), cache_dir=tmp if cache == "disk" else None)
    return ds.stream.pipeline(ds.stream.train_files, batch, "bench", train=True, seed=0), time.perf_counter() - t0


def _keras(root: Path, cache: str, size: int, batch: int, tmp: str) -> tuple[Any, float]:
    import keras
    import tensorflow as tf

    t0 = time.perf_counter()
    ds = keras.utils.image_dataset_from_directory(str(root), image_size=(size, size), batch_size=batch,
                                                  shuffle=True, seed=0, color_mode="rgb", verbose=False)
    ds = ds.ignore_errors()
    if cache == "disk":
        ds = ds.cache(os.path.join(tmp, "keras"))
    elif cache == "memory":
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE), time.perf_counter() - t0


def time_pipelines(root: Path, scan: Any, caches: list[str], size: int, batch: int,
                   later: int) -> list[list[Any]]:
    """Per cache setting: both pipelines built, first epochs (fill the cache) and then ``later``
    epochs each, interleaved one by one with the order alternating; medians and the median ratio."""
    rows = []
    for cache in caches:
        tmp = tempfile.mkdtemp(prefix="cs_bench_cache_")
        try:
            built = {"keras": _keras(root, cache, size, batch, tmp),
                     "convstudio": _ours(root, scan, cache, size, batch, tmp)}
            first = {who: _epoch(ds) for who, (ds, _) in built.items()}
            rates: dict[str, list[float]] = {"convstudio": [], "keras": []}
            for k in range(later):
                for who in (["convstudio", "keras"] if k % 2 == 0 else ["keras", "convstudio"]):
                    t, n = _epoch(built[who][0])
                    rates[who].append(n / t)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        out = {}
        for who in ("convstudio", "keras"):
            setup, (t, n) = built[who][1], first[who]
            out[who] = (n / (t + setup), pc.median(rates[who]))  # setup included: in memory it is the decoding
            rows.append([cache, who, setup, t, n, out[who][0], out[who][1]])
        pair = [a / b for a, b in zip(rates["convstudio"], rates["keras"])]
        rows.append([cache, "ratio convstudio/keras", "", "", "", out["convstudio"][0] / out["keras"][0],
                     f"{pc.median(pair):.2f} ({min(pair):.2f}..{max(pair):.2f})"])
    return rows


def waiting_on_data(root: Path, scan: Any, size: int, batch: int, steps: int) -> dict[str, float]:
    import keras

    from convstudio.core.data.image_folder import load_image_folder

    ds = load_image_folder(root, (size, size), 3, test_split=0.0, scan=scan, memory_limit_mb=0)
    train = ds.stream.pipeline(ds.stream.train_files, batch, "wait", train=True, seed=0)
    model = keras.Sequential([
        keras.Input((size, size, 3)), keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(), keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    it = iter(train.repeat())
    waits, stepts = [], []
    for k in range(steps + 10):
        t0 = time.perf_counter()
        x, y = next(it)
        t1 = time.perf_counter()
        model.train_on_batch(x, y)
        t2 = time.perf_counter()
        if k >= 10:  # the first steps trace the model and fill the prefetch buffer
            waits.append(t1 - t0)
            stepts.append(t2 - t1)
    w, s = np.array(waits), np.array(stepts)
    return {"steps": steps, "median wait ms": 1e3 * float(np.median(w)), "p95 wait ms": 1e3 * float(np.percentile(w, 95)),
            "median step ms": 1e3 * float(np.median(s)), "wait / step (total)": float(w.sum() / s.sum())}


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(root: str, mode: str, limit_mb: float, size: int, batch: int, epochs: int) -> None:
    import tensorflow as tf  # noqa: F401  (imported before the baseline is taken)

    from convstudio.core.data.folder_scan import scan_image_folder
    from convstudio.core.data.image_folder import load_image_folder
    from convstudio.core.pipeline import make_datasets

    scan = scan_image_folder(root)
    base = _peak_mib()
    tmp = tempfile.mkdtemp(prefix="cs_bench_mem_")
    try:
        streamed = mode.startswith("stream")
        ds = load_image_folder(root, (size, size), 3, test_split=0.0, scan=scan,
                               memory_limit_mb=limit_mb if streamed else 10**6,
                               cache_dir=tmp if mode == "stream-disk-cache" else None)
        splits = make_datasets(ds, batch, validation_split=0.1, seed=0)
        n = [e[1] for e in _iterate(splits.train, epochs)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak = _peak_mib()
    decoded = len(scan.files) * size * size * 3 / 2**20
    print(json.dumps({"mode": mode, "streamed": ds.stream is not None, "baseline_mib": base, "peak_mib": peak,
                      "growth_mib": peak - base, "decoded_mib": decoded, "limit_mib": limit_mb, "images": n}))


def peak_memory(root: Path, limit_mb: float, size: int, batch: int, epochs: int) -> list[dict[str, Any]]:
    out = []
    for mode in ("stream-disk-cache", "stream-no-cache", "memory"):
        cmd = [sys.executable, __file__, "--memory-child", mode, "--root", str(root), "--limit-mb", str(limit_mb),
               "--size", str(size), "--batch", str(batch), "--epochs", str(epochs)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
        out.append(json.loads(line[-1]) if line else {"mode": mode, "error": res.stderr[-500:]})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=50_000, help="images to write (default 50,000)")
    p.add_argument("--root", default="/tmp/cs_bench_folder", help="where the folder is written (not the repository)")
    p.add_argument("--npz", default=os.path.join(pc.DEFAULT_DATA_DIR, "fashion_mnist.npz"))
    p.add_argument("--size", type=int, default=32, help="image size both loaders resize to")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2, help="epochs in the memory check (the first fills a cache)")
    p.add_argument("--later", type=int, default=4, help="timed epochs per loader after the first, interleaved")
    p.add_argument("--reps", type=int, default=2, help="scan repetitions")
    p.add_argument("--caches", default="none,disk,memory")
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--limit-mb", type=float, default=32.0, help="memory limit of the streamed configuration")
    p.add_argument("--parts", default="scan,throughput,wait,memory", help="which measurements to run")
    p.add_argument("--memory-child", choices=["stream-disk-cache", "stream-no-cache", "memory"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        memory_child(args.root, args.memory_child, args.limit_mb, args.size, args.batch, args.epochs)
        return
    root = Path(args.root)
    if ROOT_GUARD in root.resolve().parents or root.resolve() == ROOT_GUARD:
        raise SystemExit("write the folder outside the repository")
    t0 = time.perf_counter()
    damaged = make_folder(root, args.count, args.npz)
    print(f"folder: {args.count:,} PNGs under {root} (+ damaged: {damaged}), ready in {time.perf_counter() - t0:.1f} s")
    print(pc.machine_line())
    parts = set(args.parts.split(","))
    if "scan" in parts:
        print("\n## scan (s)")
        print(pc.table(["", "images", "skipped", "convstudio scan", "keras files", "keras index", "keras/ours time"],
                       time_scan(root, args.reps)))
    if parts & {"throughput", "wait"}:
        from convstudio.core.data.folder_scan import scan_image_folder

        scan = scan_image_folder(root)
    if "throughput" in parts:
        print(f"\n## throughput, images/s ({args.size}x{args.size}x3, batch {args.batch}, {args.later} later epochs each)")
        rows = time_pipelines(root, scan, args.caches.split(","), args.size, args.batch, args.later)
        print(pc.table(["cache", "loader", "setup s", "epoch 1 s", "images", "epoch 1 img/s (with setup)",
                        "later epochs img/s (median)"], rows))
    if "wait" in parts:
        print("\n## training step waiting on data (streamed, no cache)")
        print(json.dumps(waiting_on_data(root, scan, args.size, args.batch, args.train_steps), indent=1))
    if "memory" in parts:
        print(f"\n## peak memory (fresh process each; limit {args.limit_mb} MiB)")
        for r in peak_memory(root, args.limit_mb, args.size, args.batch, args.epochs):
            print(json.dumps(r))


ROOT_GUARD = pc.ROOT

if __name__ == "__main__":
    main()
