"""Every registered block kind, checked the same way (like Keras' ``run_layer_test``).

For each kind, with its defaults and a few seeded random parameter sets: the inferred shape and
parameter counts equal the built Keras layers'; a project holding it saves and loads unchanged;
importing the exported .keras file gives the same block back; the generated script builds the same
model; and its receptive-field window covers every input pixel its units depend on. A new kind is
covered by registering it: nothing here lists kinds.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from convstudio.core.blocks import BLOCKS, POINTWISE, Shape, ShapeError, get_spec
from convstudio.core.builder import build_model
from convstudio.core.export.codegen import training_script
from convstudio.core.importer import import_keras_model
from convstudio.core.inspection.receptive_field import receptive_field
from convstudio.core.network import Network
from convstudio.core.project import Project, load_project, save_project
from convstudio.core.shapes import analyze

keras = pytest.importorskip("keras")

IMAGE: Shape = (9, 7, 3)  # not square, several channels: catches swapped axes
CLASSES = 4
KINDS = [k for k, s in BLOCKS.items() if s.max_inputs > 0]  # every kind but the source of images


def _draw(spec, rng: random.Random) -> dict:
    """Random valid-looking parameters: small numbers in range, any choice, any flag."""
    params = {}
    for p in spec.params:
        if p.choices is not None:
            params[p.name] = rng.choice(p.choices)
        elif p.type is bool:
            params[p.name] = rng.random() < 0.5
        elif p.type is int:
            lo = int(p.minimum if p.minimum is not None else 1)
            params[p.name] = rng.randint(lo, min(int(p.maximum if p.maximum is not None else lo + 4), lo + 4))
        else:
            lo = p.minimum if p.minimum is not None else 0.0
            params[p.name] = round(rng.uniform(lo, p.maximum if p.maximum is not None else lo + 1.0), 4)
    return spec.validate_params(params)


def _fits(spec, params: dict) -> Shape | None:
    """The first of an image and a vector this block accepts with these parameters."""
    for shape in (IMAGE, (math.prod(IMAGE),)):
        try:
            spec.infer(params, [shape] * spec.min_inputs)
            return shape
        except ShapeError:
            continue
    return None


def examples(kind: str, n: int = 2) -> list[tuple[dict, Shape]]:
    """The defaults and ``n`` seeded random parameter sets the block accepts, with an input shape for each."""
    spec, rng = get_spec(kind), random.Random(kind)
    found = [(spec.defaults(), _fits(spec, spec.defaults()))]
    for _ in range(200):
        if sum(s is not None for _, s in found) > n:
            break  # parameters that do not fit (a dilated kernel with a stride...) are drawn again
        params = _draw(spec, rng)
        found.append((params, _fits(spec, params)))
    found = [(p, s) for p, s in found if s is not None]
    assert len(found) > n // 2, f"{kind}: hardly any parameter set fits a {IMAGE} image or its vector"
    return [c for i, c in enumerate(found) if c not in found[:i]]  # a kind without parameters: one case


def in_a_network(kind: str, params: dict, shape: Shape) -> tuple[Network, str]:
    """Input -> (Flatten, for a vector) -> (one linear Activation per input, for merges) -> block -> head."""
    net = Network()
    tip = source = net.add_block("Input")
    if len(shape) == 1:
        tip = net.add_block("Flatten")
        net.connect(source, tip)
    spec = get_spec(kind)
    srcs = [tip]
    if spec.min_inputs > 1:
        srcs = [net.add_block("Activation", {"function": "linear"}) for _ in range(spec.min_inputs)]
        for s in srcs:
            net.connect(tip, s)
    bid = net.add_block(kind, params, block_id="subject")
    for s in srcs:
        net.connect(s, bid)
    end = bid
    if len(analyze(net, IMAGE, CLASSES).shape(bid) or ()) == 3:
        end = net.add_block("Flatten")
        net.connect(bid, end)
    head = net.add_block("Dense", {"units": CLASSES, "activation": "linear"})
    net.connect(end, head)
    return net, bid


CASES = [(kind, i) for kind in KINDS for i in range(len(examples(kind)))]


def _case(kind: str, i: int) -> tuple[dict, Shape]:
    return examples(kind)[i]


@pytest.mark.parametrize("kind, i", CASES)
def test_inferred_shape_and_parameters_equal_the_keras_layers(kind, i):
    params, shape = _case(kind, i)
    spec = get_spec(kind)
    shapes = [shape] * spec.min_inputs
    inferred = spec.infer(params, shapes)
    inputs = [keras.Input(shape) for _ in shapes]
    x = inputs if spec.max_inputs > 1 else inputs[0]
    layers = spec.keras_layers(params, "subject", shapes)
    for layer in layers:
        x = layer(x)
    assert tuple(x.shape[1:]) == tuple(inferred.shape)
    assert sum(layer.count_params() for layer in layers) == inferred.params
    trainable = sum(math.prod(w.shape) for layer in layers for w in layer.trainable_weights)
    assert trainable == (inferred.params if inferred.trainable_params is None else inferred.trainable_params)
    assert [layer.name for layer in layers][-1] == "subject"


@pytest.mark.parametrize("kind, i", CASES)
def test_project_save_and_load_keep_the_block(kind, i, tmp_path):
    net, bid = in_a_network(kind, *_case(kind, i))
    again = load_project(save_project(Project(net), tmp_path / "p.json")).network
    assert again.to_dict() == net.to_dict()
    assert analyze(again, IMAGE, CLASSES).info == analyze(net, IMAGE, CLASSES).info


@pytest.mark.parametrize("kind, i", CASES)
def test_import_of_the_exported_keras_file_gives_the_block_back(kind, i, tmp_path):
    net, bid = in_a_network(kind, *_case(kind, i))
    keras.utils.set_random_seed(i)
    model = build_model(net, IMAGE, CLASSES)
    model.save(tmp_path / "m.keras")
    imported, rebuilt = import_keras_model(tmp_path / "m.keras", IMAGE, CLASSES)
    expected = dict(net.blocks[bid].params)
    if "kernel_init" in expected:  # hand-designed starting kernels come back as the weights themselves
        expected["kernel_init"] = get_spec(kind).param("kernel_init").default
    assert imported.blocks[bid].kind == kind and imported.blocks[bid].params == expected
    assert imported.edges == net.edges
    x = np.random.default_rng(i).random((3, *IMAGE), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x, training=False), model(x, training=False), atol=1e-6)


@pytest.mark.parametrize("kind, i", CASES)
def test_generated_code_builds_the_same_model(kind, i):
    net, bid = in_a_network(kind, *_case(kind, i))
    hand = net.blocks[bid].params.get("kernel_init", "learned") != "learned"
    keras.utils.set_random_seed(i)
    model = build_model(net, IMAGE, CLASSES)
    namespace: dict = {"__name__": "exported"}
    exec(compile(training_script(net, input_shape=IMAGE, num_classes=CLASSES), "train.py", "exec"), namespace)
    rebuilt = namespace["build_model"]()
    assert [(layer.name, type(layer).__name__) for layer in rebuilt.layers] == \
        [(layer.name, type(layer).__name__) for layer in model.layers]
    for layer in rebuilt.layers:
        source = model.get_layer(layer.name)
        assert layer.output.shape == source.output.shape and layer.count_params() == source.count_params()
        assert layer.trainable == source.trainable
        for mine, theirs in zip(layer.get_weights(), source.get_weights(), strict=True):
            if not layer.trainable and hand:  # hand-designed frozen kernels are the same from the start
                np.testing.assert_array_equal(mine, theirs)
        layer.set_weights(source.get_weights())
    x = np.random.default_rng(i).random((3, *IMAGE), dtype=np.float32)
    np.testing.assert_allclose(rebuilt(x, training=False), model(x, training=False), atol=1e-6)


@pytest.mark.parametrize("kind, i", [c for c in CASES if c[1] < 2])
def test_the_window_covers_every_pixel_a_unit_depends_on(kind, i):
    """The receptive field holds every input pixel with a non-zero gradient (a window declared too small,
    e.g. a sliding kind declared pointwise, leaves some out)."""
    import tensorflow as tf

    params, shape = _case(kind, i)
    net, bid = in_a_network(kind, params, shape)
    analysis = analyze(net, IMAGE, CLASSES)
    out = analysis.shape(bid)
    model = build_model(net, IMAGE, CLASSES, analysis)
    probe = keras.Model(model.inputs, model.get_layer(bid).output)
    y, x = (out[0] // 2, out[1] // 2) if len(out) == 3 else (0, 0)
    y0, x0, y1, x1 = receptive_field(net, bid, y, x, IMAGE, analysis)
    image = tf.constant(np.random.default_rng(i).random((1, *IMAGE), dtype=np.float32) + 0.5)
    with tf.GradientTape() as tape:
        tape.watch(image)
        unit = probe(image, training=False)
        unit = tf.reduce_sum(unit[0, y, x] if len(out) == 3 else unit[0])
    grad = np.abs(tape.gradient(unit, image).numpy()[0]).sum(axis=-1)
    outside = grad.copy()
    outside[y0:y1, x0:x1] = 0
    assert not outside.any(), f"{kind} unit ({y}, {x}) depends on pixels outside {(y0, x0, y1, x1)}"
    if get_spec(kind).window is POINTWISE and len(out) == 3 and len(shape) == 3:
        assert (y1 - y0, x1 - x0) == (1, 1)
