"""The inspector: a form generated from the selected block's :class:`ParamSpec` list.

No block has its own form: ints get spin boxes, floats double spin boxes, choices combo boxes and
booleans check boxes, each with the parameter's help as tooltip. Values are checked with
``ParamSpec.validate`` as they are typed; a refused value shows the reason in red next to the field
and is not applied. Accepted values go to the document, where consecutive changes to one field
merge into one undo step.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.blocks import ParamSpec, get_spec
from convstudio.core.glossary import terms_for
from convstudio.core.inspection.receptive_field import receptive_fields
from convstudio.core.network import NetworkEvent
from convstudio.core.shapes import Analysis, format_shape

from .block_name import BlockNameField
from .document import EditorDocument, follow
from .icons import block_icon

__all__ = ["InspectorWidget", "format_count", "format_bytes"]

ERROR_STYLE = "color: #C62828;"
WIDE = 1_000_000_000


def format_count(n: int) -> str:
    return f"{n:,}"


def format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


class _IntBox(QSpinBox):
    """Accepts any whole number as typed (so out-of-range values can be explained), steps within range."""

    def __init__(self, spec: ParamSpec) -> None:
        super().__init__()
        self.spec = spec
        self.setRange(-WIDE, WIDE)
        self.setKeyboardTracking(True)
        self.setAccelerated(True)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        lo = self.spec.minimum if self.spec.minimum is not None else -WIDE
        hi = self.spec.maximum if self.spec.maximum is not None else WIDE
        self.setValue(int(min(hi, max(lo, self.value() + steps))))

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802
        flags = QAbstractSpinBox.StepNone
        if self.spec.minimum is None or self.value() > self.spec.minimum:
            flags |= QAbstractSpinBox.StepDownEnabled
        if self.spec.maximum is None or self.value() < self.spec.maximum:
            flags |= QAbstractSpinBox.StepUpEnabled
        return flags


class _FloatBox(QDoubleSpinBox):
    """A double spin box showing values compactly (``0.001``, ``1e-07``) and accepting any number."""

    def __init__(self, spec: ParamSpec) -> None:
        super().__init__()
        self.spec = spec
        self.setDecimals(12)
        self.setRange(-WIDE, WIDE)
        self.setKeyboardTracking(True)
        top = spec.maximum if spec.maximum is not None else 1.0
        self.setSingleStep(0.05 if top <= 1 else 0.1)
        if spec.minimum is not None and spec.minimum > 0 and spec.minimum < 1e-3:
            self.setStepType(QAbstractSpinBox.AdaptiveDecimalStepType)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "-.", "+."):
            return QValidator.Intermediate, text, pos
        try:
            float(stripped)
        except ValueError:
            if stripped.lower().endswith(("e", "e-", "e+")):
                return QValidator.Intermediate, text, pos
            return QValidator.Invalid, text, pos
        return QValidator.Acceptable, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        lo = self.spec.minimum if self.spec.minimum is not None else -WIDE
        hi = self.spec.maximum if self.spec.maximum is not None else WIDE
        before = self.value()
        super().stepBy(steps)
        self.setValue(min(hi, max(lo, round(self.value(), 10))) if self.value() != before else before)


class _Field:
    """One parameter's editor, its error label and how to read/write its value."""

    def __init__(self, spec: ParamSpec, on_edit, on_finished) -> None:
        self.spec = spec
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        if spec.choices is not None:
            w = QComboBox()
            for c in spec.choices:
                w.addItem(str(c), c)
            w.currentIndexChanged.connect(lambda _i: on_edit(self, w.currentData()))
        elif spec.type is bool:
            w = QCheckBox()
            w.toggled.connect(lambda on: on_edit(self, bool(on)))
        elif spec.type is int:
            w = _IntBox(spec)
            w.valueChanged.connect(lambda v: on_edit(self, int(v)))
            w.editingFinished.connect(lambda: on_finished(self))
        elif spec.type is float:
            w = _FloatBox(spec)
            w.valueChanged.connect(lambda v: on_edit(self, float(v)))
            w.editingFinished.connect(lambda: on_finished(self))
        else:
            w = QLineEdit()
            w.textEdited.connect(lambda t: on_edit(self, t))
        w.setToolTip(spec.help + _range_text(spec))
        self.widget = w

    def set_value(self, value: Any) -> None:
        w = self.widget
        w.blockSignals(True)
        try:
            if isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)
            else:
                w.setText(str(value))
        finally:
            w.blockSignals(False)

    def show_error(self, message: str | None) -> None:
        # Red text in the editor (a border style sheet would drop the spin box arrows).
        edit = self.widget.lineEdit() if isinstance(self.widget, (QAbstractSpinBox, QComboBox)) else None
        if isinstance(self.widget, QLineEdit):
            edit = self.widget
        if message:
            self.error.setText(message)
            self.error.show()
            if edit is not None:
                edit.setStyleSheet(ERROR_STYLE)
        else:
            self.error.hide()
            self.error.clear()
            if edit is not None:
                edit.setStyleSheet("")

    @property
    def has_error(self) -> bool:
        return not self.error.isHidden()


