"""The model summary: rows, totals equal to Keras', and the text table."""

from __future__ import annotations

import math

import keras
import pytest

from convstudio.core.builder import build_model
from convstudio.core.network import Edge, Network
from convstudio.core.shapes import analyze
from convstudio.core.summary import format_bytes, format_count, format_summary, summary_rows


def lenet_bn() -> Network:
    return Network.chain([
        "Input",
        ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "padding": "same"}),
        "BatchNorm",
        "MaxPool2D",
        ("Conv2D", {"filters": 16, "kernel_h": 5, "kernel_w": 5}),
        "MaxPool2D",
        "Flatten",
        ("Dense", {"units": 120}),
        ("Dropout", {"rate": 0.2}),
        ("Dense", {"units": 84}),
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])


def test_rows_and_totals_equal_keras_for_lenet():
    keras.backend.clear_session(free_memory=False)
    net = lenet_bn()
    analysis = analyze(net)
    rows = summary_rows(net, analysis)
    model = build_model(net, analysis=analysis)
    assert [r.block_id for r in rows] == [layer.name for layer in model.layers]
    for row in rows:
        layer = model.get_layer(row.block_id)
        assert row.params == layer.count_params()
        assert row.output_shape == str(tuple(layer.output.shape))
        assert row.activation_bytes == 4 * math.prod(layer.output.shape[1:])
    total = sum(r.params for r in rows)
    trainable = sum(r.trainable_params for r in rows)
    assert total == model.count_params()
    assert trainable == sum(math.prod(w.shape) for w in model.trainable_weights)
    assert total - trainable == 12  # BatchNorm's moving mean and variance over 6 channels
    text = format_summary(net, analysis)
    assert f"Total params: {model.count_params():,} (" in text
    assert f"Trainable params: {trainable:,} (" in text
    assert "Non-trainable params: 12 (48.00 B)" in text


def test_rows_carry_kind_labels_shapes_macs_and_inputs():
    net = lenet_bn()
    rows = {r.block_id: r for r in summary_rows(net, analyze(net))}
    conv = rows["conv2d_1"]
    assert conv.name == "conv2d_1 (Conv2D)" and conv.shape == (28, 28, 6) and conv.output_shape == "(None, 28, 28, 6)"
    assert conv.macs == 28 * 28 * 6 * 25 and conv.inputs == ("input_1",)
    assert rows["batchnorm_1"].kind == "BatchNormalization"
    assert rows["input_1"].inputs == () and rows["input_1"].params == 0


def test_text_table_lists_every_block_in_order_with_aligned_params():
    net = lenet_bn()
    text = format_summary(net, analyze(net), title="lenet")
    lines = text.splitlines()
    assert lines[0] == 'Model: "lenet"'
    assert lines[2].split() == ["Block", "(Type)", "Output", "shape", "Param", "#"]
    body = [ln for ln in lines if ln.startswith(tuple(net.blocks))]
    assert [ln.split()[0] for ln in body] == analyze(net).order
    assert {len(ln) for ln in body} == {len(lines[2])}  # the Param # column is right-aligned
    assert "48,120" in text  # (400 + 1) * 120 with a thousands separator
    assert "Connected to" not in text
    assert "Multiply-accumulates per image:" in text and "Activation memory per image:" in text


def test_merges_add_a_connected_to_column():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2, "padding": "same"}), "Add", "GlobalAvgPool2D",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    net.connect("input_1", "add_1")
    text = format_summary(net, analyze(net, (8, 8, 2)))
    assert "Connected to" in text
    add_line = next(ln for ln in text.splitlines() if ln.startswith("add_1 "))
    assert add_line.rstrip().endswith("conv2d_1, input_1")


def test_incomplete_networks_are_summarised_not_refused():
    net = lenet_bn()
    text = format_summary(net, analyze(net, (6, 6, 1)))  # the second 5x5 convolution no longer fits
    assert "Incomplete: 7 block(s)" in text and "conv2d_2" in text.splitlines()[-1]
    rows = summary_rows(net, analyze(net, (6, 6, 1)))
    assert next(r for r in rows if r.block_id == "dense_3").output_shape == "?"


@pytest.mark.parametrize("make", [
    Network,
    lambda: Network.chain(["Input"]),
    lambda: Network.chain(["Dense", "Dense"]),
])
def test_odd_networks_do_not_break_the_summary(make):
    net = make()
    text = format_summary(net, analyze(net))
    assert "Total params: 0 (0.00 B)" in text
    assert len(summary_rows(net, analyze(net))) == len(net)


def test_blocks_on_a_cycle_still_get_a_row():
    net = Network.chain(["Input", "Add", "Dropout"])
    net.edges.append(Edge("dropout_1", "add_1"))
    rows = summary_rows(net, analyze(net))
    assert [r.block_id for r in rows] == ["input_1", "add_1", "dropout_1"]
    assert all(r.shape is None for r in rows[1:])


@pytest.mark.parametrize("n, text", [(0, "0.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB"), (246_824, "241.04 KB"),
                                     (3 * 1024**2, "3.00 MB"), (5 * 1024**3, "5.00 GB"), (5 * 1024**4, "5120.00 GB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize("n, text", [(0, "0"), (999, "999"), (1000, "1.00 K"), (456_700, "456.70 K"),
                                     (1_234_567, "1.23 M"), (2_000_000_000, "2.00 G")])
def test_format_count(n, text):
    assert format_count(n) == text
