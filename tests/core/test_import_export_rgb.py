"""A plain-Keras 32x32x3 model with the newer layer kinds imports with its weights and re-exports,
verified, in every format."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.export import FORMATS, export_model
from convstudio.core.importer import import_keras_model
from convstudio.core.shapes import analyze

keras = pytest.importorskip("keras")


def _plain_keras_rgb_model() -> keras.Model:
    keras.utils.set_random_seed(11)
    inputs = keras.Input((32, 32, 3), name="photo")
    x = keras.layers.Conv2D(6, 3, dilation_rate=2, kernel_regularizer=keras.regularizers.L2(1e-4),
                            name="dilated")(inputs)
    x = keras.layers.LeakyReLU(negative_slope=0.1, name="leaky")(x)
    x = keras.layers.SeparableConv2D(8, 3, strides=2, depth_multiplier=2, name="separable")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="depthwise")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.SpatialDropout2D(0.2, name="spatial")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(4, activation="softmax", kernel_regularizer="l2", name="classes")(x)
    model = keras.Model(inputs, outputs, name="plain_rgb")
    bn = model.get_layer("bn")  # non-trivial statistics, so they must travel with the weights
    bn.moving_mean.assign(np.linspace(-0.1, 0.1, 8))
    bn.moving_variance.assign(np.linspace(0.5, 1.5, 8))
    return model


@pytest.mark.slow
def test_a_plain_keras_rgb_model_imports_with_its_weights_and_exports_verified_everywhere(tmp_path):
    source = _plain_keras_rgb_model()
    source.save(tmp_path / "plain.keras")
    network, model = import_keras_model(tmp_path / "plain.keras", num_classes=4)

    kinds = {bid: b.kind for bid, b in network.blocks.items()}
    assert kinds == {"photo": "Input", "dilated": "Conv2D", "leaky": "LeakyReLU", "separable": "SeparableConv2D",
                     "depthwise": "DepthwiseConv2D", "bn": "BatchNorm", "spatial": "SpatialDropout2D",
                     "gap": "GlobalAvgPool2D", "classes": "Dense"}
    analysis = analyze(network, num_classes=4)
    assert analysis.input_shape == (32, 32, 3) and analysis.total_params == source.count_params()
    images = np.random.default_rng(0).integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    x = images.astype(np.float32) / 255.0
    np.testing.assert_allclose(model(x, training=False), source(x, training=False), atol=1e-6)

    written = {}
    for fmt in FORMATS:
        if FORMATS[fmt].availability() is not None:
            continue  # an optional runtime that is not installed (its own test says how to add it)
        target = tmp_path / ("out_" + fmt + FORMATS[fmt].suffix)
        report = export_model(model, fmt, target, network=network, sample_images=images)
        assert report.verified and report.max_abs_diff <= FORMATS[fmt].tolerance, fmt
        written[fmt] = report.max_abs_diff
    assert {"keras", "savedmodel", "tflite", "tflite_int8", "script", "predict"} <= set(written)
