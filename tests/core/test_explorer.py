"""The convolution explorer's numbers: a plain numpy loop and Keras agree with it for every setting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convstudio.core.explorer import (
    TEACHING_GRID,
    ExplorerError,
    WindowSettings,
    axis_padding,
    block_settings,
    block_setup,
    explore,
    formula_text,
    preset_kernel,
)
from convstudio.core.network import Network


def reference(image: np.ndarray, kernel: np.ndarray | None, s: WindowSettings) -> np.ndarray:
    """Textbook definition, one output value at a time (independent of the explorer's code)."""
    x = image[:, :, None] if image.ndim == 2 else image
    h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw) = s.kernel, s.stride, s.dilation
    fh, fw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if s.padding == "valid":
        top = bottom = left = right = 0
    elif s.padding == "full":
        top, bottom, left, right = fh - 1, fh - 1, fw - 1, fw - 1
    else:
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        th, tw = max((oh - 1) * sh + fh - h, 0), max((ow - 1) * sw + fw - w, 0)
        top, bottom, left, right = th // 2, th - th // 2, tw // 2, tw - tw // 2
    oh = (h + top + bottom - fh) // sh + 1
    ow = (w + left + right - fw) // sw + 1
    out = np.zeros((oh, ow) if s.op == "conv" else (oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            cells = []
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh + a * dh - top, j * sw + b * dw - left
                    inside = 0 <= r < h and 0 <= q < w
                    cells.append((a, b, x[r, q] if inside else np.zeros(c), inside))
            if s.op == "conv":
                out[i, j] = sum(float(np.dot(v, kernel[a, b])) for a, b, v, _ in cells)
            else:
                keep = [v for _, _, v, inside in cells if inside or s.padding == "full"]
                out[i, j] = np.max(keep, axis=0) if s.op == "max" else np.mean(keep, axis=0)
    return out


@st.composite
def cases(draw, max_side: int = 9, max_kernel: int = 4, allow_dilation: bool = True, keras_only: bool = False):
    op = draw(st.sampled_from(("conv", "max", "avg")))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1)
    if op == "conv" and allow_dilation and not (keras_only and max(stride) > 1):
        dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(("valid", "same", "full")))
    s = WindowSettings(kernel, stride, padding, dilation, op)
    fh, fw = s.effective_kernel
    h = draw(st.integers(fh if padding == "valid" else 1, max(max_side, fh)))
    w = draw(st.integers(fw if padding == "valid" else 1, max(max_side, fw)))
    c = draw(st.integers(1, 3))
    values = st.integers(-9, 9)
    image = np.array(draw(st.lists(values, min_size=h * w * c, max_size=h * w * c)), dtype=np.float64).reshape(h, w, c)
    k = None
    if op == "conv":
        n = kernel[0] * kernel[1] * c
        k = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64).reshape(*kernel, c)
    return image, k, s


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_explorer_equals_a_plain_numpy_loop(case):
    image, kernel, s = case
    result = explore(image, kernel, s)
    expected = reference(image, kernel, s)
    assert result.output.shape == expected.shape
    np.testing.assert_allclose(result.output, expected, atol=1e-9)
    # every output value is exactly what its listed terms make
    i, j = result.positions[-1]
    terms = result.terms(i, j, channel=0)
    if s.op == "conv":
        assert math.isclose(sum(t.value * t.weight for t in terms), result.value(i, j), abs_tol=1e-9)
        assert len(terms) == s.kernel[0] * s.kernel[1] * image.shape[2]
    elif s.op == "max":
        assert max(t.value for t in terms) == result.value(i, j, 0)
    else:
        assert math.isclose(sum(t.value for t in terms) / len(terms), result.value(i, j, 0), abs_tol=1e-9)


def _keras_output(image: np.ndarray, kernel: np.ndarray | None, s: WindowSettings) -> np.ndarray:
    import keras

    layers = []
    padding = s.padding
    if padding == "full":
        fh, fw = s.effective_kernel
        layers.append(keras.layers.ZeroPadding2D((fh - 1, fw - 1)))
        padding = "valid"
    if s.op == "conv":
        conv = keras.layers.Conv2D(1, s.kernel, strides=s.stride, padding=padding, dilation_rate=s.dilation,
                                   use_bias=True, bias_initializer="zeros")
        layers.append(conv)
    else:
        kind = keras.layers.MaxPooling2D if s.op == "max" else keras.layers.AveragePooling2D
        layers.append(kind(s.kernel, strides=s.stride, padding=padding))
    x = image[None].astype(np.float32)
    model = keras.Sequential([keras.Input(image.shape), *layers])
    if s.op == "conv":
        layers[-1].set_weights([kernel[..., None].astype(np.float32), np.zeros(1, np.float32)])
    y = np.asarray(model(x))[0]
    return y[..., 0] if s.op == "conv" else y


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_side=6, max_kernel=3, keras_only=True))
def test_explorer_equals_keras_layers(case):
    image, kernel, s = case
    expected = _keras_output(image, kernel, s)
    np.testing.assert_allclose(explore(image, kernel, s).output, expected, atol=1e-4)


_EVERY_MODE = [WindowSettings((3, 2), (2, 2), padding, op=op) for op in ("conv", "max", "avg")
               for padding in ("valid", "same", "full")]
_EVERY_MODE += [WindowSettings((3, 3), (1, 1), padding, (2, 1)) for padding in ("valid", "same", "full")]


