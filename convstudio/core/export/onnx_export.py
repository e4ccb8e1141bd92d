"""ONNX through Keras' own exporter (tf2onnx on the TensorFlow backend), checked with ONNX Runtime."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..pipeline import normalize
from .verify import Check, ExportContext

__all__ = ["write", "verify"]


def write(ctx: ExportContext, path: Path) -> None:
    import tensorflow as tf

    model = ctx.model
    signature = [tf.TensorSpec((None, *ctx.input_shape), tf.float32, name="images")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # Keras' numpy 2 patch for tf2onnx probes np.object
        model.export(str(path), format="onnx", input_signature=signature, verbose=False)


def verify(ctx: ExportContext, path: Path) -> Check:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs = session.run(None, {name: normalize(ctx.images)})[0]
    check = ctx.check(np.asarray(outputs))
    check.notes.append(f"checked with ONNX Runtime {onnxruntime.__version__}; input '{name}' float32 (n, "
                       + ", ".join(str(d) for d in ctx.input_shape) + ")")
    return check
