"""Conv2D blocks that start from hand-designed kernels and may be frozen: shape inference, Keras,
training on real MNIST, project files, import and the exported script."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
from datafiles import BUNDLED_MNIST, MNIST, SHARED_MNIST  # noqa: E402

from convstudio.core.blocks import get_spec
from convstudio.core.builder import build_model
from convstudio.core.datasets import Dataset
from convstudio.core.importer import import_keras_model
from convstudio.core.inspection import (
    conv_kernel_array,
    correlate2d,
    kernel_bank,
    kirsch_kernels,
    prepare_images,
    sobel_horizontal,
    sobel_vertical,
)
from convstudio.core.network import Network, NetworkError
from convstudio.core.project import Project, load_project, save_project
from convstudio.core.settings import TrainSettings
from convstudio.core.shapes import analyze, apply_fix
from convstudio.core.training import Trainer
from convstudio.core.training_events import EventChannel


def sobel_vs_learned(padding: str = "same") -> Network:
    """Input -> frozen Sobel conv (linear) and learned conv -> Concatenate -> pool -> flatten -> dense."""
    net = Network()
    net.add_block("Input", {}, block_id="input")
    net.add_block("Conv2D", {"filters": 2, "kernel_h": 3, "kernel_w": 3, "padding": padding, "activation": "linear",
                             "kernel_init": "sobel", "trainable": False}, block_id="sobel")
    net.add_block("Conv2D", {"filters": 3, "kernel_h": 3, "kernel_w": 3, "padding": padding}, block_id="learned")
    net.add_block("Concatenate", {}, block_id="concat")
    net.add_block("MaxPool2D", {}, block_id="pool")
    net.add_block("Flatten", {}, block_id="flatten")
    net.add_block("Dense", {"units": 10, "activation": "softmax"}, block_id="output")
    for src, dst in [("input", "sobel"), ("input", "learned"), ("sobel", "concat"), ("learned", "concat"),
                     ("concat", "pool"), ("pool", "flatten"), ("flatten", "output")]:
        net.connect(src, dst)
    return net


def trainable_count(layer_or_model) -> int:
    return sum(math.prod(w.shape) for w in layer_or_model.trainable_weights)


# ----------------------------------------------------------------------------- the spec


def test_conv2d_offers_kernel_init_and_trainable_with_defaults():
    spec = get_spec("Conv2D")
    init, trainable = spec.param("kernel_init"), spec.param("trainable")
    assert init.default == "learned" and init.choices == ("learned", "sobel", "kirsch", "gaussian")
    assert all(word in init.help.lower() for word in ("sobel", "kirsch", "gaussian", "random"))
    assert trainable.default is True and trainable.type is bool and trainable.title == "Trainable"
    assert "freeze" in trainable.help.lower()
    with pytest.raises(ValueError, match="Initial kernels must be one of"):
        spec.validate_params({"kernel_init": "laplace"})


def test_kernel_banks_are_the_classic_kernels_cycled_and_spread_over_channels():
    assert [k.tolist() for k in kernel_bank("sobel", 3, 3)] == [sobel_horizontal().tolist(), sobel_vertical().tolist()]
    assert len(kernel_bank("kirsch", 3, 3)) == 8
    blur = kernel_bank("gaussian", 5, 3)[0]
    assert blur.shape == (5, 3) and blur.sum() == pytest.approx(1.0) and blur[2, 1] == blur.max()
    kernel = conv_kernel_array("kirsch", 3, 3, in_channels=4, filters=10)
    assert kernel.shape == (3, 3, 4, 10)
    np.testing.assert_allclose(kernel[:, :, 3, 9], kirsch_kernels()["NE"] / 4)  # filter 9 -> kernel 9 % 8
    with pytest.raises(ValueError, match="3x3"):
        kernel_bank("sobel", 5, 5)


def test_sobel_needs_3x3_and_offers_gaussian_instead():
    net = Network.chain(["Input", ("Conv2D", {"kernel_h": 5, "kernel_w": 5, "kernel_init": "sobel"}), "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    conv = net.topological_order()[0][1]
    issue = next(i for i in analyze(net).errors if i.block_id == conv)
    assert "3x3" in issue.message and "5x5" in issue.message
    apply_fix(net, conv, issue.fix)
    assert net.blocks[conv].params["kernel_init"] == "gaussian" and analyze(net).ok


def test_frozen_conv_has_no_trainable_params_and_counts_match_keras():
    net = sobel_vs_learned()
    analysis = analyze(net)
    sobel = analysis.info["sobel"]
    assert sobel.params == (9 + 1) * 2 and sobel.trainable_params == 0
    assert analysis.info["learned"].trainable_params == analysis.info["learned"].params == 30
    model = build_model(net, analysis=analysis)
    for bid in ("sobel", "learned"):
        assert trainable_count(model.get_layer(bid)) == analysis.info[bid].trainable_params
    assert trainable_count(model) == analysis.trainable_params < analysis.total_params == model.count_params()
    assert model.get_layer("sobel").trainable is False


def test_hand_kernels_over_several_input_channels_see_the_channels_mean():
    net = Network.chain(["Input", ("Conv2D", {"filters": 3, "kernel_h": 3, "kernel_w": 3, "padding": "valid",
                                              "activation": "linear", "kernel_init": "gaussian"}),
                         "Flatten", ("Dense", {"units": 2, "activation": "softmax"})])
    conv = net.topological_order()[0][1]
    model = build_model(net, (8, 8, 3), 2)
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    out = keras.Model(model.input, model.get_layer(conv).output)(x).numpy()[0]
    blur = kernel_bank("gaussian", 3, 3)[0]
    np.testing.assert_allclose(out[:, :, 1], correlate2d(x[0].mean(axis=-1), blur), atol=1e-5)


# ----------------------------------------------------------------------------- training on real MNIST


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    """300 training and 30 test images of real MNIST."""
    if not MNIST.is_file():
        pytest.skip(f"neither {SHARED_MNIST} nor {BUNDLED_MNIST} is available")
    with np.load(MNIST) as d:
        return Dataset("mnist", d["x_train"][:300], d["y_train"][:300], d["x_test"][:30], d["y_test"][:30],
                       [str(i) for i in range(10)], source="MNIST slice")


def sobel_maps(model: keras.Model, images: np.ndarray) -> np.ndarray:
    return np.asarray(keras.Model(model.input, model.get_layer("sobel").output)(prepare_images(images)))


def reference_maps(images: np.ndarray) -> np.ndarray:
    x = prepare_images(images)[..., 0]
    return np.stack([np.stack([correlate2d(img, k, padding="same") for k in (sobel_horizontal(), sobel_vertical())],
                              axis=-1) for img in x])


@pytest.mark.slow
def test_frozen_sobel_matches_numpy_before_and_after_training_while_learned_filters_change(mnist):
    net = sobel_vs_learned()
    model = build_model(net)
    images = mnist.x_test[:4]
    before_learned = model.get_layer("learned").get_weights()[0].copy()
    np.testing.assert_allclose(sobel_maps(model, images), reference_maps(images), atol=1e-5)

    trainer = Trainer(net, mnist, TrainSettings(epochs=1, batch_size=32, validation_split=0.0, seed=3,
                                                learning_rate=0.01), EventChannel(), model=model)
    finished = trainer.run()
    assert finished.status == "completed", finished
    sobel_kernel, sobel_bias = trainer.model.get_layer("sobel").get_weights()
    np.testing.assert_array_equal(sobel_kernel, conv_kernel_array("sobel", 3, 3, 1, 2))
    np.testing.assert_array_equal(sobel_bias, np.zeros(2, np.float32))
    np.testing.assert_allclose(sobel_maps(trainer.model, images), reference_maps(images), atol=1e-5)
    assert np.abs(trainer.model.get_layer("learned").get_weights()[0] - before_learned).max() > 1e-4


@pytest.mark.slow
def test_unfrozen_sobel_starts_from_sobel_and_drifts(mnist):
    net = sobel_vs_learned()
    net.set_param("sobel", "trainable", True)
    trainer = Trainer(net, mnist, TrainSettings(epochs=1, batch_size=32, validation_split=0.0, seed=3,
                                                learning_rate=0.01), EventChannel())
    trainer.run()
    kernel = trainer.model.get_layer("sobel").get_weights()[0]
    start = conv_kernel_array("sobel", 3, 3, 1, 2)
    assert kernel.shape == start.shape and 0 < np.abs(kernel - start).max() < 1.0  # moved, but from Sobel


# ----------------------------------------------------------------------------- files


def test_project_with_the_new_params_round_trips_and_old_files_load(tmp_path):
    net = sobel_vs_learned()
    path = save_project(Project(net), tmp_path / "sobel.json")
    again = load_project(path).network
    assert again.blocks["sobel"].params["kernel_init"] == "sobel"
    assert again.blocks["sobel"].params["trainable"] is False
    assert again.to_dict() == net.to_dict()

    data = json.loads(path.read_text())
    for block in data["network"]["blocks"]:  # a file written before these params existed
        block["params"].pop("kernel_init", None)
        block["params"].pop("trainable", None)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    params = load_project(old).network.blocks["sobel"].params
    assert params["kernel_init"] == "learned" and params["trainable"] is True


def test_saved_keras_model_keeps_hand_kernels_and_freeze_with_safe_mode(tmp_path):
    model = build_model(sobel_vs_learned())
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert again.get_layer("sobel").trainable is False
    np.testing.assert_array_equal(again.get_layer("sobel").get_weights()[0], conv_kernel_array("sobel", 3, 3, 1, 2))
    clone = keras.models.clone_model(again)  # fresh weights from the config: the initializer is kept too
    np.testing.assert_array_equal(clone.get_layer("sobel").get_weights()[0], conv_kernel_array("sobel", 3, 3, 1, 2))


def test_importer_maps_a_frozen_conv_to_trainable_unticked(tmp_path):
    model = build_model(sobel_vs_learned())
    model.save(tmp_path / "m.keras")
    network, imported = import_keras_model(tmp_path / "m.keras")
    params = network.blocks["sobel"].params
    assert params["trainable"] is False and params["kernel_init"] == "learned"  # the kernels come as weights
    assert network.blocks["learned"].params["trainable"] is True
    np.testing.assert_array_equal(imported.get_layer("sobel").get_weights()[0], conv_kernel_array("sobel", 3, 3, 1, 2))
    assert analyze(network).trainable_params == trainable_count(imported)


def test_exported_script_rebuilds_hand_kernels_and_freeze():
    from convstudio.core.export.codegen import training_script

    net = sobel_vs_learned()
    script = training_script(net)
    assert "trainable=False" in script and "2 @ 3x3, sobel, frozen" in script
    namespace: dict = {"__name__": "exported"}
    exec(compile(script, "train.py", "exec"), namespace)
    model = namespace["build_model"]()
    assert model.count_params() == build_model(net).count_params()
    assert trainable_count(model) == analyze(net).trainable_params
    np.testing.assert_array_equal(model.get_layer("sobel").get_weights()[0], conv_kernel_array("sobel", 3, 3, 1, 2))


@pytest.mark.parametrize("init, size", [("kirsch", (3, 3)), ("gaussian", (5, 3))])
def test_exported_script_spreads_hand_kernels_over_input_channels_exactly(init, size):
    from convstudio.core.export.codegen import training_script

    net = Network.chain(["Input", ("Conv2D", {"filters": 4, "padding": "same"}),
                         ("Conv2D", {"filters": 10, "kernel_h": size[0], "kernel_w": size[1], "kernel_init": init}),
                         "Flatten", ("Dense", {"units": 3, "activation": "softmax"})])
    hand = net.topological_order()[0][2]
    namespace: dict = {"__name__": "exported"}
    exec(compile(training_script(net, input_shape=(12, 12, 2), num_classes=3), "train.py", "exec"), namespace)
    model = namespace["build_model"]()
    expected = conv_kernel_array(init, *size, in_channels=4, filters=10)
    np.testing.assert_array_equal(model.get_layer(hand).get_weights()[0], expected)
    np.testing.assert_array_equal(build_model(net, (12, 12, 2), 3).get_layer(hand).get_weights()[0], expected)


def test_unknown_kernel_init_in_a_project_file_is_a_human_error(tmp_path):
    data = json.loads(save_project(Project(sobel_vs_learned()), tmp_path / "p.json").read_text())
    data["network"]["blocks"][1]["params"]["kernel_init"] = "prewitt"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises((ValueError, NetworkError)) as info:
        load_project(bad)
    assert "Initial kernels must be one of" in str(info.value)
