"""Dataset sources, validation, fallbacks and the IDX reader. Nothing here touches the network."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import socket
import struct
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
from datafiles import SHARED  # noqa: E402

from convstudio.core import datasets as dsm
from convstudio.core.datasets import DatasetNotFound, clear_cache, load_dataset
from convstudio.core.idx import IdxError, idx_bytes, parse_idx, read_idx, write_idx
from convstudio.core.resources import ResourceNotFound, resource_path

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean HOME, no data folder, no Keras cache, no Debian data, no network, empty cache."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KERAS_HOME", dsm.DATA_DIR_ENV, "CONVSTUDIO_RESOURCES", dsm.OFFLINE_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(dsm, "DEBIAN_FASHION_DIR", tmp_path / "no-debian")

    def no_network(*args, **kwargs):
        raise AssertionError("tests must not open network connections")

    monkeypatch.setattr(socket, "create_connection", no_network)
    clear_cache()
    yield tmp_path
    clear_cache()


def real_arrays(name: str, n_train: int = 60, n_test: int = 20) -> dict[str, np.ndarray]:
    """A few real images and labels, taken from the bundled sample."""
    with np.load(resource_path("datasets", f"{name}_sample.npz")) as d:
        return {"x_train": d["x_train"][:n_train], "y_train": d["y_train"][:n_train],
                "x_test": d["x_test"][:n_test], "y_test": d["y_test"][:n_test]}


def write_idx_set(folder: Path, arrays: dict, gz: bool = False, dotted: bool = False) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fname, key in zip(IDX_NAMES, ("x_train", "y_train", "x_test", "y_test")):
        if dotted:
            fname = fname.replace("-idx", ".idx")
        path = folder / (fname + (".gz" if gz else ""))
        write_idx(path, arrays[key])
        paths.append(path)
    return paths


def assert_same(ds, arrays):
    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(ds, key), value)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.uint8


# ---------------------------------------------------------------- sources

def test_npz_in_data_dir(env):
    arrays = real_arrays("mnist")
    data = env / "data"
    data.mkdir()
    np.savez(data / "mnist.npz", **arrays)
    ds = load_dataset("mnist", data_dir=str(data), allow_download=False)
    assert_same(ds, arrays)
    assert not ds.is_sample
    assert str(data / "mnist.npz") in ds.source
    assert ds.class_names == [str(i) for i in range(10)]
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10
    assert ds.attempts == [f"{data / 'mnist.npz'}: loaded 60 training and 20 test images"]


def test_env_folder_and_fashion_spellings(env, monkeypatch):
    arrays = real_arrays("fashion_mnist")
    np.savez_compressed(env / "fashion-mnist.npz", **arrays)
    monkeypatch.setenv(dsm.DATA_DIR_ENV, str(env))
    for name in ("fashion_mnist", "fashion-mnist", "Fashion-MNIST"):
        ds = load_dataset(name, allow_download=False)
        assert ds.name == "fashion_mnist"
        assert_same(ds, arrays)
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert ds.title == "Fashion-MNIST"
    with pytest.raises(ValueError, match="Unknown dataset 'imagenet'"):
        load_dataset("imagenet")


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dotted", [False, True], ids=["dash", "dot"])
def test_idx_files_in_data_dir(env, gz, dotted):
    arrays = real_arrays("mnist")
    write_idx_set(env / "data", arrays, gz=gz, dotted=dotted)
    ds = load_dataset("mnist", data_dir=env / "data", allow_download=False, allow_sample=False)
    assert_same(ds, arrays)
    assert "IDX" in ds.source


def test_subfolder_named_for_the_dataset(env):
    fashion, digits = real_arrays("fashion_mnist"), real_arrays("mnist", 30, 10)
    write_idx_set(env / "data" / "fashion-mnist", fashion, gz=True)
    np.savez(env / "data" / "mnist.npz", **digits)  # the other dataset at the top level
    ds = load_dataset("fashion_mnist", data_dir=env / "data", allow_download=False)
    assert_same(ds, fashion)
    assert "fashion-mnist" in ds.source


def test_keras_cache_under_home(env):
    arrays = real_arrays("mnist")
    cache = env / "home" / ".keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **arrays)
    ds = load_dataset("mnist", allow_download=False)
    assert_same(ds, arrays)
    assert ds.attempts[0].startswith("data folder: none chosen")
    assert load_dataset("mnist", data_dir="", allow_download=False).attempts == ds.attempts[:1] + [
        "~/.keras/datasets/mnist.npz: loaded (already in memory)"]
    assert ds.attempts[1] == "~/.keras/datasets/mnist.npz: loaded 60 training and 20 test images"


def test_keras_cache_fashion_layout_honours_keras_home(env, monkeypatch):
    arrays = real_arrays("fashion_mnist")
    keras_home = env / "khome"
    write_idx_set(keras_home / "datasets" / "fashion-mnist", arrays, gz=True)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    ds = load_dataset("fashion_mnist", allow_download=False)
    assert_same(ds, arrays)


def test_debian_location_is_used_for_fashion_only(env, monkeypatch):
    arrays = real_arrays("fashion_mnist")
    write_idx_set(env / "debian", arrays, gz=True)
    monkeypatch.setattr(dsm, "DEBIAN_FASHION_DIR", env / "debian")
    assert_same(load_dataset("fashion_mnist", allow_download=False, allow_sample=False), arrays)
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("mnist", allow_download=False, allow_sample=False)
    assert "debian" not in str(info.value)


def test_sample_fallback_is_labelled(env):
    ds = load_dataset("fashion_mnist", allow_download=False)
    assert ds.is_sample
    assert (len(ds.x_train), len(ds.x_test)) == (6000, 1000)
    assert np.bincount(ds.y_train, minlength=10).tolist() == [600] * 10
    assert np.bincount(ds.y_test, minlength=10).tolist() == [100] * 10
    assert "sample of 7,000" in ds.source.lower()
    assert dsm.DATA_DIR_ENV in ds.source
    assert len(ds.attempts) == 5 and ds.attempts[-1].startswith("bundled sample")


def test_nothing_found_lists_every_attempt(env, monkeypatch):
    monkeypatch.setenv(dsm.DATA_DIR_ENV, str(env / "missing"))
    with pytest.raises(DatasetNotFound) as info:
        load_dataset("mnist", allow_download=False, allow_sample=False)
    msg = str(info.value)
    for expected in (f"{env / 'missing'}: folder not found", "~/.keras/datasets/mnist.npz: not found",
                     "download from storage.googleapis.com: not allowed", "bundled sample: not allowed",
                     f"set {dsm.DATA_DIR_ENV}"):
        assert expected in msg


def test_missing_resources_folder_is_a_clear_attempt(env, monkeypatch):
    monkeypatch.setenv("CONVSTUDIO_RESOURCES", str(env / "nowhere"))
    with pytest.raises(ResourceNotFound, match="CONVSTUDIO_RESOURCES"):
        resource_path("datasets")
    with pytest.raises(DatasetNotFound, match="resources folder was not found"):
        load_dataset("mnist", allow_download=False)


# ---------------------------------------------------------------- damaged files fall through

def _npz_bytes(tmp: Path, **arrays) -> bytes:
    np.savez(tmp / "x.npz", **arrays)
    return (tmp / "x.npz").read_bytes()


CORRUPTIONS = {
    "truncated npz": (lambda a, t: _npz_bytes(t, **a)[:5000], "damaged or unreadable"),
    "not a zip": (lambda a, t: b"hello, not a dataset", "damaged or unreadable"),
    "missing key": (lambda a, t: _npz_bytes(t, x_train=a["x_train"], y_train=a["y_train"]), "no x_test, y_test"),
    "wrong image size": (lambda a, t: _npz_bytes(t, **{**a, "x_train": np.zeros((60, 32, 32), np.uint8)}),
                         "shape (60, 32, 32), expected (n, 28, 28)"),
    "float pixels": (lambda a, t: _npz_bytes(t, **{**a, "x_test": a["x_test"] / 255.0}), "float64, expected uint8"),
    "label out of range": (lambda a, t: _npz_bytes(t, **{**a, "y_train": a["y_train"] + 10}), "expected 0..9"),
    "count mismatch": (lambda a, t: _npz_bytes(t, **{**a, "y_test": a["y_test"][:-1]}), "20 test images but 19 labels"),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupt_npz_falls_through_to_the_next_source(env, kind):
    arrays = real_arrays("mnist")
    make, reason = CORRUPTIONS[kind]
    data = env / "data"
    data.mkdir()
    (data / "mnist.npz").write_bytes(make(arrays, env))
    cache = env / "home" / ".keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **arrays)
    ds = load_dataset("mnist", data_dir=data, allow_download=False, allow_sample=False)
    assert_same(ds, arrays)
    assert ds.attempts[0].startswith(f"{data / 'mnist.npz'}: ")
    assert reason in ds.attempts[0]
    assert ds.source == "~/.keras/datasets/mnist.npz"


@pytest.mark.parametrize("damage", ["truncated gz", "truncated raw", "bad magic"])
def test_damaged_idx_is_a_failed_attempt(env, damage):
    arrays = real_arrays("fashion_mnist")
    paths = write_idx_set(env / "data", arrays, gz=damage == "truncated gz")
    target = paths[0]
    raw = target.read_bytes()
    if damage == "bad magic":
        target.write_bytes(b"\x12\x34" + raw[2:])
    else:
        target.write_bytes(raw[: len(raw) // 2])
    ds = load_dataset("fashion_mnist", data_dir=env / "data", allow_download=False)
    assert ds.is_sample
    expected = {"truncated gz": "damaged or truncated gzip", "truncated raw": "truncated",
                "bad magic": "not an IDX file"}[damage]
    assert expected in ds.attempts[0] and target.name in ds.attempts[0]


def test_incomplete_idx_set_names_the_missing_file(env):
    paths = write_idx_set(env / "data", real_arrays("mnist"))
    paths[3].unlink()
    with pytest.raises(DatasetNotFound, match=r"missing t10k-labels-idx1-ubyte\[\.gz\]"):
        load_dataset("mnist", data_dir=env / "data", allow_download=False, allow_sample=False)


# ---------------------------------------------------------------- in-memory cache

def test_loaded_data_is_cached_until_the_file_changes(env):
    arrays = real_arrays("mnist")
    path = env / "mnist.npz"
    np.savez(path, **arrays)
    first = load_dataset("mnist", data_dir=env, allow_download=False)
    again = load_dataset("mnist", data_dir=env, allow_download=False)
    assert again.x_train is first.x_train
    assert again.attempts[-1].endswith("loaded (already in memory)")
    assert not first.x_train.flags.writeable  # shared arrays cannot be changed by accident
    smaller = real_arrays("mnist", 30, 10)
    np.savez(path, **smaller)
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert_same(load_dataset("mnist", data_dir=env, allow_download=False), smaller)


# ---------------------------------------------------------------- download step (faked)

def test_download_skipped_when_unreachable(env, monkeypatch):
    monkeypatch.setattr(dsm, "_reachable", lambda: (False, "Name or service not known"))
    ds = load_dataset("mnist")
    assert ds.is_sample
    assert "download from storage.googleapis.com: no connection (Name or service not known)" in ds.attempts


def test_offline_env_turns_downloads_off(env, monkeypatch):
    monkeypatch.setenv(dsm.OFFLINE_ENV, "1")
    monkeypatch.setattr(dsm, "_reachable", lambda: pytest.fail("must not probe the network"))
    assert "download from storage.googleapis.com: not allowed (offline)" in load_dataset("mnist").attempts


def test_reachability_probe_never_hangs(env, monkeypatch):
    release = threading.Event()

    def hanging_dns(*args, **kwargs):  # a lookup that ignores every timeout
        release.wait(30)
        raise OSError("gave up")

    monkeypatch.setattr(socket, "create_connection", hanging_dns)
    monkeypatch.setattr(dsm, "REACH_TIMEOUT_S", 0.2)
    monkeypatch.setattr(dsm, "_REACH", {})
    start = time.monotonic()
    try:
        ok, why = dsm._reachable()
    finally:
        release.set()
    assert not ok and "no answer" in why
    assert time.monotonic() - start < 2.0


def test_download_uses_keras_with_a_socket_timeout(env, monkeypatch):
    keras = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=types.SimpleNamespace()))
    monkeypatch.setitem(sys.modules, "keras", keras)  # a stand-in: no real download, no TF import
    arrays = real_arrays("mnist")
    seen = {}

    def fake_load_data():
        seen["timeout"] = socket.getdefaulttimeout()
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])

    monkeypatch.setattr(dsm, "_reachable", lambda: (True, ""))
    keras.datasets.mnist.load_data = fake_load_data
    before = socket.getdefaulttimeout()
    ds = load_dataset("mnist", allow_sample=False)
    assert_same(ds, arrays)
    assert "downloaded" in ds.source
    assert seen["timeout"] == dsm.DOWNLOAD_SOCKET_TIMEOUT_S
    assert socket.getdefaulttimeout() == before

    def failing():
        raise Exception("URL fetch failure: timed out")

    clear_cache()
    keras.datasets.mnist.load_data = failing
    ds = load_dataset("mnist")
    assert ds.is_sample
    assert any("download from storage.googleapis.com: failed" in a and "timed out" in a for a in ds.attempts)


# ---------------------------------------------------------------- IDX reader

def test_parse_idx_reads_a_hand_built_file():
    pixels = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 3, 4) + pixels.tobytes()
    np.testing.assert_array_equal(parse_idx(data), pixels)
    ints = np.array([1, -2, 70000], dtype=">i4")
    parsed = parse_idx(b"\x00\x00\x0c\x01" + struct.pack(">I", 3) + ints.tobytes())
    assert parsed.tolist() == [1, -2, 70000] and parsed.dtype == np.int32
    assert idx_bytes(pixels) == data


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short"),
    (b"\x08\x03\x00\x00" + bytes(20), "not an IDX file"),
    (b"\x00\x00\x07\x01" + bytes(20), "not an IDX file"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated inside the header"),
    (b"\x00\x00\x08\x02" + struct.pack(">2I", 3, 3) + bytes(8), "header promises 9 data bytes"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes(5), "2 unexpected bytes"),
])
def test_parse_idx_rejects_malformed_data(data, message):
    with pytest.raises(IdxError, match=message):
        parse_idx(data, "labels.idx")


def test_read_idx_gz_and_damaged_gz(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "l-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(path), labels)
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(IdxError, match="damaged or truncated gzip"):
        read_idx(path)
    with pytest.raises(IdxError, match="cannot be read"):
        read_idx(tmp_path / "absent")


# ---------------------------------------------------------------- the real full datasets

@pytest.mark.skipif(not (SHARED / "mnist.npz").exists(), reason="full datasets not on this machine")
def test_full_real_datasets(env):
    mnist = load_dataset("mnist", data_dir=SHARED, allow_download=False, allow_sample=False)
    assert (len(mnist.x_train), len(mnist.x_test)) == (60000, 10000)
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    fashion = load_dataset("fashion-mnist", data_dir=SHARED, allow_download=False, allow_sample=False)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10
    assert not fashion.is_sample and fashion.source == str(SHARED / "fashion_mnist.npz")
    # written as IDX, the test labels hash to the checksum of the original release
    assert hashlib.md5(idx_bytes(mnist.y_test)).hexdigest() == "27ae3e4e09519cfbb04c329615203637"


@pytest.mark.skipif(not (SHARED / "mnist.npz").exists(), reason="full datasets not on this machine")
def test_the_wrong_dataset_under_the_right_name_is_refused(env):
    digits = load_dataset("mnist", data_dir=SHARED, allow_download=False, allow_sample=False)
    np.savez(env / "fashion_mnist.npz", x_train=digits.x_train, y_train=digits.y_train,
             x_test=digits.x_test, y_test=digits.y_test)
    ds = load_dataset("fashion_mnist", data_dir=env, allow_download=False)
    assert ds.is_sample
    assert "these are the MNIST files, not Fashion-MNIST" in ds.attempts[0]


# ---------------------------------------------------------------- bounded memory and reasons

def _gzip_bomb(header: bytes, zeros_mb: int) -> bytes:
    """``header`` then ``zeros_mb`` MB of zeros as concatenated gzip members: a few KB on disk."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + member * zeros_mb


