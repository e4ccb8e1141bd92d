"""Screenshots of the Runs window with a few real runs, saved to ``docs/screenshots/``.

Trains four small networks for three epochs each on the bundled MNIST sample (one with a learning
rate that is far too high), adds a damaged run folder, opens the project in the app and takes the
Runs window with three runs' curves overlaid and with two runs compared, at 1600x1000 (``_1600``),
1280x800 (``_1280``) and in the dark theme (``_dark``). Runs itself under Xvfb unless a display is set.

    .venv/bin/python scripts/runs_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from screenshot import _rerun_under_xvfb

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"1600": (1600, 1000), "1280": (1280, 800), "dark": (1600, 1000)}


def record_runs(project: Path) -> None:
    """Four recorded runs of small networks beside ``project`` (a few seconds each)."""
    import numpy as np

    from convstudio.core.datasets import Dataset
    from convstudio.core.network import Network
    from convstudio.core.resources import resource_path
    from convstudio.core.runs import RunRecorder
    from convstudio.core.settings import TrainSettings
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import EventChannel

    with np.load(resource_path("datasets") / "mnist_sample.npz") as d:
        data = Dataset("mnist", d["x_train"][:1500], d["y_train"][:1500], d["x_test"][:500], d["y_test"][:500],
                       [str(i) for i in range(10)], source="bundled sample (first 1,500 images)", is_sample=True)
    root = project.with_suffix(".runs")
    for filters, rate in ((4, 1e-3), (8, 1e-3), (8, 3e-3), (8, 10.0)):
        net = Network.chain(["Input", ("Conv2D", {"filters": filters, "padding": "same"}), "MaxPool2D", "Flatten",
                             ("Dense", {"units": 10, "activation": "softmax"})], spacing=150.0)
        settings = TrainSettings(epochs=3, batch_size=64, learning_rate=rate, validation_split=0.2, seed=1)
        Trainer(net, data, settings, EventChannel(), None, recorder=RunRecorder(root, title=project.stem)).run()
        print(f"recorded a run: {filters} filters, learning rate {rate:g}")
    damaged = root / "20261201-093000-0badc0"
    damaged.mkdir()
    (damaged / "run.json").write_text('{"format": "convstudio-run", "status": "runn')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--in-xvfb", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not args.in_xvfb and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return _rerun_under_xvfb()
    scratch = Path(tempfile.mkdtemp(prefix="convstudio-runs-shots-"))
    os.environ["CONVSTUDIO_OFFLINE"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    project = scratch / "digits.json"
    record_runs(project)

    from PySide6.QtWidgets import QApplication

    from convstudio.core.presets import load_preset
    from convstudio.ui import settings as app_settings
    from convstudio.ui.main_window import MainWindow
    from convstudio.ui.theme import theme_controller

    app = QApplication.instance() or QApplication(sys.argv)
    app_settings.configure_application(app)
    app_settings.use_storage_root(scratch / "config")
    theme = theme_controller(app)
    theme.set_mode("light", store=False)
    window = MainWindow()
    window.files.load(load_preset("lenet5"), str(project))
    window.show()

    def pump(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    window.runs_action.trigger()
    view = window.runs_window
    view.move(0, 0)
    pump(1.0)
    rows = sorted((r for r in view.model.rows if hasattr(r, "outcome")), key=lambda r: r.id)  # oldest first
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for suffix, size in SIZES.items():
        theme.set_mode("dark" if suffix == "dark" else "light", store=False)
        view.resize(*size)
        states = (("runs_curves", rows[:3], view.curves), ("runs_compare", rows[1:3], view.comparison),
                  ("runs_details", rows[3:], view.details))
        for name, chosen, tab in states[:2] if suffix != "1600" else states:
            view.select_folders([str(r.folder) for r in chosen])
            view.tabs.setCurrentWidget(tab)
            pump(1.0)
            image = view.grab().toImage()
            path = out / f"{name}_{suffix}.png"
            image.save(str(path), "PNG", 0)
            print(f"{path} {image.width()}x{image.height()}")
    theme.set_mode("light", store=False)
    window.document.undo_stack.setClean()
    window.autosaver.stop()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
