"""The glossary: short, plain definitions of the concepts the app shows, as data the UI searches.

Each entry has a key (used in ``glossary:<key>`` links), a title, a definition and the block kinds
and parameters it explains, so the inspector and block tooltips can point to the right entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blocks.conv import CONV2D
from .blocks.dense import DENSE, FLATTEN
from .blocks.elementwise import ACTIVATION, BATCH_NORM, DROPOUT, LEAKY_RELU
from .blocks.merge import ADD, CONCATENATE
from .blocks.pooling import AVG_POOL, GLOBAL_AVG_POOL, GLOBAL_MAX_POOL, MAX_POOL
from .blocks.preprocess import (
    RANDOM_CONTRAST,
    RANDOM_FLIP,
    RANDOM_ROTATION,
    RANDOM_TRANSLATION,
    RANDOM_ZOOM,
    RESCALING,
    RESIZING,
)
from .blocks.source import INPUT

__all__ = ["GLOSSARY", "Term", "search", "term", "terms_for"]


@dataclass(frozen=True)
class Term:
    """One glossary entry; ``kinds`` and ``params`` name the blocks and parameters it explains."""

    key: str
    title: str
    text: str
    kinds: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()


_TERMS = (
    Term("convolution", "Convolution",
         "A small grid of weights (the kernel or filter) slides over the input; at each position it "
         "multiplies the values under it by its weights and adds them up. One filter gives one feature map; "
         "a Conv2D block with 32 filters gives 32 feature maps.",
         kinds=(CONV2D.kind,), params=("filters",), see_also=("kernel", "feature_map", "stride", "padding")),
    Term("kernel", "Kernel (filter)",
         "The grid of weights a convolution slides over its input, e.g. 3x3. It spans every input channel, "
         "so a 3x3 kernel on 8 channels has 3*3*8 weights plus one bias.",
         params=("kernel_h", "kernel_w", "kernel_init"), see_also=("convolution", "parameters")),
    Term("stride", "Stride",
         "How many pixels a kernel or pooling window moves between two positions. Stride 2 halves the height "
         "and width of the output and skips every other position.",
         params=("stride_h", "stride_w"), see_also=("output_size", "pooling")),
    Term("padding", "Padding (valid, same, full)",
         "What happens at the border. valid: no padding, the window stays inside the input, so the output "
         "shrinks by kernel-1. same: zeros around the input so that with stride 1 the output keeps the input's "
         "size. full: kernel-1 zeros on every side, so every position where the window touches the input at "
         "all gives an output, and the output grows by kernel-1.",
         params=("padding",), see_also=("output_size", "stride")),
    Term("output_size", "Output size formula",
         "For one axis with input size n, kernel k, stride s and padding p on each side: "
         "out = floor((n + 2p - k) / s) + 1. valid is p = 0; full is p = k - 1; same gives ceil(n / s). "
         "Example: 28 pixels, 5x5 kernel, stride 1, valid: (28 - 5) / 1 + 1 = 24.",
         params=("padding", "stride_h", "stride_w", "kernel_h", "kernel_w", "pool_h", "pool_w"),
         see_also=("padding", "stride")),
    Term("parameters", "Parameters",
         "The numbers training adjusts: weights and biases. A Conv2D has (kh*kw*in_channels + 1)*filters, "
         "a Dense (inputs + 1)*units. Pooling, Flatten and Dropout have none. Non-trainable parameters "
         "(e.g. batch normalisation's moving averages) are stored but not trained.",
         params=("use_bias", "trainable", "units"), see_also=("overfitting",)),
    Term("receptive_field", "Receptive field",
         "The region of the input image that can influence one unit of a layer. It grows with every "
         "convolution and pooling, faster with stride: deeper units see larger parts of the image.",
         kinds=(CONV2D.kind, MAX_POOL.kind, AVG_POOL.kind), see_also=("stride", "feature_map")),
    Term("feature_map", "Feature map",
         "The output of one filter over the whole input: a 2-D grid that is bright where the filter's "
         "pattern is present. A layer's output is a stack of feature maps, one per channel.",
         see_also=("convolution", "activation")),
    Term("activation", "Activation function",
         "A function applied to each value after a layer, which lets the network learn non-linear things. "
         "relu keeps positives and zeroes negatives; sigmoid and tanh squash values; softmax gives "
         "probabilities.",
         kinds=(ACTIVATION.kind,), params=("activation", "function"), see_also=("softmax",)),
    Term("pooling", "Pooling",
         "Summarises each small window of a feature map by its maximum (max pooling) or mean (average "
         "pooling), shrinking the map and making it less sensitive to small shifts. Global pooling takes one "
         "value per channel over the whole map.",
         kinds=(MAX_POOL.kind, AVG_POOL.kind, GLOBAL_AVG_POOL.kind, GLOBAL_MAX_POOL.kind), params=("pool_h", "pool_w"),
         see_also=("stride",)),
    Term("flatten", "Flatten",
         "Turns a height x width x channels stack into one long vector so Dense layers can use it.",
         kinds=(FLATTEN.kind,), see_also=("dense",)),
    Term("dense", "Dense (fully connected) layer",
         "Every output unit is connected to every input value by its own weight. The last Dense layer has one "
         "unit per class.",
         kinds=(DENSE.kind,), params=("units",), see_also=("parameters", "softmax")),
    Term("dropout", "Dropout",
         "During training, sets a random fraction (the rate) of its inputs to zero at each step, so the "
         "network cannot rely on any single unit. It does nothing at prediction time. Helps against "
         "overfitting.",
         kinds=(DROPOUT.kind,), params=("rate",), see_also=("overfitting",)),
    Term("batch_norm", "Batch normalisation",
         "Rescales each channel to zero mean and unit variance using the current batch's statistics while "
         "training (and moving averages of them when predicting), then applies a learned scale and shift. "
         "Makes training faster and steadier.",
         kinds=(BATCH_NORM.kind,), params=("momentum", "epsilon"), see_also=("batch",)),
    Term("softmax", "Softmax",
         "Turns the last layer's scores into probabilities that are positive and add up to 1; the "
         "predicted class is the one with the highest probability.",
         params=("activation", "function"), see_also=("cross_entropy",)),
    Term("cross_entropy", "Cross-entropy loss",
         "The number training makes smaller: minus the log of the probability the network gave the right "
         "class. 0 when it is sure and right; large when it is sure and wrong.",
         see_also=("softmax", "learning_rate")),
    Term("learning_rate", "Learning rate",
         "How big a step the optimiser takes along the gradient after each batch. Too high: the loss jumps "
         "around or becomes NaN. Too low: training crawls.",
         see_also=("batch", "epoch")),
    Term("epoch", "Epoch",
         "One pass over the whole training set. Curves are drawn per epoch on the validation data.",
         see_also=("batch", "overfitting")),
    Term("batch", "Batch",
         "The handful of images (e.g. 64) used for one training step: the gradient is averaged over the "
         "batch, then the weights are updated once.",
         see_also=("epoch", "learning_rate")),
    Term("overfitting", "Overfitting",
         "The network learns the training images by heart instead of the pattern: training accuracy keeps "
         "rising while validation accuracy stalls or falls. Remedies: more data, augmentation, dropout, a "
         "smaller network, early stopping.",
         see_also=("dropout", "epoch")),
    Term("skip_connection", "Skip (residual) connection",
         "A path that carries a block's input around some layers and adds it to their output (an Add "
         "block). Lets very deep networks (ResNet) train, since the layers only learn a correction.",
         kinds=(ADD.kind,), see_also=("inception",)),
    Term("inception", "Inception module",
         "Parallel branches with different kernel sizes (1x1, 3x3, 5x5, pooling) over the same input, whose "
         "outputs are stacked along the channels (a Concatenate block), so the network can pick the scale.",
         kinds=(CONCATENATE.kind,), see_also=("skip_connection",)),
    Term("grad_cam", "Grad-CAM",
         "A heat map of where the network looked for its prediction: the last convolution's feature maps "
         "weighted by how much the predicted class's score changes with each of them.",
         see_also=("feature_map",)),
    Term("input", "Input image",
         "The images fed to the network, as height x width x channels: 28x28x1 for MNIST, 32x32x3 for a small "
         "colour photo. Every shape and parameter count downstream follows from it.",
         kinds=(INPUT.kind,), params=("height", "width", "channels"), see_also=("parameters",)),
    Term("leaky_relu", "Leaky ReLU",
         "Like ReLU, but a negative input is multiplied by a small slope instead of becoming 0, so a unit "
         "whose inputs are negative still passes a gradient and cannot die.",
         kinds=(LEAKY_RELU.kind,), params=("negative_slope",), see_also=("activation",)),
    Term("augmentation", "Data augmentation",
         "Random flips, shifts, rotations, zooms and contrast changes applied to the training images only, "
         "so the network sees more variety and overfits less; at test time these blocks pass images through.",
         kinds=(RANDOM_FLIP.kind, RANDOM_TRANSLATION.kind, RANDOM_ROTATION.kind, RANDOM_ZOOM.kind,
                RANDOM_CONTRAST.kind),
         params=("mode", "factor", "height_factor", "width_factor", "fill_mode"), see_also=("overfitting",)),
    Term("preprocessing", "Rescaling and resizing",
         "Rescaling multiplies every pixel by a scale and adds an offset (e.g. 1/255 to map 0..255 to 0..1); "
         "resizing changes the image's height and width before the first convolution.",
         kinds=(RESCALING.kind, RESIZING.kind), params=("scale", "offset", "interpolation"),
         see_also=("input",)),
    Term("confusion_matrix", "Confusion matrix",
         "A table counting, for each true class (row), how often each class was predicted (column). The "
         "diagonal holds the correct predictions; bright cells off it show which classes get mixed up.",
         see_also=("overfitting",)),
)

GLOSSARY: dict[str, Term] = {t.key: t for t in _TERMS}


def term(key: str) -> Term:
    """The entry for ``key``; raises KeyError for an unknown key."""
    return GLOSSARY[key]


def search(text: str) -> list[Term]:
    """Entries whose title, key or definition holds ``text`` (case-insensitive), title matches first."""
    needle = text.strip().lower()
    if not needle:
        return sorted(GLOSSARY.values(), key=lambda t: t.title.lower())
    in_title = [t for t in GLOSSARY.values() if needle in t.title.lower() or needle in t.key]
    in_text = [t for t in GLOSSARY.values() if t not in in_title and needle in t.text.lower()]
    return sorted(in_title, key=lambda t: t.title.lower()) + sorted(in_text, key=lambda t: t.title.lower())


def terms_for(kind: str, params: tuple[str, ...] | list[str] = (), limit: int | None = None) -> list[Term]:
    """Entries that explain block ``kind`` (first) or one of its ``params``, in glossary order; at most
    ``limit`` of them."""
    wanted = set(params)
    found = [t for t in _TERMS if kind in t.kinds] + [t for t in _TERMS if kind not in t.kinds
                                                       and wanted & set(t.params)]
    return found[:limit] if limit is not None else found
