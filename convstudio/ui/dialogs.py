"""The window's modal dialogs: a question, an error box, and the New dialog (empty or a preset).

Window code calls ``dialogs.ask`` and ``dialogs.show_error`` through this module, so tests can answer
them in one place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.project import ProjectError

__all__ = ["NewDialog", "PROJECT_FILTER", "ask", "show_error"]

PROJECT_FILTER = "ConvStudio projects (*.json);;All files (*)"


def ask(parent: QWidget | None, title: str, text: str, buttons: QMessageBox.StandardButton,
        default: QMessageBox.StandardButton, labels: dict[QMessageBox.StandardButton, str] | None = None,
        ) -> QMessageBox.StandardButton:
    """A modal question; ``labels`` renames standard buttons. Returns the button chosen."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
    box.setDefaultButton(default)
    for button, label in (labels or {}).items():
        if box.button(button) is not None:
            box.button(button).setText(label)
    box.exec()
    clicked = box.clickedButton()
    return box.standardButton(clicked) if clicked is not None else QMessageBox.StandardButton.Cancel


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal error message (never a silent failure)."""
    QMessageBox.critical(parent, title, text)


class NewDialog(QDialog):
    """Choose what a new document starts from: an empty canvas or one of the bundled presets."""

    EMPTY = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New network")
        self.resize(560, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from:"))
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setMinimumHeight(60)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.description)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        empty = QListWidgetItem("Empty network")
        empty.setData(Qt.ItemDataRole.UserRole, (self.EMPTY, "A blank canvas: drag blocks from the palette."))
        self.list.addItem(empty)
        try:
            from convstudio.core.presets import list_presets

            presets = list_presets()
        except (ProjectError, OSError) as exc:
            presets = []
            self.description.setText(f"The bundled presets cannot be read: {exc}")
        for preset_id, title, description in presets:
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, (preset_id, description))
            item.setToolTip(description)
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._show_description)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.setCurrentRow(0)

    def _show_description(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.description.setText(item.data(Qt.ItemDataRole.UserRole)[1])

    def chosen(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole)[0] if item is not None else self.EMPTY

    @classmethod
    def choose(cls, parent: QWidget | None = None) -> str | None:
        """The chosen preset id ("" for empty), or None when cancelled."""
        dialog = cls(parent)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
