"""The Filters view beside a network: hand-designed kernels as designed and as they are now, and
the action that makes a Conv2D block start from hand-designed kernels."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.inspection import conv_kernel_array, kernel_bank
from convstudio.core.network import Network
from convstudio.ui.insight.filter_view import FilterView, hand_kernel_init, hand_kernel_sets


def two_branches() -> Network:
    net = Network()
    net.add_block("Input", {}, block_id="input")
    net.add_block("Conv2D", {"filters": 2, "padding": "same", "kernel_init": "sobel", "trainable": False},
                  block_id="sobel")
    net.add_block("Conv2D", {"filters": 3, "padding": "same"}, block_id="learned")
    net.connect("input", "sobel")
    net.connect("input", "learned")
    return net


@pytest.fixture
def view(qtbot):
    fv = FilterView()
    qtbot.addWidget(fv)
    fv.show()
    return fv


def choose(combo, data_or_text) -> None:
    texts = [combo.itemText(i) for i in range(combo.count())]
    ids = [combo.itemData(i) for i in range(combo.count())]
    combo.setCurrentIndex(ids.index(data_or_text) if data_or_text in ids else texts.index(data_or_text))


def test_hand_sets_are_the_kernels_a_block_starts_from():
    for name, kernels in hand_kernel_sets(3).items():
        init = hand_kernel_init(name)
        assert [k.tolist() for k in kernels] == [k.tolist() for k in kernel_bank(init, 3, 3)]
    assert [hand_kernel_init(n) for n in hand_kernel_sets(3)] == ["sobel", "kirsch", "gaussian"]


def test_frozen_sobel_block_shows_its_design_beside_its_kernels_now(view):
    net = two_branches()
    rng = np.random.default_rng(0)
    sobel = conv_kernel_array("sobel", 3, 3, 1, 2)
    view.set_network(net)
    view.set_kernels({"sobel": sobel, "learned": rng.normal(size=(3, 3, 1, 3)).astype(np.float32)})
    choose(view.block_combo, "sobel")
    assert view.compare_box.isVisible()
    np.testing.assert_array_equal(view.compare_start.arrays()[1], sobel[:, :, 0, 1])
    np.testing.assert_array_equal(view.compare_now.arrays()[0], sobel[:, :, 0, 0])
    assert view.drift == 0 and "Frozen" in view.compare_label.text()
    assert view.compare_start.color_limits() == view.compare_now.color_limits()  # one colour scale

    net.set_param("sobel", "trainable", True)  # trained, the kernels drift from the design
    drifted = sobel.copy()
    drifted[1, 1, 0, 0] += 0.25
    view.set_kernels({"sobel": drifted, "learned": rng.normal(size=(3, 3, 1, 3)).astype(np.float32)})
    assert view.drift == pytest.approx(0.25)
    assert "moved them by up to 0.25" in view.compare_label.text()

    choose(view.block_combo, "learned")  # a learned block has no design to compare with
    assert not view.compare_box.isVisible() and view.drift is None


def test_use_these_kernels_asks_to_set_the_block_and_follows_its_params(view, qtbot):
    net = two_branches()
    view.set_network(net)
    view.set_kernels({"sobel": conv_kernel_array("sobel", 3, 3, 1, 2),
                      "learned": np.zeros((3, 3, 1, 3), np.float32)})
    choose(view.block_combo, "learned")
    choose(view.hand_combo, "Kirsch compass (8 directions)")
    assert view.use_button.isEnabled() and view.use_button.text() == "Use these kernels in learned"
    with qtbot.waitSignal(view.useKernelsRequested) as blocker:
        view.use_button.click()
    assert blocker.args == ["learned", "kirsch"]
    net.set_param("learned", "kernel_init", "kirsch")
    view.network_changed()
    assert not view.use_button.isEnabled()  # it already starts from them
    assert view.compare_box.isVisible()  # and now has a design to compare with

    bare = FilterView()  # no network: nothing to set
    qtbot.addWidget(bare)
    bare.set_kernels({"learned": np.zeros((3, 3, 1, 3), np.float32)})
    assert not bare.use_button.isEnabled() and bare.use_button.text() == "Use these kernels"
