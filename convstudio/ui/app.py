"""Entry point of the desktop app: the window shows at once, TensorFlow loads behind it."""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()

from PySide6.QtCore import QTimer  # noqa: E402 - the clock starts before the Qt import
from PySide6.QtWidgets import QApplication  # noqa: E402

__all__ = ["main"]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="convstudio", description="Build, train and inspect CNNs visually.")
    parser.add_argument("project", nargs="?", help="a project file to open")
    parser.add_argument("--startup-time", action="store_true",
                        help="print how long the window took to appear, then quit")
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    """Start ConvStudio; returns the exit code of the event loop."""
    argv = list(sys.argv if argv is None else argv)
    args = _parse(argv[1:])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from . import settings
    from .icons import app_icon
    from .main_window import MainWindow
    from .tf_loader import TensorFlowLoader

    app = QApplication.instance() or QApplication(argv)
    settings.configure_application(app)
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    app.processEvents()
    shown = time.perf_counter() - _T0
    if args.startup_time:
        modules = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")]
        print(f"window shown after {shown * 1000:.0f} ms; TensorFlow/Keras modules loaded: {len(modules)}")
        window.close()
        return 0

    loader = TensorFlowLoader(window)
    loader.ready.connect(window.set_tensorflow_ready)
    loader.failed.connect(window.set_tensorflow_failed)
    loader.plottingReady.connect(window.training_panel.build_plots)
    loader.plottingReady.connect(window.build_insight)
    QTimer.singleShot(0, loader.start)
    if args.project:
        QTimer.singleShot(0, lambda: window.open_file(args.project))
    else:
        QTimer.singleShot(0, window.offer_recovery)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
