"""Receptive fields against brute force: perturb each input pixel and see which units change."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import activation_model, receptive_field, receptive_fields
from convstudio.core.network import Network

keras = pytest.importorskip("keras")


def _lin(**params):
    return {"activation": "linear", **params}


def _chain_net() -> Network:
    return Network.chain([
        "Input",
        ("Conv2D", _lin(filters=2, kernel_h=3, kernel_w=5)),
        ("Conv2D", _lin(filters=2, kernel_h=4, kernel_w=3, stride_h=2, stride_w=3, padding="same")),
        ("AvgPool2D", {"pool_h": 2, "pool_w": 3, "stride_h": 1, "stride_w": 2, "padding": "same"}),
        ("Conv2D", _lin(filters=2, kernel_h=3, kernel_w=2, padding="full")),
        "Flatten",
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])


def _merge_net() -> Network:
    net = Network()
    inp = net.add_block("Input", block_id="image")
    a = net.add_block("Conv2D", _lin(filters=2, kernel_h=3, kernel_w=3, padding="same"), block_id="a")
    b = net.add_block("Conv2D", _lin(filters=2, kernel_h=7, kernel_w=1, stride_h=1, padding="same"), block_id="b")
    b2 = net.add_block("AvgPool2D", {"pool_h": 1, "pool_w": 5, "stride_h": 1, "stride_w": 1, "padding": "same"},
                       block_id="b2")
    add = net.add_block("Add", block_id="add")
    cat = net.add_block("Concatenate", block_id="cat")
    top = net.add_block("Conv2D", _lin(filters=2, kernel_h=3, kernel_w=3, stride_h=2, stride_w=2), block_id="top")
    flat = net.add_block("GlobalAvgPool2D", block_id="gap")
    out = net.add_block("Dense", {"units": 10, "activation": "softmax"}, block_id="out")
    for s, d in [(inp, a), (inp, b), (b, b2), (a, add), (b2, add), (add, cat), (a, cat), (cat, top), (top, flat),
                 (flat, out)]:
        net.connect(s, d)
    return net


def _maxpool_net() -> Network:
    return Network.chain([
        "Input",
        ("Conv2D", {"filters": 3, "kernel_h": 3, "kernel_w": 3, "activation": "linear"}),
        ("MaxPool2D", {"pool_h": 3, "pool_w": 3, "stride_h": 2, "stride_w": 2}),
        ("Conv2D", {"filters": 2, "kernel_h": 3, "kernel_w": 3, "activation": "linear", "padding": "same"}),
        "Flatten",
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])


def _brute_force(net: Network, size: int = 16) -> tuple[dict[str, np.ndarray], tuple[int, int, int]]:
    """For every block, a boolean (pixel_y, pixel_x, unit_y, unit_x): does the unit change?"""
    shape = (size, size, 1)
    keras.utils.set_random_seed(1)
    model = build_model(net, shape)
    for layer in model.layers:  # random biases too, so no unit is special
        weights = layer.get_weights()
        if len(weights) == 2:
            layer.set_weights([weights[0], np.random.default_rng(2).normal(0, 0.5, weights[1].shape)])
    acts = activation_model(model, net)
    base = np.random.default_rng(3).uniform(0.2, 0.8, (size, size)).astype(np.float32)
    batch = np.repeat(base[None], size * size + 1, axis=0)
    for k in range(size * size):
        batch[1 + k, k // size, k % size] += 10.0
    out = acts(batch[..., None], training=False)
    changed = {}
    for bid, value in out.items():
        v = np.asarray(value)
        if v.ndim != 4:
            continue
        diff = np.abs(v[1:] - v[:1]).max(axis=-1)  # (pixels, uy, ux)
        changed[bid] = (diff > 1e-4 * (1 + np.abs(v[:1]).max())).reshape(size, size, *v.shape[1:3])
    return changed, shape


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


@pytest.mark.parametrize("make_net", [_chain_net, _merge_net], ids=["chain", "merge"])
def test_field_is_the_bounding_box_of_the_pixels_that_change_a_unit(make_net):
    net = make_net()
    changed, shape = _brute_force(net)
    checked = 0
    for bid, mask in changed.items():
        if net.blocks[bid].kind == "Input":
            continue
        for uy in range(mask.shape[2]):
            for ux in range(mask.shape[3]):
                unit = mask[:, :, uy, ux]
                assert unit.any(), f"{bid} unit {(uy, ux)} depends on no pixel"
                assert receptive_field(net, bid, uy, ux, shape) == _bbox(unit), (bid, uy, ux)
                checked += 1
    assert checked > 100


def test_max_pooling_field_contains_the_pixels_that_change_a_unit():
    # Max pooling passes on only the winning input, so fewer pixels change a unit than it can see.
    net = _maxpool_net()
    changed, shape = _brute_force(net)
    for bid, mask in changed.items():
        for uy in range(mask.shape[2]):
            for ux in range(mask.shape[3]):
                y0, x0, y1, x1 = receptive_field(net, bid, uy, ux, shape)
                ys, xs = np.nonzero(mask[:, :, uy, ux])
                assert ys.min() >= y0 and ys.max() < y1 and xs.min() >= x0 and xs.max() < x1


def test_textbook_numbers_match_the_unclipped_field_of_interior_units():
    net = _chain_net()
    fields = receptive_fields(net, (64, 64, 1))
    from convstudio.core.shapes import analyze

    analysis = analyze(net, (64, 64, 1))
    for bid, info in fields.items():
        shape = analysis.shape(bid)
        if not info.spatial:
            assert info.size == (64, 64)
            continue
        uy, ux = shape[0] // 2, shape[1] // 2
        y0 = info.start[0] + uy * info.jump[0]
        x0 = info.start[1] + ux * info.jump[1]
        box = (y0, x0, y0 + info.size[0], x0 + info.size[1])
        assert receptive_field(net, bid, uy, ux, (64, 64, 1)) == box, bid


def test_textbook_sizes_of_a_lenet_like_stack():
    net = Network.chain(["Input", ("Conv2D", {"kernel_h": 5, "kernel_w": 5}), "MaxPool2D",
                         ("Conv2D", {"kernel_h": 5, "kernel_w": 5}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    sizes = [f.size for f in receptive_fields(net).values()]
    assert sizes[:5] == [(1, 1), (5, 5), (6, 6), (14, 14), (16, 16)]


def test_flat_blocks_see_the_whole_image_and_bad_units_are_refused():
    net = _chain_net()
    flat = [b.id for b in net if b.kind == "Flatten"][0]
    assert receptive_field(net, flat, 0, 0, (20, 24, 1)) == (0, 0, 20, 24)
    conv = [b.id for b in net if b.kind == "Conv2D"][0]
    with pytest.raises(ValueError, match="outside"):
        receptive_field(net, conv, 99, 0)
    broken = Network.chain(["Input", "Dense"])
    with pytest.raises(ValueError, match="errors"):
        receptive_fields(broken)