def _peak_bytes(fn) -> tuple[object, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzipped_idx_claiming_a_billion_images_is_refused_before_inflating(env):
    arrays = real_arrays("mnist")
    paths = write_idx_set(env / "data", arrays, gz=True)
    bomb = _gzip_bomb(b"\x00\x00\x08\x03" + struct.pack(">3I", 10**9, 28, 28), zeros_mb=200)
    assert len(bomb) < 300_000  # 200 MB of zeros behind a header that claims 784 GB
    paths[0].write_bytes(bomb)
    ds, peak = _peak_bytes(lambda: load_dataset("mnist", data_dir=env / "data", allow_download=False))
    assert ds.is_sample and peak < 20 << 20
    first = ds.attempts[0]
    assert "train-images-idx3-ubyte.gz" in first and "(1000000000, 28, 28)" in first
    assert "784,000,000,000 bytes" in first and "refused before reading" in first


def test_idx_with_a_small_header_and_gigabytes_after_it_stops_reading_early(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(_gzip_bomb(b"\x00\x00\x08\x01" + struct.pack(">I", 10), zeros_mb=200))

    def read() -> None:
        with pytest.raises(IdxError, match=r"more data than the header's shape \(10,\) holds"):
            read_idx(path)

    _, peak = _peak_bytes(read)
    assert peak < 20 << 20


@pytest.mark.parametrize("header, message", [
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 60, 32, 32), r"declared with shape \(60, 32, 32\), expected \(n, 28, 28\)"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1), "refused before reading"),
    (b"\x00\x00\x08\xc8" + bytes(4 * 200), "declares 200 dimensions"),
])
def test_impossible_idx_shapes_are_refused_from_the_header(env, header, message):
    paths = write_idx_set(env / "data", real_arrays("mnist"))
    paths[0].write_bytes(header + bytes(100))
    ds = load_dataset("mnist", data_dir=env / "data", allow_download=False)
    assert ds.is_sample
    assert re.search(message, ds.attempts[0]), ds.attempts[0]


