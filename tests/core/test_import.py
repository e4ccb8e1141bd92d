"""Importing .keras files: plain-Keras models become the same network with the same weights;
anything a block cannot reproduce exactly is refused with every offending layer listed."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.importer import ModelImportError, import_keras_model
from convstudio.core.network import Network
from convstudio.core.shapes import analyze

keras = pytest.importorskip("keras")


def _images(n: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28, 1), dtype=np.float32)


def _functional_model() -> keras.Model:
    """A plain-Keras model with a residual add, a concatenation and every supported layer class."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((28, 28, 1), name="pixels")
    x = keras.layers.ZeroPadding2D(2, name="pad")(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="stem")(x)  # with pad: 'full' padding
    x = keras.layers.BatchNormalization(momentum=0.9, name="bn")(x)
    r = keras.layers.Conv2D(6, (3, 1), padding="same", name="branch")(x)
    r = keras.layers.ReLU(name="branch_relu")(r)
    x = keras.layers.Add(name="residual")([x, r])
    x = keras.layers.MaxPooling2D(name="pool")(x)
    y = keras.layers.AveragePooling2D(3, strides=1, padding="same", name="smooth")(x)
    y = keras.layers.LeakyReLU(negative_slope=0.2, name="leaky")(y)
    x = keras.layers.Concatenate(name="join")([x, y])
    x = keras.layers.Conv2D(8, 3, strides=2, activation="elu", use_bias=False, name="down")(x)
    g = keras.layers.GlobalMaxPooling2D(name="gmax")(x)
    x = keras.layers.Flatten(name="flat")(x)
    x = keras.layers.Dropout(0.3, name="drop")(x)
    x = keras.layers.Dense(24, activation="tanh", name="hidden")(x)
    x = keras.layers.Concatenate(name="with_gmax")([x, g])
    x = keras.layers.Dense(10, name="logits")(x)
    outputs = keras.layers.Softmax(name="probs")(x)
    model = keras.Model(inputs, outputs, name="plain")
    for layer in model.layers:  # non-trivial batch statistics, so BatchNorm's state is checked too
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.linspace(-0.2, 0.3, 6))
            layer.moving_variance.assign(np.linspace(0.5, 2.0, 6))
    return model


def test_plain_keras_model_imports_with_the_same_summary_and_predictions(tmp_path):
    source = _functional_model()
    path = tmp_path / "plain.keras"
    source.save(path)
    net, model = import_keras_model(path)

    pads = {"pad"}
    assert {b.id for b in net} == {layer.name for layer in source.layers} - pads
    assert net.blocks["stem"].params["padding"] == "full"
    assert net.blocks["leaky"].kind == "LeakyReLU" and net.blocks["leaky"].params["negative_slope"] == pytest.approx(0.2)
    assert net.inputs_of("residual") == ["bn", "branch_relu"] and net.inputs_of("with_gmax") == ["hidden", "gmax"]
    analysis = analyze(net)
    for layer in source.layers:  # same output shape and parameter count, layer by layer
        if layer.name in pads or layer.name == "pixels":
            continue
        assert model.get_layer(layer.name).output.shape == layer.output.shape, layer.name
        assert model.get_layer(layer.name).count_params() == layer.count_params(), layer.name
        assert analysis.info[layer.name].shape == tuple(layer.output.shape[1:])
        assert analysis.info[layer.name].params == layer.count_params()
    assert model.count_params() == source.count_params()
    x = _images()
    np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-6)
    ys = [b.pos[1] for b in net]
    assert net.blocks["pixels"].pos[1] == min(ys) and net.blocks["probs"].pos[1] == max(ys)  # top to bottom


def test_sequential_model_imports(tmp_path):
    keras.utils.set_random_seed(2)
    source = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 5, padding="same", activation="relu"),
        keras.layers.AveragePooling2D(2),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    source.save(tmp_path / "seq.keras")
    net, model = import_keras_model(tmp_path / "seq.keras")
    assert [net.blocks[b].kind for b in net.topological_order()[0]] == \
        ["Input", "Conv2D", "AvgPool2D", "GlobalAvgPool2D", "Dense"]
    x = _images(8)
    np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-6)


def test_a_network_exported_by_the_app_comes_back_unchanged(tmp_path):
    net = Network.chain(["Input", ("Conv2D", {"filters": 5, "padding": "full", "activation": "sigmoid"}),
                         ("MaxPool2D", {"stride_h": 1, "stride_w": 1}), "Flatten",
                         ("Dense", {"units": 10, "activation": "linear"})])
    model = build_model(net)  # appends the output_softmax layer, which must not become a block
    model.save(tmp_path / "app.keras")
    imported, rebuilt = import_keras_model(tmp_path / "app.keras")
    assert {b.id: (b.kind, b.params) for b in imported} == {b.id: (b.kind, b.params) for b in net}
    assert imported.edges == net.edges
    x = _images(4)
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_the_imported_model_can_be_fine_tuned(tmp_path):
    _functional_model().save(tmp_path / "plain.keras")
    _, model = import_keras_model(tmp_path / "plain.keras")
    before = model.get_layer("logits").get_weights()[0].copy()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(_images(8), np.arange(8) % 10, epochs=1, verbose=0)
    assert not np.allclose(model.get_layer("logits").get_weights()[0], before)


