"""The main window's layout: docks around the canvas, the right-hand tabs, the status bar, and the
window geometry and dock state kept between runs."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QMainWindow, QScrollArea, QTabWidget, QWidget

from . import settings as app_settings
from .screen_fit import fit_to_screen

__all__ = ["WindowLayout", "scrolled"]

_INSIGHT_TAB = "Inside the network"
INSIGHT_HEIGHT = 420
"""The insight dock's starting height: tiles large enough to read, the network still in view above."""


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll


class WindowLayout:
    """Builds and keeps the window's docks: blocks, inspector and summary on the left, training on
    the right, and the insight views in their own dock under the canvas, so the network and what is
    inside it are seen together (the dock floats, or tabs elsewhere, when a user wants it larger);
    restores and saves their state."""

    def __init__(self, window: QMainWindow, palette: QWidget, inspector: QWidget, summary: QWidget,
                 training_panel: QWidget) -> None:
        self.window = window
        self.training_panel = training_panel
        self.docks: dict[str, QDockWidget] = {}
        self.insight_placeholder = QLabel("Loading the views that look inside the network...")
        self.insight_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        training_scroll = scrolled(training_panel)
        training_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Two groups of tabified docks leave a stray tab bar behind in Qt 6.11, so only the inspector
        # and summary are tabified; the training panel sits in a tab widget of its own.
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.right_tabs.addTab(training_scroll, "Training")
        self._make_docks(palette, inspector, summary)
        self.dataset_label = QLabel("")
        self.device_label = QLabel("Loading TensorFlow...")
        self.device_label.setToolTip("Where training runs")
        bar = window.statusBar()
        bar.addPermanentWidget(self.dataset_label)
        bar.addPermanentWidget(self.device_label)

    def _make_docks(self, palette: QWidget, inspector: QWidget, summary: QWidget) -> None:
        window = self.window
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        specs = [
            ("palette", "Blocks", palette, left),
            ("inspector", "Inspector", inspector, left),
            ("summary", "Summary", summary, left),
            ("training", "Training", self.right_tabs, right),
            ("insight", _INSIGHT_TAB, self.insight_placeholder, Qt.DockWidgetArea.BottomDockWidgetArea),
        ]
        for name, title, widget, area in specs:
            dock = QDockWidget(title, window)
            dock.setObjectName(f"{name}_dock")
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.docks[name] = dock
            if name == "summary":
                window.tabifyDockWidget(self.docks["inspector"], dock)
                self.docks["inspector"].raise_()
            else:
                window.addDockWidget(area, dock)
        self.docks["training"].dockLocationChanged.connect(self._on_training_dock_moved)
        window.setCorner(Qt.Corner.BottomLeftCorner, left)
        window.setCorner(Qt.Corner.BottomRightCorner, right)
        window.resizeDocks([self.docks["palette"], self.docks["inspector"]], [400, 450], Qt.Orientation.Vertical)
        window.resizeDocks([self.docks["palette"], self.docks["training"]], [290, 470], Qt.Orientation.Horizontal)
        window.resizeDocks([self.docks["insight"]], [INSIGHT_HEIGHT], Qt.Orientation.Vertical)

    def _on_training_dock_moved(self, area: Qt.DockWidgetArea) -> None:
        horizontal = area in (Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.TopDockWidgetArea)
        self.training_panel.set_orientation(Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical)

    def place_insight(self, panel: QWidget) -> None:
        """Put the insight panel in its dock, where its placeholder was; below its minimum size it
        scrolls inside the dock rather than squeeze the canvas."""
        self.docks["insight"].setWidget(scrolled(panel))
        self.insight_placeholder.deleteLater()

    def raise_inspector(self) -> None:
        """Bring the inspector's tab forward (to show a newly selected block)."""
        inspector = self.docks["inspector"]
        if inspector.isVisible() and self.window.tabifiedDockWidgets(inspector):
            inspector.raise_()

    # ----------------------------------------------------------------- state between runs

    def restore(self) -> None:
        store = app_settings.app_settings()
        geometry = store.value("window/geometry")
        state = store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.window.restoreState(state)
        fit_to_screen(self.window)  # saved at another scale factor, or the default size on a small screen

    def save(self) -> None:
        store = app_settings.app_settings()
        store.setValue("window/geometry", self.window.saveGeometry())
        store.setValue("window/state", self.window.saveState())
        store.sync()

    def reset(self, default_state: QByteArray) -> None:
        """Put the panels back where they started."""
        self.window.restoreState(default_state)
        for dock in self.docks.values():
            dock.show()
