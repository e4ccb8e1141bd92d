"""Class names in the insight views are shown whole: confusion matrix, prediction bars, their headers."""

from __future__ import annotations

import numpy as np

from convstudio.core.datasets import CLASS_NAMES
from convstudio.core.inspection.evaluation import Evaluation
from convstudio.ui.insight.plots import ConfusionView, PredictionView


def _evaluation(n: int) -> Evaluation:
    y = np.arange(n * 3) % n
    probs = np.eye(n)[(y + (y % 3 == 0)) % n]
    matrix = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(y, probs.argmax(axis=1)):
        matrix[t, p] += 1
    return Evaluation(y, probs, matrix)


def _inside_figure(view, labels) -> None:
    view.canvas.draw()
    renderer = view.canvas.get_renderer()
    box = view.figure.bbox
    for label in labels:
        extent = label.get_window_extent(renderer)
        assert extent.x0 >= box.x0 - 0.5 and extent.y0 >= box.y0 - 0.5, label.get_text()


def test_confusion_shows_full_class_names_inside_the_figure(qtbot):
    names = list(CLASS_NAMES["fashion_mnist"])
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(620, 420)
    view.show()
    qtbot.waitExposed(view)
    view.set_evaluation(_evaluation(10), class_names=names)
    ticks = [t.get_text() for t in view.ax.get_xticklabels()]
    assert "T-shirt/top" in ticks and "Ankle boot" in ticks
    assert [t.get_text() for t in view.ax.get_yticklabels()] == names
    _inside_figure(view, view.ax.get_xticklabels() + view.ax.get_yticklabels())
    assert view.title.wordWrap()
    assert view.cell_tip(9, 0).startswith("true Ankle boot, predicted T-shirt/top")


def test_prediction_bars_name_every_class_whole(qtbot):
    names = list(CLASS_NAMES["fashion_mnist"])
    view = PredictionView()
    qtbot.addWidget(view)
    view.resize(360, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_class_names(names)
    view.set_probabilities(np.full(10, 0.1), 0)
    assert [t.get_text() for t in view.ax.get_yticklabels()] == names
    _inside_figure(view, view.ax.get_yticklabels())
