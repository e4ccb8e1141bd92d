"""Where the tests find real MNIST and Fashion-MNIST: one place for every test module.

The full copies live in ``shared/datasets`` beside the repository (override with
``CONVSTUDIO_TEST_DATA``); the bundled sample (real images, 7,000 per dataset) always exists, so
tests that need real digits but not the full set never skip.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    candidates = [os.environ.get("CONVSTUDIO_TEST_DATA"), ROOT.parent / "shared" / "datasets"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "mnist.npz").is_file():
            return Path(candidate)
    return ROOT.parent / "shared" / "datasets"  # absent: tests of the full sets skip


SHARED = _shared_datasets()
"""Folder with the full ``mnist.npz`` and ``fashion_mnist.npz`` (may not exist)."""
SHARED_MNIST = SHARED / "mnist.npz"
BUNDLED_MNIST = ROOT / "resources" / "datasets" / "mnist_sample.npz"
MNIST = SHARED_MNIST if SHARED_MNIST.is_file() else BUNDLED_MNIST
"""Real MNIST images: the full set when present, else the bundled sample."""


def mnist_slice(n_train: int = 256, n_test: int = 64):
    """The first ``n_train`` training and ``n_test`` test images of real MNIST as a Dataset (cheap training tests)."""
    import numpy as np
    import pytest

    from convstudio.core.datasets import Dataset

    if not MNIST.is_file():
        pytest.skip(f"neither {SHARED_MNIST} nor {BUNDLED_MNIST} is available")
    with np.load(MNIST) as d:
        return Dataset("mnist", d["x_train"][:n_train], d["y_train"][:n_train], d["x_test"][:n_test],
                       d["y_test"][:n_test], [str(i) for i in range(10)], source="MNIST slice")


def png_folder(root: Path, counts: dict[str, int], size: tuple[int, int] = (10, 12)) -> Path:
    """An image folder at ``root``: one subfolder per class with ``counts[name]`` small RGB PNGs (``size`` is h, w)."""
    from PIL import Image

    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (size[1], size[0]), (40 * i % 256, 200 if i % 2 else 60, 30)).save(root / name / f"{i}.png")
    return root
