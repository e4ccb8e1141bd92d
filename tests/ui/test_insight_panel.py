"""The "Inside the network" panel on a tiny model trained briefly on real MNIST images."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402

from convstudio.core.builder import build_model  # noqa: E402
from convstudio.core.datasets import Dataset  # noqa: E402
from convstudio.core.inspection import block_activations, prepare_images, receptive_field  # noqa: E402
from convstudio.core.network import Network  # noqa: E402
from convstudio.core.training_events import ProbeUpdate  # noqa: E402
from convstudio.ui.insight import InsightPanel  # noqa: E402
from convstudio.ui.insight.render import colormap_rgba  # noqa: E402

keras = pytest.importorskip("keras")
from datafiles import MNIST  # noqa: E402  (full MNIST, else the bundled sample)


@pytest.fixture(scope="module")
def trained():
    """(network, model, dataset): LeNet-like, one epoch on 600 real MNIST images."""
    if not os.path.exists(MNIST):
        pytest.skip("real MNIST not available")
    data = np.load(MNIST)
    dataset = Dataset("mnist", data["x_train"][:600], data["y_train"][:600], data["x_test"][:300],
                      data["y_test"][:300], [str(i) for i in range(10)], source=str(MNIST))
    net = Network.chain([
        "Input", ("Conv2D", {"filters": 6, "kernel_h": 5, "kernel_w": 5, "padding": "same"}), "MaxPool2D",
        ("Conv2D", {"filters": 8, "kernel_h": 5, "kernel_w": 5}), "MaxPool2D", "Flatten",
        ("Dense", {"units": 10, "activation": "softmax"}),
    ])
    keras.utils.set_random_seed(0)
    model = build_model(net)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(prepare_images(dataset.x_train), dataset.y_train, epochs=1, batch_size=32, verbose=0)
    return net, model, dataset


@pytest.fixture
def panel(qtbot, trained):
    net, model, dataset = trained
    widget = InsightPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.set_network(net)
    widget.set_dataset(dataset)
    widget.show()
    yield widget
    widget.runner.shutdown()


def _probe(net, model, image, epoch=0, scale=1.0) -> ProbeUpdate:
    acts = block_activations(model, net, image)
    kernels = {b: model.get_layer(b).kernel.numpy() * scale for b in ("conv2d_1", "conv2d_2")}
    return ProbeUpdate(epoch, 3, acts, kernels, acts["dense_1"])


def test_probe_update_shows_one_tile_per_channel(panel, trained):
    net, model, dataset = trained
    update = _probe(net, model, panel.current_image())
    panel.on_probe(update)
    fm = panel.feature_maps
    for bid in ("conv2d_1", "maxpool2d_1", "conv2d_2"):
        fm.set_block(bid)
        assert fm.tile_count() == update.activations[bid].shape[-1]
        np.testing.assert_array_equal(fm.grid.arrays()[-1], update.activations[bid][:, :, -1])
    fm.set_block("flatten_1")
    assert fm.tile_count() == 1  # a flat vector is one tile
    assert panel.timeline.epochs() == [0]
    assert panel.prediction.probabilities is not None


def test_shared_and_per_map_colour_scales(panel, trained):
    net, model, _ = trained
    panel.on_probe(_probe(net, model, panel.current_image()))
    fm = panel.feature_maps
    fm.set_block("conv2d_1")
    maps = fm.grid.arrays()
    assert len(set(fm.grid.color_limits())) == 1
    assert fm.grid.color_limits()[0] == (min(m.min() for m in maps), max(m.max() for m in maps))
    fm.shared_box.setChecked(False)
    limits = fm.grid.color_limits()
    assert [lim[1] for lim in limits] == [m.max() if m.max() > m.min() else m.max() + 0.5 for m in maps]


def test_clicking_a_unit_outlines_its_receptive_field_on_the_input(panel, trained, qtbot):
    net, model, _ = trained
    panel.on_probe(_probe(net, model, panel.current_image()))
    fm = panel.feature_maps
    fm.set_block("conv2d_2")
    qtbot.mouseClick(fm.grid, Qt.MouseButton.LeftButton, pos=fm.grid.tile_rect(3).center())
    assert fm.grid._selected == 3
    rect = fm.enlarged.tile_rect(0)  # map 3 enlarged: 10x10 units; click unit (row 2, column 7)
    pos = QPoint(rect.x() + int((7 + 0.5) * rect.width() / 10), rect.y() + int((2 + 0.5) * rect.height() / 10))
    qtbot.mouseClick(fm.enlarged, Qt.MouseButton.LeftButton, pos=pos)
    expected = receptive_field(net, "conv2d_2", 2, 7)
    assert fm.input_view._highlight == (0, expected)
    assert expected[2] - expected[0] == 14  # 5x5 after 2x2 pooling after 5x5


def test_filter_colours_are_symmetric_and_replay_by_epoch(panel, trained):
    net, model, _ = trained
    image = panel.current_image()
    panel.on_probe(_probe(net, model, image, epoch=0, scale=0.5))
    panel.on_probe(_probe(net, model, image, epoch=1, scale=1.0))
    fv = panel.filters
    kernel = model.get_layer(fv.current_block()).kernel.numpy()
    vmin, vmax = fv.color_limits()
    assert vmin == -vmax and vmax == pytest.approx(float(np.abs(kernel[:, :, 0, :]).max()))
    # zero weight is the neutral middle colour of the diverging map
    mid = colormap_rgba(np.zeros((1, 1)), fv.grid.cmap, vmin, vmax)[0, 0]
    import matplotlib

    assert tuple(mid) == matplotlib.colormaps[fv.grid.cmap](0.5, bytes=True)
    assert fv.slider.isEnabled() and fv.slider.value() == 1
    fv.show_epoch(0)
    np.testing.assert_allclose(fv.grid.arrays()[0], kernel[:, :, 0, 0] * 0.5, rtol=1e-6)
    assert fv.color_limits() == (pytest.approx(vmin * 0.5), pytest.approx(vmax * 0.5))
    fv.block_combo.setCurrentIndex(1)
    fv.channel_spin.setValue(4)
    second = model.get_layer("conv2d_2").kernel.numpy() * 0.5
    np.testing.assert_allclose(fv.grid.arrays()[2], second[:, :, 4, 2], rtol=1e-6)
    assert fv.color_limits()[0] == -fv.color_limits()[1]


def test_clicking_a_confusion_cell_lists_its_samples_by_confidence(panel, trained, qtbot):
    net, model, dataset = trained
    panel.set_model(model)
    assert panel.wait_idle()
    view = panel.confusion
    ev = view.evaluation
    assert ev is not None and ev.matrix.sum() == len(dataset.x_test)
    panel.tabs.setCurrentWidget(view)  # a hidden tab draws when shown
    view.canvas.draw()
    t = int(dataset.y_test[0])
    p = t
    x, y = view.ax.transData.transform((p, t))
    ratio = view.canvas.device_pixel_ratio
    pos = QPoint(int(x / ratio), int(view.canvas.height() - y / ratio))
    qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert view.cell == (t, p)
    listed = view.listed_indices()
    assert len(listed) == ev.matrix[t, p]
    conf = ev.probabilities[listed, p]
    assert np.all(np.diff(conf) <= 0)
    assert all(dataset.y_test[i] == t and ev.y_pred[i] == p for i in listed)
    # choosing a listed sample makes it the sample (and the trainer's probe)
    with qtbot.waitSignal(panel.probeImageChanged) as blocker:
        view.list.setCurrentRow(1)
    np.testing.assert_array_equal(blocker.args[0], dataset.x_test[listed[1]])
    assert panel.wait_idle()
    assert panel.chooser.index_spin.value() == listed[1]


def test_after_training_the_panel_computes_maps_prediction_and_grad_cam(panel, trained):
    net, model, dataset = trained
    panel.set_model(model)
    panel.chooser.select_test_index(5)
    assert panel.wait_idle()
    acts = block_activations(model, net, dataset.x_test[5])
    panel.feature_maps.set_block("conv2d_1")
    np.testing.assert_allclose(panel.feature_maps.grid.arrays()[0], acts["conv2d_1"][:, :, 0], atol=1e-5)
    probs = panel.prediction.probabilities
    np.testing.assert_allclose(probs, acts["dense_1"], atol=1e-5)
    cam = panel.grad_cam.cam
    assert cam is not None and cam.shape == (28, 28) and cam.min() >= 0 and cam.max() <= 1
    panel.grad_cam.class_combo.setCurrentIndex(1 + (int(np.argmax(probs)) + 1) % 10)
    assert panel.wait_idle()
    assert panel.grad_cam.cam is not None and not np.array_equal(panel.grad_cam.cam, cam)


def test_sample_chooser_drawing_shift_and_files(panel, qtbot, tmp_path):
    chooser = panel.chooser
    chooser.tabs.setCurrentIndex(1)
    pad = chooser.pad
    with qtbot.waitSignal(panel.probeImageChanged) as blocker:
        qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(80, 20))
        for y in range(25, 150, 5):
            qtbot.mouseMove(pad, QPoint(80, y))
        qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(80, 150))
    drawn = blocker.args[0]
    assert drawn.shape == (28, 28) and drawn.dtype == np.uint8
    ys, xs = np.nonzero(drawn > 25)
    assert ys.max() - ys.min() + 1 == 20 and xs.max() - xs.min() < 10  # a vertical stroke, MNIST-sized
    with qtbot.waitSignal(panel.probeImageChanged) as blocker:
        chooser.dx_spin.setValue(3)
    np.testing.assert_array_equal(blocker.args[0][:, 3:], drawn[:, :-3])
    assert not chooser.load_file(str(tmp_path / "missing.png"))
    assert "no file" in chooser.file_label.text()


def test_save_as_png_writes_files(panel, trained, tmp_path):
    net, model, _ = trained
    panel.on_probe(_probe(net, model, panel.current_image()))
    for name, view in [("maps", panel.feature_maps), ("filters", panel.filters.grid),
                       ("prediction", panel.prediction), ("confusion", panel.confusion)]:
        path = tmp_path / f"{name}.png"
        assert view.save_png(str(path))
        assert path.stat().st_size > 500


def test_fresh_run_clears_the_timeline_and_probe_stops_own_computations(panel, trained):
    from convstudio.core.training_events import TrainStarted

    net, model, _ = trained
    panel.set_model(model)
    panel.on_probe(_probe(net, model, panel.current_image(), epoch=4))
    assert panel._model is None  # the model is being trained: no analysis of our own
    panel.on_run_started(TrainStarted("CPU", 2, 5, 10, 100, 0))  # Train more: history kept
    assert panel.timeline.epochs() == [4]
    panel.on_run_started(TrainStarted("CPU", 2, 0, 10, 100, 0))
    assert len(panel.timeline) == 0 and not panel.filters.slider.isEnabled()
    assert panel.wait_idle()


def test_load_dataset_off_the_gui_thread(panel, qtbot):
    if not os.path.exists(MNIST):
        pytest.skip("real MNIST not available")
    with qtbot.waitSignal(panel.probeImageChanged, timeout=30_000) as blocker:
        panel.load_dataset("mnist", os.path.dirname(MNIST))
        panel.wait_idle()
    assert panel.chooser.index_spin.maximum() == len(np.load(MNIST)["y_test"]) - 1
    np.testing.assert_array_equal(blocker.args[0], np.load(MNIST)["x_test"][0])
    panel.chooser.select_test_index(42)
    panel.load_dataset("mnist", os.path.dirname(MNIST))  # the same data again keeps the sample
    assert panel.wait_idle()
    assert panel.chooser.index_spin.value() == 42
    panel.load_dataset("cifar-1000")
    assert panel.wait_idle()
    assert panel.status.text().startswith("Could not load the dataset: ")


def test_live_probe_updates_from_a_real_training_run(panel, trained, qtbot):
    training = pytest.importorskip("convstudio.core.training")
    import threading

    from convstudio.core.settings import TrainSettings
    from convstudio.core.training_events import EventChannel, ProbeUpdate, TrainStarted

    net, _, dataset = trained
    channel = EventChannel()
    settings = TrainSettings(epochs=1, batch_size=50, validation_split=0.0, probe_interval_s=0.0,
                             batch_event_interval_s=1.0)
    small = Dataset("mnist", dataset.x_train[:300], dataset.y_train[:300], dataset.x_test, dataset.y_test,
                    dataset.class_names)
    trainer = training.Trainer(net, small, settings, channel)
    panel.probeImageChanged.connect(trainer.set_probe)
    panel.chooser.select_test_index(3)  # forwarded to the trainer as its probe
    thread = threading.Thread(target=trainer.run)
    thread.start()
    probes = []

    def deliver() -> None:  # what the main window's drain timer does
        for event in channel.drain():
            if isinstance(event, TrainStarted):
                panel.on_run_started(event)
            elif isinstance(event, ProbeUpdate):
                probes.append(event)
                panel.on_probe(event)

    while thread.is_alive():
        deliver()
        qtbot.wait(20)
    deliver()
    thread.join()
    assert probes, "the trainer published no probe update"
    last = probes[-1]
    np.testing.assert_allclose(last.activations[net.input_blocks()[0]][..., 0], dataset.x_test[3] / 255.0, atol=1e-6)
    panel.feature_maps.set_block("conv2d_2")
    assert panel.feature_maps.tile_count() == last.activations["conv2d_2"].shape[-1] == 8
    assert panel.timeline.epochs() == [0]
    assert panel.filters.current_block() in last.kernels
    panel.set_model(trainer.model)
    assert panel.wait_idle()
    assert panel.confusion.evaluation is not None


def test_preview_with_sobel_kernels_shows_the_edge_maps_without_changing_the_model(panel, trained):
    from convstudio.core.inspection import correlate2d, sobel_horizontal, sobel_vertical

    net3 = Network.chain(["Input", ("Conv2D", {"filters": 4, "kernel_h": 3, "kernel_w": 3, "padding": "same"}),
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])
    model3 = build_model(net3)
    before = [w.copy() for w in model3.get_weights()]
    panel.set_network(net3)
    panel.set_model(model3)
    assert panel.wait_idle()
    fv = panel.filters
    assert fv.hand_button.isEnabled()
    fv.hand_combo.setCurrentIndex([fv.hand_combo.itemText(i) for i in range(fv.hand_combo.count())].index(
        "Sobel edges (horizontal, vertical)"))
    assert fv.hand_grid.tile_count() == 2
    fv.hand_button.click()
    assert panel.wait_idle()
    maps = panel.feature_maps.grid.arrays()
    image = panel.current_image() / 255.0
    for j, kernel in enumerate([sobel_horizontal(), sobel_vertical(), sobel_horizontal(), sobel_vertical()]):
        expected = np.maximum(correlate2d(image, kernel, padding="same"), 0)  # relu, bias zero
        np.testing.assert_allclose(maps[j], expected, atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(before, model3.get_weights()))
    assert panel.tabs.currentWidget() is panel.feature_maps


def test_hidden_tabs_draw_their_figures_only_when_shown(panel, trained, qtbot):
    net, model, _ = trained
    confusion, cam = panel.confusion, panel.grad_cam
    renders = {"confusion": 0, "cam": 0}
    confusion.canvas.mpl_connect("draw_event", lambda _e: renders.__setitem__("confusion", renders["confusion"] + 1))
    cam.canvas.mpl_connect("draw_event", lambda _e: renders.__setitem__("cam", renders["cam"] + 1))
    panel.tabs.setCurrentWidget(panel.feature_maps)
    panel.set_model(model)
    assert panel.wait_idle()
    qtbot.wait(100)  # room for any pending idle draw
    assert confusion.evaluation is not None and cam.cam is not None  # computed...
    assert renders == {"confusion": 0, "cam": 0}  # ...but not drawn while hidden

    panel.tabs.setCurrentWidget(confusion)
    qtbot.waitUntil(lambda: renders["confusion"] >= 1, timeout=3000)
    assert f"{confusion.evaluation.accuracy:.1%}" in confusion.ax.get_title()
    assert renders["cam"] == 0
    panel.tabs.setCurrentIndex(2)  # Prediction, with Grad-CAM beside it
    qtbot.waitUntil(lambda: renders["cam"] >= 1, timeout=3000)
    assert cam.ax.get_title().startswith("Grad-CAM: evidence for")


def test_prediction_updates_repaint_the_bars_without_a_full_draw(qtbot, tmp_path):
    from convstudio.ui.insight.plots import PredictionView

    view = PredictionView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    full = []
    view.canvas.mpl_connect("draw_event", lambda _e: full.append(1))
    view.set_class_names([str(i) for i in range(10)])
    view.set_probabilities(np.full(10, 0.1), 3)
    qtbot.waitUntil(lambda: len(full) >= 1, timeout=3000)  # new bars: one full draw
    drawn = len(full)
    probs = np.linspace(0.0, 1.0, 10) / np.linspace(0.0, 1.0, 10).sum()
    view.set_probabilities(probs, 3, "epoch 2")
    qtbot.wait(50)
    assert len(full) == drawn  # repainted over the cached background
    assert [bar.get_width() for bar in view._bars] == pytest.approx(list(probs))
    assert view.ax.get_title().startswith("predicted 9")
    path = tmp_path / "prediction.png"
    assert view.save_png(str(path)) and path.stat().st_size > 500
    assert all(a.get_animated() for a in view._bars)  # still blitted after saving


def _as_fashion(dataset: Dataset) -> Dataset:
    return Dataset("fashion_mnist", dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test,
                   ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot"], source="fashion slice")


def test_a_model_trained_on_mnist_is_not_shown_with_fashion_data(panel, trained):
    net, model, dataset = trained
    panel.set_model(model, trained_on="mnist")
    assert panel.wait_idle()
    assert panel.confusion.evaluation is not None and panel.prediction.probabilities is not None
    panel.set_dataset(_as_fashion(dataset))
    assert panel.wait_idle()
    note = "Stale: The model was trained on MNIST; train again for Fashion-MNIST."
    assert panel.confusion.evaluation is None and panel.confusion.status.text() == note
    assert panel.prediction.probabilities is None and panel.grad_cam.cam is None
    assert panel.feature_maps.tile_count() == 0 and panel.status.text() == note
    panel.chooser.select_test_index(3)  # another sample: still nothing computed with this model
    assert panel.wait_idle() and panel.prediction.probabilities is None
    panel.set_dataset(dataset)  # back to the data it was trained on
    assert panel.wait_idle()
    assert panel.confusion.evaluation is not None and panel.stale_reason() is None


def test_a_result_asked_for_before_the_data_changed_is_dropped(panel, trained):
    net, model, dataset = trained
    panel.set_model(model, trained_on="mnist")  # evaluation submitted for MNIST...
    panel._dataset = _as_fashion(dataset)  # ...and the data changes before it is delivered
    assert panel.wait_idle()
    assert panel.confusion.evaluation is None


def test_the_receptive_field_caption_follows_the_block(panel, trained):
    net, model, _ = trained
    panel.on_probe(_probe(net, model, panel.current_image()))
    fm = panel.feature_maps
    fm.set_block("conv2d_2")
    assert fm.show_unit(2, 7) is not None
    assert "of conv2d_2" in fm.field_label.text() and fm.input_view._highlight is not None
    fm.set_block("conv2d_1")
    assert "conv2d_2" not in fm.field_label.text() and fm.input_view._highlight is None


def test_a_new_sample_starts_unshifted(panel):
    chooser = panel.chooser
    chooser.select_test_index(1)
    chooser.dx_spin.setValue(3)
    assert "shifted" in chooser.describe()
    chooser.select_test_index(2)
    assert chooser.dx_spin.value() == 0 and "shifted" not in chooser.describe()
    chooser.dy_spin.setValue(-2)
    chooser.set_image(np.zeros((28, 28), np.uint8), source="drawing")
    assert chooser.dy_spin.value() == 0
