"""The augmentation preview: what the leading augmentation blocks do to one sample while training."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.inspection import augment_sample, augmentation_chain, block_activations, prepare_images
from convstudio.core.network import Network

keras = pytest.importorskip("keras")

HEAD = ["Conv2D", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]


def _sample(h: int = 16, w: int = 16, channels: int = 1) -> np.ndarray:
    """An asymmetric picture: a bright block in the top-left corner on a gradient."""
    rows, cols = np.mgrid[0:h, 0:w]
    grey = (cols * 100 // w + rows * 40 // h).astype(np.uint8)
    grey[1:h // 3, 1:w // 4] = 250
    if channels == 1:
        return grey
    return np.stack([grey, 255 - grey, np.full_like(grey, 60)], axis=-1)


def _net(*blocks, h: int = 16, w: int = 16, channels: int = 1) -> Network:
    return Network.chain([("Input", {"height": h, "width": w, "channels": channels}), *blocks, *HEAD])


def test_a_horizontal_flip_gives_the_sample_or_its_mirror_and_some_of_each():
    image = _sample()
    preview = augment_sample(_net(("RandomFlip", {"mode": "horizontal"})), image, count=16, seed=1)
    assert preview is not None and len(preview.variants) == 16
    np.testing.assert_array_equal(preview.original, image)
    mirrored = [np.array_equal(v, image[:, ::-1]) for v in preview.variants]
    kept = [np.array_equal(v, image) for v in preview.variants]
    assert all(m or k for m, k in zip(mirrored, kept))
    assert any(mirrored) and any(kept)
    assert [(s.kind, s.summary, s.random) for s in preview.steps] == [("RandomFlip", "horizontal", True)]


def test_rotation_changes_every_variant_yet_the_model_passes_the_image_unchanged_at_inference():
    net = _net("RandomFlip", ("RandomRotation", {"factor": 0.1}))
    image = _sample()
    preview = augment_sample(net, image, count=6, seed=0)
    assert all(not np.array_equal(v, image) for v in preview.variants)
    assert all(v.shape == image.shape and v.dtype == np.uint8 for v in preview.variants)
    # The trained-or-not model built from the same network: at inference the blocks do nothing.
    acts = block_activations(build_model(net), net, image)
    np.testing.assert_allclose(acts["randomrotation_1"], prepare_images(image)[0], atol=1e-6)


def test_the_seed_makes_the_variants_reproducible_and_another_seed_gives_new_ones():
    net = _net(("RandomRotation", {"factor": 0.2}), ("RandomZoom", {"height_factor": 0.3, "width_factor": 0.3}))
    image = _sample()
    first, again = (augment_sample(net, image, count=4, seed=5) for _ in range(2))
    other = augment_sample(net, image, count=4, seed=6)
    for a, b, c in zip(first.variants, again.variants, other.variants):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


@pytest.mark.parametrize("blocks", [(), (("Rescaling", {"scale": 0.5}),)])
def test_a_network_without_augmentation_gives_nothing(blocks):
    net = _net(*blocks)
    assert augment_sample(net, _sample()) is None
    assert not augmentation_chain(net).augments


def test_augmentation_after_another_block_is_named_but_not_previewed():
    net = Network.chain([("Input", {"height": 16, "width": 16, "channels": 1}), "Conv2D", "RandomFlip", *HEAD[1:]])
    chain = augmentation_chain(net)
    assert chain.steps == () and chain.later == ("randomflip_1",)
    assert augment_sample(net, _sample()) is None


def test_colour_through_rescaling_and_resizing_keeps_colour_and_maps_the_range_back():
    net = _net(("Rescaling", {"scale": 2.0, "offset": -1.0}), ("RandomRotation", {"factor": 0.1}),
               ("Resizing", {"height": 8, "width": 12}), h=16, w=24, channels=3)
    image = _sample(16, 24, channels=3)
    preview = augment_sample(net, image, count=3, seed=2)
    assert [s.kind for s in preview.steps] == ["Rescaling", "RandomRotation", "Resizing"]
    assert preview.original.shape == (8, 12, 3) and all(v.shape == (8, 12, 3) for v in preview.variants)
    # The inference image is the sample resized: on the sample's 0..255 scale, not Rescaling's -1..1.
    resized = keras.layers.Resizing(8, 12)(image[None].astype(np.float32))[0]
    np.testing.assert_allclose(preview.original, np.asarray(resized), atol=1.0)
    # Each channel keeps its own colour: the blue plane stays the constant 60.
    assert all(not np.array_equal(v, preview.original) for v in preview.variants)
    assert np.median(preview.variants[0][..., 2]) == pytest.approx(60, abs=1)


def test_a_contrast_after_a_rescaling_to_minus_one_to_one_is_flagged_and_indeed_clips():
    image = _sample()
    image[-4:, -4:] = 0  # a black corner
    contrast = ("RandomContrast", {"factor": 0.1})
    rescale = ("Rescaling", {"scale": 2.0, "offset": -1.0})
    clipping, fine = _net(rescale, contrast), _net(contrast, rescale)
    (warning,) = augmentation_chain(clipping).warnings
    assert "randomcontrast_1" in warning and "-1..1" in warning
    assert augmentation_chain(fine).warnings == ()
    # What the warning says is what training would see: black (-1 after rescaling) is clipped to 0 = mid grey.
    corner = [v[-1, -1] for v in augment_sample(clipping, image, count=4).variants]
    assert all(abs(int(c) - 128) <= 1 for c in corner)
    assert all(c < 40 for c in (v[-1, -1] for v in augment_sample(fine, image, count=4).variants))