def test_every_unsupported_layer_is_listed_and_nothing_is_returned(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, groups=1, kernel_regularizer="l1", bias_regularizer="l2", name="decayed")(inputs)
    x = keras.layers.DepthwiseConv2D(3, dilation_rate=2, name="dilated")(x)
    x = keras.layers.ZeroPadding2D(1, name="odd_pad")(x)
    x = keras.layers.Conv2D(4, 5, name="after_pad")(x)
    x = keras.layers.Reshape((-1,), name="reshape")(x)
    x = keras.layers.Dense(10, activation="softmax", name="out")(x)
    keras.Model(inputs, x).save(tmp_path / "odd.keras")
    with pytest.raises(ModelImportError) as info:
        import_keras_model(tmp_path / "odd.keras")
    problems = info.value.problems
    assert len(problems) == 4
    text = str(info.value)
    assert ("layer 'decayed' (Conv2D): bias regularizer (changes training); kernel regularizer L1 (only an L2 "
            "weight decay is a block setting)") in text
    assert "layer 'dilated' (DepthwiseConv2D): dilation rate (2, 2) (only Conv2D blocks are dilated)" in text
    assert "layer 'odd_pad' (ZeroPadding2D): padding (1, 1, 1, 1) before a 5x5 'valid' Conv2D" in text
    assert "layer 'reshape' (Reshape): no ConvStudio block does what this layer does" in text


def test_code_in_the_file_is_never_run_and_its_layers_are_named(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    x = keras.layers.Lambda(lambda t: t + 1.0, name="my_lambda")(x)
    x = keras.layers.Flatten()(x)
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)).save(tmp_path / "code.keras")
    with pytest.raises(ModelImportError, match="contains Python code") as info:
        import_keras_model(tmp_path / "code.keras")
    assert info.value.problems == ["layer 'double' (Lambda): it contains Python code",
                                   "layer 'my_lambda' (Lambda): it contains Python code"]


def test_unreadable_files_are_explained(tmp_path):
    with pytest.raises(ModelImportError, match="there is no such file"):
        import_keras_model(tmp_path / "missing.keras")
    with pytest.raises(ModelImportError, match="it is a folder"):
        import_keras_model(tmp_path)
    (tmp_path / "junk.keras").write_bytes(b"not a model at all")
    with pytest.raises(ModelImportError, match="cannot import junk.keras"):
        import_keras_model(tmp_path / "junk.keras")


def test_a_model_for_other_images_takes_its_shape_unless_a_dataset_says_otherwise(tmp_path):
    inputs = keras.Input((32, 24, 3))
    x = keras.layers.Flatten()(inputs)
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)).save(tmp_path / "rgb.keras")
    network, model = import_keras_model(tmp_path / "rgb.keras")
    assert network.blocks[network.input_blocks()[0]].params == {"height": 32, "width": 24, "channels": 3}
    assert tuple(model.input_shape[1:]) == (32, 24, 3) and analyze(network).total_params == 32 * 24 * 3 * 10 + 10
    with pytest.raises(ModelImportError, match=r"inputs of shape \(32, 24, 3\), but the dataset's images are "
                                               r"\(28, 28, 1\)"):
        import_keras_model(tmp_path / "rgb.keras", (28, 28, 1))
    vectors = keras.Input((12,))
    keras.Model(vectors, keras.layers.Dense(10, activation="softmax")(vectors)).save(tmp_path / "flat.keras")
    with pytest.raises(ModelImportError, match=r"take images of a fixed \(height, width, channels\)"):
        import_keras_model(tmp_path / "flat.keras")


def test_legacy_h5_files_import_too_and_still_run_no_code(tmp_path):
    keras.utils.set_random_seed(4)
    source = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                               keras.layers.Dense(10, activation="softmax")])
    source.save(tmp_path / "old.h5")
    net, model = import_keras_model(tmp_path / "old.h5")
    x = _images(4)
    np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-6)

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t + 1.0, name="shift")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)).save(tmp_path / "code.h5")
    with pytest.raises(ModelImportError, match="contains Python code") as info:
        import_keras_model(tmp_path / "code.h5")
    assert info.value.problems == ["layer 'shift' (Lambda): it contains Python code"]
