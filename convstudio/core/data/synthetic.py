"""Coloured shapes on textured backgrounds: a colour dataset made offline, the same for the same seed.

For teaching: with classes by colour a first convolution learns colour-selective filters, with
classes by shape it must learn edges and ignore colour. Everything is drawn with vectorised numpy
from one seeded generator, so a few thousand images take well under a second.
"""

from __future__ import annotations

import numpy as np

from ..datasets import Dataset

__all__ = ["COLOURS", "DATASET_KEYS", "LABEL_MODES", "SHAPES", "colour_shapes_dataset", "make_colour_shapes"]

SHAPES = ("circle", "square", "triangle", "cross")
# name -> hue in degrees (HSV); the hues are at least 60 degrees apart
COLOURS: dict[str, float] = {"red": 0.0, "yellow": 60.0, "green": 120.0, "blue": 240.0}
LABEL_MODES = ("shape", "colour", "both")
# the dataset's name for each labelling, as load_dataset accepts it
DATASET_KEYS = {"shape": "colour_shapes", "colour": "colour_shapes_by_colour", "both": "colour_shapes_by_both"}
MIN_SIZE, MAX_SIZE = 16, 256


def _class_names(by: str) -> list[str]:
    if by == "shape":
        return list(SHAPES)
    if by == "colour":
        return list(COLOURS)
    return [f"{c} {s}" for c in COLOURS for s in SHAPES]


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """HSV (hue in degrees, s and v in [0, 1]) to RGB in [0, 1], on the last axis."""
    h = (h % 360.0) / 60.0
    c = v * s
    x = c * (1 - np.abs(h % 2 - 1))
    m = v - c
    z = np.zeros_like(h)
    sector = np.floor(h).astype(np.int64) % 6
    r = np.choose(sector, [c, x, z, z, x, c])
    g = np.choose(sector, [x, c, c, x, z, z])
    b = np.choose(sector, [z, z, x, c, c, x])
    return np.stack([r + m, g + m, b + m], axis=-1)


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Whether each pixel at rotated offsets ``(u, v)`` from the centre lies inside ``shape``."""
    if shape == "circle":
        return u * u + v * v <= r * r
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= r * np.float32(0.8)
    if shape == "triangle":  # equilateral: three half-planes around the centre
        inside = v <= r * np.float32(0.5)
        for a in (7 * np.pi / 6, 11 * np.pi / 6):  # normals at 90, 210 and 330 degrees
            inside &= u * np.float32(np.cos(a)) + v * np.float32(np.sin(a)) <= r * np.float32(0.5)
        return inside
    arm = r * np.float32(0.3)
    au, av = np.abs(u), np.abs(v)
    return ((au <= arm) & (av <= r)) | ((av <= arm) & (au <= r))


def _masks(shape_ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean ``(n, size, size)`` masks of each image's shape at a random place, size and angle."""
    n = len(shape_ids)
    radius = (rng.uniform(0.22, 0.34, n) * size).astype(np.float32)
    cy = rng.uniform(radius, size - radius).astype(np.float32)
    cx = rng.uniform(radius, size - radius).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi, n)
    cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
    grid = np.arange(size, dtype=np.float32) + np.float32(0.5)
    out = np.empty((n, size, size), dtype=bool)
    for k, shape in enumerate(SHAPES):
        idx = np.flatnonzero(shape_ids == k)
        if not len(idx):
            continue
        dy = grid[None, :, None] - cy[idx, None, None]
        dx = grid[None, None, :] - cx[idx, None, None]
        c, s = cos[idx, None, None], sin[idx, None, None]
        out[idx] = _shape_mask(shape, dx * c + dy * s, dy * c - dx * s, radius[idx, None, None])
    return out


def _backgrounds(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Float32 ``(n, size, size, 3)`` textures in [0, 1]: low-saturation stripes plus noise."""
    grid = np.arange(size, dtype=np.float32)
    angle = rng.uniform(0, np.pi, n).astype(np.float32)[:, None, None]
    freq = (2 * np.pi / rng.uniform(4, 10, n)).astype(np.float32)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, n).astype(np.float32)[:, None, None]
    stripes = np.sin((grid[None, :, None] * np.sin(angle) + grid[None, None, :] * np.cos(angle))
                     * freq + phase)
    base = rng.uniform(0.25, 0.75, n).astype(np.float32)[:, None, None]
    value = base + np.float32(0.12) * stripes
    value += rng.standard_normal((n, size, size), dtype=np.float32) * np.float32(0.05)
    # a faint colour cast, far from any class colour
    tint = rng.uniform(-0.06, 0.06, (n, 1, 1, 3)).astype(np.float32)
    return value[..., None] + tint


def make_colour_shapes(n: int, by: str = "shape", seed: int = 0,
                       size: int = 32) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` images ``(n, size, size, 3)`` uint8, labels and class names, made from ``seed``.

    ``by`` picks the classes: ``"shape"`` (circle, square, ...), ``"colour"`` (red, green, ...)
    or ``"both"`` (``"red circle"``, ...). Classes are balanced (counts differ by at most one);
    the other attribute is drawn at random so it carries no information about the label.
    """
    if by not in LABEL_MODES:
        raise ValueError(f"Classes can be by {', '.join(LABEL_MODES)}, not {by!r}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"The number of images must be a whole number of at least 1, got {n!r}.")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"The image size must be a whole number from {MIN_SIZE} to {MAX_SIZE}, got {size!r}.")
    names = _class_names(by)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(names)).astype(np.uint8)
    n_shapes, n_colours = len(SHAPES), len(COLOURS)
    if by == "shape":
        shape_ids, colour_ids = labels.astype(np.int64), rng.integers(0, n_colours, n)
    elif by == "colour":
        shape_ids, colour_ids = rng.integers(0, n_shapes, n), labels.astype(np.int64)
    else:
        colour_ids, shape_ids = np.divmod(labels.astype(np.int64), n_shapes)
    hues = np.array(list(COLOURS.values()))[colour_ids] + rng.uniform(-12, 12, n)
    rgb = _hsv_to_rgb(hues, rng.uniform(0.75, 1.0, n), rng.uniform(0.7, 1.0, n))
    images = _backgrounds(n, size, rng)
    mask = _masks(shape_ids, size, rng)[..., None]
    shading = rng.standard_normal((n, size, size, 1), dtype=np.float32) * np.float32(0.03)
    np.copyto(images, rgb.astype(np.float32)[:, None, None, :] + shading, where=mask)
    images *= np.float32(255)
    np.clip(images, 0, 255, out=images)
    return np.rint(images).astype(np.uint8), labels, names


def colour_shapes_dataset(n_train: int = 4000, n_test: int = 1000, by: str = "shape", seed: int = 0,
                          size: int = 32) -> Dataset:
    """The coloured-shapes set as a :class:`Dataset` (training and test drawn from separate seeds)."""
    x_train, y_train, names = make_colour_shapes(n_train, by, seed, size)
    x_test, y_test, _ = make_colour_shapes(n_test, by, seed + 1_000_003, size)
    arrays = [x_train, y_train, x_test, y_test]
    for a in arrays:
        a.flags.writeable = False
    title = {"shape": "shapes", "colour": "colours", "both": "colours and shapes"}[by]
    return Dataset(DATASET_KEYS[by], *arrays, class_names=names,
                   source=f"generated: coloured shapes, classes by {title}, {size}x{size} RGB, seed {seed}",
                   attempts=[f"generated {n_train:,} training and {n_test:,} test images (seed {seed})"])
