"""File > Import: a Keras file loads in a worker, never on the GUI thread, and refusals are explained."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from convstudio.core.builder import build_model
from convstudio.core.network import Network


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
    import keras

    folder = tmp_path_factory.mktemp("models")
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    model = build_model(net)
    model.save(folder / "good.keras")
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Reshape((784,), name="unrolled")(inputs)
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x)).save(folder / "bad.keras")
    return net, model, folder


def test_the_model_loads_in_a_worker_and_arrives_on_the_gui_thread(qtbot, keras_files, monkeypatch):
    from PySide6.QtWidgets import QWidget

    from convstudio.core import importer
    from convstudio.ui.model_import import import_in_background

    net, model, folder = keras_files
    loaders: list[threading.Thread] = []
    real = importer.import_keras_model

    def spy(path, *args, **kwargs):
        loaders.append(threading.current_thread())
        return real(path, *args, **kwargs)

    monkeypatch.setattr(importer, "import_keras_model", spy)
    parent = QWidget()
    qtbot.addWidget(parent)
    got: list = []
    import_in_background(parent, str(folder / "good.keras"),
                         lambda imported: got.append((imported, threading.current_thread())))
    assert got == []  # the call returns before the file is read
    qtbot.waitUntil(lambda: bool(got), timeout=60_000)
    (network, rebuilt), delivered_on = got[0]
    assert loaders and loaders[0] is not threading.main_thread()
    assert delivered_on is threading.main_thread()
    assert {b.id for b in network} == {b.id for b in net}
    assert rebuilt.count_params() == model.count_params()
    np.testing.assert_allclose(rebuilt.get_weights()[0], model.get_weights()[0])


def test_a_refused_file_is_explained_layer_by_layer(qtbot, keras_files, monkeypatch):
    from PySide6.QtWidgets import QMessageBox, QWidget

    from convstudio.ui.model_import import import_in_background

    _, _, folder = keras_files
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.detailedText())) or 0)
    parent = QWidget()
    qtbot.addWidget(parent)
    done: list = []
    import_in_background(parent, str(folder / "bad.keras"), done.append)
    qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    text, details = shown[0]
    assert done == [] and "\n" not in text
    assert "layer 'unrolled' (Reshape)" in details and not details.startswith("- ")


def test_a_missing_file_is_one_clear_line(qtbot, tmp_path):
    from PySide6.QtWidgets import QWidget

    from convstudio.ui.model_import import import_in_background

    parent = QWidget()
    qtbot.addWidget(parent)
    refused: list[str] = []
    import_in_background(parent, str(tmp_path / "none.keras"), lambda imported: None, refused.append)
    qtbot.waitUntil(lambda: bool(refused), timeout=60_000)
    assert "none.keras" in refused[0] and "Traceback" not in refused[0]
