"""The Input block's own shape: designing for any image size without data, the dataset's shape as a
checked setting with a one-click fix, and old projects without a shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convstudio.core.blocks import get_spec
from convstudio.core.inspection.receptive_field import receptive_field, receptive_fields
from convstudio.core.network import Network
from convstudio.core.project import Project, load_project, save_project
from convstudio.core.shapes import analyze, apply_fix
from convstudio.core.summary import format_summary


def _photo_net(height: int = 150, width: int = 100, channels: int = 3) -> Network:
    return Network.chain([
        ("Input", {"height": height, "width": width, "channels": channels}),
        ("Conv2D", {"filters": 32, "kernel_h": 3, "kernel_w": 3}),
        ("MaxPool2D", {}),
        ("Conv2D", {"filters": 64, "kernel_h": 3, "kernel_w": 3}),
        ("GlobalAvgPool2D", {}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])


def test_a_network_for_150x100_colour_photos_is_analysed_without_data():
    analysis = analyze(_photo_net())
    assert analysis.ok and analysis.input_shape == (150, 100, 3)
    assert analysis.shape("conv2d_1") == (148, 98, 32)
    assert analysis.info["conv2d_1"].params == (3 * 3 * 3 + 1) * 32  # 896: the textbook count for RGB
    assert analysis.shape("maxpool2d_1") == (74, 49, 32)
    assert analysis.info["conv2d_2"].params == (3 * 3 * 32 + 1) * 64
    assert analysis.total_params == 896 + 18496 + (64 + 1) * 10
    assert analysis.info["conv2d_1"].macs == 148 * 98 * 32 * 27
    assert "(None, 150, 100, 3)" in format_summary(_photo_net(), analysis)


def test_the_built_model_and_receptive_fields_follow_the_input_block():
    from convstudio.core.builder import build_model

    net = _photo_net(20, 12, 3)
    model = build_model(net)
    assert tuple(model.input_shape[1:]) == (20, 12, 3)
    assert model.count_params() == analyze(net).total_params
    fields = receptive_fields(net)
    assert fields["conv2d_2"].size == (8, 8)  # 3 + 1*2 (pool 2) ... = 3, 4, 8
    assert receptive_field(net, "conv2d_2", 3, 1) == (6, 2, 14, 10)


def test_a_dataset_of_another_shape_is_an_error_on_the_input_block_with_a_fix():
    net = _photo_net(32, 32, 3)
    analysis = analyze(net, dataset_shape=(28, 28, 1))
    (issue,) = analysis.errors
    assert issue.block_id == "input_1" and "28x28x1" in issue.message and "32x32x3" in issue.message
    assert issue.fix.label == "Use the dataset's shape"
    apply_fix(net, issue.block_id, issue.fix)
    assert net.blocks["input_1"].params == {"height": 28, "width": 28, "channels": 1}
    assert analyze(net, dataset_shape=(28, 28, 1)).ok


def test_the_input_shape_is_checked_like_every_parameter():
    spec = get_spec("Input")
    with pytest.raises(ValueError, match="Height must be at least 1"):
        spec.validate_params({"height": 0})
    net = Network.chain(["Input"])
    with pytest.raises(Exception, match="Channels must be a whole number"):
        net.set_params("input_1", {"height": 64, "channels": 2.5})
    assert net.blocks["input_1"].params["height"] == 28  # nothing changed: all checked first


def test_old_projects_without_an_input_shape_load_as_28x28x1(tmp_path):
    path = save_project(Project(_photo_net(40, 30, 3)), tmp_path / "p.json")
    again = load_project(path).network
    assert again.blocks["input_1"].params == {"height": 40, "width": 30, "channels": 3}
    data = json.loads(path.read_text())
    for block in data["network"]["blocks"]:
        if block["kind"] == "Input":
            block["params"] = {}
    path.write_text(json.dumps(data))
    old = load_project(path).network
    assert old.blocks["input_1"].params == {"height": 28, "width": 28, "channels": 1}
    assert analyze(old).input_shape == (28, 28, 1)


def test_the_generated_script_and_predict_script_take_the_input_shape():
    from convstudio.core.export.codegen import predict_script, training_script

    namespace: dict = {"__name__": "exported"}
    exec(compile(training_script(_photo_net(24, 16, 3)), "train.py", "exec"), namespace)
    assert namespace["INPUT_SHAPE"] == (24, 16, 3)
    assert tuple(namespace["build_model"]().input_shape[1:]) == (24, 16, 3)
    assert "INPUT_SHAPE = (24, 16, 3)" in predict_script(["a", "b"], (24, 16, 3))


def test_predict_script_reads_colour_and_grey_files_at_the_model_size(tmp_path):
    from PIL import Image

    from convstudio.core.export.codegen import load_module, predict_script

    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[..., 0] = 200  # red
    Image.fromarray(rgb).save(tmp_path / "red.png")
    for shape, expected in (((12, 10, 3), (12, 10, 3)), ((12, 10, 1), (12, 10))):
        (tmp_path / "predict.py").write_text(predict_script(["a"], shape))
        module = load_module(tmp_path / "predict.py")
        pixels = module.load_image(tmp_path / "red.png")
        assert pixels.shape == expected
        assert module.preprocess(pixels[None]).shape == (1, 12, 10, shape[2])
    assert pixels.max() == pixels.min() == round(0.299 * 200)  # grey: luminance of the red


def test_savedmodel_serving_signature_takes_the_models_input_shape(tmp_path):
    import tensorflow as tf

    from convstudio.core.builder import build_model
    from convstudio.core.export import export_model

    net = Network.chain([("Input", {"height": 10, "width": 6, "channels": 3}), "Flatten",
                         ("Dense", {"units": 3, "activation": "softmax"})])
    model = build_model(net, num_classes=3)
    images = np.random.default_rng(0).integers(0, 256, (5, 10, 6, 3), dtype=np.uint8)
    report = export_model(model, "savedmodel", tmp_path / "sm", network=net, sample_images=images)
    assert report.verified
    serve = tf.saved_model.load(str(tmp_path / "sm")).signatures["serve"]
    assert serve.structured_input_signature[1]["images"].shape.as_list() == [None, 10, 6, 3]
    out = serve(images=tf.constant(images))["probabilities"].numpy()
    np.testing.assert_allclose(out, model(images.astype(np.float32) / 255.0), atol=1e-5)
