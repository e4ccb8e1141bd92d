"""Dataset sources beyond MNIST: image folders, CIFAR-10 files and generated colour shapes.

Each source returns a :class:`~convstudio.core.datasets.Dataset` with uint8 images shaped
``(n, h, w, c)``, labels ``0..k-1`` and the class names, so every view and export gets them.
"""

from __future__ import annotations

__all__: list[str] = []
