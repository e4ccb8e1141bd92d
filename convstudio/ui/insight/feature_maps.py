"""Feature maps of one block for the current sample, with receptive fields on the input."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from convstudio.core.inspection import receptive_field
from convstudio.core.network import Network
from convstudio.core.shapes import Analysis, analyze, format_shape

from .render import sample_tile
from .tile_grid import TileGrid

__all__ = ["FeatureMapView"]


_FIELD_HINT = "Click a unit of a map to see its receptive field on the input."


def _as_tiles(value: np.ndarray) -> list[np.ndarray]:
    """Maps ``(h, w, c)`` as ``c`` tiles; a flat vector as one near-square tile (NaN padded)."""
    value = np.asarray(value, dtype=np.float32)
    if value.ndim == 3:
        return [value[:, :, i] for i in range(value.shape[-1])]
    flat = value.ravel()
    side = max(1, math.ceil(math.sqrt(flat.size)))
    padded = np.full(side * math.ceil(flat.size / side), np.nan, dtype=np.float32)
    padded[:flat.size] = flat
    return [padded.reshape(-1, side)]


class FeatureMapView(QWidget):
    """Choose a block; see its maps in a grid; click a map to enlarge it and a unit to see its field."""

    blockChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._network: Network | None = None
        self._input_shape: tuple[int, int, int] = (28, 28, 1)
        self._analysis: Analysis | None = None
        self._activations: dict[str, np.ndarray] = {}
        self._image: np.ndarray | None = None
        self._map_index = 0
        self.caption = ""

        self.block_combo = QComboBox()
        self.block_combo.setToolTip("Which block's output to show")
        self.block_combo.currentIndexChanged.connect(self._on_block)
        self.shared_box = QCheckBox("Shared colour scale")
        self.shared_box.setToolTip("One colour range for all maps (to compare them) "
                                   "or one per map (to see each map's detail)")
        self.shared_box.setChecked(True)
        self.shared_box.toggled.connect(self._on_scale)
        self.info = QLabel()
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.grid = TileGrid(cmap="viridis", save_name="feature_maps.png")
        self.grid.tileClicked.connect(self.show_map)
        self.grid.unitClicked.connect(self._on_unit)
        self.enlarged = TileGrid(cmap="viridis", colorbar=True, save_name="feature_map.png")
        self.enlarged.unitClicked.connect(lambda _t, y, x: self.show_unit(y, x))
        self.input_view = TileGrid(cmap="gray", scale="fixed", labels=True, save_name="input.png")
        self.input_view.set_scale("fixed", (0.0, 255.0))
        self.field_label = QLabel(_FIELD_HINT)
        self.field_label.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Block:"))
        top.addWidget(self.block_combo, 1)
        top.addWidget(self.shared_box)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.enlarged, 3)
        side_layout.addWidget(self.input_view, 2)
        side_layout.addWidget(self.field_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.grid)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ inputs

    def set_network(self, network: Network | None, input_shape: tuple[int, int, int] = (28, 28, 1)) -> None:
        """The network whose geometry gives the receptive fields."""
        self._network = network
        self._input_shape = tuple(input_shape)  # type: ignore[assignment]
        self._analysis = None

    def invalidate_geometry(self) -> None:
        self._analysis = None

    def set_activations(self, activations: dict[str, np.ndarray], image: np.ndarray | None = None) -> None:
        """Show these activations (``{block_id: array without batch axis}``) for ``image``."""
        self._activations = dict(activations)
        if image is not None:
            self._image = np.asarray(image)
            self.input_view.set_arrays([sample_tile(self._image)], ["input"])
        current = self.block_combo.currentData()
        ids = list(self._activations)
        if ids != [self.block_combo.itemData(i) for i in range(self.block_combo.count())]:
            self.block_combo.blockSignals(True)
            self.block_combo.clear()
            for bid in ids:
                self.block_combo.addItem(f"{bid}  ({format_shape(self._activations[bid].shape)})", bid)
            if current in ids:
                self.block_combo.setCurrentIndex(ids.index(current))
            else:
                spatial = [b for b in ids if self._activations[b].ndim == 3 and b != ids[0]]
                self.block_combo.setCurrentIndex(ids.index(spatial[0]) if spatial else 0)
            self.block_combo.blockSignals(False)
        self._refresh()

    def current_block(self) -> str | None:
        return self.block_combo.currentData()

    def set_block(self, block_id: str) -> None:
        for i in range(self.block_combo.count()):
            if self.block_combo.itemData(i) == block_id:
                self.block_combo.setCurrentIndex(i)
                return
        raise KeyError(f"no activations for block {block_id!r}")

    def tile_count(self) -> int:
        return self.grid.tile_count()

    # ------------------------------------------------------------------ reactions

    def _on_block(self, _index: int) -> None:
        self._map_index = 0
        self._clear_field()
        self._refresh()
        bid = self.current_block()
        if bid:
            self.blockChanged.emit(bid)

    def _on_scale(self, shared: bool) -> None:
        self.grid.set_scale("shared" if shared else "per_tile")
        self.show_map(self._map_index)

    def _refresh(self) -> None:
        bid = self.current_block()
        value = self._activations.get(bid) if bid else None
        if value is None:
            self.grid.set_arrays([])
            self.enlarged.set_arrays([])
            self.info.setText("No activations yet: train the network or choose a sample after training.")
            return
        tiles = _as_tiles(value)
        titles = [f"{i}" for i in range(len(tiles))] if value.ndim == 3 else [f"{value.size} units"]
        self.grid.scale = "shared" if self.shared_box.isChecked() else "per_tile"
        self.grid.set_arrays(tiles, titles)
        kind = self._network.blocks[bid].kind if self._network is not None and bid in self._network.blocks else ""
        finite = value[np.isfinite(value)]
        summary = f"{kind} {bid}: {format_shape(value.shape)}"
        if finite.size:
            summary += (f", values {finite.min():.3g} to {finite.max():.3g}, "
                        f"{float(np.mean(finite == 0)):.0%} exactly zero")
        self.info.setText(summary + (f" — {self.caption}" if self.caption else ""))
        self.show_map(min(self._map_index, len(tiles) - 1))

    def show_map(self, index: int) -> None:
        """Enlarge map ``index`` of the current block."""
        arrays = self.grid.arrays()
        if not arrays or not 0 <= index < len(arrays):
            return
        self._map_index = index
        self.grid.set_selected(index)
        bid = self.current_block()
        self.enlarged.set_arrays([arrays[index]], [f"{bid} map {index}"])
        self.enlarged.set_scale("fixed", self.grid.color_limits()[index])  # the same colours as in the grid
        self._clear_field()  # a caption of another map, block or sample must not stay

    def _on_unit(self, tile: int, y: int, x: int) -> None:
        self.show_unit(y, x)

    def show_unit(self, y: int, x: int) -> tuple[int, int, int, int] | None:
        """Mark unit (y, x) of the enlarged map and outline its receptive field on the input."""
        bid = self.current_block()
        value = self._activations.get(bid) if bid else None
        if value is None or value.ndim != 3 or self._network is None:
            return None
        self.enlarged.set_marker(0, y, x)
        try:
            if self._analysis is None:
                self._analysis = analyze(self._network, self._input_shape)
            if self._analysis.shape(bid) != tuple(value.shape):
                raise ValueError("the network changed since these maps were computed")
            box = receptive_field(self._network, bid, y, x, self._input_shape, self._analysis)
        except (ValueError, KeyError) as exc:
            self.field_label.setText(f"No receptive field: {exc}.")
            self.input_view.set_highlight(None)
            return None
        y0, x0, y1, x1 = box
        self.input_view.set_highlight(0, box)
        unit = value[y, x, self._map_index]
        self.field_label.setText(f"Unit ({y}, {x}) of {bid} map {self._map_index} = {unit:.3g}; "
                                 f"it sees input rows {y0}-{y1 - 1}, columns {x0}-{x1 - 1} "
                                 f"({y1 - y0}x{x1 - x0} pixels).")
        return box

    def _clear_field(self) -> None:
        """Forget the receptive field shown: it belonged to another block, map or sample."""
        self.field_label.setText(_FIELD_HINT)
        self.input_view.set_highlight(None)

    def save_png(self, path: str) -> bool:
        return self.grab().save(path, "PNG")
