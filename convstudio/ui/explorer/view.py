"""The convolution explorer: a kernel or pooling window sliding over an input, one step at a time.

A thin view over :mod:`convstudio.core.explorer`: every change of a control recomputes the
(cheap, numpy) exploration and redraws. The input is shown twice, as numbers around the window and
as a whole image; each output value is written out as its sum of products, and the output-size
formula is filled in with the current numbers. Play steps on a timer on the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.explorer import (
    KERNEL_PRESETS,
    TEACHING_GRID,
    BlockSetup,
    Exploration,
    ExplorerError,
    ExplorerState,
    WindowSettings,
    explore,
    format_number,
    formula_text,
    preset_kernel,
)
from convstudio.ui.insight.render import symmetric_limits

from .grid_view import GridView
from .kernel_table import KernelTable

__all__ = ["BLOCK_FILTER", "CUSTOM", "GRID_SOURCE", "ConvExplorer"]

CUSTOM = "Custom"
BLOCK_FILTER = "The block's filter"
GRID_SOURCE = "Numbers 7×7 (two edges)"
_OPS = (("Convolution (Conv2D)", "conv"), ("Max pooling", "max"), ("Average pooling", "avg"))
_ZOOM = 9


def _pair(low: int, high: int, tip: str) -> tuple[QSpinBox, QSpinBox, QWidget]:
    """Two spin boxes (rows × columns) in one row."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    spins = []
    for axis in ("rows", "columns"):
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setToolTip(f"{tip} ({axis})")
        spins.append(spin)
    row.addWidget(spins[0])
    row.addWidget(QLabel("×"))
    row.addWidget(spins[1])
    return spins[0], spins[1], box


def _titled(title: str, widget: QWidget) -> tuple[QWidget, QLabel]:
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    label = QLabel(title)
    label.setStyleSheet("font-weight: bold;")
    column.addWidget(label)
    column.addWidget(widget, 1)
    return box, label


def _resized(kernel: np.ndarray, h: int, w: int) -> np.ndarray:
    """``kernel`` cropped or zero-padded to ``h`` x ``w`` (a custom kernel keeps what fits)."""
    out = np.zeros((h, w, kernel.shape[2]))
    rows, cols = min(h, kernel.shape[0]), min(w, kernel.shape[1])
    out[:rows, :cols] = kernel[:rows, :cols]
    return out


