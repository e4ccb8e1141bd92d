"""Themes: System follows Qt's colour scheme, Light/Dark are kept in the settings; the palette, the
canvas and the Matplotlib plots follow."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from convstudio.ui import settings as app_settings
from convstudio.ui.canvas.view import CanvasView
from convstudio.ui.theme import DARK, LIGHT, is_dark, stored_mode, theme_controller


@pytest.fixture
def theme(qtbot, tmp_path):
    app_settings.use_storage_root(tmp_path)
    controller = theme_controller(QApplication.instance())
    yield controller
    controller.set_mode("light", store=False)
    QApplication.instance().styleHints().unsetColorScheme()
    app_settings.use_storage_root(None)


def test_dark_mode_darkens_palette_canvas_and_plots_and_is_stored(qtbot, theme, document):
    from convstudio.ui.plots import TrainingPlots

    plots = TrainingPlots()
    canvas = CanvasView(document)
    for w in (plots, canvas):
        qtbot.addWidget(w)
        w.show()
    assert to_hex(plots.figure.get_facecolor()) == LIGHT.figure.lower()
    theme.set_mode("dark")
    assert is_dark() and stored_mode() == "dark"
    assert to_hex(plots.figure.get_facecolor()) == DARK.figure.lower()
    assert to_hex(plots.loss_ax.title.get_color()) == DARK.text.lower()
    qtbot.waitUntil(lambda: canvas.network_scene.backgroundBrush().color().lightness() < 128)
    theme.set_mode("light")
    assert not is_dark() and stored_mode() == "light"
    assert to_hex(plots.figure.get_facecolor()) == LIGHT.figure.lower()
    qtbot.waitUntil(lambda: canvas.network_scene.backgroundBrush().color().lightness() > 128)


def test_system_mode_follows_the_colour_scheme_signal(qtbot, theme):
    theme.set_mode("system")
    hints = QApplication.instance().styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the system switched to dark
    assert theme.dark and QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not theme.dark
    theme.set_mode("light")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # Light stays light whatever the system says
    assert not theme.dark


def test_an_unknown_mode_is_refused(theme):
    with pytest.raises(ValueError, match="system, light, dark"):
        theme.set_mode("purple")


def test_inspector_glossary_links_take_the_theme_s_link_colour(qtbot, theme, document):
    from convstudio.ui.inspector import InspectorWidget

    inspector = InspectorWidget(document)
    qtbot.addWidget(inspector)
    inspector.show()
    document.select(["conv2d_1"])
    theme.set_mode("dark")
    link = QApplication.palette().color(QPalette.ColorRole.Link).name()
    qtbot.waitUntil(lambda: f"color:{link}" in inspector.learn.text())
