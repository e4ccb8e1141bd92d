"""Benchmark: from launching the app to its main window painted (target < 1 s), offscreen and under Xvfb.

Each run launches ``python -m convstudio.ui.app`` with ``CONVSTUDIO_STARTUP_PROBE=1`` (the app prints
the wall-clock time of the window's first paint and exits) and a fresh settings folder; the time
counted is from just before the process is started to that paint. TensorFlow loads in a background
thread after the window shows, so it is not waited for; for scale, the script also times a bare
``import tensorflow, keras`` in a fresh interpreter. Platforms are interleaved run by run:
``offscreen``; ``xvfb``, one Xvfb server started once for all runs; ``xvfb-run``, each launch wrapped
in ``xvfb-run -a`` (which starts its own server, so that time is included).

    .venv/bin/python scripts/bench_startup.py [--runs 7] [--platforms offscreen,xvfb,xvfb-run]
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

import perf_common as pc


def _start_xvfb() -> tuple[subprocess.Popen | None, str]:
    binary = shutil.which("Xvfb")
    if binary is None:
        return None, ""
    for number in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    server = subprocess.Popen([binary, f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, f":{number}"


def launch(platform: str, display: str, home: str) -> tuple[float, float]:
    """Seconds from launch to the first paint, and what the app measured from its own import."""
    env = dict(os.environ, CONVSTUDIO_STARTUP_PROBE="1", XDG_CONFIG_HOME=home, XDG_DATA_HOME=home,
               XDG_CACHE_HOME=home, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "convstudio.ui.app"]
    if platform == "xvfb":
        env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display)
    elif platform == "xvfb-run":
        env["QT_QPA_PLATFORM"] = "xcb"
        command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + command
    else:
        env["QT_QPA_PLATFORM"] = platform
    start = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=pc.ROOT)
    for line in done.stdout.splitlines():
        if line.startswith("startup-probe"):
            fields = dict(part.split("=") for part in line.split()[1:])
            return float(fields["painted_at"]) - start, float(fields["since_app_import_ms"]) / 1000
    raise SystemExit(f"the app did not report its first paint on {platform}:\n{done.stdout[-800:]}{done.stderr[-800:]}")


def time_tf_import() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "import tensorflow, keras"], check=True, capture_output=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return time.time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--platforms", default="offscreen,xvfb,xvfb-run")
    parser.add_argument("--no-tf", action="store_true", help="skip timing the bare TensorFlow import")
    args = parser.parse_args(argv)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    server, display = (None, "")
    if "xvfb" in platforms:
        server, display = _start_xvfb()
        if server is None:
            print("Xvfb is not installed: measuring offscreen only")
            platforms.remove("xvfb")
    if "xvfb-run" in platforms and shutil.which("xvfb-run") is None:
        print("xvfb-run is not installed: skipping it")
        platforms.remove("xvfb-run")
    home = tempfile.mkdtemp(prefix="convstudio-startup-")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPU cores, load {load:.1f}; Python {sys.version.split()[0]}; {args.runs} runs per "
          f"platform, interleaved, after one unmeasured warm-up launch each")
    results: dict[str, list[tuple[float, float]]] = {p: [] for p in platforms}
    tf_times: list[float] = []
    try:
        for platform in platforms:
            launch(platform, display, home)  # warm the disk cache
        for run in range(args.runs):
            for platform in platforms if run % 2 == 0 else platforms[::-1]:
                results[platform].append(launch(platform, display, home))
            if not args.no_tf and run < 3:
                tf_times.append(time_tf_import())
    finally:
        if server is not None:
            server.terminate()
            server.wait(5)
    rows = []
    for platform, runs in results.items():
        shown = sorted(r[0] for r in runs)
        label = {"xvfb": f"xcb on Xvfb {display}", "xvfb-run": "xvfb-run -a (server start included)"}
        rows.append([label.get(platform, platform), pc.median(shown), shown[0],
                     shown[-1], pc.median([r[1] for r in runs]), "OK" if pc.median(shown) < 1.0 else "SLOW"])
    print()
    print(pc.table(["platform", "launch to paint, median s", "min s", "max s", "app import to paint, median s",
                    "target < 1 s"], rows))
    if tf_times:
        print(f"\nfor scale: a bare `import tensorflow, keras` in a fresh interpreter takes "
              f"{pc.median(tf_times):.2f} s (median of {len(tf_times)}); the app loads it in the background "
              "after the window is painted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
