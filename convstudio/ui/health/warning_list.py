"""The run's health warnings as cards, newest first: a badge, a heading with the epoch, what is
wrong and what to try. Without warnings it is one line (healthy so far, or what it will show).

Only the newest :data:`SHOWN` cards are open at first, so the curves below keep their room; a button
shows the earlier ones.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from convstudio.core.health import HealthWarning

from ..theme import is_dark
from .badges import HEALTHY, TITLES, WARNING, severity, severity_color, severity_pixmap

__all__ = ["SHOWN", "WarningCard", "WarningList", "split_heading"]

SHOWN = 1
"""Cards open before "Show earlier warnings" is pressed."""


def _badge(level: str) -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
    label.setFixedWidth(20)
    label.setPixmap(severity_pixmap(level, is_dark(), 16, label.devicePixelRatioF()))
    label.setProperty("level", level)
    return label


def split_heading(message: str, title: str) -> tuple[str, str]:
    """``("Dead ReLUs", "60% of conv1 never fire ...")`` from a message that opens with its own short
    heading ("Dead ReLUs: 60% of conv1 ..."), so the card does not say it twice; else ``(title, message)``."""
    head, sep, rest = message.partition(": ")
    if not sep or len(head) > 40 or not rest:
        return title, message
    return head, rest[:1].upper() + rest[1:]


class WarningCard(QFrame):
    """One warning: badge, heading ("Dead ReLUs, epoch 3"), message and advice."""

    def __init__(self, warning: HealthWarning, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.warning = warning
        self.level = severity(warning.kind)
        self.setObjectName("healthCard")
        self.badge = _badge(self.level)
        self.badge.setToolTip("Problem: the run cannot learn like this" if self.level != WARNING
                              else "Warning: the run learns badly or slowly")
        heading, message = split_heading(warning.message,
                                         TITLES.get(warning.kind, warning.kind.replace("_", " ").capitalize()))
        when = f", epoch {warning.epoch + 1}" if warning.epoch >= 0 and "epoch" not in heading else ""
        self.text = QLabel(f"<b>{html.escape(heading)}</b>{when}<br>{html.escape(message)}"
                           f"<br><i>Try:</i> {html.escape(warning.advice)}")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.badge)
        row.addWidget(self.text, 1)
        self.restyle()

    def restyle(self) -> None:
        """A left edge in the severity's colour, on the palette's alternate background."""
        dark = is_dark()
        self.badge.setPixmap(severity_pixmap(self.level, dark, 16, self.badge.devicePixelRatioF()))
        edge = severity_color(self.level, dark).name()
        self.setStyleSheet(f"#healthCard {{ border-left: 3px solid {edge}; border-radius: 2px; "
                           "background: palette(alternate-base); }")


class WarningList(QWidget):
    """Warnings newest first; a one-line state (with or without a tick) when there are none to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards: list[WarningCard] = []
        self.state_badge = _badge(HEALTHY)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        state_row = QHBoxLayout()
        state_row.setContentsMargins(6, 0, 6, 0)
        state_row.addWidget(self.state_badge)
        state_row.addWidget(self.state, 1)
        self._state_row = state_row
        self.more_button = QPushButton("")
        self.more_button.clicked.connect(self._toggle_earlier)
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(4)
        self._column.addLayout(state_row)
        self._column.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._healthy = False
        self._all_open = False

    def add_beside_state(self, widget: QWidget) -> None:
        """Put ``widget`` (a button) at the end of the state line."""
        self._state_row.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)

    @property
    def warnings(self) -> list[HealthWarning]:
        """The warnings shown, newest first."""
        return [card.warning for card in self.cards]

    def add(self, warning: HealthWarning) -> None:
        """Show ``warning`` on top of the others."""
        card = WarningCard(warning)
        self.cards.insert(0, card)
        self._column.insertWidget(1, card)  # under the state line
        self._show_state()

    def clear(self) -> None:
        for card in self.cards:
            self._column.removeWidget(card)
            card.deleteLater()
        self.cards = []
        self._all_open = False
        self._show_state()

    def set_state(self, text: str, healthy: bool = False) -> None:
        """The line shown above the cards: the run's state; ``healthy`` adds a tick when there are no cards."""
        self.state.setText(text)
        self._healthy = healthy
        self._show_state()

    def _toggle_earlier(self) -> None:
        self._all_open = not self._all_open
        self._show_state()

    def _show_state(self) -> None:
        self.state_badge.setVisible(self._healthy and not self.cards)
        self.state.setVisible(bool(self.state.text()))
        for i, card in enumerate(self.cards):
            card.setVisible(i < SHOWN or self._all_open)  # now, not after the next event-loop pass
        earlier = len(self.cards) - SHOWN
        self.more_button.setVisible(earlier > 0)
        if earlier > 0:
            self.more_button.setText("Hide earlier warnings" if self._all_open else
                                     f"Show {earlier} earlier warning{'s' if earlier != 1 else ''}")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.state_badge.setPixmap(severity_pixmap(HEALTHY, is_dark(), 16, self.devicePixelRatioF()))
            for card in self.cards:
                card.restyle()
