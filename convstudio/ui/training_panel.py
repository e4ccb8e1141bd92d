"""The training panel: data, optimizer and schedule settings, run controls, progress, curves and health.

It edits a :class:`TrainSettings` record, asks a :class:`TrainingController` to run it, and shows
what the controller reports; the run's health warnings, its gradient flow and the learning-rate range
test are :class:`~convstudio.ui.health.HealthViews` placed here. It never touches the network or the
trainer directly.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.datasets import display_name, folder_problem
from convstudio.core.provenance import data_mismatch, describe_test_accuracy
from convstudio.core.settings import SettingsError, TrainSettings
from convstudio.core.training_events import BatchEnd, EpochEnd, TrainFinished, TrainStarted

from . import dialogs
from . import settings as app_settings
from .estimate_view import EstimateLine, ask_smaller_batch
from .health import HealthViews
from .plots import TrainingPlots
from .training_controller import RunRequest, TrainingController
from .worker import Worker, run_worker

__all__ = ["DATASETS", "OPTIMIZER_LABELS", "TrainingPanel", "ask_keep_or_start_over", "format_duration"]

DATASETS = {"mnist": "MNIST (handwritten digits)", "fashion_mnist": "Fashion-MNIST (clothing)",
            "cifar10": "CIFAR-10 (small colour photos)",
            "colour_shapes": "Coloured shapes (by shape)", "colour_shapes_by_colour": "Coloured shapes (by colour)",
            "colour_shapes_by_both": "Coloured shapes (by colour and shape)",
            "image_folder": "Image folder\u2026"}
_DATASET_GROUPS = (("mnist", "fashion_mnist"), ("cifar10",),
                   ("colour_shapes", "colour_shapes_by_colour", "colour_shapes_by_both"), ("image_folder",))
OPTIMIZER_LABELS = {"sgd": "SGD with momentum", "adam": "Adam", "rmsprop": "RMSprop"}
RESIZE_LABELS = {"stretch": "Stretch to the input size", "crop": "Crop to the input's aspect ratio",
                 "pad": "Pad to the input's aspect ratio"}

_FINISH_TEXT = {
    "completed": "Training finished",
    "stopped": "Training stopped",
    "early_stopped": "Stopped early: validation stopped improving",
    "nan": "Training stopped: the loss became NaN (try a lower learning rate)",
    "error": "Training failed",
}


def format_duration(seconds: float) -> str:
    """``1 h 02 min``, ``3 min 05 s`` or ``42 s``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def ask_keep_or_start_over(parent: QWidget) -> str:
    """Ask what Start does with a trained model: ``"keep"`` training it, ``"restart"`` or ``"cancel"``."""
    B = QMessageBox.StandardButton
    answer = dialogs.ask(parent, "Start training", "This network already has a trained model. Keep training it, "
                         "or start over from new random weights (the trained weights are then replaced)?",
                         B.Yes | B.No | B.Cancel, B.Yes, {B.Yes: "Keep training", B.No: "Start over"})
    return {B.Yes: "keep", B.No: "restart"}.get(answer, "cancel")


def find_source(name: str, data_dir: str | None) -> tuple[str, bool, int]:
    """Where ``name`` would load from: ``(source, is_sample, training images)``; raises when it cannot be found."""
    from convstudio.core.datasets import load_dataset

    data = load_dataset(name, data_dir=data_dir, allow_download=False)
    return data.source, data.is_sample, len(data.x_train)


def scan_folder(folder: str | None) -> tuple[str, int, tuple[tuple[int, int, int], int]]:
    """The scan summary of an image folder (headers only: class counts, sizes, files skipped), its image count
    and the image shape and number of classes it loads as."""
    from convstudio.core.data.folder_scan import scan_image_folder
    from convstudio.core.data.image_folder import folder_geometry

    if not folder:
        raise ValueError("No image folder chosen: choose a folder with one subfolder of images per class.")
    if not os.path.isdir(folder):
        raise ValueError(missing_folder_text(folder))
    scan = scan_image_folder(folder)
    return scan.summary(), len(scan.files), folder_geometry(scan)


def missing_folder_text(folder: str) -> str:
    """What to say when the chosen image folder is not there (moved, renamed, a drive not connected)."""
    return (f"The image folder {folder} is not there (moved, renamed, or on a drive that is not connected). "
            "Choose it again with \"Choose image folder...\"; nothing else in the project changes.")


