"""Random networks: what shape inference promises, Keras must deliver, exactly.

For every network that :func:`analyze` accepts, the built Keras model has the inferred output shape
and parameter count at every block. For every network it rejects, each issue names a real block and
:func:`build_model` raises :class:`BuildError`. Networks also survive a trip through JSON.
"""

from __future__ import annotations

import json
import math

import keras
import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from convstudio.core.blocks import ACTIVATIONS, BLOCKS, POINTWISE, ParamSpec, get_spec
from convstudio.core.builder import BuildError, build_model
from convstudio.core.inspection import conv_kernel_array
from convstudio.core.network import Edge, Network, NetworkError
from convstudio.core.shapes import analyze, apply_fix

INPUT_SHAPES = [(28, 28, 1)] * 5 + [(32, 32, 3), (12, 12, 2), (9, 7, 3)]
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

small = st.integers(1, 4)
custom_ids = st.one_of(st.none(), st.none(), st.none(), st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z"))
activations = st.sampled_from(ACTIVATIONS)


# ----------------------------------------------------------------------------- parameter strategies


@st.composite
def conv_params(draw, padding=None, stride=None, filters=None, kernel=None):
    kh = kernel or draw(st.integers(1, 5))
    kw = kernel or draw(st.integers(1, 5))
    sh = stride or draw(st.sampled_from([1, 1, 1, 2, 3]))
    sw = stride or draw(st.sampled_from([1, 1, 1, 2, 3]))
    init = draw(st.sampled_from(["learned", "learned", "learned", "sobel", "kirsch", "gaussian"]))
    if init in ("sobel", "kirsch") and (kh, kw) != (3, 3) and draw(st.integers(0, 3)):
        init = "gaussian"  # usually a size that fits; sometimes a 3x3-only bank on another size (an error)
    return {"filters": filters or draw(st.integers(1, 6)), "kernel_h": kh, "kernel_w": kw, "stride_h": sh,
            "stride_w": sw, "padding": padding or draw(st.sampled_from(["valid", "same", "full"])),
            "activation": draw(activations), "use_bias": draw(st.booleans()), "kernel_init": init,
            "trainable": draw(st.sampled_from([True, True, False]))}


@st.composite
def pool_params(draw, padding=None, stride=None):
    return {"pool_h": draw(st.integers(1, 4)), "pool_w": draw(st.integers(1, 4)),
            "stride_h": stride or draw(st.integers(1, 3)), "stride_w": stride or draw(st.integers(1, 3)),
            "padding": padding or draw(st.sampled_from(["valid", "same"]))}


def dense_params(units=None):
    return st.fixed_dictionaries({"units": st.just(units) if units else st.integers(1, 12),
                                  "activation": activations, "use_bias": st.booleans()})


def _param(p: ParamSpec) -> st.SearchStrategy:
    """Any value a parameter accepts, kept small so networks stay tiny."""
    if p.choices is not None:
        return st.sampled_from(p.choices)
    if p.type is bool:
        return st.booleans()
    if p.type is int:
        lo = int(p.minimum if p.minimum is not None else 1)
        return st.integers(lo, min(int(p.maximum if p.maximum is not None else lo + 4), lo + 4))
    return st.floats(p.minimum, p.maximum, allow_nan=False, allow_infinity=False)


def params_of(kind: str) -> st.SearchStrategy:
    """Parameters for any registered kind, drawn from its spec (a new kind needs nothing here)."""
    return st.fixed_dictionaries({p.name: _param(p) for p in get_spec(kind).params})


SHAPE_KEEPING = [k for k, s in BLOCKS.items() if s.window is POINTWISE and s.min_inputs == s.max_inputs == 1]


# ----------------------------------------------------------------------------- network strategies


class _Grower:
    """Appends blocks to a network one tip at a time."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.net = Network()
        self.tip = self.net.add_block("Input")

    def add(self, kind: str, params: dict | None = None, srcs: list[str] | None = None) -> str:
        params = self.draw(params_of(kind)) if params is None else params
        try:  # now and then a user-chosen id, which becomes the Keras layer name
            bid = self.net.add_block(kind, params, block_id=self.draw(custom_ids))
        except NetworkError:  # taken or reserved
            bid = self.net.add_block(kind, params)
        for src in srcs if srcs is not None else [self.tip]:
            self.net.connect(src, bid)
        return bid

    def push(self, kind: str, params: dict | None = None) -> None:
        self.tip = self.add(kind, params)


@st.composite
def designed_networks(draw):
    """Mostly sensible CNNs (chains, residual and inception blocks, dense heads), sometimes with a mistake."""
    g = _Grower(draw)
    for _ in range(draw(st.integers(0, 5))):
        stage = draw(st.sampled_from(["conv", "conv", "pool", "keep", "residual", "inception", "anything"]))
        if stage == "conv":
            g.push("Conv2D", draw(conv_params()))
        elif stage == "pool":
            g.push(draw(st.sampled_from(["MaxPool2D", "AvgPool2D"])), draw(pool_params()))
        elif stage == "keep":
            g.push(draw(st.sampled_from(SHAPE_KEEPING)))
        elif stage == "residual":
            stride = draw(st.sampled_from([1, 1, 2]))
            filters = draw(small)
            src = g.tip
            body = g.add("Conv2D", draw(conv_params("same", stride, filters)))
            if draw(st.booleans()):
                extra = draw(st.sampled_from(["Conv2D", *SHAPE_KEEPING]))
                params = draw(conv_params("same", 1, filters)) if extra == "Conv2D" else None
                body = g.add(extra, params, [body])
            if draw(st.integers(0, 3)):  # usually a 1x1 projection; sometimes identity, which may not match
                skip = g.add("Conv2D", draw(conv_params("same", stride, filters, kernel=1)), [src])
            else:
                skip = src
            g.tip = g.add("Add", {}, draw(st.permutations([body, skip])))
        elif stage == "inception":
            src, branches = g.tip, []
            for _ in range(draw(st.integers(2, 3))):
                if draw(st.integers(0, 3)):
                    branches.append(g.add("Conv2D", draw(conv_params("same", 1)), [src]))
                else:
                    branches.append(g.add("MaxPool2D", draw(pool_params("same", 1)), [src]))
            g.tip = g.add("Concatenate", {}, branches)
        else:  # any kind at all, which may well be wrong here
            kind = draw(st.sampled_from(sorted(k for k in BLOCKS if k != "Input")))
            g.push(kind)
    head = draw(st.sampled_from(["Flatten", "GlobalAvgPool2D", "GlobalMaxPool2D", None]))
    if head:
        g.push(head)
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.integers(0, 4)):
            g.push(draw(st.sampled_from(["Dense", *SHAPE_KEEPING])))
        else:  # two dense branches merged
            src = g.tip
            units = draw(st.integers(1, 8))
            a = g.add("Dense", draw(dense_params(units)), [src])
            b = g.add("Dense", draw(dense_params(units if draw(st.integers(0, 3)) else None)), [src])
            g.tip = g.add(draw(st.sampled_from(["Add", "Concatenate"])), {}, [a, b])
    num_classes = draw(st.sampled_from([10, 10, 10, 2, 5]))
    ending = draw(st.sampled_from(["softmax", "softmax", "other", "activation", "wrong", "none"]))
    if ending == "softmax":
        g.push("Dense", {"units": num_classes, "activation": "softmax"})
    elif ending == "other":
        g.push("Dense", draw(dense_params(num_classes)))
    elif ending == "activation":
        g.push("Dense", {"units": num_classes, "activation": "linear"})
        g.push("Activation", {"function": "softmax"})
    elif ending == "wrong":
        g.push("Dense", draw(dense_params()))
    return g.net, draw(st.sampled_from(INPUT_SHAPES)), num_classes


@st.composite
def wild_networks(draw):
    """Any kinds wired any way the API allows, plus (sometimes) a cycle forced into the edge list."""
    net = Network()
    ids = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(sorted(BLOCKS)))
        try:
            ids.append(net.add_block(kind, draw(params_of(kind)), block_id=draw(custom_ids)))
        except NetworkError:  # a duplicate or reserved id
            ids.append(net.add_block(kind, draw(params_of(kind))))
    if len(ids) >= 2:
        pairs = st.tuples(st.integers(0, len(ids) - 1), st.integers(0, len(ids) - 1))
        for i, j in draw(st.lists(pairs, max_size=12)):
            try:
                net.connect(ids[min(i, j)], ids[max(i, j)])
            except NetworkError:
                pass
        if draw(st.integers(0, 4)) == 0:
            i, j = draw(pairs)
            if i != j and Edge(ids[i], ids[j]) not in net.edges:
                net.edges.append(Edge(ids[i], ids[j]))
    return net, draw(st.sampled_from(INPUT_SHAPES)), draw(st.sampled_from([10, 3]))


# ----------------------------------------------------------------------------- the properties


def _check(net: Network, input_shape, num_classes) -> None:
    analysis = analyze(net, input_shape, num_classes)  # must never raise
    for issue in analysis.issues:
        assert issue.block_id is None or issue.block_id in net.blocks, issue
        assert issue.message.strip()
    if not analysis.ok:
        event("rejected")
        try:
            build_model(net, input_shape, num_classes, analysis)
        except BuildError as exc:
            assert str(exc).startswith("The network cannot be built yet")
        else:
            raise AssertionError("build_model accepted a network with errors")
        return
    event("built")
    keras.backend.clear_session(free_memory=False)
    model = build_model(net, input_shape, num_classes, analysis)
    layer_names = {layer.name for layer in model.layers}
    for bid in net.blocks:
        info = analysis.info[bid]
        layer = model.get_layer(bid)
        assert tuple(layer.output.shape[1:]) == info.shape, (bid, net.blocks[bid].kind, layer.output.shape, info)
        assert layer.count_params() == info.params, (bid, net.blocks[bid].kind)
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        assert trainable == info.trainable_params, (bid, net.blocks[bid].kind)
        params = net.blocks[bid].params
        if params.get("kernel_init", "learned") != "learned":
            event("hand-designed kernels")
            c_in = analysis.info[net.inputs_of(bid)[0]].shape[-1]
            expected = conv_kernel_array(params["kernel_init"], params["kernel_h"], params["kernel_w"], c_in,
                                         params["filters"])
            np.testing.assert_allclose(layer.get_weights()[0], expected, rtol=1e-6)
    assert layer_names <= set(net.blocks) | {f"{b}__pad" for b in net.blocks} | {"output_softmax"}
    assert model.count_params() == analysis.total_params
    assert tuple(model.output.shape[1:]) == (num_classes,)


@settings(max_examples=400, **SETTINGS)
@given(designed_networks())
def test_inference_matches_keras_for_designed_networks(case):
    _check(*case)


@settings(max_examples=300, **SETTINGS)
@given(wild_networks())
def test_inference_matches_keras_or_refuses_for_wild_networks(case):
    _check(*case)


@settings(max_examples=200, **SETTINGS)
@given(st.one_of(designed_networks(), wild_networks()),
       st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), min_size=20, max_size=20))
def test_to_dict_from_dict_round_trips(case, positions):
    net = case[0]
    for block, pos in zip(list(net), positions):
        net.move_block(block.id, pos)
    data = json.loads(json.dumps(net.to_dict()))
    cyclic = bool(net.topological_order()[1])
    overfed = any(len(net.inputs_of(b.id)) > b.spec.max_inputs for b in net)
    if cyclic or overfed:  # an edge forced past connect()'s checks cannot come back
        try:
            Network.from_dict(data)
        except NetworkError as exc:
            assert "cycle" in str(exc) or "input" in str(exc), exc
        else:
            raise AssertionError("from_dict accepted an edge that connect() refuses")
        return
    again = Network.from_dict(data)
    assert again.to_dict() == net.to_dict()
    for bid in net.blocks:
        assert again.inputs_of(bid) == net.inputs_of(bid)
        assert again.block(bid).params == net.block(bid).params
    a, b = analyze(net, *case[1:]), analyze(again, *case[1:])
    assert a.info == b.info and a.issues == b.issues


@settings(max_examples=200, **SETTINGS)
@given(st.one_of(designed_networks(), wild_networks()))
def test_every_offered_fix_applies_and_removes_its_issue(case):
    net, input_shape, num_classes = case
    if net.topological_order()[1] or any(len(net.inputs_of(b.id)) > b.spec.max_inputs for b in net):
        return  # forced edges: copy() cannot rebuild them
    for issue in analyze(net, input_shape, num_classes).issues:
        if issue.fix is None:
            continue
        event(f"fix: {issue.fix.action}")
        patched = net.copy()
        apply_fix(patched, issue.block_id, issue.fix)
        after = analyze(patched, input_shape, num_classes)
        assert not any(i.block_id == issue.block_id and i.message == issue.message for i in after.issues), issue
