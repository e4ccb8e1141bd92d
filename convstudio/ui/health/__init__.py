"""Training health in the GUI: the run's warnings, the gradient-flow view and the learning-rate range test.

- :mod:`.views`: :class:`HealthViews`, which keeps them in step with the training controller.
- :mod:`.warning_list`: the warnings, newest first, with severity badges.
- :mod:`.gradient_flow`: gradient norm and dead-ReLU share per block.
- :mod:`.lr_finder`: the "Find learning rate" dialog.
- :mod:`.badges`: severity and its badge.
"""

from __future__ import annotations

from .gradient_flow import GradientFlowPlot, GradientFlowView
from .lr_finder import LearningRateDialog, RangeRequest
from .views import HealthViews, network_key
from .warning_list import WarningCard, WarningList

__all__ = ["GradientFlowPlot", "GradientFlowView", "HealthViews", "LearningRateDialog", "RangeRequest", "WarningCard",
           "WarningList", "network_key"]
