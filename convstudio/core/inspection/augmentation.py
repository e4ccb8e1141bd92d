"""What the network's augmentation blocks do to one sample.

Augmentation blocks (RandomFlip, RandomRotation, ...) change the images only while training. The
preview runs the network's leading preprocessing blocks (augmentation, Rescaling and Resizing, from
the Input block up to the first other block) on copies of one sample with ``training=True``. Each
random block is seeded from ``seed``: the same seed gives the same variants, another seed new ones.
The layers are made afresh from the blocks' specs; augmentation layers have no weights, so a
trained model's would do the same, and an untrained or unfinished network can be previewed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..blocks import KerasLayer, Shape
from ..blocks.preprocess import CATEGORY as PREPROCESSING
from ..blocks.preprocess import VALUE_RANGE
from ..network import Network
from ..shapes import network_input_shape
from .activations import prepare_images

if TYPE_CHECKING:
    import keras

__all__ = ["AugmentationChain", "AugmentationPreview", "AugmentationStep", "augment_sample", "augmentation_chain"]


@dataclass(frozen=True)
class AugmentationStep:
    """One preprocessing block the sample passes through."""

    block_id: str
    kind: str
    summary: str
    """The block's one-line settings, as on the canvas (e.g. ``horizontal``, ``±18°``)."""
    random: bool
    """True for an augmentation (active only while training); False for Rescaling and Resizing."""

    def describe(self) -> str:
        return f"{self.kind} ({self.summary})" if self.summary else self.kind


@dataclass(frozen=True)
class AugmentationChain:
    """The preprocessing blocks straight after the Input block, and augmentation blocks found elsewhere."""

    steps: tuple[AugmentationStep, ...]
    """From the Input block up to (not including) the first other block or fork, in order."""
    later: tuple[str, ...]
    """Augmentation blocks after some other block: they change feature maps, not images, and are
    not previewed."""
    warnings: tuple[str, ...] = ()
    """What in the chain works against its purpose (a RandomContrast that clips a rescaled range)."""

    @property
    def augments(self) -> bool:
        """Whether the chain holds at least one augmentation block."""
        return any(step.random for step in self.steps)

    def describe(self) -> str:
        """``RandomFlip (horizontal), RandomRotation (±18°)``."""
        return ", ".join(step.describe() for step in self.steps)


@dataclass(frozen=True)
class AugmentationPreview:
    """A sample and what training's augmentation makes of it.

    Images are uint8 in the sample's convention, ``(h, w)`` grey or ``(h, w, 3)`` colour, on its 0..255
    scale (a Rescaling's new value range is mapped back, so black stays black).
    """

    original: np.ndarray
    """The sample as the network sees it at inference (after Rescaling and Resizing, no augmentation)."""
    variants: tuple[np.ndarray, ...]
    """The sample as training sees it, one draw each."""
    steps: tuple[AugmentationStep, ...]
    seed: int


def augmentation_chain(network: Network) -> AugmentationChain:
    """The leading preprocessing blocks of ``network`` (no TensorFlow needed)."""
    steps: list[AugmentationStep] = []
    warnings: list[str] = []
    value_range = VALUE_RANGE  # where black and white are, followed through the Rescaling blocks
    inputs = network.input_blocks()
    current = inputs[0] if inputs else None
    while current is not None:
        following = network.outputs_of(current)
        block = network.blocks[following[0]] if len(following) == 1 else None
        if block is None or block.spec.category != PREPROCESSING:
            break
        steps.append(AugmentationStep(block.id, block.kind, block.spec.summary(block.params), block.spec.augments))
        if block.kind == "Rescaling":
            ends = [v * block.params["scale"] + block.params["offset"] for v in value_range]
            value_range = (min(ends), max(ends))
        elif block.kind == "RandomContrast" and value_range != VALUE_RANGE:
            warnings.append(f"{block.id} clips pixels to 0..1 but gets {value_range[0]:g}..{value_range[1]:g} "
                            "from the Rescaling before it: put it before the Rescaling.")
        current = block.id
    chained = {step.block_id for step in steps}
    later = tuple(block.id for block in network if block.spec.augments and block.id not in chained)
    return AugmentationChain(tuple(steps), later, tuple(warnings))


def augment_sample(network: Network, image: np.ndarray, count: int = 8, seed: int = 0) -> AugmentationPreview | None:
    """``count`` variants of the uint8 ``image`` made by the network's leading augmentation blocks.

    None when the network has no augmentation block straight after its Input block (or after
    Rescaling or Resizing there). The same ``seed`` gives the same variants.
    """
    chain = augmentation_chain(network)
    if not chain.augments:
        return None
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 sample (0..255), got {image.dtype}")
    shape = network_input_shape(network)
    layers = _chain_layers(network, chain.steps, shape, seed)
    channels = int(shape[-1])
    x = prepare_images(image, channels)
    if x.shape[0] != 1:
        raise ValueError(f"expected one image, got a batch of {x.shape[0]}")
    variants = _run(layers, np.repeat(x, count, axis=0), training=True)
    black = prepare_images(np.zeros_like(image), channels)
    white = prepare_images(np.full_like(image, 255), channels)
    reference = _run(layers, np.concatenate([black, white, x]), training=False)
    lo, hi = reference[0, 0, 0], reference[1, 0, 0]  # where black and white end up, per channel
    return AugmentationPreview(_as_sample(reference[2], lo, hi), tuple(_as_sample(v, lo, hi) for v in variants),
                               chain.steps, seed)


def _chain_layers(network: Network, steps: tuple[AugmentationStep, ...], shape: Shape,
                  seed: int) -> list[keras.layers.Layer]:
    """Fresh Keras layers for ``steps``, each random one with its own seed drawn from ``seed``."""
    seeds = np.random.SeedSequence(seed).generate_state(len(steps))
    layers = []
    for step, step_seed in zip(steps, seeds):
        block = network.blocks[step.block_id]
        for layer in block.spec.layers(block.params, [shape]):
            config = {**layer.config, "seed": int(step_seed) % 2**31} if step.random else layer.config
            layers.append(KerasLayer(layer.cls, config, layer.suffix).build(step.block_id))
        shape = block.spec.infer(block.params, [shape]).shape
    return layers


def _run(layers: list[keras.layers.Layer], x: np.ndarray, training: bool) -> np.ndarray:
    import keras

    for layer in layers:
        x = layer(x, training=training)
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


def _as_sample(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Network values ``(h, w, c)`` back on the sample's 0..255 scale: ``lo`` black, ``hi`` white."""
    span = hi - lo
    flat = np.abs(span) < 1e-12
    norm = np.where(flat, 0.5, (y - lo) / np.where(flat, 1.0, span))
    out = np.clip(np.rint(np.nan_to_num(norm, nan=0.5) * 255.0), 0, 255).astype(np.uint8)
    return out[..., 0] if out.shape[-1] == 1 else out
