"""Hand-designed kernels and loading them into a Conv2D block."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import (
    activation_model,
    correlate2d,
    gaussian_kernel,
    hand_designed_kernels,
    kirsch_kernels,
    set_conv_kernels,
    sobel_horizontal,
    sobel_vertical,
)
from convstudio.core.network import Network

keras = pytest.importorskip("keras")


def _net(filters=2, padding="valid", stride=1, activation="linear", second=False) -> Network:
    layers = ["Input", ("Conv2D", {"filters": filters, "kernel_h": 3, "kernel_w": 3, "padding": padding,
                                   "stride_h": stride, "stride_w": stride, "activation": activation})]
    if second:
        layers.append(("Conv2D", {"filters": 3, "kernel_h": 3, "kernel_w": 3, "activation": "linear"}))
    return Network.chain([*layers, "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


def _image(seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (28, 28)).astype(np.float32)


def _conv_out(net: Network, model, block_id: str, image: np.ndarray) -> np.ndarray:
    return np.asarray(activation_model(model, net)(image[None, ..., None])[block_id])[0]


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 2), ("full", 1), ("same", 1)])
def test_sobel_initialised_convolution_equals_numpy_correlation(padding, stride):
    net = _net(padding=padding, stride=stride)
    model = build_model(net)
    set_conv_kernels(model, "conv2d_1", [sobel_horizontal(), sobel_vertical()])
    image = _image()
    out = _conv_out(net, model, "conv2d_1", image)
    for j, kernel in enumerate([sobel_horizontal(), sobel_vertical()]):
        expected = correlate2d(image, kernel, (stride, stride), padding)
        np.testing.assert_allclose(out[:, :, j], expected, atol=1e-5)


def test_sobel_finds_the_edges_it_is_named_for():
    step = np.zeros((9, 9))
    step[5:] = 1.0  # a horizontal edge: dark above, light below
    assert np.abs(correlate2d(step, sobel_horizontal())).max() == 4
    assert np.abs(correlate2d(step, sobel_vertical())).max() == 0
    assert np.abs(correlate2d(step.T, sobel_vertical())).max() == 4


def test_more_filters_than_kernels_cycle_and_several_channels_share_the_kernel():
    net = _net(filters=5, second=True)
    model = build_model(net)
    kirsch = list(kirsch_kernels().values())[:2]
    set_conv_kernels(model, "conv2d_1", kirsch)
    set_conv_kernels(model, "conv2d_2", sobel_vertical())
    w1 = model.get_layer("conv2d_1").get_weights()[0]
    assert [np.array_equal(w1[:, :, 0, j], kirsch[j % 2]) for j in range(5)] == [True] * 5
    w2, b2 = model.get_layer("conv2d_2").get_weights()
    assert w2.shape == (3, 3, 5, 3)
    np.testing.assert_allclose(w2.sum(axis=2)[:, :, 1], sobel_vertical(), atol=1e-6)
    assert not b2.any()
    # A channel-replicated kernel sees the channels' mean.
    maps = np.random.default_rng(1).uniform(0, 1, (12, 12, 5)).astype(np.float32)
    conv = model.get_layer("conv2d_2")
    out = np.asarray(conv(maps[None]))[0, :, :, 0]
    np.testing.assert_allclose(out, correlate2d(maps.mean(axis=-1), sobel_vertical()), atol=1e-5)


def test_freeze_and_bad_requests():
    net = _net()
    model = build_model(net)
    set_conv_kernels(model, "conv2d_1", sobel_vertical(), freeze=True)
    assert model.get_layer("conv2d_1").trainable is False
    with pytest.raises(ValueError, match="3x3 kernels but the given kernels are 5x5"):
        set_conv_kernels(model, "conv2d_1", gaussian_kernel(5, 1.0))
    with pytest.raises(ValueError, match="not a Conv2D"):
        set_conv_kernels(model, "dense_1", sobel_vertical())
    with pytest.raises(ValueError, match="no block"):
        set_conv_kernels(model, "nope", sobel_vertical())


def test_kirsch_kernels_are_the_eight_turns_of_one_ring():
    k = kirsch_kernels()
    assert list(k) == ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    assert k["N"].tolist() == [[5, 5, 5], [-3, 0, -3], [-3, -3, -3]]
    np.testing.assert_array_equal(k["S"], np.rot90(k["N"], 2))
    np.testing.assert_array_equal(k["W"], np.rot90(k["N"], 1))
    np.testing.assert_array_equal(k["SE"], np.rot90(k["NW"], 2))
    assert all(v.sum() == 0 and v[1, 1] == 0 for v in k.values())


def test_gaussian_sums_to_one_peaks_in_the_middle_and_is_checked():
    g = gaussian_kernel(5, 1.0)
    assert g.shape == (5, 5) and abs(g.sum() - 1) < 1e-6
    assert g[2, 2] == g.max() and np.allclose(g, g.T) and np.allclose(g, g[::-1])
    assert gaussian_kernel(5, 3.0).max() < g.max()  # wider blur, flatter kernel
    with pytest.raises(ValueError, match="sigma"):
        gaussian_kernel(3, 0)
    assert len(hand_designed_kernels(3)) == 11 and len(hand_designed_kernels(5)) == 1
