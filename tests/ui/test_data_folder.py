"""Choosing a data folder: one without any dataset in it is refused, saying what was looked for."""

from __future__ import annotations

import numpy as np

from convstudio.core.datasets import folder_problem
from convstudio.core.network import Network
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel


def test_folder_problem_names_what_was_looked_for(tmp_path):
    empty = tmp_path / "holiday photos"
    empty.mkdir()
    (empty / "beach.jpg").write_bytes(b"\xff\xd8")
    problem = folder_problem(empty)
    assert problem is not None and "holiday photos" in problem
    assert "mnist.npz" in problem and "fashion_mnist.npz" in problem and "train-images-idx3-ubyte" in problem
    assert folder_problem(tmp_path / "missing").endswith("is not a folder")
    (empty / "fashion-mnist").mkdir()
    np.savez(empty / "fashion-mnist" / "fashion_mnist.npz", x=np.zeros(1))
    assert folder_problem(empty) is None  # found by name; its contents are checked when loaded


def test_the_panel_refuses_a_folder_without_data_and_keeps_the_old_one(qtbot, tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    try:
        good = tmp_path / "data"
        good.mkdir()
        (good / "mnist.npz").write_bytes(b"")
        document = EditorDocument(Network.chain(["Input"]))
        panel = TrainingPanel(TrainingController(document, checkpoint_dir=str(tmp_path / "ck")))
        qtbot.addWidget(panel)
        messages: list[str] = []
        panel.message.connect(messages.append)
        assert panel.use_data_folder(str(good)) and app_settings.data_dir() == str(good)
        empty = tmp_path / "empty"
        empty.mkdir()
        assert not panel.use_data_folder(str(empty))
        assert app_settings.data_dir() == str(good)
        assert messages[-1].startswith("No dataset in") and "mnist.npz" in messages[-1]
        assert "No dataset in" in panel.source_label.text()
    finally:
        app_settings.use_storage_root(None)
