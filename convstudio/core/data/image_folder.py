"""An image folder as a :class:`Dataset`: in memory when it fits, else streamed from disk by tf.data.

``load_image_folder`` scans first (:mod:`.folder_scan`), picks the image size (the most common one
unless given) and the channels (grey only when every image is grey, unless given), holds out a
seeded, per-class test part unless a separate test folder is given, then decodes. A folder whose
decoded images fit in ``memory_limit_mb`` is decoded once into uint8 arrays; a larger one keeps
only file names, and :meth:`FolderStream.make_splits` decodes each batch on the fly (optionally
cached to disk, prefetched). A file that fails to decode is dropped and recorded, never an error.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets import Dataset
from .folder_scan import ImageFolderScan, ScanError, scan_image_folder
from .image_decode import ImageSpec, decode_function

if TYPE_CHECKING:
    import tensorflow as tf

    from ..pipeline import Splits

__all__ = ["DEFAULT_MEMORY_LIMIT_MB", "FileList", "FolderStream", "ImageFolderDataset", "decode_files", "folder_geometry",
           "load_image_folder"]

DEFAULT_MEMORY_LIMIT_MB = 1024
PREVIEW_IMAGES = 512  # training images kept in memory for views when the folder is streamed
SHUFFLE_BUFFER_MB = 64  # bound on the shuffle buffer after a disk cache
DECODE_BATCH = 256


@dataclass(frozen=True)
class FileList:
    """Image files with their labels and whether TensorFlow decodes them (else Pillow)."""

    paths: np.ndarray
    labels: np.ndarray
    native: np.ndarray

    @classmethod
    def from_scan(cls, scan: ImageFolderScan) -> FileList:
        return cls(np.array(scan.files, dtype=object), np.array(scan.labels, dtype=np.int32),
                   np.array([h.native for h in scan.headers], dtype=bool))

    def take(self, index: np.ndarray) -> FileList:
        return FileList(self.paths[index], self.labels[index], self.native[index])

    def __len__(self) -> int:
        return len(self.paths)


def _file_dataset(files: FileList) -> tf.data.Dataset:
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(
        (files.paths.astype(str), files.labels, np.arange(len(files), dtype=np.int64), files.native))


def decode_files(files: FileList, spec: ImageSpec) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Decode every file into ``(n, h, w, c)`` uint8 images and labels; also the indices that failed."""
    import tensorflow as tf

    out = np.zeros((len(files), *spec.shape), dtype=np.uint8)
    ok = np.zeros(len(files), dtype=bool)
    if len(files):
        ds = (_file_dataset(files)
              .map(decode_function(spec, not files.native.all()), num_parallel_calls=tf.data.AUTOTUNE,
                   deterministic=False)
              .ignore_errors().batch(DECODE_BATCH).prefetch(2))
        for images, _, index in ds.as_numpy_iterator():
            out[index] = images
            ok[index] = True
    failed = np.flatnonzero(~ok).tolist()
    if failed:
        keep = np.flatnonzero(ok)
        out = out[keep]
        return out, files.labels[keep].astype(np.uint8), failed
    return out, files.labels.astype(np.uint8), failed


