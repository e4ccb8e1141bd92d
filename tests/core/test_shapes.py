"""Shape inference against the textbook formulas, and validation: issues, messages and fixes."""

from __future__ import annotations

import math

import pytest

from convstudio.core.blocks import Fix
from convstudio.core.network import Edge, Network
from convstudio.core.shapes import Analysis, analyze, apply_fix, format_shape

SOFTMAX_HEAD = [("Flatten", {}), ("Dense", {"units": 10, "activation": "softmax"})]


def _single(kind: str, params: dict | None = None, input_shape=(28, 28, 1), before=()):
    """Analyse Input -> *before -> kind and return the block's info (the output check may complain)."""
    net = Network.chain(["Input", *before, (kind, params or {})])
    bid = net.sinks()[0]
    info = analyze(net, input_shape).info[bid]
    assert info.shape is not None
    return info


def _errors_on(analysis: Analysis, block_id: str | None):
    return [i for i in analysis.errors if i.block_id == block_id]


# ----------------------------------------------------------------------------- inference per kind


def test_input_takes_the_dataset_shape():
    net = Network.chain(["Input", *SOFTMAX_HEAD])
    for shape in [(28, 28, 1), (32, 32, 3), (5, 7, 2)]:
        a = analyze(net, shape)
        assert a.info["input_1"].shape == shape and a.info["input_1"].params == 0
        assert a.info["flatten_1"].shape == (math.prod(shape),)


# (input, filters, kernel, stride, padding, bias) -> output computed by hand from
# floor((n + 2p - f) / s) + 1 (valid p = 0, full p = f - 1) and ceil(n / s) for same
CONV_CASES = [
    ((28, 28, 1), 6, (5, 5), (1, 1), "valid", True, (24, 24, 6)),     # LeNet C1
    ((14, 14, 6), 16, (5, 5), (1, 1), "valid", True, (10, 10, 16)),   # LeNet C3
    ((28, 28, 1), 8, (3, 3), (1, 1), "same", True, (28, 28, 8)),
    ((28, 28, 1), 8, (3, 3), (2, 2), "same", True, (14, 14, 8)),
    ((7, 7, 4), 2, (3, 3), (2, 2), "same", False, (4, 4, 2)),
    ((28, 28, 1), 4, (3, 3), (2, 2), "valid", True, (13, 13, 4)),
    ((28, 28, 3), 4, (5, 3), (3, 2), "valid", True, (8, 13, 4)),
    ((5, 5, 2), 3, (3, 3), (1, 1), "full", True, (7, 7, 3)),
    ((5, 6, 2), 3, (4, 2), (2, 3), "full", False, (4, 3, 3)),
    ((32, 32, 3), 1, (1, 1), (1, 1), "valid", True, (32, 32, 1)),
    ((3, 3, 2), 5, (7, 7), (1, 1), "same", True, (3, 3, 5)),  # same works even when the kernel is larger
]


@pytest.mark.parametrize("shape_in, filters, kernel, stride, padding, bias, expected", CONV_CASES)
def test_conv2d_shape_params_macs_and_memory(shape_in, filters, kernel, stride, padding, bias, expected):
    params = {"filters": filters, "kernel_h": kernel[0], "kernel_w": kernel[1], "stride_h": stride[0],
              "stride_w": stride[1], "padding": padding, "use_bias": bias}
    info = _single("Conv2D", params, shape_in)
    assert info.shape == expected
    c_in = shape_in[2]
    assert info.params == (kernel[0] * kernel[1] * c_in + (1 if bias else 0)) * filters
    assert info.trainable_params == info.params
    assert info.macs == expected[0] * expected[1] * filters * kernel[0] * kernel[1] * c_in
    assert info.activation_bytes == expected[0] * expected[1] * expected[2] * 4


