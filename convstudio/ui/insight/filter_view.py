"""Kernels of a Conv2D block on a diverging colour map (zero = white), replayable by epoch."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.blocks import get_spec
from convstudio.core.inspection import (
    Timeline,
    colour_filters,
    conv_kernel_array,
    kernel_bank,
)
from convstudio.core.network import Network

from .tile_grid import TileGrid

__all__ = ["FilterView", "hand_kernel_init", "hand_kernel_sets"]


def hand_kernel_sets(size: int) -> dict[str, list[np.ndarray]]:
    """Hand-designed kernel sets that fit a ``size`` x ``size`` Conv2D, by name.

    They are the kernels a Conv2D block starts from with the matching ``kernel_init``
    (see :func:`hand_kernel_init`).
    """
    sets: dict[str, list[np.ndarray]] = {}
    if size == 3:
        sets["Sobel edges (horizontal, vertical)"] = kernel_bank("sobel", 3, 3)
        sets["Kirsch compass (8 directions)"] = kernel_bank("kirsch", 3, 3)
    if size > 1:
        sets[f"Gaussian blur (sigma {size / 4:.2g})"] = kernel_bank("gaussian", size, size)
    return sets


def hand_kernel_init(set_name: str) -> str:
    """The Conv2D ``kernel_init`` value of a set named by :func:`hand_kernel_sets` ('sobel', ...)."""
    return set_name.split()[0].lower()


class FilterView(QWidget):
    """Choose a Conv2D block and an input channel; its filters as a grid with a colour bar.

    Colours are symmetric about zero ('RdBu_r': negative weights blue, positive red), so a weight
    of zero always looks the same. Kernels with one input channel (the first layer) are also shown
    as small grayscale images, the way the network sees them. The epoch slider replays the
    :class:`~convstudio.core.inspection.Timeline`.
    """

    epochChanged = Signal(int)
    handKernelsRequested = Signal(str, str)  # block id, kernel set name
    useKernelsRequested = Signal(str, str)  # block id, kernel_init value ("sobel", "kirsch", "gaussian")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kernels: dict[str, np.ndarray] = {}
        self._timeline: Timeline | None = None
        self._live: dict[str, np.ndarray] = {}
        self._network: Network | None = None

        self.block_combo = QComboBox()
        self.block_combo.currentIndexChanged.connect(lambda _i: self._refresh())
        self.channel_spin = QSpinBox()
        self.channel_spin.setToolTip("Input channel of the kernels shown "
                                     "(a kernel has one 2-D slice per input channel)")
        self.channel_spin.valueChanged.connect(lambda _v: self._refresh())
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Replay the filters as they were at the end of each epoch")
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider)
        self.epoch_label = QLabel("epoch –")
        self.grid = TileGrid(cmap="RdBu_r", symmetric=True, colorbar=True, save_name="filters.png")
        self.small = TileGrid(cmap="gray", scale="per_tile", labels=False, save_name="filters_gray.png")
        self.small.setMaximumHeight(70)
        self.colour = TileGrid(labels=True, save_name="filters_colour.png")
        self.colour.setMaximumHeight(110)
        self.colour_preferences: list[str] = []
        self.colour.setToolTip("Each filter of a colour image's first layer as a colour picture (its weights "
                               "min-max scaled), titled with the colour it prefers (highest mean weight)")
        self.info = QLabel()

        top = QHBoxLayout()
        top.addWidget(QLabel("Conv2D block:"))
        top.addWidget(self.block_combo, 1)
        top.addWidget(QLabel("Input channel:"))
        top.addWidget(self.channel_spin)
        replay = QHBoxLayout()
        replay.addWidget(QLabel("Epoch:"))
        replay.addWidget(self.slider, 1)
        replay.addWidget(self.epoch_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addWidget(self.grid, 1)
        self.small_label = QLabel("As images (each scaled to its own range, black = most negative):")
        layout.addWidget(self.small_label)
        layout.addWidget(self.small)
        self.colour_label = QLabel("In colour (each filter scaled to its own range), with the colour it prefers:")
        layout.addWidget(self.colour_label)
        layout.addWidget(self.colour)
        layout.addLayout(replay)

        self.hand_combo = QComboBox()
        self.hand_combo.setToolTip("Classic hand-designed kernels of this block's size, "
                                   "to compare with the learned ones")
        self.hand_combo.currentIndexChanged.connect(lambda _i: self._show_hand())
        self.hand_button = QPushButton("See the maps with these kernels")
        self.hand_button.setToolTip("Feature maps of this block if its filters were these kernels "
                                    "(a preview on a copy: the trained model is not changed)")
        self.hand_button.setEnabled(False)
        self.hand_button.clicked.connect(self._request_hand)
        self.hand_grid = TileGrid(cmap="RdBu_r", symmetric=True, scale="per_tile", save_name="hand_kernels.png")
        self.hand_grid.setMaximumHeight(80)
        self.use_button = QPushButton("Use these kernels")
        self.use_button.setToolTip("Make this Conv2D block start from these kernels (its 'Initial kernels' "
                                   "parameter; undoable). Train again to use them; untick 'Trainable' in the "
                                   "inspector to keep them as they are.")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._request_use)
        hand = QHBoxLayout()
        hand.addWidget(QLabel("Hand-designed:"))
        hand.addWidget(self.hand_combo, 1)
        hand.addWidget(self.hand_button)
        hand.addWidget(self.use_button)
        layout.addLayout(hand)
        layout.addWidget(self.hand_grid)

        # A block that started from hand-designed kernels: as designed beside as they are now.
        self.compare_label = QLabel()
        self.compare_label.setWordWrap(True)
        self.compare_start = TileGrid(cmap="RdBu_r", symmetric=True, scale="fixed", save_name="kernels_designed.png")
        self.compare_now = TileGrid(cmap="RdBu_r", symmetric=True, scale="fixed", save_name="kernels_now.png")
        self.compare_box = QWidget()
        compare = QVBoxLayout(self.compare_box)
        compare.setContentsMargins(0, 0, 0, 0)
        compare.addWidget(self.compare_label)
        sides = QHBoxLayout()
        for caption, grid in (("As designed", self.compare_start), ("Now", self.compare_now)):
            side = QVBoxLayout()
            side.addWidget(QLabel(caption))
            side.addWidget(grid, 1)
            sides.addLayout(side, 1)
        compare.addLayout(sides)
        self.compare_box.setMinimumHeight(140)
        self.compare_box.hide()
        layout.addWidget(self.compare_box, 1)
        self._can_preview = False
        self.drift: float | None = None
        """Largest difference between the shown block's kernels and its hand-designed start (None: none)."""

    # ------------------------------------------------------------------ inputs

    def set_kernels(self, kernels: dict[str, np.ndarray]) -> None:
        """Current kernels ``{block_id: (kh, kw, c_in, c_out)}``; the slider jumps to the newest epoch."""
        self._live = dict(kernels)
        if self._timeline is not None and len(self._timeline):
            self._sync_slider(to_end=True)
        self._show(self._live)

    def set_network(self, network: Network | None) -> None:
        """The network being edited: tells which blocks started from hand-designed kernels."""
        self._network = network
        self._refresh()

    def network_changed(self) -> None:
        """A block's parameters may have changed: redraw the comparison and the actions."""
        self._refresh()

    def set_timeline(self, timeline: Timeline | None) -> None:
        self._timeline = timeline
        self._sync_slider(to_end=True)

    def _sync_slider(self, to_end: bool) -> None:
        epochs = self._timeline.epochs() if self._timeline is not None else []
        self.slider.blockSignals(True)
        self.slider.setEnabled(len(epochs) > 1)
        self.slider.setRange(0, max(0, len(epochs) - 1))
        if to_end:
            self.slider.setValue(max(0, len(epochs) - 1))
        self.slider.blockSignals(False)
        self.epoch_label.setText(f"epoch {epochs[self.slider.value()] + 1}" if epochs else "epoch –")

    def _on_slider(self, position: int) -> None:
        if self._timeline is None:
            return
        epochs = self._timeline.epochs()
        if not epochs:
            return
        epoch = epochs[min(position, len(epochs) - 1)]
        snap = self._timeline.at(epoch)
        self.epoch_label.setText(f"epoch {epoch + 1}")
        if snap is not None and snap.kernels:
            self._show(snap.kernels)
        self.epochChanged.emit(epoch)

    def show_epoch(self, epoch: int) -> None:
        """Move the slider to ``epoch`` (as kept by the timeline)."""
        if self._timeline is None or epoch not in self._timeline.epochs():
            raise KeyError(f"the timeline has no epoch {epoch}")
        self.slider.setValue(self._timeline.epochs().index(epoch))
        self._on_slider(self.slider.value())

    def _show(self, kernels: dict[str, np.ndarray]) -> None:
        self._kernels = {k: np.asarray(v) for k, v in kernels.items() if np.ndim(v) == 4}
        current = self.block_combo.currentData()
        ids = list(self._kernels)
        if ids != [self.block_combo.itemData(i) for i in range(self.block_combo.count())]:
            self.block_combo.blockSignals(True)
            self.block_combo.clear()
            for bid in ids:
                kh, kw, cin, cout = self._kernels[bid].shape
                self.block_combo.addItem(f"{bid}  ({cout} filters {kh}x{kw}x{cin})", bid)
            if current in ids:
                self.block_combo.setCurrentIndex(ids.index(current))
            self.block_combo.blockSignals(False)
        self._refresh()

    def current_block(self) -> str | None:
        return self.block_combo.currentData()

    def color_limits(self) -> tuple[float, float]:
        """The (vmin, vmax) of the kernel colours: always symmetric about zero."""
        limits = self.grid.color_limits()
        return limits[0] if limits else (-1.0, 1.0)

    def _refresh(self) -> None:
        bid = self.current_block()
        kernel = self._kernels.get(bid) if bid else None
        self._show_colour(kernel)
        if kernel is None:
            self.grid.set_arrays([])
            self.small.set_arrays([])
            self.info.setText("No Conv2D kernels yet: they appear while training or after a model is set.")
            self._show_compare(None, None, 0)
            self._show_hand()
            return
        kh, kw, cin, cout = kernel.shape
        self.channel_spin.blockSignals(True)
        self.channel_spin.setRange(0, cin - 1)
        self.channel_spin.blockSignals(False)
        channel = min(self.channel_spin.value(), cin - 1)
        tiles = [kernel[:, :, channel, j] for j in range(cout)]
        self.grid.set_arrays(tiles, [str(j) for j in range(cout)])
        vmin, vmax = self.color_limits()
        self.info.setText(f"{bid}: {cout} filters of {kh}x{kw} over {cin} input channel(s); showing channel "
                          f"{channel}. Colour range {vmin:.3g} to {vmax:.3g}: blue negative, white zero, red positive.")
        sets = hand_kernel_sets(kh) if kh == kw else {}
        if list(sets) != [self.hand_combo.itemText(i) for i in range(self.hand_combo.count())]:
            self.hand_combo.blockSignals(True)
            self.hand_combo.clear()
            self.hand_combo.addItems(list(sets))
            self.hand_combo.blockSignals(False)
        self._show_hand()
        first_layer = cin == 1
        self.small.setVisible(first_layer)
        self.small_label.setVisible(first_layer)
        self.small.set_arrays(tiles if first_layer else [])
        self._show_compare(bid, kernel, channel)

    def _show_colour(self, kernel: np.ndarray | None) -> None:
        """A first layer over RGB images: its filters as colour pictures, titled with the colour each prefers."""
        filters = colour_filters(kernel) if kernel is not None and kernel.shape[2] == 3 else []
        self.colour.setVisible(bool(filters))
        self.colour_label.setVisible(bool(filters))
        self.colour.set_arrays([f.image for f in filters], [f"{j} {f.prefers or '–'}" for j, f in enumerate(filters)])
        self.colour_preferences = [f.label for f in filters]

    def _block_params(self, bid: str | None) -> dict:
        block = self._network.blocks.get(bid) if self._network is not None and bid else None
        return dict(block.params) if block is not None and get_spec(block.kind).kernel_view else {}

    def _show_compare(self, bid: str | None, kernel: np.ndarray | None, channel: int) -> None:
        params = self._block_params(bid)
        init = params.get("kernel_init", "learned")
        self.drift = None
        start = None
        if kernel is not None and init != "learned":
            kh, kw, cin, cout = kernel.shape
            try:
                start = conv_kernel_array(init, kh, kw, cin, cout)
            except ValueError:  # the block's kernel size changed since these kernels were made
                start = None
        if start is None:
            self.compare_box.hide()
            self.compare_start.set_arrays([])
            self.compare_now.set_arrays([])
            return
        cout = kernel.shape[3]
        designed = [start[:, :, channel, j] for j in range(cout)]
        now = [kernel[:, :, channel, j] for j in range(cout)]
        bound = float(max(np.abs(start).max(), np.abs(kernel).max(), 1e-6))
        titles = [str(j) for j in range(cout)]
        for grid, tiles in ((self.compare_start, designed), (self.compare_now, now)):
            grid.set_scale("fixed", (-bound, bound))
            grid.set_arrays(tiles, titles)
        self.drift = float(np.abs(kernel - start).max())
        frozen = not params.get("trainable", True)
        if frozen:
            how = ("Frozen: training leaves them as they are" + ("." if self.drift < 1e-6 else
                   f", yet these kernels differ by up to {self.drift:.3g} (they come from an earlier model)."))
        else:
            how = (f"Trainable: training has moved them by up to {self.drift:.3g} from the design."
                   if self.drift >= 1e-6 else "Trainable: not changed yet; training will move them.")
        self.compare_label.setText(f"<b>{bid}</b> started from hand-designed <b>{init}</b> kernels. {how} "
                                   "Compare them with the learned filters of another block above.")
        self.compare_box.show()

    def set_preview_enabled(self, enabled: bool) -> None:
        """Allow previews with hand-designed kernels (needs a trained model, not a live run)."""
        self._can_preview = enabled
        self._show_hand()

    def _show_hand(self) -> None:
        bid = self.current_block()
        kernel = self._kernels.get(bid) if bid else None
        sets = hand_kernel_sets(kernel.shape[0]) if kernel is not None and kernel.shape[0] == kernel.shape[1] else {}
        chosen = sets.get(self.hand_combo.currentText(), [])
        self.hand_grid.set_arrays(chosen, [str(i) for i in range(len(chosen))])
        self.hand_button.setEnabled(self._can_preview and bool(chosen))
        params = self._block_params(bid)
        wanted = hand_kernel_init(self.hand_combo.currentText()) if chosen else ""
        self.use_button.setText(f"Use these kernels in {bid}" if params else "Use these kernels")
        self.use_button.setEnabled(bool(params) and bool(wanted) and params.get("kernel_init") != wanted)

    def _request_hand(self) -> None:
        bid = self.current_block()
        if bid and self.hand_combo.currentText():
            self.handKernelsRequested.emit(bid, self.hand_combo.currentText())

    def _request_use(self) -> None:
        bid = self.current_block()
        if bid and self.hand_combo.currentText():
            self.useKernelsRequested.emit(bid, hand_kernel_init(self.hand_combo.currentText()))

    def save_png(self, path: str) -> bool:
        return self.grab().save(path, "PNG")
