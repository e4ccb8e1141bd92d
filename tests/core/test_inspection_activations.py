"""Every block's activations for one sample equal that block's Keras sub-model output."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import activation_model, block_activations, prepare_images
from convstudio.core.network import Network

keras = pytest.importorskip("keras")


def _networks():
    lenet = Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 5, "kernel_w": 5, "padding": "full"}),
                           "MaxPool2D", "BatchNorm", ("Dropout", {"rate": 0.5}), "Flatten",
                           ("Dense", {"units": 10, "activation": "relu"})])
    res = Network()
    i = res.add_block("Input")
    a = res.add_block("Conv2D", {"filters": 3, "padding": "same"})
    b = res.add_block("Conv2D", {"filters": 3, "padding": "same"})
    add = res.add_block("Add")
    g = res.add_block("GlobalMaxPool2D")
    d = res.add_block("Dense", {"units": 10, "activation": "softmax"})
    for s, t in [(i, a), (a, b), (a, add), (b, add), (add, g), (g, d)]:
        res.connect(s, t)
    return [lenet, res]


@pytest.mark.parametrize("net", _networks(), ids=["lenet", "residual"])
def test_block_activations_equal_each_blocks_sub_model(net):
    keras.utils.set_random_seed(0)
    model = build_model(net)
    image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    acts = block_activations(model, net, image)
    assert set(acts) == set(net.blocks)
    x = prepare_images(image)
    for bid, value in acts.items():
        sub = keras.Model(model.inputs[0], model.get_layer(bid).output)
        expected = np.asarray(sub(x, training=False))[0]
        assert value.shape == expected.shape
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    # The input block's activation is the preprocessed image, and the last block feeds the softmax.
    np.testing.assert_allclose(acts[net.input_blocks()[0]][..., 0], image / 255.0, atol=1e-6)


def test_activation_model_is_reusable_and_leaves_out_unbuilt_blocks():
    net = _networks()[0]
    model = build_model(net)
    stray = net.add_block("Dense", {"units": 3})  # not connected: not in the model
    act = activation_model(model, net)
    images = np.random.default_rng(1).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    first = block_activations(model, net, images[0], act)
    second = block_activations(model, net, images[1], act)
    assert stray not in first
    assert not np.allclose(first["conv2d_1"], second["conv2d_1"])


def test_prepare_images_accepts_single_images_and_batches():
    img = np.full((28, 28), 255, dtype=np.uint8)
    assert prepare_images(img).shape == (1, 28, 28, 1)
    assert prepare_images(img[..., None]).shape == (1, 28, 28, 1)
    batch = prepare_images(np.stack([img, img, img]))
    assert batch.shape == (3, 28, 28, 1) and batch.dtype == np.float32 and batch.max() == 1.0
    with pytest.raises(ValueError, match="expected an image"):
        prepare_images(np.zeros(5))
    with pytest.raises(ValueError, match="one image"):
        block_activations(build_model(_networks()[0]), _networks()[0], np.stack([img, img]))
