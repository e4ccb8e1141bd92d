"""Preprocessing and the tf.data input pipeline.

``normalize`` is the one definition of ConvStudio's preprocessing (uint8 pixels to float32 in
[0, 1], NHWC); training, inspection and export all go through it or, inside tf.data, through
``_scale_tf`` which computes the same values (tests hold the two to equality).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .datasets import Dataset

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["PIXEL_MAX", "Splits", "make_datasets", "normalize", "representative_batches",
           "split_indices"]

PIXEL_MAX = 255.0


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 images ``(n, h, w)``, ``(n, h, w, c)`` or one ``(h, w)`` as float32 ``(n, h, w, c)`` in [0, 1]
    (grey images get one channel)."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"normalize expects uint8 pixels 0..255, got {x.dtype} "
                             "(float images are taken to be normalized already)")
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(f"pixel values run from {x.min()} to {x.max()}, expected 0..255")
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] > 4:
        raise ValueError(f"expected images shaped (n, h, w), (n, h, w, c) with 1 to 4 channels or (h, w), "
                         f"got {x.shape}")
    return x.astype(np.float32) / np.float32(PIXEL_MAX)


def _scale_tf(image: Any, label: Any) -> tuple[Any, Any]:
    """``normalize`` inside tf.data, for a batch of images ``(b, h, w)`` or ``(b, h, w, c)`` and labels."""
    import tensorflow as tf

    x = tf.cast(image, tf.float32) / tf.constant(PIXEL_MAX, tf.float32)
    if x.shape.rank == 3:  # a batch of grey images stored without a channel axis
        x = tf.expand_dims(x, -1)
    return x, tf.cast(label, tf.int32)


@dataclass(frozen=True)
class Splits:
    """Train, validation and test pipelines of (float32 image (h, w, 1), int32 label) batches.

    ``val`` is ``None`` when the validation split is empty. ``counts`` and ``steps`` are keyed
    ``"train"``, ``"val"``, ``"test"``.
    """

    train: tf.data.Dataset
    val: tf.data.Dataset | None
    test: tf.data.Dataset
    counts: dict[str, int]
    steps: dict[str, int]
    batch_size: int
    train_index: np.ndarray
    val_index: np.ndarray

    @property
    def steps_per_epoch(self) -> int:
        return self.steps["train"]

    @property
    def validation_steps(self) -> int:
        return self.steps["val"]

    @property
    def test_steps(self) -> int:
        return self.steps["test"]


def split_indices(n: int, validation_split: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, validation) indices into ``n`` training images, the same for the same seed."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"The validation split must be at least 0 and below 1, got {validation_split}.")
    n_val = int(round(n * validation_split))
    if n - n_val < 1:
        raise ValueError(f"A validation split of {validation_split:.0%} leaves no training images "
                         f"out of {n}.")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def make_datasets(dataset: Dataset, batch_size: int, validation_split: float = 0.1, seed: int = 0,
                  shuffle: bool = True) -> Splits:
    """tf.data pipelines for ``dataset``: shuffle (train, every epoch), batch, normalize, prefetch.

    The validation images are a seeded random part of the training set. A dataset streamed from
    disk (an image folder larger than memory, ``dataset.stream`` set) builds its own pipelines
    with the same split (:meth:`~convstudio.core.data.image_folder.FolderStream.make_splits`). Images stay uint8 until a
    batch is normalized in one vectorised step: the arrays are already in memory, so nothing is
    cached (a float32 cache would take four times their size) and the first epoch does not map
    every image one by one (see docs/PERFORMANCE.md, input pipeline).
    """
    import tensorflow as tf

    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"The batch size must be a whole number of at least 1, got {batch_size!r}.")
    batch_size = int(batch_size)
    stream = getattr(dataset, "stream", None)
    if stream is not None:
        return stream.make_splits(batch_size, validation_split, seed, shuffle)
    train_idx, val_idx = split_indices(len(dataset.x_train), validation_split, seed)

    def pipeline(x: np.ndarray, y: np.ndarray, train: bool) -> tf.data.Dataset:
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if train and shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(_scale_tf, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    x_train, y_train = dataset.x_train, dataset.y_train
    train = pipeline(x_train[train_idx], y_train[train_idx], True)
    val = pipeline(x_train[val_idx], y_train[val_idx], False) if len(val_idx) else None
    test = pipeline(dataset.x_test, dataset.y_test, False)
    counts = {"train": len(train_idx), "val": len(val_idx), "test": len(dataset.x_test)}
    steps = {k: math.ceil(v / batch_size) for k, v in counts.items()}
    return Splits(train, val, test, counts, steps, batch_size, train_idx, val_idx)


def representative_batches(dataset: Dataset, n: int = 100, batch_size: int = 1,
                           seed: int = 0) -> Iterator[np.ndarray]:
    """``n`` batches of normalized training images picked at random (seeded), for int8 calibration.

    Each batch is float32 ``(batch_size, h, w, 1)``; TFLite's ``representative_dataset`` wants
    each wrapped in a list: ``lambda: ([b] for b in representative_batches(ds))``.
    """
    total = len(dataset.x_train)
    count = min(n * batch_size, total)
    picks = np.random.default_rng(seed).choice(total, size=count, replace=False)
    for start in range(0, count, batch_size):
        yield normalize(dataset.x_train[picks[start:start + batch_size]])
