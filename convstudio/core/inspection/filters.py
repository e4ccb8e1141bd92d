"""Hand-designed kernels (Sobel, Kirsch, Gaussian) and how to load them into a Conv2D block.

Kernels are 2-D float32 arrays used as Keras uses them: a cross-correlation (no kernel flip), as
:func:`correlate2d` computes in plain numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

__all__ = [
    "KERNEL_INITS",
    "conv_kernel_array",
    "correlate2d",
    "gaussian_kernel",
    "hand_designed_kernels",
    "kernel_bank",
    "kirsch_kernels",
    "set_conv_kernels",
    "sobel_horizontal",
    "sobel_vertical",
]


def sobel_horizontal() -> np.ndarray:
    """Sobel kernel for horizontal edges: responds to brightness changing from top to bottom."""
    return np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32)


def sobel_vertical() -> np.ndarray:
    """Sobel kernel for vertical edges: responds to brightness changing from left to right."""
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)


_RING = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]  # clockwise from top-left
KIRSCH_DIRECTIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def kirsch_kernels() -> dict[str, np.ndarray]:
    """The eight Kirsch compass kernels, keyed N, NE, E, SE, S, SW, W, NW.

    Each has three 5s facing its direction and -3 on the rest of the ring; the next direction is
    the ring turned 45 degrees clockwise.
    """
    ring = [5, 5, 5, -3, -3, -3, -3, -3]  # N: the top row is 5
    kernels = {}
    for turn, name in enumerate(KIRSCH_DIRECTIONS):
        k = np.zeros((3, 3), dtype=np.float32)
        for i, (r, c) in enumerate(_RING):
            k[r, c] = ring[(i - turn) % 8]
        kernels[name] = k
    return kernels


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A ``size`` x ``size`` Gaussian blur kernel with standard deviation ``sigma``, summing to 1."""
    if int(size) != size or size < 1:
        raise ValueError(f"the Gaussian size must be a positive whole number, not {size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, not {sigma!r}")
    r = (np.arange(int(size), dtype=np.float64) - (size - 1) / 2.0)
    g = np.exp(-(r ** 2) / (2.0 * sigma ** 2))
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


def hand_designed_kernels(size: int = 3) -> dict[str, np.ndarray]:
    """Every named hand-designed kernel of the given size (Sobel and Kirsch are 3x3 only)."""
    kernels: dict[str, np.ndarray] = {}
    if size == 3:
        kernels["Sobel horizontal edges"] = sobel_horizontal()
        kernels["Sobel vertical edges"] = sobel_vertical()
        kernels.update({f"Kirsch {d}": k for d, k in kirsch_kernels().items()})
    kernels[f"Gaussian blur (sigma {size / 3:.2g})"] = gaussian_kernel(size, size / 3)
    return kernels


KERNEL_INITS = ("learned", "sobel", "kirsch", "gaussian")
"""Values of a Conv2D block's ``kernel_init``: random (learned) or a classic hand-designed bank."""


def kernel_bank(init: str, kernel_h: int, kernel_w: int) -> list[np.ndarray]:
    """The 2-D kernels a Conv2D block's ``kernel_init`` names, cycled over its filters.

    'sobel': horizontal then vertical edges; 'kirsch': the eight compass kernels N to NW (both 3x3
    only); 'gaussian': one blur kernel, sigma a quarter of each side, summing to 1.
    """
    if init == "sobel" or init == "kirsch":
        if (kernel_h, kernel_w) != (3, 3):
            raise ValueError(f"{init.capitalize()} kernels are 3x3, not {kernel_h}x{kernel_w}")
        return [sobel_horizontal(), sobel_vertical()] if init == "sobel" else list(kirsch_kernels().values())
    if init == "gaussian":
        rows = gaussian_kernel(kernel_h, kernel_h / 4).sum(axis=1)
        cols = gaussian_kernel(kernel_w, kernel_w / 4).sum(axis=0)
        return [np.outer(rows, cols).astype(np.float32)]
    raise ValueError(f"no hand-designed kernels called {init!r}; choose one of {', '.join(KERNEL_INITS[1:])}")


def conv_kernel_array(init: str, kernel_h: int, kernel_w: int, in_channels: int, filters: int,
                      broadcast: bool = False) -> np.ndarray:
    """A Conv2D kernel ``(kh, kw, c_in, filters)`` made of :func:`kernel_bank`, as :func:`set_conv_kernels` does.

    Filter ``j`` is kernel ``j % len(bank)`` divided by ``in_channels`` on every input channel.
    With ``broadcast`` the input-channel axis has size 1 (Keras' ``Constant`` initializer repeats it).
    """
    bank = kernel_bank(init, kernel_h, kernel_w)
    one = np.stack([bank[j % len(bank)] for j in range(filters)], axis=-1)[:, :, None, :] / in_channels
    one = one.astype(np.float32)
    return one if broadcast else np.repeat(one, in_channels, axis=2)


def correlate2d(image: np.ndarray, kernel: np.ndarray, stride: tuple[int, int] = (1, 1),
                padding: str = "valid") -> np.ndarray:
    """2-D cross-correlation as a Conv2D computes it, in numpy (float64).

    ``padding`` is 'valid', 'same' (Keras/TensorFlow: the extra zero goes after) or 'full'.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    (h, w), (kh, kw), (sh, sw) = image.shape, kernel.shape, stride
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        pads = ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
    elif padding == "full":
        pads = ((kh - 1, kh - 1), (kw - 1, kw - 1))
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    else:
        raise ValueError(f"padding must be valid, same or full, not {padding!r}")
    x = np.pad(image, pads)
    oh, ow = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * x[i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw]
    return out


def set_conv_kernels(model: keras.Model, block_id: str, kernels: Sequence[np.ndarray] | np.ndarray,
                     freeze: bool = False, zero_bias: bool = True) -> None:
    """Load 2-D kernels into the Conv2D layer named ``block_id``.

    Filter ``j`` gets ``kernels[j % len(kernels)]`` (cycling when there are more filters than
    kernels). With several input channels each filter applies the same 2-D kernel to every channel,
    divided by the channel count, so it sees the channels' mean. ``zero_bias`` sets the bias to 0.
    ``freeze`` sets ``layer.trainable = False``; Keras only honours that after the model is
    compiled again, so compile before training.
    """
    import keras

    try:
        layer = model.get_layer(block_id)
    except ValueError:
        raise ValueError(f"the model has no block {block_id!r}") from None
    if not isinstance(layer, keras.layers.Conv2D):
        raise ValueError(f"{block_id} is a {type(layer).__name__}, not a Conv2D; kernels can only be set on Conv2D")
    bank = np.asarray(kernels, dtype=np.float32)
    if bank.ndim == 2:
        bank = bank[None]
    if bank.ndim != 3 or len(bank) == 0:
        raise ValueError("kernels must be one 2-D kernel or a list of 2-D kernels of one size")
    weights = layer.get_weights()
    kh, kw, c_in, c_out = weights[0].shape
    if bank.shape[1:] != (kh, kw):
        raise ValueError(f"{block_id} has {kh}x{kw} kernels but the given kernels are "
                         f"{bank.shape[1]}x{bank.shape[2]}; set its kernel size to match")
    new = np.empty((kh, kw, c_in, c_out), dtype=np.float32)
    for j in range(c_out):
        new[:, :, :, j] = (bank[j % len(bank)] / c_in)[:, :, None]
    weights[0] = new
    if zero_bias and len(weights) > 1:
        weights[1] = np.zeros_like(weights[1])
    layer.set_weights(weights)
    if freeze:
        layer.trainable = False
