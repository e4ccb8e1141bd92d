"""The "Inside the network" panel: sample chooser plus feature maps, filters, prediction, confusion
and what augmentation does to the sample.

During training it only displays what the trainer's probe publishes (``on_probe``); after
training (``set_model``) it computes activations, predictions, Grad-CAM, the confusion matrix and
even the trained kernels itself, always in a worker thread, so the GUI thread never waits for
TensorFlow; the Matplotlib views of hidden tabs draw only when shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from convstudio.core.datasets import Dataset
from convstudio.core.inspection import (
    Timeline,
    activation_model,
    block_activations,
    evaluate,
    grad_cam,
    input_channels,
    prepare_images,
    set_conv_kernels,
)
from convstudio.core.network import Network, NetworkEvent
from convstudio.core.provenance import ResultKey, model_token
from convstudio.core.shapes import DEFAULT_INPUT_SHAPE, network_input_shape
from convstudio.core.training_events import ProbeUpdate, TrainStarted

from ..result_guard import ResultGuard, stale_note
from .augmentation_view import AugmentationView
from .feature_maps import FeatureMapView
from .filter_view import FilterView
from .plots import ConfusionView, GradCamView, PredictionView
from .sample_chooser import SampleChooser
from .tasks import TaskRunner

if TYPE_CHECKING:
    import keras

__all__ = ["InsightPanel"]


class InsightPanel(QWidget):
    """Combines the insight views in tabs beside a sample chooser.

    The main window calls :meth:`set_dataset` (or :meth:`load_dataset`), :meth:`set_network`,
    :meth:`on_run_started`, :meth:`on_probe` (for each drained ``ProbeUpdate``) and
    :meth:`set_model` (after training), and forwards ``probeImageChanged`` (uint8 28x28 array) to
    ``trainer.set_probe``.
    """

    probeImageChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._network: Network | None = None
        self._model: Any = None
        self._trained_on: str | None = None
        self._act_model: Any = None
        self.guard = ResultGuard(self._result_key)
        self._image: np.ndarray = np.zeros((28, 28), dtype=np.uint8)
        self.timeline = Timeline()
        self.runner = TaskRunner(self)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self._on_busy)

        self.chooser = SampleChooser()
        self.feature_maps = FeatureMapView()
        self.filters = FilterView()
        self.filters.set_timeline(self.timeline)
        self.filters.epochChanged.connect(self._on_epoch)
        self.filters.handKernelsRequested.connect(self._preview_hand_kernels)
        self.prediction = PredictionView()
        self.grad_cam = GradCamView()
        self.grad_cam.requested.connect(self._request_cam)
        self.confusion = ConfusionView()
        self.confusion.sampleChosen.connect(self._choose_test_sample)
        self.augmentation = AugmentationView(self.runner)

        predict_tab = QSplitter(Qt.Orientation.Horizontal)
        predict_tab.addWidget(self.prediction)
        predict_tab.addWidget(self.grad_cam)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.feature_maps, "Feature maps")
        self.tabs.addTab(self.filters, "Filters")
        self.tabs.addTab(predict_tab, "Prediction")
        self.tabs.addTab(self.confusion, "Confusion")
        self.tabs.addTab(self.augmentation, "Augmentation")
        self.status = QLabel("Train the network to look inside it.")
        self._idle_status = self.status.text()
        self.status.setWordWrap(True)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.chooser)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.chooser.imageChanged.connect(self._on_image)
        self.augmentation.set_sample(self._image, self.chooser.describe())

    # ------------------------------------------------------------------ API for the main window

    def set_dataset(self, dataset: Dataset | None) -> None:
        """Use this dataset's test set for samples and the confusion matrix."""
        self._dataset = dataset
        names = list(dataset.class_names) if dataset is not None else []
        self.prediction.set_class_names(names)
        self.grad_cam.set_choices(names, self._conv_blocks())
        self.confusion.set_evaluation(None)
        self.chooser.set_input_shape(self._input_shape())
        self.chooser.set_dataset(dataset)
        if self._model is not None and not self._show_if_stale():
            self._evaluate()

    def load_dataset(self, name: str, data_dir: str | None = None, **options: Any) -> None:
        """Load the dataset ``name`` off the GUI thread, then :meth:`set_dataset`.

        ``options`` are an image folder's (``test_dir``, ``resize``). Never downloads; a dataset that
        cannot be found is reported in the status line.
        """
        from convstudio.core.datasets import load_dataset

        def use(dataset: Dataset) -> None:
            current = self._dataset
            if current is not None and (current.name, current.source, len(current.x_test)) == \
                    (dataset.name, dataset.source, len(dataset.x_test)):
                return  # the same data again: keep the chosen sample and the evaluation
            self.set_dataset(dataset)

        self.runner.submit("load the dataset", lambda: load_dataset(name, data_dir=data_dir, allow_download=False, **options),
                           use)

    def set_network(self, network: Network | None) -> None:
        """The network being edited (its geometry gives receptive fields)."""
        if self._network is not None:
            self._network.events.disconnect(self._on_network_event)
        self._network = network
        if network is not None:
            network.events.connect(self._on_network_event)
        self.feature_maps.set_network(network, self._input_shape())
        self.chooser.set_input_shape(self._input_shape())
        self.filters.set_network(network)
        self.augmentation.set_network(network)

    def _input_shape(self) -> tuple[int, int, int]:
        """The images the network takes (its Input block's shape; the dataset's without a network)."""
        if self._network is not None:
            return network_input_shape(self._network)  # type: ignore[return-value]
        return self._dataset.input_shape if self._dataset is not None else DEFAULT_INPUT_SHAPE  # type: ignore[return-value]

    def on_probe(self, update: ProbeUpdate) -> None:
        """Show a training-time probe update (no model is run here).

        A probe update means the model is being trained: the panel stops its own computations
        until :meth:`set_model` hands it the trained model.
        """
        self._model = None
        self._act_model = None
        self.filters.set_preview_enabled(False)
        self.timeline.record(update)
        self.feature_maps.caption = f"epoch {update.epoch + 1}, step {update.step} (live)"
        self.feature_maps.set_activations(update.activations, self._image)
        if update.kernels:
            self.filters.set_kernels(update.kernels)
        if update.probabilities is not None:
            self.prediction.set_probabilities(update.probabilities, self.chooser.label(),
                                              f"epoch {update.epoch + 1}")
        self.status.setText(f"Training: epoch {update.epoch + 1}, step {update.step}. "
                            "Maps and filters follow the probe sample.")

    def on_run_started(self, event: TrainStarted) -> None:
        """A run began: a fresh run (from epoch 0) starts a new timeline; the model is being trained."""
        self._model = None
        self._act_model = None
        self.filters.set_preview_enabled(False)
        if event.initial_epoch == 0:
            self.timeline.clear()
            self.filters.set_timeline(self.timeline)
        self.grad_cam.set_cam(None, None, "Grad-CAM appears after training")
        if self.confusion.evaluation is not None:
            self.confusion.status.setText("This confusion matrix is from the previous model; "
                                          "it is recomputed when training ends.")
        self.status.setText("Training: maps and filters follow the probe sample.")

    def set_model(self, model: keras.Model | None, trained_on: Any = None) -> None:
        """A trained model: from now on the panel computes everything for any chosen sample.

        ``trained_on`` is the dataset key the model was trained on (or a record with a ``dataset``
        field); None for a model of unknown origin. A model is never shown with other data.
        """
        self._model = model
        self._trained_on = getattr(trained_on, "dataset", trained_on)
        self._act_model = None
        if model is None:
            return
        if self._show_if_stale():
            return

        def show_kernels(kernels: dict[str, np.ndarray]) -> None:
            self.filters.set_kernels(kernels)
            self.filters.set_preview_enabled(True)

        # Reading the weights waits for TensorFlow: in the worker, not on the GUI thread.
        self.runner.submit("read the filters", lambda: self._model_kernels(model),
                           self.guard.deliver(self.guard.key(), show_kernels))
        if self._dataset is not None:
            self.grad_cam.set_choices(list(self._dataset.class_names), self._conv_blocks())
        self._analyse_sample()
        self._evaluate()

    def stale_reason(self) -> str | None:
        """Why the trained model is not shown with the chosen data (it was trained on other data)."""
        return self.guard.reason()

    def current_image(self) -> np.ndarray:
        return self._image.copy()

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Block until background computations are delivered (scripts and tests)."""
        return self.runner.wait_idle(timeout_s)

    # ------------------------------------------------------------------ reactions

    def _on_network_event(self, event: NetworkEvent) -> None:
        if event.kind != "moved":
            self.feature_maps.invalidate_geometry()
            self.filters.network_changed()
        if event.kind in ("param_changed", "reset") and self._network is not None:
            shape = self._input_shape()  # the Input block's shape may have changed
            if shape != self.chooser.input_shape():
                self.feature_maps.set_network(self._network, shape)
                self.chooser.set_input_shape(shape)
        if event.kind != "moved":
            self.augmentation.refresh()  # after the chooser's new sample: recomputes only when its blocks changed

    def _on_image(self, image: np.ndarray) -> None:
        self._image = np.asarray(image, dtype=np.uint8)
        self.probeImageChanged.emit(self._image.copy())
        self.augmentation.set_sample(self._image, self.chooser.describe())
        if self._model is not None and not self.guard.reason():
            self._analyse_sample()
        else:
            self.feature_maps.set_activations({}, self._image)

    def _choose_test_sample(self, index: int) -> None:
        self.chooser.tabs.setCurrentIndex(0)
        self.chooser.select_test_index(index)

    def _on_epoch(self, epoch: int) -> None:
        snap = self.timeline.at(epoch)
        if snap is not None and snap.activations:
            self.feature_maps.caption = f"epoch {epoch + 1} (replay; probe sample of that time)"
            self.feature_maps.set_activations(snap.activations)

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._idle_status = self.status.text()
            self.status.setText("Computing…")
        elif self.status.text() == "Computing…":
            self.status.setText(self._idle_status)

    def _on_failed(self, key: str, message: str) -> None:
        self.status.setText(f"Could not {key}: {message}")

    def _result_key(self) -> ResultKey:
        dataset = self._dataset.name if self._dataset is not None else None
        return ResultKey(model_token(self._model), dataset, self._trained_on, self.chooser.describe())

    def _show_if_stale(self) -> bool:
        """Clear every result and say why when the model does not fit the data; True when it does not."""
        reason = self.guard.reason()
        if not reason:
            return False
        note = stale_note(reason)
        self.feature_maps.caption = ""
        self.feature_maps.set_activations({}, self._image)
        self.prediction.set_probabilities(None)
        self.grad_cam.set_cam(None, None, note)
        self.confusion.set_evaluation(None)
        self.confusion.status.setText(note)
        self.status.setText(note)
        self._idle_status = note
        return True

    # ------------------------------------------------------------------ computations (worker thread)

    def _conv_blocks(self) -> list[str]:
        if self._model is None:
            return []
        import keras

        return [layer.name for layer in self._model.layers if isinstance(layer, keras.layers.Conv2D)]

    @staticmethod
    def _model_kernels(model: keras.Model) -> dict[str, np.ndarray]:
        import keras

        return {layer.name: np.array(layer.kernel.numpy()) for layer in model.layers
                if isinstance(layer, keras.layers.Conv2D)}

    def _analyse_sample(self) -> None:
        model, network, image = self._model, self._network, self._image.copy()
        if model is None or network is None:
            return
        network = network.copy()  # the user may edit the live network while the worker reads it
        cam_class, cam_block = self.grad_cam.chosen_class(), self.grad_cam.block_combo.currentText() or None

        def work() -> dict[str, Any]:
            if self._act_model is None:
                self._act_model = activation_model(model, network)
            acts = block_activations(model, network, image, self._act_model)
            probs = np.asarray(model(prepare_images(image, input_channels(model)), training=False))[0]
            cam = (grad_cam(model, image, None if cam_class < 0 else cam_class, cam_block, network)
                   if cam_block else None)
            return {"activations": acts, "probabilities": probs, "cam": cam, "cam_class": cam_class, "image": image}

        self.runner.submit("analyse the sample", work,
                           self.guard.deliver(self.guard.key(per_sample=True), self._show_sample))

    def _show_sample(self, result: dict[str, Any]) -> None:
        self.feature_maps.caption = "trained model"
        self.feature_maps.set_activations(result["activations"], result["image"])
        self.prediction.set_probabilities(result["probabilities"], self.chooser.label())
        self._show_cam(result)
        self.status.setText(f"Showing {self.chooser.describe()}.")

    def _request_cam(self, class_index: int, block_id: str) -> None:
        model, image = self._model, self._image.copy()
        network = self._network.copy() if self._network is not None else None
        if model is None or not block_id:
            return

        def work() -> dict[str, Any]:
            cam = grad_cam(model, image, None if class_index < 0 else class_index, block_id, network)
            probs = np.asarray(model(prepare_images(image, input_channels(model)), training=False))[0]
            return {"cam": cam, "cam_class": class_index, "image": image, "probabilities": probs}

        self.runner.submit("compute Grad-CAM", work, self.guard.deliver(self.guard.key(per_sample=True), self._show_cam))

    def _show_cam(self, result: dict[str, Any]) -> None:
        cam = result.get("cam")
        if cam is None:
            return
        names = list(self._dataset.class_names) if self._dataset is not None else []
        cls = result["cam_class"]
        if cls < 0:
            cls = int(np.argmax(result["probabilities"]))
        name = names[cls] if cls < len(names) else str(cls)
        self.grad_cam.set_cam(result["image"], cam, f"Grad-CAM: evidence for {name} "
                                                    f"({result['probabilities'][cls]:.0%})")

    def _preview_hand_kernels(self, block_id: str, set_name: str) -> None:
        """Feature maps of ``block_id`` with hand-designed kernels, on a copy of the trained model."""
        from .filter_view import hand_kernel_sets

        model, image = self._model, self._image.copy()
        if model is None or self._network is None:
            return
        network = self._network.copy()

        def work() -> dict[str, Any]:
            import keras

            layer = model.get_layer(block_id)
            kernels = hand_kernel_sets(int(layer.kernel.shape[0]))[set_name]
            clone = keras.models.clone_model(model)
            clone.set_weights(model.get_weights())
            set_conv_kernels(clone, block_id, kernels)
            return {"activations": block_activations(clone, network, image), "image": image}

        def show(result: dict[str, Any]) -> None:
            self.feature_maps.caption = f"{block_id} with {set_name} (preview; the trained model is unchanged)"
            self.feature_maps.set_activations(result["activations"], result["image"])
            self.feature_maps.set_block(block_id)
            self.tabs.setCurrentWidget(self.feature_maps)

        self.runner.submit("preview the hand-designed kernels", work, self.guard.deliver(self.guard.key(per_sample=True), show))

    def _evaluate(self) -> None:
        model, dataset = self._model, self._dataset
        if model is None or dataset is None or not len(dataset.x_test):
            return
        x, y, n = dataset.x_test, dataset.y_test, dataset.num_classes
        self.confusion.status.setText(f"Evaluating on {len(x)} test images…")
        self.runner.submit("compute the confusion matrix", lambda: evaluate(model, x, y, n),
                           self.guard.deliver(self.guard.key(), lambda ev: self.confusion.set_evaluation(
                               ev, x, list(dataset.class_names))))
