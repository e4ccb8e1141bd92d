"""Grad-CAM and evaluation on a tiny LeNet-like model trained briefly on real MNIST images."""

from __future__ import annotations

import os

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import (
    cell_samples,
    confusion_matrix,
    evaluate,
    grad_cam,
    last_conv_block,
    predict_probabilities,
    prepare_images,
)
from convstudio.core.inspection.saliency import upsample_at
from convstudio.core.network import Network

keras = pytest.importorskip("keras")
from datafiles import MNIST  # noqa: E402  (full MNIST, else the bundled sample)


@pytest.fixture(scope="module")
def trained():
    if not os.path.exists(MNIST):
        pytest.skip("real MNIST not available")
    data = np.load(MNIST)
    net = Network.chain([
        "Input", ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "padding": "same"}), "MaxPool2D",
        ("Conv2D", {"filters": 8, "kernel_h": 5, "kernel_w": 5}), "MaxPool2D", "Flatten",
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])
    keras.utils.set_random_seed(0)
    model = build_model(net)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(prepare_images(data["x_train"][:800]), data["y_train"][:800], epochs=1, batch_size=32, verbose=0)
    return net, model, data["x_test"][:300], data["y_test"][:300]


def test_grad_cam_is_an_image_sized_non_negative_map_in_0_1(trained):
    net, model, x, y = trained
    assert last_conv_block(model) == "conv2d_2"
    for i in range(3):
        cam = grad_cam(model, x[i], int(y[i]))
        assert cam.shape == (28, 28) and cam.dtype == np.float32
        assert cam.min() >= 0 and cam.max() == pytest.approx(1.0)
        assert (cam > 0.05).mean() > 0.02  # not all zero: some region speaks for the class
    first = grad_cam(model, x[0], block_id="conv2d_1")
    assert first.shape == (28, 28) and first.max() <= 1.0


def test_grad_cam_differs_between_classes_and_refuses_bad_requests(trained):
    net, model, x, y = trained
    maps = [grad_cam(model, x[0], c) for c in range(10)]
    assert max(np.abs(maps[int(y[0])] - m).max() for m in maps) > 0.1
    with pytest.raises(ValueError, match="out of range"):
        grad_cam(model, x[0], 10)
    with pytest.raises(ValueError, match="flat output"):
        grad_cam(model, x[0], block_id="flatten_1")
    dense_only = build_model(Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]))
    with pytest.raises(ValueError, match="needs a Conv2D"):
        grad_cam(dense_only, x[0])


def test_predictions_in_batches_equal_one_pass_and_are_probabilities(trained):
    net, model, x, y = trained
    small = predict_probabilities(model, x[:50], batch_size=7)
    whole = np.asarray(model(prepare_images(x[:50]), training=False))
    np.testing.assert_allclose(small, whole, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(small.sum(axis=1), 1.0, atol=1e-5)
    seen = []
    stopped = predict_probabilities(model, x[:50], batch_size=20, progress=lambda d, t: seen.append(d) or d < 20)
    assert seen == [20] and len(stopped) == 20


def test_confusion_matrix_sums_to_the_test_set_and_matches_argmax(trained):
    net, model, x, y = trained
    ev = evaluate(model, x, y, 10)
    pred = ev.probabilities.argmax(axis=1)
    assert ev.matrix.sum() == len(x)
    for t in range(10):
        assert ev.matrix[t].sum() == (y == t).sum()
        for p in range(10):
            assert ev.matrix[t, p] == np.count_nonzero((y == t) & (pred == p))
    assert ev.accuracy == pytest.approx((pred == y).mean())
    assert ev.accuracy > 0.5  # it did learn something
    with pytest.raises(ValueError, match="outside the classes"):
        confusion_matrix([0, 1], [0, 10], 10)


def test_cell_samples_are_that_cell_sorted_by_confidence(trained):
    net, model, x, y = trained
    ev = evaluate(model, x, y, 10)
    off = ev.matrix.copy()
    np.fill_diagonal(off, -1)
    t, p = np.unravel_index(np.argmax(off), off.shape)  # the most common mistake
    for true_class, pred_class in [(t, p), (int(y[0]), int(y[0]))]:
        idx = cell_samples(y, ev.probabilities, true_class, pred_class)
        assert len(idx) == ev.matrix[true_class, pred_class]
        assert np.all(y[idx] == true_class) and np.all(ev.y_pred[idx] == pred_class)
        conf = ev.probabilities[idx, pred_class]
        assert np.all(np.diff(conf) <= 0)
        np.testing.assert_array_equal(ev.samples(true_class, pred_class), idx)


def test_grad_cam_places_units_at_their_receptive_field_centres(trained):
    net, model, x, y = trained
    # conv2d_2 is 10x10 after 5x5 same conv, 2x2 pool, 5x5 valid conv: unit i is centred on 4.5 + 2i.
    placed = grad_cam(model, x[0], int(y[0]), network=net)
    stretched = grad_cam(model, x[0], int(y[0]))
    assert placed.shape == stretched.shape == (28, 28)
    assert placed.min() >= 0 and placed.max() == pytest.approx(1.0)
    assert not np.allclose(placed, stretched)


def test_upsample_at_puts_each_value_at_its_centre():
    coarse = np.zeros((3, 4))
    coarse[1, 2] = 1.0
    rows, cols = np.array([2.0, 6.0, 10.0]), np.array([1.0, 3.0, 5.0, 7.0])
    up = upsample_at(coarse, rows, cols, (12, 9))
    assert up.shape == (12, 9)
    assert np.unravel_index(np.argmax(up), up.shape) == (6, 5) and up[6, 5] == 1.0
    assert up[4, 5] == pytest.approx(0.5) and up[6, 4] == pytest.approx(0.5)
    assert up[0, 0] == 0.0 and up[11, 8] == 0.0  # beyond the centres: nearest edge value
