"""A sliding window over an input, one output position at a time: convolution and pooling.

:func:`explore` pads the input as Keras does, computes every output value, and can say for any
output position which input cells the window covers and the terms that make its value, so a view
can show ``3×1 + 0×2 + ... = 7``. 'conv' is a cross-correlation like Keras ``Conv2D`` (no kernel
flip); 'max' and 'avg' pool each channel like ``MaxPooling2D`` and ``AveragePooling2D``. With
'same' padding Keras pooling ignores the border zeros (they are neither a maximum nor counted in
the mean); with 'full' the zeros are real input (``ZeroPadding2D`` then a 'valid' window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OPS", "PADDINGS", "Exploration", "ExplorerError", "Term", "WindowSettings", "axis_padding",
           "explore", "format_number", "output_length"]

OPS = ("conv", "max", "avg")
PADDINGS = ("valid", "same", "full")
_MAX_SIDE = 64


class ExplorerError(ValueError):
    """Settings or data the explorer cannot show; the message says why in one line."""


@dataclass(frozen=True)
class WindowSettings:
    """Kernel (or pool window) size, stride, padding, dilation and operation, per axis (rows, columns)."""

    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    padding: str = "valid"
    dilation: tuple[int, int] = (1, 1)
    op: str = "conv"

    def __post_init__(self) -> None:
        for name in ("kernel", "stride", "dilation"):
            value = getattr(self, name)
            if (not isinstance(value, tuple) or len(value) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= _MAX_SIDE for v in value)):
                raise ExplorerError(f"{name} must be two whole numbers from 1 to {_MAX_SIDE}, not {value!r}")
        if self.padding not in PADDINGS:
            raise ExplorerError(f"padding must be one of {', '.join(PADDINGS)}, not {self.padding!r}")
        if self.op not in OPS:
            raise ExplorerError(f"the operation must be one of {', '.join(OPS)}, not {self.op!r}")
        if self.op != "conv" and self.dilation != (1, 1):
            raise ExplorerError("pooling windows have no dilation (Keras pooling layers do not take one); use 1")

    @property
    def effective_kernel(self) -> tuple[int, int]:
        """The span a dilated kernel covers: ``d(f - 1) + 1`` per axis."""
        return tuple(d * (f - 1) + 1 for f, d in zip(self.kernel, self.dilation))  # type: ignore[return-value]

    @property
    def keras_accepts(self) -> bool:
        """False where Keras Conv2D refuses the combination (a stride above 1 with a dilation above 1)."""
        return not (max(self.stride) > 1 and max(self.dilation) > 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``kernel_h``, ``kernel_w``, ``stride_h``, ... ``padding``, ``op``."""
        return {"kernel_h": self.kernel[0], "kernel_w": self.kernel[1], "stride_h": self.stride[0],
                "stride_w": self.stride[1], "dilation_h": self.dilation[0], "dilation_w": self.dilation[1],
                "padding": self.padding, "op": self.op}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowSettings:
        """The inverse of :meth:`to_dict`; missing keys take the defaults, unknown keys are refused."""
        known = set(cls().to_dict())
        unknown = sorted(set(data) - known)
        if unknown:
            raise ExplorerError(f"unknown explorer setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        merged = {**cls().to_dict(), **data}
        return cls((merged["kernel_h"], merged["kernel_w"]), (merged["stride_h"], merged["stride_w"]),
                   merged["padding"], (merged["dilation_h"], merged["dilation_w"]), merged["op"])


def output_length(n: int, f: int, s: int, d: int, padding: str) -> int:
    """Output side: ``floor((n + p_before + p_after - f_eff) / s) + 1``; Keras 'same' gives ``ceil(n / s)``."""
    if padding == "same":
        return -(-n // s)
    before, after = axis_padding(n, f, s, d, padding)
    return (n + before + after - (d * (f - 1) + 1)) // s + 1


def axis_padding(n: int, f: int, s: int, d: int, padding: str) -> tuple[int, int]:
    """Zeros before and after the input along one axis.

    'valid' adds none, 'full' adds ``f_eff - 1`` on each side, and 'same' adds what Keras (TensorFlow)
    adds: ``total = max((out - 1) s + f_eff - n, 0)``, ``total // 2`` before and the rest (one more
    when the total is odd) after.
    """
    f_eff = d * (f - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "full":
        return f_eff - 1, f_eff - 1
    if padding == "same":
        total = max((-(-n // s) - 1) * s + f_eff - n, 0)
        return total // 2, total - total // 2
    raise ExplorerError(f"padding must be one of {', '.join(PADDINGS)}, not {padding!r}")


def format_number(x: float) -> str:
    """Short display form: ``3``, ``-0.5``, ``0.0625``, ``1.23e+03``."""
    x = float(x)
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.3g}"


@dataclass(frozen=True)
class Term:
    """One cell under the window: padded coordinates, its value and (for 'conv') the kernel weight."""

    row: int
    col: int
    channel: int
    value: float
    weight: float | None
    is_pad: bool

    def text(self) -> str:
        v = format_number(self.value)
        if self.weight is None:
            return v
        w = format_number(self.weight)
        return f"{v}×({w})" if self.weight < 0 else f"{v}×{w}"


@dataclass(frozen=True)
class Exploration:
    """Everything the explorer shows for one input, kernel and setting.

    ``padded`` is ``(H, W, c)`` with ``pad_mask`` true on the added zeros; ``output`` is ``(oh, ow)``
    for 'conv' and ``(oh, ow, c)`` for pooling. Coordinates are in the padded input.
    """

    settings: WindowSettings
    image: np.ndarray
    kernel: np.ndarray | None
    bias: float
    pad: tuple[int, int, int, int]
    padded: np.ndarray
    pad_mask: np.ndarray
    output: np.ndarray
    positions: list[tuple[int, int]] = field(default_factory=list)

    @property
    def input_size(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])

    @property
    def output_size(self) -> tuple[int, int]:
        return int(self.output.shape[0]), int(self.output.shape[1])

    @property
    def channels(self) -> int:
        return int(self.image.shape[2])

    def window(self, i: int, j: int) -> list[tuple[int, int]]:
        """Padded-input cells ``(row, col)`` under the window of output ``(i, j)``, row by row."""
        oh, ow = self.output_size
        if not (0 <= i < oh and 0 <= j < ow):
            raise ExplorerError(f"output position ({i}, {j}) is outside the {oh}x{ow} output")
        (kh, kw), (sh, sw), (dh, dw) = self.settings.kernel, self.settings.stride, self.settings.dilation
        return [(i * sh + a * dh, j * sw + b * dw) for a in range(kh) for b in range(kw)]

    def window_box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """``(row0, col0, rows, cols)`` of the span the window of ``(i, j)`` covers in the padded input."""
        fh, fw = self.settings.effective_kernel
        return i * self.settings.stride[0], j * self.settings.stride[1], fh, fw

    def terms(self, i: int, j: int, channel: int = 0) -> list[Term]:
        """The cells that make output ``(i, j)``: every channel for 'conv', ``channel`` for pooling.

        Pooling with 'same' padding leaves the border zeros out, as Keras does.
        """
        cells = self.window(i, j)
        if self.settings.op == "conv":
            assert self.kernel is not None
            kw = self.settings.kernel[1]
            return [Term(r, c, ch, float(self.padded[r, c, ch]), float(self.kernel[n // kw, n % kw, ch]),
                         bool(self.pad_mask[r, c]))
                    for ch in range(self.channels) for n, (r, c) in enumerate(cells)]
        skip = self.settings.padding == "same"
        return [Term(r, c, channel, float(self.padded[r, c, channel]), None, bool(self.pad_mask[r, c]))
                for r, c in cells if not (skip and self.pad_mask[r, c])]

    def value(self, i: int, j: int, channel: int = 0) -> float:
        return float(self.output[i, j] if self.output.ndim == 2 else self.output[i, j, channel])

    def sum_text(self, i: int, j: int, channel: int = 0, max_terms: int | None = None) -> str:
        """``3×1 + 0×2 + ... = 7`` (conv), ``max(3, 0, ...) = 3`` or ``(3 + 0 + ...) / 4 = 0.75``."""
        terms = self.terms(i, j, channel)
        shown = terms if max_terms is None or len(terms) <= max_terms else terms[:max_terms]
        more = f" + … ({len(terms) - len(shown)} more)" if len(shown) < len(terms) else ""
        result = format_number(self.value(i, j, channel))
        op = self.settings.op
        if op == "conv":
            text = " + ".join(t.text() for t in shown) + more
            if self.bias:
                text += f" + {format_number(self.bias)} (bias)"
            return f"{text} = {result}"
        inner = ", ".join(t.text() for t in shown) if op == "max" else " + ".join(t.text() for t in shown)
        tail = (f", … {len(terms) - len(shown)} more" if op == "max" else more) if more else ""
        if op == "max":
            return f"max({inner}{tail}) = {result}"
        return f"({inner}{tail}) / {len(terms)} = {result}"


def _as_image(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1 or x.shape[2] < 1:
        raise ExplorerError(f"the input must be a grid (h, w) or an image (h, w, channels), not shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ExplorerError("the input holds values that are not finite numbers")
    return x


def _as_kernel(kernel: np.ndarray | None, settings: WindowSettings, channels: int) -> np.ndarray | None:
    if settings.op != "conv":
        return None
    if kernel is None:
        raise ExplorerError("a convolution needs a kernel")
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        k = np.repeat(k[:, :, None], channels, axis=2)
    if k.ndim != 3 or k.shape[:2] != settings.kernel:
        raise ExplorerError(f"the kernel is shaped {k.shape[:2]} but the settings say "
                            f"{settings.kernel[0]}x{settings.kernel[1]}")
    if k.shape[2] != channels:
        raise ExplorerError(f"the kernel has {k.shape[2]} input channel(s) but the input has {channels}")
    if not np.all(np.isfinite(k)):
        raise ExplorerError("the kernel holds values that are not finite numbers")
    return k


def explore(image: np.ndarray, kernel: np.ndarray | None = None, settings: WindowSettings | None = None,
            bias: float = 0.0) -> Exploration:
    """Pad ``image`` and slide the window over it; raises :class:`ExplorerError` when it cannot.

    ``image`` is ``(h, w)`` or ``(h, w, c)``; ``kernel`` is ``(kh, kw)`` (the same on every channel)
    or ``(kh, kw, c)`` and is needed for 'conv' only.
    """
    settings = settings or WindowSettings()
    x = _as_image(image)
    k = _as_kernel(kernel, settings, x.shape[2])
    h, w, _ = x.shape
    top, bottom = axis_padding(h, settings.kernel[0], settings.stride[0], settings.dilation[0], settings.padding)
    left, right = axis_padding(w, settings.kernel[1], settings.stride[1], settings.dilation[1], settings.padding)
    oh = output_length(h, settings.kernel[0], settings.stride[0], settings.dilation[0], settings.padding)
    ow = output_length(w, settings.kernel[1], settings.stride[1], settings.dilation[1], settings.padding)
    if oh < 1 or ow < 1:
        fh, fw = settings.effective_kernel
        raise ExplorerError(f"the {fh}x{fw} window does not fit the {h}x{w} input with padding "
                            f"'{settings.padding}'; use a smaller kernel or padding 'same'")
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    mask = np.ones(padded.shape[:2], dtype=bool)
    mask[top:top + h, left:left + w] = False
    output = _compute(padded, mask, k, settings, (oh, ow)) + (bias if settings.op == "conv" else 0.0)
    positions = [(i, j) for i in range(oh) for j in range(ow)]
    return Exploration(settings, x, k, float(bias), (top, bottom, left, right), padded, mask, output, positions)


def _compute(padded: np.ndarray, mask: np.ndarray, kernel: np.ndarray | None, s: WindowSettings,
             out: tuple[int, int]) -> np.ndarray:
    """Every output value at once: one strided slice of the padded input per kernel offset."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = s.kernel, s.stride, s.dilation, out

    def at(a: int, b: int, arr: np.ndarray) -> np.ndarray:
        r, c = a * dh, b * dw
        return arr[r:r + (oh - 1) * sh + 1:sh, c:c + (ow - 1) * sw + 1:sw]

    if s.op == "conv":
        assert kernel is not None
        total = np.zeros((oh, ow))
        for a in range(kh):
            for b in range(kw):
                total += at(a, b, padded) @ kernel[a, b]
        return total
    stack = np.stack([at(a, b, padded) for a in range(kh) for b in range(kw)])
    if s.padding == "same":  # Keras pooling ignores the border zeros
        hidden = np.stack([at(a, b, mask) for a in range(kh) for b in range(kw)])[..., None]
        stack = np.where(hidden, np.nan, stack)
        return np.nanmax(stack, axis=0) if s.op == "max" else np.nanmean(stack, axis=0)
    return stack.max(axis=0) if s.op == "max" else stack.mean(axis=0)