class FolderStream:
    """The files of a folder too large for memory, and the tf.data pipelines that decode them per batch.

    ``cache_dir``: decoded uint8 images are cached to files there after the first pass (the
    folder is created; its cache files are only written, never deleted). ``decode_failures``
    names the files each split dropped once a pass over that split has completed.
    """

    def __init__(self, spec: ImageSpec, train: FileList, test: FileList, cache_dir: str | None = None,
                 memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB) -> None:
        self.spec, self.train_files, self.test_files, self.cache_dir = spec, train, test, cache_dir
        # the shuffle buffer after a disk cache holds decoded images: a quarter of the limit at most
        self.shuffle_bytes = min(SHUFFLE_BUFFER_MB * 2**20, memory_limit_mb * 2**20 / 4)
        self._seen: dict[str, tuple[FileList, Any]] = {}

    def _cache_path(self, name: str, files: FileList) -> str | None:
        """The cache prefix for ``files`` made with this spec; a new one while another iterator holds it.

        The name carries a digest of the file list and labels, so a different split or folder
        never reads a stale cache.
        """
        if not self.cache_dir:
            return None
        folder = Path(self.cache_dir).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1("\n".join(f"{p}\t{y}" for p, y in zip(files.paths, files.labels)).encode())
        s = self.spec
        prefix = str(folder / f"{name}-{s.height}x{s.width}x{s.channels}-{s.resize}-{digest.hexdigest()[:12]}")
        if Path(prefix + "_0.lockfile").exists():  # TensorFlow refuses a second writer on one prefix
            prefix += f"-{os.getpid()}-{time.monotonic_ns()}"
        return prefix

    def pipeline(self, files: FileList, batch_size: int, name: str, train: bool = False, seed: int = 0,
                 shuffle: bool = True) -> tf.data.Dataset:
        """Batches of (float32 image in [0, 1], int32 label): decode in parallel, drop damaged files,
        cache (if a cache folder is set), shuffle, batch, scale, prefetch."""
        import tensorflow as tf

        from ..pipeline import _scale_tf

        if train and shuffle and self.cache_dir:
            # the cache keeps one order and the buffer after it is bounded: make that order random
            # (the scan lists files class by class)
            files = files.take(np.random.default_rng(seed).permutation(len(files)))
        cache = self._cache_path(name.split("-")[0], files)
        seen = tf.Variable(tf.zeros([len(files)], tf.bool), trainable=False)
        self._seen[name] = (files, seen)

        @tf.autograph.experimental.do_not_convert
        def mark_and_scale(images: Any, labels: Any, index: Any) -> tuple[Any, Any]:
            """Note which files arrived (one update per batch), then scale as ``make_datasets`` does."""
            update = seen.scatter_nd_update(index[:, None], tf.ones_like(index, tf.bool))
            with tf.control_dependencies([update]):
                return _scale_tf(tf.identity(images), labels)

        ds = _file_dataset(files)
        if train and shuffle and cache is None:  # reshuffling names is free; decoded images are not
            ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(decode_function(self.spec, not files.native.all()), num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=not train)
        ds = ds.ignore_errors()
        if cache is not None:
            ds = ds.cache(cache)
            if train and shuffle:
                image_bytes = int(np.prod(self.spec.shape))
                buffer = max(4 * batch_size, min(len(files), int(self.shuffle_bytes // image_bytes)))
                ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(mark_and_scale, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    def make_splits(self, batch_size: int, validation_split: float = 0.1, seed: int = 0,
                    shuffle: bool = True) -> Splits:
        """Train, validation (a seeded part of the training files) and test pipelines, as ``make_datasets``."""
        from ..pipeline import Splits, split_indices

        train_idx, val_idx = split_indices(len(self.train_files), validation_split, seed)
        train = self.pipeline(self.train_files.take(train_idx), batch_size, "train", True, seed, shuffle)
        val = (self.pipeline(self.train_files.take(val_idx), batch_size, f"val-{seed}-{validation_split:g}")
               if len(val_idx) else None)
        test = self.pipeline(self.test_files, batch_size, "test")
        counts = {"train": len(train_idx), "val": len(val_idx), "test": len(self.test_files)}
        steps = {k: math.ceil(v / batch_size) for k, v in counts.items()}
        return Splits(train, val, test, counts, steps, batch_size, train_idx, val_idx)

    def decode_failures(self) -> list[str]:
        """Files dropped so far because they did not decode (valid once a split was read through)."""
        out: list[str] = []
        for files, seen in self._seen.values():
            flags = seen.numpy()
            if flags.any():
                out += [str(p) for p in files.paths[~flags]]
        return sorted(set(out))


@dataclass
class ImageFolderDataset(Dataset):
    """A :class:`Dataset` from an image folder, with its scan and what failed to decode.

    When ``stream`` is set the folder did not fit in memory: ``x_train`` holds only a seeded
    preview of the training images (for views) and ``make_datasets`` streams the files.
    """

    scan: ImageFolderScan | None = None
    test_scan: ImageFolderScan | None = None
    spec: ImageSpec | None = None
    decode_skipped: list[str] = field(default_factory=list)
    stream: FolderStream | None = None


def _held_out(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A seeded ``fraction`` of each class's indices (sorted)."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        picks.append(rng.permutation(idx)[:round(len(idx) * fraction)])
    return np.sort(np.concatenate(picks)) if picks else np.zeros(0, np.int64)


def _test_scan(test_dir: str | os.PathLike, class_names: list[str]) -> ImageFolderScan:
    root = Path(test_dir).expanduser()
    if not root.is_dir():
        raise ScanError(f"{root}: no such test folder")
    extra = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")
                   and e.name not in class_names)
    if extra:
        raise ScanError(f"{root}: test classes {', '.join(extra)} are not among the training classes "
                        f"({', '.join(class_names)})")
    return scan_image_folder(root, class_names)


def folder_geometry(scan: ImageFolderScan) -> tuple[tuple[int, int, int], int]:
    """The image shape an image folder loads as by default (its most common size; grey only when every
    image is grey) and its number of classes, from the scan alone."""
    spec = _spec(scan, None, None, "stretch")
    return (spec.height, spec.width, spec.channels), len(scan.class_names)


def _spec(scan: ImageFolderScan, image_size: tuple[int, int] | None, channels: int | None,
          resize: str) -> ImageSpec:
    if image_size is None:
        (h, w), _ = scan.common_sizes(1)[0]
    else:
        try:
            h, w = (int(v) for v in image_size)
        except (TypeError, ValueError):
            raise ValueError(f"The image size must be (height, width), got {image_size!r}.") from None
    return ImageSpec(h, w, channels if channels is not None else (1 if scan.all_grey else 3), resize)


def _split(scan: ImageFolderScan, test_dir: str | os.PathLike | None, test_split: float,
           seed: int) -> tuple[FileList, FileList, ImageFolderScan | None]:
    files = FileList.from_scan(scan)
    if test_dir is not None:
        test_scan = _test_scan(test_dir, scan.class_names)
        return files, FileList.from_scan(test_scan), test_scan
    if not 0.0 <= test_split < 1.0:
        raise ValueError(f"The test split must be at least 0 and below 1, got {test_split}.")
    test_idx = _held_out(files.labels, test_split, seed)
    train_idx = np.setdiff1d(np.arange(len(files)), test_idx)
    if not len(train_idx):
        raise ValueError(f"A test split of {test_split:.0%} leaves no training images.")
    return files.take(train_idx), files.take(test_idx), None


_FITTED = {"stretch": "", "crop": " (centre-cropped to fit)", "pad": " (padded to fit)"}


def _as_stored(x: np.ndarray) -> np.ndarray:
    """Grey images stored ``(n, h, w)`` like MNIST; read-only because datasets are shared."""
    if x.shape[-1] == 1:
        x = x[..., 0]
    x.flags.writeable = False
    return x


def load_image_folder(path: str | os.PathLike, image_size: tuple[int, int] | None = None,
                      channels: int | None = None, resize: str = "stretch",
                      test_dir: str | os.PathLike | None = None, test_split: float = 0.2, seed: int = 0,
                      memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB, cache_dir: str | None = None,
                      scan: ImageFolderScan | None = None) -> ImageFolderDataset:
    """An image folder (one subfolder per class) as a dataset of ``image_size`` x ``channels`` images.

    ``resize``: ``"stretch"``, ``"crop"`` (centre crop to the aspect ratio) or ``"pad"`` (zero
    padding). Without ``test_dir`` a seeded ``test_split`` of each class is held out for testing;
    the validation split is made later by ``make_datasets`` as for every dataset. Folders whose
    decoded images exceed ``memory_limit_mb`` are streamed (``cache_dir``: optional disk cache).
    Raises :class:`ScanError` or ``ValueError`` with a one-line message for unusable input.
    """
    scan = scan if scan is not None else scan_image_folder(path)
    if not scan.files:
        why = f" ({len(scan.skipped):,} files skipped: {', '.join(scan.skipped_reasons)})" if scan.skipped else ""
        raise ScanError(f"{scan.root}: no usable images in the class folders{why}")
    spec = _spec(scan, image_size, channels, resize)
    train, test, test_scan = _split(scan, test_dir, test_split, seed)
    per_image = int(np.prod(spec.shape))
    streamed = (len(train) + len(test)) * per_image > memory_limit_mb * 2**20
    common = {"class_names": list(scan.class_names), "scan": scan, "test_scan": test_scan, "spec": spec}
    name = "image_folder"
    if not streamed:
        x_train, y_train, bad_train = decode_files(train, spec)
        x_test, y_test, bad_test = decode_files(test, spec)
        bad = [str(train.paths[i]) for i in bad_train] + [str(test.paths[i]) for i in bad_test]
        source = (f"image folder {scan.root}: {len(x_train):,} training and {len(x_test):,} test images, "
                  f"{spec.height}x{spec.width}x{spec.channels}{_FITTED[spec.resize]}, in memory")
        attempts = scan.summary().splitlines() + ([f"{len(bad):,} files could not be decoded and were skipped"] if bad else [])
        return ImageFolderDataset(name, _as_stored(x_train), y_train, _as_stored(x_test), y_test,
                                  source=source, attempts=attempts, decode_skipped=bad, **common)
    stream = FolderStream(spec, train, test, cache_dir, memory_limit_mb)
    rng = np.random.default_rng(seed)
    preview = train.take(np.sort(rng.permutation(len(train))[:PREVIEW_IMAGES]))
    x_prev, y_prev, _ = decode_files(preview, spec)
    test_budget = memory_limit_mb * 2**20 / 2  # views need the test images; keep them if they fit
    test_keep = test if len(test) * per_image <= test_budget else \
        test.take(np.sort(rng.permutation(len(test))[:max(1, int(test_budget // per_image))]))
    x_test, y_test, _ = decode_files(test_keep, spec)
    source = (f"image folder {scan.root}: {len(train):,} training and {len(test):,} test images, "
              f"{spec.height}x{spec.width}x{spec.channels}{_FITTED[spec.resize]}, streamed from disk"
              + (f" (cached in {cache_dir})" if cache_dir else ""))
    return ImageFolderDataset(name, _as_stored(x_prev), y_prev, _as_stored(x_test), y_test, source=source,
                              attempts=scan.summary().splitlines(), stream=stream, **common)
