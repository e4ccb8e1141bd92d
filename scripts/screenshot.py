"""Screenshots of the real app window in its key states, saved to ``docs/screenshots/``.

Runs itself under Xvfb (``xvfb-run``) unless a display is already set. States: an empty document,
the LeNet-5 preset, an invalid block (red, with its message in the inspector), and a short real run
on the bundled MNIST sample with live curves and with the insight views following it, and a run at a
learning rate far too high with its health warnings and gradient flow. Each state is
taken at 1600x1000 (``_1600``) and 1280x800 (``_1280``), and in the dark theme at 1600x1000
(``_dark``); the user guide and the glossary are taken once.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshots] [--only-health]

Needs ``xvfb libxcb-cursor0 libxkbcommon-x11-0 libegl1`` (apt-get) when no display is available.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"1600": (1600, 1000), "1280": (1280, 800)}


def _rerun_under_xvfb() -> int:
    if shutil.which("xvfb-run") is None:
        print("xvfb-run is missing: apt-get install xvfb libxcb-cursor0 libxkbcommon-x11-0 libegl1",
              file=sys.stderr)
        return 2
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv, "--in-xvfb"]
    return subprocess.call(cmd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only-health", action="store_true", help="only the training-health state")
    parser.add_argument("--in-xvfb", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not args.in_xvfb and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return _rerun_under_xvfb()

    scratch = tempfile.mkdtemp(prefix="convstudio-shots-")
    os.environ["CONVSTUDIO_OFFLINE"] = "1"  # the bundled sample, so the pictures are reproducible
    os.environ["KERAS_HOME"] = scratch
    os.environ.pop("CONVSTUDIO_DATA_DIR", None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from PySide6.QtWidgets import QApplication

    from convstudio.ui import settings as app_settings
    from convstudio.ui.icons import app_icon
    from convstudio.ui.main_window import MainWindow
    from convstudio.ui.tf_loader import TensorFlowLoader

    app = QApplication.instance() or QApplication(sys.argv)
    app_settings.configure_application(app)
    app_settings.use_storage_root(os.path.join(scratch, "config"))
    app.setWindowIcon(app_icon())
    from convstudio.ui.theme import theme_controller

    theme = theme_controller(app)
    theme.set_mode("light", store=False)
    window = MainWindow()
    window.resize(*SIZES["1600"])
    window.move(0, 0)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float, until=None) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if until is not None and until():
                return True
            time.sleep(0.01)
        return until is None

    def save(widget, name: str) -> None:
        pump(0.5)
        if window.training_panel.plots is not None:
            window.training_panel.plots.flush()
        pump(0.2)
        image = widget.grab().toImage()
        path = out / f"{name}.png"
        image.save(str(path), "PNG", 0)
        print(f"{path} {image.width()}x{image.height()} ({path.stat().st_size // 1024} KiB)")

    def shot(name: str, prepare=None) -> None:
        """``name`` at both sizes and in the dark theme; ``prepare()`` runs after each resize."""
        for suffix, dark in (("1600", False), ("1280", False), ("dark", True)):
            window.resize(*SIZES["1280" if suffix == "1280" else "1600"])
            theme.set_mode("dark" if dark else "light", store=False)
            pump(0.3)
            if prepare is not None:
                prepare()
            save(window, f"{name}_{suffix}")
        theme.set_mode("light", store=False)
        window.resize(*SIZES["1600"])

    loader = TensorFlowLoader(window)
    loader.ready.connect(window.set_tensorflow_ready)
    loader.plottingReady.connect(window.training_panel.build_plots)
    loader.plottingReady.connect(window.build_insight)
    loader.start()
    if not pump(180, lambda: loader.is_ready or loader.error is not None) or loader.error:
        print(f"TensorFlow did not load: {loader.error}", file=sys.stderr)
        return 1
    pump(1.0, lambda: "sample" in window.dataset_label.text())
    if args.only_health:
        shoot_training_health(window, shot, pump)
        return _close(window)

    window.new_document("")
    shot("empty")

    def open_lenet5() -> None:  # opened at each window size, as a user would: laid out for that canvas
        window.new_document("lenet5")
        pump(0.3)

    shot("preset_lenet5", open_lenet5)

    window.user_guide_action.trigger()
    window.help_window.resize(1000, 720)
    save(window.help_window, "help_user_guide")
    window.help_window.close()
    window.glossary_action.trigger()
    window.glossary_dialog.filter.setText("padding")
    save(window.glossary_dialog, "help_glossary")
    window.glossary_dialog.close()

    conv2 = "conv2"
    window.document.set_param(conv2, "kernel_h", 15)
    window.document.set_param(conv2, "kernel_w", 15)
    window.document.tidy()  # room for the message under the red block
    window.document.select([conv2])
    window.show_message(window.document.analysis.issues_for(conv2)[0].message, 0)
    shot("invalid_block", window.canvas.fit_to_view)
    for _ in range(3):
        window.document.undo()
    window.document.select([])
    window.document.undo_stack.setClean()
    window.canvas.fit_to_view()

    window.training_panel.set_settings(window.training_panel.settings().replace(epochs=20, batch_size=64))
    finished: list = []
    epochs: list = []
    window.controller.runFinished.connect(finished.append)
    window.controller.epochEnded.connect(epochs.append)
    window.training_panel.start()
    pump(300, lambda: len(epochs) >= 2 or bool(finished))
    pump(1.5)  # some of the third epoch
    shot("training", window.canvas.fit_to_view)  # as a user would after resizing: the whole network
    window.docks["insight"].raise_()  # under the canvas: the views follow the probe sample live

    def show_insight() -> None:
        window.docks["insight"].raise_()
        window.canvas.fit_to_view()
        pump(1.5)

    shot("inside_the_network_live", show_insight)
    window.controller.stop_and_wait(10.0)
    shoot_training_health(window, shot, pump)
    return _close(window)


def _close(window) -> int:
    window.controller.stop_and_wait(10.0)
    window.document.undo_stack.setClean()
    window.model_unsaved = False
    window.autosaver.stop()
    window.close()
    return 0


def shoot_training_health(window, shot, pump) -> None:
    """LeNet-5 trained at learning rate 1.5 for 2 epochs: its warnings and gradient flow in the panel."""
    from PySide6.QtWidgets import QMessageBox, QScrollArea

    from convstudio.ui import dialogs

    panel = window.training_panel
    ask, dialogs.ask = dialogs.ask, lambda *_args: QMessageBox.StandardButton.Discard  # an earlier run's weights
    try:
        window.new_document("lenet5")
    finally:
        dialogs.ask = ask
    panel.set_settings(panel.settings().replace(epochs=2, batch_size=64, learning_rate=1.5))
    finished: list = []
    window.controller.runFinished.connect(finished.append)
    warning, QMessageBox.warning = QMessageBox.warning, staticmethod(lambda *_args: None)  # the end-of-run box
    try:
        panel.start()
        pump(300, lambda: bool(finished))
    finally:
        QMessageBox.warning = warning
    scroll = panel.parentWidget()
    while scroll is not None and not isinstance(scroll, QScrollArea):
        scroll = scroll.parentWidget()

    def show_flow() -> None:
        panel.views.setCurrentWidget(panel.health.flow)
        window.canvas.fit_to_view()
        pump(0.3)
        if scroll is not None:  # the gradient flow sits below the warnings: scroll to it, as a user would
            scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())

    shot("training_health", show_flow)


if __name__ == "__main__":
    sys.exit(main())