def _spin(limits: tuple[int, int], tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(*limits)
    box.setToolTip(tip)
    return box


def _double_spin(decimals: int, limits: tuple[float, float], step: float, tip: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(*limits)
    box.setSingleStep(step)
    box.setToolTip(tip)
    return box


class TrainingPanel(QWidget):
    """Settings, controls, progress and live curves for the document's training runs.

    Signals ``message(str)`` for the status bar, ``sourceChanged(str)`` with a short line saying
    where the data comes from, ``dataChanged`` when the app's data folder changes and ``folderEdited``
    when the image folder's choices change (they are part of the project).
    """

    message = Signal(str)
    sourceChanged = Signal(str)
    dataChanged = Signal()  # the data folder of the app's settings changed
    folderEdited = Signal()  # the image folder, its test folder or how its images are fitted changed
    folderGeometry = Signal(object)  # ((height, width, channels), classes) of a scanned image folder

    def __init__(self, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._tf_ready = False
        self._run_epochs = 0
        self._run_initial_epoch = 0
        self._steps = 0
        self._started: TrainStarted | None = None
        self._result: tuple[str, str | None] = ("", None)  # the last result and the dataset it is on
        self._image_folder: str | None = None  # the folder "Image folder..." reads
        self._test_folder: str | None = None  # the image folder's separate test images, if any
        self._dataset_index = 0  # the choice to go back to when choosing an image folder is cancelled
        self._setting_dataset = False  # a choice made by the program, not the user: ask nothing
        self._paused_since: float | None = None
        self._paused_seconds = 0.0
        self._images: int | None = None  # training images of the chosen data, once found
        self._build()
        self._connect()
        self._probe: Worker | None = None  # finds where the chosen dataset comes from
        self.set_settings(TrainSettings())
        self._update_buttons()
        self._refresh_source()

    # ----------------------------------------------------------------- building

    def _build(self) -> None:
        """The controls (data, optimizer, buttons) above or beside the progress and the curves."""
        self._outer = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self._outer.setContentsMargins(6, 6, 6, 6)
        self._outer.setSpacing(6)
        self.health = HealthViews(self.controller, self, self)
        self.controls = QWidget()
        column = QVBoxLayout(self.controls)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._build_data_box())
        column.addWidget(self._build_settings_box())
        self.estimate = EstimateLine()
        column.addWidget(self.estimate)
        column.addLayout(self._build_buttons())
        self.progress = QWidget()
        column = QVBoxLayout(self.progress)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._build_progress_bars())
        self._build_result_labels()
        column.addWidget(self.eta_label)
        column.addWidget(self.result_label)
        column.addWidget(self._build_health_box())
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self._build_plots_holder(), "Curves")
        self.views.addTab(self.health.flow, "Gradient flow")
        column.addWidget(self.views, 1)
        self._outer.addWidget(self.controls)
        self._outer.addWidget(self.progress, 1)

    def _build_data_box(self) -> QGroupBox:
        """The dataset choice, the data folder button and where the data comes from."""
        data_box = QGroupBox("Data")
        data_grid = QGridLayout(data_box)
        data_grid.setVerticalSpacing(4)
        self.dataset_combo = QComboBox()
        for group in _DATASET_GROUPS:
            if self.dataset_combo.count():
                self.dataset_combo.insertSeparator(self.dataset_combo.count())
            for key in group:
                self.dataset_combo.addItem(DATASETS[key], key)
        self.data_dir_button = QPushButton("Choose data folder...")
        self.data_dir_button.setToolTip("A folder with mnist.npz / fashion_mnist.npz or the four IDX files "
                                        "(the CONVSTUDIO_DATA_DIR environment variable works too)")
        self.source_label = QLabel("Looking for the data...")
        self.source_label.setWordWrap(True)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.resize_combo = QComboBox()
        for key, label in RESIZE_LABELS.items():
            self.resize_combo.addItem(label, key)
        self.resize_combo.setToolTip("How images of another size or aspect ratio are fitted to the Input block")
        self.test_folder_button = QPushButton()
        self.test_folder_button.setToolTip("Test on a separate folder with the same class subfolders, or hold out "
                                           "a share of the image folder (the default)")
        data_grid.addWidget(self.dataset_combo, 0, 0)
        data_grid.addWidget(self.data_dir_button, 0, 1)
        data_grid.addWidget(self.resize_combo, 1, 0)
        data_grid.addWidget(self.test_folder_button, 1, 1)
        data_grid.addWidget(self.source_label, 2, 0, 1, 2)
        data_grid.setColumnStretch(0, 1)
        self._show_folder_options()
        return data_box

    def _build_settings_box(self) -> QGroupBox:
        """Optimizer, learning rate, momentum, batch size, epochs, validation and early stopping."""
        opt_box = QGroupBox("Optimizer and schedule")
        grid = QGridLayout(opt_box)
        grid.setVerticalSpacing(4)
        self.optimizer_combo = QComboBox()
        for key, label in OPTIMIZER_LABELS.items():
            self.optimizer_combo.addItem(label, key)
        self.lr_spin = _double_spin(5, (0.00001, 10.0), 0.0005)
        self.momentum_spin = _double_spin(3, (0.0, 0.999), 0.05)
        self.nesterov_check = QCheckBox("Nesterov")
        self.momentum_label = QLabel("Momentum")
        self.batch_spin = _spin((1, 4096))
        self.epochs_spin = _spin((1, 1000))
        self.val_spin = _double_spin(2, (0.0, 0.9), 0.05,
                                     "Fraction of the training images held out to validate each epoch")
        self.early_check = QCheckBox("Early stop")
        self.early_check.setToolTip("Stop when the validation loss has not improved for this many epochs")
        self.patience_spin = _spin((0, 100), "Patience: epochs without improvement before stopping")
        rows = [
            (QLabel("Optimizer"), self.optimizer_combo, QLabel("Learning rate"), self.lr_spin),
            (self.momentum_label, self.momentum_spin, self.nesterov_check, None),
            (QLabel("Batch size"), self.batch_spin, QLabel("Epochs"), self.epochs_spin),
            (QLabel("Validation"), self.val_spin, self.early_check, self.patience_spin),
        ]
        for r, row in enumerate(rows):
            for c, widget in enumerate(row):
                if widget is not None:
                    grid.addWidget(widget, r, c)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return opt_box

    def _build_buttons(self) -> QHBoxLayout:
        """Start, Pause, Stop, Train more and how many more epochs."""
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.more_button = QPushButton("Train more")
        self.more_button.setToolTip("Continue from the last checkpoint for more epochs")
        self.more_spin = _spin((1, 1000), "How many more epochs Train more runs")
        self.more_spin.setValue(2)
        for b in (self.start_button, self.pause_button, self.stop_button, self.more_button):
            buttons.addWidget(b)
        buttons.addWidget(self.more_spin)
        return buttons

    def _build_health_box(self) -> QGroupBox:
        """The run's health warnings (newest first), or one line when there are none; the range test."""
        self.health.warning_list.add_beside_state(self.health.find_lr_button)
        box = QGroupBox("Training health")
        column = QVBoxLayout(box)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.health.warning_list)
        return box

    def _build_progress_bars(self) -> QHBoxLayout:
        progress = QHBoxLayout()
        self.epoch_bar = QProgressBar()
        self.batch_bar = QProgressBar()
        for bar, word in ((self.epoch_bar, "Epoch"), (self.batch_bar, "Batch")):
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setFormat(f"{word}: not started")
            progress.addWidget(bar)
        return progress

    def _build_result_labels(self) -> None:
        """The progress line and the result.

        Their texts change at the start and end of a run: they must not resize the curves below them
        (each resize is a full Matplotlib redraw). The progress line takes the width it is given, and
        the result has room for two lines from the start.
        """
        self.eta_label = QLabel("")
        self.eta_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.eta_label.setMinimumHeight(self.eta_label.fontMetrics().lineSpacing())
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        font = self.result_label.font()
        font.setBold(True)
        self.result_label.setFont(font)
        self.result_label.setMinimumHeight(2 * self.result_label.fontMetrics().lineSpacing())

    def _build_plots_holder(self) -> QWidget:
        """Matplotlib takes a few hundred milliseconds to load: the curves are built just after the
        window has appeared (or on first use), in this holder."""
        self._plots: TrainingPlots | None = None
        self._plots_holder = QWidget()
        self._plots_holder.setMinimumHeight(180)
        self._plots_holder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        holder_layout = QVBoxLayout(self._plots_holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        return self._plots_holder

    @property
    def plots(self) -> TrainingPlots:
        """The live curves (built on first use)."""
        if self._plots is None:
            self._plots = TrainingPlots(self._plots_holder)
            self._plots_holder.layout().addWidget(self._plots)
        return self._plots

    def build_plots(self) -> None:
        """Build the curves now (the app calls this once Matplotlib has been imported in the background)."""
        _ = self.plots

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Controls above the curves (a side dock) or beside them (a bottom or top dock)."""
        horizontal = orientation == Qt.Orientation.Horizontal
        self._outer.setDirection(QBoxLayout.Direction.LeftToRight if horizontal
                                 else QBoxLayout.Direction.TopToBottom)
        self.controls.setMaximumWidth(380 if horizontal else 16_777_215)

    def _connect(self) -> None:
        self.optimizer_combo.currentIndexChanged.connect(self._update_optimizer_fields)
        self.early_check.toggled.connect(self.patience_spin.setEnabled)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_chosen)  # first: it may ask for a folder
        self.dataset_combo.currentIndexChanged.connect(self._refresh_source)
        self.dataset_combo.currentIndexChanged.connect(self._show_result)
        self.dataset_combo.currentIndexChanged.connect(self.health.refresh)
        self.folderEdited.connect(self.health.refresh)
        self.health.rateChosen.connect(self.lr_spin.setValue)
        self.data_dir_button.clicked.connect(self.choose_data_folder)
        self.test_folder_button.clicked.connect(self.choose_test_folder)
        self.resize_combo.currentIndexChanged.connect(self._on_resize_chosen)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.controller.stop)
        self.more_button.clicked.connect(self.train_more)
        c = self.controller
        c.runStarted.connect(self._on_started)
        c.batchEnded.connect(self._on_batch)
        c.epochEnded.connect(self._on_epoch)
        c.runFinished.connect(self._on_finished)
        c.runningChanged.connect(lambda _running: self._update_buttons())
        c.document.analysisChanged.connect(lambda _analysis: self._update_buttons())
        c.pausedChanged.connect(self._on_paused)
        c.checkpointChanged.connect(self._update_buttons)
        c.runningChanged.connect(self.estimate.set_training)
        c.document.analysisChanged.connect(self._refresh_estimate)
        for spin in (self.batch_spin, self.val_spin, self.momentum_spin):
            spin.valueChanged.connect(self._refresh_estimate)
        self.optimizer_combo.currentIndexChanged.connect(self._refresh_estimate)

    # ----------------------------------------------------------------- settings

    def settings(self) -> TrainSettings:
        """The settings as shown; fields the panel does not show keep the values last set.

        Raises ``SettingsError`` for values the core does not accept.
        """
        base = self._base
        return base.replace(
            optimizer=self.optimizer_combo.currentData(),
            learning_rate=float(self.lr_spin.value()),
            momentum=float(self.momentum_spin.value()),
            nesterov=self.nesterov_check.isChecked(),
            batch_size=int(self.batch_spin.value()),
            epochs=int(self.epochs_spin.value()),
            validation_split=float(self.val_spin.value()),
            early_stopping=dataclasses.replace(base.early_stopping, enabled=self.early_check.isChecked(),
                                               patience=int(self.patience_spin.value())),
        )

    def describe_settings(self) -> str:
        """The optimizer and batch size in words, e.g. "SGD with momentum 0.9, batch size 64"."""
        opt = self.optimizer_combo.currentData()
        name = self.optimizer_combo.currentText()
        if opt == "sgd":
            name = "SGD"
        if opt in ("sgd", "rmsprop") and self.momentum_spin.value():
            name += f" with momentum {self.momentum_spin.value():g}"
        return f"{name}, batch size {self.batch_spin.value()}"

    def set_settings(self, settings: TrainSettings) -> None:
        self._base = settings
        self.optimizer_combo.setCurrentIndex(max(0, self.optimizer_combo.findData(settings.optimizer)))
        self.lr_spin.setValue(settings.learning_rate)
        self.momentum_spin.setValue(settings.momentum)
        self.nesterov_check.setChecked(settings.nesterov)
        self.batch_spin.setValue(settings.batch_size)
        self.epochs_spin.setValue(settings.epochs)
        self.val_spin.setValue(settings.validation_split)
        self.early_check.setChecked(settings.early_stopping.enabled)
        self.patience_spin.setValue(settings.early_stopping.patience)
        self.patience_spin.setEnabled(settings.early_stopping.enabled)
        self._update_optimizer_fields()
        self._refresh_estimate()

    def _refresh_estimate(self, *_args: object) -> None:
        """Price the run as it would start now (arithmetic only; the device was measured once)."""
        try:
            settings = self.settings()
        except SettingsError:
            return
        document = self.controller.document
        self.estimate.set_inputs(document.network, document.analysis, self._images, settings)

    def dataset_name(self) -> str:
        return str(self.dataset_combo.currentData())

    def set_dataset_name(self, name: str) -> None:
        index = self.dataset_combo.findData(name)
        if index >= 0:
            self._setting_dataset = True
            try:
                self.dataset_combo.setCurrentIndex(index)
            finally:
                self._setting_dataset = False

    def use_data_source(self, name: str, image_folder: str | None, test_folder: str | None = None,
                        resize: str = "stretch") -> None:
        """Take this data source as if chosen here (the project takes it too), asking nothing."""
        self.set_data_source(name, image_folder, test_folder, resize)
        self.folderEdited.emit()

    def set_data_source(self, name: str, image_folder: str | None, test_folder: str | None = None,
                        resize: str = "stretch") -> None:
        """Show a project's data source, asking nothing: a missing image folder is said in the source line."""
        self._image_folder = image_folder if name == "image_folder" else self._image_folder
        self._test_folder = test_folder
        self.resize_combo.blockSignals(True)
        self.resize_combo.setCurrentIndex(max(0, self.resize_combo.findData(resize)))
        self.resize_combo.blockSignals(False)
        before = self.dataset_combo.currentIndex()
        self.set_dataset_name(name)
        self._show_folder_options()
        if self.dataset_combo.currentIndex() == before:  # the same choice: its folder may still differ
            self._refresh_source()

    def data_source(self) -> tuple[str, str | None, str | None, str]:
        """``(dataset, image folder, test folder, resize)`` as chosen; the folder is None for other datasets."""
        name = self.dataset_name()
        return (name, self._image_folder if name == "image_folder" else None, self._test_folder,
                str(self.resize_combo.currentData()))

    def data_dir(self) -> str | None:
        """The folder the chosen dataset is read from: the image folder, or the data folder of the settings."""
        return self._image_folder if self.dataset_name() == "image_folder" else app_settings.data_dir()

    def load_options(self) -> dict[str, Any]:
        """The chosen data as keyword arguments of ``load_dataset``: the folder, and an image folder's options."""
        if self.dataset_name() != "image_folder":
            return {"data_dir": self.data_dir()}
        return {"data_dir": self._image_folder, "test_dir": self._test_folder,
                "resize": str(self.resize_combo.currentData())}

    def _show_folder_options(self) -> None:
        """The image folder's fitting and test folder are shown only while an image folder is chosen."""
        folder = self.dataset_name() == "image_folder"
        self.data_dir_button.setText("Choose image folder..." if folder else "Choose data folder...")
        self.resize_combo.setVisible(folder)
        self.test_folder_button.setVisible(folder)
        test = self._test_folder
        self.test_folder_button.setText(f"Test folder: {os.path.basename(test.rstrip(os.sep)) or test}" if test
                                        else "Test folder...")

    def _on_dataset_chosen(self, index: int) -> None:
        """Choosing "Image folder..." asks for the folder; cancelling keeps the previous choice."""
        if self.dataset_combo.itemData(index) == "image_folder" and not self._setting_dataset:
            folder = self._ask_image_folder()
            if not folder:
                self.dataset_combo.setCurrentIndex(self._dataset_index)
                return
            self._image_folder = folder
        self._dataset_index = index
        self._show_folder_options()

    def _ask_image_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Folder with one subfolder of images per class",
                                                self._image_folder or os.path.expanduser("~"))

    def _update_optimizer_fields(self) -> None:
        opt = self.optimizer_combo.currentData()
        self.momentum_spin.setEnabled(opt in ("sgd", "rmsprop"))
        self.momentum_label.setEnabled(opt in ("sgd", "rmsprop"))
        self.nesterov_check.setEnabled(opt == "sgd")

    # ----------------------------------------------------------------- data source

    def _refresh_source(self) -> None:
        self.source_label.setText("Looking for the data...")
        self._set_images(None)
        if self._probe is not None:
            self._probe.cancel()  # its answer is for another choice
        name, data_dir = self.dataset_name(), self.data_dir()
        if name == "image_folder":
            self._probe = run_worker(self, "folder-scan", lambda _state: scan_folder(data_dir),
                                     self._on_folder_scanned, self._on_source_missing)
            return
        self._probe = run_worker(self, "dataset-probe", lambda _state: find_source(name, data_dir),
                                 self._on_source_found, self._on_source_missing)

    def _set_images(self, images: int | None) -> None:
        self._images = images
        self._refresh_estimate()

    def _on_folder_scanned(self, found: tuple[str, int, tuple[tuple[int, int, int], int]]) -> None:
        summary, images, geometry = found
        self._set_images(images)
        self.folderGeometry.emit(geometry)
        self.source_label.setText(f"In use: {summary}")
        self.source_label.setToolTip(summary)
        self.sourceChanged.emit(f"Image folder: {self._image_folder}")

    def _on_source_found(self, found: tuple[str, bool, int]) -> None:
        source, is_sample, images = found
        self._set_images(images)
        self.source_label.setText(self.describe_source(source, is_sample))
        self.source_label.setToolTip(source)
        self._emit_source(source, is_sample)

    def _on_source_missing(self, error: str) -> None:
        self.source_label.setText(self.describe_source("", False, error))
        self.source_label.setToolTip(error)
        self._emit_source("", False)

    @staticmethod
    def describe_source(source: str, is_sample: bool, error: str | None = None) -> str:
        if error:
            return f"Data not found. {error}"
        if is_sample:
            first = source.split(". ")[0].rstrip(".")
            return (f"In use: {first}. For the full set, choose a folder that holds it, or set "
                    "CONVSTUDIO_DATA_DIR.")
        return f"In use: {source}"

    def _emit_source(self, source: str, is_sample: bool) -> None:
        name = display_name(self.dataset_name())
        if is_sample:
            self.sourceChanged.emit(f"{name}: bundled sample")
        elif source:  # a source that names its kind ("image folder /photos: ...") is not prefixed again
            self.sourceChanged.emit(source[:1].upper() + source[1:] if source.lower().startswith(name.lower())
                                    else f"{name}: {source}")
        else:
            self.sourceChanged.emit(f"{name}: not found")

    def choose_data_folder(self) -> None:
        if self.dataset_name() == "image_folder":  # another image folder
            folder = self._ask_image_folder()
            if folder:
                self._image_folder = folder
                self._refresh_source()
                self.folderEdited.emit()
                self.message.emit(f"Image folder: {folder}")
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder with the dataset files",
                                                  app_settings.data_dir() or os.path.expanduser("~"))
        if folder:
            self.use_data_folder(folder)

    def choose_test_folder(self) -> None:
        """A separate test folder for the image folder; with one chosen, the choice is to go back to holding
        out a share of the image folder, or to choose another."""
        if self._test_folder:
            box = QMessageBox(QMessageBox.Icon.Question, "Test images",
                              f"The test images come from {self._test_folder}.", parent=self)
            other = box.addButton("Choose another folder...", QMessageBox.ButtonRole.AcceptRole)
            held = box.addButton("Hold out a share of the image folder", QMessageBox.ButtonRole.DestructiveRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is held:
                self._set_test_folder(None)
            if box.clickedButton() is not other:
                return
        folder = QFileDialog.getExistingDirectory(self, "Folder of test images (the same class subfolders)",
                                                  self._test_folder or self._image_folder or os.path.expanduser("~"))
        if folder:
            self._set_test_folder(folder)

    def _set_test_folder(self, folder: str | None) -> None:
        self._test_folder = folder
        self._show_folder_options()
        self.folderEdited.emit()
        self.message.emit(f"Test images: {folder}" if folder else "Test images: held out from the image folder")

    def _on_resize_chosen(self, _index: int) -> None:
        self.folderEdited.emit()

    def use_data_folder(self, folder: str) -> bool:
        """Use ``folder`` for the data; a folder without any dataset in it is refused, saying why."""
        problem = folder_problem(folder)
        if problem is not None:
            self.source_label.setText(f"{problem}. The data in use is unchanged.")
            self.message.emit(problem)
            return False
        app_settings.set_data_dir(folder)
        self._refresh_source()
        self.dataChanged.emit()
        self.message.emit(f"Data folder: {folder}")
        return True

    # ----------------------------------------------------------------- control

    def set_tensorflow_ready(self, ready: bool) -> None:
        self._tf_ready = ready
        self._update_buttons()

    def start(self) -> bool:
        """Start a run with the shown settings; reports problems and returns False.

        With a trained model to continue, asks first whether to keep training it or start over. A run
        the memory estimate says cannot fit is refused, or started with a smaller batch if the user agrees.
        """
        if not self._fits_in_memory():
            return False
        if self.controller.checkpoint:
            choice = ask_keep_or_start_over(self)
            if choice == "cancel":
                return False
            if choice == "keep":
                return self._start(int(self.epochs_spin.value()))
        return self._start(None)

    def _fits_in_memory(self) -> bool:
        """Start's memory check: offer a batch size that fits, or refuse saying what to change."""
        verdict = self.estimate.memory_verdict()
        if verdict.problem is None:
            return True
        if verdict.fitting_batch:
            if not ask_smaller_batch(self, verdict.problem, verdict.fitting_batch):
                return False
            self.batch_spin.setValue(verdict.fitting_batch)
            return True
        self._report_error("Too big for this machine", verdict.problem)
        return False

    def clear_results(self) -> None:
        """Forget the shown run (curves, progress, result): what is shown next is another model's."""
        self._started = None
        if self._plots is not None:
            self.plots.clear(int(self.epochs_spin.value()))
            self.plots.flush()
        for bar, word in ((self.epoch_bar, "Epoch"), (self.batch_bar, "Batch")):
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setFormat(f"{word}: not started")
        self.eta_label.setText("")
        self._result = ("", None)
        self.result_label.setText("")
        self.health.clear()

    def train_more(self) -> bool:
        """Continue from the last checkpoint for the chosen number of epochs."""
        return self._start(int(self.more_spin.value()))

    def _start(self, more_epochs: int | None) -> bool:
        try:
            train_settings = self.settings()
        except SettingsError as exc:
            self._report_error("Training settings", str(exc))
            return False
        resume_from = None
        if more_epochs is not None:
            resume_from = self.controller.checkpoint
            if not resume_from:
                self._report_error("Train more", "There is no checkpoint to continue from: a run saves one "
                                   "after each completed epoch. Press Start first.")
                return False
            train_settings = train_settings.replace(epochs=more_epochs)
        request = RunRequest(self.dataset_name(), train_settings, resume_from=resume_from, **self.load_options())
        if more_epochs is None:
            self.plots.clear(train_settings.epochs)
        else:
            self.plots.set_epochs(self.controller.epochs_done + more_epochs)
        # Redraw now, before the worker starts: a full redraw for new limits takes about 16 ms alone
        # but several times that once the worker competes for the interpreter.
        self.plots.flush()
        self._result = ("", None)
        self.result_label.setText("")
        self.eta_label.setText("Preparing data and model...")
        reason = self.controller.start(request)
        if reason:
            self.eta_label.setText("")
            self._report_error("Cannot start training", reason)
            return False
        self.message.emit("Training started")
        return True

    def toggle_pause(self) -> None:
        if self.controller.is_paused:
            self.controller.resume()
        else:
            self.controller.pause()

    def _report_error(self, title: str, text: str) -> None:
        self.message.emit(text)
        QMessageBox.warning(self, title, text)

    def _update_buttons(self) -> None:
        running = self.controller.is_running
        analysis = self.controller.document.analysis
        self.start_button.setEnabled(self._tf_ready and not running and analysis.ok)
        self.more_button.setEnabled(self._tf_ready and not running and bool(self.controller.checkpoint))
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.health.set_enabled(self._tf_ready and not running,
                                "Not while training" if running else "Loading TensorFlow...")
        for w in (self.dataset_combo, self.data_dir_button, self.resize_combo, self.test_folder_button,
                  self.optimizer_combo, self.lr_spin, self.momentum_spin,
                  self.batch_spin, self.epochs_spin, self.val_spin, self.early_check, self.more_spin):
            w.setEnabled(not running)
        if not running:
            self._update_optimizer_fields()
            self.patience_spin.setEnabled(self.early_check.isChecked())
        else:
            self.nesterov_check.setEnabled(False)
            self.patience_spin.setEnabled(False)
        if not self._tf_ready:
            self.start_button.setToolTip("Loading TensorFlow...")
        elif not analysis.ok:
            self.start_button.setToolTip(f"Fix the network first: {analysis.errors[0].message}")
        else:
            self.start_button.setToolTip("Train the network on the chosen dataset")

    # ----------------------------------------------------------------- progress

    def _on_started(self, event: TrainStarted) -> None:
        self._started = event
        self._paused_since, self._paused_seconds = None, 0.0
        self._run_epochs = event.epochs
        self._run_initial_epoch = event.initial_epoch
        self._steps = event.steps_per_epoch
        self.epoch_bar.setRange(0, max(1, event.epochs))
        self.epoch_bar.setValue(event.initial_epoch)
        self.epoch_bar.setFormat(f"Epoch {event.initial_epoch + 1} / {event.epochs}")
        self.plots.set_epochs(event.epochs)
        self.batch_bar.setRange(0, max(1, event.steps_per_epoch))
        self.batch_bar.setValue(0)
        self.batch_bar.setFormat("Batch %v / %m")
        self.eta_label.setText(f"Training on {event.device}: {event.train_samples} images, "
                               f"{event.val_samples} for validation")
        if event.dataset_source:
            self.source_label.setText(self.describe_source(event.dataset_source, event.is_sample))
            self._emit_source(event.dataset_source, event.is_sample)

    def _on_batch(self, event: BatchEnd) -> None:
        self.plots.add_batch(event)
        steps = max(1, event.steps)
        self.batch_bar.setRange(0, steps)
        self.batch_bar.setValue(min(event.step, steps))
        self.epoch_bar.setValue(min(event.epoch, self.epoch_bar.maximum()))  # epochs completed
        self.epoch_bar.setFormat(f"Epoch {event.epoch + 1} / {self.epoch_bar.maximum()}")
        if self._paused_since is not None:
            self.eta_label.setText("Paused")  # a batch reported just before the pause: no countdown
            return
        done = (event.epoch - self._run_initial_epoch) * steps + event.step
        total = (self._run_epochs - self._run_initial_epoch) * steps
        seconds = event.seconds - self._paused_seconds  # time spent paused is not training time
        if done > 0 and seconds > 0:
            remaining = seconds / done * max(0, total - done)
            speed = f", {event.samples_per_second:,.0f} images/s" if event.samples_per_second else ""
            self.eta_label.setText(f"Loss {event.loss:.4f}, accuracy {event.accuracy:.1%}; "
                                   f"about {format_duration(remaining)} left{speed}")

    def _on_epoch(self, event: EpochEnd) -> None:
        self.plots.add_epoch(event)
        self.epoch_bar.setRange(0, max(1, event.epochs))
        self.epoch_bar.setValue(min(event.epoch + 1, event.epochs))
        self.epoch_bar.setFormat(f"{event.epoch + 1} / {event.epochs} epochs done")
        self.batch_bar.setValue(self.batch_bar.maximum())  # the last batches may not have been reported
        m = event.metrics
        parts = [f"epoch {event.epoch + 1}: loss {m.get('loss', float('nan')):.4f}"]
        if "val_accuracy" in m:
            parts.append(f"validation accuracy {m['val_accuracy']:.1%}")
        self.message.emit(", ".join(parts))

    def _on_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self._paused_since = time.monotonic()
            self.eta_label.setText("Paused")
        elif self._paused_since is not None:
            self._paused_seconds += time.monotonic() - self._paused_since
            self._paused_since = None
            self.eta_label.setText("Resumed")
        self.message.emit("Training paused" if paused else "Training resumed")

    def _on_finished(self, event: TrainFinished) -> None:
        self.pause_button.setText("Pause")
        if event.status in ("completed", "early_stopped"):
            self.batch_bar.setValue(self.batch_bar.maximum())
        self.epoch_bar.setValue(min(event.epochs_done, self.epoch_bar.maximum()))
        self.epoch_bar.setFormat(f"{event.epochs_done} / {self.epoch_bar.maximum()} epochs done")
        self.plots.flush()
        self._paused_since = None
        head = _FINISH_TEXT.get(event.status, event.status)
        lines = self._result_lines(event, head)
        lines += list(event.warnings)
        request = self.controller.last_request
        self._result = ("\n".join(lines), request.dataset if request is not None else None)
        self._show_result()
        self.eta_label.setText("")
        self._update_buttons()
        if event.status in ("error", "nan"):
            self._report_error(head, event.message or head)
        elif event.diagnosis or event.warnings:
            self._report_error("Training did not learn" if event.diagnosis else head,
                               "\n".join(([event.message] if event.diagnosis else []) + list(event.warnings)))
        else:
            self.message.emit(lines[-1] if event.test_accuracy is not None else head)

    def show_history(self, history: dict[str, list[float]]) -> None:
        """Draw the curves of an earlier run (a reopened project) from its per-epoch history."""
        self.clear_results()
        losses = list(history.get("loss", []))
        if not losses:
            return
        epochs = len(losses)
        self.plots.clear(epochs)
        for epoch, loss in enumerate(losses):
            acc = _at(history.get("accuracy"), epoch)
            self.plots.add_batch(BatchEnd(epoch, 1, 1, float(loss), acc, 0.0))
            metrics = {k: _at(v, epoch) for k, v in history.items() if k.startswith("val_")}
            if "val_loss" in metrics:
                self.plots.add_epoch(EpochEnd(epoch, epochs, metrics, 0.0))
        self.plots.flush()
        self.epoch_bar.setRange(0, epochs)
        self.epoch_bar.setValue(epochs)
        self.epoch_bar.setFormat(f"{epochs} / {epochs} epochs done")
        self._result = (f"Trained for {epochs} epoch{'s' if epochs != 1 else ''} (saved with the project).", None)
        self._show_result()

    def _show_result(self, *_args: object) -> None:
        """The last result, with a note when it was measured on other data than the chosen one."""
        text, dataset = self._result
        mismatch = data_mismatch(dataset, self.dataset_name()) if text else None
        self.result_label.setText(f"{text}\nStale: {mismatch}" if mismatch else text)

    def _result_lines(self, event: TrainFinished, head: str) -> list[str]:
        """The result text: how the run ended, the test accuracy (saying when it is on the bundled sample)."""
        if event.status == "stopped" and event.message:
            lines = [f"Training {event.message[0].lower()}{event.message[1:]}"]  # the message says how far
        else:
            lines = [f"{head} after {event.epochs_done} epoch{'s' if event.epochs_done != 1 else ''}."]
        if event.test_accuracy is not None:
            started = self._started
            lines.append(describe_test_accuracy(event.test_accuracy, bool(started and started.is_sample),
                                                started.test_samples if started else 0))
        if event.status in ("completed", "early_stopped"):
            if event.diagnosis:  # the lines above already say how it ended and the test accuracy
                lines.append(event.advice or event.message)
        elif event.status != "stopped" and event.message:
            lines.append(event.message)
        return lines


def _at(values: list[float] | None, index: int) -> float:
    """``values[index]`` as a float, NaN when missing."""
    try:
        return float(values[index]) if values is not None else float("nan")
    except (IndexError, TypeError, ValueError):
        return float("nan")
