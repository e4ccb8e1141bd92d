"""The main window's layout: docks around the canvas, the right-hand tabs, the status bar, and the
window geometry and dock state kept between runs."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QMainWindow, QScrollArea, QTabWidget, QWidget

from . import settings as app_settings

__all__ = ["WindowLayout", "scrolled"]

_INSIGHT_TAB = "Inside the network"


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll


class WindowLayout:
    """Builds and keeps the window's docks: blocks, inspector and summary on the left, training and
    the insight views as tabs on the right; restores and saves their state."""

    def __init__(self, window: QMainWindow, palette: QWidget, inspector: QWidget, summary: QWidget,
                 training_panel: QWidget) -> None:
        self.window = window
        self.training_panel = training_panel
        self.docks: dict[str, QDockWidget] = {}
        self.insight_placeholder = QLabel("Loading the views that look inside the network...")
        self.insight_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        training_scroll = scrolled(training_panel)
        training_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The insight views share the training dock as a second tab (two groups of tabified docks
        # leave a stray tab bar behind in Qt 6.11, so only the inspector and summary are tabified).
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.right_tabs.addTab(training_scroll, "Training")
        self.right_tabs.addTab(self.insight_placeholder, _INSIGHT_TAB)
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
        window.resizeDocks([self.docks["palette"], self.docks["training"]], [300, 470], Qt.Orientation.Horizontal)

    def _on_training_dock_moved(self, area: Qt.DockWidgetArea) -> None:
        horizontal = area in (Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.TopDockWidgetArea)
        self.training_panel.set_orientation(Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical)

    def place_insight(self, panel: QWidget) -> None:
        """Put the insight panel where its placeholder was. Its views want about 800 px: it scrolls
        inside the tab rather than squeeze the canvas."""
        index = self.right_tabs.indexOf(self.insight_placeholder)
        self.right_tabs.removeTab(index)
        self.right_tabs.insertTab(index, scrolled(panel), _INSIGHT_TAB)
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
