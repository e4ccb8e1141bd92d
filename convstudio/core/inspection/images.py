"""Bring a user's own image into the dataset's convention, and shift images.

MNIST digits are white on black, scaled to fit a 20x20 box (keeping their aspect ratio) and
placed in a 28x28 image so their centre of mass is at pixel (14, 14). :func:`to_dataset_format` does
the same to any grayscale picture, inverting it first when its background is light.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ImageError", "drawing_to_dataset", "drawing_to_sample", "load_image", "load_sample", "shift_image",
           "to_dataset_format"]

SIZE = 28
BOX = 20


class ImageError(ValueError):
    """An image file that cannot be used; the message says why."""


def load_image(path: str | os.PathLike, size: int = SIZE) -> np.ndarray:
    """Read a PNG or JPEG file as a dataset image: uint8 ``(size, size)``, white on black."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageError(f"there is no file {path!r}")
    gray = _read_gray(path)
    if gray.ndim != 2 or min(gray.shape) < 1:
        raise ImageError(f"{os.path.basename(path)} is not a 2-D picture")
    return to_dataset_format(gray, size=size)


def load_sample(path: str | os.PathLike, shape: tuple[int, ...]) -> np.ndarray:
    """Read an image file as a sample for a network taking images of ``shape`` (height, width, channels).

    Grey square inputs get the dataset treatment of :func:`load_image` (fitted and centred like
    MNIST); other grey sizes are resized; colour inputs keep their colour: uint8 ``(h, w, 3)``
    resized to the input (transparent pixels count as white).
    """
    h, w, c = (int(d) for d in shape)
    if c == 1 and h == w:
        return load_image(path, size=h)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageError(f"there is no file {path!r}")
    rgba = _read_rgba(path)
    rgb = rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])
    if c == 1:
        planes = [rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)]
    elif c == 3:
        planes = [rgb[..., i] for i in range(3)]
    else:
        raise ImageError(f"a sample for {c}-channel images cannot be read from a picture file")
    out = np.stack([_resize(p, h, w) for p in planes], axis=-1)
    out = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
    return out[..., 0] if c == 1 else out


def _read_rgba(path: str) -> np.ndarray:
    """The picture as RGBA floats in [0, 1]."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
    except Exception as exc:  # noqa: BLE001 - any decoder error becomes one human message
        raise ImageError(f"{os.path.basename(path)} cannot be read as an image ({exc})") from None


def _read_gray(path: str) -> np.ndarray:
    """Grayscale in [0, 1]; transparent pixels count as white paper."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    try:
        if Image is not None:
            with Image.open(path) as im:
                im.load()
                rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        else:
            import matplotlib.image as mpimg

            arr = np.asarray(mpimg.imread(path), dtype=np.float32)
            if arr.max() > 1.0:
                arr = arr / 255.0
            if arr.ndim == 2:
                arr = np.stack([arr, arr, arr, np.ones_like(arr)], axis=-1)
            elif arr.shape[-1] == 3:
                arr = np.concatenate([arr, np.ones_like(arr[..., :1])], axis=-1)
            rgba = arr
    except Exception as exc:  # any decoder error becomes one human message
        raise ImageError(f"{os.path.basename(path)} cannot be read as an image ({exc})") from None
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]
    return gray * alpha + (1.0 - alpha)


def to_dataset_format(image: np.ndarray, invert: bool | None = None, size: int = SIZE,
                      box: int = BOX) -> np.ndarray:
    """Any grayscale picture as uint8 ``(size, size)`` like MNIST.

    ``image`` is 2-D, uint8 or float in [0, 1]. ``invert`` None inverts when the border is mostly
    light (dark ink on paper). The ink is cropped, scaled to fit a ``box`` square and centred by
    its centre of mass. A blank picture gives a black image.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim != 2:
        raise ImageError(f"expected a 2-D grayscale image, got shape {x.shape}")
    if np.asarray(image).dtype == np.uint8 or x.max() > 1.0:
        x = x / 255.0
    x = np.clip(np.nan_to_num(x), 0.0, 1.0)
    if invert is None:
        border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
        invert = float(np.median(border)) > 0.5
    if invert:
        x = 1.0 - x
    x = x - min(float(np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]]))), float(x.max()))
    x = np.clip(x, 0.0, None)
    peak = float(x.max())
    out = np.zeros((size, size), dtype=np.float32)
    if peak <= 1e-3:
        return out.astype(np.uint8)
    x = x / peak
    rows = np.flatnonzero(x.max(axis=1) > 0.1)
    cols = np.flatnonzero(x.max(axis=0) > 0.1)
    x = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = box / max(x.shape)
    h, w = max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale))
    x = _resize(x, h, w)
    total = float(x.sum())
    cy = float((x.sum(axis=1) * np.arange(h)).sum() / total)
    cx = float((x.sum(axis=0) * np.arange(w)).sum() / total)
    top = int(np.clip(round(size / 2 - cy), 0, size - h))
    left = int(np.clip(round(size / 2 - cx), 0, size - w))
    out[top:top + h, left:left + w] = x
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def _resize(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Area-weighted resize (anti-aliased when shrinking) with two small matrices."""
    return _area_matrix(x.shape[0], h) @ x @ _area_matrix(x.shape[1], w).T


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Row i averages the input cells that output cell i overlaps, weighted by overlap."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    m = np.zeros((n_out, n_in), dtype=np.float32)
    for i in range(n_out):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
            m[i, j] = min(hi, j + 1) - max(lo, j)
        m[i] /= m[i].sum()
    return m


def drawing_to_dataset(drawing: np.ndarray, size: int = SIZE) -> np.ndarray:
    """A drawing pad's strokes (light ink on dark, any size) in the dataset's convention."""
    return to_dataset_format(drawing, invert=False, size=size)


def drawing_to_sample(drawing: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A drawing pad's strokes as a sample for images of ``shape``: MNIST-style for grey square
    inputs, otherwise stretched to (h, w) and, for colour, the same grey in every channel."""
    h, w, c = (int(d) for d in shape)
    if c == 1 and h == w:
        return drawing_to_dataset(drawing, size=h)
    x = np.asarray(drawing, dtype=np.float32)  # in [0, 1], light ink on dark
    grey = np.clip(np.rint(_resize(x, h, w) * 255.0), 0, 255).astype(np.uint8)
    return grey if c == 1 else np.repeat(grey[..., None], c, axis=-1)


def shift_image(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` moved ``dy`` rows down and ``dx`` columns right; what falls off is lost, zeros come in."""
    image = np.asarray(image)
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    dy, dx = int(dy), int(dx)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src = image[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out
