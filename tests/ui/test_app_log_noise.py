"""The desktop app keeps TensorFlow's C++ log lines off the terminal it was started from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from convstudio.core.tflog import is_noise

ROOT = Path(__file__).resolve().parents[2]

# The event loop is replaced by what the background loader does (import TensorFlow, look for a GPU),
# so the run ends by itself once TensorFlow has had its say.
DRIVER = """
import sys
from PySide6.QtWidgets import QApplication
import convstudio.ui.app as app

def loop(self=None):
    import tensorflow as tf
    tf.config.list_physical_devices("GPU")
    print("loaded", file=sys.stderr)
    return 0

QApplication.exec = loop
sys.exit(app.main(["convstudio", *sys.argv[1:]]))
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "TF_CPP_MIN_LOG_LEVEL": "0"}
    return subprocess.run([sys.executable, "-c", DRIVER, *args], check=False, capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def test_the_app_shows_no_tensorflow_log_noise(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stderr  # other stderr output still gets through
    assert [line for line in done.stderr.splitlines() if is_noise(line) or "cuInit" in line] == []
