"""Looking inside a network: activations, receptive fields, filters, Grad-CAM, evaluation.

Headless (numpy and Keras only). Each module owns one question a user asks about a network.
"""

from __future__ import annotations

from .activations import activation_model, block_activations, input_channels, prepare_images
from .augmentation import (
    AugmentationChain,
    AugmentationPreview,
    AugmentationStep,
    augment_sample,
    augmentation_chain,
)
from .colour_filters import ColourFilter, colour_filters
from .evaluation import Evaluation, cell_samples, confusion_matrix, evaluate, predict_probabilities
from .filters import (
    KERNEL_INITS,
    conv_kernel_array,
    correlate2d,
    gaussian_kernel,
    hand_designed_kernels,
    kernel_bank,
    kirsch_kernels,
    set_conv_kernels,
    sobel_horizontal,
    sobel_vertical,
)
from .gradient_flow import block_gradient_norms, gradient_ratio
from .images import (
    ImageError,
    drawing_to_dataset,
    drawing_to_sample,
    load_image,
    load_sample,
    shift_image,
    to_dataset_format,
)
from .receptive_field import FieldInfo, receptive_field, receptive_fields
from .saliency import grad_cam, last_conv_block
from .softmax import SoftmaxSteps, softmax_steps
from .timeline import Snapshot, Timeline

__all__ = [
    "AugmentationChain",
    "AugmentationPreview",
    "AugmentationStep",
    "ColourFilter",
    "Evaluation",
    "KERNEL_INITS",
    "FieldInfo",
    "ImageError",
    "Snapshot",
    "SoftmaxSteps",
    "Timeline",
    "activation_model",
    "augment_sample",
    "augmentation_chain",
    "block_gradient_norms",
    "block_activations",
    "cell_samples",
    "colour_filters",
    "confusion_matrix",
    "conv_kernel_array",
    "correlate2d",
    "drawing_to_dataset",
    "drawing_to_sample",
    "evaluate",
    "gaussian_kernel",
    "gradient_ratio",
    "grad_cam",
    "hand_designed_kernels",
    "input_channels",
    "kernel_bank",
    "kirsch_kernels",
    "last_conv_block",
    "load_image",
    "load_sample",
    "predict_probabilities",
    "prepare_images",
    "receptive_field",
    "receptive_fields",
    "set_conv_kernels",
    "shift_image",
    "sobel_horizontal",
    "softmax_steps",
    "sobel_vertical",
    "to_dataset_format",
]
