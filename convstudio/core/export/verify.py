"""What every export is checked against: the in-app model's outputs on a batch of test images.

:class:`ExportContext` carries the model, the images (raw uint8, as in the dataset) and the
model's reference probabilities; each format's ``verify`` runs its artefact in its own runtime
and returns a :class:`Check`, which :func:`judge` turns into success or an :class:`ExportError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pipeline import normalize, representative_batches
from .formats import ExportError, ExportFormat

if TYPE_CHECKING:
    import keras

    from ..datasets import Dataset
    from ..network import Network

__all__ = ["Check", "ExportContext", "accuracy", "judge", "max_abs_diff", "verification_images"]

VERIFY_IMAGES = 256
"""How many test images the outputs are compared on."""

ACCURACY_IMAGES = 1000
"""How many test images the int8 accuracy is measured on (when the dataset is known)."""

SAMPLE_SOURCE = "test images of the bundled sample"
"""The image source named when the full dataset was not found and the bundled sample stood in."""

REPRESENTATIVE_IMAGES = 200
"""How many training images calibrate int8 quantisation."""


def _image_dims(image_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One image's array shape: ``(h, w)`` for grey, ``(h, w, c)`` for colour."""
    h, w, *rest = (int(d) for d in image_shape)
    return (h, w) if not rest or rest[0] == 1 else (h, w, rest[0])


def verification_images(dataset: Dataset | None, sample_images: np.ndarray | None,
                        image_shape: tuple[int, ...],
                        n: int = VERIFY_IMAGES) -> tuple[np.ndarray, np.ndarray | None, str]:
    """uint8 images to compare outputs on (``(n, h, w)`` grey, ``(n, h, w, c)`` colour; ``image_shape``
    is the model's ``(h, w[, c])``), their labels if known, and where they came from."""
    dims = _image_dims(image_shape)
    if sample_images is not None:
        images = np.asarray(sample_images)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.shape[1:] != dims:
            raise ExportError(f"the sample images must have shape (n, {', '.join(map(str, dims))}), "
                              f"got {images.shape}")
        if images.dtype != np.uint8:
            images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
        return images[:n], None, "sample images"
    if dataset is not None and len(dataset.x_test) and np.asarray(dataset.x_test[:1]).shape[1:] == dims:
        source = SAMPLE_SOURCE if getattr(dataset, "is_sample", False) else "test images"
        return np.asarray(dataset.x_test[:n], np.uint8), np.asarray(dataset.y_test[:n]), source
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (min(n, 64), *dims), dtype=np.uint8), None, "random images"


def max_abs_diff(reference: np.ndarray, outputs: Any) -> float:
    """Largest absolute difference between two output arrays; shapes must agree."""
    out = np.asarray(outputs, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if out.shape != ref.shape:
        raise ExportError(f"the exported model gives outputs of shape {out.shape}, "
                          f"the model in ConvStudio {ref.shape}")
    if not np.all(np.isfinite(out)):
        raise ExportError("the exported model gives NaN or infinite outputs")
    return float(np.max(np.abs(out - ref))) if out.size else 0.0


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(probabilities, axis=-1) == np.asarray(labels).reshape(-1)))


@dataclass
class Check:
    """The outcome of running one exported artefact on the verification images."""

    max_abs_diff: float
    compared: int
    accuracy_model: float | None = None
    accuracy_export: float | None = None
    accuracy_images: int = 0
    notes: list[str] = field(default_factory=list)


MAX_ACCURACY_DROP = 0.05
"""Largest accuracy loss (as a fraction) accepted from int8 quantisation."""


def judge(fmt: ExportFormat, check: Check) -> None:
    """Raise :class:`ExportError` when the artefact strays from the in-app model beyond ``fmt.tolerance``."""
    if not math.isfinite(check.max_abs_diff) or check.max_abs_diff > fmt.tolerance:
        raise ExportError(
            f"the exported {fmt.label} does not match the model in ConvStudio: max |difference| "
            f"{check.max_abs_diff:.3g} on {check.compared} images, more than the {fmt.tolerance:g} allowed; "
            "nothing was written")
    if check.accuracy_model is not None and check.accuracy_export is not None \
            and check.accuracy_model - check.accuracy_export > MAX_ACCURACY_DROP:
        raise ExportError(
            f"the exported {fmt.label} loses too much accuracy: {check.accuracy_model:.1%} -> "
            f"{check.accuracy_export:.1%} (at most {MAX_ACCURACY_DROP:.0%} points allowed); nothing was written")


@dataclass
class ExportContext:
    """Everything a format needs to write and verify one export."""

    model: keras.Model
    network: Network
    fmt: ExportFormat
    dataset: Dataset | None = None
    settings: Any = None
    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.uint8))
    labels: np.ndarray | None = None
    image_source: str = "test images"
    _reference: np.ndarray | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.model.input_shape[1:])  # type: ignore[return-value]

    @property
    def class_names(self) -> list[str]:
        if self.dataset is not None:
            return list(self.dataset.class_names)
        return [str(i) for i in range(int(self.model.output_shape[-1]))]

    @property
    def reference(self) -> np.ndarray:
        """The in-app model's probabilities on :attr:`images` (computed once)."""
        if self._reference is None:
            self._reference = self.predict(self.images)
        return self._reference

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The in-app model's probabilities on uint8 images, in batches."""
        x = normalize(images)
        outs = [np.asarray(self.model(x[i:i + 256], training=False)) for i in range(0, len(x), 256)]
        return np.concatenate(outs) if outs else np.zeros((0, int(self.model.output_shape[-1])), np.float32)

    def accuracy_images(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Test images and labels to measure accuracy on, when the dataset is known."""
        if self.dataset is None or not len(self.dataset.x_test):
            return None
        n = ACCURACY_IMAGES
        return np.asarray(self.dataset.x_test[:n], np.uint8), np.asarray(self.dataset.y_test[:n])

    def representative_batches(self) -> list[np.ndarray]:
        """Normalised single-image batches that calibrate int8 quantisation: random training images
        (as the trainer's :func:`~convstudio.core.pipeline.representative_batches` picks them), or the
        verification images when no training set is known."""
        if self.dataset is not None and len(self.dataset.x_train):
            return list(representative_batches(self.dataset, n=REPRESENTATIVE_IMAGES))
        if self.image_source != "random images":
            return [normalize(image[None]) for image in self.images[:REPRESENTATIVE_IMAGES]]
        raise ExportError("int8 quantisation needs real images to calibrate on; load a dataset first")

    def check(self, outputs: Any, **extra: Any) -> Check:
        """A :class:`Check` of ``outputs`` (on :attr:`images`) against the reference."""
        return Check(max_abs_diff(self.reference, outputs), len(self.images), **extra)