def _npz_with_member(path: Path, arrays: dict, name: str, shape: tuple, payload: bytes = b"") -> None:
    """An npz whose member ``name`` has a hand-written .npy header declaring ``shape``."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            if key == name:
                zf.writestr(key + ".npy", header.getvalue() + payload)
            else:
                buf = io.BytesIO()
                np.save(buf, value)
                zf.writestr(key + ".npy", buf.getvalue())


@pytest.mark.parametrize("shape, message", [
    ((10**9, 28, 28), r"declares 747,681 MB of data \(x_train \(1000000000, 28, 28\).*refused before reading"),
    ((-5, 28, 28), r"impossible shape \(-5, 28, 28\)"),
    ((60, 28), r"declared with shape \(60, 28\), expected \(n, 28, 28\)"),
])
def test_npz_member_declaring_a_huge_or_impossible_shape_is_refused(env, shape, message):
    data = env / "data"
    data.mkdir()
    _npz_with_member(data / "mnist.npz", real_arrays("mnist"), "x_train", shape, payload=bytes(1 << 20))
    assert (data / "mnist.npz").stat().st_size < 100_000
    ds, peak = _peak_bytes(lambda: load_dataset("mnist", data_dir=data, allow_download=False))
    assert ds.is_sample and peak < 50 << 20
    assert re.search(message, ds.attempts[0]), ds.attempts[0]


def test_npz_member_inflating_past_the_cap_is_refused(env, monkeypatch):
    data = env / "data"
    data.mkdir()
    np.savez_compressed(data / "mnist.npz", **real_arrays("mnist"))
    monkeypatch.setattr(dsm, "MAX_DATA_BYTES", 10_000)
    with pytest.raises(DatasetNotFound, match=r"mnist.npz: x_train.npy inflates to 47,168 bytes, more than "
                                              r"the 10,000 bytes a dataset may hold; refused before reading"):
        load_dataset("mnist", data_dir=data, allow_download=False, allow_sample=False)


def test_a_full_size_dataset_is_within_the_cap():
    assert dsm.MAX_DATA_BYTES > 70_000 * (28 * 28 + 1)


def _deny_inside(monkeypatch, folder: Path) -> None:
    """Make everything inside ``folder`` fail as a folder without read/search permission does."""
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if str(self).startswith(str(folder) + os.sep):
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)


def test_unreadable_data_folder_is_a_failed_attempt_with_the_reason(env, monkeypatch):
    folder = env / "locked"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **real_arrays("mnist"))
    _deny_inside(monkeypatch, folder)
    ds = load_dataset("mnist", data_dir=folder, allow_download=False)
    assert ds.is_sample
    assert ds.attempts[0] == f"{folder}: cannot be read (Permission denied)"
    assert ds.rejected == ds.attempts[:-1] and len(ds.rejected) == 3


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="permissions do not bind root")
def test_folder_without_permissions_is_a_failed_attempt(env):
    folder = env / "locked"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **real_arrays("mnist"))
    folder.chmod(0)
    try:
        ds = load_dataset("mnist", data_dir=folder, allow_download=False)
    finally:
        folder.chmod(0o755)
    assert ds.is_sample and "Permission denied" in ds.attempts[0]


def test_a_sample_dataset_says_so_and_why_the_full_set_was_not_used(env):
    ds = load_dataset("mnist", data_dir=env / "nowhere", allow_download=False)
    assert ds.is_sample
    assert "SAMPLE" in ds.sample_note and "7,000 of 70,000 MNIST images" in ds.sample_note
    lines = ds.report_lines()
    assert lines[0] == ds.source and lines[1] == ds.sample_note
    assert f"  - {env / 'nowhere'}: folder not found" in lines
    assert "  - download from storage.googleapis.com: not allowed (downloads are off for this command)" in lines

    data = env / "data"
    data.mkdir()
    np.savez(data / "mnist.npz", **real_arrays("mnist"))
    full = load_dataset("mnist", data_dir=data, allow_download=False)
    assert not full.is_sample and full.sample_note == "" and full.report_lines() == [full.source]
