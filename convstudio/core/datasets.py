"""Datasets: MNIST and Fashion-MNIST from the user's folder, the Keras cache, or the bundled sample.

(Interface in place; the full loader with every source lands next.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset", "DatasetNotFound", "load_dataset"]


class DatasetNotFound(RuntimeError):
    """No source had the dataset; the message says what was tried and what to do."""


@dataclass
class Dataset:
    """Images as uint8 ``(n, 28, 28)`` arrays with labels 0..9, plus where they came from."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str = ""
    is_sample: bool = False
    attempts: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.x_train.shape[1:3], 1)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_dataset(name: str, data_dir: str | None = None, allow_sample: bool = True,
                 allow_download: bool = True) -> Dataset:
    raise NotImplementedError
