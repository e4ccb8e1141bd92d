"""What the network's augmentation blocks do to the chosen sample: the sample beside its variants.

The variants are computed in the panel's worker, never on the GUI thread, and only while the view
is shown. Each result is keyed (through the panel's one staleness mechanism) by the sample, the
augmentation blocks' settings and the seed: an edit to those blocks marks the shown variants stale
and recomputes them; an edit elsewhere in the network leaves them as they are.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from convstudio.core.inspection import AugmentationChain, AugmentationPreview, augment_sample, augmentation_chain
from convstudio.core.network import Network
from convstudio.core.provenance import ResultKey, stale_reason
from convstudio.core.shapes import network_input_shape

from ..result_guard import ResultGuard, stale_note
from .render import sample_tile
from .tasks import TaskRunner
from .tile_grid import TileGrid

__all__ = ["AugmentationView"]

ADD_AUGMENTATION = ("Add RandomFlip, RandomTranslation, RandomRotation, RandomZoom or RandomContrast from the "
                    "palette's Preprocessing group, right after the Input block, to see here what training does to "
                    "the images.")
NO_AUGMENTATION = "This network has no augmentation blocks. " + ADD_AUGMENTATION
NONE_AFTER_INPUT = "No augmentation block follows the Input block, so none changes the images. " + ADD_AUGMENTATION


def _chain_notes(chain: AugmentationChain) -> str:
    """What the view does not show, and what in the chain works against its purpose."""
    notes = list(chain.warnings)
    if chain.later:
        notes.append(f"{', '.join(chain.later)} {'come' if len(chain.later) > 1 else 'comes'} after another kind "
                     "of block: it changes feature maps, not images, and is not shown here.")
    return " ".join(notes)


class AugmentationView(QWidget):
    """The sample as the network sees it at inference, beside ``COUNT`` draws of its augmentation."""

    COUNT = 8

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._network: Network | None = None
        self._image: np.ndarray | None = None
        self._sample = ""
        self._sample_no = 0  # a new number for every sample, even with the same description
        self._seed = 0
        self._shown: tuple[ResultKey, int] | None = None
        self._asked: tuple[ResultKey, int] | None = None
        self._pending = False
        self.guard = ResultGuard(self._current_key)

        self.chain_label = QLabel()
        self.chain_label.setWordWrap(True)
        self.new_button = QPushButton("New variants")
        self.new_button.setToolTip("Draw new random variants (the same seed always gives the same ones)")
        self.new_button.clicked.connect(self.new_variants)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.grid = TileGrid(cmap="gray", scale="fixed", save_name="augmentation.png")
        self.grid.set_scale("fixed", (0.0, 255.0))

        top = QHBoxLayout()
        top.addWidget(self.chain_label, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.grid, 1)
        layout.addStretch(0)  # takes the room while the grid is hidden
        self.refresh()

    # ------------------------------------------------------------------ inputs

    def set_network(self, network: Network | None) -> None:
        self._network = network
        self.refresh()

    def set_sample(self, image: np.ndarray, description: str) -> None:
        """The chosen sample (uint8, of the network's input shape) and how the chooser names it."""
        self._image = np.array(image, dtype=np.uint8)
        self._sample = description
        self._sample_no += 1
        self.refresh()

    def new_variants(self) -> None:
        """Draw again with the next seed."""
        self._seed += 1
        self.refresh()

    def tile_count(self) -> int:
        return self.grid.tile_count()

    def is_stale(self) -> bool:
        return self.note.text().startswith(stale_note(""))

    # ------------------------------------------------------------------ computing

    def _current_key(self) -> ResultKey:
        chain = augmentation_chain(self._network) if self._network is not None else None
        steps = chain.describe() if chain is not None else "no network"
        return ResultKey(detail=f"{self._sample}, {steps}, seed {self._seed}")

    def refresh(self) -> None:
        """Follow the network, sample and seed: a message, nothing (already shown or asked for) or a new
        computation; while hidden, the shown variants are only marked stale and recomputed when shown."""
        chain = augmentation_chain(self._network) if self._network is not None else None
        if chain is None or not chain.augments:
            text = "No network." if chain is None else NONE_AFTER_INPUT if chain.later else NO_AUGMENTATION
            self._show_message(text, chain)
            return
        self.new_button.setEnabled(True)
        self.chain_label.setText(f"What training does to the sample: {chain.describe()}. At inference (prediction, "
                                 "every export) augmentation passes the image unchanged, as in the first tile.")
        current = (self.guard.key(per_sample=True), self._sample_no)
        if current in (self._shown, self._asked):
            return
        self._mark_stale(current[0])
        if self._image is None or not self._fits_input(self._image):
            return  # the chooser sends a sample of the new input shape next
        if not self.isVisible():
            self._pending = True
            return
        self._pending = False
        self._asked = current
        network, image, seed = self._network.copy(), self._image.copy(), self._seed

        def show(preview: AugmentationPreview | None) -> None:
            self._show(preview, current, chain)

        self._runner.submit("preview the augmentation", lambda: augment_sample(network, image, self.COUNT, seed),
                            self.guard.deliver(current[0], show))

    def _fits_input(self, image: np.ndarray) -> bool:
        h, w, c = network_input_shape(self._network)
        return image.shape in ((h, w, c), (h, w)) if c == 1 else image.shape == (h, w, c)

    def _mark_stale(self, current: ResultKey) -> None:
        """Clear variants that no longer belong to the sample, the blocks or the seed, and say why."""
        if self._shown is None:
            return
        reason = stale_reason(self._shown[0], current) or "This was computed for another sample; recompute it."
        self._shown = None
        self.grid.set_arrays([])
        self.note.setText(stale_note(reason))

    def _show_message(self, text: str, chain: AugmentationChain | None) -> None:
        self._shown = self._asked = None
        self._pending = False
        self.grid.set_arrays([])
        self.grid.hide()
        self.new_button.setEnabled(False)
        self.chain_label.setText(text)
        self.note.setText(_chain_notes(chain) if chain is not None else "")

    def _show(self, preview: AugmentationPreview | None, key: tuple[ResultKey, int], chain: AugmentationChain) -> None:
        self._asked = None
        if preview is None:  # the network lost its augmentation while this was computed
            self.refresh()
            return
        self._shown = key
        self.grid.show()
        self.grid.set_arrays([sample_tile(preview.original)] + [sample_tile(v) for v in preview.variants],
                             ["original"] + [str(i + 1) for i in range(len(preview.variants))])
        self.note.setText(" ".join(filter(None, (
            f"Seed {preview.seed}: the same seed always gives the same variants.", _chain_notes(chain)))))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._pending:
            self.refresh()
