"""Block specs: parameter checking, the registry, and the sliding-window formula.

Every kind's behaviour against Keras is checked over the whole registry in test_block_kinds.py."""

from __future__ import annotations

import math

import pytest

from convstudio.core.blocks import (
    ACTIVATIONS,
    BLOCKS,
    CATEGORIES,
    POINTWISE,
    WHOLE,
    BlockSpec,
    ParamSpec,
    Window,
    get_spec,
    register,
    window_output,
)
from convstudio.core.blocks.glyph import Ellipse, Line, Polyline, Rect

INT = ParamSpec("filters", int, 32, "Number of filters", "Filters", 1, 2048)
FLOAT = ParamSpec("rate", float, 0.5, "Fraction dropped", "Rate", 0.0, 0.95)
CHOICE = ParamSpec("padding", str, "valid", "Border handling", choices=("valid", "same", "full"))
BOOL = ParamSpec("use_bias", bool, True, "Add a bias", label="Bias")


# ----------------------------------------------------------------------------- ParamSpec.validate


@pytest.mark.parametrize("value, expected", [(1, 1), (2048, 2048), ("64", 64), (8.0, 8), ("16.0", 16)])
def test_int_param_accepts_whole_numbers_in_range_and_coerces(value, expected):
    out = INT.validate(value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value, message", [
    (0, "Filters must be at least 1; got 0"),
    (-5, "Filters must be at least 1; got -5"),
    (4096, "Filters must be at most 2048; got 4096"),
    (2.5, "Filters must be a whole number, not 2.5"),
    ("many", "Filters must be a whole number, not 'many'"),
    (None, "Filters must be a whole number, not None"),
    (True, "Filters must be a whole number, not True"),
    (float("nan"), "Filters must be a whole number"),
    (float("inf"), "Filters must be a whole number"),
])
def test_int_param_refusals_name_the_parameter(value, message):
    with pytest.raises(ValueError) as info:
        INT.validate(value)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("value, expected", [(0, 0.0), (0.95, 0.95), ("0.25", 0.25), (1e-3, 1e-3)])
def test_float_param_accepts_numbers_in_range(value, expected):
    out = FLOAT.validate(value)
    assert out == expected and type(out) is float


@pytest.mark.parametrize("value, message", [
    (-0.1, "Rate must be at least 0; got -0.1"),
    (0.96, "Rate must be at most 0.95; got 0.96"),
    ("half", "Rate must be a number, not 'half'"),
    (False, "Rate must be a number, not False"),
    (float("nan"), "Rate must be a finite number"),
    ([0.5], "Rate must be a number"),
])
def test_float_param_refusals_name_the_parameter(value, message):
    with pytest.raises(ValueError) as info:
        FLOAT.validate(value)
    assert str(info.value).startswith(message)


def test_choice_param_accepts_listed_values_only():
    assert CHOICE.validate("same") == "same"
    with pytest.raises(ValueError) as info:
        CHOICE.validate("reflect")
    assert str(info.value) == "Padding must be one of valid, same, full; got 'reflect'"


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), ("true", True), ("FALSE", False)])
def test_bool_param_accepts_booleans_and_their_words(value, expected):
    assert BOOL.validate(value) is expected


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0])
def test_bool_param_refuses_anything_else(value):
    with pytest.raises(ValueError, match="^Bias must be true or false"):
        BOOL.validate(value)


def test_title_falls_back_to_the_name():
    assert ParamSpec("kernel_h", int, 3, "h").title == "Kernel h"
    assert ParamSpec("kernel_h", int, 3, "h", label="Kernel height").title == "Kernel height"


def test_validate_params_overlays_defaults_and_rejects_unknown_names():
    spec = get_spec("Conv2D")
    merged = spec.validate_params({"filters": "8"})
    assert merged == {**spec.defaults(), "filters": 8}
    with pytest.raises(ValueError, match="Conv2D has no parameter\\(s\\) colour, size"):
        spec.validate_params({"size": 3, "colour": "red"})
    with pytest.raises(ValueError, match="Kernel width must be at most 28"):
        spec.validate_params({"kernel_w": 29})


# ----------------------------------------------------------------------------- registry


def _extent(g) -> tuple[float, ...]:
    """The coordinates a glyph primitive reaches."""
    if isinstance(g, Rect):
        return g.x, g.y, g.x + g.w, g.y + g.h
    if isinstance(g, Ellipse):
        return g.cx - g.rx, g.cy - g.ry, g.cx + g.rx, g.cy + g.ry
    if isinstance(g, Line):
        return g.x1, g.y1, g.x2, g.y2
    return tuple(c for point in g.points for c in point)


