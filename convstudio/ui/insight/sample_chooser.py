"""Choose the sample to look at: a test image, a drawing, or an image file; optionally shifted."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.datasets import Dataset
from convstudio.core.inspection import ImageError, drawing_to_sample, load_sample, shift_image

from .render import sample_tile
from .tile_grid import TileGrid

__all__ = ["DrawingPad", "SampleChooser"]


class DrawingPad(QWidget):
    """Draw with the mouse in white on black; ``strokes()`` gives the picture as a float array."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, side: int = 224) -> None:
        super().__init__(parent)
        self._image = QImage(side, side, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        self._last: QPointF | None = None
        self.pen_width = side / 12
        self.setFixedSize(side, side)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse (white ink on black, like the dataset)")

    def clear(self) -> None:
        self._image.fill(0)
        self.update()
        self.changed.emit()

    def draw_line(self, a: QPointF, b: QPointF) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.GlobalColor.white, self.pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(a, b)
        painter.end()
        self.update()

    def strokes(self) -> np.ndarray:
        """The drawing as float32 ``(side, side)`` in [0, 1]."""
        image = self._image
        ptr = image.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes())
        arr = arr.reshape(image.height(), image.bytesPerLine())
        return arr[:, :image.width()].astype(np.float32) / 255.0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.drawImage(self.rect(), self._image)
        painter.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._last = event.position()
        self.draw_line(self._last, self._last)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._last is not None:
            pos = event.position()
            self.draw_line(self._last, pos)
            self._last = pos

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._last = None
        self.changed.emit()


