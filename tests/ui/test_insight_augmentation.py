"""The insight panel's Augmentation tab: the sample beside what training's augmentation makes of it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convstudio.core.network import Network  # noqa: E402
from convstudio.ui.insight import InsightPanel  # noqa: E402

pytest.importorskip("keras")

HEAD = ["Conv2D", "Flatten", ("Dense", {"units": 10, "activation": "softmax"})]


def _picture() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:20, 6:12] = 255  # an off-centre bar: every rotation moves it
    return image


@pytest.fixture
def make_panel(qtbot):
    panels = []

    def make(network: Network, tab: bool = True, sample: np.ndarray | None = None) -> InsightPanel:
        panel = InsightPanel()
        qtbot.addWidget(panel)
        panel.resize(900, 500)
        panel.set_network(network)
        panel.show()
        if tab:
            panel.tabs.setCurrentWidget(panel.augmentation)
        panel.chooser.set_image(_picture() if sample is None else sample, source="a bar")
        assert panel.wait_idle(30)
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        panel.runner.shutdown()


def _tiles(panel: InsightPanel) -> list[np.ndarray]:
    return panel.augmentation.grid.arrays()


def test_the_tab_shows_the_sample_and_eight_variants_and_draws_new_ones(make_panel, qtbot):
    net = Network.chain(["Input", "RandomFlip", ("RandomRotation", {"factor": 0.1}), *HEAD])
    panel = make_panel(net)
    view = panel.augmentation
    tiles = _tiles(panel)
    assert len(tiles) == 1 + view.COUNT
    np.testing.assert_array_equal(tiles[0], _picture())
    assert all(not np.array_equal(t, tiles[0]) for t in tiles[1:])
    assert "RandomRotation (±36°)" in view.chain_label.text() and "Seed 0" in view.note.text()

    view.new_button.click()
    assert panel.wait_idle(30)
    again = _tiles(panel)
    assert "Seed 1" in view.note.text()
    assert not any(np.array_equal(a, b) for a, b in zip(again[1:], tiles[1:]))
    np.testing.assert_array_equal(again[0], tiles[0])


def test_a_network_without_augmentation_gets_the_message_and_no_tiles(make_panel):
    panel = make_panel(Network.chain(["Input", ("Rescaling", {"scale": 2.0}), *HEAD]))
    view = panel.augmentation
    assert view.tile_count() == 0
    assert "no augmentation blocks" in view.chain_label.text() and "RandomFlip" in view.chain_label.text()
    assert not view.new_button.isEnabled()
    assert not panel.runner.busy  # nothing was sent to the worker


def test_editing_an_augmentation_block_marks_the_variants_stale_then_refreshes_them(make_panel):
    net = Network.chain(["Input", ("RandomRotation", {"factor": 0.1}), *HEAD])
    panel = make_panel(net)
    view = panel.augmentation
    before = _tiles(panel)

    net.set_param("conv2d_1", "filters", 4)  # not an augmentation block: the variants still fit
    assert not view.is_stale() and view.tile_count() == len(before) and not panel.runner.busy

    net.set_param("randomrotation_1", "factor", 0.3)
    assert view.is_stale() and view.tile_count() == 0  # never shown with the new settings
    assert "RandomRotation (±36°)" in view.note.text()  # what the old variants were computed for
    assert panel.wait_idle(30)
    assert not view.is_stale() and view.tile_count() == len(before)
    assert "±108°" in view.chain_label.text()

    net.remove_block("randomrotation_1")
    net.connect("input_1", "conv2d_1")
    assert view.tile_count() == 0 and "no augmentation blocks" in view.chain_label.text()


def test_while_hidden_it_only_marks_stale_and_computes_when_shown(make_panel):
    net = Network.chain(["Input", ("RandomZoom", {"height_factor": 0.4, "width_factor": 0.4}), *HEAD])
    panel = make_panel(net, tab=False)
    view = panel.augmentation
    assert view.tile_count() == 0 and not panel.runner.busy  # not computed while hidden

    panel.tabs.setCurrentWidget(view)
    assert panel.wait_idle(30) and view.tile_count() == 1 + view.COUNT

    panel.tabs.setCurrentIndex(0)
    panel.chooser.set_image(255 - _picture(), source="an inverted bar")
    assert view.is_stale() and view.tile_count() == 0 and not panel.runner.busy
    panel.tabs.setCurrentWidget(view)
    assert panel.wait_idle(30)
    np.testing.assert_array_equal(_tiles(panel)[0], 255 - _picture())


def test_a_colour_network_after_training_still_shows_colour_variants(make_panel):
    from convstudio.core.builder import build_model

    net = Network.chain([("Input", {"height": 12, "width": 16, "channels": 3}), ("Rescaling", {"scale": 1 / 127.5,
                         "offset": -1.0}), "RandomFlip", *HEAD])
    rgb = np.zeros((12, 16, 3), np.uint8)
    rgb[:, :5, 0] = 255  # red on the left
    panel = make_panel(net, sample=rgb)
    panel.set_model(build_model(net))  # the model the panel looks inside after training
    assert panel.wait_idle(30)
    tiles = _tiles(panel)
    assert tiles[0].shape == (12, 16, 3)
    np.testing.assert_allclose(tiles[0], rgb / 255.0)
    flipped = [np.allclose(t, rgb[:, ::-1] / 255.0) for t in tiles[1:]]
    kept = [np.allclose(t, rgb / 255.0) for t in tiles[1:]]
    assert any(flipped) and all(f or k for f, k in zip(flipped, kept))


def test_augmentation_after_a_convolution_is_named_and_not_shown(make_panel):
    panel = make_panel(Network.chain(["Input", "Conv2D", "RandomFlip", *HEAD[1:]]))
    view = panel.augmentation
    assert view.tile_count() == 0 and not view.new_button.isEnabled()
    assert view.chain_label.text().startswith("No augmentation block follows the Input block")
    assert "randomflip_1 comes after another kind of block" in view.note.text()
