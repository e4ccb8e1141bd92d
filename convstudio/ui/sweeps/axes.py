"""The sweep dialog's form: what to vary (learning rates, batch sizes, block parameters) and how to search."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.network import Network
from convstudio.core.sweeps import (
    BATCH_SIZE,
    LEARNING_RATE,
    SweepAxis,
    SweepError,
    SweepSpec,
    parse_values,
    sweepable_params,
)

__all__ = ["AxesForm", "BlockAxisRow", "sweep_choices"]

_PREFERRED = ("filters", "units", "rate")
"""Parameters offered first for a block: what sweeps vary most."""


def sweep_choices(network: Network) -> list[str]:
    """``block.parameter`` targets, the filters, units and rates first."""
    targets = sweepable_params(network)
    return sorted(targets, key=lambda t: t.partition(".")[2] not in _PREFERRED)


class BlockAxisRow(QWidget):
    """One block parameter to vary: a ``block.parameter`` choice, its values and a Remove button."""

    removed = Signal(object)
    changed = Signal()

    def __init__(self, targets: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target_combo = QComboBox()
        self.target_combo.addItems(targets)
        self.values_edit = QLineEdit()
        self.values_edit.setPlaceholderText("e.g. 8, 16, 32")
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.removed.emit(self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.target_combo, 2)
        layout.addWidget(self.values_edit, 3)
        layout.addWidget(remove)
        self.target_combo.currentIndexChanged.connect(self.changed)
        self.values_edit.textChanged.connect(self.changed)

    def axis(self) -> SweepAxis | None:
        """The row's axis (None while its values are empty); raises :class:`SweepError` for bad values."""
        text = self.values_edit.text().strip()
        if not text:
            return None
        return SweepAxis(self.target_combo.currentText(), parse_values(text))


class AxesForm(QWidget):
    """Learning rates, batch sizes, any number of block parameters, grid or random, trials, seed, epochs.

    ``changed`` fires on every edit; :meth:`spec` reads the form (raising :class:`SweepError`).
    """

    changed = Signal()

    def __init__(self, network: Network, epochs: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets = sweep_choices(network)
        self.lr_edit = QLineEdit()
        self.lr_edit.setPlaceholderText("e.g. 0.01, 0.001 (empty: the training panel's)")
        self.batch_edit = QLineEdit()
        self.batch_edit.setPlaceholderText("e.g. 32, 64 (empty: the training panel's)")
        self.rows: list[BlockAxisRow] = []
        self.rows_box = QVBoxLayout()
        self.add_button = QPushButton("Add block parameter")
        self.add_button.setEnabled(bool(self.targets))
        self.add_button.clicked.connect(lambda: self.add_block_axis())
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("Grid: every combination", "grid")
        self.mode_combo.addItem("Random: draw some combinations", "random")
        self.trials_spin = QSpinBox(minimum=1, maximum=1000, value=6)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 2, value=42)
        self.epochs_spin = QSpinBox(minimum=1, maximum=1000, value=max(1, epochs))
        self.count_label = QLabel()
        self._layout()
        for edit in (self.lr_edit, self.batch_edit):
            edit.textChanged.connect(self.changed)
        for spin in (self.trials_spin, self.seed_spin, self.epochs_spin):
            spin.valueChanged.connect(self.changed)
        self.mode_combo.currentIndexChanged.connect(self.changed)

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.addRow("Learning rates", self.lr_edit)
        form.addRow("Batch sizes", self.batch_edit)
        blocks = QVBoxLayout()
        blocks.addLayout(self.rows_box)
        blocks.addWidget(self.add_button)
        form.addRow("Block parameters", blocks)
        search = QHBoxLayout()
        search.addWidget(self.mode_combo, 2)
        for label, spin in (("Trials (at most)", self.trials_spin), ("Seed", self.seed_spin),
                            ("Epochs per trial", self.epochs_spin)):
            search.addWidget(QLabel(label))
            search.addWidget(spin, 1)
        form.addRow("Search", search)
        form.addRow("", self.count_label)

    def add_block_axis(self, target: str | None = None, values: str = "") -> BlockAxisRow:
        """A new block parameter row (``target`` chosen, ``values`` typed in)."""
        row = BlockAxisRow(self.targets, self)
        if target is not None:
            row.target_combo.setCurrentText(target)
        row.values_edit.setText(values)
        row.removed.connect(self._remove_row)
        row.changed.connect(self.changed)
        self.rows.append(row)
        self.rows_box.addWidget(row)
        self.changed.emit()
        return row

    def _remove_row(self, row: BlockAxisRow) -> None:
        self.rows.remove(row)
        row.deleteLater()
        self.changed.emit()

    def spec(self) -> SweepSpec:
        """The sweep the form describes; raises :class:`SweepError` saying which field is wrong."""
        axes = []
        for target, edit in ((LEARNING_RATE, self.lr_edit), (BATCH_SIZE, self.batch_edit)):
            text = edit.text().strip()
            if text:
                try:
                    axes.append(SweepAxis(target, parse_values(text)))
                except SweepError as exc:
                    raise SweepError(f"{target.replace('_', ' ').capitalize()}s: {exc}") from None
        for row in self.rows:
            axis = row.axis()
            if axis is not None:
                axes.append(axis)
        return SweepSpec(tuple(axes), self.mode_combo.currentData(), self.trials_spin.value(), self.seed_spin.value())

    def set_enabled(self, enabled: bool) -> None:
        """Lock the form while a sweep runs."""
        for widget in (self.lr_edit, self.batch_edit, self.mode_combo, self.trials_spin, self.seed_spin,
                       self.epochs_spin, *self.rows):
            widget.setEnabled(enabled)
        self.add_button.setEnabled(enabled and bool(self.targets))
