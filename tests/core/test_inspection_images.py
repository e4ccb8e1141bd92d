"""User images into the dataset's convention; shifting images."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import MNIST

from convstudio.core.inspection import ImageError, drawing_to_dataset, load_image, shift_image, to_dataset_format


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    w = img.astype(np.float64)
    ys, xs = np.indices(img.shape)
    return (ys * w).sum() / w.sum(), (xs * w).sum() / w.sum()


def _ink_box(img: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(img > 25)
    return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1


def _dark_stroke_on_paper(h=120, w=90) -> np.ndarray:
    paper = np.full((h, w), 240, dtype=np.uint8)
    paper[10:70, 60:75] = 20  # a dark vertical bar off-centre, near the top right
    return paper


def test_dark_ink_on_light_paper_becomes_a_centred_white_digit_in_a_20_box():
    out = to_dataset_format(_dark_stroke_on_paper())
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out[0].max() == 0 and out[:, 0].max() == 0  # black background
    assert out.max() == 255
    assert max(_ink_box(out)) == 20
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # where MNIST puts the centre of mass


def test_light_ink_on_dark_is_kept_and_blank_gives_black():
    drawing = np.zeros((280, 280), dtype=np.float32)
    drawing[40:240, 130:150] = 1.0
    out = drawing_to_dataset(drawing)
    assert out.max() == 255 and _ink_box(out)[0] == 20
    assert not to_dataset_format(np.zeros((50, 50))).any()
    assert not to_dataset_format(np.full((50, 50), 255, dtype=np.uint8)).any()


def test_mnist_digits_are_left_much_as_they_are():
    path = MNIST
    try:
        digits = np.load(path)["x_test"][:20]
    except OSError:
        pytest.skip("MNIST not available")
    for d in digits:
        out = to_dataset_format(d)
        assert np.corrcoef(out.ravel().astype(float), d.ravel().astype(float))[0, 1] > 0.8


def test_load_image_reads_png_files_and_explains_bad_ones(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    rgba = np.zeros((60, 40, 4), dtype=np.uint8)
    rgba[5:55, 15:25] = (0, 0, 0, 255)  # black stroke on a transparent background
    PIL.fromarray(rgba, "RGBA").save(tmp_path / "digit.png")
    out = load_image(tmp_path / "digit.png")
    assert out.shape == (28, 28) and out.max() == 255 and out[0, 0] == 0
    PIL.fromarray(_dark_stroke_on_paper()).convert("RGB").save(tmp_path / "digit.jpg")
    assert max(_ink_box(load_image(tmp_path / "digit.jpg"))) == 20
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ImageError, match="cannot be read"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(ImageError, match="no file"):
        load_image(tmp_path / "missing.png")


def test_shift_moves_content_and_fills_with_zeros():
    img = np.arange(1, 26, dtype=np.uint8).reshape(5, 5)
    moved = shift_image(img, 1, -2)
    assert moved[1:, :3].tolist() == img[:4, 2:].tolist()
    assert not moved[0].any() and not moved[:, 3:].any()
    np.testing.assert_array_equal(shift_image(shift_image(img, 2, 1), -2, -1)[:3, :4], img[:3, :4])
    assert not shift_image(img, 5, 0).any()
