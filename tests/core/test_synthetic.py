"""The generated coloured-shapes dataset: deterministic, balanced, colour classes that differ in hue."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.data.synthetic import (
    COLOURS,
    SHAPES,
    colour_shapes_dataset,
    make_colour_shapes,
)


def _hue_of_saturated(images: np.ndarray) -> float:
    """Circular mean hue (degrees) of the strongly coloured pixels (the shapes; backgrounds are grey-ish)."""
    x = images.reshape(-1, 3).astype(np.float64) / 255
    mx, mn = x.max(1), x.min(1)
    sat = (mx - mn) / np.maximum(mx, 1e-9)
    x, mx, mn = x[sat > 0.5], mx[sat > 0.5], mn[sat > 0.5]
    r, g, b = x.T
    d = mx - mn
    h = np.where(mx == r, ((g - b) / d) % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4)) * 60
    rad = np.deg2rad(h)
    return float(np.rad2deg(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())) % 360)


def test_same_seed_same_images_other_seed_other_images():
    a = make_colour_shapes(200, "shape", seed=7)
    b = make_colour_shapes(200, "shape", seed=7)
    c = make_colour_shapes(200, "shape", seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("by, k", [("shape", len(SHAPES)), ("colour", len(COLOURS)),
                                   ("both", len(SHAPES) * len(COLOURS))])
def test_classes_are_balanced_and_named(by, k):
    x, y, names = make_colour_shapes(403, by, seed=1, size=32)
    assert x.shape == (403, 32, 32, 3) and x.dtype == np.uint8
    assert len(names) == k == len(set(names))
    counts = np.bincount(y, minlength=k)
    assert counts.max() - counts.min() <= 1
    if by == "both":
        assert "red circle" in names


def test_colour_classes_differ_in_mean_hue():
    x, y, names = make_colour_shapes(400, "colour", seed=3)
    for i, name in enumerate(names):
        hue = _hue_of_saturated(x[y == i])
        diff = abs((hue - COLOURS[name] + 180) % 360 - 180)
        assert diff < 15, (name, hue)


def test_shape_classes_carry_no_colour_information():
    x, y, names = make_colour_shapes(800, "shape", seed=4)
    hues = [_hue_of_saturated(x[y == i]) for i in range(len(names))]
    means = [x[y == i].reshape(-1, 3).mean(0) for i in range(len(names))]
    # every shape class mixes all colours: class mean colours are close to each other
    assert np.ptp(np.array(means), axis=0).max() < 12, (hues, means)


def test_dataset_object_reports_colour_shape_and_names():
    ds = colour_shapes_dataset(n_train=120, n_test=40, by="both", seed=0, size=48)
    assert ds.input_shape == (48, 48, 3)
    assert ds.num_classes == 16 and ds.class_names[0] == "red circle"
    assert len(ds.x_train) == 120 and len(ds.x_test) == 40
    assert not np.array_equal(ds.x_train[:40], ds.x_test)
    assert "seed 0" in ds.source


@pytest.mark.parametrize("kwargs", [{"by": "size"}, {"n": 0}, {"size": 8}, {"n": True}])
def test_bad_arguments_have_clear_messages(kwargs):
    args = {"n": 10, "by": "shape", "seed": 0, "size": 32} | kwargs
    with pytest.raises(ValueError, match=r"^[A-Z].*\.$"):
        make_colour_shapes(**args)


def test_load_dataset_generates_the_shapes_offline():
    from convstudio.core.datasets import load_dataset

    ds = load_dataset("colour_shapes_by_colour")
    again = load_dataset("color_shapes_by_color")
    assert ds.class_names == list(COLOURS) and ds.input_shape == (32, 32, 3)
    assert np.array_equal(ds.x_test, again.x_test) and ds.title == "Coloured shapes (classes by colour)"
