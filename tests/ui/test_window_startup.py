"""Start-up: the window's import path stays free of TensorFlow/Keras, which load in the background."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from convstudio.ui.tf_loader import TensorFlowLoader


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_the_window_import_path_loads_no_tensorflow():
    code = ("import sys, convstudio.ui.app, convstudio.ui.main_window; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_app_shows_its_window_before_loading_tensorflow(tmp_path):
    env = _env()
    env["HOME"] = str(tmp_path)  # keep the run's settings out of the user's
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    out = subprocess.run([sys.executable, "-m", "convstudio.ui.app", "--startup-time"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "window shown after" in out.stdout and "TensorFlow/Keras modules loaded: 0" in out.stdout


@pytest.mark.slow
def test_loader_reports_the_device_and_the_plotting_preload(qtbot):
    loader = TensorFlowLoader()
    devices: list[str] = []
    loader.ready.connect(devices.append)
    with qtbot.waitSignals([loader.plottingReady, loader.ready], order="strict", timeout=120_000):
        loader.start()
    assert loader.is_ready and devices == [loader.device]
    assert loader.device.startswith(("CPU", "GPU"))