class SampleChooser(QWidget):
    """Pick the sample: browse or draw at random from the test set, draw one, or load a file.

    ``imageChanged`` carries the chosen uint8 image, of the network's input shape ((h, w) grey,
    (h, w, 3) colour), after the shift (dx, dy) is applied;
    comparing feature maps of a shifted sample shows that convolutions move with the input.
    """

    imageChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._shape: tuple[int, int, int] = (28, 28, 1)
        self._base: np.ndarray = np.zeros((28, 28), dtype=np.uint8)
        self._label: int | None = None
        self._source = "none"
        self._rng = np.random.default_rng()

        # test set
        self.index_spin = QSpinBox()
        self.index_spin.setToolTip("Index of the test image")
        self.index_spin.valueChanged.connect(self.select_test_index)
        random_button = QPushButton("Random")
        random_button.clicked.connect(self.select_random)
        test_tab = QWidget()
        test_row = QHBoxLayout()
        test_row.addWidget(QLabel("Test image #"))
        test_row.addWidget(self.index_spin, 1)
        test_row.addWidget(random_button)
        test_hint = QLabel("An image the network never trained on; every view in this panel shows what the "
                           "network does with it.")
        test_hint.setWordWrap(True)
        test_layout = QVBoxLayout(test_tab)
        test_layout.addLayout(test_row)
        test_layout.addWidget(test_hint)
        test_layout.addStretch(1)  # the controls at the top, not floating in the middle of the tab

        # drawing
        self.pad = DrawingPad(side=168)
        self.pad.changed.connect(self._use_drawing)
        clear_button = QPushButton("Clear")
        clear_button.clicked.connect(self.pad.clear)
        draw_tab = QWidget()
        draw_layout = QVBoxLayout(draw_tab)
        draw_layout.addWidget(self.pad, 0, Qt.AlignmentFlag.AlignHCenter)
        draw_layout.addWidget(clear_button)

        # file
        load_button = QPushButton("Load image file…")
        load_button.clicked.connect(self._ask_file)
        self.file_label = QLabel("PNG or JPEG; dark ink on light paper is inverted, then fitted and centred "
                                 "like the dataset.")
        self.file_label.setWordWrap(True)
        file_tab = QWidget()
        file_layout = QVBoxLayout(file_tab)
        file_layout.addWidget(load_button)
        file_layout.addWidget(self.file_label)
        file_layout.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.addTab(test_tab, "Test set")
        self.tabs.addTab(draw_tab, "Draw")
        self.tabs.addTab(file_tab, "File")
        self.tabs.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        # shift
        self.dx_spin = QSpinBox()
        self.dy_spin = QSpinBox()
        for spin, tip in ((self.dx_spin, "right"), (self.dy_spin, "down")):
            spin.setRange(-14, 14)
            spin.setToolTip(f"Move the image this many pixels {tip} (zeros come in)")
            spin.valueChanged.connect(lambda _v: self._emit())
        shift = QGridLayout()
        shift.addWidget(QLabel("Shift x"), 0, 0)
        shift.addWidget(self.dx_spin, 0, 1)
        shift.addWidget(QLabel("Shift y"), 0, 2)
        shift.addWidget(self.dy_spin, 0, 3)

        self.preview = TileGrid(cmap="gray", scale="fixed", save_name="sample.png")
        self.preview.set_scale("fixed", (0.0, 255.0))
        self.preview.setMinimumSize(150, 150)
        self.caption = QLabel()
        self.caption.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs)
        layout.addLayout(shift)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.caption)

    def sizeHint(self) -> QSize:
        return QSize(240, 520)

    # ------------------------------------------------------------------ API

    def input_shape(self) -> tuple[int, int, int]:
        return self._shape

    def set_input_shape(self, shape: tuple[int, ...]) -> None:
        """The network's image shape: samples are made (and files read) at this size and colour."""
        shape = tuple(int(d) for d in shape)
        if shape == self._shape:
            return
        self._shape = shape  # type: ignore[assignment]
        h, w, _ = shape
        for spin, side in ((self.dx_spin, w), (self.dy_spin, h)):
            spin.setRange(-(side // 2), side // 2)
        if self._base.shape != _dims(shape):
            self._base = np.zeros(_dims(shape), dtype=np.uint8)
            self._label, self._source = None, "none"
        self.file_label.setText(_file_hint(shape))
        self._emit()

    def set_dataset(self, dataset: Dataset | None) -> None:
        self._dataset = dataset
        n = 0 if dataset is None else len(dataset.x_test)
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(0, n - 1))
        self.index_spin.setValue(0)
        self.index_spin.blockSignals(False)
        if n:
            self.select_test_index(0)

    def select_test_index(self, index: int) -> None:
        if self._dataset is None or not 0 <= index < len(self._dataset.x_test):
            return
        if self.index_spin.value() != index:
            self.index_spin.blockSignals(True)
            self.index_spin.setValue(index)
            self.index_spin.blockSignals(False)
        image = np.asarray(self._dataset.x_test[index], dtype=np.uint8)
        if image.shape != _dims(self._shape):
            return  # the dataset's images do not fit the network (its Input block says so)
        self._reset_shift()
        self._base = image
        self._label = int(self._dataset.y_test[index])
        self._source = f"test image #{index}"
        self._emit()

    def select_random(self) -> None:
        if self._dataset is not None and len(self._dataset.x_test):
            self.select_test_index(int(self._rng.integers(len(self._dataset.x_test))))

    def set_image(self, image: np.ndarray, source: str = "image", label: int | None = None) -> None:
        """Use any uint8 image of the network's input shape as the sample."""
        image = np.asarray(image)
        if image.shape != _dims(self._shape):
            raise ValueError(f"a sample must be {'x'.join(map(str, _dims(self._shape)))}, "
                             f"got {'x'.join(map(str, image.shape))}")
        if source != self._source:  # another sample (more strokes on a drawing keep it)
            self._reset_shift()
        self._base = image.astype(np.uint8)
        self._label = label
        self._source = source
        self._emit()

    def load_file(self, path: str) -> bool:
        try:
            image = load_sample(path, self._shape)
        except ImageError as exc:
            self.file_label.setText(str(exc))
            return False
        name = os.path.basename(path)
        self.file_label.setText(f"Loaded {name} (shown as converted).")
        self.set_image(image, source=name)
        return True

    def image(self) -> np.ndarray:
        """The chosen sample, shifted: uint8 (h, w) grey or (h, w, 3) colour."""
        return shift_image(self._base, self.dy_spin.value(), self.dx_spin.value())

    def label(self) -> int | None:
        """The true class when the sample comes from the test set."""
        return self._label

    def describe(self) -> str:
        names = self._dataset.class_names if self._dataset is not None else []
        text = self._source
        if self._label is not None and self._label < len(names):
            text += f" — true class: {names[self._label]}"
        dx, dy = self.dx_spin.value(), self.dy_spin.value()
        if dx or dy:
            text += f" — shifted by ({dx}, {dy})"
        return text

    # ------------------------------------------------------------------ internals

    def _use_drawing(self) -> None:
        self.set_image(drawing_to_sample(self.pad.strokes(), self._shape), source="drawing")

    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load an image", "", "Images (*.png *.jpg *.jpeg *.bmp)")
        if path:
            self.load_file(path)

    def _reset_shift(self) -> None:
        """A new sample starts unshifted (a shift belongs to the sample it was applied to)."""
        for spin in (self.dx_spin, self.dy_spin):
            spin.blockSignals(True)
            spin.setValue(0)
            spin.blockSignals(False)

    def _emit(self) -> None:
        image = self.image()
        size = "x".join(map(str, self._shape))
        self.preview.set_arrays([sample_tile(image)], [f"sample ({size}, as the network sees it)"])
        self.caption.setText(self.describe())
        self.imageChanged.emit(image)


def _dims(shape: tuple[int, int, int]) -> tuple[int, ...]:
    """A sample's array shape for images of ``shape``: (h, w) grey, (h, w, c) colour."""
    h, w, c = shape
    return (h, w) if c == 1 else (h, w, c)


def _file_hint(shape: tuple[int, int, int]) -> str:
    h, w, c = shape
    if c == 1 and h == w:
        return "PNG or JPEG; dark ink on light paper is inverted, then fitted and centred like the dataset."
    colour = "in colour" if c > 1 else "in grey"
    return f"PNG or JPEG; resized to {h}x{w} and read {colour}, as the network takes it."
