"""Entry point of the desktop app: the window shows at once, TensorFlow loads behind it.

With ``CONVSTUDIO_STARTUP_PROBE=1`` the app prints ``startup-probe painted_at=<unix time>`` when the
main window is first painted and ends the process at once (``scripts/bench_startup.py`` measures
from launch to that line).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402 - the clock starts before the Qt import
from PySide6.QtWidgets import QApplication  # noqa: E402

__all__ = ["STARTUP_PROBE_ENV", "main"]

STARTUP_PROBE_ENV = "CONVSTUDIO_STARTUP_PROBE"


class _FirstPaintProbe(QObject):
    """Prints the wall-clock time of the window's first paint, then ends the process (startup benchmark)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            since_import = (time.perf_counter() - _T0) * 1000
            print(f"startup-probe painted_at={time.time():.6f} since_app_import_ms={since_import:.0f}", flush=True)
            QTimer.singleShot(0, lambda: os._exit(0))  # at once: the background import is not waited for
        return False


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="convstudio", description="Build, train and inspect CNNs visually.")
    parser.add_argument("project", nargs="?", help="a project file to open")
    parser.add_argument("--startup-time", action="store_true",
                        help="print how long the window took to appear, then quit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show TensorFlow's own log messages (hidden by default)")
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    """Start ConvStudio; returns the exit code of the event loop."""
    argv = list(sys.argv if argv is None else argv)
    args = _parse(argv[1:])
    from convstudio.core.tflog import filtered_stderr, quiet_tensorflow

    quiet_tensorflow(args.verbose)  # before the background import of TensorFlow starts

    from . import settings
    from .icons import app_icon
    from .main_window import MainWindow
    from .tf_loader import TensorFlowLoader

    app = QApplication.instance() or QApplication(argv)
    settings.configure_application(app)
    app.setWindowIcon(app_icon())
    window = MainWindow()
    probing = os.environ.get(STARTUP_PROBE_ENV) == "1"
    if probing:
        probe = _FirstPaintProbe(window)
        window.installEventFilter(probe)
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
    loader.ready.connect(lambda _device: window.training_panel.estimate.measure())  # once per device: remembered
    loader.failed.connect(window.set_tensorflow_failed)
    loader.plottingReady.connect(window.training_panel.build_plots)
    loader.plottingReady.connect(window.build_insight)
    QTimer.singleShot(0, loader.start)
    if args.project:
        QTimer.singleShot(0, lambda: window.open_file(args.project))
    elif not probing:
        QTimer.singleShot(0, window.offer_recovery)
    with filtered_stderr(not args.verbose):  # TensorFlow's C++ log lines, written as it loads and runs
        code = app.exec()
    release_clipboard()
    return code


def release_clipboard() -> None:
    """Clear clipboard contents this process made before the interpreter shuts down.

    Qt keeps the clipboard's QMimeData in global state that it destroys after Python has
    finalized; a mime object created from Python would then crash the process on exit.
    """
    app = QApplication.instance()
    if app is None:
        return
    clipboard = QApplication.clipboard()
    if clipboard.ownsClipboard() or clipboard.mimeData() is not None:
        clipboard.clear()


if __name__ == "__main__":
    sys.exit(main())
