"""``convstudio-cli train`` says when its result comes from the bundled sample."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST  # noqa: E402

from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.project import Project, save_project
from convstudio.core.settings import TrainSettings

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("is_sample", [True, False])
def test_the_test_accuracy_line_says_when_it_comes_from_the_sample(tmp_path, monkeypatch, capsys, is_sample):
    from convstudio.cli import EXIT_OK, main
    from convstudio.core import datasets

    with np.load(BUNDLED_MNIST) as d:
        data = Dataset("mnist", d["x_train"][:128], d["y_train"][:128], d["x_test"][:40], d["y_test"][:40],
                       [str(i) for i in range(10)], source="the bundled sample" if is_sample else "a folder",
                       is_sample=is_sample)
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: data)
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    project = save_project(Project(net, TrainSettings(epochs=1, batch_size=64, validation_split=0.0), "mnist"),
                           tmp_path / "p.json")
    assert main(["train", str(project)]) == EXIT_OK
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("test accuracy:"))
    assert ("on the bundled sample's 40 test images, not the full test set" in line) == is_sample
