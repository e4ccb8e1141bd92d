"""CIFAR-10 from the official files: the Keras cache, or a folder with the Python or binary batches.

Python version (``cifar-10-batches-py``: ``data_batch_1`` .. ``_5``, ``test_batch``,
``batches.meta``) is read with :mod:`.safe_pickle`, never Python's default unpickler. Binary version
(``cifar-10-batches-bin``: ``data_batch_N.bin``, ``test_batch.bin``, ``batches.meta.txt``) is plain
bytes: per record one label byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32).
Images come out as Keras gives them: uint8 ``(n, 32, 32, 3)``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..datasets import Dataset, DatasetNotFound
from .safe_pickle import load_restricted

__all__ = ["CIFAR10_CLASSES", "CifarError", "load_cifar10", "parse_bin_batch", "parse_py_batch"]

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 3072
_TRAIN_BATCHES = 5
PY_DIR, BIN_DIR = "cifar-10-batches-py", "cifar-10-batches-bin"
# where keras.datasets.cifar10 leaves the Python version, by Keras version
_KERAS_CACHE_DIRS = (PY_DIR, f"{PY_DIR}-target/{PY_DIR}", f"{PY_DIR}_extracted/{PY_DIR}",
                     f"{PY_DIR}-target_extracted/{PY_DIR}")

Batch = tuple[np.ndarray, np.ndarray]


class CifarError(ValueError):
    """A CIFAR file is damaged or is not what its name says; the message says why."""


def _to_images(flat: np.ndarray) -> np.ndarray:
    """Channel-first rows ``(n, 3072)`` as ``(n, 32, 32, 3)`` (what ``keras.datasets.cifar10`` returns)."""
    return np.ascontiguousarray(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _checked_labels(labels: np.ndarray, n: int, what: str) -> np.ndarray:
    if labels.ndim != 1 or len(labels) != n:
        raise CifarError(f"{what}: {n:,} images but {labels.size:,} labels")
    if n and (labels.min() < 0 or labels.max() > 9):
        raise CifarError(f"{what}: labels run from {labels.min()} to {labels.max()}, expected 0..9")
    return labels.astype(np.uint8)


def parse_bin_batch(data: bytes, what: str = "batch") -> Batch:
    """Images and labels from one binary-version batch (records of 1 label + 3072 pixel bytes)."""
    if not data or len(data) % RECORD:
        raise CifarError(f"{what}: {len(data):,} bytes is not a whole number of {RECORD}-byte records")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    labels = _checked_labels(records[:, 0], len(records), what)
    return _to_images(records[:, 1:]), labels


def parse_py_batch(data: bytes, what: str = "batch") -> Batch:
    """Images and labels from one Python-version batch (a pickled dict), loaded with the restricted unpickler."""
    try:
        batch = load_restricted(data)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise CifarError(f"{what}: not a CIFAR batch ({exc})") from exc
    if not isinstance(batch, dict):
        raise CifarError(f"{what}: holds a {type(batch).__name__}, expected a dict")
    batch = {k.decode("utf-8", "replace") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    images, labels = batch.get("data"), batch.get("labels", batch.get("fine_labels"))
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 \
            or images.shape[1] != 3072:
        got = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise CifarError(f"{what}: 'data' is {got}, expected uint8 rows of 3072 pixels")
    if not isinstance(labels, (list, np.ndarray)):
        raise CifarError(f"{what}: no list of labels")
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise CifarError(f"{what}: labels are not whole numbers") from exc
    return _to_images(images), _checked_labels(label_array, len(images), what)


def _py_names(folder: Path) -> list[str] | None:
    meta = folder / "batches.meta"
    if not meta.is_file():
        return None
    try:
        names = load_restricted(meta.read_bytes()).get(b"label_names")
        out = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]
    except Exception:  # noqa: BLE001 - an unreadable meta file only costs the names
        return None
    return out if len(out) == 10 else None


def _bin_names(folder: Path) -> list[str] | None:
    meta = folder / "batches.meta.txt"
    if not meta.is_file():
        return None
    try:
        out = [line.strip() for line in meta.read_text("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return None
    return out if len(out) == 10 else None


_LAYOUTS: dict[str, tuple[str, Callable[[bytes, str], Batch], Callable[[Path], list[str] | None]]] = {
    "python": ("", parse_py_batch, _py_names),
    "binary": (".bin", parse_bin_batch, _bin_names),
}


def _files(folder: Path, suffix: str) -> list[Path]:
    names = [f"data_batch_{i}{suffix}" for i in range(1, _TRAIN_BATCHES + 1)] + [f"test_batch{suffix}"]
    return [folder / n for n in names]


def _read_folder(folder: Path, layout: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    suffix, parse, names = _LAYOUTS[layout]
    parts = []
    for path in _files(folder, suffix):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CifarError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
        parts.append(parse(data, path.name))
    x_train = np.concatenate([p[0] for p in parts[:-1]])
    y_train = np.concatenate([p[1] for p in parts[:-1]])
    return x_train, y_train, parts[-1][0], parts[-1][1], names(folder) or list(CIFAR10_CLASSES)


def _show(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def _candidates(data_dir: str | os.PathLike | None) -> list[Path]:
    """The folders that may hold the batches, in the order they are tried."""
    out: list[Path] = []
    if data_dir is not None and str(data_dir).strip():
        root = Path(data_dir).expanduser()
        out += [root, root / PY_DIR, root / BIN_DIR]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    out += [home / "datasets" / sub for sub in _KERAS_CACHE_DIRS]
    return out


def _try(folder: Path, attempts: list[str]) -> Dataset | None:
    """The dataset from ``folder`` if it holds a complete set of either layout; notes why not."""
    label = _show(folder)
    found_any = False
    for layout, (suffix, _, _) in _LAYOUTS.items():
        files = _files(folder, suffix)
        present = [f for f in files if f.is_file()]
        if not present:
            continue
        found_any = True
        if len(present) < len(files):
            missing = ", ".join(f.name for f in files if not f.is_file())
            attempts.append(f"{label}: CIFAR-10 {layout} version incomplete, missing {missing}")
            continue
        try:
            x_train, y_train, x_test, y_test, names = _read_folder(folder, layout)
        except CifarError as exc:
            attempts.append(f"{label}: {exc}")
            continue
        attempts.append(f"{label}: loaded {len(x_train):,} training and {len(x_test):,} test images "
                        f"({layout} version)")
        arrays = [x_train, y_train, x_test, y_test]
        for a in arrays:
            a.flags.writeable = False
        return Dataset("cifar10", *arrays, class_names=names,
                       source=f"CIFAR-10 ({layout} version) from {label}", attempts=list(attempts))
    if not found_any:
        attempts.append(f"{label}: no CIFAR-10 batch files (data_batch_1 .. 5 and test_batch, "
                        "with or without .bin)")
    return None


def load_cifar10(data_dir: str | os.PathLike | None = None) -> Dataset:
    """CIFAR-10 from ``data_dir`` (the batch files, or a folder holding ``cifar-10-batches-py`` or
    ``-bin``), else from the Keras cache (``$KERAS_HOME`` or ``~/.keras``). Never downloads.

    ``dataset.attempts`` lists what was tried; :class:`DatasetNotFound` lists it when nothing worked.
    """
    attempts: list[str] = []
    seen: set[Path] = set()
    for folder in _candidates(data_dir):
        if not folder.is_dir() or folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        ds = _try(folder, attempts)
        if ds is not None:
            return ds
    if not attempts:
        where = [_show(f) for f in _candidates(data_dir)]
        attempts.append(f"no CIFAR-10 folder found (looked for {', '.join(where)})")
    tried = "\n".join(f"  - {line}" for line in attempts)
    raise DatasetNotFound(
        f"CIFAR-10 was not found. Tried:\n{tried}\nTo use it, put the official files "
        f"({PY_DIR}/ from cifar-10-python.tar.gz or {BIN_DIR}/ from cifar-10-binary.tar.gz) in a "
        "folder and choose that folder.")
