"""Export formats as data: one :class:`ExportFormat` and one registry entry per format.

Each format names the module that writes and verifies it, so adding a format is one module plus
one entry in :data:`FORMATS`. Heavy imports (TensorFlow, tf2onnx) happen only when exporting.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExportError", "ExportFormat", "ExportReport", "FORMATS", "default_export_path", "get_format"]


class ExportError(RuntimeError):
    """An export failed or did not verify; the message says why in plain words."""


@dataclass(frozen=True)
class ExportFormat:
    """What one export format writes, how to explain it, and what it needs installed."""

    name: str
    label: str
    suffix: str  # file suffix, or "" for a folder
    description: str
    module: str  # sibling module with write(ctx, tmp_path) and verify(ctx, tmp_path)
    tolerance: float  # largest |difference| of output probabilities accepted by verification
    requires: tuple[str, ...] = ()  # import names of optional packages
    extra: str = ""  # pip extra that installs them
    tag: str = ""  # added to the default name, so that no two formats default to the same path

    @property
    def is_folder(self) -> bool:
        return self.suffix == ""

    def missing(self) -> list[str]:
        """Optional packages this format needs that are not installed."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    def availability(self) -> str | None:
        """None when the format can be used here, else a human reason and how to fix it."""
        missing = self.missing()
        if not missing:
            return None
        return (f"{self.label} export is not available because {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not installed; "
                f"install it with: pip install \"convstudio[{self.extra}]\"")

    def implementation(self) -> Any:
        return importlib.import_module(f"{__package__}.{self.module}")


@dataclass
class ExportReport:
    """What an export wrote and how closely the written artefact matches the in-app model."""

    format: str
    path: str
    paths: list[str] = field(default_factory=list)
    max_abs_diff: float | None = None
    compared_images: int = 0
    accuracy_model: float | None = None
    accuracy_export: float | None = None
    accuracy_images: int = 0
    size_bytes: int = 0
    seconds: float = 0.0
    verified: bool = False
    notes: list[str] = field(default_factory=list)
    image_source: str = "test images"  # what the outputs were compared on

    @property
    def accuracy_change(self) -> float | None:
        if self.accuracy_model is None or self.accuracy_export is None:
            return None
        return self.accuracy_export - self.accuracy_model

    @property
    def verification(self) -> str:
        """The verification figure in words, e.g. ``max |difference| 2.3e-07 on 256 test images``."""
        if not self.verified:
            return "not verified"
        parts = []
        if self.max_abs_diff is not None:
            parts.append(f"max |difference| {self.max_abs_diff:.2g} on {self.compared_images} {self.image_source}")
        if self.accuracy_change is not None:
            parts.append(f"accuracy {self.accuracy_model:.1%} -> {self.accuracy_export:.1%} "
                         f"on {self.accuracy_images} {self.image_source}")
        return "; ".join(parts) or "verified"

    @property
    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        fmt = FORMATS.get(self.format)
        label = fmt.label if fmt else self.format
        return (f"{label} written to {self.path} ({_size(self.size_bytes)}, {self.seconds:.1f} s); "
                f"{self.verification}")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


FORMATS: dict[str, ExportFormat] = {}


def _register(fmt: ExportFormat) -> None:
    FORMATS[fmt.name] = fmt


_register(ExportFormat(
    "keras", "Keras model (.keras)", ".keras",
    "The whole model in Keras' native format: architecture, trained weights and optimizer state. "
    "Reload it with keras.saving.load_model to predict or to continue training.",
    "keras_export", 1e-6,
))
_register(ExportFormat(
    "savedmodel", "TensorFlow SavedModel", "",
    "A folder for TensorFlow Serving and other TensorFlow runtimes. Its 'serve' signature takes raw "
    "uint8 images of the model's input shape and scales them to 0..1 itself.",
    "savedmodel", 1e-5, tag="_savedmodel",
))
_register(ExportFormat(
    "tflite", "TensorFlow Lite (float)", ".tflite",
    "A compact flat file for phones and microcontrollers (LiteRT), with 32-bit float weights. "
    "Input: float images scaled to 0..1, shape (n, height, width, channels).",
    "tflite", 1e-4,
))
_register(ExportFormat(
    "tflite_int8", "TensorFlow Lite (int8)", ".tflite",
    "Full-integer quantised TFLite: about 4x smaller and faster on integer-only hardware, at the "
    "cost of a little accuracy. Input: raw uint8 pixels (n, height, width, channels); output: uint8 scores.",
    "tflite", 0.25, tag="_int8",
))
_register(ExportFormat(
    "onnx", "ONNX", ".onnx",
    "The open exchange format read by ONNX Runtime, PyTorch tools and many inference engines. "
    "Input: float images scaled to 0..1, shape (n, height, width, channels).",
    "onnx_export", 1e-4, requires=("tf2onnx", "onnx", "onnxruntime"), extra="onnx",
))
_register(ExportFormat(
    "script", "Standalone Keras script (.py)", ".py",
    "A readable, commented Python script that rebuilds this network in plain Keras and trains it "
    "with the same settings; runs without ConvStudio.",
    "codegen", 1e-5, tag="_train",
))
_register(ExportFormat(
    "predict", "Model + predict.py (folder)", "",
    "A folder with model.keras and predict.py, which classifies image files with the same "
    "preprocessing as ConvStudio: python predict.py digit.png",
    "codegen", 1e-5, tag="_predict",
))


def get_format(name: str) -> ExportFormat:
    """The format called ``name``; an unknown name raises :class:`ExportError` listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ExportError(f"unknown export format {name!r}; choose one of {', '.join(FORMATS)}") from None


def default_export_path(fmt: str, project_path: str | os.PathLike[str] | None = None,
                        model_name: str | None = None, folder: str | os.PathLike[str] | None = None) -> str:
    """Where ``fmt`` is saved unless the user says otherwise: beside the project file, named after it
    (``digits.json`` -> ``digits_int8.tflite``); without a project file, in ``folder`` (default: the
    current folder) named after the model. No two formats share a default."""
    spec = get_format(fmt)
    if project_path:
        project = Path(os.fspath(project_path)).expanduser().absolute()
        where, stem = project.parent, project.stem
    else:
        where, stem = Path(os.fspath(folder or ".")).expanduser().absolute(), model_name or "model"
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._")[:60] or "model"
    return str(where / (stem + spec.tag + spec.suffix))