@pytest.mark.parametrize("kind", list(BLOCKS))
def test_every_kind_is_complete_with_valid_defaults(kind):
    spec = get_spec(kind)
    assert spec.kind == kind and spec.label and spec.category in CATEGORIES and spec.help
    assert spec.validate_params({}) == spec.defaults()  # every default passes its own check
    assert 0 <= spec.min_inputs <= spec.max_inputs
    assert all(p.help for p in spec.params)
    assert isinstance(spec.window, Window) and spec.window.kind in ("sliding", "pointwise", "whole", "resample")
    if spec.window.sliding:  # its window, stride, padding and any dilation are real parameters
        for name in (*spec.window.size, *spec.window.stride, spec.window.padding, *filter(None, spec.window.dilation)):
            spec.param(name)
    assert spec.glyph and all(isinstance(g, Rect | Ellipse | Line | Polyline) for g in spec.glyph)
    for g in spec.glyph:  # inside the glyph's square, drawn with known styles
        assert getattr(g, "fill", "none") in ("none", "solid", "half") and g.pen in ("normal", "thin", "dashed", "none")
        assert all(-0.5 <= c <= 0.5 for c in _extent(g)), g
    assert isinstance(spec.summary(spec.defaults()), str) and spec.summary(spec.defaults())
    if spec.activation:
        assert spec.param(spec.activation).choices == ACTIVATIONS


def test_merges_take_several_inputs_and_the_input_takes_none():
    sources = [s for s in BLOCKS.values() if s.max_inputs == 0]
    assert [s.kind for s in sources] == ["Input"]
    merges = [s for s in BLOCKS.values() if s.max_inputs > 1]
    assert merges and all(s.min_inputs == 2 and s.category == "Merge" for s in merges)
    for spec in BLOCKS.values():
        if spec not in sources and spec not in merges:
            assert (spec.min_inputs, spec.max_inputs) == (1, 1)


def test_a_kind_or_keras_class_cannot_be_registered_twice():
    conv = get_spec("Conv2D")
    with pytest.raises(ValueError, match="registered twice"):
        register(conv)
    clash = BlockSpec("Conv2DCopy", "Copy", "Convolution", "help", (), conv.infer, conv.layers, conv.summary,
                      window=conv.window, glyph=conv.glyph, imports={"Conv2D": lambda cfg: {}})
    with pytest.raises(ValueError, match="Conv2DCopy and Conv2D both import Conv2D"):
        register(clash)
    assert "Conv2DCopy" not in BLOCKS


def test_a_spec_without_a_window_or_glyph_cannot_be_made():
    conv = get_spec("Conv2D")
    with pytest.raises(TypeError):
        BlockSpec("New", "New", "Convolution", "help", (), conv.infer, conv.layers, conv.summary)  # type: ignore
    assert POINTWISE.kind == "pointwise" and WHOLE.kind == "whole"


def test_activation_choices_are_keras_activations():
    import keras

    for name in ACTIVATIONS:
        assert callable(keras.activations.get(name))
    assert get_spec("Dense").param("activation").choices == ACTIVATIONS
    assert get_spec("Activation").param("function").choices == ACTIVATIONS


def test_unknown_kind_and_parameter_say_what_is_known():
    with pytest.raises(KeyError, match="unknown block kind 'Conv3D'; known kinds: Input, Conv2D"):
        get_spec("Conv3D")
    with pytest.raises(KeyError, match="Dense has no parameter 'filters'"):
        get_spec("Dense").param("filters")


@pytest.mark.parametrize("kind", [k for k, s in BLOCKS.items() if s.max_inputs > 0])
def test_keras_layers_are_named_for_the_block_and_hold_plain_values(kind):
    spec = get_spec(kind)
    layers = spec.keras_layers(spec.defaults(), "blk", [(8, 8, 3)])
    assert layers[-1].name == "blk"
    for layer in spec.layers(spec.defaults(), [(8, 8, 3)]):  # repr writes each value as a literal
        for value in layer.config.values():
            assert eval(repr(value), {}) == value  # noqa: S307 - our own literals


def test_full_padding_adds_a_named_zero_padding_layer():
    spec = get_spec("Conv2D")
    layers = spec.keras_layers({**spec.defaults(), "padding": "full", "kernel_h": 5, "kernel_w": 3}, "c")
    assert [layer.name for layer in layers] == ["c__pad", "c"]
    assert layers[0].padding == ((4, 4), (2, 2)) and layers[1].padding == "valid"


# ----------------------------------------------------------------------------- window formula


def _textbook(n: int, f: int, s: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(n / s)
    p = {"valid": 0, "full": f - 1}[padding]
    return math.floor((n + 2 * p - f) / s) + 1


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
def test_window_output_matches_the_textbook_formula(padding):
    for n in range(1, 33):
        for f in range(1, n + 1):
            for s in range(1, 6):
                assert window_output(n, f, s, padding) == _textbook(n, f, s, padding), (n, f, s)


def test_window_output_known_values():
    assert window_output(28, 5, 1, "valid") == 24  # LeNet's first convolution
    assert window_output(28, 2, 2, "valid") == 14
    assert window_output(28, 3, 2, "same") == 14
    assert window_output(7, 3, 2, "same") == 4
    assert window_output(5, 3, 1, "full") == 7
