"""``convstudio-cli train`` records each run; ``runs list/show/compare/delete`` read them back."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import BUNDLED_MNIST  # noqa: E402

from convstudio.core.datasets import Dataset
from convstudio.core.network import Network
from convstudio.core.project import Project, load_project, save_project
from convstudio.core.settings import TrainSettings

pytestmark = pytest.mark.slow


@pytest.fixture
def trained_twice(tmp_path, monkeypatch, capsys):
    """A project trained from the command line twice, the second time with 3 filters instead of 2 and 2 epochs."""
    from convstudio.cli import EXIT_OK, main
    from convstudio.core import datasets

    with np.load(BUNDLED_MNIST) as d:
        data = Dataset("mnist", d["x_train"][:128], d["y_train"][:128], d["x_test"][:32], d["y_test"][:32],
                       [str(i) for i in range(10)], source="the bundled sample", is_sample=True)
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: data)
    net = Network.chain(["Input", ("Conv2D", {"filters": 2}), "MaxPool2D", "Flatten",
                         ("Dense", {"units": 10, "activation": "softmax"})])
    path = save_project(Project(net, TrainSettings(epochs=1, batch_size=64, validation_split=0.25), "mnist"),
                        tmp_path / "digits.json")
    assert main(["train", str(path)]) == EXIT_OK
    project = load_project(path)
    project.network.set_param("conv2d_1", "filters", 3)
    save_project(project, path)
    assert main(["train", str(path), "--epochs", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("run recorded: ") == 2
    return path, main


def test_runs_list_show_compare_and_delete(trained_twice, capsys):
    from convstudio.cli import EXIT_ERROR, EXIT_OK

    path, main = trained_twice
    from convstudio.core.runs import load_run

    runs = list((path.parent / "digits.runs").iterdir())
    assert len(runs) == 2
    # two runs may start within the same second, so their names need not sort by time: tell them by the network
    filters = {run.name: load_run(run).network.blocks["conv2d_1"].params["filters"] for run in runs}
    older, newer = sorted(filters, key=filters.get)  # the second run has 3 filters

    assert main(["runs", "list", str(path), "--sort", "parameters"]) == EXIT_OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["run", "outcome", "test", "acc"]
    assert lines[2].startswith(newer) and lines[3].startswith(older)  # 3 filters have more parameters
    assert "finished" in lines[2] and "mnist (sample)" in lines[2] and "tensorboard --logdir" in out

    assert main(["runs", "show", str(path), newer.rsplit("-", 1)[1]]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"run {newer}: finished" in out and "[bundled sample]" in out and "final model:" in out
    assert len([x for x in out.splitlines() if x.strip()[:1].isdigit() and "." in x]) >= 2  # two epoch rows

    assert main(["runs", "compare", str(path), older, newer]) == EXIT_OK
    out = capsys.readouterr().out
    assert "~ conv2d_1 (Conv2D): filters 2 -> 3" in out and "epochs: 1 -> 2" in out

    assert main(["runs", "delete", str(path), older]) == EXIT_ERROR
    assert "--yes" in capsys.readouterr().err and (path.parent / "digits.runs" / older).is_dir()
    assert main(["runs", "delete", str(path), older, "--yes"]) == EXIT_OK
    assert [p.name for p in (path.parent / "digits.runs").iterdir()] == [newer]
    assert main(["runs", "show", str(path), older]) == EXIT_ERROR
    assert "no run" in capsys.readouterr().err
