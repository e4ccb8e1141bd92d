"""Colour in the views: first-layer filters as colour pictures with the colour each prefers, and
colour samples read from files and fed to the network."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.inspection import (
    ImageError,
    colour_filters,
    load_sample,
    prepare_images,
)
from convstudio.core.inspection.colour_filters import preferred_colour


def _kernel() -> np.ndarray:
    """Three 3x3 RGB filters: red-loving, green-loving and colour-blind (an edge in every channel)."""
    k = np.zeros((3, 3, 3, 3), np.float32)
    k[:, :, 0, 0], k[:, :, 1, 0], k[:, :, 2, 0] = 0.5, -0.2, -0.2
    k[:, :, 1, 1] = 0.3
    k[0, :, :, 2], k[2, :, :, 2] = 1.0, -1.0
    return k


def test_each_filter_says_which_colour_it_prefers():
    red, green, edge = colour_filters(_kernel())
    assert red.prefers == "red" and red.label == "prefers red"
    assert red.means == pytest.approx((0.5, -0.2, -0.2))
    assert green.prefers == "green"
    assert edge.prefers is None and edge.label == "no colour preference"


def test_the_colour_picture_is_min_max_scaled_per_filter_and_the_channels_share_a_diverging_scale():
    red, green, _ = colour_filters(_kernel() * np.float32(7.0))  # the scale of the weights does not matter
    assert red.image.shape == (3, 3, 3)
    assert red.image.min() == 0.0 and red.image.max() == 1.0
    np.testing.assert_allclose(red.image[0, 0], [1.0, 0.0, 0.0])  # pure red where the filter wants red
    assert red.channels.shape == (3, 3, 3)
    np.testing.assert_allclose(red.channels[:, 0, 0], [1.0, -0.4, -0.4], rtol=1e-6)
    np.testing.assert_allclose(green.image[0, 0], [0.0, 1.0, 0.0])


def test_a_flat_filter_and_close_means_prefer_nothing():
    flat = colour_filters(np.full((2, 2, 3, 1), 0.1, np.float32))[0]
    assert flat.prefers is None and np.all(flat.image == 0.5)
    assert preferred_colour((0.30, 0.28, 0.0), scale=0.2) is None  # red leads green by too little
    assert preferred_colour((0.30, 0.20, 0.0), scale=0.2) == "red"


def test_a_grey_first_layer_is_not_shown_in_colour():
    with pytest.raises(ValueError, match=r"\(height, width, 3, filters\)"):
        colour_filters(np.zeros((3, 3, 1, 4)))


def test_a_colour_file_stays_colour_for_a_colour_network(tmp_path):
    from PIL import Image

    picture = np.zeros((40, 60, 3), np.uint8)
    picture[:, :30] = (255, 0, 0)
    picture[:, 30:] = (0, 0, 255)
    Image.fromarray(picture).save(tmp_path / "flag.png")
    sample = load_sample(tmp_path / "flag.png", (20, 30, 3))
    assert sample.shape == (20, 30, 3) and sample.dtype == np.uint8
    assert tuple(sample[10, 2]) == (255, 0, 0) and tuple(sample[10, 28]) == (0, 0, 255)
    grey = load_sample(tmp_path / "flag.png", (20, 30, 1))
    assert grey.shape == (20, 30) and grey[10, 2] == round(0.299 * 255)
    assert load_sample(tmp_path / "flag.png", (28, 28, 1)).shape == (28, 28)  # digits: fitted like MNIST
    (tmp_path / "junk.png").write_bytes(b"no picture")
    with pytest.raises(ImageError, match="cannot be read as an image"):
        load_sample(tmp_path / "junk.png", (20, 30, 3))


def test_colour_samples_become_colour_model_input():
    image = np.full((5, 4, 3), 255, np.uint8)
    x = prepare_images(image, channels=3)
    assert x.shape == (1, 5, 4, 3) and x.dtype == np.float32 and x.max() == 1.0
    assert prepare_images(np.zeros((2, 5, 4, 3), np.uint8), channels=3).shape == (2, 5, 4, 3)
    assert prepare_images(np.zeros((5, 4), np.uint8)).shape == (1, 5, 4, 1)  # grey as before
    with pytest.raises(ValueError, match=r"colour image \(h, w, 3\)"):
        prepare_images(np.zeros((5, 4), np.uint8), channels=3)
