"""Diagnostic: ``bench_responsiveness.py`` with Matplotlib's Qt canvases drawing nothing.

Comparing its figures with the plain benchmark's shows how much of the GUI timer's lateness during a
run is Matplotlib redrawing figures on the GUI thread rather than the training thread holding the GIL.
Takes the same arguments:

    .venv/bin/python scripts/bench_responsiveness_nodraw.py --epochs 4
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def _stub_drawing() -> None:
    from matplotlib.backends import backend_qt, backend_qtagg

    backend_qtagg.FigureCanvasQTAgg.paintEvent = lambda self, event: None
    backend_qtagg.FigureCanvasQTAgg.draw = lambda self: None
    backend_qt.FigureCanvasQT.draw_idle = lambda self: None


if __name__ == "__main__":
    _stub_drawing()
    print("Matplotlib canvases stubbed out: figures are not drawn")
    script = Path(__file__).with_name("bench_responsiveness.py")
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")
