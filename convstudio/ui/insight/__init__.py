"""Qt views that look inside a network: feature maps, filters, predictions, confusion, Grad-CAM."""

from __future__ import annotations

from .feature_maps import FeatureMapView
from .filter_view import FilterView
from .panel import InsightPanel
from .plots import ConfusionView, GradCamView, PredictionView
from .sample_chooser import DrawingPad, SampleChooser
from .tile_grid import TileGrid

__all__ = [
    "ConfusionView",
    "DrawingPad",
    "FeatureMapView",
    "FilterView",
    "GradCamView",
    "InsightPanel",
    "PredictionView",
    "SampleChooser",
    "TileGrid",
]
