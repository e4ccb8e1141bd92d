"""First-layer filters of a colour network as colour pictures, and which colour each prefers.

A first-layer kernel ``(kh, kw, 3, filters)`` looks straight at the RGB pixels, so each filter can
be shown as a small colour image: its weights min-max normalised per filter (the filter's most
positive weight is full brightness in its channel). Beside it, each channel's weights as a
diverging map (divided by the filter's largest absolute weight, so -1..1 share one scale). The
mean weight per channel says what the filter responds to: the channel with the clearly highest
mean is its preferred colour ("prefers red"); when the means are close the filter responds to
brightness or edges, not colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CHANNEL_NAMES", "ColourFilter", "colour_filters", "preferred_colour"]

CHANNEL_NAMES = ("red", "green", "blue")

PREFERENCE_MARGIN = 0.25
"""How far (as a fraction of the filter's mean absolute weight) the top channel's mean must lead
the next one for the filter to prefer that colour."""


@dataclass(frozen=True)
class ColourFilter:
    """One first-layer filter of a colour network, ready to show."""

    image: np.ndarray
    """``(kh, kw, 3)`` float32 in [0, 1]: the weights min-max normalised over the whole filter."""
    channels: np.ndarray
    """``(3, kh, kw)`` float32 in [-1, 1]: each channel's weights over the filter's largest |weight|."""
    means: tuple[float, float, float]
    """Mean weight per channel (red, green, blue)."""
    prefers: str | None
    """The preferred colour's name, or None when no channel clearly leads."""

    @property
    def label(self) -> str:
        return f"prefers {self.prefers}" if self.prefers else "no colour preference"


def preferred_colour(means: np.ndarray | tuple[float, ...], scale: float) -> str | None:
    """The channel whose mean weight leads the others by ``PREFERENCE_MARGIN * scale``, or None."""
    m = np.asarray(means, dtype=np.float64)
    order = np.argsort(m)[::-1]
    if scale <= 0 or m[order[0]] - m[order[1]] < PREFERENCE_MARGIN * scale:
        return None
    return CHANNEL_NAMES[int(order[0])]


def colour_filters(kernel: np.ndarray) -> list[ColourFilter]:
    """Each filter of an RGB first-layer ``kernel`` ``(kh, kw, 3, filters)`` as a :class:`ColourFilter`.

    Raises ``ValueError`` for a kernel that does not look at three colour channels.
    """
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 4 or k.shape[2] != 3:
        raise ValueError(f"colour filters need a kernel (height, width, 3, filters), got shape {k.shape}")
    result = []
    for f in range(k.shape[3]):
        w = k[:, :, :, f]
        lo, hi = float(w.min()), float(w.max())
        image = (w - lo) / (hi - lo) if hi > lo else np.full_like(w, 0.5)
        peak = float(np.abs(w).max())
        channels = np.moveaxis(w / peak if peak > 0 else w, -1, 0)
        means = tuple(float(v) for v in w.mean(axis=(0, 1)))
        result.append(ColourFilter(image.astype(np.float32), channels.astype(np.float32), means,  # type: ignore[arg-type]
                                   preferred_colour(means, float(np.abs(w).mean()))))
    return result
