"""What is particular to the dilated, depthwise, separable, leaky, spatial-dropout, weight-decay and
preprocessing kinds (the common contract is checked for every kind in test_block_kinds.py)."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.blocks import get_spec
from convstudio.core.builder import build_model
from convstudio.core.importer import import_keras_model
from convstudio.core.inspection.receptive_field import receptive_field, receptive_fields
from convstudio.core.network import Network
from convstudio.core.shapes import analyze, apply_fix

keras = pytest.importorskip("keras")


def test_a_dilated_kernel_spans_d_times_k_minus_1_plus_1():
    net = Network.chain([("Input", {"height": 16, "width": 16, "channels": 1}),
                         ("Conv2D", {"filters": 2, "dilation_h": 2, "dilation_w": 3}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    analysis = analyze(net)
    assert analysis.shape("conv2d_1") == (12, 10, 2)  # 16 - (2*2+1) + 1, 16 - (3*2+1) + 1
    assert analysis.info["conv2d_1"].params == (9 + 1) * 2  # dilation adds no weights
    assert receptive_fields(net)["conv2d_1"].size == (5, 7)
    assert receptive_field(net, "conv2d_1", 0, 0) == (0, 0, 5, 7)


def test_dilation_with_a_stride_is_an_error_with_a_fix():
    net = Network.chain(["Input", ("Conv2D", {"dilation_h": 2, "stride_h": 2}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    (issue,) = analyze(net).errors
    assert "cannot both stride and dilate" in issue.message
    apply_fix(net, issue.block_id, issue.fix)
    assert analyze(net).ok


def test_depthwise_and_separable_parameter_counts_are_the_textbook_ones():
    net = Network.chain([("Input", {"height": 8, "width": 8, "channels": 3}),
                         ("DepthwiseConv2D", {"depth_multiplier": 2}),
                         ("SeparableConv2D", {"filters": 5, "padding": "same"}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    a = analyze(net)
    assert a.shape("depthwiseconv2d_1") == (6, 6, 6) and a.info["depthwiseconv2d_1"].params == 9 * 6 + 6
    assert a.shape("separableconv2d_1") == (6, 6, 5)
    assert a.info["separableconv2d_1"].params == 9 * 6 + 6 * 5 + 5
    assert build_model(net).count_params() == a.total_params


def _plain_rgb_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, kernel_regularizer=keras.regularizers.L2(3e-4),
                            name="dilated")(inputs)
    x = keras.layers.LeakyReLU(negative_slope=0.15, name="leaky")(x)
    x = keras.layers.SpatialDropout2D(0.25, name="spatial")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dense(3, activation="softmax", kernel_regularizer="l2", name="out")(x)
    return keras.Model(inputs, x)


def test_slopes_decay_and_dilation_come_back_exactly_from_keras(tmp_path):
    _plain_rgb_model().save(tmp_path / "m.keras")
    net, model = import_keras_model(tmp_path / "m.keras", num_classes=3)
    conv = net.blocks["dilated"].params
    assert (conv["dilation_h"], conv["dilation_w"], conv["l2"]) == (2, 2, pytest.approx(3e-4))
    assert net.blocks["leaky"].params == {"negative_slope": pytest.approx(0.15)}
    assert net.blocks["spatial"].params == {"rate": 0.25}
    assert net.blocks["out"].params["l2"] == pytest.approx(0.01)  # Keras' "l2" default factor
    assert model.get_layer("dilated").kernel_regularizer.l2 == pytest.approx(3e-4)
    assert model.get_layer("dilated").dilation_rate == (2, 2)


def test_weight_decay_adds_its_loss():
    net = Network.chain([("Input", {"height": 4, "width": 4, "channels": 1}),
                         ("Conv2D", {"filters": 2, "l2": 0.5}), "Flatten",
                         ("Dense", {"units": 3, "activation": "softmax"})])
    model = build_model(net, num_classes=3)
    model(np.zeros((1, 4, 4, 1), np.float32))
    kernel = model.get_layer("conv2d_1").kernel.numpy()
    assert float(sum(model.losses)) == pytest.approx(0.5 * float(np.sum(kernel ** 2)), rel=1e-5)


AUGMENT = [("RandomFlip", {"mode": "horizontal_and_vertical"}), ("RandomTranslation", {}), ("RandomRotation", {}),
           ("RandomZoom", {}), ("RandomContrast", {})]


def _augmenting() -> Network:
    return Network.chain([("Input", {"height": 10, "width": 10, "channels": 3}), *AUGMENT,
                          ("Rescaling", {"scale": 2.0, "offset": -1.0}), "Flatten",
                          ("Dense", {"units": 2, "activation": "softmax"})])


def test_augmentation_is_identity_at_inference_and_seeded_by_the_training_seed():
    x = np.random.default_rng(0).random((4, 10, 10, 3), dtype=np.float32)

    def augmented(seed: int) -> np.ndarray:
        keras.utils.set_random_seed(seed)  # what the trainer and the generated script do before building
        model = build_model(_augmenting(), num_classes=2)
        probe = keras.Model(model.inputs, model.get_layer("randomcontrast_1").output)
        return np.asarray(probe(x, training=True)), np.asarray(probe(x, training=False))

    first, plain = augmented(5)
    again, _ = augmented(5)
    other, _ = augmented(6)
    np.testing.assert_array_equal(plain, x)  # inference: the image passes unchanged
    np.testing.assert_array_equal(first, again)  # the same seed augments the same way
    assert not np.allclose(first, x) and not np.allclose(first, other)


def test_resizing_changes_the_scale_downstream():
    net = Network.chain([("Input", {"height": 40, "width": 20, "channels": 1}),
                         ("Resizing", {"height": 10, "width": 10}),
                         ("Conv2D", {"filters": 1}), "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    a = analyze(net)
    assert a.shape("resizing_1") == (10, 10, 1) and a.shape("conv2d_1") == (8, 8, 1)
    # 3x3 resized units around (5, 5) are rows 16..27 and columns 7..14 of the image: the rows were
    # squeezed 4x, the columns 2x (with a neighbour either side for the interpolation)
    assert receptive_field(net, "conv2d_1", 4, 4) == (16, 7, 28, 15)
    assert not receptive_fields(net)["conv2d_1"].spatial


def test_a_dilated_block_opens_in_the_explorer_with_its_dilation():
    from convstudio.core.explorer.from_block import block_settings

    settings = block_settings("Conv2D", get_spec("Conv2D").validate_params({"dilation_h": 2, "dilation_w": 3}))
    assert settings.dilation == (2, 3) and settings.kernel == (3, 3)
