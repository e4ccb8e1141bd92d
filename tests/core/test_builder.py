"""The Keras builder: layer names, configs, merge order, the softmax head and refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convstudio.core.builder import OUTPUT_SOFTMAX, BuildError, build_model
from convstudio.core.network import RESERVED_IDS, Network
from convstudio.core.shapes import analyze


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.backend.clear_session(free_memory=False)
    yield


def lenet(last_activation: str = "softmax", classes: int = 10) -> Network:
    return Network.chain([
        "Input",
        ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "padding": "same", "activation": "tanh"}),
        ("AvgPool2D", {}),
        ("Conv2D", {"filters": 16, "kernel_h": 5, "kernel_w": 5, "activation": "tanh"}),
        ("AvgPool2D", {}),
        "Flatten",
        ("Dense", {"units": 120, "activation": "tanh"}),
        ("Dense", {"units": 84, "activation": "tanh"}),
        ("Dense", {"units": classes, "activation": last_activation}),
    ])


def test_lenet_builds_with_block_ids_as_layer_names_and_the_known_parameter_count():
    net = lenet()
    model = build_model(net)
    assert [layer.name for layer in model.layers] == analyze(net).order
    assert model.count_params() == 61_706  # LeNet-5 with 'same' first convolution
    assert tuple(model.output.shape) == (None, 10)
    probs = model.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_softmax_is_appended_only_when_the_output_lacks_it():
    assert OUTPUT_SOFTMAX not in {layer.name for layer in build_model(lenet()).layers}
    model = build_model(lenet("linear"))
    assert model.layers[-1].name == OUTPUT_SOFTMAX
    assert model.layers[-2].name == "dense_3"
    probs = model.predict(np.random.default_rng(0).random((3, 28, 28, 1), "float32"), verbose=0)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5) and (probs >= 0).all()
    assert OUTPUT_SOFTMAX in RESERVED_IDS  # no block can take the appended layer's name


def test_other_input_shapes_and_class_counts():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "GlobalMaxPool2D",
                         ("Dense", {"units": 5, "activation": "softmax"})])
    model = build_model(net, (32, 32, 3), 5)
    assert tuple(model.input.shape) == (None, 32, 32, 3) and tuple(model.output.shape) == (None, 5)
    assert model.get_layer("conv2d_1").count_params() == (3 * 3 * 3 + 1) * 2


def test_full_padding_becomes_zero_padding_then_a_valid_convolution():
    net = Network.chain(["Input", ("Conv2D", {"filters": 3, "kernel_h": 5, "kernel_w": 3, "padding": "full"}),
                         "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    model = build_model(net)
    names = [layer.name for layer in model.layers]
    assert names[:3] == ["input_1", "conv2d_1__pad", "conv2d_1"]
    assert tuple(model.get_layer("conv2d_1__pad").output.shape) == (None, 36, 32, 1)
    assert tuple(model.get_layer("conv2d_1").output.shape) == (None, 32, 30, 3)


def test_layer_configs_follow_block_params():
    net = Network.chain([
        "Input",
        ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 2, "stride_h": 2, "stride_w": 1, "padding": "same",
                    "activation": "elu", "use_bias": False}),
        ("MaxPool2D", {"pool_h": 3, "pool_w": 2, "stride_h": 1, "stride_w": 2, "padding": "same"}),
        ("BatchNorm", {"momentum": 0.9, "epsilon": 0.01}),
        ("Activation", {"function": "sigmoid"}),
        "Flatten",
        ("Dropout", {"rate": 0.25}),
        ("Dense", {"units": 10, "activation": "softmax", "use_bias": False}),
    ])
    model = build_model(net)
    conv = model.get_layer("conv2d_1").get_config()
    assert (conv["filters"], conv["kernel_size"], conv["strides"], conv["padding"], conv["use_bias"]) == \
        (4, (3, 2), (2, 1), "same", False)
    assert conv["activation"] == "elu"
    pool = model.get_layer("maxpool2d_1").get_config()
    assert (pool["pool_size"], pool["strides"], pool["padding"]) == ((3, 2), (1, 2), "same")
    bn = model.get_layer("batchnorm_1").get_config()
    assert (bn["momentum"], bn["epsilon"]) == (0.9, 0.01)
    assert model.get_layer("activation_1").get_config()["activation"] == "sigmoid"
    assert model.get_layer("dropout_1").get_config()["rate"] == 0.25
    dense = model.get_layer("dense_1").get_config()
    assert (dense["units"], dense["activation"], dense["use_bias"]) == (10, "softmax", False)


def _merge_net(kind: str) -> Network:
    net = Network()
    net.add_block("Input", block_id="inp")
    net.add_block("Conv2D", {"filters": 1, "kernel_h": 1, "kernel_w": 1, "activation": "linear"}, block_id="a")
    net.add_block("Conv2D", {"filters": 2, "kernel_h": 1, "kernel_w": 1, "activation": "linear"}, block_id="b")
    net.add_block(kind, block_id="m")
    net.add_block("Flatten", block_id="f")
    net.add_block("Dense", {"units": 10, "activation": "softmax"}, block_id="out")
    for src, dst in [("inp", "a"), ("inp", "b"), ("b", "m"), ("a", "m"), ("m", "f"), ("f", "out")]:
        net.connect(src, dst)
    return net


def test_concatenate_stacks_inputs_in_the_network_input_order():
    net = _merge_net("Concatenate")
    assert net.inputs_of("m") == ["b", "a"]
    model = build_model(net, (4, 4, 1))
    model.get_layer("a").set_weights([np.zeros((1, 1, 1, 1)), np.full((1,), 1.0)])
    model.get_layer("b").set_weights([np.zeros((1, 1, 1, 2)), np.full((2,), 2.0)])
    merged = keras.Model(model.input, model.get_layer("m").output)(np.zeros((1, 4, 4, 1), "float32"))
    assert np.allclose(np.asarray(merged)[0, 0, 0], [2.0, 2.0, 1.0])  # b's two channels, then a's


def test_network_with_errors_raises_build_error_listing_them():
    net = _merge_net("Add")  # 1 channel + 2 channels cannot be added
    net.add_block("Input", block_id="extra")
    with pytest.raises(BuildError) as info:
        build_model(net, (4, 4, 1))
    text = str(info.value)
    assert text.startswith("The network cannot be built yet:")
    assert "- m: Add needs inputs of one shape" in text and "- extra: Only one Input block" in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("net", [Network(), Network.chain(["Input"]), Network.chain(["Flatten", "Dense"])])
def test_degenerate_networks_raise_build_error(net):
    with pytest.raises(BuildError):
        build_model(net)


def test_a_given_analysis_is_used_as_is():
    net = lenet()
    analysis = analyze(net, num_classes=10)
    model = build_model(net, analysis=analysis)
    assert model.count_params() == analysis.total_params
    with pytest.raises(BuildError):
        build_model(net, num_classes=10, analysis=analyze(net, num_classes=3))
