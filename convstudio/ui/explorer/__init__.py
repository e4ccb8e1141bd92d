"""The convolution explorer window: a kernel sliding over an input, step by step."""

from __future__ import annotations

from .grid_view import GridView
from .kernel_table import KernelTable
from .open import can_explore, open_explorer, open_for_block
from .view import ConvExplorer

__all__ = ["ConvExplorer", "GridView", "KernelTable", "can_explore", "open_explorer", "open_for_block"]
