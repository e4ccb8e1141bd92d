"""Decoding and resizing one image file inside tf.data: the same pixels in memory and when streamed.

Files TensorFlow decodes (PNG, JPEG, GIF, 24/32-bit BMP) stay in the graph; palette BMPs, which it
reads wrongly or not at all, go through Pillow. Channels are converted (grey to RGB by repeating,
RGB to grey by luminance, alpha dropped), then the image is fitted to the chosen size by plain
stretching, a centre crop, or zero padding to the target aspect ratio followed by a bilinear resize
(``keras.utils.image_dataset_from_directory``'s ``crop_to_aspect_ratio`` and ``pad_to_aspect_ratio``).
Images stay uint8 so a cache holds a quarter of what float32 would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RESIZE_MODES", "ImageSpec", "decode_function", "pil_decode"]

RESIZE_MODES = ("stretch", "crop", "pad")


@dataclass(frozen=True)
class ImageSpec:
    """What every image becomes: ``height`` x ``width`` x ``channels`` (1 or 3), fitted by ``resize``."""

    height: int
    width: int
    channels: int
    resize: str = "stretch"

    def __post_init__(self) -> None:
        for name in ("height", "width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 4096:
                raise ValueError(f"The image {name} must be a whole number from 1 to 4096, got {v!r}.")
        if self.channels not in (1, 3):
            raise ValueError(f"Images can have 1 (grey) or 3 (RGB) channels, not {self.channels!r}.")
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"Resize by {', '.join(RESIZE_MODES)}, not {self.resize!r}.")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.height), int(self.width), int(self.channels))


def pil_decode(path: Any) -> np.ndarray:
    """An image file as uint8 RGB ``(h, w, 3)`` through Pillow (for files TensorFlow cannot decode)."""
    from PIL import Image

    name = path.numpy().decode() if hasattr(path, "numpy") else str(path)
    with Image.open(name) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as Pillow's convert("L"); the weights sum to 1


def _grey(img: Any) -> Any:
    """RGB to one channel by luminance, as float32 (a grey image repeated to RGB comes back unchanged)."""
    import tensorflow as tf

    return tf.tensordot(tf.cast(img, tf.float32), tf.constant(_LUMA, tf.float32), axes=[[2], [0]])[..., None]


def _to_aspect(img: Any, spec: ImageSpec) -> Any:
    """Centre-crop or zero-pad ``img`` to the target aspect ratio (unchanged for ``stretch``)."""
    import tensorflow as tf

    if spec.resize == "stretch":
        return img
    shape = tf.shape(img)
    h, w = shape[0], shape[1]
    # the height for this width, and the width for this height, at the target ratio
    h_for_w = tf.cast(tf.round(tf.cast(w, tf.float32) * spec.height / spec.width), tf.int32)
    w_for_h = tf.cast(tf.round(tf.cast(h, tf.float32) * spec.width / spec.height), tf.int32)
    if spec.resize == "crop":
        ch, cw = tf.maximum(tf.minimum(h, h_for_w), 1), tf.maximum(tf.minimum(w, w_for_h), 1)
        top, left = (h - ch) // 2, (w - cw) // 2
        return img[top:top + ch, left:left + cw]
    ph, pw = tf.maximum(h, h_for_w), tf.maximum(w, w_for_h)
    top, left = (ph - h) // 2, (pw - w) // 2
    return tf.pad(img, [[top, ph - h - top], [left, pw - w - left], [0, 0]])


def _fit(img: Any, spec: ImageSpec) -> Any:
    """Channels, aspect and size; no branches, so the graph stays cheap per image.

    A bilinear resize to the image's own size returns the same pixels, so images already at the
    target size pass through unchanged.
    """
    import tensorflow as tf

    if spec.channels == 1:
        img = _grey(img)
    img = _to_aspect(img, spec)
    x = tf.image.resize(img, (spec.height, spec.width), method="bilinear")
    out = tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)
    out.set_shape(spec.shape)
    return out


def decode_function(spec: ImageSpec, with_pillow: bool) -> Callable[..., tuple[Any, Any, Any]]:
    """``(path, label, index, native) -> (uint8 image, label, index)`` for ``Dataset.map``.

    ``with_pillow``: some files are not ``native`` (decoded by Pillow); otherwise the graph has no
    Python call at all. A damaged file raises inside the map; the pipeline drops it (``ignore_errors``).
    """
    import tensorflow as tf

    def tf_decode(path: Any) -> Any:
        # TensorFlow's decoders turn grey, palette and alpha images into RGB (alpha dropped)
        return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)

    def pillow(path: Any) -> Any:
        img = tf.py_function(pil_decode, [path], tf.uint8)
        img.set_shape((None, None, 3))
        return img

    @tf.autograph.experimental.do_not_convert
    def decode(path: Any, label: Any, index: Any, native: Any) -> tuple[Any, Any, Any]:
        if with_pillow:
            img = tf.cond(native, lambda: tf_decode(path), lambda: pillow(path))
        else:
            img = tf_decode(path)
        img.set_shape((None, None, 3))
        return _fit(img, spec), label, index

    return decode