def test_lenet_first_layer_known_numbers():
    info = _single("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5})
    assert (info.shape, info.params, info.macs, info.activation_bytes) == ((24, 24, 6), 156, 86_400, 13_824)


POOL_CASES = [
    ((28, 28, 1), (2, 2), (2, 2), "valid", (14, 14, 1)),
    ((24, 24, 6), (2, 2), (2, 2), "valid", (12, 12, 6)),
    ((7, 7, 3), (2, 2), (2, 2), "valid", (3, 3, 3)),
    ((7, 7, 3), (2, 2), (2, 2), "same", (4, 4, 3)),
    ((9, 9, 2), (3, 3), (1, 1), "valid", (7, 7, 2)),
    ((10, 8, 2), (3, 2), (2, 3), "valid", (4, 3, 2)),
    ((5, 5, 1), (7, 7), (2, 2), "same", (3, 3, 1)),
]


@pytest.mark.parametrize("kind", ["MaxPool2D", "AvgPool2D"])
@pytest.mark.parametrize("shape_in, pool, stride, padding, expected", POOL_CASES)
def test_pooling_shape_and_no_params(kind, shape_in, pool, stride, padding, expected):
    info = _single(kind, {"pool_h": pool[0], "pool_w": pool[1], "stride_h": stride[0], "stride_w": stride[1],
                          "padding": padding}, shape_in)
    assert info.shape == expected
    assert info.params == 0 and info.trainable_params == 0
    assert info.macs == expected[0] * expected[1] * expected[2] * pool[0] * pool[1]
    assert info.activation_bytes == math.prod(expected) * 4


@pytest.mark.parametrize("kind", ["GlobalAvgPool2D", "GlobalMaxPool2D"])
def test_global_pooling_gives_one_number_per_channel(kind):
    info = _single(kind, {}, (6, 5, 7))
    assert info.shape == (7,) and info.params == 0 and info.macs == 6 * 5 * 7
    assert info.activation_bytes == 28


def test_flatten_unrolls_everything():
    info = _single("Flatten", {}, (5, 6, 7))
    assert info.shape == (210,) and info.params == 0


@pytest.mark.parametrize("n, units, bias", [(784, 128, True), (120, 84, True), (84, 10, False), (1, 1, True)])
def test_dense_shape_params_and_macs(n, units, bias):
    # a 1-channel 1-row image of width n flattens to n
    info = _single("Dense", {"units": units, "use_bias": bias}, (1, n, 1), before=["Flatten"])
    assert info.shape == (units,)
    assert info.params == (n + 1) * units if bias else n * units
    assert info.macs == n * units and info.activation_bytes == units * 4


def test_dense_known_numbers():
    info = _single("Dense", {"units": 128}, before=["Flatten"])
    assert info.params == 100_480  # (784 + 1) * 128


@pytest.mark.parametrize("kind, params", [("Dropout", {"rate": 0.3}), ("Activation", {"function": "tanh"})])
@pytest.mark.parametrize("shape_in", [(28, 28, 1), (9, 4, 3)])
def test_shape_preserving_blocks(kind, params, shape_in):
    info = _single(kind, params, shape_in)
    assert info.shape == shape_in and info.params == 0


@pytest.mark.parametrize("shape_in, before, c", [((28, 28, 1), [("Conv2D", {"filters": 16})], 16),
                                                 ((4, 4, 3), [], 3),
                                                 ((2, 5, 1), ["Flatten"], 10)])
def test_batchnorm_has_four_params_per_channel_two_trainable(shape_in, before, c):
    info = _single("BatchNorm", {}, shape_in, before=before)
    assert info.params == 4 * c and info.trainable_params == 2 * c
    assert info.shape[-1] == c


def _two_branches(merge: str, a: dict, b: dict, shape=(8, 8, 2)) -> tuple[Network, Analysis]:
    net = Network()
    net.add_block("Input", block_id="inp")
    net.add_block("Conv2D", a, block_id="a")
    net.add_block("Conv2D", b, block_id="b")
    net.add_block(merge, block_id="m")
    for src, dst in [("inp", "a"), ("inp", "b"), ("a", "m"), ("b", "m")]:
        net.connect(src, dst)
    return net, analyze(net, shape)


def test_add_keeps_the_shape_and_counts_one_mac_per_element_per_extra_input():
    net, a = _two_branches("Add", {"filters": 4, "padding": "same"}, {"filters": 4, "kernel_h": 1, "kernel_w": 1})
    assert a.info["m"].shape == (8, 8, 4) and a.info["m"].params == 0 and a.info["m"].macs == 8 * 8 * 4
    net.add_block("Conv2D", {"filters": 4, "padding": "same"}, block_id="c")
    net.connect("inp", "c")
    net.connect("c", "m")
    assert analyze(net, (8, 8, 2)).info["m"].macs == 2 * 8 * 8 * 4


def test_concatenate_sums_channels_in_input_order():
    _, a = _two_branches("Concatenate", {"filters": 3, "padding": "same"}, {"filters": 5, "padding": "same"})
    assert a.info["m"].shape == (8, 8, 8) and a.info["m"].params == 0


def test_totals_are_sums_over_blocks():
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), "BatchNorm", "MaxPool2D", *SOFTMAX_HEAD])
    a = analyze(net)
    assert a.ok and a.issues == []
    assert a.total_params == (9 + 1) * 4 + 4 * 4 + (13 * 13 * 4 + 1) * 10
    assert a.trainable_params == a.total_params - 2 * 4
    assert a.total_macs == sum(i.macs for i in a.info.values()) > 0
    assert a.activation_bytes == 4 * (28 * 28 + 26 * 26 * 4 * 2 + 13 * 13 * 4 * 2 + 10)
    assert a.order == ["input_1", "conv2d_1", "batchnorm_1", "maxpool2d_1", "flatten_1", "dense_1"]
    assert a.output_id == "dense_1"


