"""The convolution explorer view: stepping, controls and blocks, checked against the core's numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from convstudio.core.explorer import (
    TEACHING_GRID,
    ExplorerError,
    WindowSettings,
    explore,
    preset_kernel,
)
from convstudio.core.network import Network
from convstudio.ui.explorer import (
    ConvExplorer,
    can_explore,
    open_explorer,
    open_for_block,
)


@pytest.fixture
def explorer(qtbot):
    view = ConvExplorer()
    qtbot.addWidget(view)
    view.resize(1100, 600)
    return view


def _core(view: ConvExplorer):
    return explore(TEACHING_GRID, preset_kernel("Sobel vertical edges", 3, 3), view.settings)


def test_stepping_moves_the_window_and_the_sum(explorer):
    assert explorer.numbers_view.window_box == (0, 0, 3, 3)
    assert explorer.output_view.current == (0, 0)
    explorer.next_button.click()
    core = _core(explorer)
    assert explorer.position == (0, 1)
    assert explorer.numbers_view.window_box == (0, 1, 3, 3) == explorer.image_view.window_box
    assert explorer.output_view.current == (0, 1)
    assert explorer.sum_label.text() == f"output[0, 1] = {core.sum_text(0, 1)}"
    assert explorer.sum_label.text().endswith("= 36")
    explorer.step(4)
    assert explorer.position == (1, 0) and explorer.numbers_view.window_box == (1, 0, 3, 3)
    explorer.back_button.click()
    assert explorer.position == (0, 4)
    explorer.output_view.cellClicked.emit(2, 3)
    assert explorer.position == (2, 3) and "output[2, 3]" in explorer.sum_label.text()


def test_changing_padding_updates_the_output_size_and_formula(explorer):
    assert explorer.size_label.text() == "input 7×7 → output 5×5"
    explorer.padding_combo.setCurrentText("same")
    assert explorer.size_label.text() == "input 7×7 → output 7×7"
    assert explorer.numbers_view.pad_mask.sum() == 9 * 9 - 7 * 7
    explorer.padding_combo.setCurrentText("full")
    explorer.sh_spin.setValue(2)
    assert explorer.size_label.text() == "input 7×7 → output 5×9"
    explorer.sw_spin.setValue(2)
    assert explorer.size_label.text() == "input 7×7 → output 5×5"
    assert "floor((7 + 2×2 − 3)/2) + 1 = 5" in explorer.formula_label.text()
    explorer.dh_spin.setValue(2)
    assert "f_eff" in explorer.formula_label.text() and "Keras Conv2D does not accept" in explorer.note_label.text()


def test_displayed_values_equal_the_core(explorer):
    explorer.padding_combo.setCurrentText("same")
    explorer.sw_spin.setValue(2)
    np.testing.assert_array_equal(explorer.output_view.values, _core(explorer).output)
    explorer.op_combo.setCurrentIndex(2)  # average pooling
    core = explore(TEACHING_GRID, None, explorer.settings)
    np.testing.assert_allclose(explorer.output_view.values, core.output[:, :, 0])
    assert not explorer.kernel_table.isVisibleTo(explorer) and not explorer.dilation_box.isEnabled()
    assert explorer.sum_label.text().startswith("output[0, 0] = (")


def test_presets_and_edited_weights_drive_the_output(explorer):
    explorer.preset_combo.setCurrentText("Identity")
    np.testing.assert_array_equal(explorer.output_view.values, TEACHING_GRID[1:-1, 1:-1])
    explorer.kh_spin.setValue(5)
    explorer.kw_spin.setValue(5)
    assert explorer.kernel_table.rowCount() == 5 and explorer.preset_combo.currentText() == "Identity"
    explorer.preset_combo.setCurrentText("Sobel vertical edges")  # 3x3 only: kept as a custom kernel
    assert explorer.preset_combo.currentText() == "Custom"
    explorer.kh_spin.setValue(3)
    explorer.kw_spin.setValue(3)
    explorer.kernel_table.item(1, 1).setText("2")
    assert explorer.preset_combo.currentText() == "Custom"
    assert explorer.kernel_table.values()[1, 1] == 2
    explorer.kernel_table.item(0, 0).setText("abc")  # not a number: the old weight stays
    assert explorer.kernel_table.item(0, 0).text() == explorer.kernel_table.values().astype(int).astype(str)[0, 0]
    expected = explore(TEACHING_GRID, explorer.kernel_table.values(), explorer.settings).output
    np.testing.assert_allclose(explorer.output_view.values, expected)


def test_play_steps_on_a_timer_and_stops_at_the_end(explorer, qtbot):
    explorer._timer.setInterval(5)
    explorer.set_position(4, 2)
    explorer.play_button.click()
    assert explorer.play_button.text() == "⏸ Pause"
    qtbot.waitUntil(lambda: explorer.play_button.text() == "▶ Play", timeout=3000)
    assert explorer.position == (4, 4)


def test_lesson_state_and_changes(explorer):
    seen = []
    explorer.stateChanged.connect(lambda: seen.append(explorer.explorer_state()))
    explorer.apply_changes({"stride_h": 2, "stride_w": 2, "position": [1, 2]})
    state = explorer.explorer_state()
    assert state.as_dict()["output_h"] == 3 and state.position == (1, 2) and seen[-1] == state
    assert explorer.sh_spin.value() == 2
    with pytest.raises(ExplorerError):
        explorer.apply_changes({"padding": "mirror"})
    assert explorer.explorer_state() == state


def _net() -> Network:
    return Network.chain(["Input", ("Conv2D", {"filters": 2, "stride_h": 2, "stride_w": 2, "padding": "same"}),
                          ("AvgPool2D", {"pool_h": 2, "pool_w": 2, "stride_h": 1, "stride_w": 1}),
                          "Flatten", ("Dense", {"units": 10, "activation": "softmax"})])


def test_opens_on_a_block_with_its_settings_weights_and_sample(qtbot):
    net = _net()
    assert can_explore(net, "conv2d_1") and not can_explore(net, "flatten_1")
    sample = (np.arange(28 * 28) % 200).astype(np.uint8).reshape(28, 28)
    kernels = np.arange(18, dtype=np.float64).reshape(3, 3, 1, 2) - 9
    view = open_for_block(net, "conv2d_1", sample=sample, block_input=None)
    qtbot.addWidget(view)
    assert view.settings == WindowSettings((3, 3), (2, 2), "same")
    assert view.source_combo.currentText() == "Input of conv2d_1"
    assert view.size_label.text() == "input 28×28 → output 14×14"
    view.set_position(13, 13)  # the numbers view follows the window into the bottom-right corner
    r0, c0, rows, cols = view.numbers_view.viewport
    br, bc, bh, bw = view.numbers_view.window_box
    assert (rows, cols) == (9, 9) and r0 <= br and br + bh <= r0 + rows and c0 <= bc and bc + bw <= c0 + cols
    assert view.numbers_view.shows_numbers() and not view.image_view.shows_numbers()
    view.load_block(dataclasses.replace(view._block, kernels=kernels, biases=np.array([0.0, 0.5])))
    view.filter_spin.setValue(1)
    expected = explore(sample / 255.0, kernels[:, :, :, 1], view.settings, bias=0.5).output
    np.testing.assert_allclose(view.output_view.values, expected)
    assert "0.5 (bias)" in view.sum_label.text()
    pool = open_for_block(net, "avgpool2d_1", block_input=np.ones((14, 14, 2)))
    qtbot.addWidget(pool)
    assert pool.settings.op == "avg" and pool.channel_spin.maximum() == 1
    assert pool.size_label.text() == "input 14×14 → output 13×13"


def test_a_trained_model_gives_the_kernels_and_the_maps_of_a_deeper_block(qtbot):
    from convstudio.core.builder import build_model

    net = _net()
    model = build_model(net)
    sample = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28)
    conv = open_for_block(net, "conv2d_1", trained_model=model, sample=sample)
    qtbot.addWidget(conv)
    np.testing.assert_allclose(conv._block.kernels, model.get_layer("conv2d_1").get_weights()[0])
    pool = open_for_block(net, "avgpool2d_1", trained_model=model, sample=sample)
    qtbot.addWidget(pool)
    feeding = np.asarray(conv._block.image)
    assert pool._block.image.shape == (14, 14, 2) and feeding.shape == (28, 28, 1)
    keras_out = np.asarray(model.get_layer("avgpool2d_1")(pool._block.image[None].astype(np.float32)))[0]
    np.testing.assert_allclose(pool.output_view.values, keras_out[:, :, 0], atol=1e-5)


def test_open_explorer_on_a_lesson_grid(qtbot):
    view = open_explorer(np.eye(5), np.ones((2, 2)), WindowSettings((2, 2), (1, 1), "valid"))
    qtbot.addWidget(view)
    assert view.size_label.text() == "input 5×5 → output 4×4"
    np.testing.assert_allclose(view.output_view.values, explore(np.eye(5), np.ones((2, 2)), view.settings).output)
