"""Preprocessing and the tf.data pipeline, on a few hundred real images."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.datasets import CLASS_NAMES, Dataset
from convstudio.core.pipeline import make_datasets, normalize, representative_batches, split_indices
from convstudio.core.resources import resource_path


@pytest.fixture(scope="module")
def small() -> Dataset:
    with np.load(resource_path("datasets", "fashion_mnist_sample.npz")) as d:
        return Dataset("fashion_mnist", d["x_train"][:200], d["y_train"][:200], d["x_test"][:50],
                       d["y_test"][:50], list(CLASS_NAMES["fashion_mnist"]), source="test")


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_normalize_shapes_and_range(small):
    x = normalize(small.x_train[:5])
    assert x.shape == (5, 28, 28, 1) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x[..., 0] * 255.0, small.x_train[:5], atol=1e-4)
    assert normalize(small.x_train[0]).shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(normalize(small.x_train[:5, :, :, None]), x)
    assert normalize(np.array([[0, 255]], dtype=np.int64)).ravel().tolist() == [0.0, 1.0]


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 28, 28), np.float32), "expects uint8"),
    (np.full((1, 28, 28), 300, np.int32), "run from 300 to 300"),
    (np.zeros((2, 2, 28, 28), np.uint8), "expected images shaped"),
])
def test_normalize_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        normalize(bad)


def test_split_is_seeded_disjoint_and_complete():
    train, val = split_indices(200, 0.1, seed=3)
    assert (len(train), len(val)) == (180, 20)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(200))
    again = split_indices(200, 0.1, seed=3)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_indices(200, 0.1, seed=4)[1], val)


def test_splits_shapes_dtypes_and_counts(small):
    splits = make_datasets(small, batch_size=32, validation_split=0.1, seed=0)
    assert splits.counts == {"train": 180, "val": 20, "test": 50}
    assert splits.steps == {"train": 6, "val": 1, "test": 2}
    assert splits.steps_per_epoch == 6
    x, y = next(iter(splits.train))
    assert x.shape == (32, 28, 28, 1) and x.dtype.name == "float32" and y.dtype.name == "int32"
    xs, ys = collect(splits.train)
    assert xs.shape == (180, 28, 28, 1) and 0.0 <= xs.min() and xs.max() <= 1.0
    # every training image exactly once per epoch (as a multiset of labels)
    assert np.bincount(ys, minlength=10).tolist() == np.bincount(
        small.y_train[splits.train_index], minlength=10).tolist()
    # evaluation splits keep order, and match normalize() exactly
    xt, yt = collect(splits.test)
    np.testing.assert_array_equal(xt, normalize(small.x_test))
    np.testing.assert_array_equal(yt, small.y_test)
    xv, _ = collect(splits.val)
    np.testing.assert_array_equal(xv, normalize(small.x_train[splits.val_index]))


def test_shuffle_is_seeded_and_reshuffles_each_epoch(small):
    a = make_datasets(small, batch_size=64, seed=7)
    b = make_datasets(small, batch_size=64, seed=7)
    epoch1, epoch2 = collect(a.train)[1], collect(a.train)[1]
    assert np.array_equal(epoch1, collect(b.train)[1])  # same seed, same order
    assert not np.array_equal(epoch1, epoch2)  # a new order every epoch
    plain = make_datasets(small, batch_size=64, seed=7, shuffle=False)
    assert np.array_equal(collect(plain.train)[1], small.y_train[plain.train_index])


def test_no_validation_split(small):
    splits = make_datasets(small, batch_size=50, validation_split=0.0)
    assert splits.val is None and splits.counts["val"] == 0 and splits.steps["train"] == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch size must be a whole number"),
    ({"batch_size": 2.5}, "batch size must be a whole number"),
    ({"batch_size": 8, "validation_split": 1.0}, "at least 0 and below 1"),
    ({"batch_size": 8, "validation_split": -0.1}, "at least 0 and below 1"),
])
def test_bad_settings_are_explained(small, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_datasets(small, **kwargs)


def test_representative_batches(small):
    batches = list(representative_batches(small, n=5, batch_size=2, seed=1))
    assert len(batches) == 5
    assert all(b.shape == (2, 28, 28, 1) and b.dtype == np.float32 for b in batches)
    again = list(representative_batches(small, n=5, batch_size=2, seed=1))
    assert all(np.array_equal(p, q) for p, q in zip(batches, again))
    train = normalize(small.x_train)
    for image in np.concatenate(batches):  # each is a normalized training image
        assert np.any(np.all(train == image, axis=(1, 2, 3)))
    assert len(list(representative_batches(small, n=1000))) == 200  # no more than there are