def test_format_shape():
    assert format_shape((28, 28, 1)) == "28x28x1"
    assert format_shape((10,)) == "10"
    assert format_shape(None) == "?"


# ----------------------------------------------------------------------------- validation and fixes


def _apply_and_reanalyse(net: Network, issue, **kw) -> Analysis:
    assert issue.fix is not None, issue
    apply_fix(net, issue.block_id, issue.fix)
    return analyze(net, **kw)


@pytest.mark.parametrize("kind, params, what", [
    ("Conv2D", {"filters": 2, "kernel_h": 5, "kernel_w": 5}, "Kernel 5x5"),
    ("MaxPool2D", {"pool_h": 3, "pool_w": 5, "stride_h": 1, "stride_w": 1}, "Pool window 3x5"),
    ("AvgPool2D", {"pool_h": 6, "pool_w": 2}, "Pool window 6x2"),
])
def test_window_larger_than_input_is_fixed_by_same_padding(kind, params, what):
    net = Network.chain(["Input", (kind, params), *SOFTMAX_HEAD])
    a = analyze(net, (4, 4, 1))
    (issue,) = a.errors
    bid = net.outputs_of("input_1")[0]
    assert issue.block_id == bid
    assert what in issue.message and "larger than its 4x4 input" in issue.message
    assert issue.fix == Fix("Use padding 'same'", "set_param", {"name": "padding", "value": "same"})
    assert a.info[bid].shape is None and a.info["dense_1"].shape is None  # downstream waits, no extra issues
    after = _apply_and_reanalyse(net, issue, input_shape=(4, 4, 1))
    assert after.ok and net.block(bid).params["padding"] == "same"


def test_shrinking_to_nothing_is_reported_on_the_first_block_that_no_longer_fits():
    # 28 -> 24 -> 20 -> ... : with 5x5 valid kernels the sixth one meets a 3x3 map
    convs = [("Conv2D", {"filters": 2, "kernel_h": 5, "kernel_w": 5}) for _ in range(7)]
    net = Network.chain(["Input", *convs, *SOFTMAX_HEAD])
    a = analyze(net)
    assert [a.shape(f"conv2d_{i}") for i in range(1, 6)] == [(24, 24, 2), (20, 20, 2), (16, 16, 2), (12, 12, 2),
                                                            (8, 8, 2)]
    assert a.shape("conv2d_6") == (4, 4, 2)
    assert [i.block_id for i in a.errors] == ["conv2d_7"]
    assert "Kernel 5x5 is larger than its 4x4 input" in a.errors[0].message
    after = _apply_and_reanalyse(net, a.errors[0])
    assert after.ok and after.shape("conv2d_7") == (4, 4, 2)


def test_pooling_halving_down_to_one_pixel_then_too_far():
    pools = ["MaxPool2D"] * 6  # 28 -> 14 -> 7 -> 3 -> 1 -> too small
    net = Network.chain(["Input", *pools, *SOFTMAX_HEAD])
    a = analyze(net)
    assert [a.shape(f"maxpool2d_{i}") for i in range(1, 5)] == [(14, 14, 1), (7, 7, 1), (3, 3, 1), (1, 1, 1)]
    assert [i.block_id for i in a.errors] == ["maxpool2d_5"]
    assert "1x1 input" in a.errors[0].message


def test_dense_on_an_image_gets_a_flatten_inserted():
    net = Network.chain(["Input", ("Conv2D", {"filters": 4}), ("Dense", {"units": 10, "activation": "softmax"})])
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "dense_1"
    assert "Dense needs a flat vector but gets (26, 26, 4)" in issue.message and "Flatten" in issue.message
    assert issue.fix.action == "insert_before" and issue.fix.args["kind"] == "Flatten"
    after = _apply_and_reanalyse(net, issue)
    assert after.ok
    (flat,) = net.inputs_of("dense_1")
    assert net.block(flat).kind == "Flatten" and net.inputs_of(flat) == ["conv2d_1"]
    assert after.shape(flat) == (26 * 26 * 4,)


