"""A restored window fits the screen: a saved geometry larger than the screen or off every screen."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from convstudio.ui.screen_fit import fit_rect, fit_to_screen

SCREEN = QRect(0, 0, 1280, 800)
RIGHT = QRect(1280, 0, 1920, 1080)


def test_a_rect_larger_than_the_screen_is_shrunk_into_it():
    assert fit_rect(QRect(-50, -20, 2400, 1500), [SCREEN]) == SCREEN
    assert fit_rect(QRect(100, 100, 800, 600), [SCREEN]) == QRect(100, 100, 800, 600)  # already fits
    assert fit_rect(QRect(900, 500, 800, 600), [SCREEN]) == QRect(480, 200, 800, 600)  # moved back in


def test_a_rect_goes_to_the_screen_it_overlaps_most_or_the_first_one():
    assert fit_rect(QRect(1500, 100, 2400, 900), [SCREEN, RIGHT]) == QRect(1280, 100, 1920, 900)
    assert fit_rect(QRect(9000, 9000, 400, 300), [SCREEN, RIGHT]) == QRect(880, 500, 400, 300)


def test_a_window_larger_than_the_available_screen_is_fitted_into_it(qtbot):
    # At QT_SCALE_FACTOR=1.5 a 1600x1000 screen is 1067x667 logical pixels: the default or a saved
    # size of 1400x900 no longer fits.
    area = QGuiApplication.primaryScreen().availableGeometry()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setGeometry(area.x() - 100, area.y() - 100, area.width() * 2, area.height() * 2)
    assert not area.contains(window.frameGeometry())
    assert fit_to_screen(window)
    assert area.contains(window.frameGeometry())
    assert not fit_to_screen(window)  # once it fits, nothing changes
