"""CIFAR-10 from official-format files (written here, a few records each) and the restricted unpickler."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from convstudio.core.data.cifar10 import (
    CIFAR10_CLASSES,
    CifarError,
    load_cifar10,
    parse_bin_batch,
    parse_py_batch,
)
from convstudio.core.data.safe_pickle import UnsafePickle, load_restricted
from convstudio.core.datasets import DatasetNotFound

N = 4  # records per batch


def _batch(i: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(i)
    return rng.integers(0, 256, (N, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, 10, N)]


def _keras_images(rows: np.ndarray) -> np.ndarray:
    """What keras.datasets.cifar10 does: reshape channel-first, transpose to channels last."""
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def write_py(folder, names=("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                            "data_batch_5", "test_batch"), protocol=2):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        data, labels = _batch(i)
        d = {b"batch_label": b"batch", b"labels": labels, b"data": data,
             b"filenames": [b"f%d.png" % k for k in range(N)]}
        (folder / name).write_bytes(pickle.dumps(d, protocol=protocol))
    meta = {b"label_names": [n.encode() for n in CIFAR10_CLASSES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return folder


def write_bin(folder):
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for i, name in enumerate(names):
        data, labels = _batch(i)
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (folder / name).write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR10_CLASSES) + "\n\n")
    return folder


@pytest.fixture(autouse=True)
def _no_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python_version_loads_as_keras_does(tmp_path, protocol):
    ds = load_cifar10(write_py(tmp_path / "cifar-10-batches-py", protocol=protocol))
    assert ds.x_train.shape == (5 * N, 32, 32, 3) and ds.x_train.dtype == np.uint8
    assert ds.x_test.shape == (N, 32, 32, 3) and ds.input_shape == (32, 32, 3)
    first, labels = _batch(0)
    assert np.array_equal(ds.x_train[:N], _keras_images(first))
    assert ds.y_train[:N].tolist() == labels and ds.y_test.tolist() == _batch(5)[1]
    assert ds.class_names == CIFAR10_CLASSES
    # pixel (row 0, col 1) of image 0: red, green, blue are 1024 bytes apart in the file
    assert ds.x_train[0, 0, 1].tolist() == [first[0, 1], first[0, 1025], first[0, 2049]]
    assert "python version" in ds.source


def test_binary_version_and_parent_folder(tmp_path):
    write_bin(tmp_path / "cifar-10-batches-bin")
    ds = load_cifar10(tmp_path)  # the folder that holds cifar-10-batches-bin/
    py = load_cifar10(write_py(tmp_path / "py"))
    assert np.array_equal(ds.x_train, py.x_train) and np.array_equal(ds.y_test, py.y_test)
    assert "binary version" in ds.source


def test_keras_cache_of_any_keras_version(tmp_path, monkeypatch):
    home = tmp_path / "kh"
    write_py(home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py")
    monkeypatch.setenv("KERAS_HOME", str(home))
    ds = load_cifar10()
    assert len(ds.x_train) == 5 * N
    assert "cifar-10-batches-py-target" in ds.source


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({b"data": Evil(), b"labels": [0]}, protocol=2)
    with pytest.raises(UnsafePickle, match="system"):
        load_restricted(payload)
    assert not marker.exists()
    # and as a batch file: a failed attempt with a message, nothing run
    folder = write_py(tmp_path / "evil")
    (folder / "data_batch_3").write_bytes(payload)
    with pytest.raises(DatasetNotFound, match=r"data_batch_3: not a CIFAR batch \(refused to load 'posix.system'"):
        load_cifar10(folder)
    assert not marker.exists()


def test_the_default_unpickler_would_have_run_it(tmp_path):
    """The payload above is live: the plain unpickler executes it (so the refusal test means something)."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickle.loads(pickle.dumps(Evil()))
    assert marker.exists()


@pytest.mark.parametrize("blob, message", [
    (b"\x03" * (3073 * 2 + 5), "not a whole number"),
    (np.full(3073, 10, np.uint8).tobytes(), "labels run from 10"),
])
def test_damaged_binary_batches(blob, message):
    with pytest.raises(CifarError, match=message):
        parse_bin_batch(blob, "data_batch_1.bin")


def test_damaged_python_batches():
    with pytest.raises(CifarError, match="not a CIFAR batch"):
        parse_py_batch(b"\x80\x02}q\x00(", "b")  # truncated
    with pytest.raises(CifarError, match="expected uint8 rows of 3072"):
        parse_py_batch(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}), "b")
    with pytest.raises(CifarError, match="2 images but 1 labels"):
        parse_py_batch(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "b")


def test_incomplete_folder_says_what_is_missing(tmp_path):
    folder = write_py(tmp_path / "c", names=("data_batch_1", "data_batch_2", "test_batch"))
    with pytest.raises(DatasetNotFound) as err:
        load_cifar10(folder)
    assert "missing data_batch_3, data_batch_4, data_batch_5" in str(err.value)


def test_nothing_found_lists_the_places(tmp_path):
    with pytest.raises(DatasetNotFound, match="CIFAR-10 was not found"):
        load_cifar10(tmp_path / "nowhere")


def test_load_dataset_knows_cifar10(tmp_path):
    from convstudio.core.datasets import load_dataset

    write_bin(tmp_path / "cifar-10-batches-bin")
    ds = load_dataset("CIFAR-10", data_dir=tmp_path)
    assert ds.name == "cifar10" and ds.title == "CIFAR-10" and ds.input_shape == (32, 32, 3)