@pytest.mark.parametrize("kind", ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "GlobalMaxPool2D"])
def test_image_blocks_after_flatten_explain_the_problem(kind):
    net = Network.chain(["Input", "Flatten", kind, *SOFTMAX_HEAD])
    a = analyze(net)
    bid = net.outputs_of("flatten_1")[0]
    (issue,) = a.errors
    assert issue.block_id == bid
    assert "flat vector of 784" in issue.message and "before Flatten" in issue.message
    assert issue.fix is None


def test_add_with_mismatched_shapes_names_both():
    net, a = _two_branches("Add", {"filters": 4, "padding": "same"}, {"filters": 6, "padding": "same"})
    (issue,) = a.errors
    assert issue.block_id == "m"
    assert "(8, 8, 4), (8, 8, 6)" in issue.message and "one shape" in issue.message


def test_concatenate_with_mismatched_sizes_suggests_same_padding():
    net, a = _two_branches("Concatenate", {"filters": 4, "padding": "same"}, {"filters": 4})
    (issue,) = a.errors
    assert issue.block_id == "m"
    assert "(8, 8, 4), (6, 6, 4)" in issue.message and "padding 'same'" in issue.message
    net.set_param("b", "padding", "same")
    assert analyze(net, (8, 8, 2)).shape("m") == (8, 8, 8)


def test_concatenate_of_an_image_and_a_vector_is_an_issue_not_a_crash():
    net = Network()
    net.add_block("Input", block_id="inp")
    net.add_block("Flatten", block_id="f")
    net.add_block("Concatenate", block_id="m")
    for src, dst in [("inp", "f"), ("inp", "m"), ("f", "m")]:
        net.connect(src, dst)
    a = analyze(net)
    assert [i.block_id for i in a.errors][:1] == ["m"]


def test_merge_with_a_single_input_asks_for_more():
    net = Network.chain(["Input", "Add", *SOFTMAX_HEAD])
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "add_1" and "needs at least 2 inputs, it has 1" in issue.message


def test_cycle_is_reported_on_its_blocks_without_exception():
    net = Network.chain(["Input", "Add", "Dropout", "Dropout", *SOFTMAX_HEAD])
    net.edges.append(Edge("dropout_2", "add_1"))  # connect() refuses this
    a = analyze(net)
    cyc = {i.block_id for i in a.errors if "cycle" in i.message}
    assert cyc == {"add_1", "dropout_1", "dropout_2"}  # what follows the loop is not on it
    assert all(a.info[b].shape is None for b in [*cyc, "flatten_1", "dense_1"])
    assert not a.ok


def test_edges_forced_past_connect_are_reported():
    net = Network.chain(["Input", ("Dropout", {}), *SOFTMAX_HEAD])
    net.add_block("Conv2D", {"filters": 1}, block_id="c")
    net.connect("input_1", "c")
    net.edges.append(Edge("c", "dropout_1"))  # a second input for a one-input block
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "dropout_1" and "takes at most 1 input(s), it has 2" in issue.message
    other = Network.chain(["Input", *SOFTMAX_HEAD])
    other.add_block("Dense", block_id="d")
    other.edges.append(Edge("d", "input_1"))
    assert any(i.block_id == "input_1" and "takes no inputs" in i.message for i in analyze(other).errors)


def test_two_block_cycle_detached_from_everything():
    net = Network.chain(["Input", *SOFTMAX_HEAD])
    net.add_block("Dropout", block_id="x")
    net.add_block("Dropout", block_id="y")
    net.edges += [Edge("x", "y"), Edge("y", "x")]
    a = analyze(net)
    assert {i.block_id for i in a.errors} == {"x", "y"}
    assert all("cycle" in i.message for i in a.errors)


def test_missing_input_is_fixed_by_adding_one_at_the_top():
    net = Network.chain([("Conv2D", {"filters": 2}), *SOFTMAX_HEAD])
    a = analyze(net)
    network_wide = _errors_on(a, None)
    assert len(network_wide) == 1 and "no Input block" in network_wide[0].message
    assert "not connected" in _errors_on(a, "conv2d_1")[0].message
    after = _apply_and_reanalyse(net, network_wide[0])
    assert after.ok
    (inp,) = net.input_blocks()
    assert net.inputs_of("conv2d_1") == [inp]
    assert net.block(inp).pos[1] < net.block("conv2d_1").pos[1]  # placed above


def test_second_input_is_reported_on_the_second():
    net = Network.chain(["Input", *SOFTMAX_HEAD])
    net.add_block("Input", block_id="other")
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "other" and "Only one Input block" in issue.message and "input_1" in issue.message


