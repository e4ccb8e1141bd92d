"""Opening the explorer on a block of the user's network, or on a lesson's grid and kernel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from convstudio.core.blocks import INPUT, get_spec
from convstudio.core.explorer import (
    EXPLORABLE_KINDS,
    WindowSettings,
    block_input_from_model,
    block_setup,
    weights_from_model,
)
from convstudio.core.network import Network

from .view import ConvExplorer

if TYPE_CHECKING:
    import keras

__all__ = ["can_explore", "open_explorer", "open_for_block"]


def can_explore(network: Network, block_id: str) -> bool:
    """Whether ``block_id`` has a sliding window (Conv2D, MaxPool2D, AvgPool2D): for a context menu."""
    return block_id in network and network.block(block_id).kind in EXPLORABLE_KINDS


def _as_window(explorer: ConvExplorer, parent: QWidget | None) -> ConvExplorer:
    explorer.setParent(parent, Qt.WindowType.Window)
    explorer.resize(1280, 720)
    return explorer


def open_for_block(network: Network, block_id: str, trained_model: keras.Model | None = None,
                   sample: np.ndarray | None = None, block_input: np.ndarray | None = None,
                   parent: QWidget | None = None) -> ConvExplorer:
    """An explorer window (not shown yet) on ``block_id`` with its settings and kernels, on ``sample``.

    ``trained_model`` gives the trained kernels and biases; without it a Conv2D shows the kernels
    it starts from. ``sample`` is a dataset image; for a block deeper than the first, pass the maps
    that feed it as ``block_input`` (from the insight panel's worker), or a ``trained_model`` and
    the explorer computes them with one forward pass. Raises ``ExplorerError`` with a one-line
    message when the block cannot be shown.
    """
    block = network.block(block_id)
    weights = weights_from_model(trained_model, block_id) if trained_model is not None and \
        get_spec(block.kind).kernel_view else None
    sources = network.inputs_of(block_id)
    reads_image = bool(sources) and network.block(sources[0]).kind == INPUT.kind
    if block_input is None and trained_model is not None and sample is not None and not reads_image:
        block_input = block_input_from_model(trained_model, network, block_id, sample)
    setup = block_setup(network, block_id, sample, weights, block_input)
    explorer = ConvExplorer()
    explorer.load_block(setup)
    return _as_window(explorer, parent)


def open_explorer(grid: np.ndarray | None = None, kernel: np.ndarray | None = None,
                  settings: WindowSettings | None = None, parent: QWidget | None = None) -> ConvExplorer:
    """An explorer window (not shown yet) on a grid of numbers and a kernel, e.g. a lesson's."""
    explorer = ConvExplorer()
    if grid is not None:
        explorer.set_input(grid, "Lesson grid")
    if settings is not None:
        explorer.set_settings(settings)
    if kernel is not None:
        explorer.set_kernel(kernel)
    return _as_window(explorer, parent)
