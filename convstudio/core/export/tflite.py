"""TensorFlow Lite (LiteRT): float32, or full-integer int8 quantised with training images.

Conversion goes Keras -> SavedModel (a temporary one) -> ``TFLiteConverter.from_saved_model``,
the path TensorFlow recommends for Keras 3, with built-in ops only so any LiteRT runtime can run
it. Verification uses ``ai_edge_litert`` when installed, else ``tf.lite.Interpreter``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..pipeline import normalize
from .verify import Check, ExportContext, accuracy

__all__ = ["write", "verify", "convert", "interpreter", "run"]


def convert(model, input_shape: tuple[int, int, int], representative: list[np.ndarray] | None = None) -> bytes:
    """TFLite bytes for ``model``; with ``representative`` batches (float32, normalised), full-integer
    int8 with uint8 input and output."""
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="convstudio-tflite-") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", lambda x: model(x, training=False),
                             input_signature=[tf.TensorSpec((None, *input_shape), tf.float32)])
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if representative is None:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        else:
            def calibration():
                for batch in representative:
                    yield [batch]

            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = calibration
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            # uint8 input with scale 1/255 and zero point 0 is exactly the raw pixel value
            converter.inference_input_type = tf.uint8
            converter.inference_output_type = tf.uint8
        return converter.convert()


def interpreter(path_or_bytes: Path | bytes):
    """A LiteRT interpreter for a ``.tflite`` file or its bytes."""
    if isinstance(path_or_bytes, bytes):
        kwargs = {"model_content": path_or_bytes}
    else:
        kwargs = {"model_path": str(path_or_bytes)}
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice points to LiteRT
            return tf.lite.Interpreter(**kwargs)
    return Interpreter(**kwargs)


def run(interp, images: np.ndarray) -> np.ndarray:
    """Probabilities for uint8 ``images`` ``(n, h, w[, c])``: quantises the input and dequantises the output as needed."""
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    x = normalize(images)
    interp.resize_tensor_input(inp["index"], list(x.shape))
    interp.allocate_tensors()
    if inp["dtype"] != np.float32:
        scale, zero = inp["quantization"]
        info = np.iinfo(inp["dtype"])
        x = np.clip(np.rint(x / scale + zero), info.min, info.max).astype(inp["dtype"])
    interp.set_tensor(inp["index"], x)
    interp.invoke()
    y = interp.get_tensor(out["index"])
    if out["dtype"] != np.float32:
        scale, zero = out["quantization"]
        y = (y.astype(np.float32) - zero) * scale
    return y


def write(ctx: ExportContext, path: Path) -> None:
    representative = ctx.representative_batches() if ctx.fmt.name == "tflite_int8" else None
    path.write_bytes(convert(ctx.model, ctx.input_shape, representative))


def verify(ctx: ExportContext, path: Path) -> Check:
    interp = interpreter(path)
    check = ctx.check(run(interp, ctx.images))
    if ctx.fmt.name == "tflite_int8":
        scored = ctx.accuracy_images()
        if scored is not None:
            images, labels = scored
            check.accuracy_model = accuracy(ctx.predict(images), labels)
            check.accuracy_export = accuracy(run(interp, images), labels)
            check.accuracy_images = len(images)
        inp = interp.get_input_details()[0]
        check.notes.append(f"input {np.dtype(inp['dtype']).name}, scale {inp['quantization'][0]:.6g}, "
                           f"zero point {inp['quantization'][1]}")
    return check