def test_second_input_feeding_a_merge_does_not_crash_and_is_reported():
    net = Network.chain(["Input", ("Conv2D", {"filters": 1, "padding": "same"}), "Add", *SOFTMAX_HEAD])
    net.add_block("Input", block_id="other")
    net.connect("other", "add_1")
    a = analyze(net)
    assert "other" in {i.block_id for i in a.errors}


def test_no_output_when_nothing_follows_the_input():
    net = Network.chain(["Input"])
    net.add_block("Dense", block_id="loose")
    a = analyze(net)
    assert _errors_on(a, "loose") and "not connected" in _errors_on(a, "loose")[0].message
    (issue,) = _errors_on(a, None)
    assert "no output" in issue.message and "Dense(10, softmax)" in issue.message
    assert a.output_id is None


def test_several_outputs_are_each_reported():
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    net.add_block("Dense", {"units": 10}, block_id="second")
    net.connect("flatten_1", "second")
    a = analyze(net)
    assert sorted(i.block_id for i in a.errors) == ["dense_1", "second"]
    assert all("Several blocks end the network" in i.message for i in a.errors)
    assert a.output_id is None


def test_block_hanging_off_nothing_is_reported_not_connected():
    net = Network.chain(["Input", *SOFTMAX_HEAD])
    net.add_block("Flatten", block_id="a")
    net.add_block("Dropout", block_id="b")
    net.connect("a", "b")
    a = analyze(net)
    assert "not connected" in _errors_on(a, "a")[0].message
    assert a.output_id == "dense_1"


def test_wrong_unit_count_is_fixed_by_setting_units():
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 7, "activation": "softmax"})])
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "dense_1"
    assert "The output is 7 but the dataset has 10 classes" in issue.message
    assert issue.fix == Fix("Set units to 10", "set_param", {"name": "units", "value": 10})
    assert _apply_and_reanalyse(net, issue).ok
    a3 = analyze(net, num_classes=3)
    assert _apply_and_reanalyse(net, a3.errors[0], num_classes=3).ok
    assert net.block("dense_1").params["units"] == 3


def test_image_output_is_fixed_step_by_step_into_a_classifier():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2})])
    for _ in range(3):
        a = analyze(net)
        if a.ok:
            break
        (issue,) = a.errors
        assert issue.block_id == a.output_id and "classes" in issue.message
        apply_fix(net, issue.block_id, issue.fix)
    a = analyze(net)
    assert a.ok and a.shape(a.output_id) == (10,)
    assert [net.block(b).kind for b in a.order] == ["Input", "Conv2D", "Flatten", "Dense"]
    assert net.block(a.output_id).params["activation"] == "softmax"


def test_output_without_softmax_is_a_warning_with_a_fix():
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "relu"})])
    a = analyze(net)
    assert a.ok
    (issue,) = a.issues
    assert issue.severity == "warning" and issue.block_id == "dense_1" and "softmax" in issue.message
    after = _apply_and_reanalyse(net, issue)
    assert after.issues == [] and net.block("dense_1").params["activation"] == "softmax"


def test_activation_block_output_gets_its_function_fixed():
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10}), ("Activation", {"function": "tanh"})])
    (issue,) = analyze(net).issues
    assert issue.block_id == "activation_1" and issue.fix.args["name"] == "function"
    assert _apply_and_reanalyse(net, issue).issues == []


def test_output_block_without_activation_warns_without_a_fix():
    net = Network.chain(["Input", "Flatten", ("Dense", {"units": 10, "activation": "softmax"}), "Dropout"])
    (issue,) = analyze(net).issues
    assert issue.severity == "warning" and issue.block_id == "dropout_1" and issue.fix is None


def test_empty_network_and_lone_input():
    a = analyze(Network())
    assert not a.ok and a.errors[0].block_id is None and "empty" in a.errors[0].message
    net = Network.chain(["Input"])
    a = analyze(net)
    (issue,) = a.errors
    assert issue.block_id == "input_1" and issue.fix.args["kind"] == "Flatten"


def test_every_issue_names_an_existing_block_and_messages_are_sentences():
    nets = []
    net = Network.chain(["Input", ("Conv2D", {"kernel_h": 28, "kernel_w": 28}), "Conv2D", "Dense", "Add"])
    net.add_block("Input")
    net.add_block("Concatenate")
    nets.append(net)
    cyc = Network.chain(["Input", "Add", "BatchNorm"])
    cyc.edges.append(Edge("batchnorm_1", "add_1"))
    nets.append(cyc)
    for net in nets:
        a = analyze(net)
        assert not a.ok
        for issue in a.issues:
            assert issue.block_id is None or issue.block_id in net
            assert issue.message.strip() and "Traceback" not in issue.message
