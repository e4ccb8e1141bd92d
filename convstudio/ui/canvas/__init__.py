"""The network canvas: a QGraphicsView over a scene that mirrors the document's network."""

from __future__ import annotations

from .block_item import BlockItem, FixButton, param_summary
from .edge_item import EdgeItem
from .ports import PortItem
from .scene import NetworkScene
from .view import CanvasView

__all__ = ["BlockItem", "CanvasView", "EdgeItem", "FixButton", "NetworkScene", "PortItem", "param_summary"]