class ConvExplorer(QWidget):
    """Step a convolution or pooling window over an input and see how each output value is made.

    ``stateChanged`` fires after every change (settings, kernel, input, position), so a lesson can
    re-check its goals on :meth:`explorer_state`.
    """

    stateChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sources: dict[str, np.ndarray] = {GRID_SOURCE: TEACHING_GRID[:, :, None].copy()}
        self._kernel = preset_kernel("Sobel vertical edges", 3, 3)[:, :, None]
        self._bias = 0.0
        self._block: BlockSetup | None = None
        self._settings = WindowSettings()
        self._index = 0
        self._updating = False
        self.result: Exploration | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(450)
        self._timer.timeout.connect(self._tick)
        self._build_controls()
        self._build_views()
        self._layout_all()
        self._sync_widgets()
        self._recompute()

    # ------------------------------------------------------------------ construction

    def _build_controls(self) -> None:
        self.source_combo = QComboBox()
        self.source_combo.addItem(GRID_SOURCE)
        self.source_combo.setToolTip("What the window slides over")
        self.channel_spin = QSpinBox()
        self.channel_spin.setToolTip("Input channel shown (a convolution adds the products of every channel)")
        self.op_combo = QComboBox()
        for label, op in _OPS:
            self.op_combo.addItem(label, op)
        self.kh_spin, self.kw_spin, self.kernel_box = _pair(1, 9, "Kernel or pool window size")
        self.sh_spin, self.sw_spin, self.stride_box = _pair(1, 6, "Stride: how far the window jumps")
        self.dh_spin, self.dw_spin, self.dilation_box = _pair(1, 4, "Dilation: gaps between the kernel's taps")
        self.padding_combo = QComboBox()
        self.padding_combo.addItems(["valid", "same", "full"])
        self.padding_combo.setToolTip("'valid': no zeros; 'same': Keras adds zeros to keep ceil(n/stride); "
                                      "'full': kernel − 1 zeros on each side")
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([*KERNEL_PRESETS, CUSTOM])
        self.preset_combo.setToolTip("Fill the kernel with a classic filter, or type your own weights")
        self.filter_spin = QSpinBox()
        self.filter_spin.setToolTip("Which of the block's filters to use")
        for spin in (self.channel_spin, self.kh_spin, self.kw_spin, self.sh_spin, self.sw_spin,
                     self.dh_spin, self.dw_spin, self.filter_spin):
            spin.valueChanged.connect(self._on_controls)
        for combo in (self.source_combo, self.op_combo, self.padding_combo, self.preset_combo):
            combo.currentIndexChanged.connect(self._on_controls)

        self.back_button = QPushButton("◀ Step")
        self.play_button = QPushButton("▶ Play")
        self.next_button = QPushButton("Step ▶")
        self.first_button = QPushButton("|◀")
        self.last_button = QPushButton("▶|")
        self.first_button.setToolTip("First output position")
        self.last_button.setToolTip("Last output position")
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.first_button.clicked.connect(lambda: self.set_index(0))
        self.last_button.clicked.connect(lambda: self.set_index(len(self.result.positions) - 1 if self.result else 0))
        self.play_button.clicked.connect(self.toggle_play)

    def _build_views(self) -> None:
        self.numbers_view = GridView(numbers=True, min_number_cell=16)
        self.image_view = GridView(numbers=False)
        self.kernel_table = KernelTable()
        self.kernel_table.edited.connect(self._on_kernel_edited)
        self.output_view = GridView(numbers=True, min_number_cell=22)
        self.output_view.cellClicked.connect(self.set_position)
        self.heading = QLabel("Convolution explorer")
        heading_font = QFont(self.font())
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.3)
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.sum_label = QLabel()
        self.sum_label.setWordWrap(True)
        self.sum_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sum_font = QFont("DejaVu Sans Mono")
        sum_font.setStyleHint(QFont.StyleHint.Monospace)
        sum_font.setPointSizeF(self.font().pointSizeF() * 1.15)
        self.sum_label.setFont(sum_font)
        self.sum_label.setStyleSheet("background: #fff8ec; border: 1px solid #f0c890; padding: 6px;")
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setStyleSheet("background: #eef4ff; border: 1px solid #b8cdf0; padding: 6px;")
        self.size_label = QLabel()
        self.size_label.setStyleSheet("font-weight: bold;")
        self.position_label = QLabel()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #8a5a00;")

    def _layout_all(self) -> None:
        form = QFormLayout()
        form.addRow("Input:", self.source_combo)
        form.addRow("Channel:", self.channel_spin)
        form.addRow("Operation:", self.op_combo)
        form.addRow("Kernel size:", self.kernel_box)
        form.addRow("Stride:", self.stride_box)
        form.addRow("Padding:", self.padding_combo)
        form.addRow("Dilation:", self.dilation_box)
        form.addRow("Kernel:", self.preset_combo)
        form.addRow("Filter:", self.filter_spin)
        self._form = form
        legend = QLabel("<b>Orange</b>: the window on the input.<br><b>Red</b>: the output value it makes.<br>"
                        "<b>Hatched</b>: padding zeros.<br><br>Click an output cell to move the window there; "
                        "double-click a weight to change it.")
        legend.setWordWrap(True)
        legend.setStyleSheet("color: #444; margin-top: 12px;")
        column = QVBoxLayout()
        column.addLayout(form)
        column.addWidget(legend)
        column.addStretch(1)
        settings = QGroupBox("Settings")
        settings.setLayout(column)
        settings.setMaximumWidth(300)

        panels = QHBoxLayout()
        numbers_box, self.numbers_title = _titled("Input: numbers around the window", self.numbers_view)
        image_box, self.image_title = _titled("Input: image", self.image_view)
        kernel_column = QWidget()
        kernel_layout = QVBoxLayout(kernel_column)
        kernel_layout.setContentsMargins(0, 0, 0, 0)
        kernel_layout.addStretch(1)
        kernel_layout.addWidget(self.kernel_table, 0, Qt.AlignmentFlag.AlignHCenter)
        self.kernel_legend = QLabel("blue < 0 < red")
        self.kernel_legend.setStyleSheet("color: #555;")
        kernel_layout.addWidget(self.kernel_legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.pool_label = QLabel()
        self.pool_label.setWordWrap(True)
        self.pool_label.setMaximumWidth(200)
        kernel_layout.addWidget(self.pool_label)
        kernel_layout.addStretch(1)
        kernel_box, self.kernel_title = _titled("Kernel", kernel_column)
        output_box, self.output_title = _titled("Output", self.output_view)
        for box, stretch in ((numbers_box, 3), (image_box, 3), (kernel_box, 0), (output_box, 3)):
            panels.addWidget(box, stretch)

        nav = QHBoxLayout()
        for button in (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button):
            nav.addWidget(button)
        nav.addSpacing(12)
        nav.addWidget(self.position_label, 1)
        nav.addWidget(self.size_label)

        right = QVBoxLayout()
        right.addWidget(self.heading)
        right.addLayout(panels, 1)
        right.addLayout(nav)
        right.addWidget(self.sum_label)
        right.addWidget(self.formula_label)
        right.addWidget(self.note_label)
        main = QHBoxLayout(self)
        main.addWidget(settings)
        main.addLayout(right, 1)

    # ------------------------------------------------------------------ public API

    @property
    def position(self) -> tuple[int, int]:
        """The output position ``(row, col)`` the window is at."""
        return self.result.positions[self._index] if self.result else (0, 0)

    @property
    def settings(self) -> WindowSettings:
        return self._settings

    def set_input(self, image: np.ndarray, name: str) -> None:
        """Add (or replace) an input called ``name`` (``(h, w)`` or ``(h, w, c)``) and show it."""
        x = np.asarray(image, dtype=np.float64)
        self._sources[name] = x[:, :, None] if x.ndim == 2 else x
        self._updating = True
        if self.source_combo.findText(name) < 0:
            self.source_combo.addItem(name)
        self.source_combo.setCurrentText(name)
        self._updating = False
        self._on_controls()

    def set_kernel(self, kernel: np.ndarray, preset: str = CUSTOM) -> None:
        """Use ``kernel`` (``(kh, kw)`` or ``(kh, kw, c)``); its size becomes the kernel size."""
        k = np.asarray(kernel, dtype=np.float64)
        self._kernel = k[:, :, None] if k.ndim == 2 else k
        self._settings = WindowSettings(self._kernel.shape[:2], self._settings.stride, self._settings.padding,
                                        self._settings.dilation, self._settings.op)
        self._sync_widgets(preset)
        self._recompute()

    def set_settings(self, settings: WindowSettings) -> None:
        """Show ``settings`` in the controls and recompute (the kernel follows the new size)."""
        self._settings = settings
        self._sync_widgets()
        self._fit_kernel()
        self._recompute()

    def load_block(self, setup: BlockSetup) -> None:
        """Show a network block: its settings, its kernels (filter 0) and the input it sees."""
        self._block = setup
        self._bias = 0.0
        if setup.image is not None:
            self.set_input(setup.image, f"Input of {setup.block_id}")
        if self.preset_combo.findText(BLOCK_FILTER) < 0 and setup.kernels is not None:
            self.preset_combo.insertItem(0, BLOCK_FILTER)
        filters = setup.kernels.shape[3] if setup.kernels is not None else 1
        self.filter_spin.setRange(0, filters - 1)
        what = f"{setup.kernels.shape[3]} filters" if setup.kernels is not None else "pooling"
        self.heading.setText(f"Convolution explorer: {setup.block_id} ({setup.kind}, {what})")
        self.setWindowTitle(f"Convolution explorer: {setup.block_id}")
        self._settings = setup.settings
        self._sync_widgets(BLOCK_FILTER if setup.kernels is not None else None)
        self._fit_kernel()
        self._recompute()

    def step(self, delta: int) -> None:
        """Move the window ``delta`` output positions on (row by row)."""
        if self.result:
            self.set_index(max(0, min(self._index + delta, len(self.result.positions) - 1)))

    def set_index(self, index: int) -> None:
        self._index = index
        self._refresh_views()
        self.stateChanged.emit()

    def set_position(self, row: int, col: int) -> None:
        """Put the window on output ``(row, col)``."""
        if self.result and (row, col) in self.result.positions:
            self.set_index(self.result.positions.index((row, col)))

    def toggle_play(self) -> None:
        """Play steps through the positions on a timer; at the end it stops."""
        if self._timer.isActive():
            self._timer.stop()
        else:
            if self.result and self._index >= len(self.result.positions) - 1:
                self.set_index(0)
            self._timer.start()
        self.play_button.setText("⏸ Pause" if self._timer.isActive() else "▶ Play")

    def explorer_state(self) -> ExplorerState:
        """Plain data for lesson goals."""
        size = self._image().shape[:2]
        return ExplorerState(self._settings, (int(size[0]), int(size[1])), self.position,
                             self._block.block_id if self._block else None)

    def apply_changes(self, changes: dict) -> None:
        """Change settings and/or ``position`` by name, as a lesson's "show me" does; checked first."""
        state = self.explorer_state().with_changes(changes)
        self.set_settings(state.settings)
        self.set_position(*state.position)

    # ------------------------------------------------------------------ reacting to controls

    def _image(self) -> np.ndarray:
        return self._sources[self.source_combo.currentText() or GRID_SOURCE]

    def _sync_widgets(self, preset: str | None = None) -> None:
        """Put the settings into the controls without reacting to them."""
        self._updating = True
        s = self._settings
        for spin, value in ((self.kh_spin, s.kernel[0]), (self.kw_spin, s.kernel[1]), (self.sh_spin, s.stride[0]),
                            (self.sw_spin, s.stride[1]), (self.dh_spin, s.dilation[0]), (self.dw_spin, s.dilation[1])):
            spin.setValue(value)
        self.padding_combo.setCurrentText(s.padding)
        self.op_combo.setCurrentIndex([op for _, op in _OPS].index(s.op))
        if preset is not None:
            self.preset_combo.setCurrentText(preset)
        self._updating = False

    def _read_settings(self) -> WindowSettings:
        op = self.op_combo.currentData()
        dilation = (self.dh_spin.value(), self.dw_spin.value()) if op == "conv" else (1, 1)
        return WindowSettings((self.kh_spin.value(), self.kw_spin.value()), (self.sh_spin.value(), self.sw_spin.value()),
                              self.padding_combo.currentText(), dilation, op)

    def _on_controls(self, *_args) -> None:
        if self._updating:
            return
        self._settings = self._read_settings()
        self._fit_kernel()
        self._recompute()

    def _on_kernel_edited(self, row: int, col: int, value: float) -> None:
        channel = min(self.channel_spin.value(), self._kernel.shape[2] - 1)
        self._kernel[row, col, channel] = value
        self._updating = True
        self.preset_combo.setCurrentText(CUSTOM)
        self._updating = False
        self._recompute()

    def _fit_kernel(self) -> None:
        """Make the kernel match the size, the input's channels and the chosen preset or filter."""
        h, w = self._settings.kernel
        channels = self._image().shape[2]
        preset = self.preset_combo.currentText()
        self._bias = 0.0
        if preset == BLOCK_FILTER and self._block is not None and self._block.kernels is not None:
            kernel = self._block_kernel(channels)
        elif preset in KERNEL_PRESETS:
            try:
                kernel = np.repeat(preset_kernel(preset, h, w)[:, :, None], channels, axis=2)
            except ExplorerError:
                kernel = None
        else:
            kernel = self._kernel if self._kernel.shape[2] == channels else \
                np.repeat(self._kernel[:, :, :1], channels, axis=2)
        if kernel is None or kernel.shape[:2] != (h, w):
            kernel = _resized(self._kernel if kernel is None else kernel, h, w)
            kernel = kernel if kernel.shape[2] == channels else np.repeat(kernel[:, :, :1], channels, axis=2)
            self._updating = True
            self.preset_combo.setCurrentText(CUSTOM)
            self._updating = False
        self._kernel = kernel

    def _block_kernel(self, channels: int) -> np.ndarray:
        assert self._block is not None and self._block.kernels is not None
        j = self.filter_spin.value()
        kernel = self._block.kernels[:, :, :, j]
        if self._block.biases is not None:
            self._bias = float(self._block.biases[j])
        if kernel.shape[2] != channels:  # the grid repeated on every channel meets the channels' sum
            kernel = np.repeat(kernel.sum(axis=2, keepdims=True), channels, axis=2)
        return kernel

    def _recompute(self) -> None:
        try:
            self.result = explore(self._image(), self._kernel, self._settings, self._bias)
        except ExplorerError as exc:
            self.result = None
            self.formula_label.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.sum_label.setText("")
            self.size_label.setText("")
            self._timer.stop()
            self.stateChanged.emit()
            return
        self._index = min(self._index, len(self.result.positions) - 1)
        self._refresh_views()
        self.stateChanged.emit()

    def _tick(self) -> None:
        if not self.result or self._index >= len(self.result.positions) - 1:
            self.toggle_play()
            return
        self.step(1)

    # ------------------------------------------------------------------ drawing

    def _refresh_views(self) -> None:
        e = self.result
        if e is None:
            return
        channels = e.channels
        self.channel_spin.setEnabled(channels > 1)
        self._updating = True
        self.channel_spin.setRange(0, channels - 1)
        self._updating = False
        channel = self.channel_spin.value()
        conv = e.settings.op == "conv"
        self.dilation_box.setEnabled(conv)
        self.preset_combo.setEnabled(conv)
        self.filter_spin.setEnabled(conv and self._block is not None and self._block.kernels is not None
                                    and self.filter_spin.maximum() > 0)
        i, j = self.position
        box = e.window_box(i, j)
        cells = e.window(i, j)
        plane = e.padded[:, :, channel]
        limits = (min(float(plane.min()), 0.0), max(float(plane.max()), 1e-9))
        for view in (self.numbers_view, self.image_view):
            view.set_values(plane, "gray", limits, e.pad_mask)
            view.set_window(box, cells)
        self.numbers_view.set_viewport(self._zoom(plane.shape, box))
        self._show_kernel(channel, conv)
        out = e.output if e.output.ndim == 2 else e.output[:, :, channel]
        if conv:
            self.output_view.set_values(out, "RdBu_r", symmetric_limits([out]))
        else:
            self.output_view.set_values(out, "gray", (min(float(out.min()), 0.0), max(float(out.max()), 1e-9)))
        self.output_view.set_current((i, j))
        self._show_text(e, i, j, channel)

    def _zoom(self, shape: tuple[int, int], box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        """A viewport of at most ``_ZOOM`` cells a side that keeps the window in view."""
        rows, cols = min(shape[0], max(_ZOOM, box[2] + 2)), min(shape[1], max(_ZOOM, box[3] + 2))
        if (rows, cols) == tuple(shape):
            return None
        r0 = max(0, min(box[0] + box[2] // 2 - rows // 2, shape[0] - rows))
        c0 = max(0, min(box[1] + box[3] // 2 - cols // 2, shape[1] - cols))
        return r0, c0, rows, cols

    def _show_kernel(self, channel: int, conv: bool) -> None:
        self.kernel_table.setVisible(conv)
        self.kernel_legend.setVisible(conv)
        self.pool_label.setVisible(not conv)
        if conv:
            self.kernel_table.set_values(self._kernel[:, :, min(channel, self._kernel.shape[2] - 1)])
            self.kernel_title.setText("Kernel" + (f" (channel {channel})" if self._kernel.shape[2] > 1 else ""))
        else:
            kh, kw = self._settings.kernel
            how = "largest value" if self._settings.op == "max" else "mean"
            self.pool_label.setText(f"A {kh}×{kw} pooling window has no weights: it keeps the {how} of the "
                                    "values under it, channel by channel.")
            self.kernel_title.setText("Pool window")

    def _show_text(self, e: Exploration, i: int, j: int, channel: int) -> None:
        (h, w), (oh, ow) = e.input_size, e.output_size
        self.size_label.setText(f"input {h}×{w} → output {oh}×{ow}")
        self.position_label.setText(f"Output ({i}, {j}), position {self._index + 1} of {len(e.positions)}")
        self.sum_label.setText(f"output[{i}, {j}] = {e.sum_text(i, j, channel, max_terms=27)}")
        self.formula_label.setText(formula_text(e.input_size, e.settings))
        notes = []
        if e.settings.op == "conv" and not e.settings.keras_accepts:
            notes.append("Keras Conv2D does not accept a stride above 1 together with a dilation above 1; "
                         "the numbers are still the textbook ones.")
        if e.settings.op != "conv" and e.settings.padding == "same":
            notes.append("With 'same', Keras pooling ignores the border zeros (they are not counted).")
        if self._block is not None:
            notes.extend(self._block.notes)
            if self._block.activation and e.settings.op == "conv":
                notes.append(f"Values before the block's activation ({self._block.activation}).")
            if self._bias:
                notes.append(f"Bias of filter {self.filter_spin.value()}: {format_number(self._bias)}.")
        self.note_label.setText(" · ".join(notes))
        self.note_label.setVisible(bool(notes))