@pytest.mark.parametrize("s", _EVERY_MODE, ids=lambda s: f"{s.op}-{s.padding}-d{s.dilation[0]}")
def test_keras_agrees_for_every_padding_mode(s):
    """Odd sizes and stride 2 make 'same' asymmetric; pooling ignores 'same' zeros but counts 'full' ones."""
    image = np.arange(7 * 6 * 2, dtype=np.float64).reshape(7, 6, 2) % 11 - 5
    kernel = (np.arange(np.prod(s.kernel) * 2, dtype=np.float64).reshape(*s.kernel, 2) % 5 - 2
              if s.op == "conv" else None)
    np.testing.assert_allclose(explore(image, kernel, s).output, _keras_output(image, kernel, s), atol=1e-4)


def test_same_padding_puts_the_odd_zero_after():
    assert axis_padding(7, 2, 2, 1, "same") == (0, 1)
    assert axis_padding(7, 3, 2, 1, "same") == (1, 1)
    assert axis_padding(28, 3, 1, 2, "same") == (2, 2)
    assert axis_padding(5, 3, 1, 1, "full") == (2, 2)


def test_sum_of_products_reads_as_the_teacher_writes_it():
    e = explore(TEACHING_GRID, preset_kernel("Sobel vertical edges", 3, 3), WindowSettings())
    assert e.output.shape == (5, 5)
    assert e.sum_text(0, 1) == "0×(-1) + 0×0 + 9×1 + 0×(-2) + 0×0 + 9×2 + 0×(-1) + 0×0 + 9×1 = 36"
    assert e.window(0, 1) == [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    pooled = explore(TEACHING_GRID, None, WindowSettings((2, 2), (2, 2), "same", op="max"))
    assert pooled.sum_text(3, 3) == "max(0) = 0"  # the corner window holds one pixel and three ignored zeros
    assert explore(TEACHING_GRID, None, WindowSettings((2, 2), (2, 2), op="avg")).sum_text(0, 1) == \
        "(0 + 9 + 0 + 9) / 4 = 4.5"
    assert "(3 more)" in e.sum_text(0, 1, max_terms=6)
    assert e.sum_text(0, 1).endswith("= 36")
    assert explore(TEACHING_GRID, np.ones((3, 3)), WindowSettings(), bias=0.5).sum_text(0, 0).endswith(
        "+ 0.5 (bias) = 0.5")


def test_formula_is_filled_in_with_the_current_numbers():
    text = formula_text((7, 7), WindowSettings((3, 3), (2, 2), "valid"))
    assert "floor((7 + 2×0 − 3)/2) + 1 = 3" in text
    assert "3×3" in text
    same = formula_text((7, 7), WindowSettings((2, 2), (2, 2), "same"))
    assert "ceil(7/2) = 4" in same and "0 before, 1 after" in same
    dilated = formula_text((28, 28), WindowSettings((3, 3), (1, 1), "valid", (2, 2)))
    assert "f_eff = d(f − 1) + 1 = 2×(3 − 1) + 1 = 5" in dilated and "= 24" in dilated
    two = formula_text((28, 20), WindowSettings((3, 3), (1, 1), "full"))
    assert two.startswith("rows:") and "= 30" in two and "= 22" in two


@pytest.mark.parametrize("bad, message", [
    (dict(settings=WindowSettings((5, 5)), kernel=np.ones((5, 5))), "does not fit the 3x3 input"),
    (dict(kernel=np.ones((2, 2))), "kernel is shaped (2, 2)"),
    (dict(kernel=None), "needs a kernel"),
    (dict(kernel=np.full((3, 3), np.nan)), "not finite"),
])
def test_bad_input_gets_a_one_line_message(bad, message):
    args = {"image": np.zeros((3, 3)), "kernel": np.ones((3, 3)), "settings": WindowSettings()} | bad
    with pytest.raises(ExplorerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        explore(**args)


def test_settings_are_checked_and_round_trip_as_plain_data():
    s = WindowSettings((3, 2), (2, 1), "full", (1, 2), "conv")
    assert WindowSettings.from_dict(s.to_dict()) == s
    with pytest.raises(ExplorerError, match="no dilation"):
        WindowSettings(op="max", dilation=(2, 2))
    with pytest.raises(ExplorerError, match="padding must be"):
        WindowSettings(padding="reflect")
    with pytest.raises(ExplorerError, match="unknown explorer setting"):
        WindowSettings.from_dict({"strides": 2})
    assert not WindowSettings(stride=(2, 1), dilation=(1, 2)).keras_accepts


def test_a_block_opens_with_its_own_settings_kernels_and_sample():
    net = Network.chain(["Input", ("Conv2D", {"filters": 2, "stride_h": 2, "stride_w": 2, "padding": "same",
                                              "kernel_init": "sobel"}),
                         ("MaxPool2D", {"pool_h": 3, "pool_w": 3, "stride_h": 1, "stride_w": 1}),
                         "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    assert block_settings("Conv2D", net.block("conv2d_1").params) == WindowSettings((3, 3), (2, 2), "same")
    sample = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28)
    setup = block_setup(net, "conv2d_1", sample=sample)
    assert setup.kernels.shape == (3, 3, 1, 2)
    np.testing.assert_array_equal(setup.kernels[:, :, 0, 1], preset_kernel("Sobel vertical edges", 3, 3))
    assert setup.image.shape == (28, 28, 1) and setup.image.max() <= 1.0
    pool = block_setup(net, "maxpool2d_1", sample=sample)
    assert pool.settings.op == "max" and pool.image is None and "reads conv2d_1" in pool.notes[0]
    deeper = block_setup(net, "maxpool2d_1", block_input=np.ones((14, 14, 2)))
    assert explore(deeper.image, None, deeper.settings).output.shape == (12, 12, 2)
    trained = block_setup(net, "conv2d_1", sample=sample, weights=(np.ones((3, 3, 1, 2)), np.array([0.5, -1.0])))
    assert trained.biases[1] == -1.0 and "trained weights" in trained.notes
    with pytest.raises(ExplorerError, match="no sliding window"):
        block_setup(net, "flatten_1")
