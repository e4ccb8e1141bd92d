"""Light and dark themes: the window palette, and the one place plots get their colours from.

The mode is System (follow Qt's ``QStyleHints.colorScheme()`` and its change signal), Light or Dark,
kept in the settings. Widgets follow the application palette (the canvas reads it on a palette
change); Matplotlib figures register with :func:`follow_theme` and are restyled and redrawn when the
scheme changes, and new artists take the colours from Matplotlib's rcParams, set here too.
"""

from __future__ import annotations

import sys
import weakref
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from . import settings as app_settings

__all__ = ["MODES", "PlotColors", "ThemeController", "follow_theme", "is_dark", "plot_colors",
           "style_figure", "theme_controller"]

MODES = ("system", "light", "dark")
_KEY = "view/theme"


@dataclass(frozen=True)
class PlotColors:
    """Colours of a figure's frame and text (data colours stay the same on both schemes)."""

    dark: bool
    figure: str
    axes: str
    text: str
    muted: str
    grid: str
    edge: str


LIGHT = PlotColors(False, figure="#FFFFFF", axes="#FFFFFF", text="#202124", muted="#5F6368", grid="#DADCE0",
                   edge="#80868B")
DARK = PlotColors(True, figure="#2B2F33", axes="#2B2F33", text="#E8EAED", muted="#AEB4BA", grid="#454B52",
                  edge="#8A9099")


def is_dark() -> bool:
    """Whether the application palette is dark now."""
    app = QGuiApplication.instance()
    return app is not None and QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def plot_colors(dark: bool | None = None) -> PlotColors:
    """The plot colours for ``dark`` (default: the current palette)."""
    return DARK if (is_dark() if dark is None else dark) else LIGHT


def _rc(colors: PlotColors) -> dict[str, str]:
    return {"figure.facecolor": colors.figure, "axes.facecolor": colors.axes, "axes.edgecolor": colors.edge,
            "axes.labelcolor": colors.text, "axes.titlecolor": colors.text, "text.color": colors.text,
            "xtick.color": colors.muted, "ytick.color": colors.muted, "xtick.labelcolor": colors.text,
            "ytick.labelcolor": colors.text, "grid.color": colors.grid, "legend.facecolor": colors.axes,
            "legend.edgecolor": colors.grid, "savefig.facecolor": colors.figure}


def _frame_text(color: Any, old: PlotColors) -> bool:
    """Whether text of ``color`` is frame text of the previous scheme (or Matplotlib's default black)."""
    from matplotlib.colors import to_rgba

    try:
        rgb = to_rgba(color)[:3]
    except ValueError:
        return False
    return rgb in (to_rgba(old.text)[:3], (0.0, 0.0, 0.0))


def style_figure(figure: Any, colors: PlotColors) -> None:
    """Recolour a Matplotlib figure's frame and text for ``colors``; text with a colour of its own
    (e.g. numbers on the confusion matrix's cells) keeps it."""
    import matplotlib

    matplotlib.rcParams.update(_rc(colors))
    old = DARK if colors is LIGHT else LIGHT
    figure.set_facecolor(colors.figure)
    for text in figure.texts:
        if _frame_text(text.get_color(), old):
            text.set_color(colors.text)
    for ax in figure.axes:
        ax.set_facecolor(colors.axes)
        for spine in ax.spines.values():
            spine.set_edgecolor(colors.edge)
        ax.tick_params(colors=colors.muted, labelcolor=colors.text)
        # Text placed in data coordinates (numbers on cells) keeps its colour: it sits on the data.
        notes = [t for t in ax.texts if t.get_transform() is not ax.transData]
        for label in (ax.title, ax.xaxis.label, ax.yaxis.label, *notes):
            if _frame_text(label.get_color(), old):
                label.set_color(colors.text)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(colors.axes)
            legend.get_frame().set_edgecolor(colors.grid)
            for text in legend.get_texts():
                text.set_color(colors.text)


_figures: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def follow_theme(canvas: Any) -> None:
    """Keep a Matplotlib Qt canvas's figure in the current scheme, now and on every change."""
    _figures[canvas] = True
    style_figure(canvas.figure, plot_colors())


def _restyle_plots() -> None:
    colors = plot_colors()
    if "matplotlib" in sys.modules:
        import matplotlib

        matplotlib.rcParams.update(_rc(colors))
    for canvas in list(_figures.keys()):
        if shiboken6.isValid(canvas):
            style_figure(canvas.figure, colors)
            canvas.draw_idle()


def _dark_palette() -> QPalette:
    p = QPalette()
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    for role, color in ((R.Window, "#2B2F33"), (R.WindowText, "#E8EAED"), (R.Base, "#1F2226"),
                        (R.AlternateBase, "#2F3439"), (R.ToolTipBase, "#3A3F45"), (R.ToolTipText, "#E8EAED"),
                        (R.PlaceholderText, "#8A9099"), (R.Text, "#E8EAED"), (R.Button, "#353A40"),
                        (R.ButtonText, "#E8EAED"), (R.BrightText, "#FF6B6B"), (R.Highlight, "#3D7BD9"),
                        (R.HighlightedText, "#FFFFFF"), (R.Link, "#8AB4F8"), (R.LinkVisited, "#C58AF9"),
                        (R.Light, "#4A5057"), (R.Midlight, "#3F454B"), (R.Mid, "#2F3439"), (R.Dark, "#1B1E21"),
                        (R.Shadow, "#111315")):
        p.setColor(role, QColor(color))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, QColor("#7A8088"))
    return p


class ThemeController(QObject):
    """Applies the chosen mode to the application and follows the system while the mode is System.

    Signals ``changed(bool)`` with whether the scheme is dark, after the palette and plots changed.
    """

    changed = Signal(bool)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.mode = "system"
        self.dark = False
        self._light_palette = QPalette(app.palette())
        self._style = app.style().name().lower()
        app.styleHints().colorSchemeChanged.connect(self._on_system_scheme)

    def system_is_dark(self) -> bool:
        return self.app.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def set_mode(self, mode: str, store: bool = True) -> None:
        """Use ``mode`` (system, light or dark); ``store`` keeps it in the settings."""
        if mode not in MODES:
            raise ValueError(f"theme must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        if store:
            app_settings.app_settings().setValue(_KEY, mode)
        self._apply(self.system_is_dark() if mode == "system" else mode == "dark")

    def _on_system_scheme(self, scheme: Qt.ColorScheme) -> None:
        if self.mode == "system":
            self._apply(scheme == Qt.ColorScheme.Dark)

    def _apply(self, dark: bool) -> None:
        if dark and self._style in ("windowsvista", "windows"):
            self.app.setStyle(QStyleFactory.create("Fusion"))  # these styles ignore a dark palette
        elif not dark and self.app.style().name().lower() != self._style:
            self.app.setStyle(QStyleFactory.create(self._style))
        self.app.setPalette(_dark_palette() if dark else self._light_palette)
        self.dark = dark
        _restyle_plots()
        self.changed.emit(dark)


def stored_mode() -> str:
    value = app_settings.app_settings().value(_KEY, "system")
    return value if value in MODES else "system"


def theme_controller(app: QApplication | None = None) -> ThemeController:
    """The application's theme controller (made, with the stored mode applied, on first use)."""
    app = app or QApplication.instance()
    found = app.findChild(ThemeController)
    if found is None:
        found = ThemeController(app)
        found.set_mode(stored_mode(), store=False)
    return found
