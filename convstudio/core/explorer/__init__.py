"""The convolution explorer's core: a kernel or pooling window stepping over an input, in numpy.

No Qt and no TensorFlow (except the two helpers that read a trained Keras model). The explorer
view and the lessons use these plain results.
"""

from __future__ import annotations

from .formula import AxisFormula, axis_formula, formula_text
from .from_block import (
    EXPLORABLE_KINDS,
    BlockSetup,
    block_input_from_model,
    block_settings,
    block_setup,
    prepare_sample,
    weights_from_model,
)
from .presets import KERNEL_PRESETS, TEACHING_GRID, preset_kernel
from .state import ExplorerState
from .stepper import (
    OPS,
    PADDINGS,
    Exploration,
    ExplorerError,
    Term,
    WindowSettings,
    axis_padding,
    explore,
    format_number,
    output_length,
)

__all__ = [
    "EXPLORABLE_KINDS",
    "KERNEL_PRESETS",
    "OPS",
    "PADDINGS",
    "TEACHING_GRID",
    "AxisFormula",
    "BlockSetup",
    "Exploration",
    "ExplorerError",
    "ExplorerState",
    "Term",
    "WindowSettings",
    "axis_formula",
    "axis_padding",
    "block_input_from_model",
    "block_settings",
    "block_setup",
    "explore",
    "format_number",
    "formula_text",
    "output_length",
    "prepare_sample",
    "preset_kernel",
    "weights_from_model",
]
