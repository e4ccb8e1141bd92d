"""Screenshots of the convolution explorer and of lessons 1, 2, 4, 6 and 9, grabbed offscreen into ``docs/screenshots/``.

    .venv/bin/python scripts/explorer_screenshots.py [--out docs/screenshots]

Offscreen widget grabs need no display. The explorer shows LeNet-5's first block on a digit of the
bundled MNIST sample, with Sobel kernels and the window part-way through the image.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from convstudio.core.lessons import list_lessons
    from convstudio.core.network import Network
    from convstudio.ui.explorer import open_for_block
    from convstudio.ui.lessons import LessonWindow, bundled_sample

    network = Network.chain([
        "Input",
        ("Conv2D", {"filters": 2, "padding": "same", "stride_h": 2, "stride_w": 2, "kernel_init": "sobel"}),
        "MaxPool2D", "Flatten", ("Dense", {"units": 10, "activation": "softmax"}),
    ])
    explorer = open_for_block(network, "conv2d_1", sample=bundled_sample("mnist"))
    explorer.filter_spin.setValue(1)
    explorer.set_position(6, 5)
    explorer.resize(1280, 620)
    explorer.show()
    app.processEvents()
    explorer.grab().save(str(out / "explorer.png"))

    lessons = {lesson.number: lesson for lesson in list_lessons()}
    saved = ["explorer.png"]
    for number, steps in ((1, 1), (2, 2), (4, 3), (6, 1), (9, 1)):
        window = LessonWindow(lessons[number])
        window.resize(1440, 820)
        window.show()
        _settle(app, window)
        for _ in range(steps):
            window.runner.show_me()
            _settle(app, window)
        window.grab().save(str(out / f"lesson_{number}.png"))
        saved.append(f"lesson_{number}.png")
    print(f"saved {', '.join(saved)} in {out}")
    return 0


def _settle(app, window) -> None:
    """Let the goal checks finish (those that run the network do so in a background thread)."""
    import time

    app.processEvents()
    deadline = time.monotonic() + 300
    def busy() -> bool:
        numbers = window.numbers.toPlainText() if window.numbers is not None else ""
        return window.runner.checking or window._pending or numbers.startswith("Running")

    while busy() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
    app.processEvents()


if __name__ == "__main__":
    raise SystemExit(main())
