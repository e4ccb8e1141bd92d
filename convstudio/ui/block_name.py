"""The block's name field: renames the block (its id and Keras layer name) through the document.

A refused name (taken, invalid, reserved) shows the reason under the field and the field goes back
to the block's current name when left; Escape puts the name back at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from .document import EditorDocument

__all__ = ["BlockNameField"]

ERROR_STYLE = "color: #C62828;"


class _NameEdit(QLineEdit):
    def __init__(self, owner: BlockNameField) -> None:
        super().__init__()
        self._owner = owner

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self._owner.revert()
            return
        super().keyPressEvent(event)


class BlockNameField(QWidget):
    """A line edit for the shown block's name plus a one-line reason when a name is refused."""

    def __init__(self, document: EditorDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.block_id: str | None = None
        self.edit = _NameEdit(self)
        self.edit.setMaxLength(63)
        self.edit.setToolTip("The block's name: its Keras layer name in the trained model and every export. "
                             "Letters, digits and _, starting with a letter (F2 to rename).")
        self.edit.editingFinished.connect(self.commit)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)

    def set_block(self, block_id: str | None) -> None:
        """Show ``block_id``'s name (None: an empty, disabled field)."""
        if block_id != self.block_id:
            self.error.hide()
        self.block_id = block_id
        self.edit.setText(block_id or "")
        self.edit.setEnabled(block_id is not None and not self.document.locked)

    def begin(self) -> None:
        """Put the cursor in the field with the name selected (F2)."""
        if self.block_id is not None and self.edit.isEnabled():
            self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.edit.selectAll()

    def commit(self) -> bool:
        """Rename the block to the typed name; True when renamed or unchanged."""
        if self.block_id is None:
            return False
        new = self.edit.text().strip()
        if new == self.block_id:
            self.error.hide()
            return True
        reason = self.document.rename_block(self.block_id, new)
        if reason:
            self.error.setText(reason)
            self.error.show()
            self.edit.setText(self.block_id)
            return False
        self.error.hide()
        return True

    def revert(self) -> None:
        self.edit.setText(self.block_id or "")
        self.error.hide()

    @property
    def error_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()