def _range_text(spec: ParamSpec) -> str:
    if spec.minimum is None and spec.maximum is None:
        return ""
    lo = "" if spec.minimum is None else f"{spec.minimum:g}"
    hi = "" if spec.maximum is None else f"{spec.maximum:g}"
    return f" (from {lo} to {hi})" if lo and hi else f" ({'at least ' + lo if lo else 'at most ' + hi})"


class InspectorWidget(QWidget):
    """Parameters and figures of the selected block, edited through ``document``.

    Signals ``glossaryRequested(key)`` when a "Learn more" link to a glossary entry is clicked.
    """

    glossaryRequested = Signal(str)

    def __init__(self, document: EditorDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.block_id: str | None = None
        self.fields: dict[str, _Field] = {}

        self.icon = QLabel()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600; font-size: 14px;")
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        self.help = QLabel()
        self.help.setWordWrap(True)
        font = self.help.font()
        font.setPointSizeF(font.pointSizeF() * 0.92)
        self.help.setFont(font)
        self.name_field = BlockNameField(document)
        self.learn = QLabel()
        self.learn.setWordWrap(True)
        self.learn.setTextFormat(Qt.RichText)
        self.learn.setFont(font)
        self.learn.linkActivated.connect(lambda link: self.glossaryRequested.emit(link.partition(":")[2]))
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 4)
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        name_label = QLabel("Name")
        name_label.setToolTip(self.name_field.edit.toolTip())
        self.form.addRow(name_label, self.name_field)  # row 0 stays; the parameter rows follow it
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        line.setFrameShadow(QFrame.Sunken)
        self.figures = QLabel()
        self.figures.setTextFormat(Qt.RichText)
        self.figures.setWordWrap(True)
        self.issues = QLabel()
        self.issues.setWordWrap(True)
        self.issues.setTextFormat(Qt.RichText)

        body = QWidget()
        inner = QVBoxLayout(body)
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addLayout(head)
        inner.addWidget(self.help)
        inner.addWidget(self.learn)
        inner.addWidget(self.form_host)
        inner.addWidget(line)
        inner.addWidget(self.figures)
        inner.addWidget(self.issues)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        document.selectionChanged.connect(self._on_selection)
        document.analysisChanged.connect(self._on_analysis)
        follow(document.network.events, self._on_network_event)
        document.lockedChanged.connect(self._on_locked)
        self._on_selection(document.selected_ids())

    # ----------------------------------------------------------------- following the document

    def _on_selection(self, ids: list[str]) -> None:
        self.show_block(ids[0] if len(ids) == 1 else None, len(ids))

    def show_block(self, block_id: str | None, count: int = 1) -> None:
        """Show ``block_id``'s form (or a hint when nothing or several blocks are selected)."""
        self.block_id = block_id if block_id in self.document.network.blocks else None
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.fields.clear()
        self.name_field.set_block(self.block_id)
        self.form.setRowVisible(0, self.block_id is not None)
        if self.block_id is None:
            self.learn.clear()
            self.icon.clear()
            self.title.setText("No block selected" if count == 0 else f"{count} blocks selected")
            self.help.setText("Select one block on the canvas to see and edit its parameters.")
            self.figures.clear()
            self.issues.clear()
            return
        block = self.document.network.blocks[self.block_id]
        spec = get_spec(block.kind)
        self.icon.setPixmap(block_icon(block.kind).pixmap(22, 22))
        self.title.setText(f"{spec.label}  \u00b7  {block.id}")
        self.help.setText(spec.help)
        self._show_learn_links()
        if not spec.params:
            self.form.addRow(QLabel("This block has no parameters."))
        for p in spec.params:
            field = _Field(p, self._edited, self._finished)
            field.set_value(block.params[p.name])
            cell = QWidget()
            col = QVBoxLayout(cell)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            col.addWidget(field.widget)
            col.addWidget(field.error)
            label = QLabel(p.title)
            label.setToolTip(p.help)
            self.form.addRow(label, cell)
            self.fields[p.name] = field
        self._on_locked(self.document.locked)
        self._on_analysis(self.document.analysis)

    def _show_learn_links(self) -> None:
        """Links to the glossary entries that explain the block, in the palette's link colour."""
        block = self.document.network.blocks.get(self.block_id) if self.block_id else None
        if block is None:
            self.learn.clear()
            return
        color = self.palette().color(QPalette.ColorRole.Link).name()
        terms = terms_for(block.kind, [p.name for p in block.spec.params], limit=5)
        links = ", ".join(f'<a style="color:{color}" href="glossary:{t.key}">{t.title}</a>' for t in terms)
        self.learn.setText(f"Learn more: {links}" if terms else "")

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.PaletteChange:
            self._show_learn_links()
        super().changeEvent(event)

    def _on_network_event(self, event: NetworkEvent) -> None:
        if event.kind == "param_changed" and event.block_id == self.block_id and event.name in self.fields:
            field = self.fields[event.name]
            field.show_error(None)
            field.set_value(event.value)
        elif event.kind == "renamed" and event.old == self.block_id:
            self.show_block(event.block_id)
        elif event.kind in ("removed", "reset") and self.block_id is not None \
                and self.block_id not in self.document.network.blocks:
            self.show_block(None, 0)

    def _on_analysis(self, analysis: Analysis) -> None:
        if self.block_id is None:
            return
        info = analysis.info.get(self.block_id)
        rows = []
        if info is not None and info.shape:
            rows.append(("Output shape", format_shape(info.shape)))
            trainable = info.trainable_params
            extra = f" ({format_count(trainable)} trainable)" if trainable != info.params else ""
            rows.append(("Parameters", format_count(info.params) + extra))
            rows.append(("Multiply-adds", format_count(info.macs)))
            rows.append(("Activation memory", format_bytes(info.activation_bytes) + " per image"))
            field = self._receptive_field(analysis)
            if field:
                rows.append(("Receptive field", field))
        else:
            rows.append(("Output shape", "unknown until the problems above it are fixed"))
        self.figures.setText("<table cellspacing='3'>" + "".join(
            f"<tr><td>{k}:</td><td><b>{v}</b></td></tr>" for k, v in rows) + "</table>")
        issues = analysis.issues_for(self.block_id)
        self.issues.setText("<br>".join(
            f"<span style='color:{'#C62828' if i.severity == 'error' else '#B26A00'}'>"
            f"<b>{i.severity.title()}:</b> {i.message}</span>" for i in issues))

    def _receptive_field(self, analysis: Analysis) -> str:
        """How much of the image one output unit of this block sees ('' when it cannot be known)."""
        if analysis.errors:
            return ""
        try:
            fields = receptive_fields(self.document.network, analysis.input_shape, analysis)
        except ValueError:
            return ""
        info = fields.get(self.block_id)
        if info is None:
            return ""
        if not info.spatial:
            return "the whole image"
        return f"{info.size[0]}x{info.size[1]} pixels"

    def _on_locked(self, locked: bool) -> None:
        self.name_field.edit.setEnabled(self.block_id is not None and not locked)
        for field in self.fields.values():
            field.widget.setEnabled(not locked)

    # ----------------------------------------------------------------- edits

    def _edited(self, field: _Field, value: Any) -> None:
        if self.block_id is None:
            return
        try:
            field.spec.validate(value)
        except ValueError as exc:
            field.show_error(str(exc))
            return
        reason = self.document.set_param(self.block_id, field.spec.name, value)
        field.show_error(reason)

    def _finished(self, field: _Field) -> None:
        """Leaving a field with a refused value puts the applied value back; the reason stays."""
        if self.block_id is None or not field.has_error:
            return
        value = self.document.network.blocks[self.block_id].params[field.spec.name]
        field.set_value(value)

    def error_text(self, name: str) -> str:
        """The message shown next to parameter ``name`` ('' when its value is accepted)."""
        field = self.fields[name]
        return "" if field.error.isHidden() else field.error.text()
