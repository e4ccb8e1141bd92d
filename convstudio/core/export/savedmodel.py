"""TensorFlow SavedModel with a ``serve`` signature that takes raw uint8 images of the model's input
shape and normalises inside."""

from __future__ import annotations

from pathlib import Path

from ..pipeline import normalize
from .verify import Check, ExportContext

__all__ = ["write", "verify", "SIGNATURE"]

SIGNATURE = "serve"
"""Raw images uint8 in (``(n, h, w)`` for a grey model, ``(n, h, w, c)`` for colour), class probabilities
``(n, classes)`` out."""

FLOAT_SIGNATURE = "serve_float"
"""Images already scaled to 0..1, ``(n, h, w, c)`` float32, as the Keras model takes them."""


def write(ctx: ExportContext, path: Path) -> None:
    import keras
    import tensorflow as tf

    model = ctx.model
    h, w, c = ctx.input_shape
    raw_shape = (None, h, w) if c == 1 else (None, h, w, c)

    def serve(images):
        x = tf.cast(images, tf.float32) / 255.0  # the same scaling as ConvStudio's training
        x = tf.reshape(x, (-1, h, w, c))
        return {"probabilities": model(x, training=False)}

    def serve_float(images):
        return {"probabilities": model(images, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE, serve, input_signature=[tf.TensorSpec(raw_shape, tf.uint8, name="images")])
    archive.add_endpoint(FLOAT_SIGNATURE, serve_float,
                         input_signature=[tf.TensorSpec((None, h, w, c), tf.float32, name="images")])
    archive.write_out(str(path), verbose=False)


def verify(ctx: ExportContext, path: Path) -> Check:
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    raw = loaded.signatures[SIGNATURE](images=tf.constant(ctx.images))["probabilities"].numpy()
    check = ctx.check(raw)
    scaled = loaded.signatures[FLOAT_SIGNATURE](images=tf.constant(normalize(ctx.images)))["probabilities"].numpy()
    check.max_abs_diff = max(check.max_abs_diff, float(np.max(np.abs(scaled - ctx.reference))))
    check.notes.append(f"signatures: '{SIGNATURE}' (uint8 images) and '{FLOAT_SIGNATURE}' (floats in 0..1)")
    return check
